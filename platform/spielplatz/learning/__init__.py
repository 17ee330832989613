"""The learner side: the game protocols learners accept (``spielplatz.learning.games``,
re-exported here)."""

from spielplatz.learning.games import *  # noqa: F401,F403
from spielplatz.learning.games import __all__  # noqa: F401
