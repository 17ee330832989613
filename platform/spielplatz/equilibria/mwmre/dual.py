"""The MWMRE dual: maximum-welfare minimum-relative-entropy (C)CE through its dual.

Pure functions over numpy or jax arrays (also under ``jax.jit``/``jax.vmap``),
shared by the exact and the neural MWMRE solvers.

Notation (NES appendix, Section A): payoffs ``G[p, a_1, ..., a_N]``, a
full-support target joint ``sigma_hat`` (the *prior*; uniform gives maximum
entropy), a welfare ``W(a)`` weighted by ``mu``, and dual variables ``alpha``
given as a list of per-player arrays, ``alpha_p >= 0``:

* CE (Theorem 1): ``alpha_p[a', a'']`` for recommendation ``a'`` and deviation
  ``a''`` (shape ``[A_p, A_p]``). The diagonal is ignored everywhere (the
  paper's zero-diagonal parameterisation, Section C.3): its constraint
  ``0 <= eps_p`` is not part of the problem.
* CCE (Theorem 2): ``alpha_p[a']`` (shape ``[A_p]``).

``A_p(.., a)`` is the deviation gain of a constraint at joint action ``a``
(:mod:`spielplatz.equilibria.deviations`); ``sum_a sigma(a) A_p(.., a)`` is the gain
under ``sigma``.

Two problems share the logits ``l(a) = mu W(a) - sum_p <alpha_p, A_p(.., a)>``
(Theorems 1 and 2; the ``sum_a`` in front of ``W(a)`` there is a typo) and the
primal recovery ``sigma = softmax(ln sigma_hat + l)``:

1. **Target epsilon** (Theorems 1/2, :func:`loss`): the primal is
   ``max_{sigma, eps} -KL(sigma || sigma_hat) + mu <W, sigma>
   - rho sum_p (eps+_p - eps_p) ln((eps+_p - eps_p) / (e (eps+_p - eps_hat_p)))``
   subject to ``gains_p(sigma) <= eps_p``; its dual loss is

   ``L(alpha) = ln sum_a sigma_hat(a) exp(l(a)) + sum_p eps+_p sum alpha_p
   - rho sum_p eps_p(alpha)``,

   ``eps_p(alpha) = (eps_hat_p - eps+_p) exp(-sum alpha_p / rho) + eps+_p``.
   It is feasible for every target ``eps_hat_p < eps+_p`` (for ``eps+_p > 0``
   a full-support point satisfies every constraint strictly), so an
   unreachable target gives the nearest answer the penalty allows.

2. **Fixed epsilon** (:func:`maxent_loss`): the plain exact MaxEnt /
   minimum-relative-entropy (C)CE, ``max -KL(sigma || sigma_hat) + mu <W, sigma>``
   subject to ``gains_p(sigma) <= eps_p`` (``eps = 0``: an exact (C)CE). Its
   dual is the first line of the proof of Theorem 1 with ``eps_p`` held fixed:

   ``L(alpha) = ln sum_a sigma_hat(a) exp(l(a)) + sum_p eps_p sum alpha_p``.

   Relation: the target loss is the fixed loss with ``eps_p`` replaced by the
   minimiser ``eps_p(alpha)`` of the rho penalty. For ``eps+_p -> eps_hat_p``,
   or ``rho -> inf`` at fixed ``alpha``, ``eps_p(alpha) -> eps_hat_p`` and the
   target loss tends to the fixed loss at ``eps = eps_hat`` (plus the constant
   ``rho sum_p (eps+_p - eps_hat_p) - rho sum_p eps+_p``). The fixed problem
   is infeasible (its dual unbounded below) when no joint reaches ``eps``, and
   its dual has no finite minimiser when the answer has zeros (e.g. the
   prisoner's dilemma, whose only CE is pure); the exact solver handles both.

Both duals are convex; their gradient is :func:`dual_gradient`,
``eps_p(alpha) - gains_p(sigma(alpha))`` (constraint slack), and their Hessian
is the covariance of the constraint features under ``sigma`` plus, for the
target loss, ``(eps+_p - eps_hat_p) / rho exp(-sum alpha_p / rho)`` on each
player's block of ones (:func:`dual_hvp`). At a minimiser over
``alpha >= 0`` the duality gap equals ``sum_k alpha_k grad_k``
(complementary slackness).

Entropies and losses are in nats.
"""

from __future__ import annotations

import math

from typing import Any, Sequence

import numpy as np

from spielplatz.equilibria import deviations
from spielplatz.equilibria.deviations import check_concept, array_module

__all__ = [
    "dual_shapes", "dual_masks", "zero_duals", "flatten_duals", "unflatten_duals",
    "dual_sums", "base_logits", "logits", "log_partition", "joint",
    "epsilon_terms", "target_epsilons", "loss", "maxent_loss", "dual_gradient", "dual_hvp",
    "primal_objective",
]


def dual_shapes(shape: Sequence[int], concept: str = "ce") -> list[tuple[int, ...]]:
    """Shapes of the per-player duals: ``[A_p, A_p]`` (CE) or ``[A_p]`` (CCE)."""
    concept = check_concept(concept)
    return [(int(a), int(a)) if concept == "ce" else (int(a),) for a in shape]


def dual_masks(shape: Sequence[int], concept: str = "ce", xp: Any = np) -> list:
    """1 where a dual is a real constraint, 0 on the CE diagonal (Section C.3)."""
    if check_concept(concept) == "ce":
        return [1.0 - xp.eye(int(a)) for a in shape]
    return [xp.ones(int(a)) for a in shape]


def zero_duals(shape: Sequence[int], concept: str = "ce", xp: Any = np,
               dtype: Any = None) -> list:
    """All-zero duals (the starting point: ``sigma = sigma_hat`` tilted by ``mu W``)."""
    return [xp.zeros(s, dtype=dtype or xp.float64) for s in dual_shapes(shape, concept)]


def flatten_duals(duals: Sequence[Any]) -> Any:
    """Concatenate per-player duals into one vector (player by player, C order)."""
    xp = array_module(*duals)
    return xp.concatenate([xp.reshape(d, (-1,)) for d in duals])


def unflatten_duals(vector: Any, shape: Sequence[int], concept: str = "ce") -> list:
    """Inverse of :func:`flatten_duals` for a game of action counts ``shape``.

    Leading axes of ``vector`` are kept: ``[B, K]`` gives per-player ``[B, A_p(, A_p)]``.
    """
    lead = tuple(vector.shape[:-1])
    out, start = [], 0
    for s in dual_shapes(shape, concept):
        size = math.prod(s)
        out.append(vector[..., start:start + size].reshape(lead + tuple(s)))
        start += size
    return out


def dual_sums(duals: Sequence[Any], concept: str = "ce") -> Any:
    """``sum alpha_p`` per player, ``[N]`` (the CE diagonal excluded)."""
    xp = array_module(*duals)
    if check_concept(concept) == "ce":
        return xp.stack([d.sum() - xp.trace(d) for d in duals])
    return xp.stack([d.sum() for d in duals])


def _mask(duals: Sequence[Any], concept: str) -> list:
    if concept != "ce":
        return list(duals)
    xp = array_module(*duals)
    return [d * (1.0 - xp.eye(d.shape[0], dtype=d.dtype)) for d in duals]


def base_logits(payoffs: Any, *, log_prior: Any = None, welfare: Any = None,
                mu: Any = 0.0) -> Any:
    """``ln sigma_hat(a) + mu W(a)``, the part of the logits that has no dual.

    Parameters
    ----------
    payoffs : array ``[N, A_1, ..., A_N]``
    log_prior : array ``[A_1, ..., A_N]``, optional
        ``ln sigma_hat``; uniform (maximum entropy) when omitted. Need not be
        normalised (constants cancel in the softmax).
    welfare : array ``[A_1, ..., A_N]``, optional
        ``W(a)``; the sum of the payoffs when omitted.
    mu : float
        Weight of the welfare term (Theorem 1's ``mu``).
    """
    xp = array_module(payoffs, *(x for x in (log_prior, welfare, mu) if x is not None))
    shape = payoffs.shape[1:]
    size = int(np.prod(shape))
    out = (xp.full(shape, -np.log(size), dtype=payoffs.dtype) if log_prior is None
           else log_prior + xp.zeros(shape, dtype=payoffs.dtype))
    if isinstance(mu, (int, float)) and mu == 0:
        return out
    w = payoffs.sum(axis=0) if welfare is None else welfare
    return out + mu * w


def logits(payoffs: Any, duals: Sequence[Any], concept: str = "ce", *,
           welfare: Any = None, mu: Any = 0.0) -> Any:
    """``l(a) = mu W(a) - sum_p <alpha_p, A_p(.., a)>`` (Theorems 1 and 2), ``[A_1..A_N]``."""
    concept = check_concept(concept)
    adjoint = (deviations.ce_gains_adjoint if concept == "ce"
               else deviations.cce_gains_adjoint)(payoffs, list(duals))
    if isinstance(mu, (int, float)) and mu == 0:
        return -adjoint
    w = payoffs.sum(axis=0) if welfare is None else welfare
    return mu * w - adjoint


def _logsumexp(x: Any) -> Any:
    xp = array_module(x)
    m = x.max()
    m = xp.where(xp.isfinite(m), m, 0.0)
    return m + xp.log(xp.exp(x - m).sum())


def log_partition(payoffs: Any, duals: Sequence[Any], concept: str = "ce", *,
                  log_prior: Any = None, welfare: Any = None, mu: Any = 0.0) -> Any:
    """``ln sum_a sigma_hat(a) exp(l(a))``, the first term of every dual loss."""
    b = base_logits(payoffs, log_prior=log_prior)
    return _logsumexp(b + logits(payoffs, duals, concept, welfare=welfare, mu=mu))


def joint(payoffs: Any, duals: Sequence[Any], concept: str = "ce", *,
          log_prior: Any = None, welfare: Any = None, mu: Any = 0.0) -> Any:
    """Primal recovery ``sigma = softmax(ln sigma_hat + l)`` (Theorems 1 and 2)."""
    xp = array_module(payoffs, *duals)
    z = base_logits(payoffs, log_prior=log_prior) + logits(
        payoffs, duals, concept, welfare=welfare, mu=mu)
    z = z - z.max()
    e = xp.exp(z)
    return e / e.sum()


def epsilon_terms(sums: Any, *, epsilon: Any = None, target_epsilon: Any = None,
                  eps_plus: Any = None, rho: Any = None) -> tuple:
    """The epsilon part of every MWMRE dual, from the per-player dual sums ``s_p``.

    The one place its formulas are written; the dual below, the exact solver's
    :class:`~spielplatz.equilibria.mwmre.problem.DualProblem` and the batched JAX
    kernel all call it. Returns ``(eps, value, curvature)``, each per player ``[N]``:

    * fixed ``epsilon``: ``eps_p``, the term ``eps_p s_p``, no curvature;
    * target (Theorems 1/2): ``eps_p(alpha) = (eps_hat_p - eps+_p) exp(-s_p / rho) +
      eps+_p`` (the minimiser of the rho penalty, moving from ``eps_hat_p`` at
      ``alpha_p = 0`` towards ``eps+_p``), the term ``eps+_p s_p + rho (eps+_p -
      eps_hat_p) expm1(-s_p / rho)``, and its second derivative ``(eps+_p - eps_hat_p)
      / rho exp(-s_p / rho)`` on player ``p``'s block. The term is the proof's form less
      the constant ``rho (eps+_p - eps_hat_p)`` (the theorems' form less ``rho eps_hat_p``):
      about ``rho`` in size, the proof's form loses its changes in float32 at rho 1e6.

    The gradient of the dual in ``alpha_{p, k}`` is ``eps_p - gain_{p, k}(sigma)`` and
    its Hessian the covariance of the gains plus ``curvature_p`` on each block of ones.
    """
    xp = array_module(sums)
    if target_epsilon is None:
        eps = xp.zeros_like(sums) + (0.0 if epsilon is None else epsilon)
        return eps, eps * sums, xp.zeros_like(sums)
    change = xp.expm1(-sums / rho)                 # exp(-s / rho) - 1
    decay = 1.0 + change
    gap = eps_plus - target_epsilon
    return eps_plus - gap * decay, eps_plus * sums + rho * gap * change, gap / rho * decay


def target_epsilons(duals: Sequence[Any], concept: str, target_epsilon: Any,
                    eps_plus: Any, rho: Any) -> Any:
    """``eps_p(alpha) = (eps_hat_p - eps+_p) exp(-sum alpha_p / rho) + eps+_p``, ``[N]``
    (:func:`epsilon_terms`)."""
    return epsilon_terms(dual_sums(duals, concept), target_epsilon=target_epsilon,
                         eps_plus=eps_plus, rho=rho)[0]


def loss(payoffs: Any, duals: Sequence[Any], concept: str = "ce", *, target_epsilon: Any,
         eps_plus: Any, rho: Any, log_prior: Any = None, welfare: Any = None,
         mu: Any = 0.0) -> Any:
    """The target-epsilon MWMRE dual loss of Theorems 1 (CE) and 2 (CCE).

    ``L = ln sum_a sigma_hat(a) exp(l(a)) + sum_p eps+_p sum alpha_p
    - rho sum_p eps_p(alpha)``, exactly as stated in the theorems. (The last
    line of the proof of Theorem 1 is this plus the constant
    ``rho sum_p eps+_p``; at the minimiser that version equals the primal
    optimum, see :func:`primal_objective`.)

    Parameters
    ----------
    payoffs : array ``[N, A_1, ..., A_N]``
    duals : list of arrays
        ``alpha_p >= 0`` (see :func:`dual_shapes`).
    concept : {"ce", "cce"}
    target_epsilon, eps_plus : float or array ``[N]``
        ``eps_hat_p < eps+_p``.
    rho : float
        ``0 < rho < inf``.
    log_prior, welfare, mu
        See :func:`base_logits`.
    """
    concept = check_concept(concept)
    duals = _mask(duals, concept)
    s = dual_sums(duals, concept)
    _, term, _ = epsilon_terms(s, target_epsilon=target_epsilon, eps_plus=eps_plus, rho=rho)
    lz = log_partition(payoffs, duals, concept, log_prior=log_prior, welfare=welfare, mu=mu)
    # term - rho eps_hat = eps+ s - rho eps(alpha), without the large constants (see there)
    return lz + (term - rho * target_epsilon).sum()


def maxent_loss(payoffs: Any, duals: Sequence[Any], concept: str = "ce", *,
                epsilon: Any = 0.0, log_prior: Any = None, welfare: Any = None,
                mu: Any = 0.0) -> Any:
    """The fixed-epsilon dual: ``ln sum_a sigma_hat(a) exp(l(a)) + sum_p eps_p sum alpha_p``.

    The Lagrangian dual of the plain exact MaxEnt / minimum-relative-entropy
    (C)CE (proof of Theorem 1 before eliminating ``eps_p``); ``epsilon`` is a
    scalar or per-player ``[N]``. At its minimiser it equals the primal
    optimum ``-KL(sigma || sigma_hat) + mu <W, sigma>``.
    """
    concept = check_concept(concept)
    duals = _mask(duals, concept)
    _, term, _ = epsilon_terms(dual_sums(duals, concept), epsilon=epsilon)
    lz = log_partition(payoffs, duals, concept, log_prior=log_prior, welfare=welfare, mu=mu)
    return lz + term.sum()


def _gains(payoffs: Any, sigma: Any, concept: str) -> list:
    return (deviations.ce_gains if concept == "ce" else deviations.cce_gains)(payoffs, sigma)


def dual_gradient(payoffs: Any, duals: Sequence[Any], concept: str = "ce", *,
                  epsilon: Any = None, target_epsilon: Any = None, eps_plus: Any = None,
                  rho: Any = None, log_prior: Any = None, welfare: Any = None,
                  mu: Any = 0.0) -> list:
    """Gradient of :func:`maxent_loss` (``epsilon`` given) or :func:`loss` (target given).

    ``dL / d alpha_p = eps_p - gains_p(sigma(alpha))``: the slack of each
    constraint at the recovered joint, with ``eps_p`` fixed or
    ``eps_p(alpha)`` (:func:`target_epsilons`). The CE diagonal is zero.
    """
    concept = check_concept(concept)
    duals = _mask(duals, concept)
    sigma = joint(payoffs, duals, concept, log_prior=log_prior, welfare=welfare, mu=mu)
    eps, _, _ = epsilon_terms(dual_sums(duals, concept), epsilon=epsilon,
                              target_epsilon=target_epsilon, eps_plus=eps_plus, rho=rho)
    out = [eps[p] - g for p, g in enumerate(_gains(payoffs, sigma, concept))]
    return _mask(out, concept)


def dual_hvp(payoffs: Any, duals: Sequence[Any], vector: Sequence[Any], concept: str = "ce", *,
             target_epsilon: Any = None, eps_plus: Any = None, rho: Any = None,
             log_prior: Any = None, welfare: Any = None, mu: Any = 0.0) -> list:
    """Hessian-vector product of the dual losses.

    ``H v = A(sigma * u) - A(sigma) <sigma, u>`` with ``u = A^T v`` (the
    covariance of the constraint features under ``sigma``), plus, for the
    target loss, ``(eps+_p - eps_hat_p) / rho exp(-sum alpha_p / rho) sum v_p``
    on every entry of player ``p``.
    """
    concept = check_concept(concept)
    duals, vector = _mask(duals, concept), _mask(vector, concept)
    sigma = joint(payoffs, duals, concept, log_prior=log_prior, welfare=welfare, mu=mu)
    adjoint = (deviations.ce_gains_adjoint if concept == "ce"
               else deviations.cce_gains_adjoint)(payoffs, vector)
    mean = (sigma * adjoint).sum()
    hv = _gains(payoffs, sigma * (adjoint - mean), concept)
    if target_epsilon is not None:
        _, _, c = epsilon_terms(dual_sums(duals, concept), target_epsilon=target_epsilon,
                                eps_plus=eps_plus, rho=rho)
        c = c + array_module(c).zeros(len(duals))
        vs = dual_sums(vector, concept)
        hv = [h + c[p] * vs[p] for p, h in enumerate(hv)]
    return _mask(hv, concept)


def primal_objective(payoffs: Any, sigma: Any, *, epsilons: Any = None, target_epsilon: Any = None,
                     eps_plus: Any = None, rho: Any = None, log_prior: Any = None,
                     welfare: Any = None, mu: Any = 0.0) -> Any:
    """The primal objective (to maximise) at ``sigma`` (and ``epsilons`` for the target form).

    ``-KL(sigma || sigma_hat) + mu <W, sigma>``, minus the rho penalty of
    Theorem 1 ``rho sum_p (eps+_p - eps_p) ln((eps+_p - eps_p) / (e (eps+_p - eps_hat_p)))``
    when a target is given.
    """
    from spielplatz.equilibria.measures import xlogx

    xp = array_module(payoffs, sigma)
    lp = base_logits(payoffs, log_prior=log_prior)
    if log_prior is not None:  # normalise the prior
        lp = lp - _logsumexp(lp)
    value = -(xlogx(sigma).sum() - (sigma * xp.where(sigma > 0, lp, 0.0)).sum())
    if not (isinstance(mu, (int, float)) and mu == 0):
        w = payoffs.sum(axis=0) if welfare is None else welfare
        value = value + mu * (w * sigma).sum()
    if target_epsilon is not None:
        d = eps_plus - epsilons
        value = value - (rho * d * (xp.log(d / (eps_plus - target_epsilon)) - 1.0)).sum()
    return value
