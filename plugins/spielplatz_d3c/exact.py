"""Exact-gradient D3C on differentiable games (D3C paper, Section 2.5).

Every agent ``i`` takes simultaneous gradient steps on its transformed loss
``f_i^A = sum_k A_ki f_k`` and, for ``d3c``, updates its mixing row ``A_i``
by entropic mirror descent on the local price-of-anarchy bound (eq. 9)::

    rho_i   = ReLU(d/dt f_i^A(x) + epsilon)                      (eq. 11, "additive")
    A_i    <- softmax(log A_i - eta_A (grad_{A_i} rho_i - nu e_i / A_ii))

where ``d/dt f_i^A = -<grad_x f_i^A, F(x)>`` along the joint gradient field
``F(x) = [grad_{x_1} f_1^A; ...; grad_{x_n} f_n^A]`` (Definition 1). Two more
bounds are available: ``rho="log"`` (eq. 93, ``ReLU(d/dt log f_i^A + eps)``)
and ``rho="bound"`` (eqs. 9-10, ``ReLU(d/dt log f_i^A + |grad_{x_i} f_i^A|^2 /
(mu_bar f_i^A))``); both need positive losses.

Everything is computed from one Jacobian ``J = d f / d x`` per step: with the
per-player Gram matrices ``K_j = J_j J_j^T`` (``J_j`` the columns of player
``j``'s parameters), ``d/dt f_i^A = -sum_j A_{:,i}^T K_j A_{:,j}``, so the
gradient with respect to ``A`` is exact and cheap, and "differentiating
through all other agents' losses" (Section 2.6) costs nothing extra here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp

from . import mixing

__all__ = ["ExactConfig", "make_exact"]

RHO_FORMS = ("additive", "log", "bound")


@dataclass(frozen=True)
class ExactConfig:
    """Hyper-parameters of exact-gradient learning (see :mod:`spielplatz_d3c.defaults`)."""

    mode: str            # "d3c", "selfish" or "cooperative"
    lr: float            # step size of the strategies (Delta t)
    lr_mix: float        # eta_A
    epsilon: float       # epsilon of eq. 11
    nu: float            # KL coefficient
    a_ii: float          # initial self-weight A_ii
    rho: str             # "additive" (eq. 11), "log" (eq. 93), "bound" (eq. 10)
    mu_bar: float        # mu-bar of eq. 10 (rho="bound")
    logit_min: float | None = None
    logit_max: float | None = None


def _player_matrices(jac: Any, params: Any, n: int) -> list:
    """Split ``d f / d params`` into per-player ``[n_losses, d_j]`` matrices."""
    if isinstance(params, (tuple, list)):
        return [jnp.reshape(j, (n, -1)) for j in jac]
    flat = jnp.reshape(jac, (n, n, -1))
    return [flat[:, j] for j in range(n)]


def _own_gradients(mats: list, A: jax.Array, params: Any) -> Any:
    """``F(x)``: player ``j``'s gradient of ``f_j^A = sum_k A_kj f_k``, shaped like params."""
    grads = [A[:, j] @ m for j, m in enumerate(mats)]
    if isinstance(params, (tuple, list)):
        return type(params)(jnp.reshape(g, jnp.shape(p)) for g, p in zip(grads, params))
    return jnp.reshape(jnp.stack(grads), jnp.shape(params))


def make_exact(game: Any, config: ExactConfig) -> tuple[Callable, Callable, Callable]:
    """Build ``init(g, key)``, ``step(g, state)`` and ``measure(g, state)`` for ``game``.

    ``g`` is the game itself or, for stacked game families, one member (a
    pytree); the functions are pure and meant for ``jax.vmap``/``jax.jit``.
    The state is ``(params, A)``.
    """
    n = int(game.num_players)
    cfg = config
    if cfg.rho not in RHO_FORMS:
        raise ValueError(f"rho must be one of {RHO_FORMS}, got {cfg.rho!r}")
    project = getattr(game, "project", None)

    if cfg.mode == "d3c":
        A0 = mixing.initial_mixing(n, cfg.a_ii)
    elif cfg.mode == "selfish":
        A0 = mixing.selfish_mixing(n)
    else:
        A0 = mixing.cooperative_mixing(n)

    def init(g: Any, key: Any) -> tuple:
        return g.init_params(key), A0

    def loss_and_jacobian(g: Any, params: Any) -> tuple:
        def both(p):
            f = g.losses(p)
            return f, f
        jac, f = jax.jacrev(both, has_aux=True)(params)
        return f, _player_matrices(jac, params, n)

    def rho_rows(f: jax.Array, mats: list, A: jax.Array) -> jax.Array:
        """``grad_{A_i} rho_i`` for every agent (row ``i``), ``[n, n]``."""
        gram = jnp.stack([m @ m.T for m in mats])          # [j, k, l]

        def rho(A):
            B = jnp.einsum("jkl,lj->jk", gram, A)           # B[j,k] = sum_l K_j[k,l] A_lj
            fdot = -jnp.einsum("ki,jk->i", A, B)            # d/dt f_i^A
            if cfg.rho == "additive":
                return jax.nn.relu(fdot + cfg.epsilon)
            fA = A.T @ f
            if cfg.rho == "log":
                return jax.nn.relu(fdot / fA + cfg.epsilon)
            own = jnp.einsum("ki,ikl,li->i", A, gram, A)    # |grad_{x_i} f_i^A|^2
            return jax.nn.relu(fdot / fA + own / (fA * cfg.mu_bar))

        jac = jax.jacrev(rho)(A)                            # [i, row, col]
        return jac[jnp.arange(n), jnp.arange(n)]

    def step(g: Any, state: tuple) -> tuple:
        params, A = state
        f, mats = loss_and_jacobian(g, params)
        F = _own_gradients(mats, A, params)
        new_params = jax.tree_util.tree_map(lambda p, d: p - cfg.lr * d, params, F)
        if project is not None:
            new_params = g.project(new_params)
        if cfg.mode == "d3c":
            grad = rho_rows(f, mats, A)
            if cfg.nu:
                grad = grad + cfg.nu * mixing.kl_gradient(A)
            A = mixing.mirror_step(A, grad, cfg.lr_mix, cfg.logit_min, cfg.logit_max)
        return new_params, A

    optimal = getattr(game, "optimal_total_loss", None)
    target = getattr(game, "optimal_params", None)
    target = None if target is None else jnp.asarray(target())

    def measure(g: Any, state: tuple) -> dict:
        params, A = state
        f = g.losses(params)
        out = {"losses": f, "total_loss": f.sum(), "max_loss": f.max(),
               "mixing": A, "attention": mixing.attention(A)}
        if optimal is not None:
            out["ratio_to_optimal"] = f.sum() / g.optimal_total_loss
        if target is not None and not isinstance(params, (tuple, list)):
            err = jnp.reshape(params, (-1,)) - jnp.reshape(target, (-1,))
            out["strategy_error"] = jnp.sqrt(jnp.mean(err ** 2))
        return out

    return init, step, measure
