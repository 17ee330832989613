"""Checks of solver and command inputs, shared by every plugin.

Each check returns the cleaned value or raises
:class:`~spielplatz.errors.SpielplatzError` with a one-line message naming
the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import SpielplatzError

__all__ = ["per_player", "finite_float", "normal_form_game"]


def per_player(value: Any, num_players: int, name: str) -> np.ndarray:
    """A number, or one number per player, as a finite float array ``[N]``."""
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


def normal_form_game(game: Any, user: str = "this command") -> Any:
    """Load ``game`` (anything :func:`spielplatz.load_game` accepts) as a normal-form game."""
    from .api import load_game
    from .normal_form import NormalFormGame

    loaded = load_game(game)
    if not isinstance(loaded, NormalFormGame):
        raise SpielplatzError(f"{user} needs a normal-form game; {game!r} is a "
                              f"{type(loaded).__name__}")
    return loaded
