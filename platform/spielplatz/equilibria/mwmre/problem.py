"""The exact single-game path: projected Newton on the MWMRE dual, in float64.

The dual of the MWMRE problem (NES appendix, Section A; :mod:`spielplatz.equilibria.mwmre`)
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
(:func:`spielplatz.equilibria.polytope.face_support`), and the dual is
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
import scipy.sparse as sp

from spielplatz.equilibria import deviations
from spielplatz.equilibria.constraints import constraint_matrix
from spielplatz.equilibria.mwmre.dual import epsilon_terms

_BLAS: dict = {}


#: Games whose dense constraint matrix (constraints x joint actions) holds at most this
#: many entries skip :func:`single_thread`: OpenBLAS runs their products on one thread
#: anyway, and limiting its pool costs about 40 us, a tenth of an 8x8 CCE solve (measured
#: on 2 cores, idle and loaded: 8x8 and 10x10 CE, 8x8 and 32x32 CCE as fast without the
#: limit, 12x12 CE 4x and 16x16 CE 6-17x slower, docs/benchmarks.md; the bar stays below
#: the 10x10 CE's 20,000 entries, on the safe side).
SMALL_BLAS_ENTRIES = 16_384


def blas_entries(shape: tuple, concept: str) -> int:
    """Entries of the dense constraint matrix of a game of ``shape`` (diagonal CE rows
    included)."""
    return math.prod(shape) * sum(a * a if concept == "ce" else a for a in shape)


@contextlib.contextmanager
def single_thread(entries: int | None = None) -> Iterator[None]:
    """numpy's and scipy's BLAS on one thread inside the block (``threadpoolctl``).

    The exact path does many small matrix products; OpenBLAS's spinning worker
    threads slow each one down by an order of magnitude on a loaded machine with
    few cores (docs/benchmarks.md). The controller is made once (scanning the
    loaded libraries costs about 0.6 ms, more than a small solve): numpy's and
    scipy's BLAS are loaded by this module's imports before it is. ``entries``
    (:func:`blas_entries`) at most :data:`SMALL_BLAS_ENTRIES`: nothing is limited.
    """
    from threadpoolctl import ThreadpoolController

    if entries is not None and entries <= SMALL_BLAS_ENTRIES:
        yield
        return
    controller = _BLAS.get("controller")
    if controller is None:
        controller = _BLAS["controller"] = ThreadpoolController()
    with controller.limit(limits=1, user_api="blas"):
        yield


#: Largest ``constraints x joint actions`` kept as a dense matrix (small games).
DENSE_ENTRIES = 500_000


def dense_matrix(payoffs: np.ndarray, concept: str) -> np.ndarray:
    """The constraint matrix of :func:`~spielplatz.equilibria.constraints.constraint_matrix`
    (``include_diagonal=True``), dense: ``[K, prod A]``, the same numbers (each entry the
    same float64 difference of two payoffs), built with a few numpy calls.

    CE row ``(p, a', a'')`` holds ``G_p(a'', a_-p) - G_p(a', a_-p)`` where ``a_p = a'``
    (the diagonal rows are zero); CCE row ``(p, a')`` holds ``G_p(a', a_-p) - G_p(a)``.
    """
    n, shape = payoffs.shape[0], payoffs.shape[1:]
    size = math.prod(shape)
    blocks = []
    for p in range(n):
        a_p = shape[p]
        gp = deviations.player_matrix(payoffs[p], p, n)                  # [A_p, R]
        if concept == "ce":
            diff = gp[None, :, :] - gp[:, None, :]                     # [a', a'', R]
            block = np.zeros((a_p, a_p, a_p, diff.shape[-1]))          # [a', a'', a_p, R]
            idx = np.arange(a_p)
            block[idx, :, idx, :] = diff
            block = block.reshape((a_p * a_p, a_p) + shape[:p] + shape[p + 1:])
        else:
            diff = gp[:, None, :] - gp[None, :, :]                     # [a', a_p, R]
            block = diff.reshape((a_p, a_p) + shape[:p] + shape[p + 1:])
        if p:       # np.moveaxis(block, 1, 1 + p), as one transpose (cheaper on small games)
            axes = list(range(block.ndim))
            axes.insert(1 + p, axes.pop(1))
            block = block.transpose(axes)
        blocks.append(block.reshape(-1, size))
    return np.concatenate(blocks, axis=0)


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
        size = math.prod(self.shape)
        # Small games: one dense constraint matrix makes every product a BLAS call
        # (built directly, without the sparse matrix, which only the support LP needs).
        self.dense = (dense_matrix(self.payoffs, self.concept)
                      if self.k * size <= DENSE_ENTRIES else None)
        self._layout()

    def _layout(self) -> None:
        """Masks and, for dense problems, the matrix on the support only (joint actions
        outside it have probability exactly 0 and add nothing to any product)."""
        self.notfixed = (~self.fixed).astype(float)
        self._cols = None
        self._base_flat = self.base.ravel()
        if self.dense is not None:
            cols = np.flatnonzero(self.support.ravel())
            if cols.size < self._base_flat.size:
                self._cols = cols
                self._dense_s = np.ascontiguousarray(self.dense[:, cols])
                self._base_s = self._base_flat[cols]
            else:
                self._dense_s = self.dense
                self._base_s = self._base_flat
        self._epsilon_layout()

    def _epsilon_layout(self) -> None:
        """Each constraint's epsilon (0 where fixed), and whether the problem is plain."""
        self._eps_k = (None if self.epsilon is None
                       else np.asarray(self.epsilon, dtype=float)[self.owner] * self.notfixed)
        # plain exact (C)CE with nothing fixed: the epsilon term and the mask drop out
        self._plain = (self._eps_k is not None and not self._eps_k.any()
                       and not self.fixed.any())

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
        out = DualProblem.__new__(DualProblem)
        out.__dict__.update(self.__dict__)
        out.base = base
        out.support = np.isfinite(base)
        # constraints that vanish on the support are trivially satisfied (eps >= 0 there)
        cols = np.flatnonzero(support.ravel())
        if self.dense is not None:
            empty = ~(self.dense[:, cols] != 0).any(axis=1)
        else:
            m = self.matrix[:, cols]
            empty = np.diff(m.tocsr().indptr) == 0
        out.fixed = self.fixed | empty
        out._layout()
        return out

    def with_epsilon(self, epsilon: np.ndarray) -> "DualProblem":
        """The same problem (support, matrices shared) with another fixed ``epsilon``."""
        out = DualProblem.__new__(DualProblem)
        out.__dict__.update(self.__dict__)
        out.epsilon = np.asarray(epsilon, dtype=float)
        out._epsilon_layout()
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
        if self.dense is not None and self.target is None:
            return self._evaluate_dense(alpha)
        z = self.base - self.adjoint_of(alpha)
        m = z.max()
        e = np.exp(z - m)
        total = e.sum()
        sigma = e / total
        lz = m + math.log(total)
        s = self.sums(alpha)
        eps, term, _ = epsilon_terms(s, epsilon=self.epsilon, target_epsilon=self.target,
                                     eps_plus=self.eps_plus, rho=self.rho)
        value = lz + float(term.sum())
        gains = self.gains_of(sigma)
        grad = np.where(self.fixed, 0.0, eps[self.owner] - gains)
        return {"alpha": alpha, "value": value, "sigma": sigma, "eps": eps, "gains": gains,
                "grad": grad, "sums": s, "lz": lz}

    def _evaluate_dense(self, alpha: np.ndarray) -> dict:
        """:meth:`evaluate` for a small game with a fixed epsilon: the products on the
        support only, the epsilon term one dot product (the same numbers)."""
        return self.finish(self.trial(alpha))

    def trial(self, alpha: np.ndarray) -> dict:
        """The loss at ``alpha`` only (a line search's trial point); :meth:`finish`
        completes it to :meth:`evaluate`'s state, with the same numbers."""
        if self.dense is None or self.target is not None:
            return self.evaluate(alpha)
        z = self._base_s - alpha @ self._dense_s
        m = z.max()
        e = np.exp(z - m)
        total = e.sum()
        lz = m + math.log(total)
        value = lz if self._plain else lz + float(self._eps_k @ alpha)
        return {"alpha": alpha, "value": value, "lz": lz, "_e": e, "_total": total}

    def finish(self, state: dict) -> dict:
        """:meth:`trial`'s state completed: joint, gains, gradient."""
        e = state.pop("_e", None)
        if e is None:
            return state
        sig = e / state.pop("_total")
        gains = self._dense_s @ sig
        if self._cols is None:
            sigma = sig.reshape(self.shape)
        else:
            sigma = np.zeros(self._base_flat.size)
            sigma[self._cols] = sig
            sigma = sigma.reshape(self.shape)
        state.update(sigma=sigma, eps=self.epsilon, gains=gains, _sig=sig,
                     grad=-gains if self._plain else (self._eps_k - gains) * self.notfixed)
        return state

    def curvature(self, state: dict) -> np.ndarray:
        """Per-player weight of the target term's Hessian block of ones (0 if fixed)."""
        if self.target is None:
            return np.zeros(self.n)
        return epsilon_terms(state["sums"], target_epsilon=self.target, eps_plus=self.eps_plus,
                             rho=self.rho)[2]

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
        every = free.size == self.k              # no fancy-index copies when all are free
        if self.dense is not None:
            sig = state.get("_sig")
            if sig is None:
                a = self.dense if every else self.dense[free]
                h = (a * state["sigma"].ravel()) @ a.T
            else:
                a = self._dense_s if every else self._dense_s[free]
                h = (a * sig) @ a.T
        else:
            a = self.matrix[free]
            h = (a.multiply(state["sigma"].ravel()[None, :]).tocsr() @ a.T).toarray()
        g = state["gains"] if every else state["gains"][free]
        h -= g[:, None] * g
        if self.target is None:
            return h
        c = self.curvature(state)
        if c.any():
            own = self.owner[free]
            h += c[own][:, None] * (own[:, None] == own[None, :])
        return h
