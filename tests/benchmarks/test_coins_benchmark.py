"""Benchmark of the Coin Game environment against JaxMARL's Coin Game (same process, CPU).

Environment steps per second with uniformly random actions, 1000 environments at once
under ``jax.vmap``, 200 steps per compiled ``lax.scan`` call (compilation excluded; best of
3 calls). Rules matched as closely as the two allow: JaxMARL's game is a 3x3 torus, five
actions (with stay), a coin of each colour always on the board, respawned at once when
taken, both players take a coin they reach together; ours is
``coin_game_family(grid=3,stay=true,coins=spawn,p=1,tie=both)``. The differences that
remain: JaxMARL may respawn a coin under a player or on the other coin, ours never does;
its observations are flat ``int8`` ``[36]``, ours ``float32 [4, 3, 3]`` per player; both
episodes last 100 steps and reset automatically (ours by ``where(done, reset, state)``,
as the learners do; JaxMARL's ``step`` does it itself, ``num_outer_steps=1``). Also
recorded: our named ``coins`` (one coin) and ``d3c_coins``.

Run with ``.venv/bin/python -m pytest -m benchmark -s tests/benchmarks/test_coins_benchmark.py``;
numbers are printed (and written to ``$COINS_BENCHMARK_OUT`` as JSON when set) and recorded
by hand in docs/benchmarks.md. JaxMARL comes with the ``bench`` extra
(``pip install -e '.[bench]'``); without it the comparison is skipped with the reason.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import pytest

import spielplatz as sp
from recording import Recorder

pytestmark = pytest.mark.benchmark

_record = Recorder("COINS_BENCHMARK_OUT")

ENVS, STEPS, HORIZON = 1000, 200, 100
MATCHED = f"coin_game_family(grid=3,stay=true,coins=spawn,p=1,tie=both,horizon={HORIZON})"


def _best_of(fn, *args, repeats: int = 3) -> float:
    jax.block_until_ready(fn(*args))                      # compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return min(times)


def ours_steps_per_second(spec: str) -> float:
    game = sp.load_game(spec)
    reset, step = jax.vmap(game.reset), jax.vmap(game.step)

    @jax.jit
    def run(key):
        state, obs = reset(jax.random.split(key, ENVS))

        def body(carry, key):
            state, obs, total = carry
            k_act, k_step, k_reset = jax.random.split(key, 3)
            actions = jax.random.randint(k_act, (ENVS, 2), 0, game.num_actions)
            state, obs, rewards, done = step(state, actions, jax.random.split(k_step, ENVS))
            fresh, fresh_obs = reset(jax.random.split(k_reset, ENVS))
            pick = lambda a, b: jnp.where(                             # noqa: E731
                done.reshape(done.shape + (1,) * (a.ndim - 1)), a, b)
            state = jax.tree_util.tree_map(pick, fresh, state)
            return (state, pick(fresh_obs, obs), total + rewards.sum(0)), None

        return jax.lax.scan(body, (state, obs, jnp.zeros(2)),
                            jax.random.split(key, STEPS))[0][2]

    return ENVS * STEPS / _best_of(run, jax.random.PRNGKey(0))


def jaxmarl_steps_per_second() -> float:
    try:
        from jaxmarl.environments.coin_game.coin_game import CoinGame
    except Exception as exc:                  # noqa: BLE001 - any import failure is a skip
        pytest.skip(f"JaxMARL is not importable ({type(exc).__name__}: {exc}); "
                    f"pip install -e '.[bench]'")
    env = CoinGame(num_inner_steps=HORIZON, num_outer_steps=1, cnn=False, egocentric=False)
    reset = jax.vmap(env.reset)
    step = jax.vmap(env.step)

    @jax.jit
    def run(key):
        obs, state = reset(jax.random.split(key, ENVS))

        def body(carry, key):
            state, total = carry
            k_act, k_step = jax.random.split(key)
            actions = jax.random.randint(k_act, (ENVS, 2), 0, 5)
            obs, state, rewards, dones, _ = step(jax.random.split(k_step, ENVS), state,
                                                 {"0": actions[:, 0], "1": actions[:, 1]})
            return (state, total + jnp.stack([rewards["0"].sum(), rewards["1"].sum()])), None

        return jax.lax.scan(body, (state, jnp.zeros(2)), jax.random.split(key, STEPS))[0][1]

    return ENVS * STEPS / _best_of(run, jax.random.PRNGKey(0))


def test_named_games_steps_per_second():
    for spec in ("coins", "d3c_coins", "abcg"):
        rate = ours_steps_per_second(spec)
        _record(f"coins_{spec}", {"envs": ENVS, "steps": STEPS,
                                  "steps_per_second": round(rate)})
        assert rate > 1e5


def test_steps_per_second_against_jaxmarl():
    theirs = jaxmarl_steps_per_second()
    ours = ours_steps_per_second(MATCHED)
    _record("coins_vs_jaxmarl", {"envs": ENVS, "steps": STEPS, "game": MATCHED,
                                 "spielplatz_steps_per_second": round(ours),
                                 "jaxmarl_steps_per_second": round(theirs),
                                 "ratio": round(ours / theirs, 2)})
    assert ours > 0.25 * theirs               # same order of speed (measured ratio: docs)
