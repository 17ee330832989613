"""The projected Newton of :mod:`~spielplatz.equilibria.mwmre.newton`, compiled by numba,
for the small dense problems with a fixed epsilon that single-game solves mostly are.

The algorithm, step for step, is :func:`~spielplatz.equilibria.mwmre.newton.newton`'s
(Bertsekas 1982: held duals along ``-grad``, a Levenberg-Marquardt-damped Newton step by
LAPACK's Cholesky on the free ones, the Armijo search along the projection arc with
:func:`~spielplatz.equilibria.mwmre.newton._backtrack`'s interpolation, the long steps of
the tails), and so is the stopping rule of
:func:`~spielplatz.equilibria.mwmre.dominance.newton_eliminating`, whose dominance
certificate (:func:`~spielplatz.equilibria.mwmre.dominance.dominated_rows`, same margin)
runs inside the loop. On an 8x8 game an iteration costs a few dozen small numpy calls in
Python; compiled, it is one call (docs/benchmarks.md, "fifth pass").

:mod:`~spielplatz.equilibria.mwmre.dense_newton` calls them on a
:class:`~spielplatz.equilibria.mwmre.problem.DualProblem`. Each function is compiled
once per machine (numba's on-disk cache next to this file, or
numba's user cache folder where that is read-only).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["run", "compress", "FINISHED", "COLLAPSING", "DOMINATED", "STALLED", "FEASIBLE"]

#: Outcomes of :func:`run`.
FINISHED, COLLAPSING, DOMINATED, STALLED, FEASIBLE = 0, 1, 2, 3, 4

#: Long steps are tried only while the projected gradient falls by less than this
#: factor per iteration, and only once the smallest mass is below the second
#: (:data:`~spielplatz.equilibria.mwmre.newton.FAST_PROGRESS`, ``EXTRAPOLATE_BELOW``).
_FAST_PROGRESS, _EXTRAPOLATE_BELOW = 0.1, 1e-4
#: Masses below this mean a collapsing joint (the give-up rule of ``newton_eliminating``).
_COLLAPSED = 1e-9


@njit(cache=True)
def _solve_spd(h, b):
    """``h^-1 b`` in place of ``b`` by LAPACK's Cholesky (numba's binding); ``False``
    where ``h`` is not numerically positive definite."""
    try:
        low = np.linalg.cholesky(h)
    except Exception:       # (numba raises LinAlgError for a non-positive pivot)
        return False
    n = b.size
    for i in range(n):                  # L y = b
        t = b[i]
        for j in range(i):
            t -= low[i, j] * b[j]
        b[i] = t / low[i, i]
    for i in range(n - 1, -1, -1):      # L^T x = y
        t = b[i]
        for j in range(i + 1, n):
            t -= low[j, i] * b[j]
        b[i] = t / low[i, i]
    return True


@njit(cache=True)
def compress(A):
    """``A``'s non-zero entries as compressed rows ``(indptr, indices, data)``."""
    k, s = A.shape
    count = 0
    for r in range(k):
        for j in range(s):
            if A[r, j] != 0.0:
                count += 1
    indptr = np.zeros(k + 1, dtype=np.int64)
    indices = np.empty(count, dtype=np.int64)
    data = np.empty(count)
    q = 0
    for r in range(k):
        for j in range(s):
            if A[r, j] != 0.0:
                indices[q] = j
                data[q] = A[r, j]
                q += 1
        indptr[r + 1] = q
    return indptr, indices, data


@njit(cache=True)
def _combine(rows, x, out):
    """``out = x A`` for ``A`` in compressed rows ``(indptr, indices, data)`` (rows in
    order, each column's sum in the same order as a dense loop's)."""
    indptr, indices, data = rows
    out[:] = 0.0
    for r in range(x.size):
        a = x[r]
        if a != 0.0:
            for q in range(indptr[r], indptr[r + 1]):
                out[indices[q]] += a * data[q]


@njit(cache=True)
def _apply(rows, sig, out):
    """``out = A sig`` (every constraint's gain)."""
    indptr, indices, data = rows
    for r in range(out.size):
        t = 0.0
        for q in range(indptr[r], indptr[r + 1]):
            t += data[q] * sig[indices[q]]
        out[r] = t


@njit(cache=True)
def _value(rows, base, alpha, eps_k, z):
    """The dual loss at ``alpha`` (``logsumexp(base - alpha A) + eps . alpha``); ``z`` gets
    ``exp(logits - max)``; returns ``(loss, sum z)``."""
    _combine(rows, alpha, z)    # alpha A first, then from base (numpy's order: a smooth
    s = z.size                  # loss near the optimum, where Armijo compares rounding)
    for j in range(s):
        z[j] = base[j] - z[j]
    m = z.max()
    total = 0.0
    for j in range(s):
        z[j] = math.exp(z[j] - m)
        total += z[j]
    return m + math.log(total) + np.dot(eps_k, alpha), total


@njit(cache=True)
def _change(rows, alpha, trial, sig, eps_k, dz, step, new, value):
    """``loss(trial) - loss(alpha)``: where no logit grows by more than 1,
    ``log1p(sum sigma expm1(dz)) + eps . (trial - alpha)`` from the logits' change
    ``dz`` (accurate to the change's own precision, not the loss's: near the optimum the
    Armijo test then compares decreases, not rounding); elsewhere ``new - value``.
    ``step`` is scratch ``[K]``."""
    for r in range(alpha.size):
        step[r] = alpha[r] - trial[r]
    _combine(rows, step, dz)
    if dz.max() > 1.0:      # a mass too small for sigma to hold could grow
        return new - value
    x = 0.0
    for j in range(dz.size):
        x += sig[j] * math.expm1(dz[j])
    return math.log1p(x) - np.dot(eps_k, step)


@njit(cache=True)
def _project(alpha, d, step, fixed, out):
    for r in range(alpha.size):
        t = alpha[r] + step * d[r]
        out[r] = 0.0 if (fixed[r] or not t > 0.0) else t


@njit(cache=True)
def _residual(alpha, grad):
    """numpy's ``abs(min(grad, alpha)).max()``, NaN included (a diverged loss)."""
    r = 0.0
    for i in range(alpha.size):
        v = abs(min(grad[i], alpha[i]))
        if v > r or v != v:
            r = v
    return r


@njit(cache=True)
def _backtrack(step, base, value, decrease):
    slope = -decrease / step
    curvature = (value - base - slope * step) / (step * step)
    if not (curvature > 0 and math.isfinite(curvature)
            and value - base > 1e-12 * max(1.0, abs(base))):
        return 0.5 * step
    return min(max(-slope / (2.0 * curvature), 0.1 * step), 0.5 * step)


@njit(cache=True)
def _dominated(alpha, alive, starts, sizes, act, rest, g, margins):
    """The dominance certificate on ``alive`` columns (in place); whether it dropped any.

    Player ``p``'s recommendation ``a'`` with duals ``w = max(alpha_p[a', :], 0)`` (diagonal
    0) leaves when ``(w G_p)(c) - sum(w) G_p(a', c) > margins[p] sum(w)`` on every alive
    column ``(a', c)`` (:func:`~spielplatz.equilibria.mwmre.dominance.dominated_rows`);
    passes repeat until nothing drops; a support is never emptied."""
    s = alive.size
    keep = alive.copy()
    changed, dropped = True, False
    while changed:
        changed = False
        for p in range(sizes.size):
            n_p = sizes[p]
            for a in range(n_p):
                row = starts[p] + a * n_p
                mass = 0.0
                for b in range(n_p):
                    if b != a and alpha[row + b] > 0.0:
                        mass += alpha[row + b]
                if not mass > 0.0:
                    continue
                seen, strict = False, True
                for j in range(s):
                    if not keep[j] or act[p, j] != a:
                        continue
                    seen = True
                    c = rest[p, j]
                    comb = 0.0
                    for b in range(n_p):
                        if b != a and alpha[row + b] > 0.0:
                            comb += alpha[row + b] * g[p, b, c]
                    if not comb - mass * g[p, a, c] > margins[p] * mass:
                        strict = False
                        break
                if seen and strict:
                    for j in range(s):
                        if act[p, j] == a:
                            keep[j] = False
                    changed = True
    if not keep.any():
        return False
    dropped = (keep != alive).any()
    alive[:] = keep
    return dropped


@njit(cache=True)
def _below(gains, fixed, sig, strict):
    """Every mass positive and every constraint's gain below ``strict``."""
    if not sig.min() > 0.0:
        return False
    for r in range(gains.size):
        if not fixed[r] and not gains[r] < strict[r]:
            return False
    return True


@njit(cache=True)
def run(A, rows, base, eps_k, fixed, alpha, tol, max_iter, rule, patience, extrapolate,
        starts, sizes, act, rest, g, margins, alive, strict):
    """Projected Newton from ``alpha`` (updated in place) on the dense problem ``A``
    ``[K, S]`` (the support's columns; ``rows``: the same, compressed), ``base`` ``[S]``,
    ``eps_k`` ``[K]``.

    ``rule`` 0: no give-up rule; 1: give up once the joint collapses (smallest mass below
    1e-9) after ``patience`` iterations, or after 40; 2: the same, and from iteration 2
    on a collapse also runs the dominance certificate, which stops with
    :data:`DOMINATED` and ``alive`` cleared where it proves zeros; 3: stop with
    :data:`FEASIBLE` at the first joint with every mass positive and every gain below
    ``strict`` ``[K]`` (:mod:`~spielplatz.equilibria.mwmre.interior`).
    Returns ``(outcome, iterations, residual, loss, sigma [S], gains [K], grad [K])``.
    """
    k, s = A.shape
    z = np.empty(s)
    value, total = _value(rows, base, alpha, eps_k, z)
    sig = z / total
    gains = np.empty(k)
    _apply(rows, sig, gains)
    grad = np.where(fixed, 0.0, eps_k - gains)
    residual = _residual(alpha, grad)
    previous = np.inf
    trial = np.empty(k)
    best = np.empty(k)
    d = np.empty(k)
    z2 = np.empty(s)
    z3 = np.empty(s)
    dz = np.empty(s)
    scratch = np.empty(k)
    free = np.empty(k, dtype=np.int64)
    it, outcome = 0, FINISHED
    while residual > tol and it < max_iter:
        if rule == 3 and _below(gains, fixed, sig, strict):
            outcome = FEASIBLE
            break
        if rule == 1 or rule == 2:
            small = sig.min() < _COLLAPSED
            if rule == 2 and it >= 2 and small:
                if _dominated(alpha, alive, starts, sizes, act, rest, g, margins):
                    outcome = DOMINATED
                    break
            if (it >= patience and small) or it >= 40:
                outcome = COLLAPSING
                break
        it += 1
        delta = min(1e-3, residual)
        nf = 0
        for r in range(k):
            d[r] = 0.0
            if fixed[r]:
                continue
            if alpha[r] <= delta and grad[r] > 0:
                d[r] = -grad[r]
            else:
                free[nf] = r
                nf += 1
        if nf:
            sel = free[:nf]
            af = A[sel]
            h = (af * sig) @ af.T
            gf = gains[sel]
            hmax = 1e-300
            for i in range(nf):
                for j in range(nf):
                    h[i, j] -= gf[i] * gf[j]
                hmax = max(hmax, h[i, i])
            damping = min(residual, 1e-6)
            for i in range(nf):
                h[i, i] += damping * h[i, i] + 1e-14 * hmax
            x = grad[sel]
            if not _solve_spd(h, x):
                # (numpy's lstsq default cut-off, rcond=None)
                x = np.linalg.lstsq(h, grad[sel], rcond=np.finfo(np.float64).eps * nf)[0]
            for i in range(nf):
                d[sel[i]] = -x[i]
        # Armijo along the projection arc
        step, accepted = 1.0, False
        for _ in range(40):
            _project(alpha, d, step, fixed, trial)
            new, new_total = _value(rows, base, trial, eps_k, z2)
            change = _change(rows, alpha, trial, sig, eps_k, dz, scratch, new, value)
            decrease = np.dot(grad, alpha - trial)
            if change <= -1e-4 * decrease + 1e-15 * abs(value):
                accepted = True
                break
            step = _backtrack(step, value, value + change, decrease)
        if not accepted:        # rounding floor: the full step if it helps
            _project(alpha, d, 1.0, fixed, trial)
            new, new_total = _value(rows, base, trial, eps_k, z2)
            trial_gains = np.empty(k)
            _apply(rows, z2 / new_total, trial_gains)
            if not _residual(trial, np.where(fixed, 0.0, eps_k - trial_gains)) < residual:
                outcome = STALLED
                break
        if extrapolate and residual > _FAST_PROGRESS * previous and sig.min() < _EXTRAPOLATE_BELOW:
            # the tails: long steps along the last one
            change = _change(rows, alpha, trial, sig, eps_k, dz, scratch, new, value)
            for factor in (32.0, 4.0):
                for r in range(k):
                    d[r] = trial[r] - alpha[r]
                _project(trial, d, factor, fixed, best)
                longer, longer_total = _value(rows, base, best, eps_k, z3)
                if (_change(rows, alpha, best, sig, eps_k, dz, scratch, longer, value)
                        < change - 1e-14 * abs(new)):
                    trial[:] = best
                    z2[:] = z3
                    new, new_total = longer, longer_total
                    break
        alpha[:] = trial
        value = new
        sig = z2 / new_total
        _apply(rows, sig, gains)
        grad = np.where(fixed, 0.0, eps_k - gains)
        previous, residual = residual, _residual(alpha, grad)
    if rule == 3 and outcome == FINISHED and _below(gains, fixed, sig, strict):
        outcome = FEASIBLE
    return outcome, it, residual, value, sig, gains, grad

