"""Named games and batch samplers, one pair per distribution.

``l2_invariant(shape=8x8,seed=3)`` (through :func:`spielplatz.load_game`) is
game 0 of ``batch_l2_invariant(shape="8x8", batch_size=1, seed=3)``: a named
game is a batch of one with the same seed.
"""

from __future__ import annotations

from typing import Any

from .distributions import CLASSES, parse_shape, sample

__all__ = ["load", "batch"]


def load(name: str, shape: Any = "8x8", seed: int = 0, **params: Any) -> Any:
    """One game of class ``name`` as a :class:`spielplatz.NormalFormGame`."""
    from spielplatz.games.gamestring import format_game_string
    from spielplatz.games.normal_form import NormalFormGame

    dims = parse_shape(shape)
    payoffs = sample(name, dims, 1, seed, **params)[0]
    full = format_game_string(name, {"shape": "x".join(map(str, dims)), "seed": seed, **params})
    return NormalFormGame(payoffs, name=full, description=CLASSES[name][1])


def batch(name: str, shape: Any = "8x8", batch_size: int = 1, seed: int = 0,
          **params: Any) -> Any:
    """Payoffs ``[batch_size, N, A_1, ..., A_N]`` of class ``name`` (numpy, float64)."""
    return sample(name, shape, batch_size, seed, **params)


def _make(name: str) -> tuple:
    # Parameters are checked by spielplatz.load_game from the registered ``parameters=``
    # (spielplatz_random.GAMES); these pass on what they are given.
    def game(shape: Any = "8x8", seed: int = 0, **params: Any) -> Any:
        return load(name, shape, seed, **params)

    def sampler(shape: Any = "8x8", batch_size: int = 1, seed: int = 0, **params: Any) -> Any:
        return batch(name, shape, batch_size, seed, **params)

    doc = CLASSES[name][1]
    game.__doc__ = f"One game: {doc}."
    sampler.__doc__ = f"Payoffs [B, N, A...]: {doc}."
    game.__name__, sampler.__name__ = name, f"batch_{name}"
    game.__qualname__, sampler.__qualname__ = name, f"batch_{name}"
    return game, sampler


for _name in CLASSES:
    globals()[_name], globals()[f"batch_{_name}"] = _make(_name)
    __all__ += [_name, f"batch_{_name}"]
