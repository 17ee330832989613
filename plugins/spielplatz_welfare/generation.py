"""Dense CCE rows and column generation for the ``welfare`` solver's CCE LPs.

A CCE LP has only ``sum_p A_p`` incentive rows (NES appendix, Theorem 2), the
normalisation and, for the max-min objectives, one row per player, over ``prod_p A_p``
columns; an optimal vertex has at most as many positive coordinates as there are rows.
Row ``(p, a')`` at the joint ``a`` is ``G_p(a', a_-p) - G_p(a)``, so the rows never need to
be stored as a sparse matrix: :class:`CCERows` keeps each player's payoffs as a matrix
``[A_p, R_p]`` (``R_p`` the other players' joint actions) and computes

* which rows can bind (``max(0, max_a (G_p(a', a_-p) - G_p(a))) > e``),
* any block of columns ``A[:, S]`` (dense, ``m x |S|``), and
* ``A^T w`` for all columns at once, as ``sum_p (w_p G_p)(a_-p) - (sum w_p) G_p(a)``,

all by numpy contractions of ``O(sum_p A_p |A|)`` operations.

:func:`solve_by_columns` solves the LP by column generation (the revised simplex
method's pricing done outside the LP): HiGHS solves the LP restricted to a few columns
(first the ``m + 1`` with the largest objective coefficients), the row duals ``y`` of
that LP price every column at once (reduced cost ``cost_j - a_j . y`` by
:meth:`CCERows.adjoint`), the most negative ones are added (HiGHS keeps its basis: a hot
start) and the loop stops when no column has a reduced cost below ``-PRICING_TOL``. The
restricted LP is kept feasible by one elastic column ``s >= 0`` (``A x - s <= e``) with a
large cost ``M``; its answer is used only when ``s = 0`` (``M`` grows otherwise).

Nothing is trusted from the restricted LP: the caller certifies the joint with the
host's rigorous certificate and the bound with the duals' Lagrangian bound over *all*
columns (:meth:`spielplatz_welfare.solver._Problem.reduced_costs`; any non-negative
duals give a valid bound), exactly as for the full LP, and solves the full LP when that
fails; a run that does not converge returns ``None``.

Measured (utilitarian CCE, the solver's LP phase, medians; docs/benchmarks.md): 3x10
0.6-0.8 ms against 12 ms for the full LP, 2x32 0.65-0.85 ms against 4.0 ms for the
lifted full LP. On 8 further random N(0, 1) games each of 3x10, 2x32, 2x64, 6^4 and 3^6
the whole solve took 1.8-3.8 ms against 3.9-33 ms with the full LP (one or two rounds);
on zero-sum, common-interest, integer and social-dilemma games and for the ``worst`` and
``egalitarian`` objectives it was never slower beyond noise (up to 7 rounds).

Row generation for CE LPs (start from the normalisation, add the violated CE rows,
repeat) was tried and dropped: it won only where the welfare-best cell is nearly a CE
(the benchmark's 2x32 games: 1-4 rounds), and lost 1.5-4x on most other random 2x32 and
2x64 games (18-28 rounds, up to half of the rows in the final LP).
"""

from __future__ import annotations

import math
import os
import threading
from typing import Any

import numpy as np

__all__ = [
    "ELASTIC_COST",
    "GENERATION_OPTIONS",
    "PRICING_TOL",
    "CCERows",
    "solve_by_columns",
]

#: A column enters when its reduced cost is below ``-PRICING_TOL`` (normalised units); at
#: the end every reduced cost is above it, so the Lagrangian bound exceeds the restricted
#: LP's optimum by at most about this much.
PRICING_TOL = 1e-9
#: Cost of the elastic column ``s`` (normalised units); multiplied by 100 while the
#: restricted optimum has ``s > 0``, up to :data:`ELASTIC_COST_LIMIT`.
ELASTIC_COST = 1e3
ELASTIC_COST_LIMIT = 1e11
#: HiGHS options of the restricted LPs: no presolve and no scaling (the normalised game
#: has coefficients in [-1, 1]); dual simplex was fastest with scaling off (3x10 and
#: 2x32 CCE: 0.57 and 0.66 ms against 0.86 and 1.7 ms with HiGHS' default scaling).
GENERATION_OPTIONS = {
    "presolve": "off",
    "simplex_strategy": 1,
    "simplex_scale_strategy": 0,
    "primal_feasibility_tolerance": 1e-9,
    "dual_feasibility_tolerance": 1e-9,
}


class CCERows:
    """The CCE incentive rows of an offset-free payoff tensor ``gc [N, A_1..A_N]``.

    Parameters
    ----------
    gc : numpy.ndarray
        Payoffs (each player's offset removed and scaled, as the solver's LP uses them).
    e : numpy.ndarray
        Right-hand side of every row ``(p, a')`` in the order of
        :func:`spielplatz.equilibria.constraints.cce_constraint_matrix`.

    Attributes
    ----------
    keep : numpy.ndarray of bool
        Rows that can bind: ``max(0, largest coefficient) > e`` (the others hold on the
        whole simplex). The same mask as ``row_max_over_simplex`` of the sparse matrix
        gives: every coefficient is the same float64 difference.
    m : int
        Number of kept rows.
    """

    def __init__(self, gc: np.ndarray, e: np.ndarray):
        shape = gc.shape[1:]
        n = int(np.prod(shape))
        self.shape, self.n = shape, n
        self.mats, self.dims, self.flat = [], [], []
        keep, start = [], 0
        for p, a_p in enumerate(shape):
            # the joint (C order) as [before, A_p, after]; the others' joint action is
            # r = l * after + r' (their axes in order), so G_p as [A_p, R_p] is a transpose
            after = int(np.prod(shape[p + 1:], dtype=np.int64))
            before = n // (a_p * after)
            g3 = gc[p].reshape(before, a_p, after)
            gp = g3.transpose(1, 0, 2).reshape(a_p, before * after)     # [A_p, R_p]
            # the largest coefficient of row a' is max_r (G_p(a', r) - min_a G_p(a, r))
            top = (gp - gp.min(axis=0)).max(axis=1)
            k_p = np.maximum(top, 0.0) > e[start:start + a_p]
            start += a_p
            keep.append(k_p)
            self.mats.append(gp[k_p])
            self.dims.append((before, a_p, after))
            self.flat.append(g3)
        self.keep = np.concatenate(keep) if keep else np.zeros(0, bool)
        self.m = int(self.keep.sum())

    def block(self, cols: np.ndarray) -> np.ndarray:
        """``A[:, cols]`` of the kept rows, dense ``[m, len(cols)]``."""
        parts = []
        for g, (_, a_p, after), g3 in zip(self.mats, self.dims, self.flat):
            if g.shape[0]:
                r = (cols // (a_p * after)) * after + cols % after
                parts.append(g[:, r] - g3.reshape(-1)[cols][None, :])
        return np.concatenate(parts, axis=0) if parts else np.zeros((0, len(cols)))

    def adjoint(self, w: np.ndarray) -> np.ndarray:
        """``A^T w`` over all columns (``w`` one number per kept row), ``[n]``."""
        out = np.zeros(self.n)
        i = 0
        for g, (before, _, after), g3 in zip(self.mats, self.dims, self.flat):
            k = g.shape[0]
            if k:
                wp = w[i:i + k]
                i += k
                part = (wp @ g).reshape(before, 1, after) - wp.sum() * g3
                out += part.reshape(-1)
        return out


_LOCAL = threading.local()


def _highs() -> Any:
    """A silent HiGHS instance with :data:`GENERATION_OPTIONS` and no model.

    One instance per thread and process is kept and cleared for each LP: creating one
    (with its options) took 50-100 microseconds, ``clearModel`` 1.
    """
    import highspy
    from spielplatz.system.fdio import stdout_to_devnull

    h = getattr(_LOCAL, "highs", None)
    if h is not None and _LOCAL.pid == os.getpid():
        h.clearModel()
        return h
    with stdout_to_devnull():  # highspy >= 1.16 prints a banner on fd 1 when created
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in GENERATION_OPTIONS.items():
        h.setOptionValue(key, value)
    _LOCAL.highs, _LOCAL.pid = h, os.getpid()
    return h


def _run(h: Any) -> tuple:
    """``(solution or None when not optimal, simplex iterations, objective)`` of one run."""
    h.run()
    info = h.getInfo()
    used = max(int(info.simplex_iteration_count), 0)
    if h.getModelStatus() != _optimal():
        return None, used, math.nan
    sol = h.getSolution()
    if not (sol.value_valid and sol.dual_valid):
        return None, used, math.nan
    return sol, used, float(info.objective_function_value)


def _optimal() -> Any:
    import highspy

    return highspy.HighsModelStatus.kOptimal


def _finite(*arrays: np.ndarray) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays)


def _basic(statuses: Any) -> np.ndarray:
    import highspy

    basic = highspy.HighsBasisStatus.kBasic
    return np.array([s == basic for s in statuses], dtype=bool)


def _dense_columns(block: np.ndarray) -> tuple:
    """Column-wise ``(starts, indices, values)`` of a dense ``[rows, cols]`` block."""
    rows, cols = block.shape
    starts = np.arange(0, rows * cols, rows, dtype=np.int32)
    indices = np.tile(np.arange(rows, dtype=np.int32), cols)
    return starts, indices, np.ascontiguousarray(block.T, dtype=np.float64).reshape(-1)


def solve_by_columns(problem: Any, *, basis: bool = False, first: int | None = None,
                     per_round: int | None = None) -> tuple | None:
    """Solve ``problem``'s CCE LP by column generation.

    Parameters
    ----------
    problem : spielplatz_welfare.solver._Problem
        A CCE problem with dense rows (``problem.rows``, a :class:`CCERows`).
    basis : bool
        Also return which columns and rows are basic.
    first, per_round : int, optional
        Columns of the first restricted LP and most columns added per round
        (default ``m + 1`` each, ``m`` the kept rows).

    Returns
    -------
    (LPResult, dict) or None
        The answer in the full LP's layout (columns ``x`` then ``t`` for the max-min
        objectives; rows: the kept CCE rows, the normalisation, the max-min rows; the
        columns' duals are their reduced costs, columns outside the restricted LP are
        nonbasic at 0) and ``{"rounds", "columns", "elastic_cost"}``; ``None`` when HiGHS
        does not report an optimum or the elastic column stays positive.
    """
    import highspy
    from spielplatz.equilibria.highs import LPResult

    rows = problem.rows
    n, m, k = problem.n, rows.m, problem.num_players
    maxmin = problem.maxmin
    num_rows = m + 1 + (k if maxmin else 0)
    # objective coefficients (maximised) of the joint's columns, and their other rows
    if maxmin:
        weights = problem.a / k
        score = weights @ problem.gn                     # a guess of the duals: uniform
        gmm = -problem.a[:, None] * problem.gn           # [k, n]: -a_p gn_p x
        cost_x = np.zeros(n)
    else:
        score = problem.c
        gmm = None
        cost_x = -problem.c
    first = m + 1 if first is None else first
    per_round = m + 1 if per_round is None else per_round
    first = min(max(first, 1), n)
    cols = (np.argpartition(-score, first - 1)[:first] if first < n else np.arange(n))
    cols = np.sort(cols)

    def column_block(idx: np.ndarray) -> np.ndarray:
        parts = [rows.block(idx), np.ones((1, len(idx)))]
        if maxmin:
            parts.append(gmm[:, idx])
        return np.concatenate(parts, axis=0)

    row_lower = np.full(num_rows, -np.inf)
    row_upper = np.zeros(num_rows)
    row_upper[:m] = problem.e
    row_lower[m] = row_upper[m] = 1.0
    if maxmin:
        row_upper[m + 1:] = -problem.a * problem.shift
    # auxiliary columns first: the elastic s (when there are CCE rows), then t (max-min)
    aux_blocks, aux_cost, aux_lower = [], [], []
    elastic = m > 0
    cost_s = ELASTIC_COST
    if elastic:
        col = np.zeros((num_rows, 1))
        col[:m, 0] = -1.0
        aux_blocks.append(col)
        aux_cost.append(cost_s)
        aux_lower.append(0.0)
    if maxmin:
        col = np.zeros((num_rows, 1))
        col[m + 1:, 0] = 1.0
        aux_blocks.append(col)
        aux_cost.append(-1.0)
        aux_lower.append(-np.inf)
    num_aux = len(aux_blocks)
    block = np.concatenate(aux_blocks + [column_block(cols)], axis=1)
    width = block.shape[1]
    starts, indices, values = _dense_columns(block)
    h = _highs()
    status = h.passModel(width, num_rows, int(values.size), int(highspy.MatrixFormat.kColwise),
                         int(highspy.ObjSense.kMinimize), 0.0,
                         np.concatenate([aux_cost, cost_x[cols]]),
                         np.concatenate([aux_lower, np.zeros(len(cols))]),
                         np.full(width, np.inf), row_lower, row_upper,
                         starts, indices, values, np.zeros(width, dtype=np.int32))
    if status == highspy.HighsStatus.kError:
        return None
    in_lp = np.zeros(n, bool)
    in_lp[cols] = True
    order = [cols]
    rounds, iterations = 0, 0
    while True:
        rounds += 1
        sol, used, objective = _run(h)
        iterations += used
        if sol is None:
            return None
        y = np.asarray(sol.row_dual, dtype=np.float64)
        reduced = cost_x - y[m]
        if m:
            reduced -= rows.adjoint(y[:m])
        if maxmin:
            reduced -= y[m + 1:] @ gmm
        candidates = np.flatnonzero((reduced < -PRICING_TOL) & ~in_lp)
        if candidates.size == 0:
            values_now = np.asarray(sol.col_value, dtype=np.float64)
            # s within HiGHS' primal tolerance is the rounding any LP answer has
            if elastic and values_now[0] > GENERATION_OPTIONS["primal_feasibility_tolerance"]:
                if cost_s >= ELASTIC_COST_LIMIT:
                    return None
                cost_s *= 100.0
                h.changeColCost(0, cost_s)
                continue
            break
        if candidates.size > per_round:
            candidates = candidates[np.argpartition(reduced[candidates], per_round - 1)
                                    [:per_round]]
        new = column_block(candidates)
        s_, i_, v_ = _dense_columns(new)
        if h.addCols(len(candidates), cost_x[candidates], np.zeros(len(candidates)),
                     np.full(len(candidates), np.inf), int(v_.size), s_, i_,
                     v_) == highspy.HighsStatus.kError:
            return None
        in_lp[candidates] = True
        order.append(candidates)
    members = np.concatenate(order)
    extra_cols = 1 if maxmin else 0
    x = np.zeros(n + extra_cols)
    x[members] = values_now[num_aux:]
    col_dual = np.zeros(n + extra_cols)
    col_dual[:n] = reduced
    col_values = np.asarray(sol.col_dual, dtype=np.float64)
    if maxmin:
        x[n] = values_now[num_aux - 1]
        col_dual[n] = col_values[num_aux - 1]
    col_basic = row_basic = np.zeros(0, bool)
    if basis:
        found = h.getBasis()
        if found.valid:
            status_cols = _basic(found.col_status)
            col_basic = np.zeros(n + extra_cols, bool)
            col_basic[members] = status_cols[num_aux:]
            if maxmin:
                col_basic[n] = status_cols[num_aux - 1]
            row_basic = _basic(found.row_status)
    if not col_basic.size:
        col_basic, row_basic = np.zeros(n + extra_cols, bool), np.zeros(num_rows, bool)
    if not _finite(x, y, col_dual):
        return None
    result = LPResult(status="optimal", x=x, row_dual=y, col_dual=col_dual, objective=objective,
                      iterations=iterations, col_basic=col_basic, row_basic=row_basic)
    return result, {"rounds": rounds, "columns": int(members.size), "elastic_cost": cost_s}
