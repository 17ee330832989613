"""A small memo for pure functions of small arrays, keyed by their exact bytes.

A solver's answer is certified and measured by the solver that labels it, then again
by the host's audit, on the same bytes; :class:`ArrayMemo` keeps the last results so
that the second call is a lookup (:func:`spielplatz.equilibria.certificate.certify`,
:func:`spielplatz.results.evaluate`).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["ArrayMemo"]


class ArrayMemo:
    """The last ``size`` results of a pure function, keyed by its arguments: arrays by
    dtype, shape and bytes (when they hold ``max_bytes`` or less in all), anything
    else as itself. Results must be immutable or never changed by their callers."""

    def __init__(self, max_bytes: int = 1 << 16, size: int = 16) -> None:
        self.max_bytes, self.size = max_bytes, size
        self._results: dict = {}

    def get(self, compute: Callable[[], Any], *parts: Any) -> Any:
        """``compute()``, or its remembered result for the same ``parts``."""
        if sum(p.nbytes for p in parts if isinstance(p, np.ndarray)) > self.max_bytes:
            return compute()                       # (large games: no copies for a key)
        key = tuple((p.dtype.str, p.shape, p.tobytes()) if isinstance(p, np.ndarray) else p
                    for p in parts)
        found = self._results.get(key, _MISSING)
        if found is _MISSING:
            if len(self._results) >= self.size:
                self._results.clear()
            found = self._results[key] = compute()
        return found


_MISSING = object()
