"""LOLA-DiCE with network policies on the Coin Games (plugins/spielplatz_lola/dice_env.py).

* The DiCE objective's first-order gradient is the causal policy gradient
  ``sum_t grad log pi(a_t) sum_{t' >= t} gamma^t' (r_t' - b_t')`` (by hand, to float
  precision), with and without the baseline; its value is the discounted return.
* A small run trains both seats, reports each player's reward per step and the own-coin
  rate, and its agents replay through the host (``sp.play``); ``opponent=naive`` pairs a
  sampled policy gradient learner.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spielplatz as sp


def _setup(baseline: bool):
    from spielplatz.learning.networks import ActorCriticNet
    from spielplatz_lola.dice_env import dice_objective, rollout

    game = sp.load_game("coins(horizon=12)")
    net = ActorCriticNet(4, (8,), (), 3, 0)
    obs0 = jnp.zeros(game.observation_shape)
    params = tuple(net.init(k, obs0, ())["params"] for k in jax.random.split(
        jax.random.PRNGKey(0), 2))
    params = jax.tree_util.tree_map(lambda x: x + 0.3 * jax.random.normal(
        jax.random.PRNGKey(1), x.shape), params)
    traj = rollout(game, net, params, jax.random.PRNGKey(2), 6)
    return game, net, params, traj, dice_objective


@pytest.mark.parametrize("baseline", [False, True])
def test_dice_gradient_is_the_causal_policy_gradient(baseline):
    game, net, params, traj, dice_objective = _setup(baseline)
    gamma, player = 0.9, 1
    value = dice_objective(net, traj, params, player, gamma, baseline)
    grad = jax.grad(lambda p: dice_objective(net, traj, (params[0], p), player, gamma,
                                             baseline))(params[1])
    rewards = np.asarray(traj["rewards"][..., player], dtype=float)          # [B, T]
    b, t = rewards.shape
    disc = gamma ** np.arange(t)
    assert float(value) == pytest.approx((rewards * disc).sum(1).mean(), rel=1e-5)
    to_go = np.array([[sum(gamma ** (u - s) * rewards[e, u] for u in range(s, t))
                       for s in range(t)] for e in range(b)])
    base = to_go.mean(axis=0) if baseline else np.zeros(t)
    weight = disc * (to_go - base)                         # gamma^t (G_t - b_t), [B, T]

    def logp(p):
        views = traj["obs"][:, :, player]
        logits = jax.vmap(jax.vmap(lambda o: net.apply({"params": p}, o, ())[0]))(views)
        lp = jax.nn.log_softmax(logits)
        return jnp.take_along_axis(lp, traj["actions"][:, :, player, None], -1)[..., 0]

    expected = jax.grad(lambda p: (logp(p) * weight).sum(1).mean())(params[1])
    for got, want in zip(jax.tree_util.tree_leaves(grad), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=2e-4, atol=2e-6)


@pytest.mark.parametrize("opponent", ["self", "naive"])
def test_small_run_on_coins_reports_and_replays(opponent):
    game = sp.load_game("coins(horizon=20)")
    run = sp.get_learner("lola_dice").learn(game, steps=4, seeds=(0, 1), batch=8,
                                            lookahead=1, records=2, opponent=opponent)
    assert run.agents["kind"] == "a2c"
    assert run.config["players"] == ["lola_dice", "lola_dice" if opponent == "self" else "naive"]
    for key in ("reward_1", "reward_2", "own_coin_rate"):
        assert run.metrics[key].shape == (2, 2) and np.all(np.isfinite(run.metrics[key]))
    assert np.all((run.metrics["own_coin_rate"] >= 0) & (run.metrics["own_coin_rate"] <= 1))
    played = sp.play(game, run, run, seed_first=0, seed_second=1, episodes=4)
    assert np.all(np.isfinite(played["sampled"]["mean"]))
