"""No zeros in an exact MWMRE answer, proven by a (C)CE that plays every joint action.

When Newton's joint keeps masses below 1e-9 and the duals prove no recommendation
unplayable (:mod:`~spielplatz.equilibria.mwmre.dominance`), the support LP decides
whether those masses are zeros. Most often they are not: the answer is interior with
tiny masses (73 of 105 such 8x8 CE in docs/benchmarks.md, "fourth pass"). One joint
proves it without the LP: a (C)CE of the same polytope that gives every joint action of
the support a positive mass shows that the relative interior's support is the whole
support (the support of the relative interior is the union of all supports), which is
what the LP would return.

Such a joint is found by a few Newton iterations, warm-started from the stalled duals,
on the tightened problem ``gains <= epsilon - delta``: its joints have every gain
clearly below ``epsilon`` (where the tight constraints of the problem itself sit at
``epsilon`` up to rounding). The proof is the host's rigorous certificate
(:func:`~spielplatz.equilibria.certificate.certify`, tolerance 0: every gain at most
epsilon, decided in exact arithmetic where the rounding bound cannot) on the original
payoffs, with every mass of the support a positive float. A polytope thinner than
``delta`` has no such joint; the LP decides those games.
"""

from __future__ import annotations

import numpy as np

from spielplatz.equilibria.mwmre.newton import compiled_for, newton
from spielplatz.equilibria.mwmre.problem import DualProblem

__all__ = ["full_support", "TIGHTENING", "ITERATIONS"]

#: How far below epsilon (range-1 units) the tightened problem asks every gain to be.
#: 1e-10 and 1e-8 prove the same 70 of 73 interior 8x8 CE, 1e-6 67, 1e-4 53
#: (docs/benchmarks.md, "fifth pass"); half of it is the margin the search stops at.
TIGHTENING = 1e-8
#: Newton iterations the search may take: of 151 interior 8x8 CE, 2 prove 130, 4 136,
#: 8 142, 15 147; a failed search costs about 0.03 ms per iteration, a support LP about
#: 1.6 ms (docs/benchmarks.md, "fifth pass").
ITERATIONS = 8


def full_support(problem: DualProblem, alpha: np.ndarray, payoffs: np.ndarray) -> bool:
    """Whether an exact (C)CE of ``payoffs`` that is zero outside ``problem.support``
    plays every joint action of the support, proven by one found from the duals
    ``alpha``; ``False`` if none was found (the caller runs the support LP) and for
    problems that are not exact (C)CE (``epsilon`` 0: the proof's certificate checks
    ``gains <= 0`` on ``payoffs``; a positive epsilon would need it in their units).

    Constraints that vanish on the support (duplicate strategies) are satisfied by every
    joint there and left out of the tightened problem (:meth:`DualProblem.restrict`),
    whose dual would otherwise have no minimum."""
    from spielplatz.equilibria.certificate import certify

    if problem.epsilon is None or problem.target is not None or np.any(problem.epsilon):
        return False
    tight = problem.restrict(problem.support).with_epsilon(
        np.full(problem.n, -TIGHTENING))
    strict = np.full(problem.k, -0.5 * TIGHTENING)
    with np.errstate(over="ignore", invalid="ignore"):
        if compiled_for(tight) is not None:
            res = compiled_for(tight).newton_dense(tight, tol=1e-12, max_iter=ITERATIONS,
                                                   alpha0=alpha, strict=strict)
        else:
            res = newton(tight, tol=1e-12, max_iter=ITERATIONS, alpha0=alpha,
                         give_up=lambda it, state: _below(state, tight, strict))
    sigma = res.state["sigma"]
    if not _below(res.state, tight, strict):
        return False
    joint = np.where(problem.support, sigma, 0.0)
    joint = joint / joint.sum()
    if not (joint[problem.support] > 0).all():
        return False
    return certify(payoffs, joint, problem.concept, epsilon=0.0, tolerance=0.0).certified


def _below(state: dict, problem: DualProblem, strict: np.ndarray) -> bool:
    """Every mass of the support positive and every constraint's gain below ``strict``."""
    sigma = state["sigma"]
    gains = state["gains"]
    return bool(np.all(sigma[problem.support] > 0)
                and np.all(np.isfinite(gains))
                and np.all((gains < strict) | problem.fixed))
