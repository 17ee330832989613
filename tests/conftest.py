"""Shared fixtures: the project's test games, the real Gambit games, random games, a loop
reference for gains.

Two corpora of game files:

* ``tests/data/``: the project's own small games (always present; see
  :func:`corpus_files`);
* the 60 real Gambit games, an external corpus: the folder named by the environment
  variable ``SPIELPLATZ_GAMBIT_GAMES``, else ``../shared/realgames/gambit`` beside the
  repository. Tests that need it take the ``gambit_dir`` fixture (or call
  :func:`require_gambit`): they skip with the reason when it is missing, and fail
  under ``CI=true``. Collection never fails.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest


def _share_jax_compilations() -> None:
    """One persistent XLA compilation cache for the whole test run (and the CLI
    subprocesses it starts), in a fresh temporary folder removed at exit.

    The learners build their ``jax.jit`` functions per call (closures over the game and
    the configuration), so every test that trains retraces and, without a cache,
    recompiles the same XLA programs: an amTFT learn on ``abcg`` spends 15 of its
    19 s compiling what the previous test compiled. With the cache the repeats load
    the compiled programs (JAX's own ``jax_compilation_cache_dir``; the cache key holds
    the program, the compile options and the backend, so no answer changes). A user's
    ``JAX_COMPILATION_CACHE_DIR`` is respected (set it to keep the cache across runs).
    """
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        try:
            folder = tempfile.mkdtemp(prefix="spielplatz-xla-cache-")
        except OSError:            # no writable temporary folder: run without the cache
            return
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["JAX_COMPILATION_CACHE_DIR"] = folder
    # programs that compile in under 0.2 s are not worth a disk round trip
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    if "jax" in sys.modules:       # imported before this file (a plugin): set it directly
        import jax

        jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs",
                          float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))
        jax.config.update("jax_persistent_cache_min_entry_size_bytes",
                          int(os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"]))


_share_jax_compilations()


def _compiled_newton_from_the_start() -> None:
    """The exact solver's compiled Newton from the first solve in this process, not after
    its ``"auto"`` switch (which would land in the middle of some test and change the
    rounding of everything after it); CLI subprocesses keep the default. A
    ``SPIELPLATZ_COMPILED_NEWTON`` set by the user is respected."""
    if "SPIELPLATZ_COMPILED_NEWTON" not in os.environ:
        from spielplatz.equilibria.mwmre import newton

        newton.COMPILED = True


_compiled_newton_from_the_start()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers of ``-n auto`` (pyproject's ``addopts``, with ``--dist loadscope``: each
    module on one worker, so module fixtures train once): one per usable CPU, at most 4
    (every worker imports JAX and compiles its own programs); none when benchmarks are
    selected, whose timings need the machine to themselves. ``-n 0`` runs in-process."""
    from spielplatz.system.resources import usable_cpus

    if re.search(r"(?<!not )\bbenchmark\b", config.getoption("markexpr") or ""):
        return 0
    return max(1, min(4, usable_cpus()))

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(__file__).resolve().parent / "data"
GAMBIT_ENV = "SPIELPLATZ_GAMBIT_GAMES"
DEFAULT_GAMBIT_DIR = ROOT.parent / "shared" / "realgames" / "gambit"


def corpus_files() -> list[Path]:
    """The project's own test games in ``tests/data`` (``.nfg`` and ``.json``)."""
    return sorted(p for p in DATA_DIR.iterdir() if p.suffix in (".nfg", ".json"))


def _gambit_location() -> tuple[Path | None, str]:
    """The external Gambit corpus folder (or None) and, when missing, why."""
    configured = os.environ.get(GAMBIT_ENV)
    folder = Path(configured) if configured else DEFAULT_GAMBIT_DIR
    origin = f"{GAMBIT_ENV}={configured}" if configured else f"{DEFAULT_GAMBIT_DIR}"
    if not folder.is_dir():
        return None, (f"the real Gambit games are missing: {origin} is not a folder "
                      f"(set {GAMBIT_ENV} to the folder of .nfg files)")
    if not any(folder.glob("*.nfg")):
        return None, f"the real Gambit games are missing: no .nfg files in {origin}"
    return folder, ""


def gambit_files() -> list[Path]:
    """The real Gambit games, or [] when the external corpus is missing (never fails)."""
    folder, _ = _gambit_location()
    return sorted(folder.glob("*.nfg")) if folder else []


def require_gambit() -> Path:
    """The Gambit corpus folder; skips the calling test when it is missing (fails under CI)."""
    folder, reason = _gambit_location()
    if folder is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason}; CI=true requires the corpus", pytrace=False)
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="session")
def gambit_dir() -> Path:
    """The folder of the real Gambit games (skip, or fail under CI, when missing)."""
    return require_gambit()


def random_game(rng: np.random.Generator, shape: tuple[int, ...]):
    from spielplatz import NormalFormGame

    return NormalFormGame(rng.normal(size=(len(shape),) + tuple(shape)), name="random")


def random_joint(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    joint = rng.exponential(size=shape)
    return joint / joint.sum()


def loop_ce_gains(payoffs: np.ndarray, joint: np.ndarray) -> list[np.ndarray]:
    """Straightforward loop implementation of CE deviation gains (the reference)."""
    n = payoffs.shape[0]
    shape = payoffs.shape[1:]
    out = []
    for p in range(n):
        g = np.zeros((shape[p], shape[p]))
        for a in itertools.product(*(range(k) for k in shape)):
            for dev in range(shape[p]):
                b = list(a)
                b[p] = dev
                g[a[p], dev] += joint[a] * (payoffs[(p,) + tuple(b)] - payoffs[(p,) + a])
        out.append(g)
    return out


def loop_cce_gains(payoffs: np.ndarray, joint: np.ndarray) -> list[np.ndarray]:
    """Straightforward loop implementation of CCE deviation gains (the reference)."""
    n = payoffs.shape[0]
    shape = payoffs.shape[1:]
    out = []
    for p in range(n):
        g = np.zeros(shape[p])
        for a in itertools.product(*(range(k) for k in shape)):
            for dev in range(shape[p]):
                b = list(a)
                b[p] = dev
                g[dev] += joint[a] * (payoffs[(p,) + tuple(b)] - payoffs[(p,) + a])
        out.append(g)
    return out
