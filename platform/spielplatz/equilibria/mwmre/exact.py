"""The exact single-game MWMRE solve: projected Newton from zero (or warm-started)
duals, the support LP when the answer has zeros, continuation in ``mu`` for large
welfare terms; numpy's BLAS on one thread meanwhile (games too small for OpenBLAS to
thread excepted)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from spielplatz.equilibria import deviations
from spielplatz.equilibria.mwmre.config import KKT_TOLERANCE, Options
from spielplatz.equilibria.mwmre.dominance import newton_eliminating
from spielplatz.equilibria.mwmre import interior
from spielplatz.equilibria.mwmre.newton import min_mass as _min_mass, newton, support_lp
from spielplatz.equilibria.mwmre.problem import DualProblem, blas_entries, single_thread

__all__ = ["solve", "Result", "result_of", "solve_exact", "ExactResult", "status_of",
           "CONTINUATION_SPAN"]


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
    # "none", "interior" (tiny masses proven positive), "dominance" (zeros certified by
    # the duals) or "lp"
    support_route: str = "none"


def _collapsing(iteration: int, state: dict) -> bool:
    """Heuristic: the dual is running off to infinity (the answer has zeros)."""
    return (iteration >= 8 and _min_mass(state) < 1e-9) or iteration >= 40


def solve_exact(payoffs: np.ndarray, concept: str, opts: Options,
                alpha0: np.ndarray | None = None, lp_first: bool = False,
                support: np.ndarray | None = None,
                lp_support: np.ndarray | None = None) -> ExactResult:
    """The single-game exact path: projected Newton, then the support LP if needed.

    ``alpha0`` (flat duals in range-1 units) warm-starts the first Newton phase; a
    warm start that does not converge is followed by a solve from zero (iterations
    of both counted). ``lp_first`` runs the support LP before any Newton iteration
    (for games known to have zeros, e.g. those the batched path could not certify);
    ``support`` (bool ``[A...]``, with ``lp_first``) leaves out of it the joint actions
    already proven zero (e.g. by the batch's dominance certificates), and
    ``lp_support`` is that LP's answer where the caller has already run it.
    numpy's and scipy's BLAS run on one thread meanwhile (:func:`problem.single_thread`;
    small games excepted, whose products OpenBLAS does not thread).
    """
    # a diverging direct attempt (huge mu) may overflow; the certificate judges the answer
    with (single_thread(blas_entries(payoffs.shape[1:], concept)),
          np.errstate(over="ignore", invalid="ignore")):
        result = _solve_exact(payoffs, concept, opts, alpha0, lp_first, support, lp_support)
        if not result.converged and alpha0 is not None:
            cold = _solve_exact(payoffs, concept, opts, None, lp_first, support, lp_support)
            result = replace(cold, iterations=cold.iterations + result.iterations)
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
                 alpha0: np.ndarray | None, lp_first: bool,
                 support: np.ndarray | None = None,
                 lp_support: np.ndarray | None = None) -> ExactResult:
    # offsets removed first: dividing 1e15 + x by the range would round away x
    g = deviations.remove_offsets(np.asarray(payoffs, dtype=float)) / opts.scale
    problem = DualProblem(g, concept, opts.log_prior + opts.welfare_term, epsilon=opts.epsilon,
                          target=opts.target, eps_plus=opts.eps_plus, rho=opts.rho)
    used_lp, route = False, "none"
    if opts.target is not None:
        res = newton(problem, tol=opts.tol, max_iter=opts.max_iter, alpha0=alpha0)
        total = res.iterations
    elif lp_first:
        if support is not None and not support.all():
            problem = problem.restrict(support)
        found = support_lp(problem) if lp_support is None else lp_support
        used_lp, route = True, "lp"
        if (found != problem.support).any():
            problem = problem.restrict(found)
        # a warm start from duals that ran off along the zeros' direction: that
        # direction changes no logit on the support, so the rest is a near answer
        res = newton(problem, tol=opts.tol, max_iter=opts.max_iter, alpha0=alpha0)
        total = res.iterations
    else:
        eliminate = (concept == "ce" and opts.epsilon is not None
                     and not np.any(opts.epsilon))
        res, problem, total, route = newton_eliminating(problem, opts, alpha0, eliminate)
        # Zeros in the answer (or no convergence): find the support exactly, by a joint
        # that plays all of it (exact (C)CE) or else by the LP.
        if not res.converged or _min_mass(res.state, problem) < 1e-9:
            if interior.full_support(problem, res.alpha, payoffs):    # (exact (C)CE only)
                support = problem.support
                route = "interior" if route == "none" else route
            else:
                support = support_lp(problem)
                used_lp, route = True, "lp"
            if (support != problem.support).any():
                problem = problem.restrict(support)
                warm = newton(problem, tol=opts.tol, max_iter=opts.max_iter, alpha0=res.alpha)
                res = warm if warm.converged else newton(problem, tol=opts.tol,
                                                         max_iter=opts.max_iter)
                total += res.iterations if res is warm else warm.iterations + res.iterations
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
                       support_lp=used_lp, converged=res.converged, support_route=route)


def status_of(certified: bool, residual: float) -> str:
    """``optimal`` (certified (C)CE, KKT residual within tolerance), ``approximate``
    (a certified (C)CE whose relative entropy is not certified minimal) or
    ``failed`` (not a (C)CE within tolerance: never returned as an answer)."""
    if not certified:
        return "failed"
    return "optimal" if residual <= KKT_TOLERANCE else "approximate"


@dataclass(frozen=True)
class Result:
    """The exact MWMRE answer of one game (payoff units).

    Attributes
    ----------
    joint : ndarray ``[A...]``
        Exact zeros where the answer has them (found by the support LP).
    status : str
        ``optimal`` (a certified (C)CE whose KKT residual is within
        :data:`~spielplatz.equilibria.mwmre.config.KKT_TOLERANCE`), ``approximate``
        (a certified (C)CE, relative entropy not certified minimal) or ``failed``.
    certificate : spielplatz.equilibria.certificate.Certificate
        The host's rigorous check of the joint against ``epsilon_required``.
    duals : list of ndarray
        Per player ``[A_p, A_p]`` (CE) or ``[A_p]`` (CCE): the dual minimiser, the
        layout every warm start takes (on the support when the answer has zeros).
    epsilon_required : ndarray ``[N]``
        The epsilon the answer was solved for (``eps_p(alpha)`` in target mode).
    residuals : dict
        ``kkt``: projected dual gradient (range-1 units); ``dual_gap``: nats.
    objective : float
        ``-KL(joint || prior) + mu W(joint)`` (nats), less the target penalty.
    relative_entropy : float
        ``KL(joint || prior)`` in nats.
    iterations : int
    support_lp : bool
        Whether the LP that finds the support ran.
    payoff_scale : float
        The payoff range the game was divided by.
    config : dict
        The validated options.
    support_route : str
        How the zeros of the answer were found: ``"none"`` (no zeros),
        ``"interior"`` (no zeros: masses below 1e-9 proven positive by a (C)CE that
        plays every joint action, :mod:`~spielplatz.equilibria.mwmre.interior`, no LP),
        ``"dominance"`` (recommendations the duals prove unplayable, no LP) or
        ``"lp"`` (the support LP).
    """

    joint: np.ndarray
    status: str
    certificate: Any
    duals: list
    epsilon_required: np.ndarray
    residuals: dict
    objective: float
    relative_entropy: float
    iterations: int
    support_lp: bool
    payoff_scale: float
    config: dict
    support_route: str = "none"


def solve(payoffs: Any, concept: str = "ce", *, prior: Any = None, mu: Any = 0.0,
          welfare: Any = None, epsilon: Any = 0.0, target_epsilon: Any = None, rho: Any = None,
          eps_plus: Any = None, tol: Any = 1e-10, max_iter: Any = 200,
          initial_duals: Any = None) -> Result:
    """The exact MWMRE (C)CE of one game ``payoffs`` ``[N, A...]`` (NES appendix, Section A).

    Maximises ``-KL(sigma || prior) + mu <W, sigma>`` over the epsilon-(C)CE polytope
    (``epsilon`` fixed, 0 by default), or the target formulation of Theorems 1/2
    (``target_epsilon``, ``rho``, ``eps_plus``). ``welfare`` is ``W`` (an array
    ``[A...]`` or a registered welfare function's name; the payoff sum by default).
    ``initial_duals`` (per player, payoff units: :attr:`Result.duals`' layout)
    warm-starts the first Newton phase: it changes how fast, not what, is found.
    Options are validated (:func:`~spielplatz.equilibria.mwmre.config.prepare`).
    """
    from spielplatz.equilibria.mwmre.config import prepare, warm_start_duals

    concept = deviations.check_concept(concept)
    payoffs = np.asarray(payoffs, dtype=float)
    opts = prepare(payoffs, prior=prior, mu=mu, welfare=welfare, epsilon=epsilon,
                   target_epsilon=target_epsilon, rho=rho, eps_plus=eps_plus, tol=tol,
                   max_iter=max_iter)
    alpha0 = None
    if initial_duals is not None:
        alpha0 = warm_start_duals(initial_duals, payoffs.shape[1:], concept,
                                  np.array([opts.scale]))[0]
    return result_of(payoffs, concept, opts, solve_exact(payoffs, concept, opts, alpha0=alpha0))


def nearest_equilibrium(payoffs: np.ndarray, joint: np.ndarray, concept: str,
                        epsilon: np.ndarray) -> np.ndarray | None:
    """The epsilon-(C)CE closest to ``joint`` in L1 (one LP on the game scaled to payoff
    range 1), or ``None`` when the LP fails."""
    from scipy.optimize import linprog
    from scipy.sparse import bmat, csr_matrix, identity

    from spielplatz.equilibria import constraints, deviations

    scale = float(deviations.payoff_scale(payoffs)) or 1.0
    gains = csr_matrix(constraints.constraint_matrix(
        deviations.remove_offsets(payoffs) / scale, concept))
    rows = constraints.constraint_players(payoffs.shape[1:], concept)
    n = joint.size
    eye = identity(n, format="csr")
    # variables (sigma, u): minimise sum u, u >= |sigma - joint|, gains sigma <= eps
    # (a margin of 1e-9 first: HiGHS's own feasibility tolerance must not eat the
    # certificate's; without it where the polytope has no interior)
    a_ub = bmat([[gains, None], [eye, -eye], [-eye, -eye]], format="csr")
    a_eq = csr_matrix(np.concatenate([np.ones(n), np.zeros(n)])[None])
    for margin in (1e-9, 0.0):
        b_ub = np.concatenate([np.asarray(epsilon, float)[rows] / scale - margin,
                               joint.ravel(), -joint.ravel()])
        res = linprog(np.concatenate([np.zeros(n), np.ones(n)]), A_ub=a_ub, b_ub=b_ub,
                      A_eq=a_eq, b_eq=[1.0], bounds=[(0, None)] * (2 * n), method="highs",
                      options={"primal_feasibility_tolerance": 1e-10,
                               "dual_feasibility_tolerance": 1e-10})
        if res.status == 0:
            break
    if res.status != 0:
        return None
    sigma = np.clip(res.x[:n], 0.0, None)
    return (sigma / sigma.sum()).reshape(joint.shape)


def result_of(payoffs: np.ndarray, concept: str, opts: Options, found: ExactResult) -> Result:
    """Certify ``found`` on the original payoffs and express it in payoff units."""
    from spielplatz.equilibria import measures
    from spielplatz.equilibria.certificate import GAP_TOLERANCE, certify
    from spielplatz.equilibria.mwmre.dual import unflatten_duals
    from spielplatz.errors import SpielplatzError

    if not np.isfinite(found.joint).all():
        raise SpielplatzError("the MWMRE solve produced a non-finite joint; please report "
                              "this game")
    eps_req = found.eps_required * opts.scale
    cert = certify(payoffs, found.joint, concept, epsilon=eps_req, tolerance=GAP_TOLERANCE)
    joint, projected = found.joint, False
    if not cert.certified:
        # Newton stopped short (e.g. a near-tie whose dual runs off): the nearest (C)CE in
        # L1, an approximate answer that is certified, instead of no answer at all
        nearest = nearest_equilibrium(payoffs, joint, concept, eps_req)
        if nearest is not None:
            near_cert = certify(payoffs, nearest, concept, epsilon=eps_req,
                                tolerance=GAP_TOLERANCE)
            if near_cert.certified:
                joint, cert, projected = nearest, near_cert, True
    kl = float(measures.xlogx(joint).sum()
               - (joint * np.where(joint > 0, opts.log_prior, 0.0)).sum())
    objective = -kl + float((opts.welfare_term * joint).sum()) + opts.welfare_offset
    if opts.target is not None:
        d = opts.eps_plus - found.eps_required
        objective -= float((opts.rho * d * (np.log(d / (opts.eps_plus - opts.target)) - 1)).sum())
    status = "approximate" if projected else status_of(cert.certified, found.residual)
    return Result(joint=joint, status=status,
                  certificate=cert,
                  duals=unflatten_duals(found.duals / opts.scale, payoffs.shape[1:], concept),
                  epsilon_required=eps_req,
                  residuals={"kkt": float(found.residual),
                             "dual_gap": abs(float(found.dual_gap))},
                  objective=objective, relative_entropy=kl, iterations=found.iterations,
                  support_lp=found.support_lp, payoff_scale=opts.scale, config=opts.config,
                  support_route=found.support_route)
