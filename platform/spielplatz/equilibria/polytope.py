"""Support and implicit equalities of a polytope in the simplex (one LP).

For the polytope

    P = {x >= 0,  sum(x) = 1,  x_j = 0 (j in ``zero``),  E x = f,  B x <= b}

:func:`face_support` finds, with one LP solved by HiGHS (:mod:`spielplatz.equilibria.highs`),

* the **support** of its relative interior: the coordinates that are positive at
  some point of ``P`` (the maximal support; e.g. the joint actions that some
  (C)CE plays), and
* the **implicit equalities**: the rows of ``B`` that are tight at every point
  of ``P``.

Both are needed by exact solvers on degenerate problems: the dual of a
maximum-entropy problem has a finite minimiser only on the relative interior
(:mod:`spielplatz.equilibria.mwmre`), and a face is reduced to its affine hull
before a Newton method runs on it (a welfare LP's maximum-entropy tie-break).

Method (facial reduction on the homogenised cone). Maximise
``sum_j u_j + sum_k v_k`` over ``(y, tau, u, v)`` subject to

    sum(y) = tau,  E y = f tau,  B y - b tau + v <= 0,  u <= y,
    y >= 0,  0 <= tau <= MAX_SCALE,  0 <= u, v <= 1.

A positive combination of points of ``P`` is a feasible ``y / tau``, so at an
optimum every coordinate (slack) that can be positive anywhere on ``P`` reaches
``u_j = 1`` (``v_k = 1``) and every other one is 0: the answer is binary and is
read off with a threshold of 0.5, robust to rounding. An empty ``P`` gives an
empty support (``tau = 0`` is always feasible, so the LP itself never fails for
that reason).

Tolerance semantics. ``tau`` is capped at :data:`MAX_SCALE`:
the LP is bounded (no huge ``tau`` where HiGHS' absolute feasibility
tolerances lose meaning), and it has a stated resolution: a coordinate (or
slack) that cannot exceed ``1 / MAX_SCALE`` anywhere on ``P`` counts as zero.
The LP is solved with :data:`spielplatz.equilibria.highs.DEFAULT_OPTIONS` and, if that
does not report an optimum, once more with
:data:`spielplatz.equilibria.highs.STRICT_OPTIONS` (presolve on, tighter tolerances).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spielplatz.errors import SpielplatzError

__all__ = ["FaceSupport", "face_support", "as_rows", "MAX_SCALE"]

#: Largest scale ``tau`` of the homogenised LP: coordinates and slacks below
#: ``1 / MAX_SCALE`` everywhere on the polytope count as zero.
MAX_SCALE = 1e7


@dataclass
class FaceSupport:
    """What :func:`face_support` found.

    Attributes
    ----------
    support : numpy.ndarray of bool ``[n]``
        Coordinates positive somewhere on the polytope (all ``False`` when it
        is empty).
    slack : numpy.ndarray of bool ``[m]``
        Rows of ``B`` strictly satisfied somewhere on the polytope; the others
        are implicit equalities. All ``False`` when ``equalities=False``.
    """

    support: np.ndarray
    slack: np.ndarray

    @property
    def implicit(self) -> np.ndarray:
        """Rows of ``B`` tight on the whole polytope (``~slack``)."""
        return ~self.slack

    @property
    def empty(self) -> bool:
        """Whether the polytope is empty."""
        return not bool(self.support.any())


def as_rows(mat: Any, n: int) -> Any:
    """``mat`` as a CSR matrix with ``n`` columns; ``None`` gives no rows."""
    import scipy.sparse as sp

    return sp.csr_matrix((0, n)) if mat is None else sp.csr_matrix(mat)


def face_support(n: int, *, E: Any = None, f: Any = None, B: Any = None, b: Any = None,
                 zero: Any = None, equalities: bool = True) -> FaceSupport:
    """Support and implicit equalities of ``{x >= 0, sum x = 1, x[zero] = 0, E x = f, B x <= b}``.

    Parameters
    ----------
    n : int
        Number of coordinates.
    E, B : scipy.sparse matrix or numpy.ndarray, optional
        Equality and inequality rows, ``[k, n]`` and ``[m, n]``.
    f, b : array_like, optional
        Their right-hand sides, ``[k]`` and ``[m]`` (zeros by default).
    zero : array_like of bool ``[n]``, optional
        Coordinates fixed at zero (left out of the LP).
    equalities : bool
        Also find the implicit equalities among the rows of ``B`` (adds one
        bounded column per row; without it ``slack`` is all ``False``).

    Returns
    -------
    FaceSupport

    Raises
    ------
    SpielplatzError
        If HiGHS cannot solve the LP (numerical failure; an empty polytope is
        reported as an empty support, not an error).

    Examples
    --------
    The prisoner's dilemma's CE polytope is the single point (D, D):

    >>> import numpy as np
    >>> from spielplatz.equilibria.constraints import constraint_matrix
    >>> pd = np.array([[[-1, -3], [0, -2]], [[-1, 0], [-3, -2]]])
    >>> A = constraint_matrix(pd, "ce")
    >>> face_support(4, B=A, b=np.zeros(A.shape[0])).support
    array([False, False, False,  True])
    """
    import scipy.sparse as sp

    from spielplatz.equilibria.highs import DEFAULT_OPTIONS, STRICT_OPTIONS, solve_lp

    E, B = as_rows(E, n), as_rows(B, n)
    f = np.zeros(E.shape[0]) if f is None else np.asarray(f, dtype=float).reshape(-1)
    b = np.zeros(B.shape[0]) if b is None else np.asarray(b, dtype=float).reshape(-1)
    cols = np.arange(n) if zero is None else np.flatnonzero(~np.asarray(zero, dtype=bool))
    s, k, m = cols.size, E.shape[0], B.shape[0]
    support = np.zeros(n, dtype=bool)
    if s == 0:
        return FaceSupport(support, np.zeros(m, dtype=bool))
    if s < n:
        E, B = E[:, cols], B[:, cols]
    mv = m if equalities else 0
    # Columns: y (s), tau (1), u (s), v (mv). Rows: sum y - tau = 0; E y - f tau = 0;
    # B y - b tau (+ v) <= 0; u - y <= 0.
    eye_s = sp.identity(s, format="csr")
    blocks = [[sp.csr_matrix(np.ones((1, s))), sp.csr_matrix(-np.ones((1, 1))), None, None]]
    if k:
        blocks.append([E, sp.csr_matrix(-f.reshape(-1, 1)), None, None])
    if m:
        blocks.append([B, sp.csr_matrix(-b.reshape(-1, 1)), None,
                       sp.identity(m, format="csr") if mv else None])
    blocks.append([-eye_s, None, eye_s, None])
    widths = [s, 1, s, mv]
    filled = []
    for row in blocks:
        height = next(blk.shape[0] for blk in row if blk is not None)
        filled.append([blk if blk is not None else sp.csr_matrix((height, w))
                       for blk, w in zip(row, widths)])
    matrix = sp.bmat(filled, format="csr")
    row_lower = np.concatenate([np.zeros(1 + k), np.full(m + s, -np.inf)])
    row_upper = np.zeros(1 + k + m + s)
    col_lower = np.zeros(2 * s + 1 + mv)
    col_upper = np.concatenate([np.full(s, np.inf), [MAX_SCALE], np.ones(s + mv)])
    cost = np.concatenate([np.zeros(s + 1), -np.ones(s + mv)])
    for options in (DEFAULT_OPTIONS, STRICT_OPTIONS):
        res = solve_lp(cost, matrix, row_lower, row_upper, col_lower, col_upper,
                       options=options)
        if res.status == "optimal":
            break
    else:
        raise SpielplatzError(f"the support LP could not be solved (HiGHS: {res.status})")
    support[cols] = res.x[s + 1:2 * s + 1] > 0.5
    slack = res.x[2 * s + 1:] > 0.5 if mv else np.zeros(m, dtype=bool)
    return FaceSupport(support, slack)
