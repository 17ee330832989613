"""Every registered pyspiel game as a Spielplatz game.

Normal-form pyspiel games convert directly; small extensive-form games go
through ``pyspiel.extensive_to_tensor_game`` (with a size guard); see
:mod:`spielplatz.games.openspiel_bridge`.
"""

from __future__ import annotations

from typing import Any

from spielplatz.errors import GameError


def names() -> list[str]:
    """Short names of all registered pyspiel games."""
    import pyspiel

    return list(pyspiel.registered_names())


def load(full_name: str, params: dict[str, Any]) -> Any:
    """Load ``full_name`` (``"blotto(coins=4,fields=3)"``) with pyspiel and convert it."""
    import pyspiel

    from spielplatz.games.normal_form import NormalFormGame
    from spielplatz.games.openspiel_bridge import openspiel_errors_once

    try:
        with openspiel_errors_once():   # OpenSpiel's own copy of the message: dropped
            game = pyspiel.load_game(full_name)
    except pyspiel.SpielError as exc:
        raise GameError(f"pyspiel cannot load {full_name!r}: {str(exc).strip().splitlines()[-1]}") from None
    return NormalFormGame.from_pyspiel(game, name=full_name)
