"""Deviation gains of (coarse) correlated equilibria, as tensor contractions.

Notation (NES appendix, Section A): payoffs ``G[p, a_1, ..., a_N]``, a joint
distribution ``sigma[a_1, ..., a_N]``.

* CE (Theorem 1): for player ``p``, recommended action ``a'`` and deviation
  ``a''``, the gain is
  ``sum_{a_-p} sigma(a', a_-p) [G_p(a'', a_-p) - G_p(a', a_-p)]``;
  ``sigma`` is a CE iff every gain is ``<= 0`` (an epsilon-CE iff ``<= eps_p``).
* CCE (Theorem 2): for deviation ``a'``, the gain is
  ``sum_a sigma(a) [G_p(a', a_-p) - G_p(a)]``.

Every function is pure and works on numpy arrays and on jax arrays (also
inside ``jax.jit`` and ``jax.vmap``); no dense ``constraints x joint-actions``
matrix is ever built: for player ``p`` the payoff tensor is viewed as a matrix
``[A_p, R]`` (``R`` the number of the other players' joint actions) and every
quantity is one matrix product.

Gains are returned per player as a list (players may have different action
counts): ``ce_gains`` gives ``[A_p, A_p]`` arrays (recommendation x deviation),
``cce_gains`` gives ``[A_p]`` arrays.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = [
    "array_module", "centred", "remove_offsets", "player_matrix", "ce_gains", "cce_gains", "gains",
    "ce_gains_adjoint", "cce_gains_adjoint", "feature_contractions", "epsilons", "gap", "payoff_scale",
    "CONCEPTS", "check_concept",
]

CONCEPTS = ("ce", "cce")


def array_module(*arrays: Any) -> Any:
    """``jax.numpy`` if any argument is a jax array (or tracer), else ``numpy``."""
    for a in arrays:
        if type(a).__module__.startswith("jax"):
            import jax.numpy as jnp

            return jnp
    return np


def check_concept(concept: str) -> str:
    """``concept`` lower-cased, if it is ``ce`` or ``cce`` (else a one-line error)."""
    concept = str(concept).lower()
    if concept not in CONCEPTS:
        from spielplatz.errors import SpielplatzError

        raise SpielplatzError(f"unknown solution concept {concept!r}; use 'ce' or 'cce'")
    return concept


def centred(g: Any) -> Any:
    """``g - min(g)``: a player's payoffs with their offset removed.

    Every gain is a difference of two expected payoffs; computed from raw
    payoffs with a large common offset (``1e15 + small integers``) the two
    terms cancel catastrophically. Subtracting the smallest payoff (an element
    of the array, so the shift is exact whenever the offset is) leaves values in
    ``[0, range]`` and makes every gain, gap and certificate depend only on
    payoff differences, in floating point too: the rounding error of a gain is
    then at most a few ``K * 2**-53 * range`` for ``K`` summed terms
    (:mod:`spielplatz.equilibria.certificate` bounds it).
    """
    return g - g.min()


def remove_offsets(payoffs: Any, num_players: int | None = None) -> Any:
    """Payoffs ``[..., N, A_1..A_N]`` minus each player's smallest payoff (per game).

    No (C)CE, gain or gap changes (they depend on differences of one player's
    payoffs only); solvers work on these so that a large common offset costs no
    precision. ``num_players`` is needed only with leading batch axes.
    """
    n = payoffs.shape[0] if num_players is None else num_players
    axes = tuple(range(payoffs.ndim - n, payoffs.ndim))
    return payoffs - payoffs.min(axis=axes, keepdims=True)


def player_matrix(x: Any, p: int, num_players: int) -> Any:
    """View a joint-action tensor ``[..., A_1, ..., A_N]`` as ``[..., A_p, R]``.

    Leading (batch) axes are kept; the other players' axes are flattened in C
    order. Used for payoffs ``G[p]`` and for distributions alike.
    """
    lead = x.ndim - num_players
    if p:
        # xp.moveaxis(x, lead + p, lead), as one transpose (numpy's and jax's arrays
        # alike; moveaxis's axis normalisation costs more than the move on small games)
        axes = list(range(x.ndim))
        axes.insert(lead, axes.pop(lead + p))
        x = x.transpose(axes)
    return x.reshape(x.shape[:lead + 1] + (-1,))


def ce_gains(payoffs: Any, joint: Any) -> list:
    """CE deviation gains per player, each ``[A_p, A_p]`` (recommendation, deviation).

    ``gains[p][a', a'']`` is what player ``p`` gains in expectation, over the
    joint actions where ``a'`` is recommended, by playing ``a''`` instead.
    The diagonal is zero.
    """
    xp = array_module(payoffs, joint)
    n = payoffs.shape[0]
    out = []
    for p in range(n):
        g = centred(player_matrix(payoffs[p], p, n))   # [A_p, R], offset removed
        s = player_matrix(joint, p, n)                 # [A_p, R]
        m = s @ g.T                                    # m[a', a''] = sum_r s(a', r) g(a'', r)
        out.append(m - xp.diagonal(m)[:, None])
    return out


def cce_gains(payoffs: Any, joint: Any) -> list:
    """CCE deviation gains per player, each ``[A_p]``.

    ``gains[p][a']`` is player ``p``'s expected payoff from always playing
    ``a'`` against the others' recommendations, minus its value.
    """
    n = payoffs.shape[0]
    out = []
    for p in range(n):
        g = centred(player_matrix(payoffs[p], p, n))   # [A_p, R], offset removed
        s = player_matrix(joint, p, n)                 # [A_p, R]
        others = s.sum(axis=0)                         # marginal of the other players, [R]
        out.append(g @ others - (s * g).sum())
    return out


def gains(payoffs: Any, joint: Any, concept: str = "ce") -> list:
    """:func:`ce_gains` or :func:`cce_gains` by ``concept``."""
    return ce_gains(payoffs, joint) if check_concept(concept) == "ce" else cce_gains(payoffs, joint)


def _adjoint(payoffs: Any, duals: Sequence[Any], contribution: Any) -> Any:
    """``sum_p`` of player ``p``'s ``contribution(alpha_p, g_p)`` ``[A_p, R]`` (``g_p`` the
    centred ``[A_p, R]`` payoffs), each moved back to the joint's axes ``[A_1, ..., A_N]``."""
    xp = array_module(payoffs, *duals)
    n = payoffs.shape[0]
    shape = payoffs.shape[1:]
    total = 0.0
    for p in range(n):
        g = centred(player_matrix(payoffs[p], p, n))              # [A_p, R]
        contrib = contribution(duals[p], g)                       # [A_p, R]
        moved_shape = (shape[p],) + tuple(s for i, s in enumerate(shape) if i != p)
        total = total + xp.moveaxis(contrib.reshape(moved_shape), 0, p)
    return total


def ce_gains_adjoint(payoffs: Any, duals: Sequence[Any]) -> Any:
    """``sum_p sum_{a',a''} duals[p][a', a''] * d gains[p][a', a''] / d sigma``.

    The CE logits of Theorem 1 without the welfare term are ``-ce_gains_adjoint``.
    Returns a tensor ``[A_1, ..., A_N]`` (duals ``[A_p, A_p]``).
    """
    return _adjoint(payoffs, duals,
                    lambda alpha, g: alpha @ g - alpha.sum(axis=1)[:, None] * g)


def cce_gains_adjoint(payoffs: Any, duals: Sequence[Any]) -> Any:
    """``sum_p sum_{a'} duals[p][a'] * d gains[p][a'] / d sigma`` as ``[A_1, ..., A_N]``
    (duals ``[A_p]``)."""
    return _adjoint(payoffs, duals, lambda alpha, g: (alpha @ g)[None, :] - alpha.sum() * g)


def feature_contractions(shape: Sequence[int], concept: str = "ce") -> tuple:
    """The same contractions in precomputed form, for many of them on one small game.

    Returns ``features``, ``gains``, ``adjoint`` and ``second`` (jax functions, fit for
    ``jit``/``vmap``) for games of ``shape``: the batched MWMRE kernel applies
    them dozens of times per Newton step. For CE, ``features(G)`` precomputes per
    player the deviation tensor ``D_p[z, a] = G_p(z, a_-p) - G_p(a)`` and its square
    as ``[x, z, R]`` (``x = a_p``, ``R`` the other players' joint actions): its
    ``einsum`` contractions beat both the player views above (500 8x8 games: 0.52 s
    against 0.70 s) and matrix products with ``G_p`` (0.32 s against 0.40 s). For
    CCE the tensor would repeat ``G_p`` ``A_p`` times: ``features`` keeps ``G_p``
    ``[A_p, R]`` and the contractions are matrix products with it (8x less memory;
    500 8x8 games 0.020 s against 0.025 s). Then, per player,

    * ``gains(D, sigma)``: the CE gains ``sum_{a: a_p = x} sigma(a) D_p[z, a]``
      (``[A_p, A_p]``, zero diagonal) or CCE gains ``sum_a sigma(a) D_p[z, a]``,
      flattened player by player, equal to :func:`ce_gains` / :func:`cce_gains`;
    * ``adjoint(D, alphas)``: ``sum_p sum_{x, z} alpha_p[x, z] D_p[z, a] [a_p = x]``
      (CE) or ``sum_p sum_z alpha_p[z] D_p[z, a]`` (CCE), ``[A_1, ..., A_N]``, equal
      to :func:`ce_gains_adjoint` / :func:`cce_gains_adjoint`;
    * ``second(D, sigma)``: ``E_sigma[A_k^2]`` per constraint (the Hessian
      diagonal before centring).
    """
    import jax.numpy as jnp

    n = len(shape)
    moved = [(shape[p],) + tuple(a for i, a in enumerate(shape) if i != p) for p in range(n)]

    def view(x, p):                      # joint [A...] -> [A_p, R] (player p first)
        return jnp.moveaxis(x, p, 0).reshape(shape[p], -1)

    def unview(x, p):                    # [A_p, R] -> joint [A...]
        return jnp.moveaxis(x.reshape(moved[p]), 0, p)

    def features(g):
        ds = []
        for p in range(n):
            gp = view(g[p], p)                                    # [A_p, R]
            if concept == "ce":
                d = gp[None, :, :] - gp[:, None, :]               # [x, z, r]: G(z,r) - G(x,r)
                ds.append((d, d * d))
            else:
                # CCE: the deviation tensor [z, (x, r)] would repeat G_p A_p times; its
                # contractions follow from G_p itself (8x less memory; with chunks of 32
                # games, 500 8x8 games 0.018-0.021 s against 0.024-0.028 s)
                ds.append((gp, None))
        return ds

    def _cce_gains(gp, s):
        """``sum_{x,r} s(x,r) (G(z,r) - G(x,r))`` per ``z``, from ``G`` ``[A_p, R]``."""
        return gp @ s.sum(axis=0) - (s * gp).sum()

    def gains(ds, sigma):
        out = []
        for p in range(n):
            s = view(sigma, p)
            if concept == "ce":
                out.append(jnp.einsum("xr,xzr->xz", s, ds[p][0]).ravel())
            else:
                out.append(_cce_gains(ds[p][0], s))
        return jnp.concatenate(out)

    def second(ds, sigma):
        out = []
        for p in range(n):
            s = view(sigma, p)
            if concept == "ce":
                out.append(jnp.einsum("xr,xzr->xz", s, ds[p][1]).ravel())
            else:
                # sum_x,r s(x,r) (G(z,r) - G(x,r))^2 expanded (faster in the kernel than
                # forming the differences: 500 8x8 games 0.020 s against 0.025 s; its
                # rounding, ~1e-16 of payoffs of range 1, only touches the preconditioner)
                gp = ds[p][0]
                g2 = gp * gp
                out.append(g2 @ s.sum(axis=0) - 2.0 * (gp @ (s * gp).sum(axis=0))
                           + (s * g2).sum())
        return jnp.concatenate(out)

    def adjoint(ds, alphas):
        total = 0.0
        for p in range(n):
            if concept == "ce":
                part = jnp.einsum("xz,xzr->xr", alphas[p], ds[p][0])
            else:
                gp = ds[p][0]
                part = (alphas[p] @ gp)[None, :] - alphas[p].sum() * gp
            total = total + unview(part, p)
        return total

    return features, gains, adjoint, second


def epsilons(payoffs: Any, joint: Any, concept: str = "ce") -> Any:
    """Per-player epsilon achieved: the largest deviation gain, shape ``[N]``.

    For a CE it is ``>= 0`` (the diagonal gain is zero); for a CCE it may be
    negative (no deviation is even as good as following the recommendation).
    """
    xp = array_module(payoffs, joint)
    maxima = [g.max() for g in gains(payoffs, joint, concept)]
    return np.array(maxima) if xp is np else xp.stack(maxima)


def batch_gains(payoffs: np.ndarray, joints: np.ndarray, concept: str = "ce") -> list:
    """:func:`gains` of a whole batch at once (numpy): per player ``(gains, view)``, the
    gains ``[B, A_p, A_p]`` (CE, zero diagonal) or ``[B, A_p]`` (CCE) and the joints as
    the player sees them, ``[B, A_p, R]``.

    ``payoffs`` ``[B, N, A_1..A_N]``, ``joints`` ``[B, A_1..A_N]``; one batched
    matrix product per player instead of a Python loop over games.
    """
    concept = check_concept(concept)
    payoffs = np.asarray(payoffs, dtype=float)
    joints = np.asarray(joints, dtype=float)
    b, n = payoffs.shape[:2]
    out = []
    for p in range(n):
        ap = payoffs.shape[2 + p]
        gp = np.moveaxis(payoffs[:, p], p + 1, 1).reshape(b, ap, -1)     # [B, A_p, R]
        gp = gp - gp.min(axis=(1, 2), keepdims=True)                     # offset removed
        sp_ = np.moveaxis(joints, p + 1, 1).reshape(b, ap, -1)          # [B, A_p, R]
        if concept == "ce":
            m = sp_ @ np.swapaxes(gp, 1, 2)                               # [B, a', a'']
            gains_ = m - np.diagonal(m, axis1=1, axis2=2)[:, :, None]
        else:
            others = sp_.sum(axis=1)                                      # [B, R]
            gains_ = np.einsum("bar,br->ba", gp, others) - (sp_ * gp).sum(axis=(1, 2))[:, None]
        out.append((gains_, sp_))
    return out


def batch_epsilons(payoffs: np.ndarray, joints: np.ndarray, concept: str = "ce") -> np.ndarray:
    """:func:`epsilons` of a whole batch at once (numpy), ``[B, N]``: the largest of each
    player's :func:`batch_gains`."""
    return np.stack([gains.reshape(gains.shape[0], -1).max(axis=1)
                     for gains, _ in batch_gains(payoffs, joints, concept)], axis=1)


def batch_payoff_scales(payoffs: np.ndarray) -> np.ndarray:
    """:func:`payoff_scale` of every game of a batch ``[B, N, A...]``, ``[B]``."""
    payoffs = np.asarray(payoffs, dtype=float)
    flat = payoffs.reshape(payoffs.shape[0], payoffs.shape[1], -1)
    return (flat.max(axis=2) - flat.min(axis=2)).max(axis=1)


def gap(payoffs: Any, joint: Any, concept: str = "ce") -> Any:
    """The (C)CE gap: ``max(0, max_p epsilon_p)``; zero iff ``joint`` is an exact (C)CE."""
    xp = array_module(payoffs, joint)
    return xp.maximum(epsilons(payoffs, joint, concept).max(), 0.0)


def payoff_scale(payoffs: Any) -> Any:
    """The largest payoff range of any player (1 for a game normalised to range 1)."""
    xp = array_module(payoffs)
    flat = payoffs.reshape(payoffs.shape[0], -1)
    scale = (flat.max(axis=1) - flat.min(axis=1)).max()
    return scale if xp is np else scale + xp.zeros(())
