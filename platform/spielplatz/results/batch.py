"""A solver's answers for a batch of games of one shape (:class:`BatchSolution`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from spielplatz.equilibria import deviations, measures
from spielplatz.results.serialize import jsonable
from spielplatz.results.solution import Solution

__all__ = ["BatchSolution", "batch_measures"]


@dataclass(frozen=True, eq=False)
class BatchSolution:
    """A solver's answers for a batch of games of one shape.

    Attributes
    ----------
    solver : str
    concept : str
    joints : numpy.ndarray
        ``[B, A_1, ..., A_N]``.
    epsilons : numpy.ndarray
        Per-game, per-player epsilon achieved (largest deviation gain), ``[B, N]``.
    gaps : numpy.ndarray
        ``max(0, max_p epsilons[b, p])`` per game, ``[B]``.
    values : numpy.ndarray
        Per-game, per-player expected payoffs, ``[B, N]``.
    welfare : numpy.ndarray
        Sum of each game's values, ``[B]``.
    entropies : numpy.ndarray
        Shannon entropy of each joint in nats, ``[B]``.
    total_correlations : numpy.ndarray
        ``sum_p H(marginal_p) - H(joint)`` of each joint in nats, ``[B]``.
    statuses : tuple of str
        One of :data:`STATUSES` per game.
    iterations : numpy.ndarray
        ``[B]``.
    wall_time : float
        Seconds for the whole batch.
    config : dict
    extra : dict
        Solver-specific details; per-game entries have a leading batch axis
        (module docstring), the others describe the whole batch.
    game_keys : dict
        The names that per-game entries of ``extra`` take in ``batch[i]``, where they
        differ (e.g. ``{"paths": "path"}``: the single-game solve's own names).

    ``batch[i]`` is game ``i``'s :class:`Solution` (named ``batch[i]``, default
    player and action names, the batch's wall time shared equally, the per-game
    entries of ``extra`` taken at ``i`` and named by ``game_keys``).
    """

    solver: str
    concept: str
    joints: np.ndarray
    epsilons: np.ndarray
    gaps: np.ndarray
    values: np.ndarray
    welfare: np.ndarray
    entropies: np.ndarray
    total_correlations: np.ndarray
    statuses: tuple
    iterations: np.ndarray
    wall_time: float = 0.0
    config: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    game_keys: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # read-only copies, as in a Solution: the measures stay those of these joints
        for name in ("joints", "epsilons", "gaps", "values", "welfare", "entropies",
                     "total_correlations", "iterations"):
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                frozen = value.copy()
                frozen.setflags(write=False)
                object.__setattr__(self, name, frozen)

    @classmethod
    def from_joints(cls, payoffs: Any, joints: Any, concept: str, *, solver: str,
                    statuses: Any, iterations: Any, epsilons: Any = None,
                    wall_time: float = 0.0, config: Mapping | None = None,
                    extra: Mapping | None = None,
                    game_keys: Mapping | None = None) -> "BatchSolution":
        """Measure ``joints`` ``[B, A...]`` on ``payoffs`` ``[B, N, A...]`` (vectorised)
        and attach the solver's details; ``epsilons`` ``[B, N]`` if already computed."""
        payoffs = np.asarray(payoffs, dtype=float)
        joints = np.asarray(joints, dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            if epsilons is None:
                epsilons = deviations.batch_epsilons(payoffs, joints, concept)
            epsilons = np.asarray(epsilons, dtype=float)
            vals, welfare, entropies, tcs = batch_measures(payoffs, joints)
            gaps = np.maximum(epsilons.max(axis=1, initial=-np.inf), 0.0)
        return cls(solver=solver, concept=concept.lower(), joints=joints, epsilons=epsilons,
                   gaps=gaps, values=vals, welfare=welfare, entropies=entropies,
                   total_correlations=tcs, statuses=tuple(str(x) for x in statuses),
                   iterations=np.asarray(iterations, dtype=int), wall_time=float(wall_time),
                   config=dict(config or {}), extra=dict(extra or {}),
                   game_keys=dict(game_keys or {}))

    def __len__(self) -> int:
        return len(self.statuses)

    def __getitem__(self, i: Any) -> Any:
        """Game ``i``'s :class:`Solution`; a slice gives a list of them."""
        b = len(self)
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(b))]
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"batch indices are integers or slices, not {type(i).__name__}")
        if not -b <= i < b:
            raise IndexError(f"batch index {i} out of range for {b} games")
        i = int(i) % b
        n = self.epsilons.shape[1]
        shape = self.joints.shape[1:]
        return Solution(
            game=f"batch[{i}]", concept=self.concept, joint=self.joints[i],
            epsilons=self.epsilons[i], gap=float(self.gaps[i]), values=self.values[i],
            welfare=float(self.welfare[i]), entropy=float(self.entropies[i]),
            total_correlation=float(self.total_correlations[i]),
            player_names=tuple(f"P{p + 1}" for p in range(n)),
            action_names=tuple(tuple(str(a) for a in range(k)) for k in shape),
            solver=self.solver, config=dict(self.config), status=self.statuses[i],
            iterations=int(self.iterations[i]), wall_time=self.wall_time / max(b, 1),
            extra={self.game_keys.get(k, k): v
                   for k, v in _game_extra(self.extra, i, b).items()})

    @property
    def all_optimal(self) -> bool:
        return all(s == "optimal" for s in self.statuses)

    def to_dict(self) -> dict:
        return jsonable({"solver": self.solver, "concept": self.concept,
                          "joints": self.joints, "epsilons": self.epsilons, "gaps": self.gaps,
                          "values": self.values, "welfare": self.welfare,
                          "entropies": self.entropies,
                          "total_correlations": self.total_correlations,
                          "statuses": list(self.statuses),
                          "iterations": self.iterations, "wall_time": self.wall_time,
                          "config": self.config, "extra": self.extra})

    def __str__(self) -> str:
        counts: dict = {}
        for s in self.statuses:
            counts[s] = counts.get(s, 0) + 1
        shape = "x".join(str(a) for a in self.joints.shape[1:])
        status = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        gaps = np.asarray(self.gaps, dtype=float)
        return (f"{len(self)} {shape} games: {self.concept.upper()} by {self.solver} - {status}, "
                f"{self.wall_time:.3g} s\n"
                f"gap: max {gaps.max(initial=0.0):.3e}, median {np.median(gaps):.3e}   "
                f"entropy: mean {np.mean(self.entropies):.6g} nats")


def batch_measures(payoffs: Any, joints: Any) -> tuple:
    """``(values [B, N], welfare [B], entropies [B], total_correlations [B])`` of
    ``joints`` ``[B, A...]`` on ``payoffs`` ``[B, N, A...]``, vectorised over the batch
    (entropies and total correlations in nats, clipped at 0 as in :func:`evaluate`)."""
    payoffs = np.asarray(payoffs, dtype=float)
    joints = np.asarray(joints, dtype=float)
    b, n = payoffs.shape[:2]
    vals = (payoffs * joints[:, None]).reshape(b, n, -1).sum(axis=2)
    ent = -measures.xlogx(joints).reshape(b, -1).sum(axis=1)
    axes = tuple(range(1, n + 1))
    marg = sum(-measures.xlogx(joints.sum(axis=tuple(a for a in axes if a != p + 1))).sum(axis=1)
               for p in range(n))
    return (vals, vals.sum(axis=1), np.maximum(ent, 0.0) + 0.0,
            np.maximum(marg - ent, 0.0) + 0.0)


def _game_extra(extra: Mapping, i: int, b: int) -> dict:
    """Game ``i``'s view of a batch's ``extra``: arrays with a leading batch axis (also
    inside lists, e.g. per-player duals, and dicts) taken at ``i``, the rest kept."""
    def pick(value: Any) -> Any:
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == b:
            return value[i].item() if value.ndim == 1 else value[i]
        if isinstance(value, Mapping):
            return {k: pick(v) for k, v in value.items()}
        if (isinstance(value, (list, tuple)) and value
                and all(isinstance(v, np.ndarray) for v in value)):
            return [pick(v) for v in value]
        return value

    return {k: pick(v) for k, v in extra.items()}


