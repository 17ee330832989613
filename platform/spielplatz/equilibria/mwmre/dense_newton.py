"""The compiled projected Newton (:mod:`~spielplatz.equilibria.mwmre.compiled`) on a
:class:`~spielplatz.equilibria.mwmre.problem.DualProblem`: its arrays in, a
:class:`~spielplatz.equilibria.mwmre.newton.NewtonResult` out.

:func:`~spielplatz.equilibria.mwmre.newton.compiled_for` says which problems it takes
(small, dense, fixed epsilon) and returns this module where numba imports.
"""

from __future__ import annotations

import math

import numpy as np

from spielplatz.equilibria.mwmre.compiled import DOMINATED, run
from spielplatz.equilibria.mwmre.compiled_ops import compress
from spielplatz.equilibria.mwmre.newton import NewtonResult

__all__ = ["newton_dense", "compiled_layout"]


def compiled_layout(payoffs: np.ndarray, concept: str) -> tuple:
    """What the compiled loop's dominance certificate reads, for games ``payoffs``
    ``[B, N, A...]``: per player where its duals start and its number of actions, each
    joint action's own action and rest index (``player_matrix`` columns), and per game
    each player's payoffs ``[A_p, R]`` padded to ``[B, N, A_max, R_max]`` and the
    certificate's margin ``[B, N]``."""
    from spielplatz.equilibria import deviations
    from spielplatz.equilibria.mwmre.dominance import margin_factor

    b, n = payoffs.shape[:2]
    shape = payoffs.shape[2:]
    size = math.prod(shape)
    flat = np.arange(size).reshape(shape)
    sizes = np.asarray(shape, dtype=np.int64)
    per = sizes * sizes if concept == "ce" else sizes
    starts = np.concatenate([[0], np.cumsum(per)[:-1]]).astype(np.int64)
    act = np.empty((n, size), dtype=np.int64)
    rest = np.empty((n, size), dtype=np.int64)
    g = np.zeros((b, n, int(sizes.max()), max(size // a for a in shape)))
    margins = np.empty((b, n))
    for p in range(n):
        cells = deviations.player_matrix(flat, p, n)                    # [A_p, R]
        act[p, cells] = np.arange(shape[p])[:, None]
        rest[p, cells] = np.arange(cells.shape[1])[None, :]
        gp = deviations.player_matrix(payoffs[:, p], p, n)              # [B, A_p, R]
        g[:, p, :gp.shape[1], :gp.shape[2]] = gp
        margins[:, p] = margin_factor(shape[p]) * np.abs(gp).max(axis=(1, 2))
    return starts, sizes, act, rest, g, margins


def _layout(problem) -> tuple:
    """:func:`compiled_layout` of one problem's game (cached on the problem: the same for
    every support)."""
    cached = problem.__dict__.get("_compiled_layout")
    if cached is None:
        starts, sizes, act, rest, g, margins = compiled_layout(problem.payoffs[None],
                                                               problem.concept)
        cached = problem.__dict__["_compiled_layout"] = (starts, sizes, act, rest, g[0],
                                                         margins[0])
    return cached


def _compressed(problem) -> tuple:
    """The support's dense constraint matrix as compressed rows (cached on the problem
    for its support: a CE row of player ``p`` is zero off ``1 / A_p`` of the columns)."""
    cached = problem.__dict__.get("_compiled_rows")
    dense = problem._dense_s
    if cached is not None and cached[0] is dense:
        return cached[1]
    out = compress(dense)
    problem.__dict__["_compiled_rows"] = (dense, out)
    return out


def newton_dense(problem, *, tol: float, max_iter: int, alpha0: np.ndarray | None = None,
                 patience: int | None = None, eliminate: bool = False,
                 extrapolate: bool = True, strict: np.ndarray | None = None):
    """:func:`~spielplatz.equilibria.mwmre.newton.newton` on a dense fixed-epsilon
    :class:`~spielplatz.equilibria.mwmre.problem.DualProblem`, compiled.

    ``patience``: the give-up rule of ``newton_eliminating`` (stop once the joint
    collapses after that many iterations, or after 40; ``None``: no rule);
    ``eliminate`` (exact CE) adds its dominance certificate. The result's ``support``
    is the smaller support the certificate proved (``None`` if it proved none).
    ``strict`` ``[K]`` (instead of ``patience``): stop at the first joint with every mass
    positive and every gain below it (rule 3 of
    :func:`~spielplatz.equilibria.mwmre.compiled.run`)."""
    alpha = (np.zeros(problem.k) if alpha0 is None
             else np.where(problem.fixed, 0.0, np.asarray(alpha0, dtype=np.float64)))
    starts, sizes, act, rest, g, margins = _layout(problem)
    cols = problem._cols
    if cols is not None:
        act, rest = act[:, cols], rest[:, cols]
    s = problem._base_s.size
    alive = np.ones(s, dtype=bool)
    eps_k = problem._eps_k if problem._eps_k is not None else np.zeros(problem.k)
    rule = 0 if patience is None else (2 if eliminate and problem.concept == "ce" else 1)
    if strict is not None:
        rule = 3
    strict = np.zeros(0) if strict is None else np.asarray(strict, dtype=float)
    outcome, it, residual, value, sig, gains, grad = run(
        _compressed(problem), problem._base_s, eps_k, problem.fixed, alpha,
        float(tol), int(max_iter), rule, int(patience or 0), 40, bool(extrapolate), starts, sizes,
        np.ascontiguousarray(act), np.ascontiguousarray(rest), g, margins, alive, strict)
    sigma = np.zeros(problem._base_flat.size)
    if cols is None:
        sigma[:] = sig
    else:
        sigma[cols] = sig
    state = {"alpha": alpha, "value": value, "sigma": sigma.reshape(problem.shape),
             "eps": problem.epsilon, "gains": gains, "_sig": sig, "grad": grad}
    support = None
    if outcome == DOMINATED:
        full = np.zeros(problem._base_flat.size, dtype=bool)
        full[np.flatnonzero(problem.support.ravel())[alive]] = True
        support = full.reshape(problem.shape)
    return NewtonResult(alpha, state, it, residual <= tol, residual, support=support)


def self_check() -> bool:
    """Whether the compiled loop loads (or compiles) and solves matching pennies: its
    uniform CE, a tenth of a millisecond once compiled."""
    from spielplatz.equilibria.mwmre.problem import DualProblem

    pennies = np.array([[[0.5, -0.5], [-0.5, 0.5]], [[-0.5, 0.5], [0.5, -0.5]]])
    problem = DualProblem(pennies, "ce", np.full((2, 2), -math.log(4.0)), epsilon=np.zeros(2))
    res = newton_dense(problem, tol=1e-10, max_iter=50)
    return bool(res.converged and np.allclose(res.state["sigma"], 0.25, atol=1e-8))
