"""Training through the host."""

from __future__ import annotations

from typing import Any

from spielplatz.api.games import load_game
from spielplatz.api.registry import CheckedLearner, call_plugin, instantiate
from spielplatz.plugins.host import get_host

__all__ = ["learn"]


def learn(game: Any, learner: str, *, steps: int, seeds: Any = (0,), **options: Any) -> Any:
    """Train ``learner`` on ``game`` and return its :class:`~spielplatz.Run`."""
    if isinstance(seeds, int):
        seeds = (seeds,)
    entry = get_host().registry("learner").get(learner)
    impl = CheckedLearner(instantiate(entry, "learner"), entry)
    loaded = load_game(game)
    return call_plugin("learner", learner, entry.plugin,
                       lambda: impl.learn(loaded, steps=steps, seeds=tuple(seeds), **options))
