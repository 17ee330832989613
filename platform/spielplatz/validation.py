"""Checks of solver and command inputs, shared by every plugin.

Each check returns the cleaned value or raises
:class:`~spielplatz.errors.SpielplatzError` with a one-line message naming
the input.
"""

from __future__ import annotations

import math

from typing import Any

import numpy as np

from spielplatz.errors import OptionError, SpielplatzError

__all__ = ["per_player", "finite_float", "as_int", "as_float", "as_bool",
           "as_choice", "as_shape", "as_seed", "as_seeds", "check_option_names",
           "SEED_MAX"]

#: Largest seed (seeds are unsigned 32-bit integers: numpy and JAX both accept them).
SEED_MAX = 2 ** 32 - 1
#: Most seeds one learner call trains at once (each holds its parameters, optimiser
#: state and metric history in memory together).
MAX_SEEDS = 100_000

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def per_player(value: Any, num_players: int, name: str) -> np.ndarray:
    """A number, or one number per player, as a finite float array ``[N]``."""
    if type(value) in (int, float) and math.isfinite(value):
        return np.full(num_players, float(value))
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise SpielplatzError(f"{name} must be a number or one number per player, "
                              f"got {value!r}") from None
    if arr.ndim == 0:
        arr = np.full(num_players, float(arr))
    if arr.shape != (num_players,):
        raise SpielplatzError(f"{name} must be a number or {num_players} numbers (one per "
                              f"player), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise SpielplatzError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def finite_float(value: Any, name: str) -> float:
    """``value`` as a finite float."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise SpielplatzError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(out):
        raise SpielplatzError(f"{name} must be finite, got {value!r}")
    return out


def _range_text(minimum: Any, maximum: Any, strict_min: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f" between {minimum} and {maximum}"
    if minimum is not None:
        return f" {'>' if strict_min else '>='} {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def as_int(value: Any, name: str, *, minimum: int | None = None,
           maximum: int | None = None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]``.

    Integral floats (``1e3``, as a command line writes them) are accepted;
    fractions (``2.5``), booleans, strings and non-finite numbers are not.
    """
    expected = f"an integer{_range_text(minimum, maximum)}"
    out: int | None = None
    if isinstance(value, (bool, np.bool_)):
        out = None
    elif isinstance(value, (int, np.integer)):
        out = int(value)
    elif isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        out = int(value)
    if out is None:
        raise OptionError(f"{name} must be {expected}, got {value!r}")
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise OptionError(f"{name} must be {expected}, got {out}")
    return out


def as_float(value: Any, name: str, *, minimum: float | None = None,
             maximum: float | None = None, positive: bool = False) -> float:
    """``value`` as a finite ``float`` (``> 0`` with ``positive``; within the bounds)."""
    lo = 0 if positive else minimum
    expected = f"a finite number{_range_text(lo, maximum, strict_min=positive)}"
    if isinstance(value, (bool, np.bool_, str)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise OptionError(f"{name} must be {expected}, got {value!r}")
    out = float(value)
    if (not np.isfinite(out) or (positive and not out > 0)
            or (minimum is not None and out < minimum)
            or (maximum is not None and out > maximum)):
        raise OptionError(f"{name} must be {expected}, got {value!r}")
    return out


def as_bool(value: Any, name: str) -> bool:
    """``value`` as a ``bool``: ``True``/``False``, 0/1 or true/false, yes/no, on/off."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise OptionError(f"{name} must be true or false, got {value!r}")


def as_choice(value: Any, name: str, choices: Any) -> str:
    """``value`` as one of ``choices`` (case-insensitive), with a close match if misspelt."""
    import difflib

    choices = list(choices)
    if isinstance(value, str):
        low = value.strip().lower()
        for c in choices:
            if c.lower() == low:
                return c
        close = difflib.get_close_matches(low, [c.lower() for c in choices], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
    else:
        hint = ""
    raise OptionError(f"{name} must be one of {', '.join(choices)}, got {value!r}{hint}")


def as_shape(value: Any, name: str = "shape", *, min_players: int = 1,
             max_joint: float | None = 2e6) -> tuple[int, ...]:
    """Action counts from ``"8x8"``, ``"3x3x3"``, an ``int`` (a square 2-player game) or a
    sequence; every count an integer >= 1, at least ``min_players`` players, at most
    ``max_joint`` joint actions. ``"3xx3"``, ``"8x"`` and ``"x8"`` are refused."""
    expected = "of the form 8x8 or 3x3x3 (action counts >= 1 joined by 'x')"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        dims: tuple = (int(value), int(value))
    elif isinstance(value, str):
        parts = value.strip().lower().replace("×", "x").split("x")
        if not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
            raise OptionError(f"{name} must be {expected}, got {value!r}")
        dims = tuple(int(p) for p in parts)
    else:
        try:
            dims = tuple(as_int(d, name) for d in value)
        except (TypeError, SpielplatzError):
            raise OptionError(f"{name} must be {expected}, got {value!r}") from None
    if not dims or min(dims) < 1:
        raise OptionError(f"{name} {value!r}: every player needs at least one action")
    if len(dims) < min_players:
        raise OptionError(f"{name} {value!r}: at least {min_players} players are needed")
    if max_joint is not None and np.prod(dims, dtype=float) > max_joint:
        raise OptionError(f"{name} {value!r} has too many joint actions "
                              f"(more than {max_joint:,.0f})")
    return dims


def as_seed(value: Any, name: str = "seed") -> int:
    """A seed: an integer between 0 and :data:`SEED_MAX` (unsigned 32 bits)."""
    return as_int(value, name, minimum=0, maximum=SEED_MAX)


def as_seeds(values: Any, name: str = "seeds") -> tuple[int, ...]:
    """One seed or a sequence of seeds, each checked by :func:`as_seed`; at least one,
    at most :data:`MAX_SEEDS`."""
    if isinstance(values, (int, np.integer)) and not isinstance(values, (bool, np.bool_)):
        values = (values,)
    if isinstance(values, (str, bytes)):          # "12" is not the seeds 1 and 2
        raise OptionError(f"{name} must be a seed or a sequence of seeds, got {values!r}")
    if hasattr(values, "__len__") and len(values) > MAX_SEEDS:
        raise OptionError(f"{name}: {len(values):,} seeds, more than the {MAX_SEEDS:,} one "
                          f"call trains at once; train them in parts")
    try:
        seeds = tuple(as_seed(s, name) for s in values)
    except TypeError:
        raise OptionError(f"{name} must be a seed or a sequence of seeds, "
                              f"got {values!r}") from None
    if not seeds:
        raise OptionError(f"{name}: at least one seed is needed")
    if len(set(seeds)) < len(seeds):                # two runs of one seed are one run
        twice = next(s for s in seeds if seeds.count(s) > 1)
        raise OptionError(f"{name}: seed {twice} is given twice; seeds must be distinct")
    return seeds


def check_option_names(given: Any, known: Any, owner: str) -> None:
    """Refuse options not in ``known``, naming the first with a close match ("did you mean").

    ``owner`` names who takes the options, e.g. ``"the xyz solver"``:
    ``unknown option 'nu' for the xyz solver; did you mean 'mu'? (options: ...)``.
    """
    import difflib

    known = list(known)
    unknown = sorted(k for k in given if k not in known)
    if not unknown:
        return
    bad = unknown[0]
    close = difflib.get_close_matches(bad, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
    raise OptionError(f"unknown option {bad!r}{more} for {owner}{hint} "
                      f"(options: {', '.join(known)})")
