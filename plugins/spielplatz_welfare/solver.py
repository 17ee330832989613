"""The ``welfare`` solver: welfare-optimal points of the CE / CCE polytope by LPs.

Objectives are the host's registered welfare functions of values
(:mod:`spielplatz.equilibria.welfare_functions`; normative disagreement, Appendix A,
Table 2), looked up with ``registered_welfare_function``: this module keeps no table
of them, only the exact method for each built-in one, and the solver's own two
*modes*, which are not welfare functions. For a game with payoffs ``G[p, a]``, a
joint distribution ``sigma``, values ``v_p = sum_a sigma(a) G_p(a)`` and the
disagreement point ``d`` (option ``disagreement``, default 0):

* ``utilitarian``: ``sum_p v_p`` (the welfare-maximising CE of the MaxEnt CE
  tutorial, section "Welfare-Maximising CE", and the max-welfare objective
  ``mu sum_a W(a) sigma(a)`` of NES appendix Section A; ``d`` only shifts it),
* ``egalitarian``: ``min_p (v_p - d_p)`` (an auxiliary variable ``t <= v_p - d_p``),
* ``kalai_smorodinsky``: ``min_p (v_p - d_p) / (I_p - d_p)`` with the ideal point
  ``I_p = max v_p`` over the polytope (one LP per player first; refused when some
  ``I_p <= d_p``), then the max-min LP ``(v_p - d_p) >= t (I_p - d_p)``,
* ``nash``: ``prod_p (v_p - d_p)``, maximised as ``sum_p log(v_p - d_p)`` by cutting
  planes (LPs only, a certified gap; :mod:`spielplatz_welfare.nonlinear`); status
  ``infeasible`` when no (C)CE gives every player more than ``d`` (the Nash welfare
  is then 0 everywhere),
* mode ``weighted``: ``sum_p w_p v_p``; mode ``worst``: the minimum of ``sum_p v_p``
  (the worst equilibrium).

Welfare functions defined on trajectories (``inequity_averse``) and a plugin's own
functions of values are refused with one line (no certified method; nothing is
approximated silently). The polytope is given by the (C)CE incentive constraints of
NES appendix Theorems 1 and 2 (``gain <= epsilon_p``), ``sigma >= 0`` and
``sum sigma = 1``: CE rows as a sparse matrix from
:mod:`spielplatz.equilibria.constraints`, CCE rows as dense per-player payoff matrices
(:class:`spielplatz_welfare.generation.CCERows`: only ``sum_p A_p`` rows, applied by
tensor contractions). Every LP is solved by HiGHS in float64 on the game scaled to payoff
range 1 (offset and positive scaling do not change the answer): CCE LPs by column
generation (:mod:`spielplatz_welfare.generation`), CE LPs, and any CCE LP whose answer is
not certified, as one full LP. The distribution is cleaned (tiny negatives clipped,
renormalised) and certified with the host's rigorous certificate
(:func:`spielplatz.equilibria.certificate.certify`), and the optimum with the Lagrangian
bound of the LP's duals over all rows and columns, before ``status="optimal"`` is
reported.

``maxent_tiebreak=True`` returns the maximum-entropy distribution on the face
of optimal solutions (see :mod:`spielplatz.equilibria.mwmre.face`), so the
answer is reproducible when the optimum is not unique; NES appendix E explains
why welfare and (relative) entropy objectives select different equilibria. The
face is read off the LP's duals by complementary slackness (coordinates with a
reduced cost above ``FACE_DUAL_TOL`` stay zero, rows with a dual above it stay
tight), which is exact up to that tolerance, instead of a thickened objective
constraint; the tie-broken answer is re-verified (gap, objective loss at most
``TIEBREAK_OBJECTIVE_TOL`` of the payoff range) or the LP's answer is kept. It is
not offered for ``nash``, whose optimum is certified to a tolerance, not as a face.

Welfare in ``Solution.objective`` and ``extra`` is in the game's payoff units (a
ratio for ``kalai_smorodinsky``). Efficiency ratios (:func:`efficiency_summary`)
follow the convention documented there for non-positive welfare.
"""

from __future__ import annotations

import difflib
import math
import time
from typing import Any

import numpy as np

from spielplatz.equilibria import constraints, deviations, measures
from spielplatz.equilibria.certificate import GAP_TOLERANCE as GAP_TOL, certify
from spielplatz.errors import SpielplatzError
from spielplatz.equilibria.highs import DEFAULT_OPTIONS, STRICT_OPTIONS, solve_lp
from spielplatz.games.normal_form import NormalFormGame
from spielplatz.results import Solution
from spielplatz.api import normal_form_game
from spielplatz.validation import (as_bool, check_option_names,
                                   per_player)

from . import OPTIONS as _REGISTERED_OPTIONS
from .generation import CCERows, solve_by_columns
from spielplatz.equilibria.mwmre.face import maxent_on_face, row_max_over_simplex

__all__ = ["WelfareSolver", "efficiency_summary", "solvable_objectives", "MODES", "OPTIONS"]

#: The solver's own modes (not welfare functions): ``weights @ values`` and the worst
#: equilibrium. Every other objective is a registered welfare function
#: (:func:`spielplatz.get_welfare_function`); there is no table of them here.
MODES = ("weighted", "worst")

#: How each objective is maximised (reported in ``extra["method"]``).
METHODS_TEXT = {
    "utilitarian": "linear programme",
    "weighted": "linear programme",
    "worst": "linear programme (minimum)",
    "egalitarian": "linear programme (max-min, relative to d)",
    "kalai_smorodinsky": "ideal point by one linear programme per player, then a max-min "
                         "linear programme",
    "nash": "cutting planes (Kelley) on the logarithm: linear programmes only",
}

#: The declared options (:class:`spielplatz.Option`, registered with the plugin).
OPTIONS = _REGISTERED_OPTIONS

#: Certified duality-gap tolerance (objective units on the normalised game).
DUALITY_TOL = 1e-7
#: Dual values above this (normalised units) fix a variable / row on the optimal face.
FACE_DUAL_TOL = 1e-9
#: Objective loss (normalised units) the tie-break may spend.
TIEBREAK_OBJECTIVE_TOL = 1e-8

#: The full LP's attempts: the host's defaults with HiGHS' scaling off first (the
#: normalised game's coefficients lie in [-1, 1]; measured 3x10 CE 3.4 ms against 5.2 ms,
#: 2x32 CE 7.4 ms against 8.8 ms), then the defaults, then stricter settings.
_RETRY_OPTIONS = ({**DEFAULT_OPTIONS, "simplex_scale_strategy": 0}, DEFAULT_OPTIONS,
                  STRICT_OPTIONS,
                  {"solver": "ipm", "run_crossover": "on", "presolve": "on",
                   "primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})


# --------------------------------------------------------------------------- problem setup
class _Problem:
    """The LP of one game, concept, objective and epsilon, on the normalised game.

    Rows of the LP, in order: the (C)CE rows that can bind (``m``), the
    normalisation ``sum x = 1``, for the max-min objectives (``egalitarian``,
    ``kalai_smorodinsky``) the rows ``t - a_p (gn_p x - shift_p) <= 0`` (one per
    player: ``a = 1`` and the gains over ``d`` for ``egalitarian``, ``a_p`` the
    inverse of the normalised ``I_p - d_p`` for ``kalai_smorodinsky``), then, in the *lifted*
    formulation, definition rows. Columns: the joint ``x`` (``n``), for the max-min
    objectives the auxiliary ``t``, then the lifted formulation's auxiliary columns.

    Lifted formulation (two-player CCE, full LP only): the CCE row of player ``p`` and
    deviation ``a'`` reads ``sum_r G_p(a', r) m_p(r) - v_p <= e_p`` with the
    others' marginal ``m_p`` and the value ``v_p`` defined by equality rows.
    It has ``O(N |A|)`` non-zeros instead of ``O(sum_p A_p |A|)`` and measured
    5-20x faster for two players (no gain for three or more). CCE LPs are first solved
    by column generation over the dense rows :attr:`rows`, which was faster still
    (2x32: 1.1 ms against 3.9 ms); the sparse matrix :attr:`A` is then never built.
    """

    def __init__(self, game: NormalFormGame, concept: str, objective: str,
                 weights: np.ndarray | None, epsilon: np.ndarray, *,
                 disagreement: np.ndarray | None = None, ideal: np.ndarray | None = None):
        g = game.payoffs
        self.game = game
        self.concept = concept
        self.objective = objective
        self.shape = game.shape
        self.num_players = game.num_players
        self.n = game.num_joint_actions
        scale = float(deviations.payoff_scale(g))
        self.range = scale
        self.scale = scale if scale > 0 else 1.0
        self.offset = float(g.min())
        gn = (g - self.offset) / self.scale                    # payoff range <= 1 per player
        self.gn_tensor = gn
        self.gn = gn.reshape(self.num_players, -1)
        # (C)CE rows use each player's payoffs with its own offset removed: only
        # differences of one player's payoffs enter them, and a large offset costs
        # no digits (the welfare objective keeps the common offset: it compares players)
        gc = deviations.remove_offsets(g) / self.scale
        self.gc_tensor = gc
        self.gc = gc.reshape(self.num_players, -1)
        self.epsilon = epsilon                                  # original units, [N]
        start = time.perf_counter()
        self.row_players = constraints.constraint_players(self.shape, concept)
        e_full = (epsilon / self.scale)[self.row_players]
        self.num_constraints_total = len(e_full)
        # Rows that hold on the whole simplex (max(0, largest coefficient) <= e) never bind.
        self._A = None
        if concept == "cce":
            # dense rows (no sparse matrix unless a full LP needs one, see ``A``)
            self.rows = CCERows(gc, e_full)
            keep = self.rows.keep
        else:
            self.rows = None
            full = constraints.constraint_matrix(gc, concept)
            keep = row_max_over_simplex(full) > e_full if full.shape[0] else np.zeros(0, bool)
            self._A = full[keep]
        self.keep = keep
        self.m = int(keep.sum())
        self.e = e_full[keep]
        self.lifted = concept == "cce" and self.num_players == 2 and self.n > 4
        #: seconds per phase (constraint building, LPs, certification, tie-break)
        self.timings = {"constraints": time.perf_counter() - start, "lp": 0.0,
                        "certification": 0.0, "tiebreak": 0.0}
        k = self.num_players
        d = np.zeros(k) if disagreement is None else np.asarray(disagreement, dtype=float)
        self.disagreement = d
        self.ideal = None if ideal is None else np.asarray(ideal, dtype=float)
        # The objective in payoff units is ``normalised * value_scale + value_offset``.
        self.value_scale = self.scale
        self.c = self.a = self.shift = None
        if objective == "utilitarian":
            self.c = self.gn.sum(axis=0)
            self.value_offset = k * self.offset
        elif objective == "weighted":
            self.c = weights @ self.gn
            self.value_offset = float(weights.sum()) * self.offset
        elif objective == "worst":
            self.c = -self.gn.sum(axis=0)
            self.value_offset = -k * self.offset             # the bound is on -welfare
        elif objective == "egalitarian":
            # t <= gn_p x - shift_p = (v_p - d_p - (offset - min d)) / scale
            self.a = np.ones(k)
            self.shift = (d - d.min()) / self.scale
            self.value_offset = self.offset - float(d.min())
        elif objective == "kalai_smorodinsky":
            # t <= (v_p - d_p) / (I_p - d_p) = a_p (gn_p x - shift_p), a ratio (no units)
            self.a = self.scale / (self.ideal - d)
            self.shift = (d - self.offset) / self.scale
            self.value_scale, self.value_offset = 1.0, 0.0
        else:                                                   # pragma: no cover
            raise SpielplatzError(f"no linear programme for objective {objective!r}")

    @property
    def A(self) -> Any:
        """The kept (C)CE rows as a ``scipy.sparse.csr_matrix`` ``[m, n]`` (built on first
        use for CCE, whose column generation needs only :attr:`rows`)."""
        if self._A is None:
            full = constraints.constraint_matrix(self.gc_tensor, self.concept)
            self._A = full[self.keep]
        return self._A

    def adjoint(self, w: np.ndarray) -> np.ndarray:
        """``A^T w`` (``w`` one number per kept row), ``[n]``."""
        if self.rows is not None:
            return self.rows.adjoint(w)
        return self.A.T @ w

    @property
    def maxmin(self) -> bool:
        """Whether the objective is ``min_p a_p (gn_p x - shift_p)`` (an auxiliary ``t``)."""
        return self.a is not None

    def to_payoff(self, normalised: float) -> float:
        """A normalised objective value (or bound) in the objective's own units."""
        return float(normalised) * self.value_scale + self.value_offset

    def lp_arrays(self) -> tuple:
        """``(cost, matrix, row_lower, row_upper, col_lower, col_upper)`` of the minimisation."""
        import scipy.sparse as sp

        n, m, k = self.n, self.m, self.num_players
        ega = self.maxmin
        extra_cols = 1 if ega else 0
        def pad(block: Any, left: int, right: int) -> Any:
            parts = ([sp.csr_matrix((block.shape[0], left))] if left else []) + [block] + (
                [sp.csr_matrix((block.shape[0], right))] if right else [])
            return parts[0] if len(parts) == 1 else sp.hstack(parts, format="csr")

        ones = sp.csr_matrix(np.ones((1, n)))
        if self.lifted:
            aux, cce_rows, definitions = self._lifted_rows()
            width = n + extra_cols + aux
            rows = [pad(cce_rows, n + extra_cols, 0)]
        else:
            width = n + extra_cols
            rows = [pad(self.A, 0, extra_cols)]
        rows.append(pad(ones, 0, width - n))
        if ega:
            rows.append(sp.hstack([sp.csr_matrix(-self.a[:, None] * self.gn),
                                   sp.csr_matrix(np.ones((k, 1))),
                                   sp.csr_matrix((k, width - n - 1))], format="csr"))
        num_defs = 0
        if self.lifted:
            left = sp.hstack([definitions[0], sp.csr_matrix((definitions[0].shape[0], extra_cols)),
                              definitions[1]], format="csr")
            rows.append(left)
            num_defs = left.shape[0]
        matrix = sp.vstack(rows, format="csr")
        cost = np.zeros(width)
        if ega:
            cost[n] = -1.0
        else:
            cost[:n] = -self.c
        col_lower = np.full(width, -np.inf)
        col_lower[:n] = 0.0
        col_upper = np.full(width, np.inf)
        total = matrix.shape[0]
        row_lower = np.full(total, -np.inf)
        row_upper = np.zeros(total)
        row_upper[:m] = self.e
        row_lower[m] = row_upper[m] = 1.0
        if ega:
            row_upper[m + 1:m + 1 + k] = -self.a * self.shift      # t - a_p gn_p x <= -a_p shift_p
        if num_defs:
            row_lower[total - num_defs:] = 0.0
        return cost, matrix, row_lower, row_upper, col_lower, col_upper

    def _lifted_rows(self) -> tuple:
        """Lifted CCE rows over ``[m_1 .. m_N, v_1 .. v_N]`` and their definition rows."""
        import scipy.sparse as sp

        n, k, shape = self.n, self.num_players, self.shape
        sizes = [n // a for a in shape]                      # R_p
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        aux = int(offsets[-1]) + k
        flat = np.arange(n).reshape(shape)
        # CCE rows (p, a'): sum_r G_p(a', r) m_p(r) - v_p, kept rows only.
        r_idx, c_idx, vals = [], [], []
        row = 0
        for p in range(k):
            gp = np.moveaxis(self.gc_tensor[p], p, 0).reshape(shape[p], sizes[p])
            for a in range(shape[p]):
                r_idx.append(np.full(sizes[p] + 1, row))
                c_idx.append(np.concatenate([offsets[p] + np.arange(sizes[p]),
                                             [offsets[-1] + p]]))
                vals.append(np.concatenate([gp[a], [-1.0]]))
                row += 1
        full = sp.csr_matrix((np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))),
                             shape=(row, aux))
        cce_rows = full[self.keep]
        # Definitions: m_p(r) - sum_{a_p} x(a_p, r) = 0 and v_p - G_p . x = 0.
        x_parts, a_parts = [], []
        for p in range(k):
            idx = np.moveaxis(flat, p, 0).reshape(shape[p], sizes[p])
            rr = np.repeat(np.arange(sizes[p])[None, :], shape[p], axis=0).ravel()
            x_parts.append(sp.csr_matrix((-np.ones(n), (rr, idx.ravel())), shape=(sizes[p], n)))
            a_parts.append(sp.csr_matrix((np.ones(sizes[p]), (np.arange(sizes[p]),
                                          offsets[p] + np.arange(sizes[p]))),
                                         shape=(sizes[p], aux)))
        x_parts.append(sp.csr_matrix(-self.gc))
        a_parts.append(sp.csr_matrix((np.ones(k), (np.arange(k), offsets[-1] + np.arange(k))),
                                     shape=(k, aux)))
        return aux, cce_rows, (sp.vstack(x_parts, format="csr"), sp.vstack(a_parts, format="csr"))

    # -- measures of a joint (normalised units) ---------------------------------------
    def normalised_objective(self, x: np.ndarray) -> float:
        if self.maxmin:
            return float((self.a * (self.gn @ x - self.shift)).min())
        return float(self.c @ x)

    def dual_objective(self, lp_row_dual: np.ndarray) -> tuple:
        """``(lam, c_eff, constant)``: duals of the (C)CE rows and the objective they price.

        For ``egalitarian`` and ``kalai_smorodinsky`` the objective is the dual-weighted
        ``sum_p mu_p a_p (gn_p x - shift_p)`` (``min_p y_p <= sum_p mu_p y_p`` for any
        ``mu`` in the simplex).
        """
        m = self.m
        lam = np.maximum(-lp_row_dual[:m], 0.0)              # duals of A x <= e
        if self.maxmin:
            k = self.num_players
            mu = np.maximum(-lp_row_dual[m + 1:m + 1 + k], 0.0)
            mu = mu / mu.sum() if mu.sum() > 0 else np.full(k, 1.0 / k)
            weights = mu * self.a
            return lam, weights @ self.gn, -float(weights @ self.shift)
        return lam, self.c, 0.0

    def reduced_costs(self, lp_row_dual: np.ndarray) -> tuple:
        """``(bound, r)``: a certified upper bound on the normalised objective and the
        reduced costs ``r >= 0`` of the joint's coordinates under the LP's duals."""
        lam, c, constant = self.dual_objective(lp_row_dual)
        priced = c - self.adjoint(lam) if self.m else c.copy()
        top = float(priced.max())
        return top + float(lam @ self.e) + constant, top - priced

    def dual_bound(self, lp_row_dual: np.ndarray) -> float:
        """A certified upper bound on the normalised objective from the LP's row duals."""
        return self.reduced_costs(lp_row_dual)[0]

    def achieved(self, joint: np.ndarray) -> np.ndarray:
        """Largest constrained deviation gain per player (original units).

        For a CE only the off-diagonal gains are constraints (the diagonal is
        zero by definition), so a negative epsilon can be certified; a player
        with one action has no CE constraint (``-inf``).
        """
        gains = deviations.gains(self.game.payoffs, joint, self.concept)
        if self.concept == "cce":
            return np.array([float(g.max()) for g in gains])
        out = []
        for g in gains:
            off = g[~np.eye(g.shape[0], dtype=bool)]
            out.append(float(off.max()) if off.size else -np.inf)
        return np.array(out)

    def certified(self, joint: np.ndarray) -> bool:
        """The host's rigorous certificate (:func:`spielplatz.equilibria.certificate.certify`):
        gain minus epsilon within ``GAP_TOL`` of the payoff range, decided in exact
        arithmetic where rounding could decide it (no false failures on near ties)."""
        return certify(self.game.payoffs, joint, self.concept, epsilon=self.epsilon,
                       tolerance=GAP_TOL).certified


def _clean(x: np.ndarray) -> np.ndarray | None:
    x = np.where(np.isfinite(x), x, 0.0)
    x = np.clip(x, 0.0, None)
    total = x.sum()
    if not total > 0:
        return None
    return x / total


def _min_epsilon(problem: _Problem) -> float:
    """Smallest common epsilon (original units) any joint distribution achieves."""
    import scipy.sparse as sp

    full = constraints.constraint_matrix(problem.gc_tensor, problem.concept)
    n, m = problem.n, full.shape[0]
    if m == 0:
        return 0.0
    matrix = sp.bmat([[full, sp.csr_matrix(-np.ones((m, 1)))],
                      [sp.csr_matrix(np.ones((1, n))), sp.csr_matrix((1, 1))]], format="csr")
    row_lower = np.concatenate([np.full(m, -np.inf), [1.0]])
    row_upper = np.concatenate([np.zeros(m), [1.0]])
    cost = np.concatenate([np.zeros(n), [1.0]])
    res = solve_lp(cost, matrix, row_lower, row_upper,
                   np.concatenate([np.zeros(n), [-np.inf]]), np.full(n + 1, np.inf))
    return float(res.x[-1] * problem.scale) if res.status == "optimal" else float("nan")


# --------------------------------------------------------------------------- solving
def _verify(problem: _Problem, res: Any, attempt: int, iterations: int) -> dict:
    """Clean and certify an optimal LP answer: ``status`` optimal / approximate, or failed."""
    x = _clean(res.x[:problem.n])
    if x is None:
        return {"status": "failed", "res": res, "message": "LP returned no distribution"}
    start = time.perf_counter()
    joint = x.reshape(problem.shape)
    if not problem.certified(joint):
        gap = float(problem.achieved(joint).max())
        problem.timings["certification"] += time.perf_counter() - start
        return {"status": "failed", "res": res, "x": x,
                "message": f"LP solution failed verification (largest gain {gap:.3e})"}
    primal = problem.normalised_objective(x)
    bound = problem.dual_bound(res.row_dual)
    problem.timings["certification"] += time.perf_counter() - start
    duality_gap = max(bound - primal, 0.0)
    return {"status": "optimal" if duality_gap <= DUALITY_TOL else "approximate",
            "res": res, "x": x, "iterations": iterations, "attempts": attempt + 1,
            "primal": primal, "bound": bound, "duality_gap": duality_gap,
            "message": "" if duality_gap <= DUALITY_TOL else
            f"duality gap {duality_gap:.3e} (normalised) above {DUALITY_TOL:g}"}


def _solve_problem(problem: _Problem, *, basis: bool = False) -> dict:
    """Solve, clean and certify; retry with stricter settings when certification fails.

    CCE LPs are first solved by column generation (:mod:`spielplatz_welfare.generation`);
    that answer is certified like any other and the full LP is solved when it is not
    certified optimal. A certified joint whose duality gap is above :data:`DUALITY_TOL` is kept
    while the other settings are tried (the smallest gap is returned, ``approximate``).
    ``problem.timings`` collects the seconds spent building the full LP's rows, in the
    LPs and in certification."""
    iterations = 0
    last: dict = {}
    approximate = None
    if problem.rows is not None:
        start = time.perf_counter()
        out = solve_by_columns(problem, basis=basis)
        problem.timings["lp"] += time.perf_counter() - start
        if out is not None:
            res, info = out
            iterations += res.iterations
            found = _verify(problem, res, 0, iterations)
            found["lp"] = {"method": "column generation", **info}
            if found["status"] == "optimal":
                return found
            if found["status"] == "approximate":
                approximate = found
    start = time.perf_counter()
    arrays = problem.lp_arrays()
    problem.timings["constraints"] += time.perf_counter() - start
    for attempt, options in enumerate(_RETRY_OPTIONS):
        start = time.perf_counter()
        res = solve_lp(*arrays, options=options, basis=basis)
        problem.timings["lp"] += time.perf_counter() - start
        iterations += res.iterations
        if res.status == "infeasible":
            if np.all(problem.epsilon >= 0):
                last = {"status": "failed", "res": res,
                        "message": "HiGHS reported an infeasible LP although a (C)CE always "
                                   "exists (numerical trouble)"}
                continue
            min_eps = _min_epsilon(problem)
            eps = problem.epsilon
            if min_eps <= eps.min() - GAP_TOL * problem.scale:
                # A common epsilon below every requested one is achievable, so the
                # LP is feasible: HiGHS' verdict was numerical; try other settings.
                last = {"status": "failed", "res": res,
                        "message": f"HiGHS reported an infeasible LP although epsilon "
                                   f"{min_eps:.6g} is achievable (numerical trouble)"}
                continue
            shown = f"{eps[0]:.6g}" if np.all(eps == eps[0]) else "[" + ", ".join(
                f"{e:.6g}" for e in eps) + "]"
            raise SpielplatzError(
                f"no {problem.concept.upper()} of game {problem.game.name!r} has deviation gains "
                f"<= epsilon = {shown}: the smallest epsilon any joint distribution achieves "
                f"is {min_eps:.6g} (for all players at once)")
        if res.status != "optimal":
            last = {"status": "failed", "res": res, "message": f"HiGHS status: {res.status}"}
            continue
        found = _verify(problem, res, attempt, iterations)
        if found["status"] == "failed":
            last = found if approximate is None else last
            continue
        found["lp"] = {"method": "lifted" if problem.lifted else "full"}
        if found["status"] == "optimal":
            return found
        # a certified joint whose bound is not tight enough: the next settings may close it
        if approximate is None or found["duality_gap"] < approximate["duality_gap"]:
            approximate = found
    if approximate is not None:
        approximate["iterations"] = iterations
        return approximate
    last.setdefault("x", None)
    last["iterations"] = iterations
    last["attempts"] = len(_RETRY_OPTIONS)
    return last


def _face(problem: _Problem, res: Any, lifted: bool = False) -> dict:
    """The optimal face from complementary slackness with the LP's duals (``lifted``: the
    LP had auxiliary columns, so its basis does not decide uniqueness)."""
    import scipy.sparse as sp

    n, m = problem.n, problem.m
    _, reduced = problem.reduced_costs(res.row_dual)
    zero = reduced > FACE_DUAL_TOL                         # reduced cost > 0: x_j = 0 on the face
    lam = -res.row_dual[:m]
    tight = lam > FACE_DUAL_TOL                             # dual > 0: row tight on the face
    E_rows, f_rows = [problem.A[tight]], [problem.e[tight]]
    B_rows, b_rows = [problem.A[~tight]], [problem.e[~tight]]
    unique = None
    if res.col_basic.size and not lifted:
        nonbasic_cols = ~res.col_basic[:n]
        nonbasic_rows = ~res.row_basic[:m]
        unique = bool(np.all(zero[nonbasic_cols]) and np.all(tight[nonbasic_rows]))
    if problem.maxmin:
        # y_p = a_p (gn_p x - shift_p); the face has y_p = y_p0 = t (tight) or y_p >= y_p0
        mu = -res.row_dual[m + 1:m + 1 + problem.num_players]
        p0 = int(np.argmax(mu))
        g = problem.a[:, None] * problem.gn
        h = problem.a * problem.shift
        tight_p = mu > FACE_DUAL_TOL
        others = [p for p in range(problem.num_players) if p != p0]
        eq = [p for p in others if tight_p[p]]
        ub = [p for p in others if not tight_p[p]]
        if eq:
            E_rows.append(sp.csr_matrix(g[eq] - g[p0]))       # y_p = y_p0 = t
            f_rows.append(h[eq] - h[p0])
        if ub:
            B_rows.append(sp.csr_matrix(g[p0] - g[ub]))       # y_p >= y_p0
            b_rows.append(h[p0] - h[ub])
        if res.row_basic.size and unique is not None:
            nonbasic_ega = ~res.row_basic[m + 1:m + 1 + problem.num_players]
            unique = unique and bool(np.all(tight_p[nonbasic_ega]))
    return {"zero": zero, "E": sp.vstack(E_rows, format="csr"), "f": np.concatenate(f_rows),
            "B": sp.vstack(B_rows, format="csr"), "b": np.concatenate(b_rows), "unique": unique}


def _tiebreak(problem: _Problem, found: dict) -> tuple[np.ndarray, dict]:
    """Maximum-entropy distribution on the optimal face (falls back to the LP's answer)."""
    x_lp = found["x"]
    face = _face(problem, found["res"], found.get("lp", {}).get("method") == "lifted")
    info: dict = {"applied": False}
    if face["unique"]:
        info.update(applied=True, method="unique", dimension=0,
                    support=int(np.count_nonzero(x_lp > 0)))
        return x_lp, info
    result = maxent_on_face(problem.n, zero=face["zero"], E=face["E"], f=face["f"],
                            B=face["B"], b=face["b"])
    info.update(method=result.method, dimension=result.dimension, support=result.support,
                newton_iterations=result.iterations)
    if result.x is None or result.message:
        info["message"] = f"tie-break not applied: {result.message}"
        return x_lp, info
    x = _clean(result.x)
    if x is None:
        info["message"] = "tie-break not applied: empty distribution"
        return x_lp, info
    loss = found["primal"] - problem.normalised_objective(x)
    if loss > TIEBREAK_OBJECTIVE_TOL or not problem.certified(x.reshape(problem.shape)):
        info["message"] = (f"tie-break not applied: its distribution lost {loss:.3e} "
                           f"(normalised) of the objective or failed verification")
        return x_lp, info
    info["applied"] = True
    info["objective_loss"] = max(loss, 0.0)
    return x, info


# --------------------------------------------------------------------------- objectives
def _methods() -> dict:
    """The registry's welfare functions this solver maximises exactly, by method name."""
    from spielplatz.equilibria import welfare_functions as wf

    return {wf.utilitarian: "utilitarian", wf.egalitarian: "egalitarian", wf.nash: "nash",
            wf.kalai_smorodinsky: "kalai_smorodinsky"}


def _registered_welfare() -> list:
    """``(name, WelfareFunction)`` of every registered welfare function, by name."""
    from spielplatz import get_host
    from spielplatz.equilibria.welfare_functions import registered_welfare_function

    out = []
    for name in get_host().registry("welfare"):
        try:
            out.append((name, registered_welfare_function(name)))
        except SpielplatzError:                      # a broken plugin entry is not listed
            continue
    return out


def solvable_objectives() -> tuple:
    """The objectives the solver takes: every registered welfare function of values it has
    an exact method for, then its own modes ``weighted`` and ``worst``."""
    methods = _methods()
    return tuple(name for name, f in _registered_welfare()
                 if f.defined_on == "values" and f.function in methods) + MODES


def _resolve_objective(objective: Any) -> tuple:
    """``(name, method, welfare_function)`` of ``objective``; the function is ``None``
    for the modes. Unknown, trajectory-based and uncertifiable objectives: one line."""
    from spielplatz.equilibria.welfare_functions import registered_welfare_function
    from spielplatz.errors import UnknownNameError

    name = str(objective).strip().lower()
    if name in MODES:
        return name, name, None
    try:
        function = registered_welfare_function(name)
    except UnknownNameError:
        registered = [n for n, _ in _registered_welfare()]
        close = difflib.get_close_matches(name, registered + list(MODES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpielplatzError(
            f"unknown welfare objective {objective!r}{hint} (solvable: "
            f"{', '.join(solvable_objectives())}; registered welfare functions: "
            f"{', '.join(registered)})") from None
    if function.defined_on != "values":
        raise SpielplatzError(
            f"objective {name!r} is a welfare function defined on {function.defined_on} "
            f"(per-step rewards), not on the players' values, so it has no value on the "
            f"(C)CE polytope this solver optimises over; solvable objectives: "
            f"{', '.join(solvable_objectives())}")
    method = _methods().get(function.function)
    if method is None:
        raise SpielplatzError(
            f"objective {name!r} is a plugin's welfare function of values that the welfare "
            f"solver cannot maximise to a certified optimum (it has exact methods only for "
            f"the linear, max-min, Nash and Kalai-Smorodinsky welfares, and does not "
            f"approximate other functions); solvable objectives: "
            f"{', '.join(solvable_objectives())}")
    return name, method, function


def _check_weights(method: str, weights: Any, num_players: int) -> np.ndarray | None:
    if method == "weighted":
        if weights is None:
            raise SpielplatzError("objective 'weighted' needs weights (one number per player)")
        try:
            w = np.asarray(weights, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise SpielplatzError(f"weights must be numbers, got {weights!r}") from None
        if w.shape != (num_players,) or not np.all(np.isfinite(w)):
            raise SpielplatzError(f"weights must be {num_players} finite numbers (one per "
                                  f"player), got {weights!r}")
        if not np.any(w != 0):
            raise SpielplatzError("weights are all zero: every joint would be optimal; give at "
                                  "least one non-zero weight")
        if float(np.abs(w).max()) > 1e150:
            raise SpielplatzError(f"weights up to {float(np.abs(w).max()):.3g} overflow the "
                                  f"weighted welfare; the maximiser does not change when all "
                                  f"weights are divided by the same positive number")
        return w
    if weights is not None:
        raise SpielplatzError(f"weights are only used by objective 'weighted', not {method!r}")
    return None


def _objective_value(method: str, function: Any, values: np.ndarray, w: np.ndarray | None,
                     d: np.ndarray, ideal: np.ndarray | None) -> float:
    """The objective at ``values`` (payoff units; a ratio for kalai_smorodinsky)."""
    if method == "weighted":
        return float(w @ values)
    if method == "worst":
        return float(values.sum())
    if method == "utilitarian":
        return float(function(values))                     # d only shifts it: not applied
    if method == "kalai_smorodinsky":
        return float(function(values, d, ideal=ideal))
    return float(function(values, d))


def _shown(arr: np.ndarray) -> Any:
    return float(arr[0]) if np.all(arr == arr[0]) else arr.tolist()


# --------------------------------------------------------------------------- the solver
class WelfareSolver:
    """Welfare-optimal (coarse) correlated equilibria over the (C)CE polytope (HiGHS).

    Options are keyword arguments of :meth:`solve`; see :data:`OPTIONS`.
    """

    name = "welfare"

    def solve(self, game: Any, concept: str = "ce", *, objective: str = "utilitarian",
              weights: Any = None, disagreement: Any = 0.0, epsilon: Any = 0.0,
              maxent_tiebreak: bool = False, summary: bool = False, **unknown: Any) -> Solution:
        """Solve ``game`` for a welfare-optimal ``concept`` equilibrium.

        Parameters
        ----------
        game : NormalFormGame or anything :func:`spielplatz.load_game` accepts
        concept : {"ce", "cce"}
        objective : str
            A registered welfare function of values that the solver maximises exactly
            (``utilitarian``, ``egalitarian``, ``nash``, ``kalai_smorodinsky``; see
            :func:`solvable_objectives`) or one of the solver's own modes:
            ``weighted`` (``weights @ values``) and ``worst`` (minimise the sum of
            values).
        weights : sequence of float, optional
            One weight per player, for ``objective="weighted"`` only.
        disagreement : float or sequence of float
            The disagreement point ``d`` (payoff units, default 0) of ``egalitarian``,
            ``nash`` and ``kalai_smorodinsky``; ``utilitarian``, ``weighted`` and
            ``worst`` ignore it (it shifts them by a constant).
        epsilon : float or sequence of float
            Approximate (C)CE: every deviation gain of player ``p`` is at most
            ``epsilon[p]`` (payoff units; may be negative for a strict
            equilibrium).
        maxent_tiebreak : bool
            Return the maximum-entropy distribution among the optimal ones (not for
            ``nash``, whose optimum is certified to a tolerance, not as a face).
        summary : bool
            Add :func:`efficiency_summary` to ``extra["efficiency"]``.

        Returns
        -------
        Solution
            ``status="optimal"`` once the (C)CE gap is certified
            (``<= 1e-8 * payoff range + epsilon``) and the optimum is: the LP's duality
            gap below 1e-7 of the payoff range, for ``nash`` the cutting-plane gap
            below ``NASH_TOLERANCE`` (relative, on the Nash product); ``"approximate"``
            when only that certificate falls short; ``"infeasible"`` for ``nash`` when
            no (C)CE gives every player more than ``d`` (its Nash welfare is 0
            everywhere); ``"failed"`` (with ``extra["message"]``) when no certified
            distribution was found. ``objective`` is the welfare at the answer (payoff
            units: a sum, minimum or product of values or gains; a ratio for
            ``kalai_smorodinsky``); ``extra`` holds ``residuals`` (``duality_gap``),
            ``objective_bound`` (a certified upper bound), the LP's size, ``lp`` (how
            the LP was solved: ``column generation`` with its rounds and columns,
            ``full`` or ``lifted``), ``timings`` (seconds spent on
            ``constraints``, ``lp``, ``certification`` and ``tiebreak``; not for
            ``nash`` and ``kalai_smorodinsky``, which solve several LPs), for
            ``kalai_smorodinsky`` the ``ideal_point``, for ``nash`` ``cutting_plane``
            and, when asked, ``maxent_tiebreak`` and ``efficiency``.

        Raises
        ------
        SpielplatzError
            On unknown options or objectives, objectives it cannot certify (defined on
            trajectories, a plugin's function), bad weights, disagreement or epsilon, an
            ideal point not above ``d`` (``kalai_smorodinsky``), and when no
            distribution meets a (negative) ``epsilon``; the message gives the smallest
            achievable epsilon.
        """
        check_option_names(unknown, [o.name for o in OPTIONS], "the welfare solver")
        maxent_tiebreak = as_bool(maxent_tiebreak, "maxent_tiebreak")
        summary = as_bool(summary, "summary")
        start = time.perf_counter()
        concept = deviations.check_concept(concept)
        name, method, function = _resolve_objective(objective)
        game = normal_form_game(game, "the welfare solver")
        from spielplatz.system.resources import check_solve_memory

        check_solve_memory(game, concept, "welfare")
        w = _check_weights(method, weights, game.num_players)
        d = per_player(disagreement, game.num_players, "disagreement")
        eps = per_player(epsilon, game.num_players, "epsilon")
        if method == "nash" and maxent_tiebreak:
            raise SpielplatzError("maxent_tiebreak is not available for objective 'nash': its "
                                  "optimum is certified to a tolerance, not as a face of the "
                                  "polytope")
        config = {"objective": name, "weights": None if w is None else w.tolist(),
                  "disagreement": _shown(d), "epsilon": _shown(eps),
                  "maxent_tiebreak": bool(maxent_tiebreak), "summary": bool(summary)}
        extra: dict = {"objective": name, "method": METHODS_TEXT[method],
                       "lp_backend": "highs (highspy)"}
        ideal = None
        if method == "nash":
            from .nonlinear import solve_nash

            found = solve_nash(game, concept, eps, d)
            problem = found["problem"]
            extra.update(found["extra"])
        else:
            if method == "kalai_smorodinsky":
                from .nonlinear import kalai_smorodinsky_problem

                problem, ideal, ideal_info = kalai_smorodinsky_problem(game, concept, eps, d)
                extra["ideal_point"] = ideal_info
            else:
                problem = _Problem(game, concept, method, w, eps, disagreement=d)
            found = _solve_problem(problem, basis=bool(maxent_tiebreak))
            if ideal is not None:
                found["iterations"] = found.get("iterations", 0) + ideal_info["lp_iterations"]
        extra.update({"constraints": int(problem.m),
                      "constraints_removed": int(problem.num_constraints_total - problem.m),
                      "attempts": found.get("attempts", 1)})
        x = found.get("x")
        status = found["status"]
        if x is None:
            x = np.full(problem.n, 1.0 / problem.n)
            extra["message"] = found.get("message", "no solution") + "; returning the uniform joint"
        else:
            if found.get("message"):
                extra["message"] = found["message"]
            if method != "nash" and "bound" in found:
                extra["objective_bound"] = problem.to_payoff(found["bound"])
                extra["residuals"] = {"duality_gap": found["duality_gap"] * problem.value_scale}
            if maxent_tiebreak and status in ("optimal", "approximate"):
                tiebreak_start = time.perf_counter()
                x, extra["maxent_tiebreak"] = _tiebreak(problem, found)
                problem.timings["tiebreak"] += time.perf_counter() - tiebreak_start
        if "lp" in found:
            extra["lp"] = found["lp"]
        if method not in ("nash", "kalai_smorodinsky"):
            extra["timings"] = dict(problem.timings)
        joint = x.reshape(problem.shape)
        values = np.asarray(measures.values(game.payoffs, joint), dtype=float)
        value = (0.0 if status == "infeasible"
                 else _objective_value(method, function, values, w, d, ideal))
        if method == "nash" and "objective_bound" in extra:
            extra["residuals"] = {"duality_gap": max(extra["objective_bound"] - value, 0.0)}
        if summary:
            extra["efficiency"] = efficiency_summary(game, concept, epsilon=eps)
        return Solution.from_joint(game, joint, concept, solver=self.name, config=config,
                                   status=status, iterations=found.get("iterations", 0),
                                   wall_time=time.perf_counter() - start, objective=value,
                                   extra=extra)


# --------------------------------------------------------------------------- efficiency
def _ratio(numerator: float, denominator: float) -> float | None:
    if math.isclose(numerator, denominator, rel_tol=1e-12, abs_tol=1e-12):
        return 1.0
    if numerator > 0 and denominator > 0:
        return numerator / denominator
    return None


def efficiency_summary(game: Any, concept: str = "ce", *, epsilon: Any = 0.0) -> dict:
    """Price of anarchy and of stability of the (C)CE of ``game`` (utilitarian welfare).

    Parameters
    ----------
    game : NormalFormGame or anything :func:`spielplatz.load_game` accepts
    concept : {"ce", "cce"}
    epsilon : float or sequence of float
        As in :meth:`WelfareSolver.solve`.

    Returns
    -------
    dict
        ``best_outcome_welfare`` (the largest welfare of any joint action),
        ``best_equilibrium_welfare`` and ``worst_equilibrium_welfare`` (max and
        min welfare over the (C)CE polytope), ``price_of_anarchy`` = best
        outcome / worst equilibrium, ``price_of_stability`` = best outcome /
        best equilibrium, and the absolute losses ``anarchy_loss`` = best
        outcome - worst equilibrium and ``stability_loss`` = best outcome -
        best equilibrium.

    Notes
    -----
    Ratios are meaningful only for positive welfare: a ratio is reported as
    ``1.0`` when its two welfares are equal (whatever their sign), as the
    quotient when both are positive, and as ``None`` otherwise (some welfare is
    zero or negative). The absolute losses are always defined, and are
    invariant to payoff offsets; a ratio is not.
    """
    from spielplatz.api import audit_solution

    game = normal_form_game(game, "the welfare solver")
    concept = deviations.check_concept(concept)
    solver = WelfareSolver()
    # both answers pass the host's audit, like every solve through spielplatz.solve
    best, worst = (audit_solution(solver.solve(game, concept, objective=o, epsilon=epsilon),
                                  game, concept, solver="welfare", plugin="welfare", exact=True)
                   for o in ("utilitarian", "worst"))
    outcome = float(game.payoffs.sum(axis=0).max())
    w_best, w_worst = best.welfare, worst.welfare
    return {
        "concept": concept,
        "best_outcome_welfare": outcome,
        "best_equilibrium_welfare": w_best,
        "worst_equilibrium_welfare": w_worst,
        "price_of_anarchy": _ratio(outcome, w_worst),
        "price_of_stability": _ratio(outcome, w_best),
        "anarchy_loss": outcome - w_worst,
        "stability_loss": outcome - w_best,
        "status": "optimal" if best.status == worst.status == "optimal" else "approximate",
        "convention": "ratios need positive welfare: 1.0 when equal, None when a welfare "
                      "is <= 0",
    }
