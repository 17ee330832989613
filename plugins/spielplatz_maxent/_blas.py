"""Run numpy's OpenBLAS on one thread for the duration of a solve.

The exact path does many small matrix products (64 x 64 for a 64x64 game).
OpenBLAS splits those over its threads, and on a machine with few cores that
other processes also use, its spinning worker threads slow each product down
by an order of magnitude (measured here: a 64x64 CE solve takes 0.2 s on one
thread and 0.3 to 3.9 s on two under load). :func:`single_thread` finds the
OpenBLAS libraries numpy and scipy loaded (as threadpoolctl does) and sets
their thread counts to 1 inside a ``with`` block, restoring them afterwards;
where no OpenBLAS is found it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from typing import Any, Iterator

_LOCK = threading.RLock()
_STATE: dict = {"loaded": False, "libs": [], "depth": 0, "saved": []}

_GET = ("openblas_get_num_threads", "openblas_get_num_threads64_",
        "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads")
_SET = ("openblas_set_num_threads", "openblas_set_num_threads64_",
        "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads")


def _find() -> None:
    _STATE["loaded"] = True
    try:
        import numpy  # noqa: F401  (loads its BLAS)

        with open("/proc/self/maps") as handle:
            paths = set()
            for line in handle:
                path = line.split()[-1] if line.split() else ""
                name = path.rsplit("/", 1)[-1].lower()
                if path.startswith("/") and "openblas" in name and ".so" in name:
                    paths.add(path)
    except OSError:
        return
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        get = next((getattr(lib, n) for n in _GET if hasattr(lib, n)), None)
        set_ = next((getattr(lib, n) for n in _SET if hasattr(lib, n)), None)
        if get is not None and set_ is not None:
            get.restype = ctypes.c_int
            set_.argtypes = [ctypes.c_int]
            _STATE["libs"].append((get, set_))


@contextlib.contextmanager
def single_thread() -> Iterator[Any]:
    """Limit every loaded OpenBLAS (numpy's and scipy's) to one thread inside the block.

    Re-entrant and thread-safe; a no-op where no OpenBLAS is found.
    """
    with _LOCK:
        if not _STATE["loaded"]:
            _find()
        if _STATE["depth"] == 0:
            _STATE["saved"] = [int(get()) for get, _ in _STATE["libs"]]
            for _, set_ in _STATE["libs"]:
                set_(1)
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0:
                for (_, set_), saved in zip(_STATE["libs"], _STATE["saved"]):
                    if saved > 0:
                        set_(saved)
