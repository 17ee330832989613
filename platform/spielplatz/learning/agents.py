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

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from spielplatz.errors import SpielplatzError

__all__ = ["PolicyKind", "POLICY_KINDS", "Agent", "agent", "check_agents", "play"]


@dataclass(frozen=True)
class PolicyKind:
    """How a kind of saved parameters acts: ``init(params, key) -> state`` and
    ``act(params, state, obs, key) -> (action, state)`` (JAX-traceable)."""

    name: str
    init: Callable
    act: Callable
    description: str = ""


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


@dataclass(frozen=True)
class Agent:
    """One trained policy: ``params`` of ``kind``, taken from ``run`` (seed, player)."""

    kind: str
    params: Any
    learner: str = ""
    seed: int | None = None
    player: int = 0

    @property
    def policy(self) -> PolicyKind:
        return POLICY_KINDS[self.kind]


def check_agents(agents: Any, seeds: int, where: str = "run") -> dict | None:
    """Validate an ``agents`` dict (from a learner or a saved file); arrays as numpy.

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
    if agents["kind"] not in POLICY_KINDS:
        raise SpielplatzError(f"{where}: unknown agent kind {agents['kind']!r} (known: "
                              f"{', '.join(POLICY_KINDS)})")
    players = agents["players"]
    if not isinstance(players, (list, tuple)) or not players:
        raise SpielplatzError(f"{where}: agents.players must be a list of per-player arrays")
    out = []
    for i, p in enumerate(players):
        try:
            arr = np.asarray(p, dtype=float)
        except (TypeError, ValueError):
            raise SpielplatzError(f"{where}: the parameters of player {i + 1} are not a "
                                  f"numeric array") from None
        if arr.ndim < 1 or arr.shape[0] != seeds:
            raise SpielplatzError(f"{where}: player {i + 1} has parameters for "
                                  f"{arr.shape[0] if arr.ndim else 0} seeds, the run has {seeds}")
        if not np.all(np.isfinite(arr)):
            raise SpielplatzError(f"{where}: the parameters of player {i + 1} are not finite")
        out.append(arr)
    return {**agents, "players": out}


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
    return Agent(agents["kind"], np.asarray(players[player][seed_index]),
                 learner=str(learners[player]), seed=int(run.seeds[seed_index]), player=player)


def play(game: Any, first: Agent, second: Agent, *, episodes: int = 0, horizon: int = 100,
         seed: int = 0) -> dict:
    """Play ``first`` (seat 1) against ``second`` (seat 2) on ``game``.

    Returns ``{"exact": [2] or None, "sampled": {"mean": [2], "stderr": [2], "episodes"}
    or None}``, average rewards per step: exact for memory-one agents on an iterated
    matrix game (``(1 - gamma) V`` in closed form); sampled over ``episodes`` episodes of
    ``horizon`` stages of the game's environment when ``episodes > 0``.
    """
    import jax
    import jax.numpy as jnp

    out: dict = {"exact": None, "sampled": None}
    params = (jnp.asarray(first.params), jnp.asarray(second.params))
    if first.kind == second.kind == "memory_one" and hasattr(game, "average_rewards"):
        s, shape = game.num_states, game.shape
        if params[0].shape != (s, shape[0]) or params[1].shape != (s, shape[1]):
            raise SpielplatzError(f"the agents do not fit {game.name}: parameters "
                                  f"{list(params[0].shape)} and {list(params[1].shape)}, the "
                                  f"game's memory-one states need {[s, shape[0]]} and "
                                  f"{[s, shape[1]]}")
        out["exact"] = np.asarray(game.average_rewards(params), dtype=float)
    if episodes > 0:
        env = game.environment(horizon)
        kinds = (first.policy, second.policy)
        gamma = float(getattr(game, "gamma", 1.0))

        def episode(key: Any) -> Any:
            k0, k1, k2, k3 = jax.random.split(key, 4)
            state, obs = env.reset(k0)
            mem = (kinds[0].init(params[0], k1), kinds[1].init(params[1], k2))

            def body(carry: Any, k: Any) -> tuple:
                state, obs, mem, total, disc = carry
                ka, kb, ke = jax.random.split(k, 3)
                a1, m1 = kinds[0].act(params[0], mem[0], obs, ka)
                a2, m2 = kinds[1].act(params[1], mem[1], obs, kb)
                state, obs, rewards, _ = env.step(state, jnp.stack([a1, a2]), ke)
                return (state, obs, (m1, m2), total + disc * rewards, disc * gamma), None

            init = (state, obs, mem, jnp.zeros(2), jnp.asarray(1.0))
            (_, _, _, total, _), _ = jax.lax.scan(body, init, jax.random.split(k3, horizon))
            norm = (1 - gamma) / (1 - gamma ** horizon) if gamma < 1 else 1.0 / horizon
            return total * norm

        rewards = np.asarray(jax.jit(jax.vmap(episode))(
            jax.random.split(jax.random.PRNGKey(seed), int(episodes))))
        out["sampled"] = {"mean": rewards.mean(axis=0),
                          "stderr": rewards.std(axis=0) / np.sqrt(len(rewards)),
                          "episodes": int(episodes), "horizon": int(horizon)}
    return out
