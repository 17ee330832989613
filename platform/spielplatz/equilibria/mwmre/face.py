"""Maximum-entropy point of a polytope face (the welfare solver's tie-break).

The optimal set of a welfare LP is a face ``F`` of the (C)CE polytope, often
more than one point. ``maxent_tiebreak`` returns the unique point of ``F`` with
the largest Shannon entropy, so the answer does not depend on the LP solver's
pivoting. ``F`` is given as

    x >= 0,  sum(x) = 1,  x_j = 0 (j in ``zero``),  E x = f,  B x <= b.

The maximum-entropy point of a polytope lies in its relative interior, so it is
computed in two exact steps rather than by a barrier or a thickened face:

1. **Facial reduction** (one LP, the host's
   :func:`spielplatz.equilibria.polytope.face_support`): find the support ``S``
   (coordinates that are positive somewhere on ``F``) and the rows of ``B``
   that are tight on all of ``F`` (implicit equalities). Coordinates that
   cannot exceed ``1 / spielplatz.equilibria.polytope.MAX_SCALE`` on ``F`` are treated as zero.
2. **Dual Newton** (the host's :func:`~spielplatz.equilibria.mwmre.newton.newton`
   on a :class:`RowsProblem`) on the reduced problem, where Slater's condition holds so the
   dual optimum is attained. The equalities are homogenised with ``sum x = 1``
   and orthonormalised (``Q x = 0``); each remaining row is split into a part
   ``H`` orthogonal to the affine hull's normals and a constant ``beta`` on the
   hull (``h x = H x + beta``; rows constant on the hull are dropped). Then
   ``x = softmax(-Q' mu - H' lam)`` and the dual
   ``phi(mu, lam) = logsumexp(-Q' mu - H' lam) - beta . lam`` is minimised over
   ``mu`` free, ``lam >= 0`` by the same projected Newton method as every MWMRE
   solve, in float64. It converges superlinearly; the answer satisfies the constraints
   to about 1e-13.

This is the dual of the maximum-entropy problem of NES appendix Section A
(Theorems 1-2 with ``mu = 0`` and a uniform prior), restricted to the face.
Only numpy and scipy are used (no cvxpy at run time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spielplatz.errors import SpielplatzError
from spielplatz.equilibria.polytope import as_rows, face_support

__all__ = ["maxent_on_face", "FaceResult", "RowsProblem", "row_max_over_simplex"]

@dataclass
class FaceResult:
    """Maximum-entropy point of a face and how it was found.

    Attributes
    ----------
    x : numpy.ndarray or None
        The distribution (``None`` on failure).
    support : int
        Number of coordinates that can be positive on the face.
    dimension : int
        Dimension of the face.
    iterations : int
        Newton iterations.
    method : str
        ``"uniform"`` (no constraint binds), ``"point"`` (the face is one point)
        or ``"newton"``.
    message : str
        Why it failed, if it did.
    """

    x: np.ndarray | None
    support: int
    dimension: int
    iterations: int
    method: str
    message: str = ""


def row_max_over_simplex(mat: Any) -> np.ndarray:
    """``max_x in simplex (mat @ x)`` per row: the largest entry, counting implicit zeros."""
    mat = mat.tocsr()
    out = np.full(mat.shape[0], -np.inf)
    counts = np.diff(mat.indptr)
    nonempty = counts > 0
    if nonempty.any() and mat.nnz:
        maxima = np.maximum.reduceat(mat.data, mat.indptr[:-1][nonempty])
        out[nonempty] = maxima
    out[counts < mat.shape[1]] = np.maximum(out[counts < mat.shape[1]], 0.0)
    return out


def _orthonormal_rows(mat: np.ndarray) -> np.ndarray:
    """Orthonormal basis (as rows) of the row space of ``mat``."""
    if mat.shape[0] == 0:
        return np.zeros((0, mat.shape[1]))
    _, sing, vt = np.linalg.svd(mat, full_matrices=False)
    if sing.size == 0 or sing[0] == 0.0:
        return np.zeros((0, mat.shape[1]))
    rank = int(np.sum(sing > sing[0] * max(mat.shape) * 1e-12))
    return vt[:rank]


class RowsProblem:
    """``min_z logsumexp(-M' z) + c . z`` with the first ``r`` multipliers free.

    The maximum-entropy dual of ``{x in simplex : Q x = 0, H x <= -beta}``
    (``M = [Q; H]``, ``c = [0; -beta]`` written as ``-lin``), in the interface of
    :class:`~spielplatz.equilibria.mwmre.problem.DualProblem` that
    :func:`~spielplatz.equilibria.mwmre.newton.newton` drives: the same projected
    Newton, with the equality rows' multipliers unbounded (``unbounded``).
    """

    def __init__(self, Q: np.ndarray, H: np.ndarray, beta: np.ndarray):
        self.M = np.vstack([Q, H])
        self.lin = np.concatenate([np.zeros(Q.shape[0]), beta])
        self.k = self.M.shape[0]
        self.fixed = np.zeros(self.k, dtype=bool)
        self.unbounded = np.arange(self.k) < Q.shape[0]

    def evaluate(self, z: np.ndarray) -> dict:
        u = -(self.M.T @ z)
        top = u.max()
        w = np.exp(u - top)
        total = w.sum()
        x = w / total
        gains = self.M @ x
        return {"alpha": z, "value": float(top + np.log(total) - self.lin @ z), "sigma": x,
                "gains": gains, "grad": -gains - self.lin}

    def hessian(self, state: dict, free: np.ndarray) -> np.ndarray:
        x, mf = state["sigma"], self.M[free]
        mx = state["gains"][free]
        return (mf * x) @ mf.T - np.outer(mx, mx)

    def hvp(self, state: dict, v: np.ndarray) -> np.ndarray:
        x = state["sigma"]
        u = self.M.T @ v
        return self.M @ (x * (u - x @ u))

    def hessian_diagonal(self, state: dict) -> np.ndarray:
        return np.maximum(np.einsum("ij,ij->i", self.M * state["sigma"], self.M)
                          - state["gains"] ** 2, 0.0)


def _newton(Q: np.ndarray, H: np.ndarray, beta: np.ndarray, *, max_iter: int = 200,
            tol: float = 1e-13) -> tuple:
    """The host's projected Newton on :class:`RowsProblem`: ``(x, iterations, converged)``.

    The rows of ``H`` are orthogonal to the rows of ``Q`` and to the all-ones vector
    (see :func:`maxent_on_face`), so the Hessian is singular only along linear
    dependencies among the rows of ``H``, where the Newton method's damping keeps the
    steps bounded.
    """
    from spielplatz.equilibria.mwmre.newton import newton

    res = newton(RowsProblem(Q, H, beta), tol=tol, max_iter=max_iter)
    return res.state["sigma"], res.iterations, res.converged or res.residual <= 1e-10


def maxent_on_face(n: int, *, zero: np.ndarray | None = None, E: Any = None,
                   f: np.ndarray | None = None, B: Any = None,
                   b: np.ndarray | None = None) -> FaceResult:
    """Maximum-entropy distribution on ``{x >= 0, 1'x = 1, x[zero] = 0, E x = f, B x <= b}``.

    Parameters
    ----------
    n : int
        Number of coordinates.
    zero : numpy.ndarray of bool, optional
        Coordinates fixed at zero.
    E, B : scipy.sparse matrix or numpy.ndarray, optional
        Equality and inequality rows, ``[k, n]`` and ``[m, n]``.
    f, b : numpy.ndarray, optional
        Their right-hand sides.

    Returns
    -------
    FaceResult
    """
    E = as_rows(E, n)
    B = as_rows(B, n)
    f = np.zeros(0) if f is None else np.asarray(f, dtype=float)
    b = np.zeros(0) if b is None else np.asarray(b, dtype=float)
    keep = np.ones(n, dtype=bool) if zero is None else ~np.asarray(zero, dtype=bool)
    cols = np.flatnonzero(keep)
    if cols.size == 0:
        return FaceResult(None, 0, 0, 0, "none", "every coordinate is fixed at zero")
    E, B = E[:, cols], B[:, cols]
    # Rows of B that hold everywhere on the simplex cannot matter.
    needed = row_max_over_simplex(B) > b if B.shape[0] else np.zeros(0, bool)
    B, b = B[needed], b[needed]
    # Drop all-zero equality rows with a zero right-hand side.
    nonnull = (np.diff(E.tocsr().indptr) > 0) | (np.abs(f) > 0)
    E, f = E[nonnull], f[nonnull]
    s = cols.size
    if E.shape[0] == 0 and B.shape[0] == 0:
        x = np.zeros(n)
        x[cols] = 1.0 / s
        return FaceResult(x, s, s - 1, 0, "uniform")
    try:
        reduced = face_support(s, E=E, f=f, B=B, b=b)
    except SpielplatzError:
        return FaceResult(None, 0, 0, 0, "none", "the face is empty (facial-reduction LP failed)")
    support, slack = reduced.support, reduced.slack
    if not support.any():
        return FaceResult(None, 0, 0, 0, "none", "the face has no support")
    sup_cols = cols[support]
    Es = E[:, support].toarray()
    Bs = B[:, support].toarray()
    # Homogenise (1'x = 1): E x = f  <=>  (E - f 1') x = 0; tight rows of B likewise.
    eq = np.vstack([Es - f[:, None], Bs[~slack] - b[~slack, None]])
    Q = _orthonormal_rows(eq)
    size = int(support.sum())
    dimension = size - 1 - Q.shape[0]
    if dimension <= 0:
        # The face is one point: solve [Q; 1'] x = [0; 1].
        system = np.vstack([Q, np.ones((1, size))])
        rhs = np.concatenate([np.zeros(Q.shape[0]), [1.0]])
        xs = np.linalg.lstsq(system, rhs, rcond=None)[0]
        xs = np.clip(xs, 0.0, None)
        x = np.zeros(n)
        x[sup_cols] = xs / xs.sum()
        return FaceResult(x, size, 0, 0, "point")
    # Split each remaining row h (h x <= 0) into its part orthogonal to the
    # affine hull's normals (rows of Q and the all-ones vector) and a constant
    # on the hull: h x = h_perp x + beta. Rows constant on the hull are
    # redundant (beta < 0) and dropped.
    H = Bs[slack] - b[slack, None]
    normals = _orthonormal_rows(np.vstack([Q, np.ones((1, size))]))
    x0 = np.linalg.lstsq(np.vstack([Q, np.ones((1, size))]),
                         np.concatenate([np.zeros(Q.shape[0]), [1.0]]), rcond=None)[0]
    H_perp = H - (H @ normals.T) @ normals
    beta = (H - H_perp) @ x0
    varying = np.abs(H_perp).max(axis=1, initial=0.0) > 1e-12 * np.maximum(
        np.abs(H).max(axis=1, initial=0.0), 1.0) if H.shape[0] else np.zeros(0, bool)
    if np.any(beta[~varying] > 1e-12):
        return FaceResult(None, size, dimension, 0, "newton",
                          "a constraint is violated on the whole face")
    H_perp, beta = H_perp[varying], beta[varying]
    xs, iterations, converged = _newton(Q, H_perp, beta)
    x = np.zeros(n)
    x[sup_cols] = xs
    if not converged:
        return FaceResult(x, size, dimension, iterations, "newton",
                          "dual Newton method did not converge")
    return FaceResult(x, size, dimension, iterations, "newton")
