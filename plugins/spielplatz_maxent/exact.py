"""The exact single-game path: projected Newton on the MWMRE dual, in float64.

The dual of the MWMRE problem (NES appendix, Section A; :mod:`spielplatz.mwmre`)
is minimised over ``alpha >= 0`` by a projected Newton method (Bertsekas 1982):
variables at their bound with a positive gradient are held there, the others
take a Newton step with the exact Hessian (the covariance of the constraint
features under the recovered joint), assembled from a sparse constraint matrix
when the free set is small and applied by conjugate gradients otherwise; an
Armijo search along the projection arc makes it globally convergent.

Degenerate games: when the answer has zeros (a unique pure CE as in the
prisoner's dilemma, weakly dominated strategies, boundary solutions) the
fixed-epsilon dual has no finite minimiser. :func:`support_lp` then finds the
joint actions that some feasible joint plays (the support of the relative
interior of the (C)CE polytope) with one LP solved by HiGHS
(:func:`spielplatz.polytope.face_support`), and the dual is
minimised on that support, where its minimiser is finite (the optimum is
interior there and the constraints are linear, so KKT multipliers exist).

Everything is computed on payoffs scaled to range 1; the caller rescales.
"""

from __future__ import annotations

import math
import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from spielplatz import deviations
from spielplatz.constraints import constraint_matrix
from spielplatz.errors import SpielplatzError
from spielplatz.polytope import face_support

_BLAS: dict = {}


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """numpy's and scipy's BLAS on one thread inside the block (``threadpoolctl``).

    The exact path does many small matrix products; OpenBLAS's spinning worker
    threads slow each one down by an order of magnitude on a loaded machine with
    few cores (docs/benchmarks.md). The controller is made once (scanning the
    loaded libraries costs about 0.6 ms, more than a small solve): numpy's and
    scipy's BLAS are loaded by this module's imports before it is.
    """
    from threadpoolctl import ThreadpoolController

    controller = _BLAS.get("controller")
    if controller is None:
        controller = _BLAS["controller"] = ThreadpoolController()
    with controller.limit(limits=1, user_api="blas"):
        yield


#: Largest ``constraints x joint actions`` kept as a dense matrix (small games).
DENSE_ENTRIES = 500_000


@dataclass
class DualProblem:
    """One MWMRE dual on payoffs of range 1.

    Attributes
    ----------
    payoffs : ndarray ``[N, A...]``
    concept : str
    base : ndarray ``[A...]``
        ``ln sigma_hat + mu W`` (``-inf`` outside a support).
    epsilon : ndarray ``[N]`` or None
        Fixed epsilon (plain MaxEnt); ``None`` in target mode.
    target, eps_plus : ndarray ``[N]`` or None
        ``eps_hat`` and ``eps+`` of Theorems 1/2 (target mode).
    rho : float or None
    """

    payoffs: np.ndarray
    concept: str
    base: np.ndarray
    epsilon: np.ndarray | None = None
    target: np.ndarray | None = None
    eps_plus: np.ndarray | None = None
    rho: float | None = None
    _matrix: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.shape = self.payoffs.shape[1:]
        self.n = self.payoffs.shape[0]
        sizes = [a * a if self.concept == "ce" else a for a in self.shape]
        self.sizes = sizes
        self.owner = np.repeat(np.arange(self.n), sizes)
        self.k = int(sum(sizes))
        fixed = np.zeros(self.k, dtype=bool)
        if self.concept == "ce":
            start = 0
            for a in self.shape:
                fixed[start:start + a * a] = np.eye(a, dtype=bool).ravel()
                start += a * a
        self.fixed = fixed
        self.adjoint = (deviations.ce_gains_adjoint if self.concept == "ce"
                        else deviations.cce_gains_adjoint)
        self.gains = deviations.ce_gains if self.concept == "ce" else deviations.cce_gains
        self.support = np.isfinite(self.base)
        size = int(np.prod(self.shape))
        # Small games: one dense constraint matrix makes every product a BLAS call.
        self.dense = self.matrix.toarray() if self.k * size <= DENSE_ENTRIES else None

    @property
    def matrix(self) -> sp.csr_matrix:
        if self._matrix is None:
            self._matrix = constraint_matrix(self.payoffs, self.concept,
                                             include_diagonal=True)
        return self._matrix

    def adjoint_of(self, alpha: np.ndarray) -> np.ndarray:
        """``sum_k alpha_k A_k(a)`` as ``[A...]``."""
        if self.dense is not None:
            return (alpha @ self.dense).reshape(self.shape)
        return self.adjoint(self.payoffs, self.unflat(alpha))

    def gains_of(self, sigma: np.ndarray) -> np.ndarray:
        """``sum_a sigma(a) A_k(a)`` for every constraint ``k`` (flat)."""
        if self.dense is not None:
            return self.dense @ sigma.ravel()
        return self.flat(self.gains(self.payoffs, sigma))

    def restrict(self, support: np.ndarray) -> "DualProblem":
        """The same problem with every joint action outside ``support`` at zero."""
        base = np.where(support, self.base, -np.inf)
        out = DualProblem(self.payoffs, self.concept, base, self.epsilon, self.target,
                          self.eps_plus, self.rho, _matrix=self._matrix)
        # (the dense copy is rebuilt from the shared sparse matrix)
        # constraints that vanish on the support are trivially satisfied (eps >= 0 there)
        m = self.matrix[:, np.flatnonzero(support.ravel())]
        empty = np.diff(m.tocsr().indptr) == 0
        out.fixed = out.fixed | empty
        return out

    # -- flat <-> per player -------------------------------------------------
    def unflat(self, x: np.ndarray) -> list:
        out, start = [], 0
        for p, a in enumerate(self.shape):
            size = self.sizes[p]
            out.append(x[start:start + size].reshape((a, a) if self.concept == "ce" else (a,)))
            start += size
        return out

    def flat(self, xs: list) -> np.ndarray:
        return np.concatenate([x.ravel() for x in xs])

    def sums(self, alpha: np.ndarray) -> np.ndarray:
        return np.bincount(self.owner, weights=np.where(self.fixed, 0.0, alpha), minlength=self.n)

    # -- evaluation -------------------------------------------------------------
    def evaluate(self, alpha: np.ndarray) -> dict:
        """Loss, joint, epsilons and gradient at ``alpha``.

        The loss is the proof's form (Theorem 1, last line), whose minimum is
        the primal optimum.
        """
        z = self.base - self.adjoint_of(alpha)
        m = z.max()
        e = np.exp(z - m)
        total = e.sum()
        sigma = e / total
        lz = m + math.log(total)
        s = self.sums(alpha)
        if self.target is None:
            eps = self.epsilon
            value = lz + float(eps @ s)
        else:
            decay = np.exp(-s / self.rho)
            eps = self.eps_plus + (self.target - self.eps_plus) * decay
            value = lz + float(self.eps_plus @ s) + float(
                (self.rho * (self.eps_plus - self.target) * decay).sum())
        gains = self.gains_of(sigma)
        grad = np.where(self.fixed, 0.0, eps[self.owner] - gains)
        return {"alpha": alpha, "value": value, "sigma": sigma, "eps": eps, "gains": gains,
                "grad": grad, "sums": s, "lz": lz}

    def curvature(self, state: dict) -> np.ndarray:
        """Per-player weight of the target term's Hessian block of ones (0 if fixed)."""
        if self.target is None:
            return np.zeros(self.n)
        return (self.eps_plus - self.target) / self.rho * np.exp(-state["sums"] / self.rho)

    def hvp(self, state: dict, v: np.ndarray) -> np.ndarray:
        """Hessian-vector product (fixed entries of ``v`` ignored and returned as 0)."""
        v = np.where(self.fixed, 0.0, v)
        sigma = state["sigma"]
        u = self.adjoint_of(v)
        w = sigma * (u - (sigma * u).sum())
        hv = self.gains_of(w)
        c = self.curvature(state)
        if c.any():
            hv = hv + (c * np.bincount(self.owner, weights=v, minlength=self.n))[self.owner]
        return np.where(self.fixed, 0.0, hv)

    def hessian(self, state: dict, free: np.ndarray) -> np.ndarray:
        """Dense Hessian on the free indices (sparse assembly)."""
        sigma = state["sigma"].ravel()
        if self.dense is not None:
            a = self.dense[free]
            h = (a * sigma) @ a.T
        else:
            a = self.matrix[free]
            h = (a.multiply(sigma[None, :]).tocsr() @ a.T).toarray()
        g = state["gains"][free]
        h -= np.outer(g, g)
        c = self.curvature(state)
        if c.any():
            own = self.owner[free]
            h += c[own][:, None] * (own[:, None] == own[None, :])
        return h


def _projected_gradient(alpha: np.ndarray, grad: np.ndarray) -> np.ndarray:
    return alpha - np.maximum(alpha - grad, 0.0)


def _cg(apply, b: np.ndarray, diag: np.ndarray, tol: float, maxiter: int) -> np.ndarray:
    """Jacobi-preconditioned conjugate gradients for ``apply(x) = b``."""
    x = np.zeros_like(b)
    r = b.copy()
    inv = 1.0 / np.maximum(diag, 1e-300)
    z = inv * r
    p = z.copy()
    rz = r @ z
    bnorm = np.linalg.norm(b)
    for _ in range(maxiter):
        q = apply(p)
        pq = p @ q
        if pq <= 0:
            break
        step = rz / pq
        x += step * p
        r -= step * q
        if np.linalg.norm(r) <= tol * bnorm:
            break
        z = inv * r
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x


@dataclass
class NewtonResult:
    alpha: np.ndarray
    state: dict
    iterations: int
    converged: bool
    residual: float


def newton(problem: DualProblem, *, tol: float = 1e-10, max_iter: int = 200,
           alpha0: np.ndarray | None = None, dense_limit: int = 1200,
           give_up: Any = None, extrapolate: bool = True) -> NewtonResult:
    """Projected Newton on ``problem``'s dual from ``alpha0`` (zeros by default).

    Stops when the projected gradient (constraint violation and
    complementarity, in units of the payoff range) is below ``tol``, after
    ``max_iter`` iterations, or when
    ``give_up(iteration, state)`` returns true (the caller then looks for
    zeros, e.g. because the joint is collapsing towards the boundary).
    """
    alpha = np.zeros(problem.k) if alpha0 is None else np.where(problem.fixed, 0.0, alpha0)
    state = problem.evaluate(alpha)
    it = 0
    residual = float(np.abs(_projected_gradient(alpha, state["grad"])).max(initial=0.0))
    while residual > tol and it < max_iter:
        if give_up is not None and give_up(it, state):
            break
        it += 1
        grad = state["grad"]
        delta = min(1e-3, residual)
        active = problem.fixed | ((alpha <= delta) & (grad > 0))
        free = np.flatnonzero(~active)
        d = np.zeros_like(alpha)
        act = np.flatnonzero(active & ~problem.fixed)
        d[act] = -grad[act]
        if free.size:
            gf = grad[free]
            damping = min(residual, 1e-6)
            if free.size <= dense_limit:
                h = problem.hessian(state, free)
                hd = np.diag(h).copy()
                scale = max(float(hd.max(initial=0.0)), 1e-300)
                # Levenberg-Marquardt damping relative to each diagonal entry
                # (constraints of very different payoff scales), plus a floor
                h[np.diag_indices_from(h)] += damping * hd + 1e-14 * scale
                try:
                    c = scipy.linalg.cho_factor(h, check_finite=False)
                    d[free] = -scipy.linalg.cho_solve(c, gf, check_finite=False)
                except np.linalg.LinAlgError:
                    d[free] = -np.linalg.lstsq(h, gf, rcond=None)[0]
            else:
                mask = np.zeros(problem.k, dtype=bool)
                mask[free] = True
                diag = _hessian_diagonal(problem, state)[free]
                scale = max(float(diag.max(initial=0.0)), 1e-300)
                shift = damping * diag + 1e-14 * scale

                def apply(v, _free=free, _shift=shift):
                    full = np.zeros(problem.k)
                    full[_free] = v
                    return problem.hvp(state, full)[_free] + _shift * v

                d[free] = -_cg(apply, gf, diag + shift, tol=min(0.1, math.sqrt(residual)),
                               maxiter=max(50, 4 * int(math.sqrt(free.size)) + 200))
        # Armijo search along the projection arc
        step, accepted = 1.0, None
        base_value = state["value"]
        for _ in range(40):
            trial = np.maximum(alpha + step * d, 0.0)
            trial[problem.fixed] = 0.0
            new = problem.evaluate(trial)
            decrease = float(grad[free] @ (alpha[free] - trial[free])) + float(
                grad[act] @ (alpha[act] - trial[act]))
            if new["value"] <= base_value - 1e-4 * decrease + 1e-15 * abs(base_value):
                accepted = new
                break
            step *= 0.5
        if accepted is None:  # rounding floor: accept the full step if it helps
            trial = np.maximum(alpha + d, 0.0)
            trial[problem.fixed] = 0.0
            new = problem.evaluate(trial)
            r_new = float(np.abs(_projected_gradient(trial, new["grad"])).max(initial=0.0))
            if r_new < residual:
                accepted = new
            else:
                break
        if extrapolate:
            # Tails: where the dual runs off to infinity (answers with zeros) Newton
            # moves it by about one unit per step; try long steps along the last one.
            y = accepted["alpha"] - alpha
            for factor in (32.0, 4.0):
                trial = np.maximum(accepted["alpha"] + factor * y, 0.0)
                trial[problem.fixed] = 0.0
                new = problem.evaluate(trial)
                if new["value"] < accepted["value"] - 1e-14 * abs(accepted["value"]):
                    accepted = new
                    break
        alpha, state = accepted["alpha"], accepted
        residual = float(np.abs(_projected_gradient(alpha, state["grad"])).max(initial=0.0))
    return NewtonResult(alpha, state, it, residual <= tol, residual)


def _hessian_diagonal(problem: DualProblem, state: dict) -> np.ndarray:
    """``diag H``: ``E[A_k^2] - E[A_k]^2`` (+ the target term)."""
    a = problem.matrix
    sigma = state["sigma"].ravel()
    sq = a.multiply(a) @ sigma
    d = sq - state["gains"] ** 2
    d = d + problem.curvature(state)[problem.owner]
    return np.where(problem.fixed, 0.0, np.maximum(d, 0.0))


def support_lp(problem: DualProblem) -> np.ndarray:
    """Joint actions played by some joint of ``{sigma : gains(sigma) <= eps}`` (bool ``[A...]``).

    The support of the relative interior of the epsilon-(C)CE polytope, by the
    host's one-LP facial reduction (:func:`spielplatz.polytope.face_support`,
    solved by HiGHS); joint actions outside ``problem.support`` stay at zero.

    Raises
    ------
    SpielplatzError
        If the polytope is empty (only possible for ``epsilon < 0``), or the LP
        cannot be solved.
    """
    keep = np.flatnonzero(~problem.fixed)
    try:
        found = face_support(problem.matrix.shape[1], B=problem.matrix[keep],
                             b=problem.epsilon[problem.owner[keep]],
                             zero=~problem.support.ravel(), equalities=False)
    except SpielplatzError as exc:
        raise SpielplatzError(f"maxent: {exc}") from None
    if found.empty:
        raise SpielplatzError("no joint distribution satisfies the constraints with this "
                              "epsilon (the polytope is empty); use a larger epsilon, or "
                              "target_epsilon for the nearest feasible answer")
    return found.support.reshape(problem.shape)
