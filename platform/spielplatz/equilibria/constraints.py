"""Sparse (C)CE incentive-constraint matrices for LP-based solvers.

The host's :mod:`spielplatz.equilibria.deviations` computes deviation gains as tensor
contractions and never materialises a ``constraints x joint-actions`` matrix.
A linear-programming solver needs that matrix explicitly; this module builds it
as a :class:`scipy.sparse.csr_matrix` straight from the payoff tensor's index
structure (numpy index arithmetic, no Python loop over joint actions and no
dense intermediate of the matrix's full shape).

Columns are the joint actions ``(a_1, ..., a_N)`` flattened in C order
(``joint.ravel()``); ``A @ joint.ravel()`` is the vector of deviation gains, so
``sigma`` is an epsilon-(C)CE iff ``A @ sigma.ravel() <= epsilon`` row-wise.

Row order (it agrees with :func:`spielplatz.equilibria.deviations.ce_gains` and
:func:`spielplatz.equilibria.deviations.cce_gains`):

* **CE** (NES appendix, Section A.1, Theorem 1): players ``p = 0 .. N-1`` in
  order; within a player the ordered pairs ``(a', a'')`` (recommendation,
  deviation) with ``a' != a''`` in C order of the ``[A_p, A_p]`` gain matrix
  with its diagonal removed, i.e. ``(0,1), (0,2), ..., (1,0), (1,2), ...``.
  Row ``(p, a', a'')`` has the coefficient ``G_p(a'', a_-p) - G_p(a', a_-p)``
  on every joint action with ``a_p = a'`` and nothing elsewhere, so
  ``A @ sigma.ravel()`` equals
  ``concatenate([g[~eye(A_p, dtype=bool)] for g in ce_gains(G, sigma)])``.
  Player ``p`` contributes ``A_p (A_p - 1)`` rows of ``prod_{q != p} A_q``
  entries each.
* **CCE** (NES appendix, Section A.2, Theorem 2): players in order, then the
  deviation ``a'`` in ``0 .. A_p - 1``. Row ``(p, a')`` has the coefficient
  ``G_p(a', a_-p) - G_p(a)`` on every joint action ``a`` with ``a_p != a'``
  (it is zero where ``a_p = a'``, which is left out of the sparsity pattern),
  so ``A @ sigma.ravel()`` equals ``concatenate(cce_gains(G, sigma))``.

The same equalities hold for any distribution, so the matrix can be checked
against :mod:`spielplatz.equilibria.deviations` on random joints (the test suite does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ce_constraint_matrix", "cce_constraint_matrix", "constraint_matrix",
           "constraint_players", "constraint_labels", "num_constraints"]


def _game(payoffs: Any) -> tuple[np.ndarray, int, tuple[int, ...], int]:
    """``(payoffs [N, A...] float64, N, (A_1, ..., A_N), number of joint actions)``."""
    g = np.asarray(getattr(payoffs, "payoffs", payoffs), dtype=np.float64)
    if g.ndim < 2 or g.ndim != g.shape[0] + 1:
        raise ValueError(f"payoffs must have shape [N, A_1, ..., A_N], got {g.shape}")
    shape = tuple(int(a) for a in g.shape[1:])
    return g, g.shape[0], shape, int(np.prod(shape))


def _index_dtype(*sizes: int) -> type:
    return np.int32 if max(sizes) < 2**31 - 1 else np.int64


def _csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple,
         drop_zeros: bool) -> Any:
    import scipy.sparse as sp

    index_dtype = _index_dtype(shape[1], len(data))
    mat = sp.csr_matrix((data, indices.astype(index_dtype, copy=False),
                         indptr.astype(index_dtype, copy=False)), shape=shape)
    mat.has_sorted_indices = True   # columns are generated in increasing order per row
    if drop_zeros:
        mat.eliminate_zeros()
    return mat


def _check_memory(nnz: int, total: int, concept: str) -> None:
    """Refuse a matrix (values, column indices, row pointers) larger than the memory limit."""
    from spielplatz.system.resources import check_memory

    index = np.dtype(_index_dtype(total, nnz)).itemsize
    check_memory(nnz * (8 + index), f"the {concept.upper()} constraint matrix ({nnz:,} entries "
                 f"over {total:,} joint actions)", hint="use a smaller game")


def ce_constraint_matrix(payoffs: Any, *, drop_zeros: bool = False,
                         include_diagonal: bool = False) -> Any:
    """CE deviation-gain matrix ``[sum_p A_p (A_p - 1), prod_p A_p]`` (CSR).

    Parameters
    ----------
    payoffs : array_like or NormalFormGame
        Payoff tensor ``[N, A_1, ..., A_N]``.
    drop_zeros : bool
        Remove explicitly stored zero coefficients (payoff ties) from the
        sparsity pattern. The matrix's values are the same either way.
    include_diagonal : bool
        Also give the rows ``(p, a', a')`` (always empty), so that player
        ``p``'s rows are the C order of the full ``[A_p, A_p]`` gain matrix
        (the layout of :func:`spielplatz.equilibria.mwmre.flatten_duals`); the matrix is
        then ``[sum_p A_p^2, prod_p A_p]``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Rows in the order documented in the module docstring.
    """
    g, n, shape, total = _game(payoffs)
    row_len = [total // a for a in shape]                  # R_p entries per row of player p
    num_rows = [a * (a - 1) for a in shape]
    nnz = sum(r * k for r, k in zip(num_rows, row_len))
    itype = _index_dtype(total, nnz)
    _check_memory(nnz, total, "ce")
    # One buffer each for values and column indices, filled in place (large
    # temporaries are slow to allocate and touch).
    data = np.empty(nnz)
    indices = np.empty(nnz, dtype=itype)
    flat = np.arange(total, dtype=itype).reshape(shape)
    start = 0
    for p in range(n):
        a_p, r_p = shape[p], row_len[p]
        if a_p < 2:
            continue
        stop = start + num_rows[p] * r_p
        gp = np.moveaxis(g[p], p, 0).reshape(a_p, r_p)          # G_p as [A_p, R]
        idx = np.moveaxis(flat, p, 0).reshape(a_p, r_p)         # columns, increasing along R
        # Row (a', k) for k = 0 .. A_p - 2 deviates to a'' = k + (k >= a').
        rec = np.repeat(np.arange(a_p), a_p - 1)
        dev = np.tile(np.arange(a_p - 1), a_p)
        dev += dev >= rec
        block = data[start:stop].reshape(a_p * (a_p - 1), r_p)
        np.take(gp, dev, axis=0, out=block, mode="clip")       # G_p(a'', a_-p)
        block.reshape(a_p, a_p - 1, r_p)[...] -= gp[:, None, :]  # - G_p(a', a_-p)
        indices[start:stop].reshape(a_p, a_p - 1, r_p)[...] = idx[:, None, :]
        start = stop
    if include_diagonal:   # the same entries, with an empty row at every (a', a')
        lengths = np.concatenate([np.where(np.eye(a, dtype=bool).ravel(), 0, r)
                                  for a, r in zip(shape, row_len)]).astype(np.int64)
    else:
        lengths = np.repeat(np.asarray(row_len, dtype=np.int64), num_rows)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    return _csr(data, indices, indptr, (len(lengths), total), drop_zeros)


def cce_constraint_matrix(payoffs: Any, *, drop_zeros: bool = False) -> Any:
    """CCE deviation-gain matrix ``[sum_p A_p, prod_p A_p]`` (CSR).

    Parameters
    ----------
    payoffs : array_like or NormalFormGame
        Payoff tensor ``[N, A_1, ..., A_N]``.
    drop_zeros : bool
        Remove explicitly stored zero coefficients from the sparsity pattern.

    Returns
    -------
    scipy.sparse.csr_matrix
        Rows in the order documented in the module docstring.
    """
    g, n, shape, total = _game(payoffs)
    row_len = [total - total // a for a in shape]          # joint actions with a_p != a'
    nnz = sum(a * k for a, k in zip(shape, row_len))
    itype = _index_dtype(total, nnz)
    _check_memory(nnz, total, "cce")
    data = np.empty(nnz)
    indices = np.empty(nnz, dtype=itype)
    start = 0
    for p in range(n):
        a_p = shape[p]
        before = int(np.prod(shape[:p], dtype=np.int64))
        after = int(np.prod(shape[p + 1:], dtype=np.int64))
        # The joint in C order as [before, A_p, after]; row a' holds, in C order,
        # the entries (l, b, r) with b != a': G_p(l, a', r) - G_p(l, b, r).
        gp = g[p].reshape(before, a_p, after)
        flat = np.arange(total, dtype=itype).reshape(before, a_p, after)
        block = data[start:start + a_p * row_len[p]].reshape(a_p, before, a_p - 1, after)
        cols = indices[start:start + a_p * row_len[p]].reshape(a_p, before, a_p - 1, after)
        for a in range(a_p):                    # vectorised over everything but a'
            np.subtract(gp[:, a:a + 1, :], gp[:, :a, :], out=block[a, :, :a, :])
            np.subtract(gp[:, a:a + 1, :], gp[:, a + 1:, :], out=block[a, :, a:, :])
            cols[a, :, :a, :] = flat[:, :a, :]
            cols[a, :, a:, :] = flat[:, a + 1:, :]
        start += a_p * row_len[p]
    lengths = np.repeat(np.asarray(row_len, dtype=np.int64), shape)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    return _csr(data, indices, indptr, (sum(shape), total), drop_zeros)


def constraint_matrix(payoffs: Any, concept: str = "ce", *, drop_zeros: bool = False,
                      include_diagonal: bool = False) -> Any:
    """:func:`ce_constraint_matrix` or :func:`cce_constraint_matrix` by ``concept``.

    ``include_diagonal`` applies to CE only (CCE rows have no diagonal).
    """
    from spielplatz.equilibria.deviations import check_concept

    if check_concept(concept) == "ce":
        return ce_constraint_matrix(payoffs, drop_zeros=drop_zeros,
                                    include_diagonal=include_diagonal)
    return cce_constraint_matrix(payoffs, drop_zeros=drop_zeros)


def num_constraints(shape: Any, concept: str = "ce") -> int:
    """Number of rows of the constraint matrix of a game with action counts ``shape``."""
    shape = [int(a) for a in shape]
    return sum(a * (a - 1) for a in shape) if concept.lower() == "ce" else sum(shape)


def constraint_players(shape: Any, concept: str = "ce") -> np.ndarray:
    """Player index of every row, ``[num_constraints]`` (for per-player epsilons)."""
    shape = [int(a) for a in shape]
    per = [a * (a - 1) for a in shape] if concept.lower() == "ce" else shape
    return np.repeat(np.arange(len(shape)), per)


def constraint_labels(shape: Any, concept: str = "ce") -> list[tuple]:
    """``(p, a', a'')`` (CE) or ``(p, a')`` (CCE) for every row, in row order."""
    shape = [int(a) for a in shape]
    if concept.lower() == "ce":
        return [(p, r, d) for p, a in enumerate(shape)
                for r in range(a) for d in range(a) if r != d]
    return [(p, d) for p, a in enumerate(shape) for d in range(a)]
