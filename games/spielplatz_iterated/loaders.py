"""Loaders of the iterated games (imported when one is loaded)."""

from __future__ import annotations

from typing import Any

from spielplatz.errors import GameError

from . import NAMED


def iterated(stage: str = "prisoners_dilemma", gamma: float = 0.96,
             init_scale: float = 1.0, *, name: str | None = None) -> Any:
    """``stage`` (a registered game name or game file) repeated with discount ``gamma``."""
    import spielplatz as sp
    from spielplatz.learning.iterated import iterated_game

    game = sp.load_game(str(stage))
    if not isinstance(game, sp.NormalFormGame):
        raise GameError(f"stage {stage!r} is not a normal-form game")
    label = name or f"iterated({game.name},gamma={gamma:g})"
    return iterated_game(game, gamma, name=label, init_scale=init_scale)


def _named(name: str) -> Any:
    def load(gamma: float = 0.96, init_scale: float = 1.0) -> Any:
        label = name if gamma == 0.96 else f"{name}(gamma={gamma:g})"
        return iterated(NAMED[name][0], gamma, init_scale, name=label)

    load.__name__ = name
    load.__doc__ = NAMED[name][1]
    return load


ipd = _named("ipd")
imp = _named("imp")
iasymbos = _named("iasymbos")
ibos = _named("ibos")
ichicken = _named("ichicken")
istag_hunt = _named("istag_hunt")
