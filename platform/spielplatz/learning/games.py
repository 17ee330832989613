"""Game protocols for learners.

Learners do not all see games the same way; each protocol is a structural type
(nothing to inherit) and :func:`game_kind` tells which one an object follows.

* :class:`DifferentiableGame` - N players, each with a parameter vector, and a
  loss per player that is a differentiable (JAX) function of all parameters.
  Every normal-form game is one through mixed strategies (softmax of logits),
  see :func:`spielplatz.learning.games.mixed_strategy_game`.
* :class:`RLEnvironment` - an OpenSpiel game played through
  ``open_spiel.python.rl_environment`` (reinforcement learners).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from spielplatz.games.normal_form import NormalFormGame

__all__ = ["DifferentiableGame", "RLEnvironment", "game_kind",
           "MixedStrategyGame", "mixed_strategy_game", "GAME_KINDS"]

GAME_KINDS = ("differentiable", "rl_environment", "normal_form")


@runtime_checkable
class DifferentiableGame(Protocol):
    """N-player game given by differentiable losses of strategy parameters."""

    name: str
    num_players: int

    def init_params(self, key: Any) -> Any:
        """Random initial parameters, a pytree ``[N, ...]`` or a tuple of per-player pytrees."""

    def losses(self, params: Any) -> Any:
        """Per-player losses ``[N]`` (lower is better) at ``params``; JAX-traceable."""


@runtime_checkable
class RLEnvironment(Protocol):
    """Something that builds an ``open_spiel.python.rl_environment.Environment``."""

    name: str

    def make_environment(self, seed: int) -> Any:
        """A fresh environment seeded with ``seed``."""


def game_kind(game: Any) -> str:
    """The protocol ``game`` follows, one of :data:`GAME_KINDS`."""
    if isinstance(game, NormalFormGame):
        return "normal_form"
    if isinstance(game, DifferentiableGame):
        return "differentiable"
    if isinstance(game, RLEnvironment):
        return "rl_environment"
    raise TypeError(f"{type(game).__name__} follows none of the game protocols {GAME_KINDS}")


@dataclass(frozen=True)
class MixedStrategyGame:
    """A normal-form game as a :class:`DifferentiableGame` over softmax logits.

    Player ``p``'s parameters are logits ``[A_p]``; its loss is minus its
    expected payoff under the product of the players' softmax strategies
    (multilinear in the mixed strategies).
    """

    game: NormalFormGame
    init_scale: float = 1.0

    @property
    def name(self) -> str:
        return self.game.name

    @property
    def num_players(self) -> int:
        return self.game.num_players

    def init_params(self, key: Any) -> tuple:
        import jax

        keys = jax.random.split(key, self.num_players)
        return tuple(self.init_scale * jax.random.normal(k, (a,))
                     for k, a in zip(keys, self.game.shape))

    def strategies(self, params: Any) -> tuple:
        import jax

        return tuple(jax.nn.softmax(x) for x in params)

    def expected_payoffs(self, params: Any) -> Any:
        import jax.numpy as jnp

        out = jnp.asarray(self.game.payoffs)
        for s in reversed(self.strategies(params)):
            out = out @ s  # contract the last remaining action axis
        return out

    def losses(self, params: Any) -> Any:
        return -self.expected_payoffs(params)


def mixed_strategy_game(game: NormalFormGame, init_scale: float = 1.0) -> MixedStrategyGame:
    """Wrap ``game`` as a :class:`DifferentiableGame` (see :class:`MixedStrategyGame`)."""
    return MixedStrategyGame(game, init_scale)

