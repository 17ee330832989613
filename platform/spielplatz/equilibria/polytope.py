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

__all__ = ["FaceSupport", "face_support", "cone_support", "as_rows", "MAX_SCALE"]

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


def _lp_matrix(s: int, E: Any, f: np.ndarray, B: Any, b: np.ndarray, mv: int) -> Any:
    """The LP's CSR matrix, rows ``[1' | -1 | 0 | 0]``, ``[E | -f | 0 | 0]``,
    ``[B | -b | 0 | I]`` (``I`` only with ``mv``), ``[-I | 0 | I | 0]`` over the columns
    ``(y, tau, u, v)``, assembled row by row from the CSR arrays of ``E`` and ``B``
    (entries in increasing column order; zeros of ``f`` and ``b`` not stored)."""
    import scipy.sparse as sp

    k, m = E.shape[0], B.shape[0]
    parts_idx, parts_val, lengths = [], [], []

    def add_block(mat: Any, rhs: np.ndarray, extra: int | None) -> None:
        mat = mat.tocsr()
        mat.sort_indices()
        counts = np.diff(mat.indptr)
        rows = mat.shape[0]
        has_rhs = rhs != 0
        per_row = counts + has_rhs + (1 if extra is not None else 0)
        total = int(per_row.sum())
        idx = np.empty(total, dtype=np.int64)
        val = np.empty(total)
        starts = np.concatenate([[0], np.cumsum(per_row)[:-1]]).astype(np.int64)
        # the matrix's own entries, shifted to their row's start
        within = np.arange(mat.nnz) - np.repeat(mat.indptr[:-1], counts)
        pos = np.repeat(starts, counts) + within
        idx[pos] = mat.indices
        val[pos] = mat.data
        pos = starts + counts
        sel = np.flatnonzero(has_rhs)
        idx[pos[sel]] = s
        val[pos[sel]] = -rhs[sel]
        if extra is not None:
            pos = pos + has_rhs
            idx[pos] = extra + np.arange(rows)
            val[pos] = 1.0
        parts_idx.append(idx)
        parts_val.append(val)
        lengths.append(per_row)

    parts_idx.append(np.concatenate([np.arange(s + 1)]))
    parts_val.append(np.concatenate([np.ones(s), [-1.0]]))
    lengths.append(np.array([s + 1]))
    if k:
        add_block(E, f, None)
    if m:
        add_block(B, b, 2 * s + 1 if mv else None)
    eye_idx = np.stack([np.arange(s), s + 1 + np.arange(s)], axis=1).ravel()
    eye_val = np.tile([-1.0, 1.0], s)
    parts_idx.append(eye_idx)
    parts_val.append(eye_val)
    lengths.append(np.full(s, 2))
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(lengths))])
    return sp.csr_matrix((np.concatenate(parts_val), np.concatenate(parts_idx), indptr),
                         shape=(1 + k + m + s, 2 * s + 1 + mv))


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
    x = _solve(_lp_matrix(s, E, f, B, b, mv), s, k, m, mv)
    support[cols] = x[s + 1:2 * s + 1] > 0.5
    slack = x[2 * s + 1:] > 0.5 if mv else np.zeros(m, dtype=bool)
    return FaceSupport(support, slack)


def _solve(matrix: Any, s: int, k: int, m: int, mv: int, options: dict | None = None,
           reuse: bool = False) -> np.ndarray:
    """The support LP over the columns ``(y, tau, u, v)`` of :func:`_lp_matrix` (``s``
    coordinates, ``k`` equality rows, ``m`` inequality rows, ``mv`` slack columns):
    maximise ``sum u + sum v`` with ``tau <= MAX_SCALE`` and ``u, v <= 1``. Its column
    values; HiGHS' default options (with ``options`` on top), then its strict ones."""
    from spielplatz.equilibria.highs import DEFAULT_OPTIONS, STRICT_OPTIONS, solve_lp

    row_lower = np.concatenate([np.zeros(1 + k), np.full(m + s, -np.inf)])
    col_upper = np.concatenate([np.full(s, np.inf), [MAX_SCALE], np.ones(s + mv)])
    cost = np.concatenate([np.zeros(s + 1), -np.ones(s + mv)])
    for attempt in (dict(DEFAULT_OPTIONS, **(options or {})), STRICT_OPTIONS):
        res = solve_lp(cost, matrix, row_lower, np.zeros(1 + k + m + s),
                       np.zeros(2 * s + 1 + mv), col_upper, options=attempt, reuse=reuse,
                       duals=False)
        if res.status == "optimal":
            return res.x
    raise SpielplatzError(f"the support LP could not be solved (HiGHS: {res.status})")


#: HiGHS options of :func:`cone_support` on top of the default ones: no scaling (the
#: rows are differences of payoffs of range 1) and Devex pricing. On the 28 support LPs
#: of 500 N(0, 1) 8x8 CE games: 0.89-0.91 ms per LP against 1.06-1.13 ms, the same
#: supports (which, for joint actions whose largest mass is near ``1 / MAX_SCALE``, may
#: depend on the options, as with any simplex settings).
CONE_OPTIONS = {"simplex_scale_strategy": 0, "simplex_dual_edge_weight_strategy": 1}


def cone_support(rows: Any) -> np.ndarray:
    """:func:`face_support`'s support for dense homogeneous rows: the coordinates positive
    somewhere on ``{x >= 0, sum x = 1, rows @ x <= 0}`` (bool ``[s]``; all ``False`` when
    it is empty), by the same LP, built straight from ``rows`` ``[m, s]`` and solved on
    this thread's reused HiGHS instance (for many small LPs, e.g. the exact CE of a batch
    of games, whose constraints have ``epsilon = 0``).

    Raises
    ------
    SpielplatzError
        If HiGHS cannot solve the LP.

    Examples
    --------
    >>> import numpy as np
    >>> from spielplatz.equilibria.constraints import constraint_matrix
    >>> pd = np.array([[[-1, -3], [0, -2]], [[-1, 0], [-3, -2]]])
    >>> cone_support(np.asarray(constraint_matrix(pd, "ce").todense()))
    array([False, False, False,  True])
    """
    rows = np.asarray(rows, dtype=float)
    rows = rows[(rows != 0).any(axis=1)]
    m, s = rows.shape
    if s == 0:
        return np.zeros(0, dtype=bool)
    r_idx, c_idx = np.nonzero(rows)
    # columns (y, tau, u); rows [1' | -1 | 0], [rows | 0 | 0], [-I | 0 | I]: _lp_matrix's
    counts = np.concatenate([[s + 1], np.bincount(r_idx, minlength=m), np.full(s, 2)])
    indices = np.concatenate([np.arange(s + 1), c_idx,
                              np.stack([np.arange(s), s + 1 + np.arange(s)], axis=1).ravel()])
    data = np.concatenate([np.ones(s), [-1.0], rows[r_idx, c_idx], np.tile([-1.0, 1.0], s)])
    indptr = np.zeros(counts.size + 1, dtype=np.int32)
    np.cumsum(counts, out=indptr[1:])
    matrix = (indptr, indices.astype(np.int32), data, (1 + m + s, 2 * s + 1))
    return _solve(matrix, s, 0, m, 0, CONE_OPTIONS, reuse=True)[s + 1:2 * s + 1] > 0.5
