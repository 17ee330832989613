"""Batched MWMRE solving with JAX: one projected Newton-CG per game, vectorised.

The single-game algorithm of :mod:`spielplatz.equilibria.mwmre.newton` (projected Newton
on the dual of NES appendix Section A, Theorems 1/2, or on the fixed-epsilon
dual of :mod:`spielplatz.equilibria.mwmre`) is written as a pure JAX function of one game
and ``jax.vmap``-ed over a chunk of games:

* Newton systems are solved by conjugate gradients on the Jacobi-scaled system, in
  float32 unless the tolerance asks for more (the loss, gradient and line search stay
  float64), whose Hessian-vector products are two tensor contractions (the deviation
  gains and their adjoint, :func:`~spielplatz.equilibria.deviations.feature_contractions`),
  so no constraint matrix is built;
* the line search tries all step lengths of :data:`STEPS` at once (a vectorised
  Armijo search along the projection arc; lengths above 1 take the long steps
  that tails need, where the dual runs off to infinity because the answer has
  zeros and Newton alone moves about one unit per iteration);
* for exact CE, the recommendations the duals prove unplayable leave the support as
  Newton goes (their joint actions get the logit ``-inf``: exact zeros);
* games are advanced in rounds of a few iterations on fixed-size chunks;
  a game that has converged frees its slot, so the work is about the sum of
  the games' iteration counts rather than the batch size times the slowest.

Each (chunk shape, concept, formulation, elimination, CG precision) is
``jax.jit``-compiled once and cached. Everything but the conjugate gradients runs in
float64 inside a scoped ``jax.enable_x64(True)``; the global JAX configuration is left
alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spielplatz.equilibria import deviations
from spielplatz.equilibria.measures import xlogx
from spielplatz.equilibria.mwmre.config import KKT_TOLERANCE
from spielplatz.equilibria.mwmre.dominance import dominated_rows, margin_factor
from spielplatz.equilibria.mwmre.dual import epsilon_terms

__all__ = ["compile_count", "batch_function", "dual_gaps_ok", "BATCH_ITERATIONS"]

_CACHE: dict = {}
_TRACES = {"count": 0}


def compile_count() -> int:
    """How many times a batched solver has been traced (compiled) in this process."""
    return _TRACES["count"]


def _layout(shape: tuple, concept: str) -> tuple[np.ndarray, np.ndarray]:
    """Owner (player) of each flat dual and the fixed (CE diagonal) mask."""
    sizes = [a * a if concept == "ce" else a for a in shape]
    owner = np.repeat(np.arange(len(shape)), sizes)
    fixed = np.concatenate([np.eye(a, dtype=bool).ravel() if concept == "ce"
                            else np.zeros(a, dtype=bool) for a in shape])
    return owner, fixed




#: Step lengths tried at once along each Newton direction (a vectorised line
#: search); lengths above 1 take long steps where the dual runs off to
#: infinity (answers with zeros), where Newton moves about one unit per step.
STEPS = (16.0, 4.0, 1.0, 0.5, 0.2, 0.05, 0.01, 1e-3, 1e-4, 1e-6)
CG_FACTOR = 2.0
CG_FORCING = 0.3
#: Loss differences below ``TIE * (1 + |loss|)`` are rounding: the unit step wins ties.
TIE = 1e-13
#: Relative curvature (and absolute gradient) below which a dual is frozen.
DEAD = 1e-13
#: Duals whose Hessian diagonal is below this fraction of the largest are left out of the
#: float32 conjugate gradients (they move along ``-grad``; their rows have all but vanished).
F32_FLOOR = 1e-24
#: Tolerances on the projected gradient below this get float64 conjugate gradients (float32
#: directions rarely bring a game further).
FLOAT32_TOLERANCE = 1e-10
#: Passes of the dominance certificate per Newton iteration (a dropped recommendation
#: shrinks the others' supports; what a pass misses, the next iteration finds).
PRUNE_PASSES = 2
#: Newton iterations a game may use in the batch before the exact path takes over.
BATCH_ITERATIONS = 80


def _make_single(shape: tuple, concept: str, target_mode: bool, eliminate: bool,
                 precise: bool = False) -> Any:
    """One game: at most ``steps`` projected Newton iterations from ``alpha0``.

    ``eliminate`` (exact CE): after every iteration, the recommendations the duals prove
    unplayable (the certificate of :func:`~spielplatz.equilibria.mwmre.dominance.dominated`)
    leave the support: their joint actions get the logit ``-inf`` in ``base`` (exact
    zeros), and Newton goes on with the smaller problem, whose duals stay finite; the
    starting duals are checked first (a warm start from a batch's own answer).
    ``precise``: conjugate gradients in float64 (tolerances below
    :data:`FLOAT32_TOLERANCE`)."""
    import jax
    import jax.numpy as jnp
    from jax import lax
    from jax.scipy.sparse.linalg import cg

    n = len(shape)
    owner_np, fixed_np = _layout(shape, concept)
    k = owner_np.size
    onehot_np = (owner_np[:, None] == np.arange(n)[None, :]).astype(np.float64)
    features_fn, gains_fn, adjoint_fn, second_fn = deviations.feature_contractions(shape,
                                                                                  concept)
    sizes = [a * a if concept == "ce" else a for a in shape]
    cg_max = int(min(k, CG_FACTOR * np.sqrt(k) + 5))
    steps_np = np.asarray(STEPS)
    unit = int(np.argmin(np.abs(steps_np - 1.0)))

    def unflat(x):
        out, start = [], 0
        for p, a in enumerate(shape):
            out.append(x[start:start + sizes[p]].reshape((a, a) if concept == "ce" else (a,)))
            start += sizes[p]
        return out

    off = [1.0 - np.eye(a) for a in shape]
    # a recommendation's rows as a joint-shaped mask (broadcast over the others' actions)
    along = [tuple(a if i == p else 1 for i, a in enumerate(shape)) for p in range(n)]

    def prune(g, alpha, base):
        """``base`` with the logit ``-inf`` on the recommendations ``alpha`` proves
        unplayable (passes of :func:`dominance.dominated_rows`, same margin); the
        support (finite logits) is never emptied (one that holds a CE cannot be
        emptied by a valid certificate)."""
        duals = unflat(alpha)
        gs = [deviations.player_matrix(g[p], p, n) for p in range(n)]      # [A_p, R]
        margins = [margin_factor(shape[p]) * jnp.abs(gs[p]).max() for p in range(n)]
        start = alive = jnp.isfinite(base)
        for _ in range(PRUNE_PASSES):
            for p in range(n):
                rows = dominated_rows(duals[p], gs[p], margins[p],
                                      deviations.player_matrix(alive, p, n), off[p])
                alive = alive & ~rows.reshape(along[p])
        return jnp.where(jnp.where(alive.any(), alive, start), base, -jnp.inf)

    def single(g, base, eps, target, eps_plus, rho, alpha0, tol, steps):
        onehot = jnp.asarray(onehot_np)
        owner = jnp.asarray(owner_np)
        free_ok = jnp.asarray(~fixed_np)
        notfixed = free_ok.astype(g.dtype)
        ts = jnp.asarray(steps_np, g.dtype)
        ds = features_fn(g)
        cg_dtype = jnp.float64 if precise else jnp.float32      # the CG's precision
        ds_cg = [tuple(None if d is None else d.astype(cg_dtype) for d in pair) for pair in ds]
        onehot_cg = onehot.astype(cg_dtype)

        def eps_terms(sums):
            """``(eps, value term, curvature)`` per player (:func:`dual.epsilon_terms`)."""
            if target_mode:
                return epsilon_terms(sums, target_epsilon=target, eps_plus=eps_plus, rho=rho)
            return epsilon_terms(sums, epsilon=eps)

        def value_of(alpha, base):
            """Dual loss (Theorem 1 less a constant, :func:`dual.epsilon_terms`) and the
            unnormalised logits."""
            z = base - adjoint_fn(ds, unflat(alpha))
            m = z.max()
            lz = m + jnp.log(jnp.exp(z - m).sum())
            _, term, _ = eps_terms(onehot.T @ (alpha * notfixed))
            return lz + term.sum(), z - lz

        def evaluate(alpha, base):
            value, logp = value_of(alpha, base)
            sigma = jnp.exp(logp)
            eps_now, _, curv = eps_terms(onehot.T @ (alpha * notfixed))
            gains = gains_fn(ds, sigma)
            grad = notfixed * (eps_now[owner] - gains)
            return dict(alpha=alpha, sigma=sigma, value=value, gains=gains, grad=grad,
                        eps=eps_now, curv=curv, base=base)

        def residual_of(st):
            return jnp.abs(st["alpha"] - jnp.maximum(st["alpha"] - st["grad"], 0.0)).max()

        def hess_diag(st):
            d = second_fn(ds, st["sigma"]) - st["gains"] ** 2
            if target_mode:
                d = d + st["curv"][owner]
            return notfixed * jnp.maximum(d, 0.0)

        def newton_direction(st, residual):
            alpha, grad = st["alpha"], st["grad"]
            delta = jnp.minimum(1e-3, residual)
            hd_all = hess_diag(st)
            # "dead" constraints: no curvature and no gradient left (their rows of the
            # joint have vanished); moving them changes nothing but pollutes CG
            dead = (hd_all <= DEAD * hd_all.max()) & (jnp.abs(grad) <= DEAD)
            active = (~free_ok) | ((alpha <= delta) & (grad > 0)) | dead
            freem = (~active).astype(g.dtype)
            hd = hd_all * freem
            damping = jnp.minimum(residual, 1e-6)
            shift = damping * hd + 1e-14 * jnp.maximum(hd.max(), 1e-300)
            # Conjugate gradients in cg_dtype (float32 unless precise) on the Jacobi-scaled
            # system S H S y = S b, x = S y, S = (diag H + shift)^(-1/2): unit diagonal, so
            # float32's range and precision suffice for a direction solved to a forcing
            # tolerance of at least 1e-5 (the loss, gradient and line search stay float64).
            # Duals with curvature below F32_FLOOR of the largest (or below 1e-30 in range-1
            # units) move along -grad, as held ones; so does any whose CG result is not
            # finite.
            solved = (freem > 0) & (hd >= jnp.maximum(F32_FLOOR * hd.max(), 1e-30))
            scale = jnp.where(solved, 1.0 / jnp.sqrt(jnp.where(solved, hd + shift, 1.0)), 0.0)
            s_cg = scale.astype(cg_dtype)
            sig_cg = st["sigma"].astype(cg_dtype)
            diag_cg = (shift * scale * scale).astype(cg_dtype)
            curv_cg = st["curv"].astype(cg_dtype)

            def apply(y):
                v = s_cg * y
                u = adjoint_fn(ds_cg, unflat(v))
                hv = gains_fn(ds_cg, sig_cg * (u - (sig_cg * u).sum()))
                if target_mode:
                    hv = hv + (curv_cg * (onehot_cg.T @ v))[owner]
                return s_cg * hv + diag_cg * y

            y, _ = cg(apply, (-scale * grad).astype(cg_dtype),
                      tol=jnp.minimum(CG_FORCING, jnp.sqrt(residual)).astype(cg_dtype),
                      maxiter=cg_max)
            x = scale * y.astype(g.dtype)
            steep = (active & free_ok) | ((freem > 0) & ~solved)
            x = jnp.where(jnp.isfinite(x).all(), x, jnp.where(solved, -grad, 0.0))
            return x + jnp.where(steep, -grad, 0.0)

        def line_search(st, d, residual):
            """All step lengths at once; the lowest loss among those passing Armijo.

            Near the answer the losses of all trial steps agree to rounding; the
            Newton step (length 1) is then taken instead of whichever length the
            rounding favours (a tiny one would stall the iteration).
            """
            alpha, grad, value = st["alpha"], st["grad"], st["value"]
            trials = jnp.maximum(alpha[None, :] + ts[:, None] * d[None, :], 0.0) * notfixed
            values = jax.vmap(lambda a: value_of(a, st["base"])[0])(trials)
            dec = (alpha[None, :] - trials) @ grad
            slack = jnp.where(ts <= 1.0, 1e-15 * jnp.abs(value), 0.0)
            ok = (values <= value - 1e-4 * dec + slack) & jnp.isfinite(values)
            best = jnp.argmin(jnp.where(ok, values, jnp.inf))
            tie = TIE * (1.0 + jnp.abs(value))
            best = jnp.where(ok[unit] & (values[unit] <= values[best] + tie), unit, best)
            chosen = trials[jnp.where(ok.any(), best, unit)]
            base = st["base"]
            if eliminate:   # the recommendations the new duals prove unplayable leave
                base = prune(g, chosen, base)
            new = evaluate(chosen, base)
            new_res = residual_of(new)
            # without an Armijo step, a smaller residual is progress only if the loss did
            # not grow (a growing loss can collapse the joint onto a pure CE whose
            # projected gradient underflows to 0)
            accept = ok.any() | ((new_res < residual) & (new["value"] <= value + tie))
            return new, new_res, accept

        def outer_cond(c):
            st, residual, it, stalled = c
            return (residual > tol) & (it < steps) & (~stalled)

        def outer_body(c):
            st, residual, it, stalled = c
            d = newton_direction(st, residual)
            new, new_res, accept = line_search(st, d, residual)
            st = jax.tree_util.tree_map(lambda a, b: jnp.where(accept, a, b), new, st)
            residual = jnp.where(accept, new_res, residual)
            return st, residual, it + 1, ~accept

        start = alpha0 * notfixed
        if eliminate:       # duals from a batch's own answer prove its zeros again
            base = prune(g, start, base)
        st0 = evaluate(start, base)
        st, residual, it, stalled = lax.while_loop(outer_cond, outer_body,
                                                   (st0, residual_of(st0), 0, False))
        return {"joint": st["sigma"], "alpha": st["alpha"], "eps": st["eps"],
                "residual": residual, "iterations": it, "stalled": stalled,
                "base": st["base"], "value": st["value"]}

    return single


def dual_gaps_ok(out: dict, target_mode: bool) -> np.ndarray:
    """Per game, whether the kernel's dual loss matches its joint's objective (bool ``[B]``).

    With a fixed epsilon, weak duality makes ``loss - sum sigma (base - log sigma)`` equal
    ``alpha . grad``, at most :data:`~spielplatz.equilibria.mwmre.config.KKT_TOLERANCE`
    per unit of dual mass and constraint at a certified answer. A joint collapsed onto
    a pure CE by duals that ran off (whose projected gradient underflows to 0 in float64)
    fails by orders of magnitude. Target mode's duals are bounded by ``rho``: all true.
    """
    b = out["joint"].shape[0]
    if target_mode:
        return np.ones(b, dtype=bool)
    sigma = out["joint"].reshape(b, -1)
    # sum sigma base - sigma log sigma (base is -inf only where sigma is 0)
    weighted = sigma * np.where(sigma > 0, out["base"].reshape(b, -1), 0.0)
    gap = out["value"] - (weighted - xlogx(sigma)).sum(axis=1)
    alpha = out["alpha"]
    return np.abs(gap) <= KKT_TOLERANCE * (1.0 + np.abs(alpha).sum(axis=1) + alpha.shape[1])


def batch_function(batch_shape: tuple, concept: str, target_mode: bool,
                   eliminate: bool = False, precise: bool = False) -> Any:
    """The jitted, vmapped solver for a chunk of payoffs ``batch_shape`` ``[C, N, A...]`` (cached).

    Arguments: ``(G, base, eps, target, eps_plus, rho, alpha0, tol, steps)``, ``steps``
    the per-game iteration budget ``[C]``; ``base`` is ``-inf`` on joint actions already
    proven unplayable. Returns the games' new ``base`` and dual loss too (``eliminate``,
    ``precise``: see :func:`_make_single`).
    """
    key = (tuple(batch_shape), concept, bool(target_mode), bool(eliminate), bool(precise))
    fn = _CACHE.get(key)
    if fn is None:
        import jax

        single = _make_single(tuple(batch_shape[2:]), concept, target_mode, bool(eliminate),
                              bool(precise))

        def traced(*args):
            _TRACES["count"] += 1           # runs only while tracing
            return jax.vmap(single, in_axes=(0, 0, 0, 0, 0, 0, 0, None, 0))(*args)

        fn = jax.jit(traced)
        _CACHE[key] = fn
    return fn
