"""Sampled play of agents on a game's environment: many pairs in one compiled call.

:func:`play_many` plays pairs of :class:`~spielplatz.learning.agents.Agent` on an iterated
game's environment or a ``jax_environment`` game (each seat acting on its own view, or,
for a policy kind that observes the game, on a ``GameObservation``);
:func:`discounted_average` turns reward trajectories into average rewards per step.
Both are re-exported by :mod:`spielplatz.learning.agents`.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from spielplatz.errors import SpielplatzError

__all__ = ["play_many", "discounted_average"]


def _leaves(tree: Any, path: str = "") -> list:
    from spielplatz.learning.agents import _leaves as leaves

    return leaves(tree, path)


def _game_observation_class() -> Any:
    from flax import struct

    @struct.dataclass
    class GameObservation:
        """What a ``observes="game"`` policy sees on a ``jax_environment`` game.

        ``env``: the environment (its ``step`` can be called on ``previous``);
        ``seat``; ``views [N, ...]``: every player's view now; ``previous``: the
        environment state before the last step; ``previous_views [N, ...]``;
        ``actions [N]`` and ``rewards [N]`` of the last step; ``first``: no step
        played yet (``previous`` is then the current state, actions and rewards zero).
        """

        env: Any
        seat: Any
        views: Any
        previous: Any
        previous_views: Any
        actions: Any
        rewards: Any
        first: Any

    return GameObservation


@functools.lru_cache(maxsize=32)
def _episodes_fn(kinds: tuple, horizon: int, per_player: bool = False,
                 keep_states: bool = False, keep_metrics: bool = False) -> Callable:
    """One compiled function for every pair of agents of ``kinds``: ``(env, params_1,
    params_2, keys [pairs, episodes]) -> rewards [pairs, episodes, horizon, 2]`` (with
    ``keep_states``, also both agents' states after every step; with ``keep_metrics``,
    also the environment's ``metrics`` at the end).
    ``per_player``: the environment's observations are ``[2, ...]``, seat ``i`` sees
    ``obs[i]`` (a ``jax_environment`` game); otherwise both see the shared one."""
    import jax
    import jax.numpy as jnp

    from spielplatz.learning.agents import policy_kind

    first, second = (policy_kind(k) for k in kinds)
    full = per_player and "game" in (first.observes, second.observes)
    GameObservation = _game_observation_class() if full else None

    def seen(kind: Any, seat: int, env: Any, obs: Any, last: Any) -> Any:
        if not per_player:
            return obs
        if kind.observes != "game":
            return obs[seat]
        previous, previous_obs, actions, rewards, first_step = last
        return GameObservation(env=env, seat=jnp.int32(seat), views=obs, previous=previous,
                               previous_views=previous_obs, actions=actions, rewards=rewards,
                               first=first_step)

    def episode(env: Any, p1: Any, p2: Any, key: Any) -> Any:
        k0, k1, k2, k3 = jax.random.split(key, 4)
        state, obs = env.reset(k0)
        mem = (first.init(p1, k1), second.init(p2, k2))
        last = ((state, obs, jnp.zeros(2, jnp.int32), jnp.zeros(2, jnp.float32),
                 jnp.ones((), bool)) if full else ())

        def body(carry: Any, k: Any) -> tuple:
            state, obs, mem, last = carry
            ka, kb, ke = jax.random.split(k, 3)
            a1, m1 = first.act(p1, mem[0], seen(first, 0, env, obs, last), ka)
            a2, m2 = second.act(p2, mem[1], seen(second, 1, env, obs, last), kb)
            actions = jnp.stack([a1, a2]).astype(jnp.int32)
            new, new_obs, rewards, _ = env.step(state, actions, ke)
            if full:
                last = (state, obs, actions, rewards.astype(jnp.float32), jnp.zeros((), bool))
            return ((new, new_obs, (m1, m2), last),
                    ((rewards, (m1, m2)) if keep_states else rewards))

        end, out = jax.lax.scan(body, (state, obs, mem, last), jax.random.split(k3, horizon))
        return (out, env.metrics(end[0])) if keep_metrics else out

    per_pair = jax.vmap(episode, in_axes=(None, None, None, 0))
    return jax.jit(jax.vmap(per_pair, in_axes=(None, 0, 0, 0)))


def _stack(trees: list) -> Any:
    if isinstance(trees[0], dict):
        return {k: _stack([t[k] for t in trees]) for k in trees[0]}
    return np.stack([np.asarray(t) for t in trees])


def play_many(game: Any, pairs: list, *, episodes: int, horizon: int = 100,
              seed: int = 0, keep_states: bool = False, keep_metrics: bool = False) -> Any:
    """Sampled play of many ``(first, second)`` agent pairs on ``game``'s environment:
    reward trajectories ``[pairs, episodes, horizon, 2]`` (undiscounted stage rewards).
    ``keep_states=True`` (pairs of one kind pair and shape) returns ``(rewards,
    (states_1, states_2))`` with each agent's state after every step, leaves
    ``[pairs, episodes, horizon, ...]`` (e.g. the events a policy counts).
    ``keep_metrics=True`` (``jax_environment`` games) appends the environment's
    ``metrics`` of each episode's last state, ``[pairs, episodes, ...]`` (e.g. the Coin
    Games' coins taken).

    Pairs of the same kinds and shapes play in one compiled call; pair ``n`` uses the
    keys of ``fold_in(PRNGKey(seed), n)``, so a pair's episodes do not depend on the
    other pairs. An iterated game plays through ``game.environment(horizon)``; a
    ``jax_environment`` game (per-player observations) is its own environment, each
    seat acting on its own view, for ``horizon`` steps.
    """
    import jax

    if hasattr(game, "environment"):
        env, per_player = game.environment(horizon), False
    else:                          # a jax_environment game is its own environment
        env, per_player = game, True
    out = np.empty((len(pairs), int(episodes), int(horizon), 2))
    groups: dict = {}
    for n, (a, b) in enumerate(pairs):
        shapes = tuple(np.shape(leaf) for x in (a, b) for _, leaf in _leaves(x.params))
        groups.setdefault((a.kind, b.kind, shapes), []).append(n)
    if keep_states and len(groups) != 1:
        raise SpielplatzError("keep_states needs pairs of one kind pair and one shape")
    if keep_metrics and not per_player:
        raise SpielplatzError("keep_metrics needs a jax_environment game")
    base = jax.random.PRNGKey(seed)
    ends_all: dict = {}
    for (k1, k2, _), members in groups.items():
        fn = _episodes_fn((k1, k2), int(horizon), per_player, keep_states, keep_metrics)
        keys = np.stack([np.asarray(jax.random.split(jax.random.fold_in(base, n), episodes))
                         for n in members])
        p1 = _stack([pairs[n][0].params for n in members])
        p2 = _stack([pairs[n][1].params for n in members])
        played = fn(env, p1, p2, keys)
        if keep_metrics:
            played, ends = played
            for name, value in ends.items():
                value = np.asarray(value)
                ends_all.setdefault(name, np.zeros((len(pairs),) + value.shape[1:],
                                                   value.dtype))[members] = value
        if keep_states:
            rewards, states = played
            got = (np.asarray(rewards, dtype=float),
                   jax.tree_util.tree_map(np.asarray, states))
            return got + (ends_all,) if keep_metrics else got
        out[members] = np.asarray(played, dtype=float)
    return (out, ends_all) if keep_metrics else out


def discounted_average(rewards: Any, gamma: float) -> np.ndarray:
    """Discounted average reward per step of trajectories ``[..., T, N]`` -> ``[..., N]``:
    ``(1 - gamma) / (1 - gamma^T) sum_t gamma^t r_t`` (the plain mean for ``gamma = 1``)."""
    rewards = np.asarray(rewards, dtype=float)
    steps = rewards.shape[-2]
    weights = gamma ** np.arange(steps) if gamma < 1 else np.ones(steps)
    return np.einsum("...tn,t->...n", rewards, weights / weights.sum())
