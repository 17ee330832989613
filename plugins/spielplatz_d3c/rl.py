"""D3C for reinforcement learning (D3C paper, Algorithms 1 and 2, Section 2.6).

Each agent ``i`` perturbs its mixing row, ``A~_i = softmax(log A_i + delta a~_i)``
with ``a~_i`` uniform on the unit sphere, commits to it for a random number
``tau ~ U{tau_min, ..., tau_max}`` of learner updates, and keeps the running
mean ``G`` of the returns it sees. When the trial ends it estimates
``rho~_i = ReLU((G_b - G) / tau + epsilon)`` (``G_b``: the previous trial's
mean) and moves *against* the perturbation if its return fell::

    A_i <- softmax([log A_i - eta_A (rho~_i a~_i - nu e_i / A_ii)]_l^h)

then draws the next trial. The learner inside (Algorithm 3) is REINFORCE
(:mod:`spielplatz_d3c.reinforce`), trained on rewards mixed with ``A~``.

Two trainers:

* :func:`make_jax_rl` - for games with a functional JAX simulator
  (``jax_reset``/``jax_observe``/``jax_step``, e.g. Trust-Your-Brother):
  episodes, updates and trials run inside ``jax.jit`` and seeds under
  ``jax.vmap``;
* :func:`run_environment` - for any :class:`~spielplatz.learning.games.RLEnvironment`
  (an ``open_spiel.python.rl_environment.Environment``): episodes are played
  in Python, updates are jitted; one seed after the other.

Design choice: the "return" an agent tracks for its trials is, by default,
the return of its *transformed* reward ``r~_i`` (the paper's rho is defined on
``f_i^A``, eq. 11; Algorithm 3 leaves it open); ``trial_return="own"`` uses
the original reward instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import mixing, reinforce

__all__ = ["RLConfig", "make_jax_rl", "run_environment", "trial_init", "trial_update"]


@dataclass(frozen=True)
class RLConfig:
    """Hyper-parameters of RL training (defaults: :mod:`spielplatz_d3c.defaults`)."""

    mode: str                  # "d3c", "selfish" or "cooperative"
    lr: float                  # REINFORCE learning rate
    lr_value: float            # TD learning rate of the baseline
    batch: int                 # episodes per update
    lr_mix: float              # eta_A
    delta: float               # perturbation size
    nu: float                  # KL coefficient
    tau_min: int
    tau_max: int
    a_ii: float
    epsilon: float
    logit_min: float
    logit_max: float
    trial_return: str = "mixed"
    init_scale: float = 0.0

    @property
    def reinforce(self) -> reinforce.ReinforceConfig:
        """The REINFORCE part of the configuration."""
        return reinforce.ReinforceConfig(self.lr, self.lr_value, self.init_scale)


def _initial_A(n: int, cfg: RLConfig) -> jax.Array:
    if cfg.mode == "d3c":
        return mixing.initial_mixing(n, cfg.a_ii)
    if cfg.mode == "selfish":
        return mixing.selfish_mixing(n)
    return mixing.cooperative_mixing(n)


def _new_trial(key: Any, A: jax.Array, cfg: RLConfig) -> tuple:
    """Algorithm 2 for every agent: direction, perturbed rows and trial length."""
    n = A.shape[0]
    k_dir, k_tau = jax.random.split(key)
    direction = mixing.unit_sphere(k_dir, (n, n))
    tau = jax.random.randint(k_tau, (n,), cfg.tau_min, cfg.tau_max + 1)
    return direction, mixing.perturb(A, direction, cfg.delta), tau


def trial_init(key: Any, n: int, cfg: RLConfig) -> dict:
    """Algorithm 1's initial state: ``A = A^0``, ``G = 0`` and a first trial at ``t = 0``."""
    A = _initial_A(n, cfg)
    if cfg.mode != "d3c":
        return {"A": A, "A_tilde": A}
    direction, A_tilde, tau = _new_trial(key, A, cfg)
    zeros = jnp.zeros(n)
    return {"A": A, "A_tilde": A_tilde, "direction": direction, "tau": tau,
            "t": jnp.int32(0), "t_b": jnp.zeros(n, jnp.int32), "G": zeros, "G_b": zeros}


def trial_update(state: dict, g: jax.Array, key: Any, cfg: RLConfig) -> dict:
    """One iteration of Algorithm 1's loop after the learner returned ``g`` ``[n]``."""
    if cfg.mode != "d3c":
        return state
    A = state["A"]
    t = state["t"] + 1
    elapsed = t - state["t_b"]                                    # Delta t_b
    G = (state["G"] * (elapsed - 1) + g) / elapsed                # running mean return
    done = elapsed == state["tau"]
    tau = state["tau"].astype(G.dtype)
    rho = jax.nn.relu((state["G_b"] - G) / tau + cfg.epsilon)     # approximate rho
    grad = rho[:, None] * state["direction"]
    if cfg.nu:
        grad = grad + cfg.nu * mixing.kl_gradient(A)              # - nu e_i / A_ii
    A_new = mixing.mirror_step(A, grad, cfg.lr_mix, cfg.logit_min, cfg.logit_max)
    direction, A_tilde, tau_new = _new_trial(key, A_new, cfg)
    rows = done[:, None]
    return {"A": jnp.where(rows, A_new, A),
            "A_tilde": jnp.where(rows, A_tilde, state["A_tilde"]),
            "direction": jnp.where(rows, direction, state["direction"]),
            "tau": jnp.where(done, tau_new, state["tau"]),
            "t": t, "t_b": jnp.where(done, t, state["t_b"]),
            "G": G, "G_b": jnp.where(done, G, state["G_b"])}


def _ratio(game: Any, total_return: jax.Array) -> dict:
    best = getattr(game, "optimal_total_return", None)
    if best is None or best >= 0:
        return {}
    return {"ratio_to_optimal": total_return / best}


def _measure_mixing(state: dict, cfg: RLConfig) -> dict:
    out = {"mixing": state["A"]}
    if cfg.mode != "selfish":
        out["attention"] = mixing.attention(state["A"])
    return out


def make_jax_rl(game: Any, cfg: RLConfig) -> tuple[Callable, Callable, Callable]:
    """``init``/``step``/``measure`` for a game with a functional JAX simulator.

    One step is one learner update on ``cfg.batch`` episodes followed by one
    iteration of Algorithm 1. Episodes alternate between the game's
    ``num_starts`` start configurations (G.1: 5 + 5 of 10 with the near prey
    swapped).
    """
    n = int(game.num_players)
    num_actions = int(game.num_actions)
    obs_size = int(game.observation_size)
    T = int(game.episode_length)
    starts = jnp.arange(cfg.batch) % int(getattr(game, "num_starts", 2))
    rcfg = cfg.reinforce
    legal = jnp.ones((cfg.batch, T, n, num_actions))
    mask = jnp.ones((cfg.batch, T))

    def init(g: Any, key: Any) -> dict:
        k_pol, k_trial, k_run = jax.random.split(key, 3)
        return {"policy": reinforce.init_policy(k_pol, n, num_actions, obs_size, rcfg),
                "d3c": trial_init(k_trial, n, cfg), "key": k_run}

    def episode(policy: dict, uniforms: Any, start: Any) -> tuple:
        # One uniform draw per agent (inverse-CDF action sampling) and one for
        # the predator's coin per step: a single PRNG call per update keeps
        # compilation fast (each jax.random call inlines a Threefry hash).
        def one(s, u):
            obs = jnp.broadcast_to(game.jax_observe(s), (n, obs_size))
            a = reinforce.act_uniform(policy, u[:n], obs, jnp.ones((n, num_actions)))
            s, r = game.jax_step(s, a, (u[n] < 0.5).astype(jnp.int32))
            return s, (obs, a, r)

        _, (obs, actions, rewards) = jax.lax.scan(one, game.jax_reset(start), uniforms)
        return obs, actions, rewards

    def step(g: Any, state: dict) -> tuple[dict, dict]:
        key, k_ep, k_trial = jax.random.split(state["key"], 3)
        uniforms = jax.random.uniform(k_ep, (cfg.batch, T, n + 1))
        obs, actions, rewards = jax.vmap(episode, in_axes=(None, 0, 0))(
            state["policy"], uniforms, starts)
        batch = reinforce.Batch(obs, actions, rewards, mask, legal)
        policy, stats = reinforce.update(state["policy"], batch, state["d3c"]["A_tilde"], rcfg)
        g_i = stats["mixed_returns"] if cfg.trial_return == "mixed" else stats["returns"]
        d3c = trial_update(state["d3c"], g_i, k_trial, cfg)
        total = stats["returns"].sum()
        stats = {**stats, "total_return": total, **_ratio(game, total)}
        return {"policy": policy, "d3c": d3c, "key": key}, stats

    def measure(g: Any, state: dict) -> dict:
        return _measure_mixing(state["d3c"], cfg)

    return init, step, measure


def _play(env: Any, policy: dict, key: Any, n: int, num_actions: int) -> tuple:
    """One episode in an OpenSpiel RL environment; lists of per-step arrays."""
    obs_l, act_l, rew_l, legal_l = [], [], [], []
    time_step = env.reset()
    act_fn = _jit_act()
    while not time_step.last():
        obs = np.asarray(time_step.observations["info_state"], np.float32)
        legal = np.zeros((n, num_actions), np.float32)
        players = (range(n) if time_step.is_simultaneous_move()
                   else [time_step.observations["current_player"]])
        for p in players:
            legal[p, time_step.observations["legal_actions"][p]] = 1.0
        key, k = jax.random.split(key)
        actions = np.asarray(act_fn(policy, k, obs, jnp.where(legal.sum(1, keepdims=True) > 0,
                                                              legal, 1.0)))
        if time_step.is_simultaneous_move():
            time_step = env.step([int(a) for a in actions])
        else:
            p = players[0]
            time_step = env.step([int(actions[p])])
            # agents that did not act take no part in this step's gradient
            legal = np.where(np.arange(n)[:, None] == p, legal, 0.0)
        obs_l.append(obs)
        act_l.append(actions)
        rew_l.append(np.asarray(time_step.rewards, np.float32))
        legal_l.append(legal)
    return obs_l, act_l, rew_l, legal_l, key


_ACT = None


def _jit_act() -> Callable:
    global _ACT
    if _ACT is None:
        _ACT = jax.jit(reinforce.act)
    return _ACT


def run_environment(game: Any, cfg: RLConfig, *, seed: int, steps: int, every: int,
                    progress: Callable[[int], None] | None = None) -> tuple[dict, dict]:
    """Train on ``game.make_environment(seed)`` (any OpenSpiel RL environment).

    Episodes are played in Python; the learner update and Algorithm 1 are
    jitted. Returns ``(metrics, final)``: metrics ``[R, ...]`` averaged over
    windows of ``every`` updates (the last holds those left).
    """
    env = game.make_environment(seed)
    n = env.num_players
    num_actions = env.action_spec()["num_actions"]
    obs_size = env.observation_spec()["info_state"][0]
    rcfg = cfg.reinforce
    key = jax.random.PRNGKey(seed)
    k_pol, k_trial, key = jax.random.split(key, 3)
    policy = reinforce.init_policy(k_pol, n, num_actions, obs_size, rcfg)
    d3c = trial_init(k_trial, n, cfg)
    learn = jax.jit(lambda p, b, A: reinforce.update(p, b, A, rcfg))
    trial = jax.jit(lambda s, g, k: trial_update(s, g, k, cfg))
    records: list[dict] = []
    window: list[dict] = []
    for it in range(steps):
        episodes = []
        for _ in range(cfg.batch):
            *ep, key = _play(env, policy, key, n, num_actions)
            episodes.append(ep)
        T = max(len(e[0]) for e in episodes)

        def pad(seq, shape, dtype):
            out = np.zeros((len(episodes), T) + shape, dtype)
            for b, e in enumerate(episodes):
                if seq(e):
                    out[b, :len(seq(e))] = np.stack(seq(e))
            return out

        batch = reinforce.Batch(
            obs=pad(lambda e: e[0], (n, obs_size), np.float32),
            actions=pad(lambda e: e[1], (n,), np.int32),
            rewards=pad(lambda e: e[2], (n,), np.float32),
            mask=np.array([[1.0] * len(e[0]) + [0.0] * (T - len(e[0])) for e in episodes],
                          np.float32),
            legal=pad(lambda e: e[3], (n, num_actions), np.float32))
        policy, stats = learn(policy, batch, d3c["A_tilde"])
        g_i = stats["mixed_returns"] if cfg.trial_return == "mixed" else stats["returns"]
        key, k = jax.random.split(key)
        d3c = trial(d3c, g_i, k)
        total = stats["returns"].sum()
        window.append({k2: np.asarray(v) for k2, v in
                       {**stats, "total_return": total, **_ratio(game, total)}.items()})
        if (it + 1) % every == 0 or it + 1 == steps:     # the last window may be shorter
            rec = {k2: np.mean([w[k2] for w in window], axis=0) for k2 in window[0]}
            rec.update({k2: np.asarray(v) for k2, v in _measure_mixing(d3c, cfg).items()})
            records.append(rec)
            window = []
            if progress is not None:
                progress(it + 1)
    metrics = {k: np.stack([r[k] for r in records]) for k in records[0]}
    final = {"policy": jax.tree_util.tree_map(np.asarray, policy),
             "mixing": np.asarray(d3c["A"])}
    return metrics, final
