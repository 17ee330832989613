"""Environments built from other games for the actor-critic learner.

* :class:`IteratedEnvironment` -- an iterated matrix game as a ``jax_environment`` (both
  players observe the one-hot memory-one state);
* :class:`InequityAverseRewards` -- any two-player environment with both players
  rewarded by the inequity-averse welfare of normative disagreement, Appendix C.1, step
  by step (cooperative training on a welfare function defined on trajectories);
* :class:`JointActions` -- a two-player environment as a one-player one over joint
  actions (one network trains a correlated cooperative profile), with
  :func:`public_uniform` and :func:`joint_recommendation`, the correlation device that
  lets each player play its part of such a profile alone.

The first two are re-exported by :mod:`spielplatz.learning.actor_critic`.
"""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp

from spielplatz.errors import SpielplatzError

__all__ = ["IteratedEnvironment", "InequityAverseRewards", "JointActions", "public_uniform",
           "joint_recommendation", "split_joint"]


@flax.struct.dataclass
class IteratedEnvironment:
    """An iterated matrix game as a ``jax_environment``: both players observe the one-hot
    memory-one state ``[2, S]``; ``horizon`` stages per episode; no metrics."""

    env: Any
    num_states: int = flax.struct.field(pytree_node=False, default=1)
    num_actions: int = flax.struct.field(pytree_node=False, default=2)
    horizon: int = flax.struct.field(pytree_node=False, default=100)
    name: str = flax.struct.field(pytree_node=False, default="iterated")
    num_players = 2

    @classmethod
    def of(cls, game: Any, horizon: int) -> "IteratedEnvironment":
        if game.shape[0] != game.shape[1]:
            raise SpielplatzError(f"{game.name}: the players have {game.shape[0]} and "
                                  f"{game.shape[1]} actions; one network size needs equal")
        return cls(game.environment(horizon), int(game.num_states), int(max(game.shape)),
                   int(horizon), str(game.name))

    @property
    def observation_shape(self) -> tuple:
        return (self.num_states,)

    def _obs(self, s: Any) -> Any:
        return jnp.broadcast_to(jax.nn.one_hot(s, self.num_states), (2, self.num_states))

    def reset(self, key: Any) -> tuple:
        state, s = self.env.reset(key)
        return state, self._obs(s)

    def step(self, state: Any, actions: Any, key: Any) -> tuple:
        state, s, rewards, done = self.env.step(state, actions, key)
        return state, self._obs(s), rewards.astype(jnp.float32), done

    def metrics(self, state: Any) -> dict:
        return {}


class _Wrapping:
    """What a wrapper of ``self.env`` passes through unchanged: views and episode length."""

    @property
    def observation_shape(self) -> tuple:
        return tuple(self.env.observation_shape)

    @property
    def horizon(self) -> int:
        return self.env.horizon


@flax.struct.dataclass
class InequityAverseRewards(_Wrapping):
    """``env`` with both players rewarded by C.1's inequity-averse welfare, step by step.

    Normative disagreement, Appendix C.1: ``w^IA = V_1 + V_2 - beta E|e_1^t - e_2^t|`` with
    ``e_i^t = gamma lambda e_i^{t-1} + r_i^t``. Each step pays both players
    ``r_1 + r_2 - beta (1 - gamma) |e_1^t - e_2^t|``, whose discounted sum is the
    returns minus ``beta`` times the discount-weighted mean of ``|e_1 - e_2|`` (the
    welfare's penalty, with the steps weighted by ``(1 - gamma) gamma^t`` instead of
    uniformly, so that it is a return a learner can estimate). ``metrics`` adds the raw
    returns (``raw_return``) to the environment's own.
    """

    env: Any
    gamma: float = flax.struct.field(pytree_node=False, default=0.96)
    smoothing: float = flax.struct.field(pytree_node=False, default=1.0)
    beta: float = flax.struct.field(pytree_node=False, default=1.0)

    num_players = 2

    @property
    def num_actions(self) -> int:
        return self.env.num_actions

    @property
    def name(self) -> str:
        return f"{self.env.name} (inequity-averse rewards)"

    def reset(self, key: Any) -> tuple:
        state, obs = self.env.reset(key)
        return (state, jnp.zeros(2), jnp.zeros(2)), obs

    def step(self, state: Any, actions: Any, key: Any) -> tuple:
        inner, e, raw = state
        inner, obs, rewards, done = self.env.step(inner, actions, key)
        rewards = rewards.astype(jnp.float32)
        e = self.gamma * self.smoothing * e + rewards
        shaped = rewards.sum() - self.beta * (1.0 - self.gamma) * jnp.abs(e[0] - e[1])
        return (inner, e, raw + rewards), obs, jnp.full(2, shaped, jnp.float32), done

    def metrics(self, state: Any) -> dict:
        return {**self.env.metrics(state[0]), "raw_return": state[2]}


@flax.struct.dataclass
class JointActions(_Wrapping):
    """A two-player ``env`` as a one-player environment over joint actions.

    The player sees seat 0's view (the Coin Games show every player the whole board)
    and picks joint action ``j = a_0 * A + a_1``; it is paid the sum of both players'
    rewards (``reward="total"``, the utilitarian welfare) or player 0's reward
    (``reward="first"``, for environments that already pay both players the welfare,
    e.g. :class:`InequityAverseRewards`). One network then learns a *correlated*
    cooperative profile, which independent learners reach far less often when the
    players must arrive somewhere together (the cooperation coin of the ABCG).
    """

    env: Any
    reward: str = flax.struct.field(pytree_node=False, default="total")
    num_players = 1

    @property
    def num_actions(self) -> int:
        return self.env.num_actions ** 2

    @property
    def name(self) -> str:
        return f"{self.env.name} (joint actions)"

    def reset(self, key: Any) -> tuple:
        state, obs = self.env.reset(key)
        return state, obs[:1]

    def step(self, state: Any, action: Any, key: Any) -> tuple:
        joint = split_joint(action[0], self.env.num_actions)
        state, obs, rewards, done = self.env.step(state, joint, key)
        rewards = rewards.astype(jnp.float32)
        paid = rewards.sum() if self.reward == "total" else rewards[0]
        return state, obs[:1], paid[None], done

    def metrics(self, state: Any) -> dict:
        return self.env.metrics(state)


#: The PRNG seed :func:`public_uniform` folds the board and the step into (fixed: part
#: of the device, so that every player draws the same number).
_HASH_SEED = 0x5EED


def split_joint(j: Any, num_actions: int) -> Any:
    """The actions ``[a_0, a_1]`` (int32) of joint action ``j = a_0 * A + a_1``."""
    return jnp.stack([j // num_actions, j % num_actions]).astype(jnp.int32)


def public_uniform(view: Any, step: Any) -> Any:
    """A uniform number in ``[0, 1)`` that every player computes alike from public data:
    the view (a 0/1 board every player sees) and the step of the episode. It is the
    correlation device of a correlated profile (:func:`joint_recommendation`): no
    communication, the same number on both sides, a fresh one every step."""
    x = (jnp.asarray(view).reshape(-1) > 0.5).astype(jnp.uint32)
    cells = jnp.arange(x.size, dtype=jnp.uint32)
    # two 32-bit polynomial hashes of the board (uint32 arithmetic wraps around)
    a = jnp.sum(x * (cells * jnp.uint32(2654435761) + jnp.uint32(1)), dtype=jnp.uint32)
    b = jnp.sum(x * (cells * jnp.uint32(40503) + jnp.uint32(7919)), dtype=jnp.uint32)
    key = jax.random.fold_in(jax.random.PRNGKey(_HASH_SEED), jnp.asarray(step, jnp.uint32))
    key = jax.random.fold_in(jax.random.fold_in(key, a), b)
    return jax.random.uniform(key, dtype=jnp.float32)   # the same with or without x64


def joint_recommendation(logits: Any, u: Any, num_actions: int) -> Any:
    """The joint action ``[2]`` a correlated profile recommends: the inverse-CDF draw of
    ``softmax(logits)`` (over ``a_0 * A + a_1``) at the public uniform ``u``."""
    cdf = jnp.cumsum(jax.nn.softmax(logits))
    return split_joint(jnp.minimum(jnp.sum(cdf <= u), logits.shape[-1] - 1), num_actions)
