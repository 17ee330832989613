"""The Python API: load games, solve them, train learners.

>>> import spielplatz as sp
>>> game = sp.load_game("chicken")
>>> ev = sp.evaluate(game, [[0.5, 0.25], [0.25, 0.0]], concept="ce")

Everything goes through the plugin host: names are looked up in its registries,
options checked against the registrations, plugin code run under its guard, and
answers re-measured and certified (:func:`audit_solution`).
"""

from spielplatz.api.crossplay import crossplay
from spielplatz.api.game_card import describe_game
from spielplatz.api.games import is_game_file, load_game, normal_form_game, sample_games
from spielplatz.api.learning import learn, load_run, play
from spielplatz.api.registry import (call_plugin, check_options, default_solver, exact_solvers,
                                     get_learner, get_solver, get_welfare_function)
from spielplatz.api.solving import audit_solution, evaluate, solve, solve_batch

__all__ = ["load_game", "solve", "audit_solution", "solve_batch", "learn", "evaluate",
           "get_solver", "get_learner", "get_welfare_function", "is_game_file",
           "normal_form_game", "sample_games", "default_solver", "exact_solvers",
           "check_options", "call_plugin", "load_run", "play", "crossplay", "describe_game"]
