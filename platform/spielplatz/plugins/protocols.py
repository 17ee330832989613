"""What solver and learner plugins provide (structural types, nothing to inherit).

A solver plugin registers a loader returning a :class:`Solver`; a learner
plugin one returning a :class:`Learner`. Both are plain objects with one method.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:                      # annotations only: the host does not import games
    from spielplatz.games.normal_form import NormalFormGame
    from spielplatz.results import Run, Solution

__all__ = ["Solver", "BatchSolver", "Learner"]


@runtime_checkable
class Solver(Protocol):
    """Computes a (coarse) correlated equilibrium of a normal-form game."""

    def solve(self, game: NormalFormGame, concept: str = "ce", **options: Any) -> Solution:
        """Return a :class:`~spielplatz.Solution` for ``game``.

        Unknown options raise :class:`~spielplatz.errors.SpielplatzError`.
        """


@runtime_checkable
class BatchSolver(Solver, Protocol):
    """A solver that also solves many games of one shape at once."""

    def solve_batch(self, payoffs: Any, concept: str = "ce", **options: Any) -> Any:
        """Solve ``payoffs`` of shape ``[B, N, A_1, ..., A_N]``; see :func:`spielplatz.solve_batch`."""


@runtime_checkable
class Learner(Protocol):
    """Trains agents on a game (see :mod:`spielplatz.learning.games` for game protocols)."""

    def learn(self, game: Any, *, steps: int, seeds: Any = (0,), **options: Any) -> Run:
        """Train from each seed for ``steps`` steps and return the :class:`~spielplatz.Run`."""

