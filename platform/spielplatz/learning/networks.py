"""Actor-critic networks (flax.linen) and the pure policy they make for saved agents.

:class:`ActorCriticNet` maps one player's observation to policy logits and a state value:
a conv torso for image-like observations ``[C, H, W]`` (``channels``; 3x3 kernels, SAME
padding, ReLU), then a ReLU MLP (``hidden``), an optional LSTM core
(``flax.linen.OptimizedLSTMCell`` with ``lstm`` features; its carry resets at episode
starts) and two linear heads. It takes one unbatched observation: learners ``vmap`` it
over players (one parameter set per player, nothing shared), environments and seeds.

Saved agents rebuild the network from the *shapes* of their parameters
(:func:`architecture`), so a policy kind needs no configuration:
:func:`policy_init` / :func:`policy_act` are the ``init`` / ``act`` of
:class:`spielplatz.learning.agents.PolicyKind` for parameters
``{"net": flax params, "seat": player index}``.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

__all__ = ["ActorCriticNet", "architecture", "initial_carry", "network_from_params",
           "policy_init", "policy_act", "player_observation"]


class ActorCriticNet(nn.Module):
    """Observation -> ``(logits [A], value [], carry)``; ``carry`` is ``()`` without LSTM."""

    num_actions: int
    hidden: tuple = (64, 64)
    channels: tuple = ()
    kernel: int = 3
    lstm: int = 0

    @nn.compact
    def __call__(self, obs: Any, carry: Any) -> tuple:
        x = jnp.asarray(obs, jnp.float32)
        if self.channels:
            x = jnp.moveaxis(x, 0, -1)                           # [C, H, W] -> [H, W, C]
            for i, c in enumerate(self.channels):
                x = nn.relu(nn.Conv(int(c), (self.kernel, self.kernel), padding="SAME",
                                    name=f"conv_{i}")(x))
        x = x.reshape(-1)
        for i, h in enumerate(self.hidden):
            x = nn.relu(nn.Dense(int(h), name=f"dense_{i}")(x))
        if self.lstm:
            carry, x = nn.OptimizedLSTMCell(int(self.lstm), name="lstm")(carry, x)
        logits = nn.Dense(self.num_actions, kernel_init=nn.initializers.orthogonal(0.01),
                          name="policy")(x)
        value = nn.Dense(1, name="value")(x)[0]
        return logits, value, carry


def initial_carry(lstm: int) -> Any:
    """The LSTM carry at an episode start: ``(c, h)`` zeros, or ``()`` without LSTM."""
    return (jnp.zeros(lstm), jnp.zeros(lstm)) if lstm else ()


def _layers(params: dict, prefix: str) -> list:
    return [params[f"{prefix}_{i}"] for i in range(len(params))
            if f"{prefix}_{i}" in params]


def architecture(params: dict) -> dict:
    """The :class:`ActorCriticNet` fields that made ``params`` (read from shapes only, so
    it works under ``jax.jit``): ``num_actions``, ``hidden``, ``channels``, ``kernel``,
    ``lstm``, and ``inputs`` (the first layer's input width or channels)."""
    convs, denses = _layers(params, "conv"), _layers(params, "dense")
    first = convs[0] if convs else (denses[0] if denses else
                                    params["lstm"]["ii"] if "lstm" in params else
                                    params["policy"])
    kernel = first["kernel"].shape
    return {"num_actions": int(params["policy"]["kernel"].shape[-1]),
            "hidden": tuple(int(d["kernel"].shape[-1]) for d in denses),
            "channels": tuple(int(c["kernel"].shape[-1]) for c in convs),
            "kernel": int(convs[0]["kernel"].shape[0]) if convs else 3,
            "lstm": int(params["lstm"]["hi"]["bias"].shape[-1]) if "lstm" in params else 0,
            "inputs": int(kernel[-2])}


def network_from_params(params: dict) -> ActorCriticNet:
    """The network that ``params`` (one player's flax params) belong to."""
    arch = architecture(params)
    arch.pop("inputs")
    return ActorCriticNet(**arch)


def player_observation(obs: Any, seat: Any, arch: dict) -> Any:
    """The network input of player ``seat`` from what a game shows it: its own view (as
    :func:`spielplatz.learning.agents.play_many` passes a ``jax_environment``'s), every
    player's views ``[N, ...]`` (then row ``seat``), or a shared integer state (an
    iterated game's memory-one state index, one-hot encoded)."""
    obs = jnp.asarray(obs)
    if obs.ndim == 0:
        return jax.nn.one_hot(obs, arch["inputs"])
    stacked = obs.ndim == 4 if arch["channels"] else obs.size != arch["inputs"]
    return obs[jnp.asarray(seat).astype(jnp.int32)] if stacked else obs


def policy_init(params: dict, key: Any) -> Any:
    """A saved agent's state at an episode start: its zero LSTM carry (or ``()``)."""
    del key
    return initial_carry(architecture(params["net"])["lstm"])


def policy_act(params: dict, state: Any, obs: Any, key: Any) -> tuple:
    """Sample a saved agent's action: ``(action, carry)`` (see :func:`player_observation`)."""
    net_params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float32), params["net"])
    x = player_observation(obs, params["seat"], architecture(net_params))
    logits, _, carry = network_from_params(net_params).apply({"params": net_params}, x, state)
    return jax.random.categorical(key, logits).astype(jnp.int32), carry
