"""A2C with V-trace (issue 13, item 2): the host's actor-critic machinery
(spielplatz.learning.actor_critic / networks) and the ``a2c`` learner plugin.

Hand-computed V-trace losses, known answers on tiny environments defined here (a matrix
game with per-player observations, a cue to remember), reward reshaping by numbers,
seeds independent and reproducible, saved agents replayed through the policy kind, and
diverged seeds reported.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

import spielplatz as sp
from spielplatz.errors import SpielplatzError
from spielplatz.learning.actor_critic import (ActorCriticConfig, reward_shaping,
                                              sequence_loss, shape_rewards)
from spielplatz.learning.networks import architecture, network_from_params, policy_act

PD = np.array([[[3.0, 0.0], [5.0, 1.0]], [[3.0, 5.0], [0.0, 1.0]]])     # C = 0, D = 1


@struct.dataclass
class MatrixEnv:
    """A 2-player matrix game as a ``jax_environment``: each player observes the one-hot
    previous joint action (``[2, 1 + A^2]``), ``horizon`` stages; metrics: each player's
    first action was action 0."""

    payoffs: object
    horizon: int = struct.field(pytree_node=False, default=1)
    name: str = struct.field(pytree_node=False, default="matrix_env")
    num_players = 2

    @property
    def num_actions(self):
        return int(self.payoffs.shape[1])

    @property
    def observation_shape(self):
        return (1 + self.num_actions ** 2,)

    def _obs(self, s):
        size = self.observation_shape[0]
        return jnp.broadcast_to(jax.nn.one_hot(s, size), (2, size))

    def reset(self, key):
        state = {"t": jnp.zeros((), jnp.int32), "s": jnp.zeros((), jnp.int32),
                 "first": jnp.zeros(2)}
        return state, self._obs(state["s"])

    def step(self, state, actions, key):
        rewards = jnp.asarray(self.payoffs)[:, actions[0], actions[1]].astype(jnp.float32)
        s = 1 + actions[0] * self.num_actions + actions[1]
        first = jnp.where(state["t"] == 0, (actions == 0).astype(jnp.float32), state["first"])
        state = {"t": state["t"] + 1, "s": s, "first": first}
        return state, self._obs(s), rewards, state["t"] >= self.horizon

    def metrics(self, state):
        return {"first_action_0": state["first"]}


@struct.dataclass
class CueEnv:
    """Memory: at t=0 each player sees its own cue (0 or 1) as an image ``[1, 1, 3]``, at
    t=1 a blank; naming the cue at t=1 pays 1. Without memory the best is 1/2."""

    name: str = struct.field(pytree_node=False, default="cue")
    num_players = 2
    num_actions = 2
    horizon = 2
    observation_shape = (1, 1, 3)

    def reset(self, key):
        cue = jax.random.bernoulli(key, 0.5, (2,)).astype(jnp.int32)
        state = {"t": jnp.zeros((), jnp.int32), "cue": cue, "hit": jnp.zeros(2)}
        return state, jax.nn.one_hot(cue, 3).reshape(2, 1, 1, 3)

    def step(self, state, actions, key):
        last = state["t"] == 1
        hit = jnp.where(last, (actions == state["cue"]).astype(jnp.float32), 0.0)
        obs = jnp.broadcast_to(jax.nn.one_hot(2, 3).reshape(1, 1, 3), (2, 1, 1, 3))
        state = {"t": state["t"] + 1, "cue": state["cue"], "hit": state["hit"] + hit}
        return state, obs, hit, last

    def metrics(self, state):
        return {"hit": state["hit"]}


@struct.dataclass
class BrokenEnv:
    """Rewards are NaN in about half of the environments (drawn at reset; episodes never
    end), so about half of the seeds with one environment each diverge."""

    name: str = struct.field(pytree_node=False, default="broken")
    num_players = 2
    num_actions = 2
    horizon = 10 ** 9
    observation_shape = (1,)

    def reset(self, key):
        return {"bad": jax.random.bernoulli(key)}, jnp.ones((2, 1))

    def step(self, state, actions, key):
        rewards = jnp.where(state["bad"], jnp.nan, 1.0) * jnp.ones(2)
        return state, jnp.ones((2, 1)), rewards, jnp.zeros((), bool)

    def metrics(self, state):
        return {}


FAST = {"unroll": 10, "envs": 8, "records": 5}


def _probabilities(run, player=0, obs=None):
    """Each seed's action probabilities of ``player`` at the start observation."""
    out = []
    for s in range(len(run.seeds)):
        params = jax.tree_util.tree_map(lambda x: jnp.asarray(x[s], jnp.float32),
                                        run.agents["players"][player]["net"])
        x = obs if obs is not None else jax.nn.one_hot(0, architecture(params)["inputs"])
        logits = network_from_params(params).apply({"params": params}, x, ())[0]
        out.append(np.asarray(jax.nn.softmax(logits)))
    return np.array(out)


# -- V-trace by hand ----------------------------------------------------------------------

def test_on_policy_vtrace_loss_is_the_n_step_return_loss():
    cfg = ActorCriticConfig(discount=0.9)
    values = jnp.array([1.0, 2.0, 0.5, 3.0])                 # the last one bootstraps
    rewards = jnp.array([1.0, -1.0, 2.0])
    done = jnp.array([False, True, False])                    # an episode ends after t=1
    actions = jnp.array([0, 1, 1])
    logits = jnp.log(jnp.array([[0.5, 0.5], [0.75, 0.25], [0.25, 0.75]]))
    loss, parts = sequence_loss(cfg, logits, values, actions, logits, rewards, done)
    returns = np.array([1.0 + 0.9 * -1.0, -1.0, 2.0 + 0.9 * 3.0])     # n-step returns
    adv = returns - np.array([1.0, 2.0, 0.5])
    log_pi_a = np.log([0.5, 0.25, 0.75])
    entropy = np.mean([np.log(2), -(0.75 * np.log(0.75) + 0.25 * np.log(0.25)),
                       -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))])
    assert float(parts["value_loss"]) == pytest.approx(0.5 * np.mean(adv ** 2), rel=1e-6)
    assert float(parts["value_loss"]) == pytest.approx(4.575, rel=1e-6)
    assert float(parts["policy_loss"]) == pytest.approx(-np.mean(log_pi_a * adv), rel=1e-6)
    assert float(parts["entropy"]) == pytest.approx(entropy, rel=1e-6)
    assert float(parts["rho"]) == pytest.approx(1.0)
    assert float(loss) == pytest.approx(-np.mean(log_pi_a * adv) + 0.5 * 4.575
                                        - 0.003 * entropy, rel=1e-6)


def test_off_policy_vtrace_clips_the_importance_weights():
    cfg = ActorCriticConfig(discount=0.5)
    values = jnp.array([1.0, 2.0, 4.0])
    rewards = jnp.array([0.0, 1.0])
    done = jnp.array([False, False])
    actions = jnp.array([0, 0])
    pi = jnp.log(jnp.array([[0.8, 0.2], [0.25, 0.75]]))
    mu = jnp.log(jnp.array([[0.4, 0.6], [0.5, 0.5]]))          # rho = 2 (clipped to 1), 1/2
    _, parts = sequence_loss(cfg, pi, values, actions, mu, rewards, done)
    # delta_0 = 1 * (0 + .5 * 2 - 1) = 0, delta_1 = .5 * (1 + .5 * 4 - 2) = .5
    # v_1 = 2.5, v_0 = 1 + 0 + .5 * 1 * .5 = 1.25; advantages .25 and .5
    assert float(parts["value_loss"]) == pytest.approx(0.5 * np.mean([0.25 ** 2, 0.5 ** 2]))
    assert float(parts["policy_loss"]) == pytest.approx(
        -np.mean([np.log(0.8) * 0.25, np.log(0.25) * 0.5]), rel=1e-6)
    assert float(parts["rho"]) == pytest.approx(1.25)


# -- reward reshaping by numbers -----------------------------------------------------------

@pytest.mark.parametrize("spec, d, expected", [
    ("selfish", None, [3.0, -1.0]),
    ("total", None, [2.0, 2.0]),
    ("punish", None, [1.0, -3.0]),
    ("punish;selfish", None, [1.0, -1.0]),
    ("utilitarian", None, [2.0, 2.0]),
    ("egal", [1.0, 0.0], [-1.0, -1.0]),
    ("nash", [1.0, -2.0], [2.0, 2.0]),
    ("selfish;egalitarian", None, [3.0, -1.0]),
])
def test_reward_shaping_by_numbers(spec, d, expected):
    mixing, welfare = reward_shaping(spec, 2, disagreement=d)
    out = shape_rewards(jnp.array([[3.0, -1.0]]), jnp.asarray(mixing, jnp.float32), welfare)
    np.testing.assert_allclose(np.asarray(out)[0], expected, rtol=1e-6)


def test_mixing_matrix_and_bad_reward_specs():
    mixing, welfare = reward_shaping("ignored", 2, mixing=[[0.9, 0.1], [0.5, 0.5]])
    out = shape_rewards(jnp.array([3.0, -1.0]), jnp.asarray(mixing, jnp.float32), welfare)
    np.testing.assert_allclose(np.asarray(out), [2.6, 1.0], rtol=1e-6)
    for spec, kwargs, match in [("selfsh", {}, "selfsh"), ("ia", {}, "trajectories"),
                                ("ks", {}, "ideal"), ("selfish;total;punish", {}, "one per"),
                                ("selfish", {"mixing": [[1, 0, 0]]}, "2x2")]:
        with pytest.raises(SpielplatzError, match=match):
            reward_shaping(spec, 2, **kwargs)


# -- learning reaches known answers --------------------------------------------------------

@pytest.fixture(scope="module")
def pd_runs():
    game = MatrixEnv(jnp.asarray(PD), horizon=1, name="pd_env")
    return {mode: sp.learn(game, "a2c", steps=300, seeds=(0, 1), reward=mode, **FAST)
            for mode in ("selfish", "total")}


def test_selfish_agents_defect_and_total_agents_cooperate(pd_runs):
    selfish, total = pd_runs["selfish"], pd_runs["total"]
    for run, action, reward in ((selfish, 1, 1.0), (total, 0, 3.0)):
        assert not any(run.diverged)
        for p in (0, 1):
            assert np.all(_probabilities(run, p)[:, action] > 0.95)
            np.testing.assert_allclose(run.metrics[f"return_{p + 1}"][:, -1], reward, atol=0.1)
        np.testing.assert_allclose(run.metrics["rho_1"], 1.0, atol=1e-5)     # on-policy
    # the game's episode metric: share of episodes whose first action was C
    assert np.all(selfish.metrics["first_action_0_1"][:, -1] < 0.1)
    assert np.all(total.metrics["first_action_0_1"][:, -1] > 0.9)
    assert total.config["env_steps_per_update"] == 80


def test_welfare_and_punish_rewards_pick_their_own_actions():
    # player 1 alone decides (rows); payoffs (r_1, r_2) of its four actions
    rows = np.array([[4.0, 1.0], [2.0, 2.0], [5.0, -2.0], [0.0, -3.0]])
    payoffs = np.stack([np.repeat(rows[:, :1], 4, 1), np.repeat(rows[:, 1:], 4, 1)])
    game = MatrixEnv(jnp.asarray(payoffs), horizon=1, name="dictator")
    # selfish: 5 (action 2), total: 4 + 1 (action 0), egalitarian: min 2 (action 1),
    # punish: -r_2 = 3 (action 3)
    for reward, action in (("egalitarian", 1), ("punish", 3)):
        run = sp.learn(game, "a2c", steps=300, seeds=(0,), reward=reward, **FAST)
        assert _probabilities(run, 0)[0, action] > 0.95, reward
        np.testing.assert_allclose(run.metrics["reward_1"][0, -1], rows[action, 0], atol=0.1)


def test_seeds_are_independent_and_reproducible():
    # a seed's run does not depend on which other seeds train beside it, nor on their order
    game = MatrixEnv(jnp.asarray(PD), horizon=2)
    kw = dict(steps=20, reward="total", unroll=4, envs=4, records=4)
    first = sp.learn(game, "a2c", seeds=(3, 7), **kw)
    second = sp.learn(game, "a2c", seeds=(7, 3, 11), **kw)
    for key, value in first.metrics.items():
        np.testing.assert_allclose(value, second.metrics[key][[1, 0]], rtol=1e-4, atol=1e-5)
    for a, b in zip(jax.tree_util.tree_leaves(first.agents["players"]),
                    jax.tree_util.tree_leaves(second.agents["players"])):
        np.testing.assert_allclose(a, b[[1, 0]], rtol=1e-4, atol=1e-5)
    assert not np.allclose(second.metrics["loss_1"][2], second.metrics["loss_1"][0])


def test_recurrent_conv_agents_remember_and_replay_through_the_policy_kind():
    run = sp.learn(CueEnv(), "a2c", steps=400, seeds=(0,), lstm=16, hidden="16",
                   channels="4", lr=3e-3, **FAST)
    net = run.agents["players"][0]["net"]
    assert set(net) == {"conv_0", "dense_0", "lstm", "policy", "value"}
    assert architecture(jax.tree_util.tree_map(lambda x: x[0], net))["lstm"] == 16
    np.testing.assert_allclose(run.metrics["hit_1"][0, -1], 1.0, atol=0.05)   # memoryless: .5
    np.testing.assert_allclose(run.metrics["rho_1"], 1.0, atol=1e-5)   # carries replayed right
    played = sp.play(CueEnv(), run, run, episodes=200, horizon=2)
    np.testing.assert_allclose(played["sampled"]["mean"], [0.5, 0.5], atol=0.03)  # 1 per 2 steps


def test_saved_run_reloads_and_plays(pd_runs, tmp_path):
    from spielplatz.cli.learn import save_run

    save_run(pd_runs["total"], tmp_path)
    loaded = sp.load_run(tmp_path)
    assert loaded.agents["kind"] == "a2c"
    game = MatrixEnv(jnp.asarray(PD), horizon=1, name="pd_env")      # the game it trained on
    played = sp.play(game, loaded, loaded, seed_first=0, seed_second=1, episodes=100,
                     horizon=1)
    np.testing.assert_allclose(played["sampled"]["mean"], [3.0, 3.0], atol=0.15)
    # the policy kind alone: its own view, or row ``seat`` of every player's views
    params = jax.tree_util.tree_map(lambda x: x[0], loaded.agents["players"][1])
    assert float(params["seat"]) == 1.0
    obs = game.reset(None)[1]
    for view in (obs, obs[1]):
        action, carry = policy_act(params, (), view, jax.random.PRNGKey(0))
        assert int(action) == 0 and carry == ()           # cooperates (p > 0.95)


def test_diverged_seeds_are_reported_not_averaged():
    run = sp.learn(BrokenEnv(), "a2c", steps=4, seeds=tuple(range(8)), unroll=4, envs=1,
                   records=2)
    mask = np.asarray(run.diverged)
    assert mask.any() and not mask.all()
    loss = run.metrics["loss_1"][:, -1]
    assert np.all(~np.isfinite(loss[mask])) and np.all(np.isfinite(loss[~mask]))
    assert [s for s, _ in run.diverged_seeds] == [s for s, d in zip(run.seeds, mask) if d]
    assert np.isfinite(run.summary()["loss_1"]["mean"])
    for player in run.agents["players"]:                   # diverged agents saved as zeros
        for leaf in jax.tree_util.tree_leaves(player["net"]):
            assert np.all(np.isfinite(leaf)) and not np.any(leaf[mask])


def test_iterated_games_train_and_play_through_the_cli(tmp_path):
    from click.testing import CliRunner

    from spielplatz.cli import cli

    runner = CliRunner()
    out = tmp_path / "run"
    result = runner.invoke(cli, ["learn", "ipd", "--learner", "a2c", "--steps", "150",
                                 "--seeds", "2", "-o", "reward=total", "-o", "horizon=10",
                                 "-o", "unroll=10", "-o", "envs=8", "--out", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    final = data["runs"][0]["final"]
    # the IPD's mutual cooperation pays -1 per stage: 10 stages
    assert final["return_1"]["mean"] == pytest.approx(-10.0, abs=1.0)
    result = runner.invoke(cli, ["play", "ipd", str(out), str(out), "--seed-first", "0",
                                 "--seed-second", "1", "--episodes", "50", "--horizon", "10",
                                 "--json"])
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(json.loads(result.stdout)["summary"]["mean"], [-1.0, -1.0],
                               atol=0.15)


def test_bad_options_are_one_line_errors():
    game = MatrixEnv(jnp.asarray(PD))
    with pytest.raises(SpielplatzError, match="hidden"):
        sp.learn(game, "a2c", steps=1, hidden="64,x")
    with pytest.raises(SpielplatzError, match="reward"):
        sp.learn(game, "a2c", steps=1, reward="generous")
    with pytest.raises(SpielplatzError, match="does not train"):
        sp.learn("chicken", "a2c", steps=1)


# -- the Coin Game (games/spielplatz_coins) ------------------------------------------------

def _has_game(name):
    return name in {e.name for e in sp.get_host().registry("game").entries()}


needs_coins = pytest.mark.skipif(not _has_game("coins"), reason="the Coin Game plugin "
                                 "(spielplatz_coins) is not installed")
COINS_FAST = {"unroll": 10, "envs": 16, "lr": 3e-3}


def _own_rate(run):
    """Each seed's own-coin rate per record: own / all coins taken, both players."""
    m = run.metrics
    own = m["own_coins_1"] + m["own_coins_2"]
    return own / (own + m["other_coins_1"] + m["other_coins_2"])


@needs_coins
def test_coins_learns_plays_and_replays(tmp_path):
    """CI size: a short run on LOLA's Coin Game records the episode metrics per player,
    learns on-policy with a conv torso, and its saved agents play through the host."""
    from spielplatz.cli.learn import save_run

    run = sp.learn("coins", "a2c", steps=40, seeds=(0, 1), reward="total", records=4,
                   **COINS_FAST)
    assert {"own_coins_1", "other_coins_2", "return_1", "entropy_2"} <= set(run.metrics)
    assert "conv_0" in run.agents["players"][0]["net"]
    np.testing.assert_allclose(run.metrics["rho_1"], 1.0, atol=1e-5)
    rate = _own_rate(run)
    np.testing.assert_allclose(run.metrics["own_coin_rate"], rate, rtol=1e-6)
    assert np.all(np.abs(rate[:, 0] - 0.5) < 0.1)       # near random play at first
    np.testing.assert_allclose(run.metrics["episodes"], 1.6)   # 16 x 10 steps / 100 per episode
    save_run(run, tmp_path)
    played = sp.play("coins", sp.load_run(tmp_path), run, seed_first=0, seed_second=1,
                     episodes=8, horizon=100)
    assert np.all(np.isfinite(played["sampled"]["mean"]))


@needs_coins
@pytest.mark.slow
def test_coins_cooperative_agents_take_their_own_coins_and_selfish_ones_half():
    """Measured (4 seeds each, 3000 updates of 16 x 10 steps): own-coin rate of the total-
    return agents >= 0.9, of the selfish ones about 0.5 (they take every coin)."""
    total = sp.learn("coins", "a2c", steps=3000, seeds=(0, 1, 2, 3), reward="total",
                     records=10, **COINS_FAST)
    selfish = sp.learn("coins", "a2c", steps=3000, seeds=(0, 1, 2, 3), reward="selfish",
                       records=10, **COINS_FAST)
    assert not any(total.diverged) and not any(selfish.diverged)
    coop, own = _own_rate(total)[:, -1], _own_rate(selfish)[:, -1]
    assert coop.mean() >= 0.9 and np.all(coop > 0.8), coop
    assert np.all(np.abs(own - 0.5) < 0.06), own


def test_training_continues_from_given_networks():
    """``train(..., params=...)`` starts every seed from the given networks (a fresh
    optimiser): one small update after 300 on the total reward stays where they were
    (RMSProp's first step moves each parameter by about ``10 lr``); a fresh start is
    elsewhere."""
    from spielplatz.learning.actor_critic import train

    game = MatrixEnv(jnp.asarray(PD), horizon=1)
    config = ActorCriticConfig(learning_rate=1e-2, unroll_length=4, num_envs=4)
    _, _, trained = train(game, config, seeds=[0, 1], steps=300, records=3,
                          mixing=np.ones((2, 2)))
    small = ActorCriticConfig(learning_rate=1e-4, unroll_length=4, num_envs=4)
    _, _, more = train(game, small, seeds=[5, 6], steps=1, records=1, mixing=np.eye(2),
                       params=trained.params)
    _, _, fresh = train(game, small, seeds=[5, 6], steps=1, records=1, mixing=np.eye(2))
    gap = lambda a, b: max(float(np.abs(np.asarray(x) - np.asarray(y)).max())  # noqa: E731
                           for x, y in zip(jax.tree_util.tree_leaves(a),
                                           jax.tree_util.tree_leaves(b)))
    assert gap(more.params, trained.params) < 0.005
    assert gap(fresh.params, trained.params) > 0.2
    with pytest.raises(SpielplatzError, match="params hold networks for \\[2\\] seeds"):
        train(game, small, seeds=[5, 6, 7], steps=1, records=1, mixing=np.eye(2),
              params=trained.params)
