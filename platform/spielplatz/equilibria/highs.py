"""A thin wrapper around HiGHS (through ``highspy``), shared by the LP-based solvers.

Used by the ``welfare`` solver's LPs and by :mod:`spielplatz.equilibria.polytope` (the
support / facial-reduction LP of the exact solvers).

``highspy`` is called directly rather than through
``scipy.optimize.linprog(method="highs-ds")``: both run the same solver, but the
direct call passes the CSR arrays as buffers (no input validation or
conversion) and exposes the simplex basis (used to detect a unique optimum).
Measured on random games with the same options (median of 7): 8.9 ms vs 18.9 ms
(2x32 CE), 6.9 ms vs 13.1 ms (3x10 CE), 12.5 ms vs 16.1 ms (3x10 CCE).

Every problem is solved as a *minimisation*; callers negate the cost to
maximise. Sign conventions of the returned duals (HiGHS' own, for a
minimisation): a row at its upper bound has ``row_dual <= 0``, a column at its
lower bound has ``col_dual >= 0`` (its reduced cost).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spielplatz.system.fdio import stdout_to_devnull

__all__ = ["LPResult", "solve_lp", "DEFAULT_OPTIONS", "STRICT_OPTIONS"]

#: Options of the first attempt: dual simplex without presolve was fastest on
#: the (C)CE LPs measured (2x32, 3x10, 4x8 random games).
DEFAULT_OPTIONS = {
    "presolve": "off",
    "simplex_strategy": 1,             # dual simplex
    "primal_feasibility_tolerance": 1e-9,
    "dual_feasibility_tolerance": 1e-9,
}

#: Options of the retry after a solution failed verification.
STRICT_OPTIONS = {
    "presolve": "on",
    "simplex_strategy": 1,
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
}


@dataclass
class LPResult:
    """Outcome of one LP solve.

    Attributes
    ----------
    status : str
        ``"optimal"``, ``"infeasible"``, ``"unbounded"`` or HiGHS' status text.
    x : numpy.ndarray
        Column values (``[num_cols]``; NaN-free, zeros when not available).
    row_dual, col_dual : numpy.ndarray
        Dual values (HiGHS' sign convention for a minimisation).
    objective : float
        Objective value of the minimisation.
    iterations : int
        Simplex (or IPM) iterations.
    col_basic, row_basic : numpy.ndarray of bool
        Which columns / rows (slacks) are basic in the final basis (all
        ``False`` when no basis is available).
    """

    status: str
    x: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    objective: float
    iterations: int
    col_basic: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    row_basic: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


def solve_lp(cost: np.ndarray, matrix: Any, row_lower: np.ndarray, row_upper: np.ndarray,
             col_lower: np.ndarray, col_upper: np.ndarray, *,
             options: dict | None = None, basis: bool = False,
             reuse: bool = False, duals: bool = True) -> LPResult:
    """Minimise ``cost @ x`` s.t. ``row_lower <= matrix @ x <= row_upper`` and column bounds.

    Parameters
    ----------
    cost : numpy.ndarray
        ``[num_cols]``.
    matrix : scipy.sparse.csr_matrix or tuple
        ``[num_rows, num_cols]``, or its CSR arrays ``(indptr, indices, data, shape)``
        (int32, int32, float64).
    row_lower, row_upper, col_lower, col_upper : numpy.ndarray
        Bounds; ``-inf`` / ``inf`` for none.
    options : dict, optional
        HiGHS options (default :data:`DEFAULT_OPTIONS`).
    basis : bool
        Also return which columns and rows are basic.
    reuse : bool
        Solve on this thread's own HiGHS instance, its model cleared and its options
        reset (:func:`_instance`), instead of a new one: for many small LPs in a row.
    duals : bool
        Also return the duals (zeros otherwise).

    Returns
    -------
    LPResult
    """
    import highspy

    if isinstance(matrix, tuple):
        indptr, indices, data, (num_rows, num_cols) = matrix
    else:
        indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
        num_rows, num_cols = matrix.shape
    h = _instance(reuse)
    for key, value in (DEFAULT_OPTIONS if options is None else options).items():
        h.setOptionValue(key, value)
    # The array overload of passModel takes numpy buffers directly (setting the
    # fields of a HighsLp converts element by element and is much slower).
    h.passModel(int(num_cols), int(num_rows), int(indptr[-1]), int(highspy.MatrixFormat.kRowwise),
                int(highspy.ObjSense.kMinimize), 0.0,
                np.ascontiguousarray(cost, dtype=np.float64),
                np.ascontiguousarray(col_lower, dtype=np.float64),
                np.ascontiguousarray(col_upper, dtype=np.float64),
                np.ascontiguousarray(row_lower, dtype=np.float64),
                np.ascontiguousarray(row_upper, dtype=np.float64),
                np.ascontiguousarray(indptr, dtype=np.int32),
                np.ascontiguousarray(indices, dtype=np.int32),
                np.ascontiguousarray(data, dtype=np.float64),
                np.zeros(num_cols, dtype=np.int32))            # all columns continuous
    h.run()
    model_status = h.getModelStatus()
    text = h.modelStatusToString(model_status)
    status = {"Optimal": "optimal", "Infeasible": "infeasible",
              "Unbounded": "unbounded"}.get(text, text)
    info = h.getInfo()
    iterations = int(max(info.simplex_iteration_count, 0) + max(info.ipm_iteration_count, 0))
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=np.float64) if sol.value_valid else np.zeros(num_cols)
    if duals and sol.dual_valid:
        row_dual = np.asarray(sol.row_dual, dtype=np.float64)
        col_dual = np.asarray(sol.col_dual, dtype=np.float64)
    else:
        row_dual, col_dual = np.zeros(num_rows), np.zeros(num_cols)
    final_basis = h.getBasis() if basis else None
    if final_basis is not None and final_basis.valid:
        basic = highspy.HighsBasisStatus.kBasic
        col_basic = np.array([s == basic for s in final_basis.col_status], dtype=bool)
        row_basic = np.array([s == basic for s in final_basis.row_status], dtype=bool)
    else:
        col_basic, row_basic = np.zeros(num_cols, bool), np.zeros(num_rows, bool)
    objective = float(info.objective_function_value) if status == "optimal" else float("nan")
    if duals:
        row_dual, col_dual = np.nan_to_num(row_dual), np.nan_to_num(col_dual)
    return LPResult(status=status, x=np.nan_to_num(x), row_dual=row_dual,
                    col_dual=col_dual, objective=objective,
                    iterations=iterations, col_basic=col_basic, row_basic=row_basic)


#: Each thread's reusable HiGHS instance (``solve_lp(..., reuse=True)``).
_LOCAL = threading.local()
#: Held while an instance is created (its banner's redirect of fd 1 is process-wide).
_CREATING = threading.Lock()


def _instance(reuse: bool) -> Any:
    """A HiGHS instance without output: a new one, or (``reuse``) this thread's own, its
    model and options reset (creating one costs more than a small LP's simplex)."""
    import highspy

    h = getattr(_LOCAL, "highs", None) if reuse else None
    if h is not None:
        h.clearModel()
        h.resetOptions()
    else:
        # highspy >= 1.16 prints a banner on fd 1 when created; the redirect is
        # process-wide, so threads (the batch's host threads) take turns
        with _CREATING, stdout_to_devnull():
            h = highspy.Highs()
        if reuse:
            _LOCAL.highs = h
    h.setOptionValue("output_flag", False)
    return h
