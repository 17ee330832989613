"""How a batch's games are shared between host threads
(:func:`~spielplatz.equilibria.mwmre.compiled_batch.run_batch`): shares of :data:`SHARE`
games, each run by one call that releases the GIL, taken in turn by the threads; and,
where the host also finishes the games as they come (certificates, zeros: work that
mostly holds the GIL), one thread finishing at a time while the others run on.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

__all__ = ["run_shares", "share_bounds", "SHARE"]

#: Games per compiled call when host threads share a batch.
SHARE = 32


def run_shares(run: Callable[[int, int], None], b: int, threads: int,
               finish: Callable[[np.ndarray], Any] | None = None) -> None:
    """``run(lo, hi)`` on shares of the games ``0`` to ``b - 1`` on ``threads`` host
    threads (shares of about :data:`SHARE` games, taken in turn: games differ in
    iterations). ``finish(games)``: one thread at a time hands the games (indices) it has
    run so far to it, while the others go on running theirs; once the shares are all
    taken, each hands over the rest (the shares then come from :func:`share_bounds`).
    Every game is run, and handed over, once."""
    threads = max(1, min(threads, b))
    if finish is None:
        if threads == 1:
            run(0, b)
            return
        bounds = np.unique(np.linspace(0, b, -(-b // SHARE) + 1).astype(int))
        with ThreadPoolExecutor(threads) as pool:
            for f in [pool.submit(run, int(lo), int(hi))
                      for lo, hi in zip(bounds[:-1], bounds[1:])]:
                f.result()
        return
    bounds = share_bounds(b, threads) if threads > 1 else [0, b]
    lock, finishing = threading.Lock(), threading.Lock()
    taken = iter(range(len(bounds) - 1))

    def worker() -> None:
        pending: list = []
        while True:
            with lock:
                t = next(taken, None)
            if t is not None:
                run(bounds[t], bounds[t + 1])
                pending.append(np.arange(bounds[t], bounds[t + 1]))
            # (the finisher mostly holds the GIL: a thread that finds it busy runs on)
            if pending and finishing.acquire(blocking=t is None):
                try:
                    finish(np.concatenate(pending))
                finally:
                    finishing.release()
                pending = []
            if t is None:
                return

    if threads == 1:
        worker()
        return
    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(worker) for _ in range(threads)]:
            f.result()


def share_bounds(b: int, threads: int) -> list:
    """Where the shares of ``b`` games start and end when the host threads also finish
    the games they ran: :data:`SHARE` games each, the last ones smaller (down to a
    quarter of it), so the threads run out of work at about the same time."""
    bounds, lo = [0], 0
    while lo < b:
        lo = min(b, lo + max(SHARE // 4, min(SHARE, (b - lo) // (2 * threads))))
        bounds.append(lo)
    return bounds
