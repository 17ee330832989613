"""Memory estimates and the memory limit, checked before large allocations.

Every step that allocates in proportion to a game's size (converting a game
to normal form, sampling random games, building the constraint matrices of an
LP/Newton solve, running or training a neural solver) first estimates its
memory here and refuses with one line stating the estimate and the limit,
instead of dying with ``MemoryError`` (numpy) or ``RESOURCE_EXHAUSTED`` (XLA).

The limit is ``SPIELPLATZ_MEMORY_LIMIT`` when set: a size (``4GiB``,
``512MiB``, ``2GB``, ``1e9`` bytes), a percentage of the available memory
(``50%``) or ``none`` (no limit). By default it is
:data:`DEFAULT_FRACTION` of the memory available when the check runs (the
smallest of the system's available memory, the cgroup's remaining memory and
the remaining address space under ``ulimit -v``).

The estimates are deliberately rough (a small constant times the largest
arrays); they only need to be right within a factor of about two to turn an
out-of-memory crash into a clear message.

Importing this module is cheap (standard library only).
"""

from __future__ import annotations

import functools
import math
import os
import re
from typing import Any, Iterable, Sequence

from spielplatz.errors import MemoryLimitError, OptionError

__all__ = ["ENV_VAR", "DEFAULT_FRACTION", "parse_size", "format_bytes", "available_memory",
           "memory_limit", "check_memory", "game_bytes", "constraint_entries",
           "lp_solve_bytes", "nes_bytes"]

#: Environment variable holding the limit.
ENV_VAR = "SPIELPLATZ_MEMORY_LIMIT"
#: Default limit: this fraction of the available memory.
DEFAULT_FRACTION = 0.8
#: Copies of a game's payoff tensor alive while it is built and validated.
GAME_COPIES = 4
#: Copies of the constraint matrix alive during a solve (the matrix, a restricted or
#: scaled copy, the LP solver's own copy).
LP_COPIES = 3

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
          "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2,
          "gib": 1024**3, "tib": 1024**4, "ki": 1024, "mi": 1024**2, "gi": 1024**3,
          "ti": 1024**4}
_EXPECTED = "a size such as 4GiB, 512MiB, 2GB or 1e9 (bytes), a percentage such as 50%, or none"


def parse_size(text: Any, name: str = ENV_VAR) -> int:
    """``"4GiB"`` -> bytes (``KiB/MiB/GiB/TiB`` are powers of 1024, ``KB/MB/GB/TB`` of 1000).

    Raises
    ------
    OptionError
        Naming ``name`` if ``text`` is not a positive size.
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise OptionError(f"{name}={text!r}: expected {_EXPECTED}")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if not math.isfinite(value) or value < 1:
        raise OptionError(f"{name}={text!r}: expected {_EXPECTED} (at least 1 byte)")
    return int(value)


def format_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"   # pragma: no cover


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    limit = _read_int("/sys/fs/cgroup/memory.max")
    used = _read_int("/sys/fs/cgroup/memory.current")
    if limit is None:   # cgroup v1
        limit = _read_int("/sys/fs/cgroup/memory/memory.limit_in_bytes")
        used = _read_int("/sys/fs/cgroup/memory/memory.usage_in_bytes")
        if limit is not None and limit >= 2**60:
            limit = None
    if limit is None:
        return None
    return max(limit - (used or 0), 0)


def _address_space_available() -> int | None:
    try:
        import resource
    except ImportError:   # pragma: no cover - not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return max(soft - used, 0)


def usable_cpus() -> int:
    """CPUs this process may run on (``os.sched_getaffinity``; ``os.cpu_count`` elsewhere),
    fewer where a cgroup CPU quota allows less (``cpu.max``; v1 ``cpu.cfs_quota_us``)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):          # not on Linux
        cpus = os.cpu_count() or 1
    quota = period = None
    try:
        with open("/sys/fs/cgroup/cpu.max") as fh:
            text = fh.read().split()
        if text and text[0] != "max":
            quota, period = int(text[0]), int(text[1])
    except (OSError, ValueError, IndexError):
        quota = _read_int("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
        period = _read_int("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    if quota is not None and period and quota > 0:
        cpus = min(cpus, math.ceil(quota / period))
    return max(1, cpus)


def available_memory() -> int | None:
    """Bytes this process can still allocate (the smallest known bound), or None."""
    bounds = [b for b in (_meminfo_available(), _cgroup_available(),
                          _address_space_available()) if b is not None]
    return min(bounds) if bounds else None


def memory_limit() -> tuple[int | None, str]:
    """``(limit in bytes or None for no limit, where it comes from)``.

    Raises
    ------
    OptionError
        If ``SPIELPLATZ_MEMORY_LIMIT`` is set to something that is not a size.
    """
    text = os.environ.get(ENV_VAR, "").strip()
    if text.lower() in ("none", "off", "unlimited", "inf"):
        return None, f"{ENV_VAR}={text}"
    if text.endswith("%"):
        try:
            share = float(text[:-1]) / 100.0
        except ValueError:
            raise OptionError(f"{ENV_VAR}={text!r}: expected {_EXPECTED}") from None
        if not 0 < share <= 1:
            raise OptionError(f"{ENV_VAR}={text!r}: a percentage must be in (0, 100]")
        avail = available_memory()
        if avail is None:
            return None, f"{ENV_VAR}={text} (available memory unknown)"
        return int(share * avail), f"{ENV_VAR}={text} of {format_bytes(avail)} available"
    if text:
        return parse_size(text), f"{ENV_VAR}={text}"
    avail = available_memory()
    if avail is None:
        return None, "no limit (available memory unknown)"
    return int(DEFAULT_FRACTION * avail), (
        f"{DEFAULT_FRACTION:.0%} of the {format_bytes(avail)} available; "
        f"set {ENV_VAR} to change it")


#: Needs up to this many bytes are not checked against the default limit: reading
#: /proc and the cgroup files for it costs about 0.1 ms, more than a small solve. A
#: limit set in ``SPIELPLATZ_MEMORY_LIMIT`` is always checked.
SMALL_NEED = 4 * 1024 ** 2


def _unchecked(estimate: float) -> bool:
    """Whether ``estimate`` is small enough to skip the default limit (none is set)."""
    return estimate <= SMALL_NEED and not os.environ.get(ENV_VAR, "").strip()


def check_memory(estimate: float, what: str, *, hint: str = "",
                 error: type = MemoryLimitError) -> None:
    """Raise ``error`` (one line: estimate and limit) if ``estimate`` bytes exceed the limit.

    Parameters
    ----------
    estimate : float
        Estimated peak bytes of the step.
    what : str
        The step, as the start of the sentence: ``"solving blotto(...) with xyz"``.
    hint : str
        What the user can do instead (appended after a semicolon).
    error : type
        A :class:`~spielplatz.errors.SpielplatzError` subclass (default
        :class:`~spielplatz.errors.MemoryLimitError`).
    """
    if _unchecked(estimate):
        return
    limit, source = memory_limit()
    if limit is None or estimate <= limit:
        return
    raise error(f"{what} needs about {format_bytes(estimate)} of memory, more than the limit "
                f"of {format_bytes(limit)} ({source})" + (f"; {hint}" if hint else ""))


# -- estimates ------------------------------------------------------------------------

def _cells(shape: Iterable[int]) -> int:
    return math.prod(int(a) for a in shape)


def game_bytes(shape: Sequence[int], batch: int = 1, copies: int = GAME_COPIES,
               itemsize: int = 8) -> int:
    """Payoff tensors ``[batch, N, A_1..A_N]`` (float64), times the copies alive at once."""
    return int(batch) * len(shape) * _cells(shape) * itemsize * copies


def constraint_entries(shape: Sequence[int], concept: str = "ce") -> int:
    """Stored entries of the sparse (C)CE constraint matrix (:mod:`spielplatz.equilibria.constraints`)."""
    cells = _cells(shape)
    if str(concept).lower() == "ce":
        return sum(cells * (int(a) - 1) for a in shape)        # A_p (A_p - 1) rows of R_p
    return sum(cells * (int(a) - 1) for a in shape)            # A_p rows of cells - R_p


def lp_solve_bytes(shape: Sequence[int], concept: str = "ce", copies: int = LP_COPIES) -> int:
    """A solve that builds the constraint matrix: ``copies`` CSR matrices (8-byte value and
    4- or 8-byte column index per entry) plus a few dense vectors per joint action."""
    nnz = constraint_entries(shape, concept)
    index = 4 if max(nnz, _cells(shape)) < 2**31 - 1 else 8
    return copies * nnz * (8 + index) + game_bytes(shape) + 16 * 8 * _cells(shape)


def nes_bytes(shape: Sequence[int], batch: int, payoff_channels: Sequence[int],
              dual_channels: int, dual_layers: Sequence[int], concept: str = "cce",
              training: bool = False, input_channels: int = 1) -> int:
    """Rough peak bytes (float32) of the neural solver on ``batch`` games.

    Per game, a payoffs layer of width ``w`` holds ``N cells w`` activations; the
    CE payoffs->duals layer forms every deviation ``[A_p, A_p, R_p, C]`` per player
    (``A_p cells C``); dual layers hold ``A_p^2 w`` (CE) or ``A_p w`` (CCE). Inference
    keeps about 4 layers' temporaries alive; training keeps every activation for the
    backward pass (about 3 floats per activation with its gradient and temporaries).
    """
    n, cells = len(shape), _cells(shape)
    ce = str(concept).lower() == "ce"
    layers = [n * cells * max(int(input_channels), 1)]
    layers += [n * cells * int(w) for w in payoff_channels]
    last = int(payoff_channels[-1]) if payoff_channels else 1
    if ce:
        layers.append(sum(int(a) * cells * last for a in shape))
    duals = sum(int(a) * int(a) if ce else int(a) for a in shape)
    layers += [duals * int(w) for w in (dual_channels, *dual_layers, 1)]
    floats = 3 * sum(layers) if training else 4 * max(layers)
    return 4 * int(batch) * floats


@functools.lru_cache(maxsize=64)
def _solve_need(shape: tuple, concept: str) -> int:
    return lp_solve_bytes(shape, concept)


def check_solve_memory(game: Any, concept: str, solver: str) -> None:
    """Refuse a solve of ``game`` (a :class:`~spielplatz.NormalFormGame`) whose constraint
    matrices (:func:`lp_solve_bytes`) would not fit the memory limit."""
    shape = tuple(int(a) for a in game.shape)
    need = _solve_need(shape, str(concept).lower())
    if _unchecked(need):
        return                          # (before the message's entry count is computed)
    entries = constraint_entries(shape, concept)
    check_memory(need,
                 f"{game.name}: the {solver} {str(concept).upper()} solve "
                 f"({'x'.join(map(str, shape))}, {entries:,} constraint-matrix entries)",
                 hint="solve a smaller game")
