"""The ``maxent`` solver: exact MWMRE (C)CE (NES appendix, Section A) in float64.

The solve is the host's (:mod:`spielplatz.equilibria.mwmre`): ``MaxEntSolver.solve``
calls :func:`spielplatz.equilibria.mwmre.solve` (projected Newton on the dual, with
an LP that finds the support when the answer has zeros) and
``MaxEntSolver.solve_batch`` calls :func:`spielplatz.equilibria.mwmre.solve_batch`
(a JAX-vectorised Newton that falls back to the single-game path for any game it
does not certify); this plugin declares the options and reports the answers.

Problems (see :mod:`spielplatz.equilibria.mwmre` for the duals):

* ``epsilon`` fixed (default 0): maximise ``-KL(sigma || prior) + mu <W, sigma>``
  over the epsilon-(C)CE polytope; uniform prior and ``mu = 0`` give the
  maximum-entropy (C)CE.
* ``target_epsilon`` given: Theorems 1/2, maximise
  ``-KL(sigma || prior) + mu <W, sigma> - rho sum_p (eps+_p - eps_p)
  ln((eps+_p - eps_p) / (e (eps+_p - eps_hat_p)))`` over ``sigma`` and
  ``eps_p <= eps+_p`` with ``gains_p(sigma) <= eps_p``. Always feasible: an
  unreachable target gives the nearest answer the penalty allows.
"""

from __future__ import annotations

import time
from typing import Any

from spielplatz.api import normal_form_game
from spielplatz.equilibria import deviations, mwmre
from spielplatz.games.normal_form import NormalFormGame
from spielplatz.results import BatchSolution, Solution
from spielplatz.system import resources
from spielplatz.validation import as_bool, as_int, check_option_names

from . import OPTIONS

#: ``batch[i]``'s names for the batch's per-game details: those of a single-game solve.
GAME_KEYS = {"paths": "path", "support_routes": "support_route",
             "payoff_scales": "payoff_scale"}

#: Names of the declared options (:data:`spielplatz_maxent.OPTIONS`) of
#: :meth:`MaxEntSolver.solve`; :meth:`MaxEntSolver.solve_batch` also takes :data:`BATCH_OPTIONS`.
SOLVE_OPTIONS = tuple(o.name for o in OPTIONS if not o.batch_only)
BATCH_OPTIONS = tuple(o.name for o in OPTIONS if o.batch_only)

__all__ = ["MaxEntSolver"]

class MaxEntSolver:
    """Exact maximum-entropy / MWMRE (C)CE solver (float64, certified).

    See the module docstring for the problems solved; options are documented
    in :meth:`solve`.
    """

    name = "maxent"

    def solve(self, game: Any, concept: str = "ce", *, prior: Any = None, mu: float = 0.0,
              welfare: Any = None, epsilon: Any = 0.0, target_epsilon: Any = None,
              rho: Any = None, eps_plus: Any = None, tol: float = 1e-10,
              max_iter: int = 200, initial_duals: Any = None, **unknown: Any) -> Solution:
        """Solve one game.

        Parameters
        ----------
        game : NormalFormGame or anything :func:`spielplatz.load_game` accepts
        concept : {"ce", "cce"}
        prior : array_like ``[A_1, ..., A_N]``, optional
            Full-support target joint ``sigma_hat``; uniform (maximum entropy)
            by default.
        mu : float
            Weight of the welfare term ``mu <W, sigma>``.
        welfare : array_like ``[A_1, ..., A_N]`` or str, optional
            ``W(a)``; the sum of the payoffs by default. A string names a
            registered welfare function (``spielplatz welfare-functions`` lists them,
            e.g. ``"egalitarian"``), applied to each joint action's payoffs.
        epsilon : float or array_like ``[N]``
            Fixed epsilon of the (C)CE constraints (0: exact).
        target_epsilon : float or array_like ``[N]``, optional
            ``eps_hat``: solve the target formulation of Theorems 1/2 instead.
        rho : float, optional
            Target formulation only; ``10 / payoff range`` by default (payoff
            units: scaling the payoffs by ``c`` scales ``rho`` by ``1/c``).
        eps_plus : float or array_like ``[N]``, optional
            Target formulation only; ``payoff range + max(eps_hat, 0)`` by
            default. Must exceed ``eps_hat`` and 0.
        tol : float
            Stopping tolerance on the projected dual gradient (payoffs scaled
            to range 1).
        max_iter : int
            Newton iterations per phase.
        initial_duals : list of array_like, optional
            Warm start: per-player duals in payoff units, the layout of
            ``extra["duals"]`` (e.g. a previous answer's, or a network's).
            Changes how fast the answer is found, not the answer.

        Returns
        -------
        Solution
            ``status`` is ``"optimal"`` only when the returned joint violates
            no constraint by more than ``1e-8`` times the payoff range and the
            projected dual gradient is below ``1e-8``. ``objective`` is
            ``-KL(joint || prior) + mu W(joint)`` (nats; less the target
            penalty in target mode). ``extra`` holds ``residuals``
            (``kkt``: the projected dual gradient, ``dual_gap``: nats),
            ``epsilon_required`` (per player), ``relative_entropy``
            (nats), ``support_size``, ``support_lp`` (whether the LP that
            certifies zeros ran), ``support_route`` (``"none"``: no zeros;
            ``"interior"``: no zeros, its tiny masses proven positive by a (C)CE
            that plays every joint action; ``"dominance"``: zeros certified by the
            duals, recommendations strictly dominated on the support; ``"lp"``: the
            support LP) and ``duals`` (per player, payoff units: the
            minimiser of the dual of :mod:`spielplatz.equilibria.mwmre`; on the support
            when the answer has zeros).

        Raises
        ------
        SpielplatzError
            On unknown or invalid options, or a fixed epsilon that no joint
            distribution reaches.
        """
        check_option_names(unknown, SOLVE_OPTIONS, "the maxent solver")
        concept = deviations.check_concept(concept)
        game = normal_form_game(game, "the maxent solver")
        resources.check_solve_memory(game, concept, "maxent")
        start = time.perf_counter()
        result = mwmre.solve(game.payoffs, concept, prior=prior, mu=mu, welfare=welfare,
                             epsilon=epsilon, target_epsilon=target_epsilon, rho=rho,
                             eps_plus=eps_plus, tol=tol, max_iter=max_iter,
                             initial_duals=initial_duals)
        return _solution(game, concept, result, time.perf_counter() - start)

    def solve_batch(self, payoffs: Any, concept: str = "ce", *, prior: Any = None,
                    mu: float = 0.0, welfare: Any = None, epsilon: Any = 0.0,
                    target_epsilon: Any = None, rho: Any = None, eps_plus: Any = None,
                    tol: float = 1e-10, max_iter: int = 200, fallback: bool = True,
                    chunk: Any = None, steps_per_round: Any = None, threads: Any = None,
                    initial_duals: Any = None, exact_zeros: bool = False,
                    **unknown: Any) -> Any:
        """Solve ``payoffs`` ``[B, N, A_1, ..., A_N]`` (many games of one shape) at once.

        A JAX-vectorised projected Newton-CG (:mod:`spielplatz.equilibria.mwmre.batched`,
        jit-compiled once per game shape, chunk size, concept and formulation)
        solves every game in float64; each game whose answer is not certified
        (gap above ``1e-8`` times its payoff range, or a projected dual
        gradient above ``1e-8``) within ``min(max_iter, 80)`` iterations is
        re-solved by the single-game path (``fallback=True``). Zeros of exact CE
        answers that the batch's duals certify (strictly dominated
        recommendations) are returned as exact zeros; other masses below ``1e-9``
        stay as the batch found them unless ``exact_zeros``, which identifies every
        zero (``extra["support_routes"]`` says how, per game). Options are those of :meth:`solve`, the same for every
        game (``prior`` and ``welfare`` may also be given per game, ``[B, A...]``).

        Parameters
        ----------
        payoffs : array_like ``[B, N, A_1, ..., A_N]``
        concept : {"ce", "cce"}
        fallback : bool
            Re-solve uncertified games on the exact single-game path.
        chunk : int, optional
            Games advanced together by one compiled call (the compiled shape);
            32 by default.
        steps_per_round : int, optional
            Newton iterations per call before finished games leave the chunk; 4 for
            CE and 8 for CCE by default.
        threads : int, optional
            Host threads feeding the compiled function; by default one per CPU
            this process may use, at most 4.
        exact_zeros : bool
            Identify every zero (:mod:`spielplatz.equilibria.mwmre.zeros`): the masses
            below ``1e-9`` that the batch's duals do not prove zero are proven positive
            (``"interior"``), their zeros proven by a Farkas certificate (``"farkas"``),
            or the support LP decides them (``"lp"``).
        initial_duals : list of array_like, optional
            Warm start: per player ``[B, A_p, A_p]`` (CE) or ``[B, A_p]`` (CCE)
            duals in payoff units (e.g. the ``nes`` network's).
        **options
            As for :meth:`solve`.

        Returns
        -------
        spielplatz.results.BatchSolution
        """
        check_option_names(unknown, [*SOLVE_OPTIONS, *BATCH_OPTIONS], "the maxent solver's batches")
        fallback = as_bool(fallback, "fallback")
        chunk = None if chunk is None else as_int(chunk, "chunk", minimum=1)
        steps_per_round = (None if steps_per_round is None
                           else as_int(steps_per_round, "steps_per_round", minimum=1))
        threads = None if threads is None else as_int(threads, "threads", minimum=1)
        exact_zeros = as_bool(exact_zeros, "exact_zeros")
        start = time.perf_counter()
        concept = deviations.check_concept(concept)
        res = mwmre.solve_batch(payoffs, concept, prior=prior, mu=mu, welfare=welfare,
                                epsilon=epsilon, target_epsilon=target_epsilon, rho=rho,
                                eps_plus=eps_plus, tol=tol, max_iter=max_iter,
                                fallback=fallback, chunk=chunk,
                                steps_per_round=steps_per_round, threads=threads,
                                initial_duals=initial_duals, exact_zeros=exact_zeros)
        return BatchSolution.from_joints(
            res.payoffs, res.joints, concept, solver="maxent", config=res.config,
            wall_time=time.perf_counter() - start, extra=res.extra(), **res.measured(),
            game_keys=GAME_KEYS)


def _solution(game: NormalFormGame, concept: str, result: mwmre.Result,
              wall: float) -> Solution:
    extra = {
        "residuals": result.residuals, "epsilon_required": result.epsilon_required,
        "relative_entropy": result.relative_entropy,
        "support_size": int((result.joint > 0).sum()), "support_lp": result.support_lp,
        "support_route": result.support_route,
        "payoff_scale": result.payoff_scale, "path": "newton", "duals": result.duals,
    }
    return Solution.from_joint(game, result.joint, concept, solver="maxent",
                               config=result.config, status=result.status,
                               iterations=result.iterations, wall_time=wall,
                               objective=result.objective, extra=extra)
