"""The ``maxent`` solver: exact MWMRE (C)CE (NES appendix, Section A) in float64.

``MaxEntSolver.solve`` solves one game by projected Newton on the dual
(:mod:`spielplatz_maxent.exact`), with an LP that finds the support when the
answer has zeros; ``MaxEntSolver.solve_batch`` solves many games of one shape
with a JAX-vectorised Newton (:mod:`spielplatz_maxent.batched`) and falls back
to the single-game path for any game it does not certify.

Problems (see :mod:`spielplatz.mwmre` for the duals):

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

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from spielplatz import deviations, measures
from spielplatz.certificate import GAP_TOLERANCE, certify
from spielplatz.errors import SpielplatzError
from spielplatz.mwmre import unflatten_duals
from spielplatz.normal_form import NormalFormGame
from spielplatz.results import Solution
from spielplatz.validation import (as_bool, as_float, as_int, check_option_names, finite_float,
                                   normal_form_game, per_player)

from . import OPTIONS

#: Names of the declared options (:data:`spielplatz_maxent.OPTIONS`) of
#: :meth:`MaxEntSolver.solve`; :meth:`MaxEntSolver.solve_batch` also takes :data:`BATCH_OPTIONS`.
SOLVE_OPTIONS = tuple(o.name for o in OPTIONS if not o.batch_only)
BATCH_OPTIONS = tuple(o.name for o in OPTIONS if o.batch_only)

__all__ = ["MaxEntSolver", "Options"]

#: Projected dual gradient certified for status ``"optimal"`` (range-1 units).
KKT_TOLERANCE = 1e-8


@dataclass(frozen=True)
class Options:
    """Validated options in the solver's internal units (payoffs of range 1).

    Attributes
    ----------
    scale : float
        The payoff range the game was divided by (1 for a constant game).
    log_prior : ndarray ``[A...]``
        Normalised ``ln sigma_hat``.
    welfare_term : ndarray ``[A...]``
        ``mu (W(a) - max W)`` (logits are shift-invariant).
    epsilon : ndarray ``[N]`` or None
        Fixed epsilon / scale.
    target, eps_plus : ndarray ``[N]`` or None
        ``eps_hat / scale`` and ``eps+ / scale``.
    rho : float or None
        ``rho * scale``.
    config : dict
        The options as given (JSON-ready), for :class:`~spielplatz.Solution`.
    welfare_offset : float
        ``mu max W``, added back to the reported objective.
    """

    scale: float
    log_prior: np.ndarray
    welfare_term: np.ndarray
    epsilon: np.ndarray | None
    target: np.ndarray | None
    eps_plus: np.ndarray | None
    rho: float | None
    tol: float
    max_iter: int
    config: dict
    welfare_offset: float = 0.0


def welfare_values(payoffs: np.ndarray, name: str, player_axis: int = 0) -> np.ndarray:
    """``W(a)`` from the registered welfare function ``name``.

    ``payoffs`` is ``[N, A...]`` (or ``[B, N, A...]`` with ``player_axis=1``);
    the players' payoffs are moved to the last axis, ``[..., N]``, and the
    function maps them to ``[A...]`` (``[B, A...]``).

    Raises
    ------
    SpielplatzError
        For an unknown name or a welfare that is not finite.
    """
    from spielplatz.api import get_welfare_function

    func = get_welfare_function(name)
    g = np.asarray(payoffs, dtype=float)
    w = np.asarray(func(np.moveaxis(g, player_axis, -1)), dtype=float)
    expected = g.shape[:player_axis] + g.shape[player_axis + 1:]
    if w.shape != expected or not np.all(np.isfinite(w)):
        raise SpielplatzError(f"welfare function {name!r} must give finite values of shape "
                              f"{expected}, got shape {w.shape}")
    return w



def warm_start_duals(value: Any, shape: tuple, concept: str, scales: np.ndarray) -> np.ndarray:
    """Warm-start duals in payoff units -> flat range-1 duals ``[B, K]``.

    ``value`` is a list over players of ``[B, A_p, A_p]`` (CE) / ``[B, A_p]`` (CCE)
    arrays, the layout of ``Solution.extra["duals"]`` with a batch axis first
    (a single game's list is taken as a batch of one). A multiplier of payoff-unit
    gains becomes ``alpha * scale`` on the range-1 game; negative entries are
    projected to 0 (duals of inequality constraints).

    Raises
    ------
    SpielplatzError
        When the list has the wrong length, an array the wrong shape, or a value
        that is not finite.
    """
    from spielplatz.mwmre import dual_shapes

    b = len(scales)
    want = dual_shapes(shape, concept)
    try:
        parts = [np.asarray(v, dtype=float) for v in value]
    except (TypeError, ValueError):
        raise SpielplatzError("initial_duals must be a list of per-player arrays") from None
    if len(parts) != len(want):
        raise SpielplatzError(f"initial_duals: need {len(want)} per-player arrays, got "
                              f"{len(parts)}")
    flat = []
    for p, (arr, w) in enumerate(zip(parts, want)):
        if arr.shape == w:
            arr = np.broadcast_to(arr, (b,) + w)
        if arr.shape != (b,) + w:
            want_shape = f"{list(w)} or {list((b,) + w)}" if b > 1 else f"{list(w)}"
            raise SpielplatzError(f"initial_duals of player {p} must have shape {want_shape}, "
                                  f"got {list(arr.shape)}")
        if not np.all(np.isfinite(arr)):
            raise SpielplatzError(f"initial_duals of player {p} are not finite")
        flat.append(arr.reshape(b, -1))
    return np.maximum(np.concatenate(flat, axis=1), 0.0) * np.asarray(scales)[:, None]


def prepare(payoffs: np.ndarray, *, prior: Any = None, mu: Any = 0.0, welfare: Any = None,
            epsilon: Any = 0.0, target_epsilon: Any = None, rho: Any = None,
            eps_plus: Any = None, tol: Any = 1e-10, max_iter: Any = 200) -> Options:
    """Validate the options for a game with ``payoffs`` and convert them to range-1 units.

    Raises
    ------
    SpielplatzError
        For a prior that is not a full-support distribution of the game's
        shape, non-finite numbers, ``rho <= 0``, ``eps_plus <= 0`` or
        ``target_epsilon >= eps_plus``.
    """
    n = payoffs.shape[0]
    shape = payoffs.shape[1:]
    scale = float(deviations.payoff_scale(payoffs))
    if not scale > 0:
        scale = 1.0
    config: dict = {"mu": mu, "epsilon": epsilon, "tol": tol, "max_iter": max_iter}
    if prior is None:
        log_prior = np.full(shape, -math.log(int(np.prod(shape))))
    else:
        try:
            p = np.asarray(prior, dtype=float)
        except (TypeError, ValueError):
            raise SpielplatzError("prior must be an array of probabilities") from None
        if p.shape != shape:
            raise SpielplatzError(f"prior has shape {p.shape}, the game's joint actions "
                                  f"have shape {shape}")
        if not np.all(np.isfinite(p)) or np.any(p <= 0):
            raise SpielplatzError("prior must be a full-support distribution: every "
                                  "probability finite and > 0 (zeros make the relative "
                                  "entropy infinite)")
        log_prior = np.log(p) - math.log(p.sum())
        config["prior"] = (p / p.sum()).tolist()
    mu = finite_float(mu, "mu")
    if welfare is None:
        w = payoffs.sum(axis=0)
    elif isinstance(welfare, str):
        w = welfare_values(payoffs, welfare)
        config["welfare"] = welfare
    else:
        w = np.asarray(welfare, dtype=float)
        if w.shape != shape or not np.all(np.isfinite(w)):
            raise SpielplatzError(f"welfare must be a finite array of shape {shape}")
        config["welfare"] = w.tolist()
    # a constant added to the logits changes nothing: shift W to max 0 (no overflow
    # or lost digits for payoffs with a large offset)
    with np.errstate(over="ignore", invalid="ignore"):
        welfare_term = mu * (w - w.max()) if mu != 0 else np.zeros(shape)
    if not np.all(np.isfinite(welfare_term)):
        raise SpielplatzError(f"mu = {mu:g} times the welfare range {float(np.ptp(w)):g} "
                              f"overflows float64; use a smaller mu (large mu tends to the "
                              f"maximum-welfare (C)CE: --solver welfare)")
    tol = as_float(tol, "tol", positive=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    eps_fixed = target = eplus = rho_int = None
    if target_epsilon is None:
        if rho is not None or eps_plus is not None:
            raise SpielplatzError("rho and eps_plus belong to the target formulation; "
                                  "give target_epsilon too")
        eps_fixed = per_player(epsilon, n, "epsilon") / scale
    else:
        if not (isinstance(epsilon, (int, float)) and epsilon == 0):
            raise SpielplatzError("give either epsilon (fixed) or target_epsilon, not both")
        target_raw = per_player(target_epsilon, n, "target_epsilon")
        eplus_raw = (scale + np.maximum(target_raw, 0.0) if eps_plus is None
                     else per_player(eps_plus, n, "eps_plus"))
        if np.any(eplus_raw <= 0):
            raise SpielplatzError(f"eps_plus must be > 0, got {eplus_raw.tolist()}")
        if np.any(target_raw >= eplus_raw):
            raise SpielplatzError(f"target_epsilon {target_raw.tolist()} must be below "
                                  f"eps_plus {eplus_raw.tolist()}")
        rho_raw = 10.0 / scale if rho is None else finite_float(rho, "rho")
        if not rho_raw > 0:
            raise SpielplatzError(f"rho must be > 0, got {rho_raw}")
        target, eplus, rho_int = target_raw / scale, eplus_raw / scale, rho_raw * scale
        config.update({"target_epsilon": target_raw.tolist(), "eps_plus": eplus_raw.tolist(),
                       "rho": rho_raw})
        config.pop("epsilon")
    return Options(scale=scale, log_prior=log_prior, welfare_term=welfare_term,
                   epsilon=eps_fixed, target=target, eps_plus=eplus, rho=rho_int, tol=tol,
                   max_iter=max_iter, config=config,
                   welfare_offset=float(mu * w.max()) if mu != 0 else 0.0)


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
            certifies zeros ran) and ``duals`` (per player, payoff units: the
            minimiser of the dual of :mod:`spielplatz.mwmre`; on the support
            when the answer has zeros).

        Raises
        ------
        SpielplatzError
            On unknown or invalid options, or a fixed epsilon that no joint
            distribution reaches.
        """
        check_option_names(unknown, SOLVE_OPTIONS, "the maxent solver")
        concept = deviations._check_concept(concept)
        game = normal_form_game(game, "the maxent solver")
        from spielplatz.resources import check_solve_memory

        check_solve_memory(game, concept, "maxent")
        start = time.perf_counter()
        opts = prepare(game.payoffs, prior=prior, mu=mu, welfare=welfare, epsilon=epsilon,
                       target_epsilon=target_epsilon, rho=rho, eps_plus=eps_plus, tol=tol,
                       max_iter=max_iter)
        alpha0 = None
        if initial_duals is not None:
            alpha0 = warm_start_duals(initial_duals, game.shape, concept,
                                      np.array([opts.scale]))[0]
        result = solve_exact(game.payoffs, concept, opts, alpha0=alpha0)
        return _solution(game, concept, opts, result, time.perf_counter() - start)

    def solve_batch(self, payoffs: Any, concept: str = "ce", *, prior: Any = None,
                    mu: float = 0.0, welfare: Any = None, epsilon: Any = 0.0,
                    target_epsilon: Any = None, rho: Any = None, eps_plus: Any = None,
                    tol: float = 1e-10, max_iter: int = 200, fallback: bool = True,
                    chunk: int = 64, steps_per_round: int = 4, threads: int = 1,
                    initial_duals: Any = None, **unknown: Any) -> Any:
        """Solve ``payoffs`` ``[B, N, A_1, ..., A_N]`` (many games of one shape) at once.

        A JAX-vectorised projected Newton-CG (:mod:`spielplatz_maxent.batched`,
        jit-compiled once per game shape, chunk size, concept and formulation)
        solves every game in float64; each game whose answer is not certified
        (gap above ``1e-8`` times its payoff range, or a projected dual
        gradient above ``1e-8``) within ``min(max_iter, 80)`` iterations is
        re-solved by the single-game path (``fallback=True``). Answers with
        zeros are returned with vanishing (not exactly zero) masses by the
        batched path. Options are those of :meth:`solve`, the same for every
        game (``prior`` and ``welfare`` may also be given per game, ``[B, A...]``).

        Parameters
        ----------
        payoffs : array_like ``[B, N, A_1, ..., A_N]``
        concept : {"ce", "cce"}
        fallback : bool
            Re-solve uncertified games on the exact single-game path.
        chunk : int
            Games advanced together by one compiled call (the compiled shape).
        steps_per_round : int
            Newton iterations per call before finished games leave the chunk.
        threads : int
            Host threads feeding the compiled function.
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
        chunk = as_int(chunk, "chunk", minimum=1)
        steps_per_round = as_int(steps_per_round, "steps_per_round", minimum=1)
        threads = as_int(threads, "threads", minimum=1)
        from .batched import solve_batch

        return solve_batch(payoffs, deviations._check_concept(concept), prior=prior, mu=mu,
                           welfare=welfare, epsilon=epsilon, target_epsilon=target_epsilon,
                           rho=rho, eps_plus=eps_plus, tol=tol, max_iter=max_iter,
                           fallback=fallback, chunk=chunk, steps_per_round=steps_per_round,
                           threads=threads, initial_duals=initial_duals)


@dataclass
class ExactResult:
    """What :func:`solve_exact` found (range-1 units)."""

    joint: np.ndarray
    duals: np.ndarray          # flat, range-1 units
    eps_required: np.ndarray   # [N], range-1 units
    residual: float
    dual_gap: float
    iterations: int
    support_lp: bool
    converged: bool


def _collapsing(iteration: int, state: dict) -> bool:
    """Heuristic: the dual is running off to infinity (the answer has zeros)."""
    return (iteration >= 8 and state["sigma"].min() < 1e-9) or iteration >= 40


def solve_exact(payoffs: np.ndarray, concept: str, opts: Options,
                alpha0: np.ndarray | None = None, lp_first: bool = False) -> ExactResult:
    """The single-game exact path: projected Newton, then the support LP if needed.

    ``alpha0`` (flat duals in range-1 units) warm-starts the first Newton phase;
    ``lp_first`` runs the support LP before any Newton iteration (for games
    known to have zeros, e.g. those the batched path could not certify).
    numpy's and scipy's BLAS run on one thread meanwhile (:func:`exact.single_thread`).
    """
    from .exact import single_thread

    # a diverging direct attempt (huge mu) may overflow; the certificate judges the answer
    with single_thread(), np.errstate(over="ignore", invalid="ignore"):
        result = _solve_exact(payoffs, concept, opts, alpha0, lp_first)
        if not result.converged and np.ptp(opts.welfare_term) > CONTINUATION_SPAN:
            result = _continuation(payoffs, concept, opts, result)
        return result


#: Largest logit span ``mu (max W - min W)`` solved directly before continuation.
CONTINUATION_SPAN = 16.0


def _continuation(payoffs: np.ndarray, concept: str, opts: Options,
                  direct: ExactResult) -> ExactResult:
    """Large ``mu``: follow the answers of ``t mu`` for ``t`` = ..., 1/4, 1/2, 1.

    With a welfare term spanning hundreds of nats the joint is nearly pure at
    the start and projected Newton from zero duals stalls. The answer moves
    continuously with ``mu`` (a strictly concave objective), and the duals scale
    about linearly with it, so each solve is warm-started from the previous
    one's duals times the ratio of the ``mu``; the last solve is the problem as
    asked. The direct attempt is kept if continuation does no better.
    """
    span = float(np.ptp(opts.welfare_term))
    stages = int(math.ceil(math.log2(span / CONTINUATION_SPAN * 2.0)))
    alpha, iterations, result = None, direct.iterations, direct
    for k in range(stages, -1, -1):
        t = 2.0 ** -k
        opts_t = replace(opts, welfare_term=opts.welfare_term * t)
        result = _solve_exact(payoffs, concept, opts_t,
                              None if alpha is None else alpha * 2.0, False)
        iterations += result.iterations
        alpha = result.duals
    result = replace(result, iterations=iterations)
    return result if result.converged or result.residual < direct.residual else direct


def _solve_exact(payoffs: np.ndarray, concept: str, opts: Options,
                 alpha0: np.ndarray | None, lp_first: bool) -> ExactResult:
    from .exact import DualProblem, newton, support_lp

    # offsets removed first: dividing 1e15 + x by the range would round away x
    g = deviations.remove_offsets(np.asarray(payoffs, dtype=float)) / opts.scale
    problem = DualProblem(g, concept, opts.log_prior + opts.welfare_term, epsilon=opts.epsilon,
                          target=opts.target, eps_plus=opts.eps_plus, rho=opts.rho)
    used_lp = False
    if opts.target is not None:
        res = newton(problem, tol=opts.tol, max_iter=opts.max_iter, alpha0=alpha0)
        total = res.iterations
    elif lp_first:
        support = support_lp(problem)
        used_lp = True
        if not support.all():
            problem = problem.restrict(support)
        res = newton(problem, tol=opts.tol, max_iter=opts.max_iter)
        total = res.iterations
    else:
        res = newton(problem, tol=opts.tol, max_iter=opts.max_iter, give_up=_collapsing,
                     alpha0=alpha0)
        total = res.iterations
        # Zeros in the answer (or no convergence): find the support exactly.
        if not res.converged or res.state["sigma"].min() < 1e-9:
            support = support_lp(problem)
            used_lp = True
            if not support.all():
                problem = problem.restrict(support)
                res = newton(problem, tol=opts.tol, max_iter=opts.max_iter)
            elif not res.converged:
                res = newton(problem, tol=opts.tol, max_iter=opts.max_iter, alpha0=res.alpha)
            total += res.iterations
    state = res.state
    grad = state["grad"]
    dual_gap = float(res.alpha @ grad)
    joint = state["sigma"]
    joint = np.where(problem.support, joint, 0.0)
    joint = joint / joint.sum()
    return ExactResult(joint=joint, duals=res.alpha, eps_required=np.asarray(state["eps"]),
                       residual=res.residual, dual_gap=dual_gap, iterations=total,
                       support_lp=used_lp, converged=res.converged)


def status_of(certified: bool, residual: float) -> str:
    """``optimal`` (certified (C)CE, KKT residual within tolerance), ``approximate``
    (a certified (C)CE whose relative entropy is not certified minimal) or
    ``failed`` (not a (C)CE within tolerance: never returned as an answer)."""
    if not certified:
        return "failed"
    return "optimal" if residual <= KKT_TOLERANCE else "approximate"


def _solution(game: NormalFormGame, concept: str, opts: Options, result: ExactResult,
              wall: float, *, source: str = "newton") -> Solution:
    if not np.all(np.isfinite(result.joint)):
        raise SpielplatzError("maxent: the solver produced a non-finite joint; please report "
                              "this game")
    eps_req = result.eps_required * opts.scale
    cert = certify(game.payoffs, result.joint, concept, epsilon=eps_req,
                   tolerance=GAP_TOLERANCE)
    status = status_of(cert.certified, result.residual)
    joint = result.joint
    kl = float(measures.xlogx(joint).sum()
               - (joint * np.where(joint > 0, opts.log_prior, 0.0)).sum())
    objective = -kl + float((opts.welfare_term * joint).sum()) + opts.welfare_offset
    if opts.target is not None:
        d = opts.eps_plus - result.eps_required
        objective -= float((opts.rho * d * (np.log(d / (opts.eps_plus - opts.target)) - 1)).sum())
    extra = {
        "residuals": {"kkt": float(result.residual), "dual_gap": abs(float(result.dual_gap))},
        "epsilon_required": eps_req,
        "relative_entropy": kl, "support_size": int((joint > 0).sum()),
        "support_lp": result.support_lp, "payoff_scale": opts.scale, "path": source,
        "duals": unflatten_duals(result.duals / opts.scale, game.shape, concept),
    }
    return Solution.from_joint(game, joint, concept, solver="maxent", config=opts.config,
                               status=status, iterations=result.iterations, wall_time=wall,
                               objective=objective, extra=extra)
