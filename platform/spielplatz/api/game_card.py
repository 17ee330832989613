"""What ``spielplatz show`` prints for a game that is not a payoff table.

A learner game (:mod:`spielplatz.learning.games`: a Coin Game, an iterated matrix game,
a differentiable game, an RL environment) has no payoff table to show, but a user asking
about it wants its rules: players, actions, horizon, observations, the parameters in
effect, the values its paper knows (optimum, Nash), and which learner trains it by
default. :func:`describe_game` collects them into one JSON-ready dict.

A game object may say what matters about it by a ``describe()`` method returning a dict
(merged over what is read here); otherwise the attributes of :data:`FACTS` it has are
read, and a dataclass ``rules`` attribute gives the parameters in effect.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from spielplatz.errors import SpielplatzError

__all__ = ["describe_game", "FACTS"]

#: Attributes read from a game object, in the order they are shown.
FACTS = ("num_players", "num_actions", "action_names", "horizon", "episode_length",
         "gamma", "num_states", "payoffs", "observation_shape", "observation_size",
         "optimal_total_loss", "nash_total_loss", "price_of_anarchy",
         "optimal_total_return")


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready Python (numpy arrays and scalars, tuples, dataclasses)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):                 # numpy arrays and scalars
        dtype = getattr(value, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
            import numpy as np                   # float32 0.96 as 0.96, not 0.9599999785

            value = np.asarray(value).astype(str).astype(np.float64)
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)                        # JSON has no inf/nan
    return value


def describe_game(spec: Any, game: Any = None) -> dict:
    """The rules and known values of game ``spec`` (what :func:`spielplatz.load_game` takes;
    ``game``: the game ``spec`` already loaded, not loaded again).

    Returns a dict with ``name``, ``kind`` (the game object's class), ``normal_form``,
    ``description`` and ``default_learner`` (from the game's registration, where it has
    one), ``parameters`` (the registered defaults updated with those given, or the game's
    own rules) and ``facts`` (players, actions, horizon, known values, ...).
    """
    from spielplatz.api.games import _check_params, is_game_file, load_game
    from spielplatz.games.normal_form import NormalFormGame

    game = load_game(spec) if game is None else game
    card: dict = {"name": getattr(game, "name", str(spec)), "kind": type(game).__name__,
                  "normal_form": isinstance(game, NormalFormGame)}
    meta: dict = {}
    given: dict = {}
    if isinstance(spec, str) and not is_game_file(spec):
        from spielplatz.games.gamestring import parse_game_string
        from spielplatz.plugins.host import get_host

        name, given = parse_game_string(spec)
        try:
            entry = get_host().registry("game").get(name)
        except SpielplatzError:
            entry = None
        if entry is not None:
            meta = dict(getattr(entry, "meta", {}) or {})
            if meta.get("parameters") is not None:
                _check_params(entry, name, given, spec)    # as the loader got them
            card["description"] = getattr(entry, "description", "") or ""
            card["plugin"] = getattr(entry, "plugin", "")
    if isinstance(game, NormalFormGame):
        card["description"] = card.get("description") or game.description or ""
        card["facts"] = {"num_players": game.num_players, "shape": list(game.shape),
                         "action_names": _plain(game.action_names)}
        return card
    rules = getattr(game, "rules", None)
    if dataclasses.is_dataclass(rules) and not isinstance(rules, type):
        card["parameters"] = _plain(rules)
    else:
        card["parameters"] = _plain({**(meta.get("parameters") or {}), **given})
    if meta.get("default_learner"):
        card["default_learner"] = str(meta["default_learner"])
    facts = {}
    for key in FACTS:
        value = getattr(game, key, None)
        if value is not None and not callable(value):
            facts[key] = _plain(value)
    describe = getattr(game, "describe", None)
    if callable(describe):
        facts.update(_plain(describe()))
    card["facts"] = facts
    return card
