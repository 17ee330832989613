"""Spielplatz: a plugin-based game-theory platform on OpenSpiel.

>>> import spielplatz as sp
>>> game = sp.load_game("chicken")
>>> sol = sp.solve(game, concept="ce")          # the default solver

Attributes are imported lazily so that ``import spielplatz`` (and the command
line's listing commands) stay fast: numpy, jax and scipy load only when used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from spielplatz.plugins.hookspecs import hookimpl

__version__ = "0.1.0"

_LAZY = {
    "NormalFormGame": "games.normal_form",
    "Solution": "results", "Evaluation": "results", "Run": "results",
    "BatchSolution": "results",
    "load_game": "api", "solve": "api", "solve_batch": "api", "learn": "api",
    "evaluate": "api", "get_solver": "api", "get_learner": "api",
    "get_welfare_function": "api", "sample_games": "api",
    "load_run": "api", "save_run": "results.run_files", "play": "api", "crossplay": "api", "describe_game": "api",
    "SpielplatzError": "errors", "GameError": "errors", "UnknownNameError": "errors",
    "OptionError": "errors", "MemoryLimitError": "errors",
    "get_host": "plugins.host",
    "Option": "plugins.options",
}

__all__ = ["hookimpl", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spielplatz' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
