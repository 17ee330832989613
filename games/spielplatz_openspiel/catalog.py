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

    _check_signs(full_name, params)
    try:
        with openspiel_errors_once():   # OpenSpiel's own copy of the message: dropped
            game = pyspiel.load_game(full_name)
    except pyspiel.SpielError as exc:
        raise GameError(f"pyspiel cannot load {full_name!r}: {str(exc).strip().splitlines()[-1]}") from None
    return NormalFormGame.from_pyspiel(game, name=full_name)


def _check_signs(full_name: str, params: dict[str, Any]) -> None:
    """Refuse a negative value for an integer parameter whose OpenSpiel default is not
    negative (a count: fields, players, cards). pyspiel does not check them all, and
    some crash the process (``blotto(fields=-3)`` ends in a segmentation fault)."""
    import pyspiel

    short = full_name.split("(", 1)[0]
    spec = next((t.parameter_specification for t in pyspiel.registered_games()
                 if t.short_name == short), {})
    for key, value in params.items():
        default = spec.get(key)
        if (isinstance(default, int) and not isinstance(default, bool) and default >= 0
                and isinstance(value, int) and not isinstance(value, bool) and value < 0):
            raise GameError(f"game {full_name!r}: parameter {key!r} must not be negative "
                            f"(OpenSpiel's default is {default})")
