"""Exact welfare maximisers over the feasible payoffs of a matrix game, and its
disagreement and punishment points.

Normative disagreement, Sections 3-4 and Appendices A, B.2, C.1 and E. In a matrix game
played repeatedly, any lottery over the pure profiles can be realised (by a public
schedule of profiles), so the feasible average payoffs are the convex hull of the pure
profiles' payoff vectors ``u_k`` (``[P, N]``). Over that hull:

* ``utilitarian``: a best pure profile (a linear objective has a vertex optimum);
* ``egalitarian``: the LP ``max t`` s.t. ``sum_k p_k (u_ik - d_i) >= t``;
* ``kalai_smorodinsky``: the LP ``max t`` s.t. ``sum_k p_k (u_ik - d_i) >= t (I_i - d_i)``
  with the ideal point ``I_i = max_k u_ik``;
* ``nash`` (two players): the product of gains is maximised on the Pareto frontier, a
  union of segments between pure profiles; on each segment it is a quadratic in the
  mixing weight, maximised in closed form, so the optimum over all pairs is exact;
* a welfare defined on trajectories (the inequity-averse welfare of C.1) is maximised
  over the stationary pure profiles (one profile played at every step), evaluated on
  constant reward trajectories of the given horizon: exact over that class, the class
  the cooperative policies of amTFT use.

:func:`schedule` turns a lottery into a deterministic sequence of profiles whose
frequencies track it (both players compute the same sequence: the public schedule).
:func:`disagreement_point` is each player's pure security level (the best payoff it can
guarantee with one action): ``(-2, -2)`` in the IPD as the LOLA payoffs play it, ``(0, 0)``
in the asymmetric BoS (the miscoordinated profiles of Appendix B.2).
:func:`punishment` is the mixed strategy that minimises the opponent's best reply
(C.1's punishment policy; the minimax action of Appendix E's Proposition 1), by LP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spielplatz.errors import SpielplatzError

__all__ = ["WelfareOptimum", "pure_points", "maximise", "schedule", "disagreement_point",
           "punishment", "pareto_slack"]

#: Relative tolerance for ties between profiles (payoff-range units).
TIE_TOL = 1e-12


@dataclass(frozen=True)
class WelfareOptimum:
    """A welfare function's optimum over the feasible payoffs.

    Attributes
    ----------
    welfare : str
    lottery : ndarray ``[P]``
        Weights over the pure profiles (row-major joint actions).
    value : ndarray ``[N]``
        Expected payoffs of the lottery.
    objective : float
        The welfare at the optimum (relative to ``disagreement`` where it applies).
    over : str
        ``"hull"`` (all lotteries) or ``"stationary"`` (constant pure profiles).
    """

    welfare: str
    lottery: np.ndarray
    value: np.ndarray
    objective: float
    over: str = "hull"

    def to_dict(self) -> dict:
        return {"welfare": self.welfare, "lottery": self.lottery.tolist(),
                "value": self.value.tolist(), "objective": float(self.objective),
                "over": self.over}


def pure_points(payoffs: Any) -> np.ndarray:
    """Payoff vectors of the pure profiles ``[P, N]`` from payoffs ``[N, A_1, ..., A_N]``."""
    g = np.asarray(payoffs, dtype=float)
    return g.reshape(g.shape[0], -1).T


def _lp(c: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray, a_eq: np.ndarray,
        b_eq: np.ndarray, bounds: list) -> np.ndarray:
    from scipy.optimize import linprog

    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds,
                  method="highs")
    if res.status != 0:
        raise SpielplatzError(f"welfare maximisation LP failed: {res.message}")
    return res.x


def _max_min_lottery(gains: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``argmax_p min_i sum_k p_k gains[k, i] / scale[i]`` (an LP over the simplex)."""
    p, n = gains.shape
    # variables (p_1..p_P, t); maximise t: minimise -t
    c = np.r_[np.zeros(p), -1.0]
    a_ub = np.c_[-(gains / scale).T, np.ones(n)]
    x = _lp(c, a_ub, np.zeros(n), np.r_[np.ones(p), 0.0][None], np.ones(1),
            [(0, None)] * p + [(None, None)])
    lottery = np.clip(x[:p], 0.0, None)
    return lottery / lottery.sum()


def _nash_lottery(gains: np.ndarray) -> np.ndarray:
    """Maximise ``prod_i max(g_i, 0)`` over the hull of two-player gain vectors."""
    p = len(gains)
    best, lottery = 0.0, None
    for j in range(p):
        for k in range(j, p):
            a, b = gains[j], gains[k] - gains[j]            # g(t) = a + t b, t in [0, 1]
            ts = [0.0, 1.0]
            if b[0] * b[1] != 0.0:
                ts.append(-(a[0] * b[1] + a[1] * b[0]) / (2.0 * b[0] * b[1]))
            for t in ts:
                if not 0.0 <= t <= 1.0:
                    continue
                g = a + t * b
                value = float(np.prod(np.maximum(g, 0.0)))
                if value > best * (1 + TIE_TOL) + TIE_TOL:
                    best, lottery = value, np.zeros(p)
                    lottery[j] += 1.0 - t
                    lottery[k] += t
    if lottery is None:
        raise SpielplatzError("nash welfare is zero on every feasible payoff: no profile "
                              "gives every player more than its disagreement value")
    return lottery


def maximise(welfare: Any, payoffs: Any, *, disagreement: Any = None, horizon: int = 100,
             params: dict | None = None) -> WelfareOptimum:
    """The optimum of ``welfare`` (a registered :class:`WelfareFunction`) over the feasible
    payoffs of the matrix game ``payoffs [N, A_1, ..., A_N]``.

    Raises
    ------
    SpielplatzError
        A welfare function without an exact maximiser here (a plugin's function of
        values), or Nash welfare with more than two players.
    """
    points = pure_points(payoffs)
    p, n = points.shape
    d = np.zeros(n) if disagreement is None else np.broadcast_to(
        np.asarray(disagreement, dtype=float), (n,))
    gains = points - d
    span = float(np.ptp(points)) or 1.0
    name = welfare.name
    if welfare.defined_on == "trajectories":
        steps = int(horizon)
        trajectories = np.broadcast_to(points[:, None, :], (p, steps, n))
        scores = np.asarray(welfare.of_trajectories(trajectories, **(params or {})), float)
        k = int(np.flatnonzero(scores >= scores.max() - TIE_TOL * span * steps)[0])
        lottery = np.eye(p)[k]
        return WelfareOptimum(name, lottery, points[k], float(scores[k]), "stationary")
    if name == "utilitarian":
        scores = gains.sum(axis=1)
        lottery = np.eye(p)[int(np.flatnonzero(scores >= scores.max() - TIE_TOL * span)[0])]
    elif name == "egalitarian":
        lottery = _max_min_lottery(gains, np.ones(n))
    elif name == "kalai_smorodinsky":
        ideal = points.max(axis=0)
        if np.any(ideal - d <= 0):
            raise SpielplatzError("kalai_smorodinsky: every player's ideal value must exceed "
                                  "its disagreement value")
        lottery = _max_min_lottery(gains, ideal - d)
    elif name == "nash":
        if n != 2:
            raise SpielplatzError(f"the exact nash maximiser handles 2 players, not {n}")
        lottery = _nash_lottery(gains)
    else:
        raise SpielplatzError(f"welfare function {name!r} has no exact maximiser over the "
                              f"feasible payoffs (built-in: utilitarian, egalitarian, nash, "
                              f"kalai_smorodinsky, and welfare on trajectories over "
                              f"stationary profiles)")
    value = lottery @ points
    points_needed = {"ideal": points.max(axis=0)} if "ideal" in welfare.needs else {}
    objective = float(welfare(value, d, **points_needed))
    return WelfareOptimum(name, lottery, value, objective, "hull")


def pareto_slack(payoffs: Any, value: Any) -> float:
    """``max over feasible u of min_i (u_i - value_i)``: positive when some feasible payoff
    is better for every player (``value`` lies strictly below the Pareto frontier), zero
    on the weak frontier, negative outside the feasible set (one LP)."""
    points = pure_points(payoffs)
    gains = points - np.asarray(value, dtype=float)
    lottery = _max_min_lottery(gains, np.ones(points.shape[1]))
    return float((lottery @ gains).min())


def schedule(lottery: Any, length: int) -> np.ndarray:
    """A deterministic sequence of ``length`` profile indices whose running frequencies
    track ``lottery``: at each step the profile furthest behind its share (ties: the
    lowest index). A pure lottery gives a constant sequence."""
    weights = np.asarray(lottery, dtype=float)
    counts = np.zeros(len(weights))
    out = np.empty(int(length), dtype=np.int32)
    for t in range(int(length)):
        deficit = weights * (t + 1) - counts
        deficit[weights <= 0] = -np.inf
        k = int(np.argmax(deficit))
        out[t] = k
        counts[k] += 1
    return out


def disagreement_point(payoffs: Any) -> np.ndarray:
    """Each player's pure security level ``max_{a_i} min_{a_-i} u_i(a)``, ``[N]``."""
    g = np.asarray(payoffs, dtype=float)
    out = []
    for i in range(g.shape[0]):
        u = np.moveaxis(g[i], i, 0).reshape(g.shape[1 + i], -1)
        out.append(u.min(axis=1).max())
    return np.asarray(out)


def punishment(payoffs: Any, punisher: int) -> tuple[np.ndarray, float]:
    """``(strategy, value)``: the punisher's mixed strategy minimising the other player's
    best-reply payoff, and that payoff (two players; an LP: ``min v`` s.t.
    ``sum_a x_a u_o(a, b) <= v`` for every reply ``b``)."""
    g = np.asarray(payoffs, dtype=float)
    if g.shape[0] != 2:
        raise SpielplatzError("punishment strategies are computed for 2-player games")
    other = 1 - punisher
    u = g[other] if punisher == 0 else g[other].T           # [punisher's actions, replies]
    m, r = u.shape
    c = np.r_[np.zeros(m), 1.0]
    x = _lp(c, np.c_[u.T, -np.ones(r)], np.zeros(r), np.r_[np.ones(m), 0.0][None],
            np.ones(1), [(0, None)] * m + [(None, None)])
    strategy = np.clip(x[:m], 0.0, None)
    strategy /= strategy.sum()
    return strategy, float((strategy @ u).max())
