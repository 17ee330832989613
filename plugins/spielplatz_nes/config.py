"""Model and training configurations (no jax: reading a model's file needs only these).

:mod:`spielplatz_nes.core` re-exports them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from spielplatz.equilibria import deviations

from . import parameterizations as pz

__all__ = ["ModelConfig", "TrainConfig", "parse_shape", "MAX_CHANNELS", "DEFAULT_ARCHITECTURE"]

#: Section D.1: [(32, 32, 32, 32, 32), 64, (32, 32)].
DEFAULT_ARCHITECTURE = {"payoff_channels": (32, 32, 32, 32, 32), "dual_channels": 64,
                        "dual_layers": (32, 32)}


def parse_shape(shape: Any) -> tuple[int, ...]:
    """``"8x8"`` / ``(8, 8)`` -> ``(8, 8)`` (the host's :func:`spielplatz.validation.as_shape`,
    at least two players)."""
    from spielplatz.validation import as_shape

    return as_shape(shape, "shape", min_players=2, max_joint=None)


#: Largest channel count of a layer (a guard against typos such as 320000).
MAX_CHANNELS = 4096


def _channels(value: Any, name: str, allow_empty: bool = False) -> tuple:
    """Channel counts as a tuple of ints in ``1..MAX_CHANNELS``."""
    from spielplatz.validation import as_int

    try:
        counts = tuple(value)
    except TypeError:
        counts = (value,)
    if not counts and not allow_empty:
        raise ValueError(f"{name} needs at least one layer")
    return tuple(as_int(c, f"{name} channel count", minimum=1, maximum=MAX_CHANNELS)
                 for c in counts)


@dataclass(frozen=True)
class ModelConfig:
    """What a trained model is: problem, game shape and architecture.

    Two checkpoints are compatible only if their ``ModelConfig`` is equal.
    ``rho`` overrides the parameterization's ``rho`` (Theorem 1's weight of the
    distance to the target epsilon; larger is closer to the exact epsilon = 0 answer).
    """

    concept: str = "cce"
    shape: tuple = (8, 8)
    parameterization: str = "ME"
    payoff_channels: tuple = DEFAULT_ARCHITECTURE["payoff_channels"]
    dual_channels: int = DEFAULT_ARCHITECTURE["dual_channels"]
    dual_layers: tuple = DEFAULT_ARCHITECTURE["dual_layers"]
    full_payoff_pooling: bool = False
    aligned_action_pooling: bool = False
    rho: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "concept", deviations.check_concept(self.concept))
        object.__setattr__(self, "shape", parse_shape(self.shape))
        object.__setattr__(self, "parameterization", pz.get(self.parameterization).name)
        object.__setattr__(self, "payoff_channels",
                           _channels(self.payoff_channels, "payoff_channels"))
        object.__setattr__(self, "dual_channels",
                           _channels((self.dual_channels,), "dual_channels")[0])
        object.__setattr__(self, "dual_layers",
                           _channels(self.dual_layers, "dual_layers", allow_empty=True))
        if self.rho is not None:
            if not float(self.rho) > 0:
                raise ValueError(f"rho must be > 0, got {self.rho}")
            object.__setattr__(self, "rho", float(self.rho))

    @property
    def param(self) -> pz.Parameterization:
        return pz.get(self.parameterization)

    @property
    def shape_str(self) -> str:
        return "x".join(map(str, self.shape))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape)
        d["payoff_channels"] = list(self.payoff_channels)
        d["dual_layers"] = list(self.dual_layers)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained (D.2 defaults, except the batch size and step count).

    ``schedule_scale`` multiplies the iteration boundaries of the D.2
    learning-rate schedule (1.0 = the paper's, over 1e8 steps); a short CPU
    training uses e.g. ``steps / 1e7`` so that the whole schedule happens.
    """

    steps: int = 2000
    batch_size: int = 256
    learning_rate: float = 4e-4
    clipping: float = 1e-3
    weight_decay: float = 1e-7
    schedule_scale: float = 1.0
    seed: int = 0
    checkpoint_every: int = 500
    log_every: int = 10

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
