"""The Coin Game family (games/spielplatz_coins, docs/games.md).

* Parity: the JAX environment and its pyspiel twin ``spielplatz_coin_game`` give identical
  trajectories (cells, coins, colours, rewards, counts, both players' observations) when
  the pyspiel chance nodes take the JAX environment's chance events, for every named game
  and tie rule (and the other rules); every such event is a legal chance outcome.
* Symmetry: exchanging seats and colours (mirrored actions and chance events; ``abcg``'s
  cooperation rewards exchanged) exchanges returns, counts and views exactly.
* Numbers: random play takes its own coins half the time (3 standard errors); coin
  placement is uniform; moves wrap on a torus and stop at walls; the rewards of a
  stolen, a shared and a cooperation coin.
* Errors: bad rules and too-small grids are one line, also through the command line.
"""

from __future__ import annotations

import json

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner

import spielplatz as sp
from spielplatz.errors import GameError
from spielplatz.learning.games import JaxEnvironmentGame, game_kinds

NAMED = ("coins", "d3c_coins", "abcg")


def load(spec: str):
    return sp.load_game(spec)


#: Compile fast (about 2.5x) rather than run fast: the tests' scans are short.
FAST_COMPILE = {"xla_backend_optimization_level": 0}


def jit(fun, **kwargs):
    return jax.jit(fun, compiler_options=FAST_COMPILE, **kwargs)


@functools.lru_cache(maxsize=None)
def _scan_fn(game):
    """A jitted ``(s0, actions [T, 2], noises [T]) -> (states, rewards, obs)``."""

    def scan(s0, actions, noises):
        def body(state, x):
            new, rewards = game.transition(state, x[0], x[1])
            return new, (new, rewards, game.observe(new))

        return jax.lax.scan(body, s0, (actions, noises))[1]

    return jit(scan)


@functools.lru_cache(maxsize=None)
def _draw_fn(game, steps):
    """A jitted ``key -> (reset noise, s0, actions [T, 2], step noises [T])``."""

    def draw(key):
        k_reset, k_act, k_steps = jax.random.split(key, 3)
        noise0 = game.reset_noise(k_reset)
        actions = jax.random.randint(k_act, (steps, 2), 0, game.num_actions)
        noises = jax.vmap(game.step_noise)(jax.random.split(k_steps, steps))
        s0 = game.initial_state(noise0)
        return noise0, s0, actions, noises, game.observe(s0)

    return jit(draw)


def rollout(game, seed: int, steps: int) -> tuple:
    """Random actions and chance: ``(noise0, s0, actions, states, rewards, obs, noises,
    obs0)`` as numpy arrays."""
    noise0, s0, actions, noises, obs0 = _draw_fn(game, steps)(jax.random.PRNGKey(seed))
    states, rewards, obs = _scan_fn(game)(s0, actions, noises)
    return jax.tree_util.tree_map(np.asarray, (noise0, s0, actions, states, rewards, obs,
                                               noises, obs0))


def _pick(tree, t):
    return jax.tree_util.tree_map(lambda x: x[t], tree)


def replay_in_openspiel(game, seed: int, steps: int | None = None) -> dict:
    """Play the JAX trajectory of ``seed`` in the pyspiel twin and compare every step."""
    steps = steps or game.horizon
    noise0, s0, actions, states, rewards, obs, noises, obs0 = rollout(game, seed, steps)
    og = game.to_openspiel()
    none = game.rules.num_cells
    st = og.new_initial_state()
    seen = {"tie": 0, "place": 0, "spawn": 0, "cell": 0, "contested": 0}

    def feed(target, flip):
        while st.is_chance_node():
            kind, *rest = st.pending_chance()
            if kind == "start":
                outcome = int(target.players[rest[0]])
            elif kind == "colour":
                outcome = int(target.colour)
            elif kind == "tie":
                outcome = int(flip)
            elif kind == "place":
                outcome = int(target.coins[rest[0]])
            elif kind == "cell":                  # what a free cell grew (coins=cells)
                outcome = (1 if target.live[rest[0]] else
                           2 if target.live[none + rest[0]] else 0)
            else:
                outcome = int(target.coins[rest[0]]) if target.live[rest[0]] else none
            seen[kind] = seen.get(kind, 0) + 1
            legal = dict(st.chance_outcomes())
            assert abs(sum(legal.values()) - 1.0) < 1e-9
            assert legal.get(outcome, 0.0) > 0.0, (kind, rest, outcome, legal, str(st))
            st.apply_action(outcome)

    def compare(target, t, final):
        assert st.players == [int(c) for c in target.players], t
        assert st.t == int(target.t)
        np.testing.assert_array_equal(st.counts, np.asarray(target.counts))
        if not final:
            assert st.live == [bool(x) for x in target.live], t
            assert st.coins == [int(c) for c in target.coins], t
            assert st.colour == int(target.colour), t

    feed(_pick(s0, ()), False)
    compare(_pick(s0, ()), -1, False)
    for p in range(2):
        view = np.asarray(st.observation_tensor(p)).reshape(game.observation_shape)
        np.testing.assert_array_equal(view, obs0[p])
    for t in range(steps):
        before = _pick(states, t - 1) if t else _pick(s0, ())
        target = _pick(states, t)
        st.apply_actions([int(a) for a in np.asarray(actions[t])])
        if (target.players[0] == target.players[1]
                and any(alive and c == target.players[0]
                        for c, alive in zip(before.coins, before.live))):
            seen["contested"] += 1
        feed(target, np.asarray(noises.flip[t]))
        final = t == steps - 1 and steps == game.horizon
        compare(target, t, final)
        assert st.rewards() == [float(x) for x in np.asarray(rewards[t])], t
        if not final:
            for p in range(2):
                view = np.asarray(st.observation_tensor(p)).reshape(game.observation_shape)
                np.testing.assert_array_equal(view, np.asarray(obs[t])[p], err_msg=f"t={t}")
    assert st.is_terminal() == (steps == game.horizon)
    np.testing.assert_array_equal(st.returns(), np.asarray(rewards).sum(0))
    return seen


# -- the protocol and the registry -----------------------------------------------------

@pytest.mark.parametrize("name", NAMED + ("coin_game_family",))
def test_named_games_are_jax_environment_games(name):
    game = load(name)
    assert "jax_environment" in game_kinds(game)
    assert isinstance(game, JaxEnvironmentGame)
    assert game.name == name and game.num_players == 2
    state, obs = jit(game.reset)(jax.random.PRNGKey(0))
    assert obs.shape == (2,) + game.observation_shape and obs.dtype == jnp.float32
    state, obs, rewards, done = jit(game.step)(state, jnp.zeros(2, jnp.int32),
                                               jax.random.PRNGKey(1))
    assert rewards.shape == (2,) and rewards.dtype == jnp.float32 and done.dtype == jnp.bool_
    metrics = game.metrics(state)
    assert {"own_coins", "other_coins"} <= set(metrics)
    assert all(v.shape == (2,) for v in metrics.values())
    og = game.to_openspiel()
    assert og.get_type().short_name == "spielplatz_coin_game"
    assert og.num_distinct_actions() == game.num_actions


def test_named_game_settings():
    coins, d3c, abcg = (load(n).rules for n in NAMED)
    assert (coins.grid, coins.boundary, coins.stay, coins.coins, coins.tie, coins.horizon) == (
        3, "torus", False, "one", "both", 100)
    assert (d3c.grid, d3c.boundary, d3c.stay, d3c.coins, d3c.p, d3c.horizon) == (
        5, "walls", True, "cells", 0.005, 500)
    assert (abcg.variant, abcg.grid, abcg.coop_red, abcg.coop_blue, abcg.disagreement) == (
        "abcg", 3, 2.0, 3.0, 1.0)
    game = load("coins(grid=4,tie=random)")
    assert game.name == "coins(grid=4,tie=random)" and game.observation_shape == (4, 4, 4)
    assert load("coins(grid=3,tie=both)").name == "coins"
    assert load("coin_game_family(stay=true)").num_actions == 5
    assert load("abcg").observation_shape == (5, 3, 3)


# -- parity with the pyspiel twin -----------------------------------------------------------

#: Each named game with each tie rule, the other rules varied along the way.
PARITY = ["coins(tie=both)", "coins(tie=random,egocentric=true)",
          "d3c_coins(tie=both)", "d3c_coins(tie=random,p=0.3,grid=4)",
          "d3c_coins(coins=spawn,tie=random,p=0.3,grid=4)",
          "abcg(tie=both)", "abcg(tie=random,egocentric=true,stay=true)"]
#: More rule combinations (``-m slow``).
PARITY_MORE = ["coins(boundary=walls,stay=true,tie=random)", "coins(egocentric=true,grid=4)",
               "coin_game_family(coins=spawn,p=1,stay=true,egocentric=true,tie=random)",
               "coin_game_family(coins=cells,p=0.5,egocentric=true,tie=random,grid=4)",
               "abcg(boundary=walls,grid=4)", "d3c_coins"]


def _parity(spec: str, seeds: int, steps: int) -> dict:
    game = load(spec)
    seen = {}
    for seed in range(seeds):
        for k, v in replay_in_openspiel(game, seed, min(game.horizon, steps)).items():
            seen[k] = seen.get(k, 0) + v
    assert seen.get("place", 0) + seen.get("spawn", 0) + seen.get("cell", 0) > 3
    if game.rules.tie == "random" and not game.rules.abcg and game.rules.coins == "one":
        assert seen["tie"] == seen["contested"]
    return seen


@pytest.mark.parametrize("spec", PARITY)
def test_jax_and_openspiel_trajectories_are_identical(spec):
    seen = _parity(spec, seeds=2, steps=150)
    if spec.startswith("coins"):                           # ties happened and were resolved
        assert seen["contested"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("spec", PARITY + PARITY_MORE)
def test_jax_and_openspiel_trajectories_are_identical_long(spec):
    _parity(spec, seeds=10, steps=500)


def test_full_episodes_end_together():
    game = load("coins(tie=random,egocentric=true,horizon=40)")
    for seed in range(3):
        replay_in_openspiel(game, seed)


def test_openspiel_game_plays_with_its_own_chance():
    og = load("abcg").to_openspiel()
    rng = np.random.default_rng(0)
    state = og.new_initial_state()
    while not state.is_terminal():
        if state.is_chance_node():
            outcomes, probs = zip(*state.chance_outcomes())
            state.apply_action(int(rng.choice(outcomes, p=probs)))
        else:
            state.apply_actions(list(rng.integers(0, 4, 2)))
    assert state.t == 100 and len(str(state).splitlines()) == 4
    from open_spiel.python import rl_environment

    env = rl_environment.Environment(load("coins(horizon=20)").to_openspiel())
    env.seed(0)
    step, total = env.reset(), np.zeros(2)
    assert len(step.observations["info_state"][0]) == 36          # the [4, 3, 3] view
    while not step.last():
        step = env.step([int(a) for a in rng.integers(0, 4, 2)])
        total += step.rewards
    np.testing.assert_array_equal(total, env.get_state.returns())
    import pyspiel

    assert pyspiel.load_game("spielplatz_coin_game(grid=4,tie=random)").max_chance_outcomes() == 17


# -- seat and colour symmetry ---------------------------------------------------------------

def _mirror_noise(game, noise):
    if game.rules.coins == "cells":            # a red growth <-> a blue growth
        p, u = np.float32(game.rules.p), np.asarray(noise.spawn)
        spawn = np.where(u < p, u + p, np.where(u < 2 * p, u - p, u))
        assert ((u < p) == ((spawn >= p) & (spawn < 2 * p))).all()
        return dataclasses.replace(noise, flip=~noise.flip, spawn=spawn,
                                   start=None if noise.start is None
                                   else noise.start[..., ::-1, :])
    spawn = game.rules.coins == "spawn"
    flip = lambda x: x[..., ::-1, :] if spawn else x                      # noqa: E731
    return dataclasses.replace(
        noise, flip=~noise.flip, spawn=noise.spawn[..., ::-1] if spawn else noise.spawn,
        rank=flip(noise.rank),
        start=None if noise.start is None else noise.start[..., ::-1, :])


@pytest.mark.parametrize("spec", ["coins(tie=random,egocentric=true)",
                                  "d3c_coins(tie=random,p=0.3,grid=4)",
                                  "d3c_coins(coins=spawn,tie=random,p=0.3,grid=4)",
                                  "abcg(tie=both)"])
def test_swapping_seats_and_colours_swaps_returns_exactly(spec):
    from spielplatz_coins.env import CoinGame

    game = load(spec)
    mirror = CoinGame(rules=game.rules.mirrored(), name=game.name)   # the same for classic
    noise0, s0, actions, states, rewards, obs, noises, _ = rollout(game, 7, 150)
    m0 = mirror.initial_state(_mirror_noise(game, noise0))
    m_states, m_rewards, m_obs = jax.tree_util.tree_map(np.asarray, _scan_fn(mirror)(
        m0, actions[:, ::-1], _mirror_noise(game, noises)))
    np.testing.assert_array_equal(m_rewards, rewards[:, ::-1])
    np.testing.assert_array_equal(m_obs, obs[:, ::-1])
    np.testing.assert_array_equal(m_states.players, states.players[:, ::-1])
    np.testing.assert_array_equal(m_states.counts, states.counts[:, ::-1])
    if game.rules.coins == "cells":                     # red slots <-> blue slots
        cells = game.rules.num_cells
        np.testing.assert_array_equal(m_states.live, np.roll(states.live, cells, axis=1))
    elif game.rules.coins == "spawn":
        np.testing.assert_array_equal(m_states.coins, states.coins[:, ::-1])
        np.testing.assert_array_equal(m_states.live, states.live[:, ::-1])
    else:
        np.testing.assert_array_equal(m_states.coins, states.coins)
        np.testing.assert_array_equal(m_states.colour, 1 - states.colour)
    assert np.abs(rewards).sum() > 0 and (rewards[:, 0] != rewards[:, 1]).any()


# -- numbers ----------------------------------------------------------------------------------

def _random_play(game, envs: int, seed: int = 0):
    def episode(key):
        k_reset, k_steps = jax.random.split(key)
        state, _ = game.reset(k_reset)

        def body(state, key):
            k_act, k_env = jax.random.split(key)
            actions = jax.random.randint(k_act, (2,), 0, game.num_actions)
            state, _, rewards, _ = game.step(state, actions, k_env)
            return state, rewards

        state, rewards = jax.lax.scan(body, state, jax.random.split(k_steps, game.horizon))
        return game.metrics(state), rewards.sum(0)

    return jit(jax.vmap(episode))(jax.random.split(jax.random.PRNGKey(seed), envs))


@pytest.mark.parametrize("spec, envs", [("coins", 2000), ("coins(tie=random,stay=true)", 2000),
                                        ("d3c_coins(coins=spawn,p=0.05)", 400),
                                        ("d3c_coins", 400)])
def test_random_play_takes_own_coins_half_the_time(spec, envs):
    metrics, returns = _random_play(load(spec), envs)
    own = np.asarray(metrics["own_coins"]).sum(1).astype(float)
    other = np.asarray(metrics["other_coins"]).sum(1).astype(float)
    total = own + other
    rate = own.sum() / total.sum()
    se = np.std(own - other, ddof=1) / np.sqrt(envs) / (2 * total.mean())
    assert abs(rate - 0.5) < 3 * se, (rate, se)
    assert total.mean() > 5
    # every pick-up is +1 to its taker, every stolen coin -2 to its owner
    picks = np.asarray(metrics["own_coins"]) + np.asarray(metrics["other_coins"])
    np.testing.assert_allclose(np.asarray(returns), picks - 2 * np.asarray(metrics["other_coins"])[:, ::-1])


def test_coin_placement_is_uniform():
    from spielplatz_coins.env import _place

    allowed = jnp.array([True, False, True, True, False, True])
    ranks = jax.random.uniform(jax.random.PRNGKey(3), (24000, 2, 6))
    pairs = np.asarray(jit(jax.vmap(lambda r: _place(r, allowed, jnp.ones(2, bool))))(ranks))
    assert (pairs[:, 0] != pairs[:, 1]).all() and np.isin(pairs, [0, 2, 3, 5]).all()
    counts = np.unique(pairs[:, 0] * 6 + pairs[:, 1], return_counts=True)[1]
    assert len(counts) == 12 and np.abs(counts - 2000).max() < 5 * np.sqrt(2000)
    single = np.asarray(jit(jax.vmap(lambda r: _place(r[:1], allowed, jnp.ones(1, bool))))(
        ranks))
    assert np.abs(np.bincount(single[:, 0], minlength=6)[[0, 2, 3, 5]] - 6000).max() < 5 * 75


def _state(game, players, coins, live, colour=0):
    from spielplatz_coins.env import CoinState

    return CoinState(players=jnp.array(players, jnp.int32), coins=jnp.array(coins, jnp.int32),
                     live=jnp.array(live), colour=jnp.array(colour, jnp.int32),
                     t=jnp.zeros((), jnp.int32), counts=jnp.zeros((2, 4), jnp.int32))


@pytest.mark.parametrize("boundary, expected", [
    ("torus", {"up": 6, "down": 3, "left": 2, "right": 1, "stay": 0}),
    ("walls", {"up": 0, "down": 3, "left": 0, "right": 1, "stay": 0})])
def test_moves_wrap_on_a_torus_and_stop_at_walls(boundary, expected):
    game = load(f"coin_game_family(boundary={boundary},stay=true)")
    move = jit(game.move)
    for a, name in enumerate(game.action_names):
        moved = move(jnp.array([0, 8], jnp.int32), jnp.array([a, a]))
        far = {"up": 5, "down": 2 if boundary == "torus" else 8, "left": 7,
               "right": 6 if boundary == "torus" else 8, "stay": 8}[name]
        assert [int(c) for c in moved] == [expected[name], far], name


@functools.lru_cache(maxsize=None)
def transition(game):
    return jit(game.transition)


def _noise(game):
    """No tie winner, no spawn, coins placed on the lowest free cells."""
    from spielplatz_coins.env import CoinNoise

    slots, cells = game.rules.num_slots, game.rules.num_cells
    return CoinNoise(flip=jnp.array(False), spawn=jnp.ones(slots),
                     rank=-jnp.arange(slots * cells, dtype=jnp.float32).reshape(slots, cells))


def test_rewards_of_a_stolen_and_a_shared_coin():
    game = load("coins")                                 # red's coin at cell 4 (the centre)
    stolen = transition(game)(_state(game, [0, 3], [4], [True]), jnp.array([0, 3]), _noise(game))
    assert stolen[1].tolist() == [-2.0, 1.0]                 # blue moved right onto it
    assert int(stolen[0].colour) == 1                        # the next coin is blue's
    shared = transition(game)(_state(game, [1, 3], [4], [True]), jnp.array([1, 3]), _noise(game))
    assert shared[1].tolist() == [-1.0, 1.0]                 # tie=both: +1 each, -2 to red
    assert np.asarray(shared[0].counts)[:, :2].tolist() == [[1, 0], [0, 1]]
    rnd = load("coins(tie=random)")
    for flip, expected in ((False, [1.0, 0.0]), (True, [-2.0, 1.0])):
        out = transition(rnd)(_state(rnd, [1, 3], [4], [True]), jnp.array([1, 3]),
                             _noise(rnd).replace(flip=jnp.array(flip)))
        assert out[1].tolist() == expected


def test_abcg_rewards():
    game = load("abcg")            # red's cooperation coin at 4, blue's disagreement coin at 8
    state = _state(game, [1, 3], [4, 8], [True, True], colour=0)
    alone = transition(game)(state, jnp.array([1, 0]), _noise(game))       # red alone on it
    assert alone[1].tolist() == [0.0, 0.0] and int(alone[0].colour) == 0
    together = transition(game)(state, jnp.array([1, 3]), _noise(game))
    assert together[1].tolist() == [2.0, 0.0] and int(together[0].colour) == 1
    assert game.metrics(together[0])["coop_coins"].tolist() == [1, 1]
    blue = _state(game, [7, 5], [4, 8], [True, True], colour=0)
    took = transition(game)(blue, jnp.array([1, 1]), _noise(game))       # blue down onto 8
    assert took[1].tolist() == [0.0, 1.0]
    assert game.metrics(took[0])["disagreement_coins"].tolist() == [0, 1]
    red_on_blues = transition(game)(_state(game, [5, 0], [4, 8], [True, True]),
                                   jnp.array([1, 0]), _noise(game))      # red onto blue's coin
    assert red_on_blues[1].tolist() == [0.0, 0.0] and bool(red_on_blues[0].live.all())
    blue_coop = transition(game)(_state(game, [1, 3], [4, 8], [True, True], colour=1),
                                jnp.array([1, 3]), _noise(game))
    assert blue_coop[1].tolist() == [0.0, 3.0]


def test_egocentric_view_centres_the_player():
    game = load("coins(egocentric=true,grid=5)")
    obs = np.asarray(jit(game.observe)(_state(game, [0, 24], [12], [True], colour=1)))
    assert obs[:, 0, 2, 2].tolist() == [1.0, 1.0]            # each sees itself at the centre
    assert obs[0, 1, 1, 1] == 1.0 and obs[1, 1, 3, 3] == 1.0  # the other one step diagonally
    assert obs[0, 3, 4, 4] == 1.0 and obs[1, 2, 0, 0] == 1.0  # blue's coin: other's / own


# -- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, message", [
    ("coins(tie=first)", "game 'coins(tie=first)': tie must be one of both, random, got 'first'"),
    ("coins(boundary=klein)", "boundary must be one of torus, walls"),
    ("coins(coins=many)", "coins must be one of one, spawn, cells"),
    ("d3c_coins(p=0.6)", "coins=cells grows a red coin with probability p and a blue one "
                         "with probability p on each free cell, so p must be at most 0.5"),
    ("coins(grid=1)", "grid 1 is too small: 2 players and 1 coin need 3 cells (grid >= 2)"),
    ("coin_game_family(variant=abcg,grid=1)", "2 players and 2 coins need 4 cells"),
    ("coins(boundary=walls,egocentric=true)", "egocentric observations need boundary=torus"),
    ("coin_game_family(variant=abcg,coins=spawn)", "coins=spawn is not defined for it"),
    ("coin_game_family(variant=bargain)", "variant must be one of classic, abcg"),
    ("d3c_coins(p=1.5)", "p (the spawn probability per coin and step) must be in (0, 1]"),
    ("coins(horizon=0)", "horizon must be an integer >= 1"),
    ("coins(stay=maybe)", "stay must be true or false"),
    ("abcg(coins=spawn)", "game 'abcg' has no parameter 'coins'"),
    ("coin_game", "'coin_game' is OpenSpiel's coin_game, a different game"),
])
def test_bad_rules_are_one_clear_line(spec, message):
    with pytest.raises(GameError) as info:
        load(spec)
    assert message in str(info.value) and "\n" not in str(info.value)
    from spielplatz.cli import cli

    result = CliRunner().invoke(cli, ["show", spec])
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_command_line_lists_and_shows():
    from spielplatz.cli import cli

    listing = CliRunner().invoke(cli, ["games", "--json"])
    assert listing.exit_code == 0
    for name in NAMED + ("coin_game_family", "coin_game"):
        assert f'"{name}"' in listing.output
    # not a payoff table: `show` prints the rules in effect
    shown = CliRunner().invoke(cli, ["show", "coin_game_family(grid=4,stay=true)", "--json"])
    assert shown.exit_code == 0, shown.output
    card = json.loads(shown.output)
    assert card["kind"] == "CoinGame" and card["normal_form"] is False
    assert card["parameters"]["grid"] == 4 and card["parameters"]["stay"] is True
    assert card["facts"]["num_actions"] == 5 and card["facts"]["horizon"] == 100
    assert card["facts"]["observation_shape"] == [4, 4, 4]
    nfg = CliRunner().invoke(cli, ["show", "coins", "--nfg"])
    assert nfg.exit_code == 1
    assert nfg.output.strip() == ("Error: --nfg needs a normal-form game; 'coins' is a "
                                  "CoinGame (spielplatz show coins prints its rules)")


def test_derived_metrics_give_the_own_coin_rate_through_the_game_protocol():
    """Learners read the own-coin rate from the game (``derived_metrics``), never compute
    it themselves: elementwise per player, over both with ``over_players``, NaN where no
    coin was taken, nothing for a game that declares none, and through a wrapper."""
    from spielplatz.learning import derived_metrics
    from spielplatz.learning.environments import InequityAverseRewards

    game = load("coins")
    totals = {"own_coins": np.array([[3.0, 1.0], [0.0, 0.0]]),
              "other_coins": np.array([[1.0, 1.0], [0.0, 2.0]]), "loss": np.array([0.1, 0.2])}
    per_player = derived_metrics(game, totals)["own_coin_rate"]
    np.testing.assert_allclose(per_player, [[0.75, 0.5], [np.nan, 0.0]])
    np.testing.assert_allclose(derived_metrics(game, totals, over_players=True)["own_coin_rate"],
                               [4 / 6, 0.0])
    np.testing.assert_allclose(
        derived_metrics(InequityAverseRewards(game), totals, over_players=True)["own_coin_rate"],
        [4 / 6, 0.0])
    assert derived_metrics(game, {"loss": np.ones(2)}) == {}          # not recorded
    assert derived_metrics(sp.load_game("ipd"), totals) == {}         # declares none
