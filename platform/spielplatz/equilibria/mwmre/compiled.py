"""The projected Newton of :mod:`~spielplatz.equilibria.mwmre.newton`, compiled by numba,
for the small dense problems with a fixed epsilon that single-game solves mostly are.

The algorithm, step for step, is :func:`~spielplatz.equilibria.mwmre.newton.newton`'s
(Bertsekas 1982: held duals along ``-grad``, a Levenberg-Marquardt-damped Newton step by
Cholesky on the free ones, shifted while it fails, the Armijo search along the projection
arc with :func:`~spielplatz.equilibria.mwmre.newton._backtrack`'s interpolation, the long
steps of the tails), and so is the stopping rule of
:func:`~spielplatz.equilibria.mwmre.dominance.newton_eliminating`, whose dominance
certificate (:func:`~spielplatz.equilibria.mwmre.dominance.dominated_rows`, same margin)
runs inside the loop. One difference: the Armijo test compares the loss change computed
from the change of the logits
(:func:`~spielplatz.equilibria.mwmre.compiled_ops.loss_change`), not the difference of
two losses, whose rounding decides the test near the optimum. On an 8x8 game an
iteration costs a few dozen small numpy calls in Python; compiled, it is one call
(docs/benchmarks.md, "fifth pass").
The constraint matrix is also held as compressed rows: a CE row is zero off ``1 / A_p``
of the joint actions.

:mod:`~spielplatz.equilibria.mwmre.dense_newton` calls them on a
:class:`~spielplatz.equilibria.mwmre.problem.DualProblem`. Each function is compiled
once per machine (numba's on-disk cache next to this file, or
numba's user cache folder where that is read-only).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from spielplatz.equilibria.mwmre.compiled_ops import (cholesky_solve, descent,
                                                      gains_of, gradient_of, hessian_free,
                                                      loss, loss_change, scale_into,
                                                      smallest)
from spielplatz.equilibria.mwmre.newton import EXTRAPOLATE_BELOW, FAST_PROGRESS, RETRY_SHIFTS
from spielplatz.equilibria.mwmre.newton import _backtrack as newton_backtrack

__all__ = ["run", "dominated_columns", "FINISHED", "COLLAPSING", "DOMINATED", "STALLED", "FEASIBLE"]

#: Outcomes of :func:`run`.
FINISHED, COLLAPSING, DOMINATED, STALLED, FEASIBLE = 0, 1, 2, 3, 4

#: The Python loop's constants (numba reads them when it compiles).
_SHIFTS = (0.0,) + RETRY_SHIFTS

#: :func:`dependency_hash` when this file was last written. numba's cache of
#: :func:`run` is keyed on this file only, yet it holds compiled_ops.py's functions and
#: what it takes from newton.py: tests/test_compiled_newton.py fails when they change until
#: this line is updated, and that edit is what makes numba compile afresh.
DEPENDENCIES = "2b5b50a7fd09"


def dependency_hash() -> str:
    """The first 12 hex digits of the SHA-256 of compiled_ops.py's source and of what
    this module takes from newton.py (``_backtrack`` and three constants)."""
    import hashlib
    import inspect

    from spielplatz.equilibria.mwmre import compiled_ops

    text = (inspect.getsource(compiled_ops) + inspect.getsource(newton_backtrack)
            + repr((EXTRAPOLATE_BELOW, FAST_PROGRESS, RETRY_SHIFTS)))
    return hashlib.sha256(text.encode()).hexdigest()[:12]
#: Masses below this mean a collapsing joint (the give-up rule of ``newton_eliminating``).
_COLLAPSED = 1e-9


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
        if grad[i] != grad[i] or alpha[i] != alpha[i]:
            return np.nan
        v = abs(grad[i] if grad[i] < alpha[i] else alpha[i])
        if v > r:
            r = v
    return r


@njit(cache=True)
def _change(rows, base, alpha, trial, sig, eps_k, dz, scratch, z, value):
    """``(change, loss, total, evaluated)``: the loss change from ``alpha`` to ``trial``
    (:func:`~spielplatz.equilibria.mwmre.compiled_ops.loss_change`); where that needs the
    loss at ``trial`` (``evaluated``), also that loss and its ``sum z`` (``z`` as
    :func:`~spielplatz.equilibria.mwmre.compiled_ops.loss` fills it), else zeros."""
    change, ok = loss_change(rows, alpha, trial, sig, eps_k, dz, scratch)
    if ok:
        return change, 0.0, 0.0, False
    new, total = loss(rows, base, trial, eps_k, z)
    return new - value, new, total, True


#: The Python loop's interpolating backtrack, compiled as it is.
_backtrack = njit(cache=True)(newton_backtrack)


@njit(cache=True)
def dominated_columns(alpha, alive, starts, sizes, act, rest, g, margins):
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
    left = 0
    for j in range(s):
        left += keep[j]
    if left == 0:
        return False
    for j in range(s):
        if keep[j] != alive[j]:
            dropped = True
        alive[j] = keep[j]
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
def run(rows, base, eps_k, fixed, alpha, tol, max_iter, rule, patience, limit,
        extrapolate, starts, sizes, act, rest, g, margins, alive, strict):
    """Projected Newton from ``alpha`` (updated in place) on the problem whose constraint
    matrix ``[K, S]`` (the support's columns) is ``rows`` (compressed:
    :func:`~spielplatz.equilibria.mwmre.compiled_ops.compress`), ``base`` ``[S]``,
    ``eps_k`` ``[K]``.

    ``rule`` 0: no give-up rule; 1: give up once the joint collapses (smallest mass below
    1e-9) after ``patience`` iterations, or after ``limit``; 2: the same, and from iteration 2
    on a collapse also runs the dominance certificate, which stops with
    :data:`DOMINATED` and ``alive`` cleared where it proves zeros; 3: stop with
    :data:`FEASIBLE` at the first joint with every mass positive and every gain below
    ``strict`` ``[K]`` (:mod:`~spielplatz.equilibria.mwmre.interior`).
    Returns ``(outcome, iterations, residual, loss, sigma [S], gains [K], grad [K])``.
    """
    k, s = rows[0].size - 1, base.size
    z = np.empty(s)
    value, total = loss(rows, base, alpha, eps_k, z)
    sig = np.empty(s)
    scale_into(z, 1.0 / total, sig)
    gains = np.empty(k)
    gains_of(rows, sig, gains)
    grad = np.empty(k)
    gradient_of(eps_k, gains, fixed, grad)
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
    cstart = np.empty(s + 1, dtype=np.int64)     # (hessian_free's scratch)
    cfill = np.empty(s, dtype=np.int64)
    crow = np.empty(rows[2].size, dtype=np.int64)
    cval = np.empty(rows[2].size)
    x = np.empty(k)
    movable = k - int(fixed.sum())      # (the free set's size at most: below malloc's
    h = np.empty(movable * movable)     # mmap threshold for 8x8 CE, 128 KB at k = 128;
    low = np.empty(movable * movable)   # flat: each free set's matrices contiguous)
    it, outcome = 0, FINISHED
    previous_shift = 0.0
    while residual > tol and it < max_iter:
        if rule == 3 and _below(gains, fixed, sig, strict):
            outcome = FEASIBLE
            break
        if rule == 1 or rule == 2:
            small = smallest(sig) < _COLLAPSED
            if rule == 2 and it >= 2 and small:
                if dominated_columns(alpha, alive, starts, sizes, act, rest, g, margins):
                    outcome = DOMINATED
                    break
            if (it >= patience and small) or it >= limit:
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
            hf = h[:nf * nf].reshape((nf, nf))      # (a view's strides stop SIMD)
            hmax = hessian_free(rows, sig, gains, free, nf, hf, cstart, cfill, crow,
                                cval)
            damping = min(residual, 1e-6)
            for i in range(nf):
                hf[i, i] += damping * hf[i, i] + 1e-14 * hmax
            xf = x[:nf]
            for shift in _SHIFTS:       # newton.RETRY_SHIFTS while Cholesky fails
                if shift > 0.0:
                    for i in range(nf):
                        hf[i, i] += (shift - previous_shift) * hmax
                previous_shift = shift
                for i in range(nf):     # (steepest descent if every shift fails)
                    xf[i] = grad[free[i]]
                if cholesky_solve(hf, xf, low[:nf * nf].reshape((nf, nf))):
                    break
            previous_shift = 0.0
            for i in range(nf):
                d[free[i]] = -xf[i]
        # Armijo along the projection arc (the loss itself only where it decides, and at
        # the step taken)
        step, accepted = 1.0, False
        for _ in range(40):
            _project(alpha, d, step, fixed, trial)
            change, new, new_total, evaluated = _change(rows, base, alpha, trial, sig, eps_k,
                                                        dz, scratch, z2, value)
            decrease = descent(grad, alpha, trial)
            if change <= -1e-4 * decrease + 1e-15 * abs(value):
                accepted = True
                break
            step = _backtrack(step, value, value + change, decrease)
        if not accepted:        # rounding floor: the full step if it helps
            _project(alpha, d, 1.0, fixed, trial)
            new, new_total = loss(rows, base, trial, eps_k, z2)
            change, ok = loss_change(rows, alpha, trial, sig, eps_k, dz, scratch)
            if not ok:
                change = new - value
            scale_into(z2, 1.0 / new_total, dz)
            gains_of(rows, dz, scratch)
            gradient_of(eps_k, scratch, fixed, scratch)
            if not _residual(trial, scratch) < residual:
                outcome = STALLED
                break
        elif not evaluated:
            new, new_total = loss(rows, base, trial, eps_k, z2)
        if (extrapolate and residual > FAST_PROGRESS * previous
                and smallest(sig) < EXTRAPOLATE_BELOW):
            # the tails: long steps along the last one
            for factor in (32.0, 4.0):
                for r in range(k):
                    d[r] = trial[r] - alpha[r]
                _project(trial, d, factor, fixed, best)
                longer, longer_new, longer_total, evaluated = _change(
                    rows, base, alpha, best, sig, eps_k, dz, scratch, z3, value)
                if longer < change - 1e-14 * abs(new):
                    trial[:] = best
                    if evaluated:
                        z2[:] = z3
                    else:
                        longer_new, longer_total = loss(rows, base, trial, eps_k, z2)
                    new, new_total = longer_new, longer_total
                    break
        alpha[:] = trial
        value = new
        scale_into(z2, 1.0 / new_total, sig)
        gains_of(rows, sig, gains)
        gradient_of(eps_k, gains, fixed, grad)
        previous, residual = residual, _residual(alpha, grad)
    if rule == 3 and outcome == FINISHED and _below(gains, fixed, sig, strict):
        outcome = FEASIBLE
    return outcome, it, residual, value, sig, gains, grad

