"""The equivariant Neural Equilibrium Solver network (NES appendix, Section C and D.1).

Input: a batch of (scaled) games as a feature tensor ``x[b, p, a_1, ..., a_N, c]``
(channel 0 the payoffs ``G'_p(a)``, further channels the optional inputs of the
parameterization: target joint, welfare, target epsilon). Output: the duals,
a list over players of ``[B, A_p, A_p]`` (CE) or ``[B, A_p]`` (CCE) arrays,
non-negative (softplus), with a zero CE diagonal.

Layers (``phi`` is mean *and* max pooling, concatenated):

* payoffs -> payoffs (eqs. 18a-18l): :class:`PayoffsLayer`;
* payoffs -> duals: :class:`PayoffsToDuals` (the appendix gives no formula; see
  its docstring for our construction);
* duals -> duals: :class:`CCEDualsLayer` (eqs. 19a-19d) and
  :class:`CEDualsLayer` (eqs. 20a-20h, pooling over the off-diagonal only);
* BatchNorm between every layer, ReLU, softplus at the end (Section D.1).

Each pooled term gets its own dense map *before* it is broadcast back (a
dense map of a concatenation is the sum of dense maps of its parts), which
is mathematically the concatenate-then-dense layer of the paper at a fraction
of the memory.

Equivariance: weights are shared over players and actions and every
reduction is a symmetric pooling, so permuting players (together with their
action axes) or any player's actions permutes the output the same way
(tested in tests/test_nes.py). Games need not be square; eq. 19c (pooling the
CCE duals over players at the same action index) is only used for cube games,
as the appendix says.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

__all__ = ["NESNetwork", "PayoffsLayer", "PayoffsToDuals", "CCEDualsLayer", "CEDualsLayer",
           "pool", "count_parameters", "DEFAULT_ARCHITECTURE"]

from .config import DEFAULT_ARCHITECTURE  # noqa: E402  (Section D.1)


def pool(x: jax.Array, axes: Sequence[int]) -> jax.Array:
    """``phi`` = mean and max pooling over ``axes`` (kept as size 1), concatenated on channels."""
    axes = tuple(axes)
    if not axes:
        return jnp.concatenate([x, x], axis=-1)
    return jnp.concatenate([x.mean(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)],
                           axis=-1)


def _offdiag_pool(y: jax.Array, axis: int) -> jax.Array:
    """Mean and max of ``y[b, i, j, c]`` over ``axis`` (1 or 2) without the diagonal."""
    a = y.shape[1]
    eye = jnp.eye(a, dtype=bool)[None, :, :, None]
    if a == 1:
        z = jnp.zeros_like(y)
        return jnp.concatenate([z, z], axis=-1)
    mean = jnp.where(eye, 0.0, y).sum(axis=axis, keepdims=True) / (a - 1)
    mx = jnp.where(eye, -jnp.inf, y).max(axis=axis, keepdims=True)
    return jnp.concatenate([mean, mx], axis=-1)


def _offdiag_pool_both(y: jax.Array) -> jax.Array:
    a = y.shape[1]
    if a == 1:
        z = jnp.zeros(y.shape[:1] + (1, 1, y.shape[-1]), y.dtype)
        return jnp.concatenate([z, z], axis=-1)
    eye = jnp.eye(a, dtype=bool)[None, :, :, None]
    mean = jnp.where(eye, 0.0, y).sum(axis=(1, 2), keepdims=True) / (a * (a - 1))
    mx = jnp.where(eye, -jnp.inf, y).max(axis=(1, 2), keepdims=True)
    return jnp.concatenate([mean, mx], axis=-1)


class BatchNorm(nn.Module):
    """Batch normalisation over every axis but the last (learned scale and offset).

    Same variables as ``flax.linen.BatchNorm`` (params ``scale``/``bias``,
    batch_stats ``mean``/``var``). Written out so that one set of statistics
    can cover a *list* of arrays (the per-player duals of different shapes)
    without concatenating them: with jax 0.10.2 on CPU, the jitted gradient
    through concatenate -> BatchNorm -> slice disagreed with finite
    differences (eager mode agreed; tests/test_nes.py checks the jitted
    gradient). Re-checked with flax 0.12.8 on jax 0.10.2: ``_Norm`` written with
    ``flax.linen.BatchNorm`` over the concatenation (same variables, either
    variance formula) fails that test with a relative gradient error of 1.5 to
    2.3, so this one stays. The two-pass variance is also the numerically stable one.
    """

    momentum: float = 0.99
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, x: Any, use_running_average: bool) -> Any:
        """Normalise ``x`` (an array, or a list of arrays sharing one set of statistics)."""
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        feat = xs[0].shape[-1]
        ra_mean = self.variable("batch_stats", "mean", lambda: jnp.zeros((feat,), jnp.float32))
        ra_var = self.variable("batch_stats", "var", lambda: jnp.ones((feat,), jnp.float32))
        scale = self.param("scale", nn.initializers.ones, (feat,), jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (feat,), jnp.float32)
        if use_running_average:
            mean, var = ra_mean.value, ra_var.value
        else:
            # Statistics over every axis but the channels, of all arrays together
            # (no concatenation: sums and counts per array).
            count = sum(int(a.size // feat) for a in xs)
            mean = sum(a.reshape(-1, feat).sum(axis=0) for a in xs) / count
            var = sum(jnp.square(a - mean).reshape(-1, feat).sum(axis=0) for a in xs) / count
            if not self.is_initializing():
                m = self.momentum
                ra_mean.value = m * ra_mean.value + (1 - m) * jax.lax.stop_gradient(mean)
                ra_var.value = m * ra_var.value + (1 - m) * jax.lax.stop_gradient(var)
        factor = jax.lax.rsqrt(var + self.epsilon) * scale
        out = [(a - mean) * factor + bias for a in xs]
        return out if isinstance(x, (list, tuple)) else out[0]


class _Norm(nn.Module):
    """BatchNorm over every axis but the channels (learned scale and offset, D.1)."""

    @nn.compact
    def __call__(self, x: Any, train: bool) -> Any:
        return BatchNorm()(x, use_running_average=not train)


class PayoffsLayer(nn.Module):
    """Payoffs -> payoffs, eqs. (18a)-(18d), (18k), (18l) (the D.1 choice), optionally all.

    For ``x[b, p, a_1..a_N, c]``:

    * (18a) ``x``; (18b) ``phi_{a}`` per player; (18c) ``phi_{p, a}``; (18d) ``phi_p``;
    * (18k) ``h_q = phi_{a_q} x(q, a)`` and (18l) ``h_q = phi_{a_-q} x(q, a)`` for
      every ``q``. Weights are shared over ``q`` (the appendix: "by symmetry"); to
      keep player equivariance the output at player ``p`` gets ``h_p`` ("self")
      and the mean over ``q`` of ``h_q`` ("all") with separate weights.
    * with ``full=True`` also (18e)-(18j): (18g)/(18h) ``phi_{a_q} x(p, a)`` /
      ``phi_{a_-q} x(p, a)`` for ``q = p`` and averaged over ``q != p``;
      (18e)/(18f) the same pooled over players too, (18i)/(18j) per ``q``
      broadcast to every ``p``.
    """

    features: int
    full: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        n = x.shape[1]
        act = tuple(range(2, 2 + n))
        dense = lambda name: nn.Dense(self.features, use_bias=False, name=name)  # noqa: E731
        full_shape = x.shape[:-1] + (self.features,)
        # Only (18a) is a dense map at full resolution; every pooled term is
        # mapped while it is small and then broadcast by the addition.
        out = nn.Dense(self.features, name="18a")(x)
        out = out + dense("18b")(pool(x, act))
        out = out + dense("18c")(pool(x, (1,) + act))
        out = out + dense("18d")(pool(x, (1,)))

        def others(q: int) -> tuple:
            return tuple(1 + i for i in range(n) if i != q)

        for kind in ("18k", "18l"):
            d_self, d_all = dense(kind + "_self"), dense(kind + "_all")
            # h_q = phi over a_q (18k) or over a_-q (18l) of x(q, a): [B, A.. (ones), C']
            hs = [pool(x[:, q], (1 + q,) if kind == "18k" else others(q)) for q in range(n)]
            own = jnp.stack([jnp.broadcast_to(d_self(h), full_shape[:1] + full_shape[2:])
                             for h in hs], axis=1)                     # h_p at player p
            every = sum(d_all(h) for h in hs) / n                      # mean over q of h_q
            out = out + own + every[:, None]
        if self.full:
            # (18g)/(18h): player p's own payoffs pooled over player q's actions.
            g_self, g_other, h_self, h_other = [], [], [], []
            for p in range(n):
                xp_ = x[:, p]
                gs = [jnp.broadcast_to(pool(xp_, (1 + q,)), xp_.shape[:-1] + (2 * x.shape[-1],))
                      for q in range(n)]
                hs = [jnp.broadcast_to(pool(xp_, others(q)),
                                       xp_.shape[:-1] + (2 * x.shape[-1],)) for q in range(n)]
                g_self.append(gs[p])
                h_self.append(hs[p])
                rest = [q for q in range(n) if q != p] or [p]
                g_other.append(sum(gs[q] for q in rest) / len(rest))
                h_other.append(sum(hs[q] for q in rest) / len(rest))
            g_self, g_other = jnp.stack(g_self, 1), jnp.stack(g_other, 1)
            h_self, h_other = jnp.stack(h_self, 1), jnp.stack(h_other, 1)
            out = out + dense("18g_self")(g_self) + dense("18g_other")(g_other)
            out = out + dense("18h_self")(h_self) + dense("18h_other")(h_other)
            # (18e)/(18f): the same, pooled over players as well.
            out = out + dense("18e")(pool(g_other, (1,))) + dense("18f")(pool(h_other, (1,)))
        out = _Norm()(out, train)
        return nn.relu(out)


def player_view(x: jax.Array, p: int) -> jax.Array:
    """``x[b, p, a_1..a_N, c]`` -> ``[b, A_p, R, c]`` (the others' joint actions flattened)."""
    xp_ = jnp.moveaxis(x[:, p], 1 + p, 1)
    return xp_.reshape(xp_.shape[0], xp_.shape[1], -1, xp_.shape[-1])


class PayoffsToDuals(nn.Module):
    """Payoffs -> duals (the appendix names the layer but gives no formula).

    With ``X_p(a_p, r, c)`` player ``p``'s features (``r`` the others' joint
    actions), the features of a CCE dual ``alpha_p(a')`` are
    ``phi_r X_p(a', r)``, ``phi_{a, r} X_p`` and ``phi_{p, a, r} X``; a CE dual
    ``alpha_p(a', a'')`` also gets ``phi_r X_p(a'', r)`` and the pooled
    deviation ``phi_r [X_p(a'', r) - X_p(a', r)]`` (whose mean-pool under the
    payoff channel is the deviation gain against a uniform opponent). All
    weights are shared over players.
    """

    features: int
    concept: str

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> list:
        n = x.shape[1]
        views = [player_view(x, p) for p in range(n)]
        glob = pool(x, tuple(range(1, x.ndim - 1)))                    # [B, 1.., 2C]
        glob = glob.reshape(glob.shape[0], -1)                         # [B, 2C]
        d_row = nn.Dense(self.features, name="row")
        d_player = nn.Dense(self.features, use_bias=False, name="player")
        d_global = nn.Dense(self.features, use_bias=False, name="global")
        g_term = d_global(glob)
        if self.concept == "ce":
            d_col = nn.Dense(self.features, use_bias=False, name="col")
            d_dev = nn.Dense(self.features, use_bias=False, name="deviation")
        outs = []
        for v in views:
            rows = pool(v, (2,))[:, :, 0]                              # [B, A, 2C]
            player = pool(v, (1, 2))[:, 0]                             # [B, 1, 2C]
            if self.concept == "cce":
                o = d_row(rows) + d_player(player) + g_term[:, None]
            else:
                dev = v[:, None, :, :, :] - v[:, :, None, :, :]        # [B, a', a'', R, C]
                o = (d_row(rows)[:, :, None] + d_col(rows)[:, None, :]
                     + d_dev(pool(dev, (3,))[:, :, :, 0])
                     + d_player(player)[:, :, None] + g_term[:, None, None])
            outs.append(o)
        return _norm_list(outs, train)


def _norm_list(ys: list, train: bool) -> list:
    """One BatchNorm (shared statistics) over every player's duals, then ReLU."""
    return [nn.relu(z) for z in _Norm()(ys, train)]


class CCEDualsLayer(nn.Module):
    """CCE duals -> duals, eqs. (19a)-(19d).

    Eq. (19c) pools every player's dual *at the same action index*; it is only
    defined for cube games and only equivariant when every player's actions
    are permuted the same way, so it is off unless ``aligned=True`` (our
    models keep independent per-player action equivariance).
    """

    features: int
    aligned: bool = False

    @nn.compact
    def __call__(self, ys: list, train: bool, final: bool = False) -> list:
        feats = self.features
        d_a = nn.Dense(feats, name="19a")
        d_b = nn.Dense(feats, use_bias=False, name="19b")
        d_d = nn.Dense(feats, use_bias=False, name="19d")
        glob = pool(jnp.concatenate(ys, axis=1), (1,))                 # (19d) [B, 1, 2C]
        cube = self.aligned and len({y.shape[1] for y in ys}) == 1
        if cube:
            stacked = jnp.stack(ys, axis=1)                            # [B, N, A, C]
            by_action = pool(stacked, (1,))[:, 0]                      # (19c) [B, A, 2C]
            d_c = nn.Dense(feats, use_bias=False, name="19c")
            c_term = d_c(by_action)
        outs = []
        for y in ys:
            o = d_a(y) + d_b(pool(y, (1,))) + d_d(glob)
            if cube:
                o = o + c_term
            outs.append(o)
        return outs if final else _norm_list(outs, train)


class CEDualsLayer(nn.Module):
    """CE duals -> duals, eqs. (20a)-(20h); pooling skips the (meaningless) diagonal."""

    features: int

    @nn.compact
    def __call__(self, ys: list, train: bool, final: bool = False) -> list:
        feats = self.features
        dense = {k: nn.Dense(feats, use_bias=(k == "20a"), name=k)
                 for k in ("20a", "20b", "20c", "20d", "20e", "20f", "20g", "20h")}
        per_player = [_offdiag_pool_both(y) for y in ys]               # (20g) [B, 1, 1, 2C]
        glob = jnp.concatenate(per_player, axis=1)                     # [B, N, 1, 2C]
        glob = pool(glob, (1,))                                        # (20h) [B, 1, 1, 4C]
        outs = []
        for y, g in zip(ys, per_player):
            yt = jnp.swapaxes(y, 1, 2)
            col = _offdiag_pool(y, 1)                                  # f(a'') [B, 1, A, 2C]
            row = _offdiag_pool(y, 2)                                  # f(a')  [B, A, 1, 2C]
            o = (dense["20a"](y) + dense["20b"](yt)
                 + dense["20c"](col)                                   # phi_{a'} y(a', a'')
                 + dense["20d"](jnp.swapaxes(col, 1, 2))               # phi_{a''} y(a'', a')
                 + dense["20e"](row)                                   # phi_{a''} y(a', a'')
                 + dense["20f"](jnp.swapaxes(row, 1, 2))               # phi_{a'} y(a'', a')
                 + dense["20g"](g) + dense["20h"](glob))
            outs.append(o)
        return outs if final else _norm_list(outs, train)


class NESNetwork(nn.Module):
    """The D.1 network: payoffs->payoffs layers, payoffs->duals, duals->duals, softplus.

    Attributes
    ----------
    concept : {"ce", "cce"}
    payoff_channels : tuple of int
        Widths of the payoffs->payoffs layers, (32,) * 5 by default.
    dual_channels : int
        Width of the payoffs->duals layer, 64.
    dual_layers : tuple of int
        Widths of the hidden duals->duals layers, (32, 32); a final
        duals->duals layer to one channel (softplus) follows.
    full_payoff_pooling : bool
        Also use eqs. (18e)-(18j) (D.1 does not).
    aligned_action_pooling : bool
        Use eq. (19c) in CCE dual layers of cube games (equivariant only to
        permutations applied to every player's actions alike; off by default).
    """

    concept: str = "ce"
    payoff_channels: tuple = (32, 32, 32, 32, 32)
    dual_channels: int = 64
    dual_layers: tuple = (32, 32)
    full_payoff_pooling: bool = False
    aligned_action_pooling: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> list:
        """``x[b, p, a_1..a_N, c]`` -> list of per-player duals ``[B, A_p(, A_p)]``."""
        for width in self.payoff_channels:
            x = PayoffsLayer(width, full=self.full_payoff_pooling)(x, train)
        ys = PayoffsToDuals(self.dual_channels, self.concept)(x, train)
        if self.concept == "ce":
            layer = CEDualsLayer
        else:
            def layer(width):
                return CCEDualsLayer(width, aligned=self.aligned_action_pooling)
        for width in self.dual_layers:
            ys = layer(width)(ys, train)
        ys = layer(1)(ys, train, final=True)
        out = []
        for y in ys:
            d = nn.softplus(y[..., 0])
            if self.concept == "ce":
                d = d * (1.0 - jnp.eye(d.shape[-1], dtype=d.dtype))
            out.append(d)
        return out


def count_parameters(params) -> int:
    """Number of trainable parameters."""
    return int(sum(p.size for p in jax.tree_util.tree_leaves(params)))
