"""Zeros of an exact MWMRE CE certified by its duals, without the support LP.

When the answer has zeros, the duals of the recommendations no CE plays run off
along a direction that proves it: :func:`dominated` checks, for every
recommendation still in the support, whether its own duals make it strictly
dominated on the support (a Farkas certificate, in float64 with a margin far
above its rounding error), and :func:`newton_eliminating` drops such rows as
Newton goes. Only exact CE (``epsilon = 0``) qualify; the caller runs the
support LP (:func:`~spielplatz.equilibria.mwmre.newton.support_lp`) for zeros
without such a certificate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spielplatz.equilibria import deviations
from spielplatz.equilibria.mwmre.config import Options
from spielplatz.equilibria.mwmre.newton import compiled_for, min_mass, newton
from spielplatz.equilibria.mwmre.problem import DualProblem

__all__ = ["newton_eliminating", "dominated", "dominated_rows", "batch_dominated",
           "certified_zeros", "margin_factor", "DOMINANCE_PATIENCE"]

#: Newton iterations of a collapsing phase that may still end in a dominance
#: certificate (:func:`dominated`) before the support LP is run instead.
DOMINANCE_PATIENCE = 16


def newton_eliminating(problem: DualProblem, opts: Options, alpha0: np.ndarray | None,
                        eliminate: bool) -> tuple:
    """Projected Newton that drops, as it goes, recommendations no CE plays.

    While the joint collapses (the answer has zeros), the duals of the collapsing
    recommendations grow along a direction that proves them unplayable: a
    recommendation ``a'`` of player ``p`` whose duals ``w = alpha_p[a', :]`` make
    ``sum_a'' w(a'') (G_p(a'', c) - G_p(a', c)) > 0`` on every joint action
    ``(a', c)`` still in the support is strictly dominated there by the mixture
    ``w``, so every CE (exact, ``epsilon = 0``) gives it probability 0: the
    constraints of ``w`` sum to a gain that is positive unless ``sigma(a', .) = 0``
    (a Farkas certificate, checked in float64 with a margin far above its
    rounding error). Such rows leave the support (:func:`dominated`), and Newton
    goes on from the same duals on the smaller problem (once more from zero if
    that does not converge), until it converges or the collapse has no certificate
    of this kind (the caller then runs the support LP). Returns ``(result, problem, iterations, route)``, ``route`` ``"dominance"``
    when some row was dropped, else ``"none"``.
    """
    total, route = 0, "none"
    while True:
        found: dict = {}

        def give_up(it: int, state: dict, _problem=problem, _found=found) -> bool:
            if eliminate and it >= 2 and min_mass(state, _problem) < 1e-9:
                support = dominated(_problem, state["alpha"])
                if support is not None:
                    _found["support"] = support
                    return True
            return (it >= patience and min_mass(state, _problem) < 1e-9) or it >= 40

        patience = DOMINANCE_PATIENCE if eliminate else 8
        compiled = compiled_for(problem)
        if compiled is not None:        # the same rule, checked inside the compiled loop
            res = compiled.newton_dense(problem, tol=opts.tol, max_iter=opts.max_iter,
                                        alpha0=alpha0, patience=patience, eliminate=eliminate)
            if res.support is not None:
                found["support"] = res.support
        else:
            res = newton(problem, tol=opts.tol, max_iter=opts.max_iter, give_up=give_up,
                         alpha0=alpha0)
        total += res.iterations
        if ("support" not in found and eliminate and res.converged
                and min_mass(res.state, problem) < 1e-9):
            # converged in the tail (the gradient vanishes with the mass)
            support = dominated(problem, res.alpha)
            if support is not None:
                found["support"] = support
        if "support" not in found:
            if route == "dominance" and alpha0 is not None and not res.converged:
                # the warm start kept duals that ran off with the dropped rows and
                # that Newton cannot bring back (e.g. no curvature left): from zero
                alpha0 = None
                continue
            return res, problem, total, route
        problem = problem.restrict(found["support"])
        alpha0, route = res.alpha, "dominance"


def margin_factor(actions: int) -> float:
    """The certificate's margin per unit of ``max |G_p|`` for a player of ``actions``
    actions: many times the float64 rounding of a combined coefficient."""
    return max(1e-12, 8.0 * (actions + 2) * 2.0 ** -53)


def dominated_rows(duals: Any, g: Any, margin: Any, on: Any, off: Any) -> Any:
    """The recommendations of one player that its CE duals prove unplayable (bool ``[A_p]``).

    ``duals`` ``[A_p, A_p]`` (the player's block), ``g`` its payoffs ``[A_p, R]``, ``on``
    the support ``[A_p, R]``, ``off`` the off-diagonal mask: row ``a'`` qualifies when its
    combined constraint ``(w G)(c) - sum(w) G(a', c)``, ``w = max(duals[a'], 0)``, exceeds
    ``margin * sum(w)`` on every joint action of the row in the support. numpy and jax
    arrays alike (the batched kernel runs the same certificate).
    """
    w = duals.clip(0.0, None) * off
    mass = w.sum(axis=1)
    comb = w @ g - mass[:, None] * g
    return ((comb > margin * mass[:, None]) | ~on).all(axis=1) & (mass > 0) & on.any(axis=1)


def dominated(problem: DualProblem, alpha: np.ndarray) -> np.ndarray | None:
    """The support of ``problem`` less the recommendations its CE duals ``alpha``
    prove unplayable (bool ``[A...]``), or ``None`` when they prove nothing new.

    For player ``p`` and recommendation ``a'`` with duals ``w = alpha_p[a', :]``
    (non-negative, diagonal zero) the combined constraint has the coefficient
    ``(w G_p)(c) - sum(w) G_p(a', c)`` on joint action ``(a', c)``; when it exceeds
    ``margin * sum(w)`` on every joint action of row ``a'`` in the support, no CE
    of the support plays ``a'`` (see :func:`newton_eliminating`). Repeated until
    nothing changes (a dropped row shrinks the others' supports). ``margin``
    bounds the float64 rounding of the coefficients many times over (payoffs of
    range 1).
    """
    n, shape = problem.n, problem.shape
    cache = problem.__dict__.get("_dominance")
    if cache is None:
        flat = np.arange(int(np.prod(shape))).reshape(shape)
        starts = np.cumsum([0] + [a * a for a in shape])
        cache = problem.__dict__["_dominance"] = [
            (deviations.player_matrix(problem.payoffs[p], p, n),            # G_p [A_p, R]
             np.ascontiguousarray(deviations.player_matrix(flat, p, n)),     # cells [A_p, R]
             1.0 - np.eye(shape[p]),
             margin_factor(shape[p]) * float(np.abs(problem.payoffs[p]).max(initial=0.0)),
             slice(int(starts[p]), int(starts[p + 1])))
            for p in range(n)]
    support = problem.support.ravel().copy()
    changed, any_change = True, False
    while changed:
        changed = False
        for p in range(n):
            g, cells, off, margin, duals = cache[p]
            # every row at once (A_p x A_p products are cheaper than selecting rows)
            rows = dominated_rows(alpha[duals].reshape(shape[p], shape[p]), g, margin,
                                  support[cells], off)
            if rows.any():
                support[cells[rows]] = False
                changed = any_change = True
    support = support.reshape(shape)
    if not any_change or not support.any():
        return None
    return support


def batch_dominated(payoffs: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """:func:`dominated` for a batch: the joint actions that the CE duals ``alphas``
    ``[B, K]`` do not prove unplayable, bool ``[B, A...]``, for games ``payoffs``
    ``[B, N, A...]`` (the units the duals were computed in).

    The same certificate, vectorised over the games: recommendation ``a'`` of player
    ``p`` leaves the support of game ``b`` when its duals ``w = alpha_p[a', :]`` give
    the combined constraint a coefficient above ``margin * sum(w)`` on every joint
    action of row ``a'`` still in the support; repeated until nothing changes.
    """
    b, n = payoffs.shape[:2]
    shape = payoffs.shape[2:]
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    support = np.ones((b, int(np.prod(shape))), dtype=bool)
    starts = np.cumsum([0] + [a * a for a in shape])
    views = []
    for p in range(n):
        a = shape[p]
        g = deviations.player_matrix(payoffs[:, p], p, n)                  # [B, A_p, R]
        w = np.maximum(alphas[:, starts[p]:starts[p + 1]].reshape(b, a, a), 0.0)
        w = w * (1.0 - np.eye(a))
        mass = w.sum(axis=2)                                                # [B, A_p]
        comb = w @ g - mass[:, :, None] * g
        margin = margin_factor(a) * np.abs(g).max(axis=(1, 2))
        strict = comb > (margin[:, None] * mass)[:, :, None]                # [B, A_p, R]
        views.append((np.ascontiguousarray(deviations.player_matrix(flat, p, n)), strict,
                      mass > 0))
    changed = True
    while changed:
        changed = False
        for cells, strict, has_mass in views:
            on = support[:, cells]                                          # [B, A_p, R]
            rows = on.any(axis=2) & has_mass & np.where(on, strict, True).all(axis=2)
            if rows.any():
                games, recs = np.nonzero(rows)
                support[games[:, None], cells[recs]] = False
                changed = True
    # a CE exists, so a valid certificate never empties a support (kept as a guard)
    support[~support.any(axis=1)] = True
    return support.reshape((b,) + shape)


def certified_zeros(joints: np.ndarray, support: np.ndarray | None,
                    vanishing: float) -> tuple:
    """``(joints, routes)``: the batch's joints ``[B, A...]`` with the joint actions outside
    ``support`` (:func:`batch_dominated`; ``None``: no certificate) set to exact zeros and
    renormalised, and per game ``none`` (no mass below ``vanishing``), ``dominance``
    (every such mass proven zero) or ``vanishing`` (some left as found)."""
    axes = tuple(range(1, joints.ndim))
    if support is not None:
        joints = np.where(support, joints, 0.0)
    small = (joints < vanishing).any(axis=axes)
    routes = np.where(small, "vanishing", "none").astype(object)
    if support is not None:
        proven = (~support).any(axis=axes)
        left = (support & (joints < vanishing)).any(axis=axes)
        routes[proven & ~left] = "dominance"
    total = joints.sum(axis=axes, keepdims=True)
    # (a game whose every mass the certificate removed fails certification and is
    # re-solved: its all-zero joint is left as it is, not divided by zero)
    return joints / np.where(total > 0, total, 1.0), routes
