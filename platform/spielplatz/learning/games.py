"""Game protocols for learners.

Learners do not all see games the same way; each protocol is a structural type
(nothing to inherit) and :func:`game_kind` tells which one an object follows.

* :class:`DifferentiableGame` - N players, each with a parameter vector, and a
  loss per player that is a differentiable (JAX) function of all parameters.
  Every normal-form game is one through mixed strategies (softmax of logits),
  see :func:`spielplatz.learning.games.mixed_strategy_game`.
* :class:`IteratedGame` - a two-player game played repeatedly with discount
  ``gamma`` whose values are exact functions of the players' policy parameters, and
  which also plays as a JAX environment (``environment(horizon)``); see
  :mod:`spielplatz.learning.iterated`. It is a differentiable game too.
* :class:`RLEnvironment` - an OpenSpiel game played through
  ``open_spiel.python.rl_environment`` (reinforcement learners).
* :class:`JaxEnvironmentGame` - a functional JAX environment with per-player
  observations (the Coin Games): many environments and seeds at once under ``vmap``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from spielplatz.games.normal_form import NormalFormGame

__all__ = ["DifferentiableGame", "Environment", "IteratedGame", "JaxEnvironmentGame",
           "derived_metrics",
           "RLEnvironment", "game_kind", "game_kinds",
           "MixedStrategyGame", "mixed_strategy_game", "GAME_KINDS"]

GAME_KINDS = ("iterated_matrix", "differentiable", "jax_environment", "rl_environment",
              "normal_form")


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
class Environment(Protocol):
    """A functional JAX environment, fast under ``jax.vmap`` (explicit state and keys).

    ``reset(key) -> (state, observation)``; ``step(state, actions, key) -> (state,
    observation, rewards [num_players], done)``. Every built-in environment also exists
    as a pyspiel game with simultaneous moves, tested equal on sampled trajectories.
    """

    num_players: int

    def reset(self, key: Any) -> tuple:
        """The initial state and observation."""

    def step(self, state: Any, actions: Any, key: Any) -> tuple:
        """One joint move: next state, observation, rewards and whether it ended."""


@runtime_checkable
class IteratedGame(Protocol):
    """Two players, a stage game repeated with discount ``gamma``, exact values."""

    name: str
    num_players: int
    gamma: Any

    def init_params(self, key: Any) -> Any:
        """Random initial policy parameters ``(theta_1, theta_2)``."""

    def values(self, params: Any) -> Any:
        """Exact discounted values ``[2]`` at ``params``; JAX-traceable."""

    def environment(self, horizon: int) -> Any:
        """The same game as a functional JAX environment of ``horizon`` stages."""


@runtime_checkable
class JaxEnvironmentGame(Protocol):
    """A functional JAX environment with per-player observations, fast under ``jax.vmap``.

    ``reset(key) -> (state, obs)``; ``step(state, actions [num_players] int32, key) ->
    (state, obs, rewards [num_players] float32, done bool)``; ``obs`` is
    ``[num_players, *observation_shape]`` float32, player ``i``'s own view at ``obs[i]``.
    Episodes last ``horizon`` steps (``done`` then; a learner resets). ``metrics(state)``
    returns a dict of per-episode statistics so far (arrays, e.g. coins taken), read at
    the end of an episode. ``to_openspiel()`` is the same game as a pyspiel game with
    simultaneous moves, tested equal on trajectories. Optional: ``derived_metrics(totals)``
    maps summed ``metrics`` (numpy arrays, any leading axes) to the game's derived
    statistics, elementwise (the Coin Games: ``own_coin_rate``); learners read them
    through :func:`derived_metrics`, so no learner computes a game's statistic itself.
    Optional: ``symmetries() -> (cells [G, H*W], moves [G, A])``, the game's symmetry
    group acting on a board view and on the actions (``g``'s view reads cell ``y`` from
    cell ``cells[g, y]``; ``moves[g, a]`` is ``g``'s image of action ``a``), for
    learners that average a policy over them (amTFT's ``symmetrize``).
    """

    name: str
    num_players: int
    num_actions: int
    observation_shape: tuple
    horizon: int

    def reset(self, key: Any) -> tuple:
        """The initial state and observations."""

    def step(self, state: Any, actions: Any, key: Any) -> tuple:
        """One joint move: next state, observations, rewards, whether the episode ended."""

    def metrics(self, state: Any) -> dict:
        """Per-episode statistics so far."""


@runtime_checkable
class RLEnvironment(Protocol):
    """Something that builds an ``open_spiel.python.rl_environment.Environment``."""

    name: str

    def make_environment(self, seed: int) -> Any:
        """A fresh environment seeded with ``seed``."""


def derived_metrics(game: Any, totals: dict, *, over_players: bool = False) -> dict:
    """The game's statistics derived from summed episode ``metrics`` (``totals``: name ->
    array, last axis the player): ``game.derived_metrics`` if the game (or the game a
    wrapper holds as ``env``) declares it, else nothing. ``over_players``: sum the
    player axis first (one value for both players: the Coin Games' share of all coins
    taken that were the taker's own). Undefined values (nothing taken) are NaN."""
    import numpy as np

    fn = getattr(game, "derived_metrics", None)
    if fn is None and hasattr(game, "env"):
        fn = getattr(game.env, "derived_metrics", None)
    if fn is None:
        return {}
    arrays = {k: np.asarray(v, dtype=float) for k, v in totals.items()}
    if over_players:
        arrays = {k: v.sum(axis=-1) for k, v in arrays.items() if v.ndim}
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            return {k: np.asarray(v, dtype=float) for k, v in fn(arrays).items()}
    except KeyError:            # the statistics it derives from were not recorded
        return {}


def game_kinds(game: Any) -> tuple[str, ...]:
    """Every protocol of :data:`GAME_KINDS` that ``game`` follows, most specific first
    (an iterated game is also a differentiable game); empty for none."""
    if isinstance(game, NormalFormGame):
        return ("normal_form",)
    kinds: tuple[str, ...] = ()
    if isinstance(game, IteratedGame):
        kinds += ("iterated_matrix",)
    if isinstance(game, DifferentiableGame):
        kinds += ("differentiable",)
    if isinstance(game, JaxEnvironmentGame):
        kinds += ("jax_environment",)
    if isinstance(game, RLEnvironment):
        kinds += ("rl_environment",)
    return kinds


def game_kind(game: Any) -> str:
    """The most specific protocol ``game`` follows, one of :data:`GAME_KINDS`."""
    kinds = game_kinds(game)
    if not kinds:
        raise TypeError(f"{type(game).__name__} follows none of the game protocols "
                        f"{GAME_KINDS}")
    return kinds[0]


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

