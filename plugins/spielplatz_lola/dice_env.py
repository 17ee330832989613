"""LOLA-DiCE with network policies on ``jax_environment`` games (the Coin Games).

The estimator of :mod:`spielplatz_lola.dice` with each player's policy an actor-critic
network of the host (:class:`spielplatz.learning.networks.ActorCriticNet`, its policy
head; no recurrent core) reading the player's own view, on episodes of the game's own
length. Player ``i``'s DiCE objective on a batch of episodes is

    ``L_i = mean_b sum_t MB(sum_{tau <= t} log pi_1(a_1^tau) + log pi_2(a_2^tau)) gamma^t r_i^t
           + mean_b sum_t (1 - MB(log pi_1(a_1^t) + log pi_2(a_2^t))) gamma^t b_i^t``

with ``MB(x) = exp(x - stop_gradient(x))`` and the baseline ``b_i^t`` the batch mean of
player ``i``'s discounted return from step ``t`` (a state-independent control variate:
it changes no expectation of the first-order gradient). LOLA-DiCE: the opponent takes
``lookahead`` plain gradient steps of size ``lola_lr`` on its own ``L`` (fresh episodes
each), each a differentiable function of player ``i``'s parameters; player ``i`` then
takes an Adam step (``lr``, optax) on its ``L`` on fresh episodes against the
looked-ahead opponent, differentiating through the look-ahead. A ``naive`` player takes
the Adam step on its own ``L`` without look-ahead (a sampled policy gradient). The saved
agents are ``a2c`` agents (their policy heads), so the host plays them against any other.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .dice import _returns_to_go

__all__ = ["env_dice_trainer", "rollout"]


def rollout(env: Any, net: Any, params: tuple, key: Any, batch: int) -> dict:
    """``batch`` episodes: views ``[B, T, 2, ...]``, actions ``[B, T, 2]``, rewards
    ``[B, T, 2]`` and the environment's metrics at each episode's end ``[B, ...]``."""
    def episode(k: Any) -> dict:
        k0, k1 = jax.random.split(k)
        state, obs = env.reset(k0)

        def body(carry: tuple, kk: Any) -> tuple:
            state, obs = carry
            ka, kb, ke = jax.random.split(kk, 3)
            l1 = net.apply({"params": params[0]}, obs[0], ())[0]
            l2 = net.apply({"params": params[1]}, obs[1], ())[0]
            actions = jnp.stack([jax.random.categorical(ka, l1),
                                 jax.random.categorical(kb, l2)]).astype(jnp.int32)
            new, new_obs, rewards, _ = env.step(state, actions, ke)
            return (new, new_obs), {"obs": obs, "actions": actions,
                                    "rewards": rewards.astype(jnp.float32)}

        (end, _), traj = jax.lax.scan(body, (state, obs), jax.random.split(k1, env.horizon))
        traj["metrics"] = env.metrics(end)
        return traj

    return jax.vmap(episode)(jax.random.split(key, batch))


def dice_objective(net: Any, traj: dict, params: tuple, player: int, gamma: float,
                   baseline: bool) -> Any:
    """Player ``player``'s DiCE objective (to maximise) of ``traj`` under ``params``."""
    def logp(theta: Any, seat: int) -> Any:
        views = traj["obs"][:, :, seat]
        logits = jax.vmap(jax.vmap(lambda o: net.apply({"params": theta}, o, ())[0]))(views)
        log_pi = jax.nn.log_softmax(logits, axis=-1)
        return jnp.take_along_axis(log_pi, traj["actions"][:, :, seat, None], axis=-1)[..., 0]

    step_logp = logp(params[0], 0) + logp(params[1], 1)                   # [B, T]
    horizon = step_logp.shape[1]
    discount = gamma ** jnp.arange(horizon)

    def magic_box(x: Any) -> Any:
        return jnp.exp(x - jax.lax.stop_gradient(x))

    rewards = traj["rewards"][..., player]
    objective = (magic_box(jnp.cumsum(step_logp, axis=1)) * discount * rewards).sum(1).mean()
    if baseline:
        b = jax.lax.stop_gradient(_returns_to_go(rewards, gamma).mean(axis=0))   # [T]
        objective = objective + ((1.0 - magic_box(step_logp)) * discount * b).sum(1).mean()
    return objective


def env_dice_trainer(game: Any, kinds: tuple, opts: dict) -> tuple:
    """``(init, step, measure)`` for the host's run driver."""
    import optax

    from spielplatz.learning.networks import ActorCriticNet

    hidden = tuple(int(h) for h in str(opts["hidden"]).split(",") if h.strip())
    net = ActorCriticNet(int(game.num_actions), hidden, (), 3, 0)
    batch, k = int(opts["batch"]), int(opts["lookahead"])
    eta, gamma = float(opts["lola_lr"]), float(opts["gamma"])
    use_baseline = bool(opts["baseline"])
    adam = optax.adam(float(opts["lr"]))

    def seat(mine: Any, other: Any, me: int) -> tuple:
        return (mine, other) if me == 0 else (other, mine)

    def objective(traj: dict, mine: Any, other: Any, me: int, player: int) -> Any:
        return dice_objective(net, traj, seat(mine, other, me), player, gamma, use_baseline)

    def lookahead(mine: Any, other: Any, me: int, key: Any) -> Any:
        for kk in jax.random.split(key, k):
            traj = rollout(game, net, seat(mine, jax.lax.stop_gradient(other), me), kk, batch)
            grad = jax.grad(lambda o: objective(traj, mine, o, me, 1 - me))(other)
            other = jax.tree_util.tree_map(lambda p, g: p + eta * g, other, grad)
        return other

    def gradient(kind: str, mine: Any, other: Any, me: int, key: Any) -> tuple:
        k_in, k_out = jax.random.split(key)
        if kind == "naive" or k == 0:
            traj = rollout(game, net, seat(mine, other, me), k_out, batch)
            return jax.grad(lambda m: objective(traj, m, other, me, me))(mine), traj

        def outer(m: Any) -> tuple:
            ahead = lookahead(m, other, me, k_in)
            traj = rollout(game, net, seat(jax.lax.stop_gradient(m),
                                           jax.lax.stop_gradient(ahead), me), k_out, batch)
            return objective(traj, m, ahead, me, me), traj

        grad, traj = jax.grad(outer, has_aux=True)(mine)
        return grad, traj

    def init(g: Any, key: Any) -> dict:
        k1, k2, k_run = jax.random.split(key, 3)
        obs0 = jnp.zeros(tuple(game.observation_shape), jnp.float32)
        params = tuple(net.init(kk, obs0, ())["params"] for kk in (k1, k2))
        return {"params": params, "opt": tuple(adam.init(p) for p in params), "key": k_run}

    def step(g: Any, state: dict) -> tuple:
        key, k1, k2 = jax.random.split(state["key"], 3)
        a, b = state["params"]
        grads, trajs = zip(gradient(kinds[0], a, b, 0, k1), gradient(kinds[1], b, a, 1, k2))
        params, opts_ = [], []
        for p, o, gr in zip(state["params"], state["opt"], grads):
            update, o = adam.update(jax.tree_util.tree_map(jnp.negative, gr), o, p)
            params.append(optax.apply_updates(p, update))
            opts_.append(o)
        traj = trajs[0]                       # player 1's fresh episodes of this update
        stats = {"reward": traj["rewards"].mean(axis=(0, 1)),
                 **{name: v.astype(jnp.float32).mean(axis=0)
                    for name, v in traj["metrics"].items()}}
        return {"params": tuple(params), "opt": tuple(opts_), "key": key}, stats

    def measure(g: Any, state: dict) -> dict:
        return {}

    return init, step, measure
