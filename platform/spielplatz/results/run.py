"""The history of a learner's training over one or many seeds (:class:`Run`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from spielplatz.results.serialize import jsonable

__all__ = ["Run"]


@dataclass(frozen=True, eq=False)
class Run:
    """The history of a learner's training.

    Attributes
    ----------
    learner : str
    game : str
    config : dict
    seeds : tuple of int
    metrics : dict of str to numpy.ndarray
        Each ``[num_seeds, num_records, ...]``, recorded at ``steps``.
    steps : numpy.ndarray
        Training step of each record, ``[num_records]``.
    final : dict
        Final state (strategies, mixing matrices, ...), JSON-ready arrays.
    wall_time : float
    diverged : tuple of bool
        Per seed: did the run diverge (the learner's criterion, e.g. a
        non-finite or exploding loss; ``config["divergence"]`` says which)?
        Empty means that no seed diverged (or the learner does not check).
    diverged_step : tuple of (int or None)
        Per seed: the first recorded step at which the run was found diverged,
        ``None`` for the others.
    agents : dict or None
        The trained agents, for later play (:mod:`spielplatz.learning.agents`):
        ``{"kind", "game", "learners", "players": [per-player arrays [seeds, ...]]}``.

    Summaries (``__str__``, :meth:`summary`, ``spielplatz learn``) are over the
    seeds that did not diverge; ``metrics`` keeps every seed.
    """

    learner: str
    game: str
    config: dict
    seeds: tuple
    metrics: dict
    steps: np.ndarray
    final: dict = field(default_factory=dict)
    wall_time: float = 0.0
    diverged: tuple = ()
    diverged_step: tuple = ()
    agents: dict | None = None

    def __post_init__(self) -> None:
        # read-only copies of the history (the summaries are of these records)
        def frozen(value: Any) -> Any:
            if not isinstance(value, np.ndarray):
                return value
            out = value.copy()
            out.setflags(write=False)
            return out

        object.__setattr__(self, "steps", frozen(self.steps))
        object.__setattr__(self, "metrics", {k: frozen(v) for k, v in self.metrics.items()})

    @property
    def diverged_mask(self) -> np.ndarray:
        """``[num_seeds]`` booleans, ``True`` where the seed diverged."""
        if not self.diverged:
            return np.zeros(len(self.seeds), dtype=bool)
        return np.asarray(self.diverged, dtype=bool)

    @property
    def diverged_seeds(self) -> tuple:
        """The diverged seeds with the step each was found diverged: ``((seed, step), ...)``."""
        steps = self.diverged_step or (None,) * len(self.seeds)
        return tuple((s, st) for s, st, d in zip(self.seeds, steps, self.diverged_mask) if d)

    def final_metrics(self, include_diverged: bool = True) -> dict[str, np.ndarray]:
        """Each metric's last record, per seed (without the diverged seeds if asked)."""
        keep = slice(None) if include_diverged else ~self.diverged_mask
        return {k: np.asarray(v)[keep, -1] for k, v in self.metrics.items()}

    def summary(self) -> dict[str, dict[str, float | None]]:
        """Mean, median, std, min and max of each scalar metric's last record over the
        seeds that did not diverge, leaving out records that are not numbers (NaN: a
        metric not defined yet, e.g. an episode's before any episode ended), and
        ``count``, the seeds they are over; ``None`` where no seed is left."""
        out: dict[str, dict[str, float | None]] = {}
        for key, value in self.final_metrics(include_diverged=False).items():
            v = np.asarray(value, dtype=float)
            if v.ndim != 1:
                continue
            v = v[~np.isnan(v)]
            if v.size == 0:
                out[key] = dict.fromkeys(("mean", "median", "std", "min", "max"))
            else:
                out[key] = {"mean": float(v.mean()), "median": float(np.median(v)),
                            "std": float(v.std()), "min": float(v.min()), "max": float(v.max())}
            out[key]["count"] = int(v.size)
        return out

    def without_diverged(self) -> "Run":
        """A copy holding only the seeds that did not diverge (metrics, final state, seeds)."""
        mask = self.diverged_mask
        if not mask.any():
            return self
        keep = ~mask
        n = len(self.seeds)

        def cut(value: Any) -> Any:
            if isinstance(value, Mapping):
                return {k: cut(v) for k, v in value.items()}
            if isinstance(value, list):
                return [cut(v) for v in value]
            if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == n:
                return value[keep]
            return value

        import dataclasses

        return dataclasses.replace(
            self, seeds=tuple(s for s, k in zip(self.seeds, keep) if k),
            metrics={k: np.asarray(v)[keep] for k, v in self.metrics.items()},
            final=cut(self.final), diverged=(False,) * int(keep.sum()),
            diverged_step=(None,) * int(keep.sum()), agents=cut(self.agents))

    def to_dict(self) -> dict:
        mask = self.diverged_mask
        steps = self.diverged_step or (None,) * len(self.seeds)
        return jsonable({"learner": self.learner, "game": self.game, "config": self.config,
                          "seeds": list(self.seeds), "steps": self.steps,
                          "metrics": self.metrics, "final": self.final,
                          "wall_time": self.wall_time,
                          "diverged": [bool(d) for d in mask],
                          "diverged_step": [None if s is None else int(s) for s in steps],
                          "agents": self.agents})

    def __str__(self) -> str:
        mask = self.diverged_mask
        lines = [f"{self.learner} on {self.game}: {len(self.seeds)} seeds, "
                 f"{int(self.steps[-1]) if len(self.steps) else 0} steps, {self.wall_time:.3g} s"]
        if mask.any():
            which = ", ".join(f"{s} (step {st})" for s, st in self.diverged_seeds)
            lines.append(f"  {int(mask.sum())} of {len(mask)} seeds diverged: {which}; "
                         f"statistics over the other {int((~mask).sum())}")
        kept = int((~mask).sum())
        for k, s in self.summary().items():
            if s["mean"] is None:
                lines.append(f"  {k}: - (every seed diverged)" if mask.all() else
                             f"  {k}: - (not defined yet in any seed)")
            else:
                lines.append(f"  {k}: mean {s['mean']:.6g}, median {s['median']:.6g}, "
                             f"std {s['std']:.3g}" + ("" if s["count"] == kept else
                                                       f" (over the {s['count']} of {kept} "
                                                       f"seeds where it is defined)"))
        return "\n".join(lines)
