"""NormalizedScore (normative disagreement, Section 4.2) for one game, welfare set and
disagreement profile: :class:`Scorer`, :func:`normalized_score`, and
:class:`ObservedOptimum` (``max w`` on an environment, whose optimum is not known in
closed form). Re-exported by :mod:`spielplatz.learning.crossplay`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from spielplatz.equilibria.welfare_functions import welfare_set
from spielplatz.equilibria.welfare_optimum import disagreement_point, maximise
from spielplatz.errors import SpielplatzError

__all__ = ["Scorer", "ObservedOptimum", "normalized_score"]


@dataclass
class ObservedOptimum:
    """The best value of a welfare function observed in a cross-play (environments)."""

    objective: float
    value: np.ndarray
    source: str = "best observed"

    def to_dict(self) -> dict:
        return {"objective": float(self.objective), "value": np.asarray(self.value).tolist(),
                "source": self.source}


def _trajectory_params(function: Any, given: dict) -> dict:
    accepted = inspect.signature(function.function).parameters
    return {k: v for k, v in given.items() if k in accepted}


def _best(normalized: dict) -> float:
    finite = [v for v in normalized.values() if np.isfinite(v)]
    return float(max(finite)) if finite else float("nan")


class Scorer:
    """NormalizedScore (Section 4.2) for one game, welfare set W and disagreement profile.

    Value-based welfare is evaluated on average rewards per step relative to ``d``;
    welfare on trajectories on reward trajectories ``[episodes, T, 2]`` (averaged over
    the episodes), its disagreement value on the constant trajectory ``d`` and its
    maximum over the stationary profiles of the same length ``horizon``.
    """

    def __init__(self, welfare: Any, payoffs: Any, disagreement: Any, *, horizon: int = 100,
                 params: dict | None = None):
        self.d = np.asarray(disagreement, dtype=float)
        self.horizon = int(horizon)
        self.params = dict(params or {})
        self.functions = welfare_set(welfare, "the score's welfare set")
        self.points: dict = {}
        self.optima: dict = {}
        if payoffs is not None:
            self.payoffs = np.asarray(payoffs, dtype=float)
            self.points = {"ideal": self.payoffs.reshape(len(self.d), -1).max(axis=1)}
            self.optima = {w.name: maximise(w, self.payoffs, disagreement=self.d,
                                            horizon=self.horizon, params=self._params(w))
                           for w in self.functions}
        flat = np.broadcast_to(self.d, (self.horizon, len(self.d)))
        self.base = {w.name: self._welfare(w, self.d, flat[None]) for w in self.functions}
        if self.optima and all(not self._span(w) > 0 for w in self.functions):
            shown = "; ".join(f"{w.name}: best {self.optima[w.name].objective:.6g}, at the "
                              f"point {self.base[w.name]:.6g}" for w in self.functions)
            raise SpielplatzError(
                f"the disagreement point ({', '.join(f'{x:g}' for x in self.d)}) is at or "
                f"above the best the game allows for every welfare function ({shown}): the "
                f"NormalizedScore (Section 4.2) is undefined (no gains from cooperation over "
                f"it); give a lower disagreement point (--disagreement) or another welfare set")

    def _span(self, w: Any) -> float:
        """``max w - w(pi^d)``, 0 within rounding of the two (a near-zero denominator is
        no score)."""
        best, base = self.optima[w.name].objective, self.base[w.name]
        span = best - base
        return span if span > 1e-12 * max(1.0, abs(best), abs(base)) else 0.0

    def observe(self, values: Any, trajectories: Any) -> None:
        """Without payoffs (an environment): ``max w`` is the best of ``values [cells,
        2]`` (trajectory welfare: of ``trajectories [cells, episodes, T, 2]``); the ideal
        point of Kalai-Smorodinsky the best observed value of each player."""
        values = np.asarray(values, dtype=float)
        self.points = {"ideal": values.max(axis=0)}
        for w in self.functions:
            scores = [self._welfare(w, v, t) for v, t in zip(values, trajectories)]
            best = int(np.argmax(scores))
            self.optima[w.name] = ObservedOptimum(float(scores[best]), values[best])
        flat = np.broadcast_to(self.d, (self.horizon, len(self.d)))
        self.base = {w.name: self._welfare(w, self.d, flat[None]) for w in self.functions}

    def _params(self, w: Any) -> dict | None:
        return _trajectory_params(w, self.params) if w.defined_on == "trajectories" else None

    def _welfare(self, w: Any, value: Any, trajectories: Any) -> float:
        if w.defined_on == "trajectories":
            if trajectories is None:
                raise SpielplatzError(f"welfare function {w.name!r} is defined on "
                                      f"trajectories: the score needs reward trajectories")
            return float(np.mean(w.of_trajectories(np.asarray(trajectories, dtype=float),
                                                   **self._params(w))))
        points = {p: self.points[p] for p in w.needs if p in self.points}
        return float(w(np.asarray(value, dtype=float), self.d, **points))

    def normalized(self, value: Any, trajectories: Any = None) -> dict:
        """``(w(pi) - w(pi^d)) / (max w - w(pi^d))`` per ``w`` (NaN where the optimum is
        not above the disagreement value)."""
        out = {}
        for w in self.functions:
            span = self._span(w)
            out[w.name] = ((self._welfare(w, value, trajectories) - self.base[w.name]) / span
                           if span > 0 else float("nan"))
        return out

    def score(self, value: Any, trajectories: Any = None) -> float:
        """The NormalizedScore: the best normalised welfare over W."""
        return _best(self.normalized(value, trajectories))


def normalized_score(value: Any, welfare: Any, payoffs: Any, disagreement: Any = None, *,
                     trajectories: Any = None, horizon: int = 100,
                     params: dict | None = None) -> dict:
    """NormalizedScore of one payoff profile ``value`` (average rewards per step) on the
    matrix game ``payoffs``: ``{"score", "normalized": {w: ...}}``.

    Raises :class:`SpielplatzError` when no welfare function of ``welfare`` can exceed
    its value at the disagreement point on this game (the score is undefined)."""
    payoffs = np.asarray(payoffs, dtype=float)
    d = disagreement_point(payoffs) if disagreement is None else disagreement
    scorer = Scorer(welfare, payoffs, d, horizon=horizon, params=params)
    normalized = scorer.normalized(value, trajectories)
    return {"score": _best(normalized), "normalized": normalized}
