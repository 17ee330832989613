"""Refinement: a few exact dual steps from the network's duals (warm start).

The network approximately minimises the target-epsilon dual (Theorems 1-2).
Refinement minimises the *fixed-epsilon* dual of the exact problem that the
``maxent`` solver answers (:func:`spielplatz.mwmre.maxent_loss`, epsilon = 0:
the exact MaxEnt / minimum-relative-entropy (C)CE) in float64 by projected
Newton (Bertsekas 1982) over ``alpha >= 0``, starting from the network's
duals, so that it needs a few iterations instead of a cold solve.

Units: like ``maxent``, payoffs divided by their range. The constraint
features are dense ``[K, |A|]`` matrices in the row order of the host's
:func:`spielplatz.constraints.constraint_matrix` (CE diagonal dropped; tested
equal), built for a whole batch at once because refinement is for the small
games a network solves; all games of a batch iterate together (batched
Hessians and solves, per-game active sets and line searches).

When the exact answer has zeros (e.g. dominated strategies), the dual has no
finite minimiser; along the diverging directions a Newton step grows the
duals by about one unit of ``1/gain`` per iteration, so the missing mass
shrinks geometrically and the iteration stops once the projected gradient
(the constraint violations) is below ``tol``.
"""

from __future__ import annotations

import math

import numpy as np

from spielplatz import deviations

__all__ = ["refine_batch", "dense_constraints", "warm_start", "network_to_flat",
           "flat_to_duals", "range_scale"]


def network_to_flat(duals: list, concept: str, scale: float) -> np.ndarray:
    """Per-player own-unit duals -> flat range-1 duals in constraint-matrix order."""
    out = []
    for d in duals:
        d = np.asarray(d, dtype=float)
        if concept == "ce":
            out.append(d[~np.eye(d.shape[0], dtype=bool)])
        else:
            out.append(d.ravel())
    # alpha * gain = alpha_r * gain / scale  ->  alpha_r = alpha * scale
    return np.concatenate(out) * scale


def flat_to_duals(flat: np.ndarray, shape: tuple, concept: str, scale: float) -> list:
    """Inverse of :func:`network_to_flat` (CE diagonal zero), own units."""
    out, start = [], 0
    for a in shape:
        if concept == "ce":
            d = np.zeros((a, a))
            k = a * (a - 1)
            d[~np.eye(a, dtype=bool)] = flat[start:start + k]
        else:
            k = a
            d = flat[start:start + k].copy()
        out.append(d / scale)
        start += k
    return out


def warm_start(alpha: np.ndarray, keep: float = 0.1) -> np.ndarray:
    """The network's duals as a Newton start: entries below ``keep`` times the game's
    largest dual are set to 0 (softplus never outputs an exact zero, but most
    constraints of the answer are slack; starting them at 0 halves the iterations)."""
    alpha = np.maximum(np.asarray(alpha, float), 0.0)
    top = alpha.max(axis=-1, keepdims=True) if alpha.shape[-1] else alpha
    return np.where(alpha > keep * top, alpha, 0.0)


def range_scale(payoffs: np.ndarray) -> float:
    """The payoff range the exact solver divides by (1 for a constant game)."""
    s = float(deviations.payoff_scale(payoffs))
    return s if s > 0 else 1.0


# -- batched refinement ------------------------------------------------------------------

def dense_constraints(payoffs: np.ndarray, concept: str) -> np.ndarray:
    """Dense constraint matrices ``[B, K, |A|]`` of a batch ``[B, N, A...]``.

    Rows in the order of :func:`spielplatz.constraints.constraint_matrix` (CE: per
    player the off-diagonal ``(a', a'')`` in C order; CCE: per player ``a'``), columns
    the joint actions in C order, so ``F @ sigma.ravel()`` are the deviation gains.
    Meant for the small games a network solves (tested against the host's matrix).
    """
    b = payoffs.shape[0]
    n = payoffs.shape[1]
    shape = payoffs.shape[2:]
    blocks = []
    for p in range(n):
        g = np.moveaxis(payoffs[:, p], 1 + p, 1)                     # [B, A_p, others...]
        others = g.shape[2:]
        a = shape[p]
        g = g.reshape(b, a, -1)                                       # [B, A_p, R]
        if concept == "cce":
            # F[a', (a_p, r)] = G(a', r) - G(a_p, r)
            f = g[:, :, None, :] - g[:, None, :, :]                   # [B, a', a_p, R]
            rows = f
        else:
            # F[(a', a''), (a_p, r)] = [a_p == a'] (G(a'', r) - G(a', r))
            diff = g[:, None, :, :] - g[:, :, None, :]                # [B, a', a'', R]
            eye = np.eye(a)
            f = diff[:, :, :, None, :] * eye[None, :, None, :, None]  # [B, a', a'', a_p, R]
            off = ~np.eye(a, dtype=bool)
            rows = f[:, off]                                          # [B, a(a-1), a_p, R]
        k = rows.shape[1]
        rows = rows.reshape((b, k, a) + others)
        rows = np.moveaxis(rows, 2, 2 + p).reshape(b, k, -1)         # columns in C order
        blocks.append(rows)
    return np.concatenate(blocks, axis=1)


def refine_batch(payoffs: np.ndarray, concept: str, alpha0: np.ndarray, *, base=None,
                 tol: float = 1e-10, max_iter: int = 100) -> dict:
    """Projected Newton on the exact fixed-epsilon dual, for a batch of games at once.

    Parameters
    ----------
    payoffs : ndarray ``[B, N, A...]``
        Each game divided by its payoff range.
    concept : {"ce", "cce"}
    alpha0 : ndarray ``[B, K]``
        Warm start, flat duals in constraint-matrix order.
    base : ndarray ``[B, |A|]``, optional
        ``ln sigma_hat + mu W`` (uniform prior by default).
    tol, max_iter
        Per game: stop when the largest projected-gradient entry is below ``tol``.

    Returns
    -------
    dict
        ``joint`` ``[B, A...]``, ``duals`` ``[B, K]``, ``iterations`` ``[B]``,
        ``residual`` ``[B]``, ``converged`` ``[B]``.
    """
    bsz = payoffs.shape[0]
    shape = payoffs.shape[2:]
    size = int(np.prod(shape))
    f = dense_constraints(payoffs, concept)                            # [B, K, J]
    k = f.shape[1]
    base = np.full((bsz, size), -math.log(size)) if base is None else np.asarray(base, float)
    alpha = np.maximum(np.asarray(alpha0, dtype=float), 0.0)

    value, sigma, grad, gains = _evaluate(f, base, alpha)
    iterations = np.zeros(bsz, dtype=int)
    eye = np.eye(k)
    residual = np.full(bsz, np.inf)
    for _ in range(max_iter):
        proj = alpha - np.maximum(alpha - grad, 0.0)
        residual = np.abs(proj).max(axis=1) if k else np.zeros(bsz)
        todo = residual > tol
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        a, g, s, gn = alpha[idx], grad[idx], sigma[idx], gains[idx]
        ff = f[idx]
        active = (a <= np.minimum(1e-9, residual[idx])[:, None]) & (g > 0)
        h = np.matmul(ff * s[:, None, :], np.swapaxes(ff, 1, 2)) - gn[:, :, None] * gn[:, None, :]
        free = ~active
        h = np.where(free[:, :, None] & free[:, None, :], h, 0.0)
        h = h + eye * np.where(active, 1.0, 0.0)[:, :, None]
        h = h + eye * (1e-12 * (1.0 + np.trace(h, axis1=1, axis2=2)))[:, None, None]
        rhs = np.where(active, 0.0, g)
        try:
            d = -np.linalg.solve(h, rhs[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            d = -np.stack([np.linalg.lstsq(hh, rr, rcond=None)[0] for hh, rr in zip(h, rhs)])
        d = np.where(active, -g, d)
        step = np.ones(len(idx))
        new_a = a.copy()
        pending = np.ones(len(idx), dtype=bool)
        out_v, out_s, out_g, out_gn = value[idx].copy(), s.copy(), g.copy(), gn.copy()
        for _ls in range(40):
            trial = np.maximum(a + step[:, None] * d, 0.0)
            tv, ts, tg, tgn = _evaluate(f[idx], base[idx], trial)
            ok = pending & (tv <= value[idx] + 1e-4 * ((g * (trial - a)).sum(axis=1)))
            new_a[ok], out_v[ok], out_s[ok], out_g[ok], out_gn[ok] = \
                trial[ok], tv[ok], ts[ok], tg[ok], tgn[ok]
            pending &= ~ok
            if not pending.any():
                break
            step = np.where(pending, step * 0.5, step)
        alpha[idx], value[idx], sigma[idx], grad[idx], gains[idx] = \
            new_a, out_v, out_s, out_g, out_gn
        iterations[idx] += 1
        if pending.all():                     # no game could make progress
            break
    proj = alpha - np.maximum(alpha - grad, 0.0)
    residual = np.abs(proj).max(axis=1) if k else np.zeros(bsz)
    return {"joint": sigma.reshape((bsz,) + tuple(shape)), "duals": alpha,
            "iterations": iterations, "residual": residual, "converged": residual <= tol}


def _evaluate(f, base, a):
    """Dual value, joint, dual gradient and constraint gains of games ``[B]`` at duals ``a``."""
    z = base - np.einsum("bkj,bk->bj", f, a)
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    tot = e.sum(axis=1, keepdims=True)
    sigma = e / tot
    gains = np.einsum("bkj,bj->bk", f, sigma)
    return (m + np.log(tot))[:, 0], sigma, -gains, gains
