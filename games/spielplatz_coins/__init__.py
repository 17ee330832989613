"""Built-in game plugin: the Coin Game family (LOLA's Coin Game, D3C's Coins, the
normative-disagreement paper's asymmetric bargaining Coin Game), every rule a named
parameter (docs/games.md).

Each game is a :class:`spielplatz_coins.env.CoinGame`, a functional JAX environment that
follows :class:`spielplatz.learning.games.JaxEnvironmentGame`, with a pyspiel twin
``spielplatz_coin_game`` (``game.to_openspiel()``). ``coin_game`` -- OpenSpiel's own,
different game of that name -- is refused with one line that points here.
Registration imports nothing heavy.
"""

from spielplatz import hookimpl

_CLASSIC = {"grid": 3, "boundary": "torus", "stay": False, "coins": "one", "p": 0.005,
            "tie": "both", "egocentric": False, "horizon": 100}
_ABCG = {"grid": 3, "boundary": "torus", "stay": False, "tie": "both", "egocentric": False,
         "horizon": 100, "coop_red": 2.0, "coop_blue": 3.0, "disagreement": 1.0}

#: Every rule with its default (``coin_game_family``).
FAMILY = {**_CLASSIC, "variant": "classic", "coop_red": 2.0, "coop_blue": 3.0,
          "disagreement": 1.0}

#: name -> (description, parameters with their defaults, fixed rules)
NAMED = {
    "coins": ("LOLA's Coin Game: 3x3 torus, one coin (respawned, alternating colour), 4 "
              "moves, +1 per coin, -2 to its owner when the other takes it; 100 steps",
              dict(_CLASSIC), {"variant": "classic"}),
    "d3c_coins": ("D3C's Coins (Sec. 3.4): 5x5 walls, 5 actions, every free cell grows a "
                  "coin of each colour with p=0.005 per step (coins=cells), 500 steps",
                  {**_CLASSIC, "grid": 5, "boundary": "walls", "stay": True, "coins": "cells",
                   "horizon": 500}, {"variant": "classic"}),
    "abcg": ("asymmetric bargaining Coin Game (normative disagreement, Sec. 4.1): a "
             "cooperation coin taken together (red's pays red 2, blue's pays blue 3) and "
             "the other's disagreement coin (1); 3x3 torus, 100 steps",
             dict(_ABCG), {"variant": "abcg", "coins": "one"}),
}


@hookimpl
def register_games(register):
    for name, (description, parameters, _) in NAMED.items():
        register(name, f"spielplatz_coins.loaders:{name}", description=description,
                 parameters=dict(parameters), tags=("coin_game", "learner"),
                 default_learner="a2c")
    register("coin_game_family", "spielplatz_coins.loaders:coin_game_family",
             description="any Coin Game: grid, boundary=torus|walls, stay, "
                         "coins=one|spawn|cells, p, tie=both|random, egocentric, horizon, "
                         "variant=classic|abcg, "
                         "abcg rewards", parameters=dict(FAMILY),
             tags=("coin_game", "learner"), default_learner="a2c")
    register("coin_game", "spielplatz_coins.loaders:openspiel_coin_game",
             description="refused: OpenSpiel's coin_game is a different (sequential, "
                         "hidden-preference) game; the LOLA Coin Game is 'coins'",
             parameters=None, tags=("coin_game",))
