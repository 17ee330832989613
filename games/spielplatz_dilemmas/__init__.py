"""Built-in game plugin: the social dilemmas of the D3C paper (Gemp et al., AAMAS 2022).

Every game here is a *learner game* (see :mod:`spielplatz.learning.games`): the
differentiable ones follow :class:`spielplatz.learning.games.DifferentiableGame`
(``name``, ``num_players``, ``init_params(key)``, ``losses(params)``) and
expose their known optimum and Nash values; Trust-Your-Brother follows
:class:`spielplatz.learning.games.RLEnvironment` and is also a Python pyspiel game.

Each game names ``d3c`` as its ``default_learner`` (what ``spielplatz learn GAME``
trains without ``--learner``).

Registration is cheap: nothing here imports numpy, jax or pyspiel; the
loaders are ``"module:attr"`` strings resolved on first use.
"""

from spielplatz import hookimpl

_PKG = "spielplatz_dilemmas"

#: name -> (loader, description, parameters with their defaults)
GAMES = {
    "braess": (f"{_PKG}.braess:braess",
               "D3C Fig. 2a: 4 drivers, Braess's paradox (optimum 65 min, Nash 80 min with "
               "the shortcut AB; shortcut=false removes it)",
               {"shortcut": True}),
    "random_braess": (f"{_PKG}.braess:random_braess",
                      "D3C Alg. 4: random Braess networks (seed=S: one network; no seed: a "
                      "new network for every training seed)",
                      {"seed": None, "delta": 10}),
    "nplayer_pd": (f"{_PKG}.prisoners:nplayer_pd",
                   "D3C eqs. 127-132: n-player prisoner's dilemma with convex losses "
                   "(Nash at 0, optimum c/n, price of anarchy n/(n-1))",
                   {"n": 10, "c": 1.0}),
    "nash_paradox": (f"{_PKG}.small_games:nash_paradox",
                     "D3C Game 1: Nash (0,0) is the worst outcome, optimum sqrt(1-kappa)",
                     {"kappa": 0.25}),
    "efficient_unfair": (f"{_PKG}.small_games:efficient_unfair",
                         "D3C Game 2: x1^2 and x2^2 - 1.1 x1^2; welfare optimum is unfair "
                         "(unbounded), Nash at 0",
                         {}),
    "zero_sum_election": (f"{_PKG}.small_games:zero_sum_election",
                          "D3C F.5: two 2-candidate parties, a prisoner's dilemma inside each "
                          "party and a zero-sum race between them",
                          {"coupling": 0.25}),
    "trust_your_brother": (f"{_PKG}.trust_your_brother:trust_your_brother",
                           "D3C Sec. 3.3/F.2: two prey flee a predator bot around a 6-cell "
                           "table (RL; loading it registers pyspiel's 'python_trust_your_brother')",
                           {"cells": 6, "episode_length": 5}),
}


@hookimpl
def register_games(register):
    """Register every game of :data:`GAMES` (loaders are ``"module:attr"`` strings)."""
    for name, (loader, description, parameters) in GAMES.items():
        register(name, loader, description=description, parameters=parameters,
                 tags=("paper", "d3c", "learner"), default_learner="d3c")
