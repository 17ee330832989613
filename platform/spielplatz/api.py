"""The Python API: load games, solve them, train learners.

>>> import spielplatz as sp
>>> game = sp.load_game("chicken")
>>> ev = sp.evaluate(game, [[0.5, 0.25], [0.25, 0.0]], concept="ce")
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .errors import GameError, OptionError, SpielplatzError
from .plugins import get_host
from .registry import Catalog

__all__ = ["load_game", "solve", "audit_solution", "solve_batch", "learn", "evaluate", "get_solver",
           "get_learner", "get_welfare_function", "is_game_file"]


def is_game_file(spec: str) -> bool:
    """Whether ``spec`` names a game file rather than a registered game."""
    return spec.lower().endswith((".nfg", ".json")) or (
        ("/" in spec or "\\" in spec) and "(" not in spec) or Path(spec).is_file()


def load_game(spec: Any, **params: Any) -> Any:
    """Load a game by name, game string, file path, pyspiel game or payoff array.

    Parameters
    ----------
    spec : str or pyspiel.Game or NormalFormGame or array_like
        ``"chicken"``, ``"blotto(coins=4,fields=3)"``, ``"games/pd.nfg"``, a
        pyspiel game, or payoffs ``[N, A_1, ..., A_N]``.
    **params
        Parameters added to (and overriding) those in the game string.

    Returns
    -------
    NormalFormGame or a learner game (see :mod:`spielplatz.learning`)

    Raises
    ------
    UnknownNameError
        For an unknown name (with close matches).
    GameError
        For bad parameters, files or payoffs.
    """
    from .normal_form import NormalFormGame

    if isinstance(spec, NormalFormGame):
        return spec
    if not isinstance(spec, str):
        if type(spec).__module__ == "pyspiel":
            return NormalFormGame.from_pyspiel(spec)
        if isinstance(spec, (list, tuple)) or hasattr(spec, "__array__"):
            return NormalFormGame.from_array(spec)
        return spec  # a learner game object (see spielplatz.learning), used as it is
    spec = spec.strip()
    if is_game_file(spec):
        from .files import read_game_file

        return read_game_file(spec)
    from .gamestring import format_game_string, parse_game_string

    name, parsed = parse_game_string(spec)
    parsed.update(params)
    entry = get_host().registry("game").get(name)
    loader = entry.load()
    full = format_game_string(name, parsed)
    if isinstance(entry, Catalog):
        game = loader(full, parsed)
    else:
        _check_params(loader, name, parsed)
        try:
            game = loader(**parsed)
        except OptionError as exc:              # a bad parameter value: name the game
            raise GameError(f"game {full!r}: {exc}") from None
        except SpielplatzError:
            raise
        except (TypeError, ValueError) as exc:
            raise GameError(f"game {full!r}: {exc}") from None
    if type(game).__module__ == "pyspiel":
        game = NormalFormGame.from_pyspiel(game, name=full)
    return game


def _check_params(loader: Any, name: str, params: dict) -> None:
    try:
        sig = inspect.signature(loader)
    except (TypeError, ValueError):
        return
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    allowed = [k for k, p in sig.parameters.items() if p.kind != p.VAR_POSITIONAL]
    unknown = [k for k in params if k not in allowed]
    if unknown:
        hint = f"; it takes {', '.join(allowed)}" if allowed else "; it takes no parameters"
        raise GameError(f"game {name!r} has no parameter {unknown[0]!r}{hint}")


def _instantiate(entry: Any) -> Any:
    obj = entry.load()
    return obj() if inspect.isclass(obj) else obj


def get_solver(name: str) -> Any:
    """The solver object registered as ``name``."""
    return _instantiate(get_host().registry("solver").get(name))


def get_learner(name: str) -> Any:
    """The learner object registered as ``name``."""
    return _instantiate(get_host().registry("learner").get(name))


def get_welfare_function(name: str) -> Any:
    """The welfare function registered as ``name`` (values ``[..., N]`` -> ``[...]``)."""
    return get_host().registry("welfare").get(name).load()


def solve(game: Any, solver: str = "maxent", concept: str = "ce", **options: Any) -> Any:
    """Solve ``game`` for a (coarse) correlated equilibrium.

    Parameters
    ----------
    game : anything :func:`load_game` accepts
    solver : str
        A registered solver (``spielplatz solvers`` lists them).
    concept : {"ce", "cce"}
    **options
        Passed to the solver.

    Returns
    -------
    Solution
        As the solver returned it, after the host's own check
        (:func:`audit_solution`): ``extra["certificate"]`` says whether the
        joint is a (C)CE within ``1e-8`` of the payoff range, decided rigorously
        (:mod:`spielplatz.certificate`); an answer the solver called
        ``optimal`` that fails it is not passed on as ``optimal``.
    """
    from .deviations import _check_concept

    concept = _check_concept(concept)
    game = load_game(game)
    entry = get_host().registry("solver").get(solver)
    sol = _instantiate(entry).solve(game, concept=concept, **options)
    return audit_solution(sol, game, concept, solver=solver, plugin=entry.plugin,
                          exact=bool(entry.meta.get("exact", False)))


def audit_solution(sol: Any, game: Any, concept: str, *, solver: str, plugin: str,
                   exact: bool) -> Any:
    """The host's check of a solver's answer: measured, certified, never over-labelled.

    The joint must be a finite distribution of the game's shape; its gap is
    certified against the epsilon the solver was asked for
    (``extra["epsilon_required"]``, else ``config["epsilon"]``, else 0). An answer
    labelled ``optimal`` that fails is marked ``failed`` (exact solvers) or
    ``approximate`` (the others), with a :class:`SolverWarning` naming the plugin.
    """
    import dataclasses
    import warnings

    import numpy as np

    from .certificate import certify
    from .errors import PluginError, SolverWarning
    from .results import Solution

    if not isinstance(sol, Solution):
        raise PluginError(f"solver {solver!r} (plugin {plugin!r}) returned "
                          f"{type(sol).__name__}, not a Solution")
    joint = np.asarray(sol.joint, dtype=float)
    if joint.shape != tuple(game.shape):
        raise PluginError(f"solver {solver!r} (plugin {plugin!r}) returned a joint of shape "
                          f"{joint.shape} for a game of shape {tuple(game.shape)}")
    eps = sol.extra.get("epsilon_required", sol.config.get("epsilon", 0.0))
    try:
        eps = np.broadcast_to(np.asarray(eps, dtype=float), (game.num_players,))
    except (TypeError, ValueError):
        eps = np.zeros(game.num_players)
    cert = certify(game.payoffs, joint, concept, epsilon=eps)
    extra = dict(sol.extra)
    extra["certificate"] = cert.to_dict()
    status = sol.status
    if not cert.finite:
        status = "failed"
        extra.setdefault("message", "the joint is not a finite probability distribution")
    if status == "optimal" and not cert.certified:
        status = "failed" if exact else "approximate"
        warnings.warn(
            f"solver {solver!r} (plugin {plugin!r}) labelled an answer optimal whose "
            f"largest deviation gain exceeds the allowed epsilon by {cert.violation:.3e} "
            f"(tolerance {cert.tolerance:.3e}); marked {status}", SolverWarning, stacklevel=3)
    if not cert.finite:
        return dataclasses.replace(sol, status=status, extra=extra)
    # every reported measure is the host's own, whatever the plugin filled in
    return Solution.from_joint(game, joint, concept, solver=sol.solver or solver,
                               config=sol.config, status=status, iterations=sol.iterations,
                               wall_time=sol.wall_time, objective=sol.objective, extra=extra)


def solve_batch(payoffs: Any, solver: str = "maxent", concept: str = "ce", **options: Any) -> Any:
    """Solve many games of one shape, ``payoffs`` ``[B, N, A_1, ..., A_N]``, at once."""
    from .deviations import _check_concept

    concept = _check_concept(concept)
    from .protocols import BatchSolver

    impl = get_solver(solver)
    if not isinstance(impl, BatchSolver):
        raise SpielplatzError(f"solver {solver!r} does not solve batches")
    return impl.solve_batch(payoffs, concept=concept, **options)


def learn(game: Any, learner: str, *, steps: int, seeds: Any = (0,), **options: Any) -> Any:
    """Train ``learner`` on ``game`` and return its :class:`~spielplatz.Run`."""
    if isinstance(seeds, int):
        seeds = (seeds,)
    return get_learner(learner).learn(load_game(game), steps=steps, seeds=tuple(seeds), **options)


def evaluate(game: Any, joint: Any, concept: str = "ce") -> Any:
    """Measure a joint distribution on ``game``; see :class:`~spielplatz.Evaluation`."""
    from .deviations import _check_concept
    from .files import validate_joint
    from .results import evaluate as _evaluate

    game = load_game(game)
    return _evaluate(game, validate_joint(joint, game), _check_concept(concept))
