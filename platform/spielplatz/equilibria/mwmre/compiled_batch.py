"""Batched exact CE / CCE with the compiled Newton (numba): each game runs
:func:`~spielplatz.equilibria.mwmre.dominance.newton_eliminating`'s loop, restarts after a
dominance certificate included, inside one compiled call per share of the games, on
host threads that release the GIL.

The batched path's JAX kernel (:mod:`~spielplatz.equilibria.mwmre.kernel`) advances
chunks of games in lockstep with conjugate gradients; on small games with a fixed
epsilon this driver does the same work with exact Newton steps and no per-game Python
(docs/benchmarks.md, "fifth pass"). Its output is the kernel's (``joint``, ``alpha``,
``base`` with ``-inf`` on proven zeros, ``value``, ``residual``, ``iterations``), so
:func:`~spielplatz.equilibria.mwmre.batched.solve_batch` certifies both alike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from spielplatz.equilibria.mwmre.compiled import (_COLLAPSED, DOMINATED, FEASIBLE,
                                                  dominated_columns, run)
from spielplatz.equilibria.mwmre.compiled_ops import smallest
from spielplatz.equilibria.mwmre.batch_threads import run_shares
from spielplatz.equilibria.mwmre.dense_newton import compiled_layout
from spielplatz.equilibria.mwmre.kernel import dual_gaps_ok

__all__ = ["run_batch", "constraint_rows"]

#: The restarts after a dominance certificate that one game may take.
_RESTARTS = 16
#: Newton iterations of the interior joint's search (``prove``), warm-started from the
#: batch's converged duals. 500 8x8 CE games per distribution (N(0, 1) / uniform /
#: L2-invariant), games left to the LP with 1, 2, 3, 4, 8 iterations: 29/29/28,
#: 28/27/28, 28/27/27, 28/27/26, 28/27/26; the exact_zeros solve 0.155-0.171 s with 2
#: against 0.169-0.178 s with 8 (the single-game path keeps
#: :data:`~spielplatz.equilibria.mwmre.interior.ITERATIONS`, from a stalled Newton).
PROOF_ITERATIONS = 2


@njit(cache=True)
def _matrix(g, fixed_diag, starts, sizes, act, rest, out):
    """The dense constraint matrix of one game (``dense_matrix``'s numbers: each entry
    the float64 difference ``G_p(a'', c) - G_p(a', c)``, CE rows ``(p, a', a'')`` on the
    joint actions ``(a', c)``; CCE rows ``(p, a'')`` on every joint action)."""
    out[:, :] = 0.0
    s = out.shape[1]
    for p in range(sizes.size):
        n_p = sizes[p]
        for j in range(s):
            a, c = act[p, j], rest[p, j]
            if fixed_diag:                              # CE
                for b in range(n_p):
                    if b != a:
                        out[starts[p] + a * n_p + b, j] = g[p, b, c] - g[p, a, c]
            else:                                       # CCE
                for b in range(n_p):
                    out[starts[p] + b, j] = g[p, b, c] - g[p, a, c]


@njit(cache=True)
def _game_rows(g, ce, starts, sizes, act, rest, order, first, k):
    """:func:`_matrix`'s numbers as compressed rows
    (:func:`~spielplatz.equilibria.mwmre.compiled_ops.compress` of it, zeros left out),
    built without the dense matrix: ``order[p, first[p, a]:first[p, a + 1]]`` are the
    joint actions where player ``p`` plays ``a``, ascending."""
    s = act.shape[1]
    count = 0
    for p in range(sizes.size):
        count += (sizes[p] - 1 if ce else sizes[p]) * s
    indptr = np.zeros(k + 1, dtype=np.int64)
    indices = np.empty(count, dtype=np.int64)
    data = np.empty(count)
    q = 0
    for p in range(sizes.size):
        n_p = sizes[p]
        for a in range(n_p if ce else 1):
            for b in range(n_p):
                # CE row (p, a, b) on the joint actions where p plays a; CCE row (p, b)
                # on every joint action
                lo, hi = (first[p, a], first[p, a + 1]) if ce else (0, s)
                if ce and b == a:
                    hi = lo                 # (the diagonal: no deviation)
                for t in range(lo, hi):
                    j = order[p, t] if ce else t
                    v = g[p, b, rest[p, j]] - g[p, act[p, j], rest[p, j]]
                    if v != 0.0:
                        indices[q] = j
                        data[q] = v
                        q += 1
                indptr[starts[p] + (a * n_p + b if ce else b) + 1] = q
    return indptr, indices[:q], data[:q]


@njit(cache=True)
def _restrict(rows, cols, s):
    """``rows`` (compressed, ``s`` columns) on the columns ``cols`` (ascending), renumbered."""
    indptr, indices, data = rows
    where = np.full(s, -1, dtype=np.int64)
    for q in range(cols.size):
        where[cols[q]] = q
    k = indptr.size - 1
    out_ptr = np.zeros(k + 1, dtype=np.int64)
    out_idx = np.empty(indices.size, dtype=np.int64)
    out_data = np.empty(indices.size)
    q = 0
    for r in range(k):
        for t in range(indptr[r], indptr[r + 1]):
            w = where[indices[t]]
            if w >= 0:
                out_idx[q] = w
                out_data[q] = data[t]
                q += 1
        out_ptr[r + 1] = q
    return out_ptr, out_idx[:q], out_data[:q]


@njit(cache=True, nogil=True)
def _games(g_all, base_all, eps_all, alpha_all, margins_all, ce, eliminate, starts, sizes,
           act, rest, tol, max_iter, joint_out, base_out, value_out, residual_out,
           iterations_out, tightening, proof_iterations, prove_all, proof_out, proved_out, first,
           last):
    """Games ``first`` to ``last - 1``: Newton from ``alpha_all`` (updated in place) with
    the dominance restarts of ``newton_eliminating`` (``eliminate``), at most
    ``max_iter`` iterations (the kernel's budget; a collapsing joint is not given up
    early: its masses stay as found, ``vanishing``, unless a certificate drops them).

    Joint actions whose ``base_all`` is ``-inf`` are outside the support from the start.
    ``proof_iterations > 0`` (with ``eliminate``): a game that ends with masses below 1e-9
    (every game: ``prove_all``) then looks for the joint of :func:`~spielplatz.equilibria.mwmre.interior.full_support`
    (at most that many iterations, warm-started, on its support with every gain asked
    below ``-tightening``: rule 3 of :func:`~spielplatz.equilibria.mwmre.compiled.run`);
    ``proof_out[i]`` gets it and ``proved_out[i]`` says whether one was found (the host
    certifies it)."""
    n = sizes.size
    k = alpha_all.shape[1]
    s = base_all.shape[1]
    fixed0 = np.zeros(k, dtype=np.bool_)
    if ce:
        for p in range(n):
            for a in range(sizes[p]):
                fixed0[starts[p] + a * sizes[p] + a] = True
    owner = np.empty(k, dtype=np.int64)
    for p in range(n):
        stop = starts[p + 1] if p + 1 < n else k
        owner[starts[p]:stop] = p
    order = np.empty((n, s), dtype=np.int64)       # each player's joint actions by action
    first_of = np.zeros((n, sizes.max() + 1), dtype=np.int64)
    for p in range(n):
        order[p] = np.argsort(act[p], kind="mergesort")
        for j in range(s):
            first_of[p, act[p, j] + 1] += 1
        for a in range(sizes[p]):
            first_of[p, a + 1] += first_of[p, a]
    for i in range(first, last):
        rows_all = _game_rows(g_all[i], ce, starts, sizes, act, rest, order, first_of, k)
        eps_k = np.empty(k)
        for r in range(k):
            eps_k[r] = 0.0 if fixed0[r] else eps_all[i, owner[r]]
        alive = np.empty(s, dtype=np.bool_)
        for j in range(s):                  # (logits -inf: outside the support from the start)
            alive[j] = base_all[i, j] > -np.inf
        alpha = alpha_all[i].copy()
        if eliminate:       # duals from a batch's own answer prove its zeros again
            dominated_columns(alpha, alive, starts, sizes, act, rest, g_all[i], margins_all[i])
        cols = np.flatnonzero(alive)
        total, restarts = 0, 0
        proof = alpha.copy()
        while True:
            sub = _restrict(rows_all, cols, s)
            fixed = fixed0.copy()
            for r in range(k):
                if sub[0][r + 1] == sub[0][r]:      # (no entry on the support)
                    fixed[r] = True
                if fixed[r]:
                    if alpha[r] != 0.0:         # (newly fixed: the duals that dropped it)
                        proof[r] = alpha[r]
                    alpha[r] = 0.0
            alive = np.ones(cols.size, dtype=np.bool_)
            eps_sub = eps_k.copy()
            for r in range(k):
                if fixed[r]:
                    eps_sub[r] = 0.0
            rule = 2 if eliminate else 1            # no patience: only the budget stops
            outcome, it, residual, value, sig, gains, grad = run(
                sub, base_all[i, cols].copy(), eps_sub, fixed, alpha, tol,
                max(max_iter - total, 0), rule, 10 ** 9, max_iter, True, starts, sizes,
                act[:, cols].copy(), rest[:, cols].copy(), g_all[i], margins_all[i], alive,
                np.zeros(0))
            total += it
            if outcome != DOMINATED or restarts >= _RESTARTS:
                break
            cols = cols[alive]
            restarts += 1
        joint_out[i, :] = 0.0
        base_out[i, :] = -np.inf
        for q in range(cols.size):
            joint_out[i, cols[q]] = sig[q]
            base_out[i, cols[q]] = base_all[i, cols[q]]

        # the rows that vanish on the support keep the duals that dropped them (as the
        # kernel's do): a warm start from this answer proves its zeros again at once
        for r in range(k):
            alpha_all[i, r] = proof[r] if (fixed[r] and not fixed0[r]) else alpha[r]
        dropped = False
        if eliminate:       # the final duals' certificate (no Newton after it)
            alive = np.zeros(s, dtype=np.bool_)
            for q in range(cols.size):
                alive[cols[q]] = True
            dropped = dominated_columns(alpha_all[i], alive, starts, sizes, act, rest, g_all[i],
                                        margins_all[i])
            for j in range(s):
                if not alive[j]:
                    joint_out[i, j] = 0.0
                    base_out[i, j] = -np.inf
        value_out[i] = value
        residual_out[i] = residual
        iterations_out[i] = total
        proved_out[i] = False
        if (eliminate and proof_iterations > 0 and not dropped
                and (prove_all or smallest(sig) < _COLLAPSED)):
            # the tightened problem on the support (rows vanishing there stay fixed)
            eps_t = np.empty(k)
            strict = np.full(k, -0.5 * tightening)
            for r in range(k):
                eps_t[r] = 0.0 if fixed[r] else eps_sub[r] - tightening
            alpha_t = alpha.copy()
            outcome, it, residual, value, sig_t, gains, grad = run(
                sub, base_all[i, cols].copy(), eps_t, fixed, alpha_t, 1e-12,
                proof_iterations, 3, 0, 40, True, starts, sizes, act[:, cols].copy(),
                rest[:, cols].copy(), g_all[i], margins_all[i],
                np.ones(cols.size, dtype=np.bool_), strict)
            if outcome == FEASIBLE:
                proved_out[i] = True
                proof_out[i, :] = 0.0
                for q in range(cols.size):
                    proof_out[i, cols[q]] = sig_t[q]


def run_batch(g: np.ndarray, base: np.ndarray, eps: np.ndarray, concept: str, *, tol: float,
              max_iter: int, threads: int, alpha0: np.ndarray | None = None,
              eliminate: bool = False, prove: bool | str = False, on_share: Any = None) -> dict:
    """:func:`~spielplatz.equilibria.mwmre.batched.run_rounds`' output for games ``g``
    ``[B, N, A...]`` (range 1) with a fixed epsilon ``eps`` ``[B, N]`` and logits ``base``
    ``[B, A...]``: at most ``max_iter`` iterations per game, in shares taken in turn by
    ``threads`` host threads (:func:`~spielplatz.equilibria.mwmre.batch_threads.run_shares`:
    the compiled calls release the GIL); a ``-inf`` in ``base`` leaves its joint action
    out of the support. ``prove`` (with ``eliminate``) adds ``proof`` ``[B, A...]`` and ``proved`` ``[B]``: for the
    games left with masses below 1e-9 (``"all"``: for every game), a joint that may prove
    every joint action of the support playable (:mod:`~spielplatz.equilibria.mwmre.interior`;
    the caller certifies it). ``on_share(out, games)`` is called on the host thread that
    ran ``games`` (indices) once they are done (``out`` as returned, without
    ``dual_ok``, which is then the caller's to compute), by one thread at a time while
    the others go on."""
    from spielplatz.equilibria.mwmre.interior import TIGHTENING

    b = g.shape[0]
    shape = g.shape[2:]
    size = math.prod(shape)
    ce = concept == "ce"
    starts, sizes, act, rest, g_all, margins = compiled_layout(g, concept)
    k = int((sizes * sizes if ce else sizes).sum())
    out = {"alpha": np.zeros((b, k)) if alpha0 is None else np.array(alpha0, dtype=float),
           "joint": np.zeros((b, size)), "base": np.empty((b, size)), "value": np.zeros(b),
           "residual": np.zeros(b), "iterations": np.zeros(b, dtype=np.int64),
           "eps": np.array(eps, dtype=float), "proof": np.zeros((b, size)),
           "proved": np.zeros(b, dtype=bool)}
    args = (g_all, np.ascontiguousarray(base.reshape(b, size), dtype=float),
            out["eps"], out["alpha"], margins, ce, bool(eliminate), starts, sizes, act, rest,
            float(tol), int(max_iter), out["joint"], out["base"], out["value"],
            out["residual"], out["iterations"], float(TIGHTENING),
            int(PROOF_ITERATIONS if prove and eliminate else 0), prove == "all", out["proof"],
            out["proved"])
    out["final_dominance"] = bool(eliminate)
    views = dict(out, joint=out["joint"].reshape((b,) + shape),
                 base=out["base"].reshape((b,) + shape), proof=out["proof"].reshape((b,) + shape))

    run_shares(lambda lo, hi: _games(*args, lo, hi), b, threads,
               None if on_share is None else (lambda games: on_share(views, games)))
    if on_share is None:        # (each share's own otherwise)
        views["dual_ok"] = dual_gaps_ok(views, False)
    return views


def constraint_rows(g: np.ndarray, concept: str) -> np.ndarray:
    """The dense constraint matrices ``[B, K, S]`` of games ``g`` ``[B, N, A...]`` (the
    numbers the compiled loop solves with; CE rows ``(p, a', a'')``, CCE rows ``(p, a'')``)."""
    starts, sizes, act, rest, g_all, _ = compiled_layout(g, concept)
    ce = concept == "ce"
    out = np.empty((g.shape[0], int((sizes * sizes if ce else sizes).sum()),
                    math.prod(g.shape[2:])))
    _matrices(g_all, ce, starts, sizes, act, rest, out)
    return out


@njit(cache=True, nogil=True)
def _matrices(g_all, ce, starts, sizes, act, rest, out):
    """:func:`_matrix` of every game, ``out`` ``[B, K, S]``."""
    for i in range(g_all.shape[0]):
        _matrix(g_all[i], ce, starts, sizes, act, rest, out[i])


#: :func:`dependency_hash` when this file was last written: numba's cache of
#: :func:`_games` is keyed on this file only, yet it holds compiled.py's loop and what
#: that compiles in (tests/test_compiled_newton.py fails until this line is updated).
DEPENDENCIES = "e16130b7e587"


def dependency_hash() -> str:
    """The first 12 hex digits of the SHA-256 of compiled.py's source and of
    :func:`~spielplatz.equilibria.mwmre.compiled.dependency_hash`."""
    import hashlib
    import inspect

    from spielplatz.equilibria.mwmre import compiled

    text = inspect.getsource(compiled) + compiled.dependency_hash()
    return hashlib.sha256(text.encode()).hexdigest()[:12]
