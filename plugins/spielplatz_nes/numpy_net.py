"""The trained network's inference in plain numpy (no jax, flax or compilation).

Solving one game with the ``nes`` solver used to cost about 9 s here: importing
jax and flax, initialising the network to get a restore target and compiling
the forward pass, for milliseconds of arithmetic. This module reads a model
file's state (the ``flax.serialization`` msgpack layout, decoded with msgpack
and numpy only) and evaluates :class:`spielplatz_nes.network.NESNetwork` in
inference mode (BatchNorm with its running statistics) layer by layer in
float32, the same operations in the same order; tests/test_nes_numpy.py checks
it against the jax forward pass to 1e-5 on random games.

Parameter names follow flax's automatic naming in ``NESNetwork``
(``PayoffsLayer_0``, ``PayoffsToDuals_0``, ``CEDualsLayer_0``/``CCEDualsLayer_0``
with ``_Norm_0/BatchNorm_0`` inside).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import msgpack
import numpy as np

__all__ = ["decode_state", "model_variables", "non_finite_leaves", "forward"]

_EPSILON = 1e-5     # BatchNorm epsilon (network.BatchNorm)


# -- reading ------------------------------------------------------------------------------

def _ndarray(data: bytes) -> np.ndarray:
    shape, dtype, buffer = msgpack.unpackb(data, raw=True)
    name = dtype.decode() if isinstance(dtype, bytes) else dtype
    if name == "bfloat16":
        raise ValueError("bfloat16 parameters are not supported by the numpy path")
    return np.frombuffer(buffer, dtype=np.dtype(name)).reshape(shape)


def _ext(code: int, data: bytes) -> Any:
    if code == 1:                      # ndarray
        return _ndarray(data)
    if code == 3:                      # numpy scalar
        return _ndarray(data)[()]
    if code == 2:                      # complex
        re, im = msgpack.unpackb(data)
        return complex(re, im)
    return msgpack.ExtType(code, data)


def _unchunk(tree: Any) -> Any:
    if isinstance(tree, dict):
        if "__msgpack_chunked_array__" in tree:
            shape = tuple(tree["shape"][str(i)] for i in range(len(tree["shape"])))
            chunks = [tree["chunks"][str(i)] for i in range(len(tree["chunks"]))]
            return np.concatenate(chunks).reshape(shape)
        return {k: _unchunk(v) for k, v in tree.items()}
    return tree


def decode_state(blob: bytes) -> Any:
    """``flax.serialization.msgpack_restore`` without flax: a tree of dicts and arrays."""
    return _unchunk(msgpack.unpackb(blob, ext_hook=_ext, raw=False, strict_map_key=False))


def model_variables(blob: bytes) -> dict:
    """``{"params", "batch_stats"}`` of a model file's or a training checkpoint's state."""
    state = decode_state(blob)
    if not isinstance(state, dict) or "params" not in state:
        raise ValueError("the state holds no parameters")
    return {"params": state["params"], "batch_stats": state.get("batch_stats", {})}


def non_finite_leaves(tree: Any, prefix: str = "") -> list[str]:
    """Paths (``params/PayoffsLayer_0/18a/kernel``) of arrays holding NaN or infinity."""
    out: list[str] = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += non_finite_leaves(v, f"{prefix}/{k}" if prefix else str(k))
    elif isinstance(tree, (np.ndarray, np.generic, float)):
        arr = np.asarray(tree)
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            out.append(prefix)
    return out


# -- the network ---------------------------------------------------------------------------

def _pool(x: np.ndarray, axes: Sequence[int]) -> np.ndarray:
    axes = tuple(axes)
    if not axes:
        return np.concatenate([x, x], axis=-1)
    count = math.prod(x.shape[a] for a in axes)
    # the mean as sum / count: the same float32 numbers as x.mean (a division by the count,
    # correctly rounded), without numpy's Python-level mean wrapper (31 calls per forward)
    mean = x.sum(axis=axes, keepdims=True) / x.dtype.type(count)
    return np.concatenate([mean, x.max(axis=axes, keepdims=True)], axis=-1)


def _dense(p: dict, name: str, x: np.ndarray) -> np.ndarray:
    layer = p[name]
    out = x @ layer["kernel"]
    return out + layer["bias"] if "bias" in layer else out


def _norm(p: dict, s: dict, x: np.ndarray) -> np.ndarray:
    """Inference BatchNorm (running statistics) then ReLU."""
    bn, st = p["_Norm_0"]["BatchNorm_0"], s["_Norm_0"]["BatchNorm_0"]
    factor = (1.0 / np.sqrt(st["var"] + np.float32(_EPSILON))) * bn["scale"]
    return np.maximum((x - st["mean"]) * factor + bn["bias"], 0)


def _payoffs_layer(p: dict, s: dict, x: np.ndarray, full: bool) -> np.ndarray:
    n = x.shape[1]
    act = tuple(range(2, 2 + n))
    out = _dense(p, "18a", x)
    out = out + _dense(p, "18b", _pool(x, act))
    out = out + _dense(p, "18c", _pool(x, (1,) + act))
    out = out + _dense(p, "18d", _pool(x, (1,)))

    def others(q: int) -> tuple:
        return tuple(1 + i for i in range(n) if i != q)

    # (sums in place below: a numpy array of the full shape and of the terms' type, also
    # where the parameters are jax arrays or in float64)
    dtype = np.result_type(out, *(p[k]["kernel"] for k in ("18k_self", "18k_all",
                                                              "18l_self", "18l_all")))
    if not isinstance(out, np.ndarray) or out.dtype != dtype:
        out = np.array(out, dtype=dtype)
    for kind in ("18k", "18l"):
        hs = [_pool(x[:, q], (1 + q,) if kind == "18k" else others(q)) for q in range(n)]
        for q, h in enumerate(hs):      # each player's own term, added to its slice
            view = out[:, q]
            np.add(view, _dense(p, kind + "_self", h), out=view)
        every = sum(_dense(p, kind + "_all", h) for h in hs) / np.float32(n)
        np.add(out, every[:, None], out=out)
    if full:
        g_self, g_other, h_self, h_other = [], [], [], []
        for q_p in range(n):
            xp_ = x[:, q_p]
            wide = xp_.shape[:-1] + (2 * x.shape[-1],)
            gs = [np.broadcast_to(_pool(xp_, (1 + q,)), wide) for q in range(n)]
            hs = [np.broadcast_to(_pool(xp_, others(q)), wide) for q in range(n)]
            g_self.append(gs[q_p])
            h_self.append(hs[q_p])
            rest = [q for q in range(n) if q != q_p] or [q_p]
            g_other.append(sum(gs[q] for q in rest) / np.float32(len(rest)))
            h_other.append(sum(hs[q] for q in rest) / np.float32(len(rest)))
        g_self, g_other = np.stack(g_self, 1), np.stack(g_other, 1)
        h_self, h_other = np.stack(h_self, 1), np.stack(h_other, 1)
        out = out + _dense(p, "18g_self", g_self) + _dense(p, "18g_other", g_other)
        out = out + _dense(p, "18h_self", h_self) + _dense(p, "18h_other", h_other)
        out = out + _dense(p, "18e", _pool(g_other, (1,))) + _dense(p, "18f",
                                                                    _pool(h_other, (1,)))
    return _norm(p, s, out)


def _player_view(x: np.ndarray, q: int) -> np.ndarray:
    xp_ = np.moveaxis(x[:, q], 1 + q, 1)
    return xp_.reshape(xp_.shape[0], xp_.shape[1], -1, xp_.shape[-1])


def _payoffs_to_duals(p: dict, s: dict, x: np.ndarray, concept: str) -> list:
    n = x.shape[1]
    glob = _pool(x, tuple(range(1, x.ndim - 1)))
    g_term = _dense(p, "global", glob.reshape(glob.shape[0], -1))
    outs = []
    for q in range(n):
        v = _player_view(x, q)
        rows = _pool(v, (2,))[:, :, 0]
        player = _pool(v, (1, 2))[:, 0]
        if concept == "cce":
            o = _dense(p, "row", rows) + _dense(p, "player", player) + g_term[:, None]
        else:
            dev = v[:, None, :, :, :] - v[:, :, None, :, :]
            o = (_dense(p, "row", rows)[:, :, None] + _dense(p, "col", rows)[:, None, :]
                 + _dense(p, "deviation", _pool(dev, (3,))[:, :, :, 0])
                 + _dense(p, "player", player)[:, :, None] + g_term[:, None, None])
        outs.append(_norm(p, s, o))
    return outs


@functools.lru_cache(maxsize=32)
def _diagonal(a: int) -> np.ndarray:
    """``[1, a, a, 1]``: True on the diagonal (read-only, shared)."""
    eye = np.eye(a, dtype=bool)[None, :, :, None]
    eye.setflags(write=False)
    return eye


def _offdiag_pools(y: np.ndarray) -> tuple:
    """Mean and max pooling of ``y`` ``[B, A, A, C]`` over its off-diagonal entries, by
    column (axis 1), by row (axis 2) and over both, each ``[..., 2C]`` with the pooled
    axes kept (the masked arrays computed once for the three)."""
    a = y.shape[1]
    if a == 1:                  # (no off-diagonal entry: zeros, [B, 1, 1, 2C] each)
        z = np.zeros(y.shape[:-1] + (2 * y.shape[-1],), y.dtype)
        return z, z, z
    eye = _diagonal(a)
    zeroed = np.where(eye, np.float32(0), y)
    lowest = np.where(eye, -np.inf, y).astype(y.dtype)
    out = []
    for axes, count in (((1,), a - 1), ((2,), a - 1), ((1, 2), a * (a - 1))):
        mean = zeroed.sum(axis=axes, keepdims=True) / np.float32(count)
        out.append(np.concatenate([mean, lowest.max(axis=axes, keepdims=True)], axis=-1))
    return tuple(out)


def _ce_duals_layer(p: dict, s: dict | None, ys: list) -> list:
    pools = [_offdiag_pools(y) for y in ys]
    glob = _pool(np.concatenate([both for _, _, both in pools], axis=1), (1,))
    outs = []
    for y, (col, row, g) in zip(ys, pools):
        o = (_dense(p, "20a", y) + _dense(p, "20b", np.swapaxes(y, 1, 2))
             + _dense(p, "20c", col) + _dense(p, "20d", np.swapaxes(col, 1, 2))
             + _dense(p, "20e", row) + _dense(p, "20f", np.swapaxes(row, 1, 2))
             + _dense(p, "20g", g) + _dense(p, "20h", glob))
        outs.append(o if s is None else _norm(p, s, o))
    return outs


def _cce_duals_layer(p: dict, s: dict | None, ys: list, aligned: bool) -> list:
    glob = _pool(np.concatenate(ys, axis=1), (1,))
    cube = aligned and len({y.shape[1] for y in ys}) == 1
    if cube:
        by_action = _pool(np.stack(ys, axis=1), (1,))[:, 0]
        c_term = _dense(p, "19c", by_action)
    outs = []
    for y in ys:
        o = _dense(p, "19a", y) + _dense(p, "19b", _pool(y, (1,))) + _dense(p, "19d", glob)
        if cube:
            o = o + c_term
        outs.append(o if s is None else _norm(p, s, o))
    return outs


def forward(cfg: Any, variables: dict, x: np.ndarray) -> list:
    """Duals (per player ``[B, A_p(, A_p)]``, float32) of the features ``x[b, p, a.., c]``.

    ``cfg`` is a :class:`spielplatz_nes.config.ModelConfig`; ``variables`` its
    ``{"params", "batch_stats"}`` as numpy arrays.
    """
    params, stats = variables["params"], variables["batch_stats"]
    x = np.asarray(x, np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(len(cfg.payoff_channels)):
            name = f"PayoffsLayer_{i}"
            x = _payoffs_layer(params[name], stats[name], x, cfg.full_payoff_pooling)
        ys = _payoffs_to_duals(params["PayoffsToDuals_0"], stats["PayoffsToDuals_0"], x,
                               cfg.concept)
        prefix = "CEDualsLayer" if cfg.concept == "ce" else "CCEDualsLayer"
        layers = len(cfg.dual_layers)
        for i in range(layers + 1):
            name = f"{prefix}_{i}"
            s = stats[name] if i < layers else None
            if cfg.concept == "ce":
                ys = _ce_duals_layer(params[name], s, ys)
            else:
                ys = _cce_duals_layer(params[name], s, ys, cfg.aligned_action_pooling)
        out = []
        for y in ys:
            d = np.logaddexp(y[..., 0], np.float32(0)).astype(np.float32)    # softplus
            if cfg.concept == "ce":
                d = d * (np.float32(1) - np.eye(d.shape[-1], dtype=np.float32))
            out.append(d)
    return out
