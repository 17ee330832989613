"""Trust-Your-Brother (D3C paper, Section 3.3 and Appendix F.2).

A predator bot chases two prey around a table: a ring of ``cells = 6`` cells.
Each of ``episode_length = 5`` steps:

1. the predator moves one cell towards the nearest prey unless it is already
   adjacent to a prey, in which case it stays; if both prey are equally near
   it flips a fair coin (a chance node);
2. both prey observe the table and act at once: ``0`` stay, ``1`` move
   clockwise (+1), ``2`` move counter-clockwise (-1). Trying to move costs
   ``-0.1`` (0 for staying), whether or not the move succeeds;
3. a move fails if its target is the predator's cell, if both prey target the
   same cell, if they try to swap cells, or if the target holds the other
   prey and that prey does not move away (a prey can only escape if the other
   simultaneously moves out of the way);
4. each prey adjacent to the predator after moving receives ``-1``.

Episodes start (a chance node, each outcome with probability 1/2) with the
predator in cell 0 and the two prey in adjacent cells 2 and 3: the prey in
cell 2 has one empty cell between itself and the predator (G.1). Outcome
``k`` puts prey ``k`` in cell 2. Both prey observe the same 2-d vector: for
each prey, its counter-clockwise minus its clockwise distance to the predator.

Choices where the paper is silent (documented in docs/learners.md): the
order within a step (predator first, then the prey; the -1 is assigned "after
moving", i.e. after the prey's move), the rule for blocked moves, the fixed
orientation of the start (the near prey is clockwise of the predator) and,
for rings where the nearest prey lies exactly opposite, the predator going
clockwise. With the predator moving last instead, two prey cannot outrun it
on six cells and cooperation would be pointless (the team optimum would equal
selfish play, -5). Selfish play (the far prey never makes way) costs the near
prey ``-1`` every step, ``-5`` in total; the cooperative optimum (both prey
flee clockwise every step) is ``-1.0`` in total.

The game exists twice, with identical dynamics (a test checks it):

* ``python_trust_your_brother`` - a Python pyspiel game (simultaneous moves,
  explicit chance) registered with :func:`pyspiel.register_game`, played
  through :class:`open_spiel.python.rl_environment.Environment`;
* :class:`TrustYourBrother` - the Spielplatz game: an
  :class:`~spielplatz.learning.games.RLEnvironment` (``make_environment(seed)``)
  with a functional JAX simulator (:meth:`TrustYourBrother.jax_reset`,
  :meth:`TrustYourBrother.jax_step`) that the D3C learners vectorise with
  ``jax.vmap``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pyspiel

__all__ = ["TrustYourBrother", "trust_your_brother", "SHORT_NAME", "STAY", "CLOCKWISE",
           "COUNTER_CLOCKWISE", "MOVE_COST", "CATCH_COST"]

SHORT_NAME = "python_trust_your_brother"
STAY, CLOCKWISE, COUNTER_CLOCKWISE = 0, 1, 2
ACTION_NAMES = ("stay", "clockwise", "counter-clockwise")
MOVE_COST = -0.1
CATCH_COST = -1.0
NUM_PREY = 2
_DEFAULT_PARAMS = {"cells": 6, "episode_length": 5}


# -- the rules (plain Python; the JAX simulator below mirrors them) --------------

def _ring_distance(a: int, b: int, cells: int) -> int:
    d = (a - b) % cells
    return min(d, cells - d)


def _step_direction(action: int) -> int:
    return (0, 1, -1)[action]


def move_prey(predator: int, prey: tuple[int, int], actions: tuple[int, int],
              cells: int) -> tuple[tuple[int, int], list[float]]:
    """Resolve the prey's simultaneous moves; return new cells and move costs."""
    moving = [a != STAY for a in actions]
    target = [(p + _step_direction(a)) % cells for p, a in zip(prey, actions)]
    swap = target[0] == prey[1] and target[1] == prey[0]
    clash = moving[0] and moving[1] and target[0] == target[1]
    ok = [m and t != predator and not swap and not clash for m, t in zip(moving, target)]
    ok1_alone = ok[1] and target[1] != prey[0]
    s0 = ok[0] and (target[0] != prey[1] or ok1_alone)
    s1 = ok[1] and (target[1] != prey[0] or s0)
    new = (target[0] if s0 else prey[0], target[1] if s1 else prey[1])
    return new, [MOVE_COST if m else 0.0 for m in moving]


def predator_choice(predator: int, prey: tuple[int, int], cells: int) -> int | None:
    """``-1``: stay (adjacent to a prey); ``0``/``1``: chase that prey; ``None``: a tie (coin)."""
    d = [_ring_distance(predator, p, cells) for p in prey]
    if min(d) <= 1:
        return -1
    if d[0] == d[1]:
        return None
    return 0 if d[0] < d[1] else 1


def move_predator(predator: int, target: int, cells: int) -> int:
    """One step towards cell ``target`` along the shorter way (clockwise on a tie)."""
    cw = (target - predator) % cells
    return (predator + (1 if cw <= cells - cw else -1)) % cells


def catch_rewards(predator: int, prey: tuple[int, int], cells: int) -> list[float]:
    """``-1`` for each prey adjacent to the predator, else ``0``."""
    return [CATCH_COST if _ring_distance(predator, p, cells) == 1 else 0.0 for p in prey]


def start_cells(near: int) -> tuple[int, tuple[int, int]]:
    """Predator cell and prey cells when prey ``near`` starts next-but-one to the predator."""
    return 0, ((2, 3) if near == 0 else (3, 2))


def observation(predator: int, prey: tuple[int, int], cells: int) -> list[float]:
    """For each prey: counter-clockwise minus clockwise distance to the predator."""
    out = []
    for p in prey:
        cw = (predator - p) % cells
        ccw = (p - predator) % cells
        out.append(float(ccw - cw))
    return out


# -- the pyspiel game ------------------------------------------------------------

_GAME_TYPE = pyspiel.GameType(
    short_name=SHORT_NAME,
    long_name="Trust Your Brother (D3C)",
    dynamics=pyspiel.GameType.Dynamics.SIMULTANEOUS,
    chance_mode=pyspiel.GameType.ChanceMode.EXPLICIT_STOCHASTIC,
    information=pyspiel.GameType.Information.PERFECT_INFORMATION,
    utility=pyspiel.GameType.Utility.GENERAL_SUM,
    reward_model=pyspiel.GameType.RewardModel.REWARDS,
    max_num_players=NUM_PREY,
    min_num_players=NUM_PREY,
    provides_information_state_string=False,
    provides_information_state_tensor=False,
    provides_observation_string=True,
    provides_observation_tensor=True,
    provides_factored_observation_string=False,
    parameter_specification=_DEFAULT_PARAMS)


class TrustYourBrotherGame(pyspiel.Game):
    """The pyspiel game ``python_trust_your_brother(cells=6,episode_length=5)``."""

    def __init__(self, params=None):
        params = dict(_DEFAULT_PARAMS, **(params or {}))
        self.cells = int(params["cells"])
        self.episode_length = int(params["episode_length"])
        if self.cells < 5:
            raise ValueError(f"cells must be at least 5, got {self.cells}")
        if self.episode_length < 1:
            raise ValueError(f"episode_length must be positive, got {self.episode_length}")
        worst = (MOVE_COST + CATCH_COST) * self.episode_length
        super().__init__(_GAME_TYPE, pyspiel.GameInfo(
            num_distinct_actions=3, max_chance_outcomes=2, num_players=NUM_PREY,
            min_utility=worst, max_utility=0.0, utility_sum=None,
            max_game_length=2 * self.episode_length + 1), params)

    def new_initial_state(self):
        """The start: a chance node choosing which prey starts near the predator."""
        return TrustYourBrotherState(self)

    def make_py_observer(self, iig_obs_type=None, params=None):
        """The shared 2-d observation (see :func:`observation`)."""
        return TrustYourBrotherObserver()


class TrustYourBrotherState(pyspiel.State):
    """A state: predator cell, prey cells, steps played, pending chance node."""

    def __init__(self, game: TrustYourBrotherGame):
        super().__init__(game)
        self.cells = game.cells
        self.episode_length = game.episode_length
        self.predator = 0
        self.prey = (2, 3)
        self.t = 0
        self._phase = "start"          # "start" / "tie" (chance) or "move" (the prey)
        self._rewards = np.zeros(NUM_PREY)
        self._returns = np.zeros(NUM_PREY)

    def current_player(self):
        """Chance at the start and on predator ties, else both prey at once."""
        if self.t >= self.episode_length:
            return pyspiel.PlayerId.TERMINAL
        if self._phase in ("start", "tie"):
            return pyspiel.PlayerId.CHANCE
        return pyspiel.PlayerId.SIMULTANEOUS

    def _legal_actions(self, player):
        return [STAY, CLOCKWISE, COUNTER_CLOCKWISE]

    def chance_outcomes(self):
        """Two fair outcomes: which prey starts near, or which prey the predator chases."""
        return [(0, 0.5), (1, 0.5)]

    def _predator_turn(self) -> None:
        choice = predator_choice(self.predator, self.prey, self.cells)
        if choice is None:
            self._phase = "tie"
            return
        if choice >= 0:
            self.predator = move_predator(self.predator, self.prey[choice], self.cells)
        self._phase = "move"

    def _apply_action(self, action):
        if self._phase == "start":
            self.predator, self.prey = start_cells(int(action))
            self._predator_turn()
            return
        # the predator's coin flip between two equally near prey
        self.predator = move_predator(self.predator, self.prey[int(action)], self.cells)
        self._phase = "move"

    def _apply_actions(self, actions):
        self.prey, cost = move_prey(self.predator, self.prey, tuple(int(a) for a in actions),
                                    self.cells)
        self._rewards = np.asarray(cost) + catch_rewards(self.predator, self.prey, self.cells)
        self._returns += self._rewards
        self.t += 1
        if self.t < self.episode_length:
            self._predator_turn()

    def _action_to_string(self, player, action):
        if player == pyspiel.PlayerId.CHANCE:
            return (f"prey {action} starts near" if self._phase == "start"
                    else f"predator chases prey {action}")
        return ACTION_NAMES[action]

    def is_terminal(self):
        """Whether ``episode_length`` steps have been played."""
        return self.t >= self.episode_length

    def rewards(self):
        """Rewards of the prey's last move (move costs plus catches)."""
        return list(self._rewards)

    def returns(self):
        """Each prey's total reward so far."""
        return list(self._returns)

    def __str__(self):
        ring = ["."] * self.cells
        ring[self.predator] = "X"
        for k, p in enumerate(self.prey):
            ring[p] = str(k)
        return f"t={self.t} " + "".join(ring)


class TrustYourBrotherObserver:
    """Both prey see ``[obs_prey0, obs_prey1]`` (see :func:`observation`)."""

    def __init__(self):
        self.tensor = np.zeros(NUM_PREY, np.float32)
        self.dict = {"observation": self.tensor}

    def set_from(self, state, player):
        """Fill :attr:`tensor` from ``state`` (the same for both players)."""
        self.tensor[:] = observation(state.predator, state.prey, state.cells)

    def string_from(self, state, player):
        """The table as a string, e.g. ``t=2 .X01..``."""
        return str(state)


pyspiel.register_game(_GAME_TYPE, TrustYourBrotherGame)


# -- the Spielplatz game -------------------------------------------------------------

class TrustYourBrother:
    """Trust-Your-Brother as a Spielplatz learner game.

    Follows :class:`spielplatz.learning.games.RLEnvironment` and adds a functional
    JAX simulator with the same dynamics for vectorised training.

    Parameters
    ----------
    cells : int
        Ring size (6 in the paper).
    episode_length : int
        Steps per episode (5 in the paper).

    Attributes
    ----------
    num_players, num_actions, observation_size : int
    optimal_total_return : float
        Best expected sum of both prey's returns over the two start
        configurations (dynamic programming over the full state); ``-1.0`` for
        the paper's game.
    """

    num_players = NUM_PREY
    num_actions = 3
    observation_size = NUM_PREY

    def __init__(self, cells: int = 6, episode_length: int = 5):
        self.cells = int(cells)
        self.episode_length = int(episode_length)
        self.pyspiel_game = pyspiel.load_game(
            SHORT_NAME, {"cells": self.cells, "episode_length": self.episode_length})
        default = (self.cells, self.episode_length) == (6, 5)
        self.name = "trust_your_brother" if default else (
            f"trust_your_brother(cells={self.cells},episode_length={self.episode_length})")
        self.optimal_total_return = _optimal_total_return(self.cells, self.episode_length)

    # -- RLEnvironment -----------------------------------------------------------
    def make_environment(self, seed: int) -> Any:
        """An ``open_spiel.python.rl_environment.Environment`` seeded with ``seed``."""
        from open_spiel.python import rl_environment

        env = rl_environment.Environment(self.pyspiel_game)
        env.seed(int(seed))
        return env

    # -- functional JAX simulator --------------------------------------------------
    def jax_reset(self, near: Any) -> Any:
        """State ``[predator, prey0, prey1, t]`` (int32) at the prey's first decision.

        Prey ``near`` starts next-but-one to the predator; the predator has
        already made its first move (there is no tie at the start).
        """
        import jax.numpy as jnp

        near = jnp.asarray(near, jnp.int32)
        prey = jnp.stack([jnp.where(near == 0, 2, 3), jnp.where(near == 0, 3, 2)])
        pred = self._jax_predator(jnp.int32(0), prey, jnp.int32(0))
        return jnp.concatenate([pred[None], prey, jnp.zeros(1, jnp.int32)]).astype(jnp.int32)

    def jax_observe(self, state: Any) -> Any:
        """The shared observation ``[2]`` (float32)."""
        import jax.numpy as jnp

        pred, prey = state[0], state[1:3]
        cw = (pred - prey) % self.cells
        ccw = (prey - pred) % self.cells
        return (ccw - cw).astype(jnp.float32)

    def _jax_distance(self, x: Any, y: Any) -> Any:
        import jax.numpy as jnp

        d = (x - y) % self.cells
        return jnp.minimum(d, self.cells - d)

    def _jax_predator(self, pred: Any, prey: Any, coin: Any) -> Any:
        """The predator's move (``coin`` breaks ties between equally near prey)."""
        import jax.numpy as jnp

        n = self.cells
        d0, d1 = self._jax_distance(pred, prey[0]), self._jax_distance(pred, prey[1])
        chase = jnp.where(d0 < d1, 0, jnp.where(d1 < d0, 1, jnp.asarray(coin, jnp.int32)))
        target = jnp.where(chase == 0, prey[0], prey[1])
        cw = (target - pred) % n
        step = jnp.where(cw <= n - cw, 1, -1)
        stay = jnp.minimum(d0, d1) <= 1
        return jnp.where(stay, pred, (pred + step) % n).astype(jnp.int32)

    def jax_step(self, state: Any, actions: Any, coin: Any) -> tuple[Any, Any]:
        """One step: ``(state, actions [2], coin in {0, 1}) -> (state, rewards [2])``.

        The prey move, are rewarded, then the predator moves for the next
        step; ``coin`` picks the prey it chases when both are equally near.
        """
        import jax.numpy as jnp

        n = self.cells
        pred, p0, p1, t = state[0], state[1], state[2], state[3]
        a = jnp.asarray(actions, jnp.int32)
        delta = jnp.array([0, 1, -1], jnp.int32)[a]
        moving = a != STAY
        tgt = (jnp.stack([p0, p1]) + delta) % n
        swap = (tgt[0] == p1) & (tgt[1] == p0)
        clash = moving[0] & moving[1] & (tgt[0] == tgt[1])
        ok = moving & (tgt != pred) & ~swap & ~clash
        ok1_alone = ok[1] & (tgt[1] != p0)
        s0 = ok[0] & ((tgt[0] != p1) | ok1_alone)
        s1 = ok[1] & ((tgt[1] != p0) | s0)
        prey = jnp.stack([jnp.where(s0, tgt[0], p0), jnp.where(s1, tgt[1], p1)])
        caught = self._jax_distance(pred, prey) == 1
        rewards = jnp.where(moving, MOVE_COST, 0.0) + jnp.where(caught, CATCH_COST, 0.0)
        new_pred = self._jax_predator(pred, prey, coin)
        new_state = jnp.concatenate([new_pred[None], prey, (t + 1)[None]]).astype(jnp.int32)
        return new_state, rewards.astype(jnp.float32)

    def __repr__(self) -> str:
        return f"TrustYourBrother(cells={self.cells}, episode_length={self.episode_length})"


@functools.lru_cache(maxsize=None)
def _optimal_total_return(cells: int, episode_length: int) -> float:
    """Team-optimal expected total return, by dynamic programming over full states."""

    def after_predator(pred: int, prey: tuple[int, int]) -> list[int]:
        choice = predator_choice(pred, prey, cells)
        if choice is None:
            return [move_predator(pred, prey[c], cells) for c in (0, 1)]
        return [pred if choice < 0 else move_predator(pred, prey[choice], cells)]

    @functools.lru_cache(maxsize=None)
    def value(pred: int, prey: tuple[int, int], steps_left: int) -> float:
        """Best total return from a prey decision with ``steps_left`` steps to go."""
        best = -np.inf
        for a0 in range(3):
            for a1 in range(3):
                new, cost = move_prey(pred, prey, (a0, a1), cells)
                total = sum(cost) + sum(catch_rewards(pred, new, cells))
                if steps_left > 1:
                    nexts = after_predator(pred, new)
                    total += sum(value(p, new, steps_left - 1) for p in nexts) / len(nexts)
                best = max(best, total)
        return best

    values = []
    for k in range(NUM_PREY):
        pred, prey = start_cells(k)
        nexts = after_predator(pred, prey)
        values.append(sum(value(p, prey, episode_length) for p in nexts) / len(nexts))
    return float(np.mean(values))


def trust_your_brother(cells: int = 6, episode_length: int = 5) -> TrustYourBrother:
    """Trust-Your-Brother of Section 3.3 / F.2 (``trust_your_brother``)."""
    return TrustYourBrother(cells, episode_length)
