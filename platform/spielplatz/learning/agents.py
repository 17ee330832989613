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
from spielplatz.learning.playing import discounted_average, play_many

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
