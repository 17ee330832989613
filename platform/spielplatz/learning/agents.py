"""Trained agents that outlive their runs: functional policies, saved with the run.

A :class:`~spielplatz.results.Run` holds ``agents``: per player, the parameters of every
seed's policy, with the kind of policy that reads them::

    {"kind": "memory_one", "game": "ipd", "learners": ["a", "b"],
     "players": [array [seeds, S, A_1], array [seeds, S, A_2]]}

A policy kind is a pair of pure functions over explicit state and key
(:class:`PolicyKind`): ``init(params, key) -> state`` and ``act(params, state, obs, key)
-> (action, state)``. :func:`play` plays two agents against each other: exactly where the
game gives values in closed form (memory-one policies on an iterated matrix game), and by
sampled episodes otherwise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from spielplatz.errors import SpielplatzError

__all__ = ["PolicyKind", "POLICY_KINDS", "Agent", "agent", "check_agents", "check_trained_on",
           "has_exact_values", "play", "play_many", "policy_kind"]


@dataclass(frozen=True)
class PolicyKind:
    """How a kind of saved parameters acts: ``init(params, key) -> state`` and
    ``act(params, state, obs, key) -> (action, state)`` (JAX-traceable).

    ``observes``: ``"own"`` (default) -- on a ``jax_environment`` game ``obs`` is the
    seat's own view; ``"game"`` -- ``obs`` is a :class:`GameObservation` (every view,
    the previous state, joint action and rewards, and the environment itself, so that a
    policy can simulate what another action would have done, as amTFT's debit does)."""

    name: str
    init: Callable
    act: Callable
    description: str = ""
    observes: str = "own"


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


def _memory_one_init(params: Any, key: Any) -> Any:
    import jax.numpy as jnp

    del params, key
    return jnp.zeros((), jnp.int32)


def _memory_one_act(params: Any, state: Any, obs: Any, key: Any) -> tuple:
    import jax

    return jax.random.categorical(key, params[obs]), state


#: The policy kinds the host can rebuild from a saved run.
POLICY_KINDS = {
    "memory_one": PolicyKind("memory_one", _memory_one_init, _memory_one_act,
                             "logits [S, A] per memory-one state (start, then each previous "
                             "joint action in seat order)"),
}


def policy_kind(name: str) -> PolicyKind:
    """The policy kind ``name``: the host's own, or one a plugin registered through
    ``register_policy_kinds`` (unknown names: one line with the known ones)."""
    if name in POLICY_KINDS:
        return POLICY_KINDS[name]
    from spielplatz.plugins.host import get_host

    registry = get_host().registry("policy")
    if name not in registry:
        raise SpielplatzError(f"unknown agent kind {name!r} (known: "
                              f"{', '.join(known_kinds())})")
    return registry.get(name).load()


def known_kinds() -> list[str]:
    from spielplatz.plugins.host import get_host

    return sorted({*POLICY_KINDS, *(e.name for e in get_host().registry("policy").entries())})


@dataclass(frozen=True)
class Agent:
    """One trained policy: ``params`` of ``kind``, taken from ``run`` (seed, player).

    ``info`` holds what the learner declared about the seed's agent (e.g. its welfare
    functions), from the run's ``agents["info"]``."""

    kind: str
    params: Any
    learner: str = ""
    seed: int | None = None
    player: int = 0
    info: Any = None

    @property
    def policy(self) -> PolicyKind:
        return policy_kind(self.kind)


def _leaves(tree: Any, path: str = "") -> list:
    if isinstance(tree, dict):
        return [leaf for k, v in tree.items() for leaf in _leaves(v, f"{path}.{k}")]
    return [(path, tree)]


def _as_arrays(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _as_arrays(v) for k, v in tree.items()}
    return np.asarray(tree, dtype=float)


def check_agents(agents: Any, seeds: int, where: str = "run") -> dict | None:
    """Validate an ``agents`` dict (from a learner or a saved file); arrays as numpy.

    Each player's parameters are an array or a dict of arrays, every array with the
    seeds first.

    Raises
    ------
    SpielplatzError
        One line naming what is wrong: an unknown kind, missing keys, wrong shapes.
    """
    if agents is None:
        return None
    if not isinstance(agents, dict):
        raise SpielplatzError(f"{where}: agents must be an object, got {type(agents).__name__}")
    missing = [k for k in ("kind", "players") if k not in agents]
    if missing:
        raise SpielplatzError(f"{where}: agents lack {', '.join(missing)}")
    if agents["kind"] not in known_kinds():
        raise SpielplatzError(f"{where}: unknown agent kind {agents['kind']!r} (known: "
                              f"{', '.join(known_kinds())})")
    players = agents["players"]
    if not isinstance(players, (list, tuple)) or not players:
        raise SpielplatzError(f"{where}: agents.players must be a list of per-player arrays")
    out = []
    for i, p in enumerate(players):
        try:
            tree = _as_arrays(p)
        except (TypeError, ValueError):
            raise SpielplatzError(f"{where}: the parameters of player {i + 1} are not a "
                                  f"numeric array") from None
        for path, arr in _leaves(tree):
            name = f"player {i + 1}" + (f" ({path[1:]})" if path else "")
            if arr.ndim < 1 or arr.shape[0] != seeds:
                raise SpielplatzError(f"{where}: {name} has parameters for "
                                      f"{arr.shape[0] if arr.ndim else 0} seeds, the run has "
                                      f"{seeds}")
            if not np.all(np.isfinite(arr)):
                raise SpielplatzError(f"{where}: the parameters of {name} are not finite")
        out.append(tree)
    info = agents.get("info")
    if info is not None and (not isinstance(info, list) or len(info) != seeds):
        raise SpielplatzError(f"{where}: agents.info must hold one entry per seed")
    return {**agents, "players": out}


def _seed_slice(tree: Any, index: int) -> Any:
    if isinstance(tree, dict):
        return {k: _seed_slice(v, index) for k, v in tree.items()}
    return np.asarray(tree)[index]


def check_trained_on(run: Any, game: Any, label: str = "") -> None:
    """Refuse, in one line, to play ``run``'s agents on a game other than the one they
    were trained on (their observations and actions would not fit)."""
    label = label or f"the {run.learner!r} run"
    if not getattr(run, "agents", None):
        raise SpielplatzError(f"{label}: the {run.learner!r} run holds no agents to play")
    trained_on = str(run.agents.get("game") or run.game)
    if trained_on != str(game.name):
        raise SpielplatzError(f"{label}: the agents were trained on {trained_on!r}, not on "
                              f"{game.name!r}")


def agent(run: Any, seed_index: int = 0, player: int = 0) -> Agent:
    """The agent of ``run`` for seed number ``seed_index`` (0-based) and ``player``."""
    agents = getattr(run, "agents", None)
    if not agents:
        raise SpielplatzError(f"the {run.learner!r} run holds no agents")
    players = agents["players"]
    if not 0 <= player < len(players):
        raise SpielplatzError(f"player {player + 1} is not in the run (it has "
                              f"{len(players)} players)")
    if not 0 <= seed_index < len(run.seeds):
        raise SpielplatzError(f"seed index {seed_index} is out of range: the run has "
                              f"{len(run.seeds)} seeds (0..{len(run.seeds) - 1})")
    learners = agents.get("learners") or [run.learner] * len(players)
    info = (agents.get("info") or [None] * len(run.seeds))[seed_index]
    return Agent(agents["kind"], _seed_slice(players[player], seed_index),
                 learner=str(learners[player]), seed=int(run.seeds[seed_index]), player=player,
                 info=info)


def has_exact_values(game: Any, first: Agent, second: Agent) -> bool:
    """Whether the pair's values are known in closed form: two memory-one agents on an
    iterated matrix game."""
    return first.kind == second.kind == "memory_one" and hasattr(game, "average_rewards")


def _check_fit(game: Any, first: Agent, second: Agent) -> None:
    if first.kind == second.kind == "memory_one" and hasattr(game, "num_states"):
        s, shape = game.num_states, game.shape
        p0, p1 = np.shape(first.params), np.shape(second.params)
        if p0 != (s, shape[0]) or p1 != (s, shape[1]):
            raise SpielplatzError(f"the agents do not fit {game.name}: parameters "
                                  f"{list(p0)} and {list(p1)}, the game's memory-one states "
                                  f"need {[s, shape[0]]} and {[s, shape[1]]}")


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


def play(game: Any, first: Agent, second: Agent, *, episodes: int = 0, horizon: int = 100,
         seed: int = 0) -> dict:
    """Play ``first`` (seat 1) against ``second`` (seat 2) on ``game``.

    Returns ``{"exact": [2] or None, "sampled": {"mean": [2], "stderr": [2], "episodes"}
    or None}``, average rewards per step: exact for memory-one agents on an iterated
    matrix game (``(1 - gamma) V`` in closed form); sampled over ``episodes`` episodes of
    ``horizon`` stages of the game's environment when ``episodes > 0`` (discounted
    averages, :func:`discounted_average`).
    """
    import jax.numpy as jnp

    out: dict = {"exact": None, "sampled": None}
    _check_fit(game, first, second)
    if has_exact_values(game, first, second):
        params = (jnp.asarray(first.params), jnp.asarray(second.params))
        out["exact"] = np.asarray(game.average_rewards(params), dtype=float)
    if episodes > 0:
        gamma = float(np.asarray(getattr(game, "gamma", 1.0)))
        trajectories = play_many(game, [(first, second)], episodes=int(episodes),
                                 horizon=int(horizon), seed=seed)[0]
        rewards = discounted_average(trajectories, gamma)
        out["sampled"] = {"mean": rewards.mean(axis=0),
                          "stderr": rewards.std(axis=0) / np.sqrt(len(rewards)),
                          "episodes": int(episodes), "horizon": int(horizon)}
    return out
