"""Solving through the host: every answer is re-measured and certified by the host."""

from __future__ import annotations

from typing import Any

from spielplatz.api.games import load_game, normal_form_game
from spielplatz.api.registry import (call_plugin, check_options, default_solver, instantiate,
                                     make, solver_entry)
from spielplatz.errors import PluginError, SpielplatzError

__all__ = ["solve", "solve_batch", "audit_solution", "evaluate"]


def solve(game: Any, solver: str | None = None, concept: str = "ce", **options: Any) -> Any:
    """Solve ``game`` for a (coarse) correlated equilibrium.

    Parameters
    ----------
    game : anything :func:`load_game` accepts
    solver : str, optional
        A registered solver (``spielplatz solvers`` lists them); by default
        :func:`default_solver`.
    concept : {"ce", "cce"}
    **options
        Passed to the solver, after the host's check against its declared options
        (unknown names refused, values coerced to their declared types).

    Returns
    -------
    Solution
        As the solver returned it, after the host's own check
        (:func:`audit_solution`): ``extra["certificate"]`` says whether the
        joint is a (C)CE within ``1e-8`` of the payoff range, decided rigorously
        (:mod:`spielplatz.equilibria.certificate`); an answer the solver called
        ``optimal`` that fails it is not passed on as ``optimal``.
    """
    solver = solver or default_solver()
    entry, concept = solver_entry(solver, concept)
    options = check_options("solver", solver, options)
    game = load_game(game)
    # one plugin call: loading the solver and its solve
    sol = call_plugin("solver", solver, entry.plugin,
                      lambda: make(entry).solve(game, concept=concept, **options))
    return audit_solution(sol, game, concept, solver=solver, plugin=entry.plugin,
                          exact=bool(entry.meta.get("exact", False)), options=options)


def audit_solution(sol: Any, game: Any, concept: str, *, solver: str, plugin: str,
                   exact: bool, options: dict | None = None) -> Any:
    """The host's check of a solver's answer: measured, certified, never over-labelled.

    The joint must be a finite distribution of the game's shape; its gap is
    certified against the epsilon the solver was asked for. With ``options`` (what the
    user passed): their ``epsilon`` (0 when not given), or with ``target_epsilon`` the
    epsilon the solver reports solving for (``extra["epsilon_required"]``: the target
    formulation chooses it). Without ``options``: ``extra["epsilon_required"]``, else
    ``config["epsilon"]``, else 0. An answer labelled ``optimal`` that fails is marked
    ``failed`` (exact solvers) or ``approximate`` (the others), with a
    :class:`SolverWarning` naming the plugin.
    """
    import dataclasses
    import warnings

    import numpy as np

    from spielplatz.equilibria.certificate import certify
    from spielplatz.errors import SolverWarning
    from spielplatz.results import Solution

    if not isinstance(sol, Solution):
        raise PluginError(f"solver {solver!r} (plugin {plugin!r}) returned "
                          f"{type(sol).__name__}, not a Solution")
    joint = np.asarray(sol.joint, dtype=float)
    if joint.shape != tuple(game.shape):
        raise PluginError(f"solver {solver!r} (plugin {plugin!r}) returned a joint of shape "
                          f"{joint.shape} for a game of shape {tuple(game.shape)}")
    if options is None:
        eps = sol.extra.get("epsilon_required", sol.config.get("epsilon", 0.0))
    elif options.get("target_epsilon") is not None:
        eps = sol.extra.get("epsilon_required", 0.0)
    else:          # a solver cannot widen what it was asked for by reporting its own epsilon
        eps = 0.0 if options.get("epsilon") is None else options["epsilon"]
    try:
        eps = np.asarray(eps, dtype=float)
        if eps.shape != (game.num_players,):
            eps = np.broadcast_to(eps, (game.num_players,))
    except (TypeError, ValueError):
        eps = np.zeros(game.num_players)
    cert = certify(game.payoffs, joint, concept, epsilon=eps)
    extra = dict(sol.extra)
    extra["certificate"] = cert.to_dict()
    status = sol.status
    if status not in ("optimal", "approximate", "infeasible", "iteration_limit", "failed"):
        extra["reported_status"] = str(status)
        status = "failed"
        extra.setdefault("message", f"unknown status {sol.status!r} from the solver")
    if sol.solver and sol.solver != solver:
        extra["reported_solver"] = sol.solver
    if not cert.finite:
        status = "failed"
        extra.setdefault("message", "the joint is not a finite probability distribution")
    if status == "optimal" and not cert.certified:
        status = "failed" if exact else "approximate"
        warnings.warn(
            f"solver {solver!r} (plugin {plugin!r}) labelled an answer optimal whose "
            f"largest deviation gain exceeds the allowed epsilon by {cert.violation:.3e} "
            f"(tolerance {cert.tolerance:.3e}); marked {status}", SolverWarning, stacklevel=3)
    if not cert.finite:              # nothing to measure: the host's NaN, not the plugin's
        n = game.num_players
        return dataclasses.replace(
            sol, solver=solver, status=status, extra=extra, epsilons=np.full(n, np.nan),
            gap=float("nan"), values=np.full(n, np.nan), welfare=float("nan"),
            entropy=float("nan"), total_correlation=float("nan"),
            player_names=tuple(game.player_names), action_names=tuple(game.action_names))
    # every reported measure is the host's own, whatever the plugin filled in
    return Solution.from_joint(game, joint, concept, solver=solver,
                               config=sol.config, status=status, iterations=sol.iterations,
                               wall_time=sol.wall_time, objective=sol.objective, extra=extra)


def solve_batch(payoffs: Any, solver: str | None = None, concept: str = "ce",
                **options: Any) -> Any:
    """Solve many games of one shape, ``payoffs`` ``[B, N, A_1, ..., A_N]``, at once
    (by default with :func:`default_solver`)."""
    from spielplatz.plugins.protocols import BatchSolver

    solver = solver or default_solver()
    entry, concept = solver_entry(solver, concept)
    impl = instantiate(entry, "solver")
    if not isinstance(impl, BatchSolver):
        raise SpielplatzError(f"solver {solver!r} does not solve batches")
    options = check_options("solver", solver, options, batch=True)
    import numpy as np

    if np.iscomplexobj(payoffs):                  # float64 would drop the imaginary part
        raise SpielplatzError("solve_batch: payoffs are complex numbers; give real ones")
    return call_plugin("solver", solver, entry.plugin,
                       lambda: impl.solve_batch(payoffs, concept=concept, **options))


def evaluate(game: Any, joint: Any, concept: str = "ce") -> Any:
    """Measure a joint distribution on ``game``; see :class:`~spielplatz.Evaluation`."""
    from spielplatz.equilibria.deviations import check_concept
    from spielplatz.games.joint_files import validate_joint
    from spielplatz.results import evaluate as _evaluate

    game = normal_form_game(game, "evaluate")
    return _evaluate(game, validate_joint(joint, game), check_concept(concept))
