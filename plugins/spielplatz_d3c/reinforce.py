"""REINFORCE with mixed rewards, in JAX (D3C paper, Algorithm 3 and Appendix G.1).

Every agent has a linear softmax policy without bias, ``pi_i(a | o) =
softmax(W_i o)``, and a linear value baseline ``V_i(o) = v_i . [o, 1]``
trained by TD(0). Agent ``i`` learns from the *mixed* reward
``r~_i = sum_j A~_ji r_j`` (Algorithm 3): with ``A~ = I`` this is plain
selfish REINFORCE, with ``A~_ij = 1/n`` fully cooperative REINFORCE.

G.1 for Trust-Your-Brother: batches of 10 episodes, full Monte-Carlo returns
(discount 1), a linear value baseline trained by temporal differences with
learning rate 0.1, REINFORCE learning rate 0.1.

A *mixed-reward learner* (what :mod:`spielplatz_d3c.rl` wraps) is any triple
of pure functions like :func:`init_policy`, :func:`act` and :func:`update`:
``update`` takes a batch of episodes and the perturbed mixing matrix and
returns new parameters and each agent's mean episode return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["ReinforceConfig", "init_policy", "act", "act_uniform", "update", "Batch"]


@dataclass(frozen=True)
class ReinforceConfig:
    """REINFORCE hyper-parameters (Appendix G.1)."""

    lr: float = 0.1          # REINFORCE learning rate
    lr_value: float = 0.1    # TD learning rate of the linear baseline
    init_scale: float = 0.0  # std of the initial policy weights (0: uniform policies)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Batch:
    """Episodes padded to a common length ``T``.

    Attributes
    ----------
    obs : ``[B, T, n, d]`` observation of each agent at each step
    actions : ``[B, T, n]`` int
    rewards : ``[B, T, n]`` original (unmixed) rewards
    mask : ``[B, T]`` 1 for real steps, 0 for padding
    legal : ``[B, T, n, num_actions]`` 1 for legal actions
    """

    obs: Any
    actions: Any
    rewards: Any
    mask: Any
    legal: Any


def init_policy(key: Any, n: int, num_actions: int, obs_size: int,
                cfg: ReinforceConfig) -> dict:
    """Policy weights ``W [n, A, d]`` and value weights ``v [n, d + 1]``."""
    W = cfg.init_scale * jax.random.normal(key, (n, num_actions, obs_size))
    return {"W": W, "v": jnp.zeros((n, obs_size + 1))}


def _logits(W: Any, obs: Any, legal: Any) -> Any:
    logits = jnp.einsum("...nad,...nd->...na", W, obs)
    return jnp.where(legal > 0, logits, -1e9)


def act(params: dict, key: Any, obs: Any, legal: Any) -> Any:
    """Sample one action per agent; ``obs [n, d]``, ``legal [n, A]`` -> ``[n]``."""
    return jax.random.categorical(key, _logits(params["W"], obs, legal), axis=-1)


def act_uniform(params: dict, uniforms: Any, obs: Any, legal: Any) -> Any:
    """Like :func:`act`, from given uniforms ``[n]`` (inverse-CDF sampling)."""
    probs = jax.nn.softmax(_logits(params["W"], obs, legal), axis=-1)
    cdf = jnp.cumsum(probs, axis=-1)
    action = jnp.sum(cdf < uniforms[..., None], axis=-1)
    return jnp.minimum(action, probs.shape[-1] - 1)


def update(params: dict, batch: Batch, A_tilde: Any, cfg: ReinforceConfig) -> tuple[dict, dict]:
    """One REINFORCE step for every agent on mixed rewards ``r @ A_tilde``.

    Returns
    -------
    params : dict
        Updated ``W`` and ``v``.
    stats : dict
        ``returns`` and ``mixed_returns``: each agent's mean episode return
        (original and mixed), ``[n]``.
    """
    mask = batch.mask
    rewards = batch.rewards * mask[..., None]
    mixed = rewards @ A_tilde                                    # r~_i = sum_j A~_ji r_j
    to_go = jnp.flip(jnp.cumsum(jnp.flip(mixed, 1), 1), 1)       # discount 1 (G.1)
    feats = jnp.concatenate([batch.obs, jnp.ones(batch.obs.shape[:-1] + (1,))], -1)
    values = jnp.einsum("btnf,nf->btn", feats, params["v"])
    advantage = jax.lax.stop_gradient(to_go - values) * mask[..., None]

    def objective(W):
        logp = jax.nn.log_softmax(_logits(W, batch.obs, batch.legal), axis=-1)
        taken = jnp.take_along_axis(logp, batch.actions[..., None], -1)[..., 0]
        return jnp.sum(taken * advantage) / mask.shape[0]        # mean over episodes

    grad_W = jax.grad(objective)(params["W"])
    # TD(0) on the mixed rewards; the value after the last real step is 0
    next_mask = jnp.concatenate([mask[:, 1:], jnp.zeros_like(mask[:, :1])], 1)
    next_values = jnp.concatenate([values[:, 1:], jnp.zeros_like(values[:, :1])], 1)
    td = (mixed + next_values * next_mask[..., None] - values) * mask[..., None]
    grad_v = jnp.einsum("btn,btnf->nf", td, feats) / jnp.maximum(mask.sum(), 1.0)
    new = {"W": params["W"] + cfg.lr * grad_W, "v": params["v"] + cfg.lr_value * grad_v}
    episodes = mask.shape[0]
    stats = {"returns": rewards.sum(1).sum(0) / episodes,
             "mixed_returns": mixed.sum(1).sum(0) / episodes}
    return new, stats
