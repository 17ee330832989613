"""Errors raised by Spielplatz.

Every error a user can cause derives from :class:`SpielplatzError`; the command
line prints its message as one line on stderr and exits non-zero.
"""

from __future__ import annotations


class SpielplatzError(Exception):
    """Base class of every error that is the user's to fix."""


class UnknownNameError(SpielplatzError, KeyError):
    """A game, solver, learner, welfare function or plugin name is unknown."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NameCollisionError(SpielplatzError):
    """Two plugins registered the same name."""


class GameError(SpielplatzError, ValueError):
    """A game is malformed: wrong shapes, NaN/inf payoffs, bad parameters."""


class GameFileError(GameError):
    """A game or distribution file cannot be read."""


class GameTooLargeError(GameError):
    """A game is too large to convert to normal form."""


class OutputPathError(SpielplatzError, ValueError):
    """An output file or folder cannot be written (missing or read-only folder, bad suffix)."""


class PluginError(SpielplatzError):
    """A plugin failed to import or to register."""


class SolverWarning(UserWarning):
    """The host found a solver's answer labelled better than it measures."""


class OptionError(SpielplatzError, ValueError):
    """An option, parameter or argument has a value of the wrong type or range."""


class MemoryLimitError(SpielplatzError):
    """A step would need more memory than the limit (``SPIELPLATZ_MEMORY_LIMIT``)."""
