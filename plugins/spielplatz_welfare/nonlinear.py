"""The ``welfare`` solver's non-linear welfares: Kalai-Smorodinsky and Nash, by LPs only.

Both are welfare functions of the host's registry (normative disagreement, Appendix A,
Table 2), measured relative to the disagreement point ``d``:

* ``kalai_smorodinsky``: ``min_i (v_i - d_i) / (I_i - d_i)`` with the ideal point
  ``I_i = max v_i`` over the (C)CE polytope. :func:`kalai_smorodinsky_problem` finds
  ``I`` by one certified LP per player (the solver's ``weighted`` LP with a unit
  weight), refuses with one line when some ``I_i <= d_i`` (the ratio is undefined),
  and returns the max-min LP ``max t s.t. (v_i - d_i) >= t (I_i - d_i)``, which the
  solver then solves, certifies and tie-breaks like ``egalitarian``.
* ``nash``: ``prod_i (v_i - d_i)``, maximised as the concave ``sum_i log(v_i - d_i)`` by
  :func:`solve_nash`, a cutting-plane (Kelley / outer-approximation) method. It keeps
  tangent planes of ``log`` at visited gains ``g``, ``z_i <= log g + (u_i - g) / g``,
  and solves the LP ``max sum_i z_i`` over the polytope and the tangents. Tangents lie
  above the concave ``log``, so a bound from the LP's duals (a Lagrangian bound: any
  duals, exact in floating point up to rounding) is a certified upper bound on the
  optimum; the true objective at a certified (C)CE is a lower bound. Each round adds
  the tangents at the LP's answer; it stops when upper minus lower bound (in logs: the
  relative gap of the Nash product) is below :data:`NASH_TOLERANCE`. The start is the
  ``egalitarian`` LP's answer: when no (C)CE gives every player more than ``d`` (its
  max-min gain is not positive) the Nash welfare ``prod_i max(v_i - d_i, 0)`` is 0 on
  the whole polytope, and the status is ``"infeasible"``.

Everything is computed on the solver's normalised game (payoff range 1, see
:class:`spielplatz_welfare.solver._Problem`): the gains are ``u_i = gn_i x - c_i`` with
``c_i = (d_i - offset) / scale``, so ``v_i - d_i = scale * u_i``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spielplatz.equilibria import deviations
from spielplatz.equilibria.highs import STRICT_OPTIONS, solve_lp
from spielplatz.errors import SpielplatzError

from .solver import _RETRY_OPTIONS, _clean, _Problem, _solve_problem

__all__ = ["kalai_smorodinsky_problem", "solve_nash", "NASH_TOLERANCE", "NASH_MAX_ROUNDS"]

#: Certified gap of the cutting-plane method: upper minus lower bound on
#: ``sum_i log(v_i - d_i)``, i.e. the relative gap of the Nash product.
NASH_TOLERANCE = 1e-9
#: Rounds (one LP each) before the method stops with ``status="approximate"``.
NASH_MAX_ROUNDS = 500
#: The cutting-plane LPs: tight feasibility tolerances first (the tangents' overshoot
#: within the primal tolerance floors the gap), then the solver's retries.
_KELLEY_OPTIONS = (STRICT_OPTIONS,) + _RETRY_OPTIONS
#: Below this gap each round also bounds the optimum by the conjugate of ``log`` with the
#: LP duals' slopes (one more LP, see :func:`_conjugate_bound`).
CONJUGATE_FROM = 1e-5
#: The ideal value must exceed ``d`` by this fraction of the payoff range.
IDEAL_TOLERANCE = 1e-9
#: No (C)CE gives every player more than ``d`` by this fraction of the payoff range.
NASH_FEASIBILITY_TOLERANCE = 1e-9


def _unit(k: int, p: int) -> np.ndarray:
    w = np.zeros(k)
    w[p] = 1.0
    return w


# --------------------------------------------------------------------------- Kalai-Smorodinsky
def kalai_smorodinsky_problem(game: Any, concept: str, epsilon: np.ndarray,
                              disagreement: np.ndarray) -> tuple:
    """``(problem, ideal, info)``: the Kalai-Smorodinsky max-min LP and its ideal point.

    Raises
    ------
    SpielplatzError
        When an ideal value cannot be certified or some ``I_i <= d_i``.
    """
    k = game.num_players
    ideal, bounds, iterations = np.zeros(k), np.zeros(k), 0
    for p in range(k):
        problem = _Problem(game, concept, "weighted", _unit(k, p), epsilon)
        found = _solve_problem(problem)
        iterations += found.get("iterations", 0)
        if found.get("x") is None or found["status"] == "failed":
            raise SpielplatzError(f"kalai_smorodinsky: the ideal value of player {p + 1} could "
                                  f"not be certified ({found.get('message', 'no solution')})")
        ideal[p] = problem.to_payoff(found["primal"])
        bounds[p] = problem.to_payoff(found["bound"])
    scale = float(deviations.payoff_scale(game.payoffs))
    short = np.flatnonzero(ideal - disagreement <= IDEAL_TOLERANCE * scale)
    if short.size:
        p = int(short[0])
        raise SpielplatzError(
            f"kalai_smorodinsky needs every player's ideal value (its largest value over the "
            f"{concept.upper()} polytope) above its disagreement value: player {p + 1} has "
            f"ideal {ideal[p]:.6g} <= d = {disagreement[p]:.6g}; lower the disagreement point")
    problem = _Problem(game, concept, "kalai_smorodinsky", None, epsilon,
                       disagreement=disagreement, ideal=ideal)
    info = {"ideal": ideal.tolist(), "bounds": bounds.tolist(), "lp_iterations": iterations}
    return problem, ideal, info


# --------------------------------------------------------------------------- Nash
class _Cuts:
    """Tangent planes ``z_p - gn_p x / g <= log g - 1 - c_p / g`` of ``log`` at gains ``g``."""

    def __init__(self, gn: np.ndarray, c: np.ndarray):
        self.gn, self.c = gn, c
        self.player: list[int] = []
        self.point: list[float] = []

    def add(self, p: int, g: float) -> bool:
        """Add the tangent of player ``p`` at ``g > 0`` unless one is (almost) there."""
        if not (g > 0 and math.isfinite(g)):
            return False
        if any(q == p and abs(h - g) <= 1e-12 * g for q, h in zip(self.player, self.point)):
            return False
        self.player.append(p)
        self.point.append(float(g))
        return True

    def smallest(self, p: int) -> float:
        return min(h for q, h in zip(self.player, self.point) if q == p)

    def rows(self, width: int, z0: int) -> tuple:
        """The tangent rows over ``width`` columns (``z`` from column ``z0``), upper bounds."""
        import scipy.sparse as sp

        player, point = np.asarray(self.player), np.asarray(self.point)
        n, k = self.gn.shape[1], len(player)
        x_part = sp.csr_matrix(-self.gn[player] / point[:, None])
        z_part = sp.csr_matrix((np.ones(k), (np.arange(k), z0 + player)), shape=(k, width - n))
        return sp.hstack([x_part, z_part], format="csr"), self.rhs()

    def rhs(self) -> np.ndarray:
        player, point = np.asarray(self.player), np.asarray(self.point)
        return np.log(point) - 1.0 - self.c[player] / point


def _dual_bound(base: _Problem, cuts: _Cuts, row_dual: np.ndarray, first_cut: int) -> tuple:
    """``(bound, slopes)``: a Lagrangian upper bound on ``max sum_p log u_p`` over the
    polytope from the cutting-plane LP's duals, and the slopes ``beta_p`` they give.

    With ``lam >= 0`` on the (C)CE rows and ``mu_p`` in the simplex over player ``p``'s
    tangents, ``sum_p log u_p <= sum_p sum_k mu_pk tangent_k(u_p)``; adding
    ``lam (e - A x) >= 0`` leaves a linear function of ``x`` whose maximum over the
    simplex is its largest coefficient. Any duals give a valid bound.
    """
    m = base.m
    lam = np.maximum(-row_dual[:m], 0.0)
    mu = np.maximum(-row_dual[first_cut:first_cut + len(cuts.point)], 0.0)
    player, point = np.asarray(cuts.player), np.asarray(cuts.point)
    totals = np.bincount(player, weights=mu, minlength=base.num_players)
    if np.any(totals <= 0):
        return math.inf, None
    mu = mu / totals[player]
    coef = (mu / point) @ cuts.gn[player]
    if m:
        coef = coef - base.adjoint(lam)
    slopes = np.bincount(player, weights=mu / point, minlength=base.num_players)
    return float(mu @ cuts.rhs() + lam @ base.e + coef.max()), slopes


def _conjugate_bound(linear: _Problem, slopes: np.ndarray, c: np.ndarray) -> tuple:
    """``(bound, x, iterations)``: ``sum_p (-1 - log beta_p) + max_P beta . u`` (``log u <=
    beta u - 1 - log beta`` for every ``beta > 0``), the maximum certified by the solver's
    own LP (its dual bound). Tight to second order in ``beta - 1 / u*``."""
    linear.c = slopes @ linear.gn
    found = _solve_problem(linear)
    if found.get("x") is None or "bound" not in found:
        return math.inf, None, found.get("iterations", 0)
    value = float(np.sum(-1.0 - np.log(slopes)) + found["bound"] - slopes @ c)
    return value, found["x"], found.get("iterations", 0)


def _line_search(u0: np.ndarray, u1: np.ndarray) -> float:
    """``argmax_t sum_p log(u0_p + t (u1_p - u0_p))`` over ``t`` in ``[0, 1]`` (``u0 > 0``;
    the domain stops before a gain reaches 0): bisection on the decreasing derivative."""
    step = u1 - u0

    def slope(t: float) -> float:
        return float(np.sum(step / (u0 + t * step)))

    falling = step < 0
    top = min(1.0, float(np.min(-u0[falling] / step[falling])) * (1 - 1e-9)) if np.any(
        falling) else 1.0
    if slope(0.0) <= 0:
        return 0.0
    if slope(top) >= 0:
        return top
    lo, hi = 0.0, top
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
    return lo


def solve_nash(game: Any, concept: str, epsilon: np.ndarray, disagreement: np.ndarray) -> dict:
    """Maximise the Nash welfare ``prod_i (v_i - d_i)`` over the (C)CE polytope.

    Returns
    -------
    dict
        ``problem`` (the polytope's :class:`_Problem`), ``x``, ``status``
        (``optimal``, ``approximate``, ``infeasible`` or ``failed``), ``message``,
        ``iterations`` (simplex iterations of all LPs), ``attempts`` and ``extra``
        (``objective_bound``, ``log_nash_welfare``, ``cutting_plane``).
    """
    import scipy.sparse as sp

    k = game.num_players
    start = _Problem(game, concept, "egalitarian", None, epsilon, disagreement=disagreement)
    first = _solve_problem(start)
    iterations = first.get("iterations", 0)
    if first.get("x") is None or first["status"] == "failed":
        return {"problem": start, "x": first.get("x"), "status": "failed",
                "iterations": iterations, "extra": {},
                "message": f"nash: the egalitarian start failed ({first.get('message')})"}
    best_min_gain = start.to_payoff(first["primal"])
    if best_min_gain <= NASH_FEASIBILITY_TOLERANCE * start.range:
        return {"problem": start, "x": first["x"], "status": "infeasible",
                "iterations": iterations,
                "extra": {"max_min_gain": best_min_gain,
                          "max_min_gain_bound": start.to_payoff(first["bound"])},
                "message": f"no {concept.upper()} gives every player more than its "
                           f"disagreement value (the largest min_i (v_i - d_i) over the "
                           f"polytope is {best_min_gain:.6g}), so the Nash welfare "
                           f"prod_i max(v_i - d_i, 0) is 0 on the whole polytope; lower the "
                           f"disagreement point or use objective=egalitarian"}
    base = _Problem(game, concept, "utilitarian", None, epsilon, disagreement=disagreement)
    gn, scale = base.gn, base.scale
    c = (disagreement - base.offset) / scale                 # u_p = gn_p x - c_p
    _, matrix0, row_lower0, row_upper0, col_lower0, col_upper0 = base.lp_arrays()
    rows0, width0 = matrix0.shape
    width = width0 + k
    padded = sp.hstack([matrix0, sp.csr_matrix((rows0, k))], format="csr")
    cost = np.zeros(width)
    cost[width0:] = -1.0                                      # maximise sum z
    col_lower = np.concatenate([col_lower0, np.full(k, -np.inf)])
    col_upper = np.concatenate([col_upper0, np.full(k, np.inf)])

    def log_welfare(x: np.ndarray) -> float:
        u = gn @ x - c
        return float(np.log(u).sum()) if np.all(u > 0) else -math.inf

    x_best = first["x"]
    lower = log_welfare(x_best)
    upper = math.inf
    cuts = _Cuts(gn, c)
    u0 = gn @ x_best - c
    for p in range(k):
        cuts.add(p, float(u0[p]))
        cuts.add(p, float(gn[p].max() - c[p]))                # the largest gain on the simplex
    linear = _Problem(game, concept, "weighted", np.ones(k), epsilon)
    rounds, message, attempts, conjugate = 0, "", 1, 0
    while rounds < NASH_MAX_ROUNDS:
        rounds += 1
        cut_rows, cut_rhs = cuts.rows(width, width0 - base.n)
        matrix = sp.vstack([padded, cut_rows], format="csr")
        row_lower = np.concatenate([row_lower0, np.full(len(cut_rhs), -np.inf)])
        row_upper = np.concatenate([row_upper0, cut_rhs])
        res = None
        for attempt, options in enumerate(_KELLEY_OPTIONS):
            res = solve_lp(cost, matrix, row_lower, row_upper, col_lower, col_upper,
                           options=options)
            iterations += res.iterations
            if res.status == "optimal":
                attempts = max(attempts, attempt + 1)
                break
        if res is None or res.status != "optimal":
            message = f"cutting-plane LP {rounds}: HiGHS status {getattr(res, 'status', None)}"
            break
        bound, slopes = _dual_bound(base, cuts, res.row_dual, rows0)
        upper = min(upper, bound)
        x = _clean(res.x[:base.n])
        candidates = [] if x is None else [x]
        if slopes is not None and np.all(slopes > 0) and upper - lower <= CONJUGATE_FROM:
            # near the optimum: the duals' slopes give a tighter, well-conditioned bound
            bound, y, used = _conjugate_bound(linear, slopes, c)
            upper, iterations, conjugate = min(upper, bound), iterations + used, conjugate + 1
            candidates += [] if y is None else [y]
        for y in candidates:
            # the best point of the segment from the best answer so far (both in the polytope)
            t = _line_search(gn @ x_best - c, gn @ y - c)
            for point in [y] + ([x_best + t * (y - x_best)] if 0 < t < 1 else []):
                value = log_welfare(point)
                if value > lower and base.certified(point.reshape(base.shape)):
                    lower, x_best = value, point
        if upper - lower <= NASH_TOLERANCE:
            break
        u = gn @ (res.x[:base.n] if x is None else x) - c
        added = False
        for p in range(k):
            # below the smallest tangent a steeper one a quarter of the way down
            added |= cuts.add(p, max(float(u[p]), cuts.smallest(p) / 4))
        if not added:
            message = (f"cutting planes stalled after {rounds} rounds (no new tangent) with "
                       f"gap {upper - lower:.3e}")
            break
    gap = upper - lower
    if gap > NASH_TOLERANCE and not message:
        message = f"cutting planes stopped after {rounds} rounds with gap {gap:.3e}"
    if gap > NASH_TOLERANCE:
        message += f" above the tolerance {NASH_TOLERANCE:g} (relative, on the Nash product)"
    units = k * math.log(scale)                               # v - d = scale * u
    return {"problem": base, "x": x_best, "iterations": iterations, "attempts": attempts,
            "status": "optimal" if gap <= NASH_TOLERANCE else "approximate",
            "message": message,
            "extra": {"objective_bound": math.exp(upper + units) if math.isfinite(upper)
                      else math.inf,
                      "log_nash_welfare": lower + units,
                      "cutting_plane": {"rounds": rounds, "tangents": len(cuts.point),
                                        "conjugate_bounds": conjugate,
                                        "gap": max(gap, 0.0),
                                        "relative_gap": max(-math.expm1(-gap), 0.0),
                                        "tolerance": NASH_TOLERANCE}}}
