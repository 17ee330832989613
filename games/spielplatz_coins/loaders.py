"""Loaders of the Coin Games (imported when one is loaded)."""

from __future__ import annotations

from typing import Any

from spielplatz.errors import GameError

from . import FAMILY, NAMED


def _label(name: str, defaults: dict, params: dict) -> str:
    changed = {k: v for k, v in params.items() if k in defaults and v != defaults[k]}
    if not changed:
        return name
    from spielplatz.games.gamestring import format_game_string

    return format_game_string(name, changed)


def _game(name: str, defaults: dict, fixed: dict, params: dict) -> Any:
    from .env import CoinGame
    from .rules import make_rules

    try:
        rules = make_rules(**{**defaults, **params, **fixed})
    except GameError as exc:                     # name the game as it was asked for
        from spielplatz.games.gamestring import format_game_string

        raise GameError(f"game {format_game_string(name, params)!r}: {exc}") from None
    values = {k: getattr(rules, k) for k in defaults}
    return CoinGame(rules=rules, name=_label(name, defaults, values))


def coin_game_family(**params: Any) -> Any:
    """Any Coin Game: every rule a parameter (docs/games.md)."""
    return _game("coin_game_family", FAMILY, {}, params)


def _named(name: str) -> Any:
    defaults, fixed = NAMED[name][1], NAMED[name][2]

    def load(**params: Any) -> Any:
        return _game(name, defaults, fixed, params)

    load.__name__ = name
    load.__doc__ = NAMED[name][0]
    return load


coins = _named("coins")
d3c_coins = _named("d3c_coins")
abcg = _named("abcg")


def openspiel_coin_game(**params: Any) -> Any:
    """OpenSpiel's ``coin_game`` is another game: refused with a pointer to ours."""
    raise GameError("'coin_game' is OpenSpiel's coin_game, a different game (sequential moves, "
                    "hidden coin preferences) that Spielplatz cannot load; the Coin Game of "
                    "LOLA and Lerer-Peysakhovich is 'coins' (also 'd3c_coins', 'abcg', "
                    "'coin_game_family(...)'; as pyspiel: 'spielplatz_coin_game')")
