"""Iterated matrix games, LOLA (exact, look-ahead, DiCE), agents that outlive their runs.

Normative disagreement, Sections 3.3 and 4.1, Appendices B and C.1. CI sizes: 10 seeds
x 2000 exact steps (seconds); the LOLA-DiCE reproduction is behind ``-m slow``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spielplatz as sp
from spielplatz.learning import agents
from spielplatz.learning.iterated import iterated_game


def _run_cli(*args):
    return subprocess.run([sys.executable, "-c", "from spielplatz.cli import main; main()",
                           *args], capture_output=True, text=True, timeout=600)


# -- the games ------------------------------------------------------------------------

def test_named_games_have_the_papers_stage_payoffs():
    ipd = sp.load_game("ipd")
    assert float(ipd.gamma) == pytest.approx(0.96)
    np.testing.assert_array_equal(np.asarray(ipd.payoffs[0]), [[-1, -3], [0, -2]])
    np.testing.assert_array_equal(np.asarray(ipd.payoffs[1]), [[-1, 0], [-3, -2]])
    bos = sp.load_game("iasymbos")
    np.testing.assert_array_equal(np.asarray(bos.payoffs[0]), [[4, 0], [0, 2]])
    np.testing.assert_array_equal(np.asarray(bos.payoffs[1]), [[1, 0], [0, 2]])
    assert ipd.states() == ["start", "CC", "CD", "DC", "DD"]
    for name in ("imp", "ibos", "ichicken", "istag_hunt"):
        assert sp.load_game(f"{name}(gamma=0.9)").shape == (2, 2)
    rps = sp.load_game("iterated(stage=matrix_rps,gamma=0.5)")         # any action counts
    assert rps.shape == (3, 3) and rps.num_states == 10


def test_all_cooperate_and_all_defect_values_in_closed_form():
    with jax.enable_x64(True):
        g = sp.load_game("ipd").as_float64()
        sure = 30.0 * jnp.array([[1.0, -1.0]] * 5)                   # always C
        assert np.asarray(g.average_rewards((sure, sure))) == pytest.approx([-1, -1], abs=1e-9)
        assert np.asarray(g.values((sure, -sure))) == pytest.approx([-3 / 0.04, 0.0], abs=1e-9)


@pytest.mark.parametrize("stage", ["prisoners_dilemma", "matrix_rps"])
def test_exact_values_match_jax_and_pyspiel_monte_carlo(stage):
    """Exact discounted values against sampled play of the JAX environment and of the
    pyspiel repeated game, within three standard errors."""
    with jax.enable_x64(True):
        g = iterated_game(sp.load_game(stage), 0.8).as_float64()
        params = g.init_params(jax.random.PRNGKey(2))
        exact = np.asarray(g.values(params))
        first = agents.Agent("memory_one", params[0])
        second = agents.Agent("memory_one", params[1], player=1)
        out = agents.play(g, first, second, episodes=20000, horizon=80, seed=1)
        mean, err = out["sampled"]["mean"], out["sampled"]["stderr"]
        assert np.all(np.abs(mean - out["exact"]) <= 3 * err + 1e-6), (mean, out["exact"], err)
        assert out["exact"] == pytest.approx((1 - 0.8) * exact)
        # the pyspiel twin, played with the same policies (numpy sampling)
        p1, p2 = (np.asarray(jax.nn.softmax(p, axis=-1)) for p in params)
    game = g.to_openspiel(60)
    rng = np.random.default_rng(0)
    returns = []
    for _ in range(3000):
        state, s, total, disc = game.new_initial_state(), 0, np.zeros(2), 1.0
        while not state.is_terminal():
            a = [rng.choice(len(p1[s]), p=p1[s]), rng.choice(len(p2[s]), p=p2[s])]
            state.apply_actions(a)
            total += disc * np.asarray(state.rewards())
            disc *= 0.8
            s = 1 + a[0] * g.shape[1] + a[1]
        returns.append(total)
    returns = np.asarray(returns)
    err = returns.std(axis=0) / np.sqrt(len(returns))
    assert np.all(np.abs(returns.mean(axis=0) - exact) <= 3 * err + 1e-4)


def test_environment_and_pyspiel_twin_agree_on_trajectories():
    g = sp.load_game("ichicken")
    env = g.environment(12)
    game = g.to_openspiel(12)
    rng = np.random.default_rng(3)
    actions = rng.integers(0, 2, size=(12, 2))
    state, obs = env.reset(jax.random.PRNGKey(0))
    ostate = game.new_initial_state()
    for t, a in enumerate(actions):
        state, obs, rewards, done = env.step(state, jnp.asarray(a), jax.random.PRNGKey(t))
        ostate.apply_actions([int(x) for x in a])
        np.testing.assert_allclose(np.asarray(rewards), ostate.rewards())
        assert int(obs) == 1 + 2 * a[0] + a[1]
        assert bool(done) == ostate.is_terminal()


# -- the LOLA update ----------------------------------------------------------------------

def test_lola_update_matches_float64_finite_differences():
    """C.1: grad_1 V_1 + eta (grad_2 V_1)^T grad_1 grad_2 V_2, by central differences only."""
    from spielplatz_lola.updates import lola_gradient

    with jax.enable_x64(True):
        g = sp.load_game("ipd").as_float64()
        a, b = (np.asarray(x, float) for x in g.init_params(jax.random.PRNGKey(5)))

        def V(x, y):
            return np.asarray(g.values((jnp.asarray(x), jnp.asarray(y))), float)

        def fd_grad(f, x, h=1e-6):
            out = np.zeros_like(x)
            for idx in np.ndindex(x.shape):
                e = np.zeros_like(x)
                e[idx] = h
                out[idx] = (f(x + e) - f(x - e)) / (2 * h)
            return out

        h = 1e-3
        mixed = np.zeros(a.shape + b.shape)
        for i in np.ndindex(a.shape):
            for j in np.ndindex(b.shape):
                ei, ej = np.zeros_like(a), np.zeros_like(b)
                ei[i], ej[j] = h, h
                mixed[i + j] = (V(a + ei, b + ej)[1] - V(a + ei, b - ej)[1]
                                - V(a - ei, b + ej)[1] + V(a - ei, b - ej)[1]) / (4 * h * h)
        for eta in (0.0, 1.0, 3.0):
            fd = fd_grad(lambda x: V(x, b)[0], a) + eta * np.einsum(
                "ijkl,kl->ij", mixed, fd_grad(lambda y: V(a, y)[0], b))
            ad = np.asarray(lola_gradient(g, 0, jnp.asarray(a), jnp.asarray(b), eta))
            np.testing.assert_allclose(ad, fd, atol=1e-6)


def test_k_step_lookahead_moves_the_opponent_k_times():
    from spielplatz_lola.updates import lookahead_gradient, lookahead_path, naive_gradient

    with jax.enable_x64(True):
        g = sp.load_game("ipd").as_float64()
        a, b = g.init_params(jax.random.PRNGKey(1))
        for k in (1, 2, 3):
            path = lookahead_path(g, 0, a, b, 0.5, k)
            assert len(path) == k + 1
            manual = b
            for step in range(k):                        # k distinct naive steps of player 2
                manual = manual + 0.5 * naive_gradient(g, 1, manual, a)
                np.testing.assert_allclose(np.asarray(path[step + 1]), np.asarray(manual),
                                           atol=1e-12)
                assert np.abs(np.asarray(path[step + 1]) - np.asarray(path[step])).max() > 1e-6
        grads = [np.asarray(lookahead_gradient(g, 0, a, b, 0.5, k)) for k in (1, 2, 3)]
        assert np.abs(grads[1] - grads[0]).max() > 1e-6 and np.abs(grads[2] - grads[1]).max() > 1e-6


# -- the paper's results (CI sizes) ----------------------------------------------------

def _final(run, key):
    return np.asarray(run.metrics[key])[:, -1]


def test_ipd_naive_defects_and_lola_finds_tit_for_tat():
    naive = sp.learn("ipd", "naive", steps=2000, seeds=range(10))
    lola = sp.learn("ipd", "lola", steps=2000, seeds=range(10))
    assert np.median(_final(naive, "reward_1")) <= -1.8
    assert np.median(_final(naive, "reward_2")) <= -1.8
    assert np.median(_final(lola, "reward_1")) >= -1.2
    assert np.median(_final(lola, "reward_2")) >= -1.2
    # tit-for-tat: cooperate first and after CC and after the opponent's C, defect after D
    p1 = np.median(_final(lola, "policy_1")[:, :, 0], axis=0)       # start, CC, CD, DC, DD
    p2 = np.median(_final(lola, "policy_2")[:, :, 0], axis=0)
    assert p1[0] > 0.9 and p1[1] > 0.9 and p1[2] < 0.1 and p1[3] > 0.9 and p1[4] < 0.1
    assert p2[0] > 0.9 and p2[1] > 0.9 and p2[2] > 0.9 and p2[3] < 0.1 and p2[4] < 0.1


def test_matching_pennies_lola_converges_and_naive_cycles():
    lola = sp.learn("imp", "lola", steps=2000, seeds=range(8))
    naive = sp.learn("imp", "naive", steps=2000, seeds=range(8))
    lola_dev = np.abs(_final(lola, "policy_1")[:, :, 0] - 0.5).max()
    assert lola_dev < 0.1
    # naive learners keep moving: over the last quarter their policies swing far from 0.5
    last = np.asarray(naive.metrics["policy_1"])[:, -25:, :, 0]
    assert np.abs(last - 0.5).max() > 0.3
    assert np.median(last.std(axis=1)) > 0.01                   # and they do not settle


def test_iasymbos_outcomes_differ_and_cross_play_fails(tmp_path):
    """Figure 4: LOLA self-play reaches several Pareto-optimal outcomes; agents from runs
    with different outcomes, played against each other, score below their self-play."""
    run = sp.learn("iasymbos", "lola", steps=2000, seeds=range(20))
    self_play = np.stack([_final(run, "reward_1"), _final(run, "reward_2")], axis=1)
    # Pareto frontier of conv{(4,1),(2,2),(0,0)}: the segment x + 2y = 6 between them
    on_frontier = np.abs(self_play[:, 0] + 2 * self_play[:, 1] - 6) < 0.05
    outcomes = {tuple(np.round(p, 1)) for p in self_play[on_frontier]}
    assert on_frontier.mean() >= 0.8 and len(outcomes) >= 2
    i = int(np.argmax(self_play[:, 0]))                      # most utilitarian seed (4, 1)
    j = int(np.argmax(self_play[:, 1]))                      # most egalitarian seed (2, 2)
    assert self_play[i, 0] > self_play[j, 0] + 1 and self_play[j, 1] > self_play[i, 1] + 0.5
    cross = sp.play("iasymbos", run, run, seed_first=i, seed_second=j)["exact"]
    assert cross[0] < self_play[i, 0] - 0.5 and cross[1] < self_play[j, 1] - 0.5
    # the same through saved runs and the command line
    out = tmp_path / "runs"
    learned = _run_cli("learn", "iasymbos", "--learner", "lola", "--seeds", "20", "--steps",
                       "2000", "--out", str(out), "--json")
    assert learned.returncode == 0, learned.stderr
    loaded = sp.load_run(out)
    np.testing.assert_allclose(loaded.agents["players"][0], run.agents["players"][0],
                               atol=1e-9)
    played = _run_cli("play", "iasymbos", str(out), str(out), "--seed-first", str(i),
                      "--seed-second", str(j), "--json")
    assert played.returncode == 0, played.stderr
    pair = json.loads(played.stdout)["pairs"][0]
    np.testing.assert_allclose(pair["rewards"], cross, atol=1e-6)
    matrix = json.loads(_run_cli("play", "iasymbos", str(out), str(out), "--json").stdout)
    rewards = np.array([p["rewards"] for p in matrix["pairs"]]).reshape(20, 20, 2)
    diagonal = rewards[np.arange(20), np.arange(20)].sum(axis=1)
    off = rewards[~np.eye(20, dtype=bool)].sum(axis=1)
    assert off.mean() < diagonal.mean() - 0.5
    # one seed index: its row (or column) of the matrix, not a pair with seed 0
    row = json.loads(_run_cli("play", "iasymbos", str(out), str(out), "--seed-first", str(i),
                              "--json").stdout)
    assert [p["second_seed"] for p in row["pairs"]] == list(range(20))
    np.testing.assert_allclose([p["rewards"] for p in row["pairs"]], rewards[i], atol=1e-12)
    col = json.loads(_run_cli("play", "iasymbos", str(out), str(out), "--seed-second", str(j),
                              "--json").stdout)
    np.testing.assert_allclose([p["rewards"] for p in col["pairs"]], rewards[:, j], atol=1e-12)


def test_lola_against_naive_and_the_learn_command(tmp_path):
    run = sp.learn("ipd", "lola", steps=300, seeds=range(3), opponent="naive")
    assert run.config["players"] == ["lola", "naive"]
    assert run.agents["learners"] == ["lola", "naive"]
    result = _run_cli("learn", "ipd", "--learner", "lola,naive", "--seeds", "3", "--steps",
                      "200", "--json", "--plot", str(tmp_path / "ipd.png"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [r["learner"] for r in data["runs"]] == ["lola", "naive"]
    summary = data["runs"][0]["state_policies"]
    assert summary["states"] == ["start", "CC", "CD", "DC", "DD"]
    assert len(summary["players"]) == 2 and len(summary["players"][0]) == 5
    assert (tmp_path / "ipd.png").read_bytes()[:4] == b"\x89PNG"
    table = _run_cli("learn", "ipd", "--seeds", "2", "--steps", "50")
    assert table.returncode == 0, table.stderr                 # lola is ipd's default learner
    assert "reward 1" in table.stdout and "P(first action | state)" in table.stdout


# -- LOLA-DiCE ------------------------------------------------------------------------

def _state_values(g, params, player):
    """Exact value-to-go of each memory-one state (start first), for a perfect baseline."""
    p1, p2 = g.policies(params)
    a1, a2 = g.shape
    joint = (p1[:, :, None] * p2[:, None, :]).reshape(g.num_states, a1 * a2)
    r = g.payoffs[player].reshape(-1)
    after = jnp.linalg.solve(jnp.eye(a1 * a2) - g.gamma * joint[1:], joint[1:] @ r)
    return jnp.concatenate([(joint[0] @ (r + g.gamma * after))[None], after])


def test_dice_gradient_approaches_the_exact_gradient_with_the_batch():
    """Cosine similarity of the DiCE policy gradient to the exact gradient, by batch size
    (mean over 4 draws each), without a baseline and with the exact state values as the
    baseline; reported. The estimator is unbiased (the mean of all draws points along the
    exact gradient) and the baseline removes most of its variance."""
    from spielplatz_lola.dice import dice_objective, rollout

    with jax.enable_x64(True):
        g = sp.load_game("ipd").as_float64()
        params = g.init_params(jax.random.PRNGKey(3))
        exact = jax.grad(lambda a: g.values((a, params[1]))[0])(params[0])
        values = _state_values(g, params, 0)
        env = g.environment(120)

        def cosine(x):
            return float(jnp.vdot(x, exact) / jnp.linalg.norm(x) / jnp.linalg.norm(exact))

        report, every = {}, []
        for batch in (8, 128, 2048):
            plain, based = [], []
            for draw in range(4):
                traj = rollout(env, params, jax.random.PRNGKey(100 * batch + draw), batch)
                for out, baseline in ((plain, None), (based, values)):
                    est = jax.grad(lambda a: dice_objective(traj, (a, params[1]), 0, g.gamma,
                                                            baseline))(params[0])
                    out.append(cosine(est))
                    if baseline is None and batch == 2048:
                        every.append(est)
            report[batch] = {"no baseline": round(float(np.mean(plain)), 3),
                             "baseline": round(float(np.mean(based)), 3)}
        unbiased = cosine(sum(every) / len(every))
    print("DiCE gradient cosine to the exact gradient by batch size:", report)
    assert unbiased > 0.8
    assert report[2048]["baseline"] > 0.95 and report[2048]["baseline"] > report[8]["baseline"]
    assert report[2048]["baseline"] > report[2048]["no baseline"]


def test_lola_dice_trains_in_a_small_run():
    run = sp.learn("ipd(init_scale=0)", "lola_dice", steps=3, seeds=range(2), batch=16,
                   horizon=20, records=3)
    assert run.metrics["reward_1"].shape == (2, 4) and np.all(np.isfinite(run.metrics["reward_1"]))
    assert run.agents["players"][0].shape == (2, 5, 2)
    start = np.asarray(run.metrics["policy_1"])[:, 0]
    assert np.allclose(start, 0.5)                             # zero logits at the start
    assert np.abs(np.asarray(run.metrics["policy_1"])[:, -1] - 0.5).max() > 1e-4


# -- bad input: one clear line each ----------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["learn", "chicken", "--learner", "lola", "--steps", "5"], "does not train normal_form"),
    (["learn", "ipd(gamma=1.5)", "--learner", "lola", "--steps", "5"], "gamma must be in (0, 1)"),
    (["learn", "ipd(gamma=0)", "--learner", "naive", "--steps", "5"], "gamma must be in (0, 1)"),
    (["learn", "ipd", "--learner", "lola", "--steps", "5", "-o", "lookahed=2"],
     "did you mean 'lookahead'"),
])
def test_bad_learner_input_is_one_line(args, message):
    result = _run_cli(*args)
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_iterated_game_needs_a_two_player_stage(tmp_path):
    path = tmp_path / "three.json"
    path.write_text(json.dumps({"payoffs": np.zeros((3, 2, 2, 2)).tolist()}))
    with pytest.raises(sp.GameError, match="needs a 2-player stage game"):
        sp.load_game(f"iterated(stage={path})")


def test_corrupt_or_foreign_saved_runs_are_refused(tmp_path):
    (tmp_path / "a_run.json").write_text("{not json")
    with pytest.raises(sp.SpielplatzError, match="invalid JSON"):
        sp.load_run(tmp_path / "a_run.json")
    (tmp_path / "b_run.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(sp.SpielplatzError, match="not a Spielplatz run"):
        sp.load_run(tmp_path / "b_run.json")
    run = sp.learn("ipd", "naive", steps=10, seeds=range(2), records=2)
    data = run.to_dict()
    data["agents"]["players"][0] = data["agents"]["players"][0][:1]     # one seed short
    (tmp_path / "c_run.json").write_text(json.dumps(data))
    with pytest.raises(sp.SpielplatzError, match="parameters for 1 seeds, the run has 2"):
        sp.load_run(tmp_path / "c_run.json")
    data["agents"] = {"kind": "transformer", "players": []}
    (tmp_path / "d_run.json").write_text(json.dumps(data))
    with pytest.raises(sp.SpielplatzError, match="unknown agent kind 'transformer'"):
        sp.load_run(tmp_path / "d_run.json")
    result = _run_cli("play", "ipd", str(tmp_path / "b_run.json"), str(tmp_path / "b_run.json"))
    assert result.returncode == 1 and "not a Spielplatz run" in result.stderr


@pytest.mark.slow
def test_lola_dice_cooperates_in_the_ipd():
    """LOLA-DiCE on sampled episodes (batch 128, horizon 150, look-ahead 3, zero initial
    logits, learned baseline), 10 seeds x 300 updates: median average reward per step of
    both players at least -1.3 (the LOLA authors' DiCE runs end at -1.09 to -1.19)."""
    run = sp.learn("ipd", "lola_dice", steps=300, seeds=range(10), records=10)
    rewards = np.concatenate([_final(run, "reward_1"), _final(run, "reward_2")])
    print("LOLA-DiCE IPD final rewards:", np.round(rewards, 3), "median", np.median(rewards))
    assert np.median(rewards) >= -1.3
