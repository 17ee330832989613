"""Compiled operations on a small dense MWMRE dual (numba): the constraint matrix as
compressed rows, its products with duals and joints, the loss and its change along a
step, the free duals' Hessian and its Cholesky solve.
:mod:`~spielplatz.equilibria.mwmre.compiled` runs the projected Newton with them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["compress", "loss", "loss_change", "hessian_free", "cholesky_solve", "gains_of",
           "scale_into", "gradient_of", "smallest", "descent"]


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
def gains_of(rows, sig, out):
    """``out = A sig`` (every constraint's gain)."""
    indptr, indices, data = rows
    for r in range(out.size):
        t = 0.0
        for q in range(indptr[r], indptr[r + 1]):
            t += data[q] * sig[indices[q]]
        out[r] = t


@njit(cache=True)
def loss(rows, base, alpha, eps_k, z):
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
def loss_change(rows, alpha, trial, sig, eps_k, dz, step):
    """``(change, ok)``: ``loss(trial) - loss(alpha)`` where no logit grows by more than 1,
    ``log1p(sum sigma expm1(dz)) + eps . (trial - alpha)`` from the logits' change ``dz``
    (accurate to the change's own precision, not the loss's: near the optimum the Armijo
    test then compares decreases, not rounding), and ``ok``; elsewhere ``ok`` is
    ``False`` (a mass too small for sigma to hold could grow): the change is then the
    difference of the two losses, the caller's to compute. ``step`` is scratch ``[K]``."""
    for r in range(alpha.size):
        step[r] = alpha[r] - trial[r]
    _combine(rows, step, dz)
    if dz.max() > 1.0:
        return 0.0, False
    x = 0.0
    for j in range(dz.size):
        x += sig[j] * math.expm1(dz[j])
    return math.log1p(x) - np.dot(eps_k, step), True


@njit(cache=True)
def hessian_free(rows, sig, gains, free, nf, h, cstart, cfill, crow, cval):
    """``h`` ``[nf, nf]``'s lower triangle (diagonal included; all that
    :func:`cholesky_solve` reads) = the covariance of the free constraints' rows under
    ``sig`` (``A_f diag(sig) A_f^T - g_f g_f^T``); returns the largest diagonal entry (at
    least 1e-300). ``rows`` is ``A`` compressed (:func:`compress`), ``free`` ascending;
    the free rows are first gathered by column (``cstart`` ``[S + 1]`` and ``cfill``
    ``[S]``, ``crow`` and ``cval`` as long as ``rows``' entries: scratch), so each
    product ``A[i, j] sig[j] A[m, j]`` is added for the free rows ``m`` up to ``i`` that
    are non-zero in column ``j`` only (a CE row meets few others, and no test per row
    is left to mispredict), in the order of a dense loop over the columns: ``h`` is the
    same to the last bit."""
    indptr, indices, data = rows
    s = cfill.size
    cstart[:] = 0
    for i in range(nf):
        for q in range(indptr[free[i]], indptr[free[i] + 1]):
            cstart[indices[q] + 1] += 1
    for j in range(s):
        cstart[j + 1] += cstart[j]
        cfill[j] = cstart[j]
    for i in range(nf):         # (ascending: each column's free rows in order)
        for q in range(indptr[free[i]], indptr[free[i] + 1]):
            j = indices[q]
            crow[cfill[j]] = i
            cval[cfill[j]] = data[q]
            cfill[j] += 1
    for i in range(nf):
        h[i, :i + 1] = 0.0
    for i in range(nf):
        for q in range(indptr[free[i]], indptr[free[i] + 1]):
            j = indices[q]
            w = data[q] * sig[j]
            for t in range(cstart[j], cstart[j + 1]):
                m = crow[t]
                if m > i:               # (the upper triangle)
                    break
                h[i, m] += w * cval[t]
    hmax = 1e-300
    for i in range(nf):
        gi = gains[free[i]]
        for m in range(i + 1):
            h[i, m] -= gi * gains[free[m]]
        hmax = max(hmax, h[i, i])
    return hmax


#: :func:`cholesky_solve`'s floating-point freedom: its dot products may be reordered
#: (and fused), so that they run on SIMD lanes; NaN and infinity keep their meaning (the
#: pivot test). A Cholesky of 60 / 80 / 112 free duals: 8.2 / 17 / 36 us against 14 / 33 /
#: 92 us, solutions equal to 1.5e-15 relative.
_REORDER = {"reassoc", "contract"}


@njit(cache=True, fastmath=_REORDER)
def cholesky_solve(h, b, low):
    """``h^-1 b`` in place of ``b`` by the Cholesky factor ``low`` (scratch, ``h``'s
    shape); ``False`` (``b`` untouched) at a pivot that is not positive (LAPACK
    ``dpotrf``'s test). The free sets of :func:`run` are small (its callers send at most
    :data:`~spielplatz.equilibria.mwmre.newton.COMPILED_DUALS` duals)."""
    n = b.size
    for j in range(n):
        t = h[j, j]
        for q in range(j):
            t -= low[j, q] * low[j, q]
        if not t > 0.0:
            return False
        d = math.sqrt(t)
        low[j, j] = d
        for i in range(j + 1, n):
            t = h[i, j]
            for q in range(j):
                t -= low[i, q] * low[j, q]
            low[i, j] = t / d
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
def scale_into(z, factor, out):
    for j in range(z.size):
        out[j] = z[j] * factor


@njit(cache=True)
def gradient_of(eps_k, gains, fixed, out):
    """``eps - gains``, 0 on fixed duals."""
    for r in range(gains.size):
        out[r] = 0.0 if fixed[r] else eps_k[r] - gains[r]


@njit(cache=True)
def smallest(sig):
    m = np.inf
    for j in range(sig.size):
        if sig[j] < m or sig[j] != sig[j]:
            m = sig[j]
    return m


@njit(cache=True)
def descent(grad, alpha, trial):
    t = 0.0
    for r in range(grad.size):
        t += grad[r] * (alpha[r] - trial[r])
    return t
