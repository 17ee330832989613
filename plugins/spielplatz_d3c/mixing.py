"""The loss-mixing matrix ``A`` of D3C (pure JAX functions).

Agent ``i`` owns row ``A_i`` (a point of the simplex) and its transformed
loss is column ``i`` of ``A^T f``: ``f_i^A = sum_j A_ji f_j`` (Section 2.1,
eq. 1). Rows are updated by entropic mirror descent,
``A_i <- softmax(log A_i - eta_A g_i)`` (Section 2.5; Beck & Teboulle), which
keeps them in the interior of the simplex.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["initial_mixing", "selfish_mixing", "cooperative_mixing", "attention",
           "mirror_step", "kl_gradient", "unit_sphere", "perturb"]


def initial_mixing(n: int, a_ii: float = 0.99) -> jax.Array:
    """``A_ii = a_ii``, ``A_ij = (1 - a_ii)/(n - 1)`` (Section 3: ``a_ii = 0.99``).

    Initialised away from the identity because entropic mirror descent needs
    interior iterates (Section 3).
    """
    if n == 1:
        return jnp.ones((1, 1))
    off = (1.0 - a_ii) / (n - 1)
    return jnp.full((n, n), off) + (a_ii - off) * jnp.eye(n)


def selfish_mixing(n: int) -> jax.Array:
    """``A = I``: every agent minimises its own loss (gradient descent baseline)."""
    return jnp.eye(n)


def cooperative_mixing(n: int) -> jax.Array:
    """``A_ij = 1/n``: every agent minimises the mean loss (cooperative baseline)."""
    return jnp.full((n, n), 1.0 / n)


def attention(A: jax.Array) -> jax.Array:
    """Relative reward attention ``ln(A_ii / A_ij)`` ``[n, n]`` (Figures 6, 7; zero diagonal).

    Positive: selfish; negative: other-regarding. Weights are floored at
    ``1e-30`` so that the values stay finite (at most ~69).
    """
    logs = jnp.log(jnp.maximum(A, 1e-30))
    return jnp.diagonal(logs)[:, None] - logs


def mirror_step(A: jax.Array, grad: jax.Array, lr: float, low: float | None = None,
                high: float | None = None) -> jax.Array:
    """Entropic mirror descent on every row: ``softmax([log A_i - lr g_i]_low^high)``.

    ``low``/``high`` clip the logits (Algorithm 1's ``l`` and ``h``); ``None``
    leaves them unclipped.
    """
    z = jnp.log(jnp.maximum(A, 1e-30)) - lr * grad
    if low is not None or high is not None:
        z = jnp.clip(z, low, high)
    return jax.nn.softmax(z, axis=-1)


def kl_gradient(A: jax.Array) -> jax.Array:
    """Row-wise gradient of ``KL(e_i || A_i) = -log A_ii``: ``-e_i / A_ii`` (``e_i ⊘ A_i``)."""
    n = A.shape[0]
    return -jnp.eye(n) / jnp.diagonal(A)[:, None]


def unit_sphere(key: Any, shape: tuple[int, ...]) -> jax.Array:
    """Directions drawn uniformly from the unit sphere along the last axis."""
    v = jax.random.normal(key, shape)
    return v / jnp.linalg.norm(v, axis=-1, keepdims=True)


def perturb(A: jax.Array, direction: jax.Array, delta: float) -> jax.Array:
    """Algorithm 2: ``softmax(log A_i + delta a_i)`` for every row."""
    return jax.nn.softmax(jnp.log(A) + delta * direction, axis=-1)
