"""Iterated two-player matrix games: memory-one policies, exact discounted values, and
the same game as a JAX environment and as a pyspiel game.

Normative-disagreement paper, Sections 3.3 and 4.1, Appendix C.2: a stage game
``G [2, A_1, A_2]`` is played repeatedly with discount ``gamma``. A memory-one policy of
player ``i`` holds logits ``theta_i [S, A_i]`` over ``S = 1 + A_1 A_2`` states: row 0 is
the first move, row ``1 + a_1 A_2 + a_2`` the move after the joint action ``(a_1, a_2)``
(one logit per action in every state, as C.2 describes for ``N`` actions). Both players
index states by the joint action *in seat order*, so player 2's state "CD" is player 1
cooperating and player 2 defecting, the same state as player 1's; there is nothing to
swap (the trap of Section 6 of the learner anchors).

Exact values. With ``d_0 = pi_1(start) x pi_2(start)`` (a distribution over joint
actions) and ``P[s, s'] = pi_1(s)[a_1'] pi_2(s)[a_2']`` the transition between joint
actions, the discounted value of player ``i`` is

    ``V_i = sum_t gamma^t d_0 P^t r_i = d_0 (I - gamma P)^{-1} r_i``,

with ``r_i`` the stage payoffs of the joint actions; ``(1 - gamma) V_i`` is the average
reward per step. Everything is a JAX function of ``(theta_1, theta_2)``: learners
differentiate it (LOLA's second-order terms by automatic differentiation).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from spielplatz.errors import GameError, SpielplatzError

__all__ = ["IteratedMatrixGame", "IteratedMatrixEnv", "iterated_game", "memory_one_act",
           "state_labels"]


def state_labels(action_names: tuple) -> list[str]:
    """``["start", "CC", "CD", ...]``: the states of a memory-one policy (seat order)."""
    short = [[str(a)[:1].upper() or str(k) for k, a in enumerate(acts)] for acts in action_names]
    if any(len(set(s)) < len(s) for s in short):          # ambiguous initials: use indices
        short = [[str(k) for k in range(len(acts))] for acts in action_names]
    return ["start"] + [a + b for a in short[0] for b in short[1]]


@struct.dataclass
class IteratedMatrixGame:
    """A 2-player stage game repeated with discount ``gamma`` (a differentiable game).

    Attributes
    ----------
    payoffs : jax.Array ``[2, A_1, A_2]``
        Stage payoffs.
    gamma : jax.Array
        Discount in ``(0, 1)``.
    name : str
    action_names : tuple of tuple of str
    init_scale : float
        Standard deviation of the initial logits.
    """

    payoffs: Any
    gamma: Any
    name: str = struct.field(pytree_node=False, default="iterated")
    action_names: tuple = struct.field(pytree_node=False, default=())
    init_scale: float = struct.field(pytree_node=False, default=1.0)

    num_players = 2

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.payoffs.shape[1]), int(self.payoffs.shape[2]))

    @property
    def num_states(self) -> int:
        return 1 + self.shape[0] * self.shape[1]

    def states(self) -> list[str]:
        return state_labels(self.action_names)

    def as_float64(self) -> "IteratedMatrixGame":
        """The same game with float64 payoffs and discount (call inside
        ``jax.enable_x64(True)``; exact values and finite differences need it)."""
        import dataclasses

        return dataclasses.replace(self, payoffs=jnp.asarray(np.asarray(self.payoffs, float)),
                                   gamma=jnp.asarray(float(np.asarray(self.gamma))))

    # -- the differentiable game ------------------------------------------------
    def init_params(self, key: Any) -> tuple:
        """Logits ``(theta_1 [S, A_1], theta_2 [S, A_2])``, normal with ``init_scale``."""
        k1, k2 = jax.random.split(key)
        s = self.num_states
        return (self.init_scale * jax.random.normal(k1, (s, self.shape[0])),
                self.init_scale * jax.random.normal(k2, (s, self.shape[1])))

    def policies(self, params: Any) -> tuple:
        """Per-state action probabilities ``([S, A_1], [S, A_2])`` (softmax of the logits)."""
        return jax.nn.softmax(params[0], axis=-1), jax.nn.softmax(params[1], axis=-1)

    def values(self, params: Any) -> Any:
        """Exact discounted values ``[2]``: ``d_0 (I - gamma P)^{-1} r_i``."""
        p1, p2 = self.policies(params)
        a1, a2 = self.shape
        joint = (p1[:, :, None] * p2[:, None, :]).reshape(self.num_states, a1 * a2)
        d0, transition = joint[0], joint[1:]
        occupancy = jnp.linalg.solve((jnp.eye(a1 * a2) - self.gamma * transition).T, d0)
        return self.payoffs.reshape(2, a1 * a2) @ occupancy

    def average_rewards(self, params: Any) -> Any:
        """Average reward per step ``(1 - gamma) V_i``, ``[2]``."""
        return (1.0 - self.gamma) * self.values(params)

    def losses(self, params: Any) -> Any:
        return -self.values(params)

    # -- the same game, played ------------------------------------------------------
    def environment(self, horizon: int) -> "IteratedMatrixEnv":
        """The game as a JAX environment of ``horizon`` stages (sampled play)."""
        if int(horizon) < 1:
            raise GameError(f"horizon must be at least 1, got {horizon}")
        return IteratedMatrixEnv(payoffs=self.payoffs, horizon=int(horizon))

    def to_openspiel(self, horizon: int) -> Any:
        """The game as a pyspiel game: OpenSpiel's repeated game of the stage game."""
        import pyspiel

        from spielplatz.games.normal_form import NormalFormGame

        stage = NormalFormGame(np.asarray(self.payoffs, dtype=float), name=self.name,
                               action_names=[list(a) for a in self.action_names] or None)
        return pyspiel.create_repeated_game(stage.to_openspiel(),
                                            {"num_repetitions": int(horizon)})


@struct.dataclass
class IteratedMatrixEnv:
    """Functional JAX environment of an iterated matrix game, fast under ``jax.vmap``.

    ``reset(key) -> (state, obs)``; ``step(state, actions, key) -> (state, obs, rewards,
    done)``. The observation of both players is the memory-one state index (0 at the
    start, ``1 + a_1 A_2 + a_2`` after ``(a_1, a_2)``); rewards are the stage payoffs
    ``[2]``; ``done`` after ``horizon`` stages.
    """

    payoffs: Any
    horizon: int = struct.field(pytree_node=False, default=1)

    num_players = 2

    def reset(self, key: Any) -> tuple:
        del key                                            # deterministic start
        state = {"t": jnp.zeros((), jnp.int32), "obs": jnp.zeros((), jnp.int32)}
        return state, state["obs"]

    def step(self, state: dict, actions: Any, key: Any) -> tuple:
        del key                                            # deterministic transitions
        a1, a2 = actions[0], actions[1]
        rewards = self.payoffs[:, a1, a2]
        obs = (1 + a1 * self.payoffs.shape[2] + a2).astype(jnp.int32)
        t = state["t"] + 1
        return {"t": t, "obs": obs}, obs, rewards, t >= self.horizon


def memory_one_act(theta: Any, obs: Any, key: Any) -> Any:
    """Sample an action from memory-one logits ``theta [S, A]`` in state ``obs``."""
    return jax.random.categorical(key, theta[obs])


def iterated_game(stage: Any, gamma: float = 0.96, *, name: str | None = None,
                  init_scale: float = 1.0) -> IteratedMatrixGame:
    """An :class:`IteratedMatrixGame` from a 2-player normal-form ``stage`` game.

    Raises
    ------
    GameError
        If ``gamma`` is not in ``(0, 1)`` or the stage game is not a 2-player game.
    """
    from spielplatz.validation import as_float

    try:
        gamma = as_float(gamma, "gamma")
    except SpielplatzError as exc:                         # a game error, one clear line
        raise GameError(str(exc)) from None
    if not 0.0 < gamma < 1.0:
        raise GameError(f"gamma must be in (0, 1), got {gamma:g}")
    if stage.num_players != 2:
        raise GameError(f"an iterated game needs a 2-player stage game; {stage.name!r} has "
                        f"{stage.num_players} players")
    # float32 by default, float64 inside ``jax.enable_x64(True)``
    return IteratedMatrixGame(payoffs=jnp.asarray(np.asarray(stage.payoffs, dtype=float)),
                              gamma=jnp.asarray(gamma),
                              name=name or f"iterated {stage.name}",
                              action_names=tuple(tuple(a) for a in stage.action_names),
                              init_scale=float(init_scale))
