"""JSON for every result: plain data, non-finite numbers as ``null``, strict output."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

__all__ = ["jsonable", "to_json"]


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: arrays as lists, numpy scalars as Python numbers,
    and every non-finite float (NaN, +-infinity) as ``None`` (JSON ``null``), the one
    convention of every JSON that Spielplatz writes (docs/user-guide.md)."""
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return jsonable(value.item())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(data: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``data`` (:func:`jsonable` first: non-finite numbers are
    ``null``; ``allow_nan=False``, so no bare ``NaN``/``Infinity`` token is ever written)."""
    import json

    return json.dumps(jsonable(data), indent=indent, allow_nan=False)

