"""LOLA-DiCE on sampled episodes of an iterated game's JAX environment.

DiCE (Foerster et al. 2018, "DiCE: the infinitely differentiable Monte Carlo estimator"):
with ``MB(x) = exp(x - stop_gradient(x))`` (value 1, gradient 1), player ``i``'s objective
on a batch of episodes is

    ``L_i = mean_b sum_t MB(sum_{tau <= t} log pi_1(a_1^tau) + log pi_2(a_2^tau)) gamma^t r_i^t
           + mean_b sum_t (1 - MB(log pi_1(a_1^t) + log pi_2(a_2^t))) gamma^t v_i(s^t)``,

whose gradients of any order, in both players' parameters, are unbiased estimates of
those of the value; the second line is the baseline term, which reduces variance and
changes no expectation: a learned tabular state value ``v_i(s)`` (the mean discounted
return from ``s``, fitted to each batch with step ``lr_value``), scaled by ``1 -
gamma^(T - t)`` for the stages left in the episode. LOLA-DiCE: the opponent
takes ``lookahead`` steps of size ``lola_lr`` on its own ``L`` (fresh episodes each),
each a differentiable function of player ``i``'s parameters; player ``i`` then ascends
its ``L`` on fresh episodes played against the looked-ahead opponent, differentiating
through the look-ahead. A ``naive`` opponent ascends its own ``L`` without look-ahead.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["rollout", "dice_objective", "dice_trainer"]


def rollout(env: Any, params: tuple, key: Any, batch: int) -> dict:
    """``batch`` episodes of memory-one policies ``params``: ``obs``, ``a1``, ``a2``
    ``[B, T]`` (ints) and ``rewards`` ``[B, T, 2]``."""
    def episode(k: Any) -> dict:
        state, obs = env.reset(k)

        def body(carry: tuple, kk: Any) -> tuple:
            state, obs = carry
            k1, k2, k3 = jax.random.split(kk, 3)
            a1 = jax.random.categorical(k1, params[0][obs])
            a2 = jax.random.categorical(k2, params[1][obs])
            new, new_obs, rewards, _ = env.step(state, jnp.stack([a1, a2]), k3)
            return (new, new_obs), {"obs": obs, "a1": a1, "a2": a2, "rewards": rewards}

        _, traj = jax.lax.scan(body, (state, obs), jax.random.split(k, env.horizon))
        return traj

    return jax.vmap(episode)(jax.random.split(key, batch))


def dice_objective(traj: dict, params: tuple, player: int, gamma: Any,
                   values: Any = None) -> Any:
    """Player ``player``'s DiCE objective (to maximise) of ``traj`` under ``params``."""
    def logp(theta: Any, actions: Any) -> Any:
        logits = jax.nn.log_softmax(theta[traj["obs"]], axis=-1)         # [B, T, A]
        return jnp.take_along_axis(logits, actions[..., None], axis=-1)[..., 0]

    step_logp = logp(params[0], traj["a1"]) + logp(params[1], traj["a2"])  # [B, T]
    horizon = step_logp.shape[1]
    discount = gamma ** jnp.arange(horizon)

    def magic_box(x: Any) -> Any:
        return jnp.exp(x - jax.lax.stop_gradient(x))

    dependencies = jnp.cumsum(step_logp, axis=1)
    rewards = traj["rewards"][..., player]
    objective = (magic_box(dependencies) * discount * rewards).sum(axis=1).mean()
    if values is not None:
        baseline = jax.lax.stop_gradient(values[traj["obs"]]) * discount * _remaining(
            gamma, horizon)
        objective = objective + ((1.0 - magic_box(step_logp)) * baseline).sum(axis=1).mean()
    return objective


def _remaining(gamma: Any, horizon: int) -> Any:
    """``1 - gamma^(T - t)``: the share of a state's infinite-horizon value that the
    ``T - t`` stages left in the episode can still collect (scales the baseline)."""
    return 1.0 - gamma ** (horizon - jnp.arange(horizon))


def _returns_to_go(rewards: Any, gamma: Any) -> Any:
    """``G_t = sum_{t' >= t} gamma^{t' - t} r_t'`` for ``rewards`` ``[B, T]``."""
    def back(carry: Any, r: Any) -> tuple:
        g = r + gamma * carry
        return g, g

    _, out = jax.lax.scan(back, jnp.zeros(rewards.shape[0]), rewards.T[::-1])
    return out[::-1].T


def dice_trainer(game: Any, kinds: tuple, opts: dict) -> tuple:
    """``(init, step)`` for the host's run driver: LOLA-DiCE (or naive) for both seats."""
    env = game.environment(int(opts["horizon"]))
    batch, k = int(opts["batch"]), int(opts["lookahead"])
    lr, eta, lr_v = float(opts["lr"]), float(opts["lola_lr"]), float(opts["lr_value"])
    use_baseline = bool(opts["baseline"])
    gamma = game.gamma

    def seat(mine: Any, other: Any, me: int) -> tuple:
        return (mine, other) if me == 0 else (other, mine)

    def objective(traj: dict, mine: Any, other: Any, me: int, player: int,
                  values: Any) -> Any:
        return dice_objective(traj, seat(mine, other, me), player, gamma,
                              values if use_baseline else None)

    def lookahead(mine: Any, other: Any, me: int, values: Any, key: Any) -> Any:
        for kk in jax.random.split(key, k):
            traj = rollout(env, seat(mine, jax.lax.stop_gradient(other), me), kk, batch)
            other = other + eta * jax.grad(
                lambda o: objective(traj, mine, o, me, 1 - me, values[1 - me]))(other)
        return other

    def lola_step(mine: Any, other: Any, me: int, values: tuple, key: Any) -> Any:
        k_in, k_out = jax.random.split(key)

        def outer(m: Any) -> Any:
            ahead = lookahead(m, other, me, values, k_in) if k else other
            traj = rollout(env, seat(jax.lax.stop_gradient(m), jax.lax.stop_gradient(ahead),
                                     me), k_out, batch)
            return objective(traj, m, ahead, me, me, values[me])

        return mine + lr * jax.grad(outer)(mine)

    def naive_step(mine: Any, other: Any, me: int, values: tuple, key: Any) -> Any:
        traj = rollout(env, seat(mine, other, me), key, batch)
        return mine + lr * jax.grad(lambda m: objective(traj, m, other, me, me,
                                                        values[me]))(mine)

    def fit_values(values: tuple, params: tuple, key: Any) -> tuple:
        traj = rollout(env, params, key, batch)
        out = []
        for player in (0, 1):
            horizon = traj["obs"].shape[1]
            target = _returns_to_go(traj["rewards"][..., player], gamma) / _remaining(
                gamma, horizon)
            error = values[player][traj["obs"]] - target
            counts = jnp.zeros_like(values[player]).at[traj["obs"]].add(1.0)
            grad = jnp.zeros_like(values[player]).at[traj["obs"]].add(error)
            out.append(values[player] - lr_v * grad / jnp.maximum(counts, 1.0))
        return tuple(out)

    steps = {"lola_dice": lola_step, "naive": naive_step}

    def init(g: Any, key: Any) -> dict:
        k_params, k_run = jax.random.split(key)
        k1, k2 = jax.random.split(k_params)
        scale = float(opts["init_scale"])
        params = (scale * jax.random.normal(k1, (g.num_states, g.shape[0])),
                  scale * jax.random.normal(k2, (g.num_states, g.shape[1])))
        zeros = jnp.zeros(g.num_states)
        return {"params": params, "values": (zeros, zeros), "key": k_run}

    def step(g: Any, state: dict) -> tuple:
        key, k1, k2, k3 = jax.random.split(state["key"], 4)
        a, b = state["params"]
        values = state["values"]
        new_a = steps[kinds[0]](a, b, 0, values, k1)
        new_b = steps[kinds[1]](b, a, 1, values, k2)
        values = fit_values(values, (a, b), k3) if use_baseline else values
        return {"params": (new_a, new_b), "values": values, "key": key}, {}

    return init, step
