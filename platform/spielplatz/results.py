"""Result objects: frozen dataclasses with ``to_dict()`` and a readable ``__str__``.

* :class:`Evaluation` - a joint distribution measured against a game
  (gaps, values, welfare, entropy, correlation); what ``spielplatz check`` prints.
* :class:`Solution` - an :class:`Evaluation` plus how it was obtained
  (solver, configuration, status, iterations, wall time) and its certificate.
* :class:`BatchSolution` - a solver's answers for a batch of games of one shape;
  ``batch[i]`` is game ``i``'s :class:`Solution`.
* :class:`Run` - the history of a learner's training over one or many seeds.

Every solver reports the same shape of answer (docs/api.md, "Results"):

``objective``
    The value at the returned joint of the function the solver maximises over
    the (C)CE polytope (maxent: ``-KL(joint || prior) + mu W(joint)`` in nats,
    less its target penalty; welfare: the chosen welfare objective in payoff
    units; nes: maxent's, when it refined, else ``None``). ``None`` for a
    solver that maximises no explicit function.
``extra`` keys shared by every solver that has them (the rest are its own details)
    ``certificate``: the host's check (:class:`spielplatz.certificate.Certificate`
    as a dict: ``certified``, ``violation``, ``bound``, ``tolerance``, ``method``,
    ``valid_distribution``); ``residuals``: a dict of the solver's optimality
    residuals by name (maxent and nes: ``kkt``, maxent also ``dual_gap``;
    welfare: ``duality_gap``), floats; ``duals``: per player a numpy array, CE
    ``[A_p, A_p]``, CCE ``[A_p]``, payoff units; ``epsilon_required``: ``[N]``;
    ``message``: a string. In a :class:`BatchSolution` the per-game entries
    carry a leading batch axis (``duals``: per player ``[B, ...]``;
    ``residuals``: arrays ``[B]``; ``certificate``: arrays ``[B]``).
``certificate`` (property)
    ``{"status", "gap", "tolerance", "iterations", "residuals", "certified"}``
    from the fields above, the same for every solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from . import deviations, measures
from .normal_form import NormalFormGame

__all__ = ["Evaluation", "Solution", "BatchSolution", "Run", "evaluate", "batch_measures",
           "STATUSES"]

#: Statuses a solver may report.
STATUSES = ("optimal", "approximate", "infeasible", "iteration_limit", "failed")

NATS_PER_BIT = math.log(2.0)


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: arrays as lists, numpy scalars as Python numbers,
    and every non-finite float (NaN, +-infinity) as ``None`` (JSON ``null``), the one
    convention of every JSON that Spielplatz writes (docs/user-guide.md)."""
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return _jsonable(value.item())
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(data: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``data`` (:func:`_jsonable` first: non-finite numbers are
    ``null``; ``allow_nan=False``, so no bare ``NaN``/``Infinity`` token is ever written)."""
    import json

    return json.dumps(_jsonable(data), indent=indent, allow_nan=False)


@dataclass(frozen=True)
class Evaluation:
    """A joint distribution measured on a game.

    Attributes
    ----------
    game : str
        Name of the game.
    concept : str
        ``"ce"`` or ``"cce"``.
    joint : numpy.ndarray
        Shape ``[A_1, ..., A_N]``.
    epsilons : numpy.ndarray
        Per-player epsilon achieved (largest deviation gain), ``[N]``.
    gap : float
        ``max(0, max_p epsilons[p])``.
    values : numpy.ndarray
        Per-player expected payoffs ``[N]``.
    welfare : float
        Sum of the values (utilitarian welfare).
    entropy : float
        Shannon entropy of ``joint`` in nats.
    total_correlation : float
        ``sum_p H(marginal_p) - H(joint)`` in nats (mutual information for two
        players).
    player_names, action_names
        Copied from the game, for display.
    """

    game: str
    concept: str
    joint: np.ndarray
    epsilons: np.ndarray
    gap: float
    values: np.ndarray
    welfare: float
    entropy: float
    total_correlation: float
    player_names: tuple = ()
    action_names: tuple = ()

    @property
    def marginals(self) -> list[np.ndarray]:
        return measures.marginals(self.joint)

    @property
    def entropy_bits(self) -> float:
        return self.entropy / NATS_PER_BIT

    @property
    def total_correlation_bits(self) -> float:
        return self.total_correlation / NATS_PER_BIT

    def to_dict(self) -> dict:
        return _jsonable({
            "game": self.game, "concept": self.concept,
            "players": list(self.player_names),
            "actions": [list(a) for a in self.action_names],
            "joint": self.joint, "marginals": self.marginals,
            "epsilons": self.epsilons, "gap": self.gap, "values": self.values,
            "welfare": self.welfare, "entropy": self.entropy,
            "entropy_bits": self.entropy_bits,
            "total_correlation": self.total_correlation,
            "total_correlation_bits": self.total_correlation_bits,
        })

    def _summary_lines(self) -> list[str]:
        corr = "mutual information" if self.joint.ndim == 2 else "total correlation"
        vals = ", ".join(f"{p}={v:.6g}" for p, v in zip(self.player_names, self.values))
        return [
            f"{self.concept.upper()} gap {self.gap:.3e}  (epsilon per player: "
            + ", ".join(f"{e:.3e}" for e in self.epsilons) + ")",
            f"values: {vals}   welfare: {self.welfare:.6g}",
            f"entropy: {self.entropy:.6g} nats ({self.entropy_bits:.6g} bits)   "
            f"{corr}: {self.total_correlation:.6g} nats ({self.total_correlation_bits:.6g} bits)",
        ]

    def __str__(self) -> str:
        return "\n".join([f"{self.game} ({self.concept.upper()})"] + self._summary_lines())


def evaluate(game: NormalFormGame, joint: Any, concept: str = "ce") -> Evaluation:
    """Measure ``joint`` on ``game`` as a ``concept`` (``"ce"`` or ``"cce"``)."""
    joint = np.asarray(joint, dtype=float)
    payoffs = game.payoffs
    eps = np.asarray(deviations.epsilons(payoffs, joint, concept), dtype=float)
    vals = np.asarray(measures.values(payoffs, joint), dtype=float)
    return Evaluation(
        game=game.name, concept=concept.lower(), joint=joint, epsilons=eps,
        gap=float(max(eps.max(), 0.0)), values=vals, welfare=float(vals.sum()),
        entropy=float(max(measures.entropy(joint), 0.0)) + 0.0,  # never -0.0
        total_correlation=float(max(measures.total_correlation(joint), 0.0)),
        player_names=game.player_names, action_names=game.action_names)


@dataclass(frozen=True)
class Solution(Evaluation):
    """A solver's answer: an :class:`Evaluation` plus provenance and certificate.

    Attributes
    ----------
    solver : str
        Registered solver name.
    config : dict
        The options the solver ran with.
    status : str
        One of :data:`STATUSES`. Exact solvers report ``"optimal"`` only with
        a certified ``gap``; approximate ones report ``"approximate"``.
    iterations : int
    wall_time : float
        Seconds.
    objective : float or None
        The value at the answer of the function the solver maximises over the
        (C)CE polytope, ``None`` where it maximises none (module docstring).
    extra : dict
        Solver-specific details, JSON-ready; the shared keys (``certificate``,
        ``residuals``, ``duals``, ``epsilon_required``, ``message``) have one
        layout for every solver (module docstring).
    """

    solver: str = ""
    config: dict = field(default_factory=dict)
    status: str = "optimal"
    iterations: int = 0
    wall_time: float = 0.0
    objective: float | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_joint(cls, game: NormalFormGame, joint: Any, concept: str, *, solver: str,
                   config: Mapping | None = None, status: str = "optimal",
                   iterations: int = 0, wall_time: float = 0.0,
                   objective: float | None = None, extra: Mapping | None = None) -> "Solution":
        """Measure ``joint`` on ``game`` and attach the solver's details."""
        ev = evaluate(game, joint, concept)
        return cls(**{f: getattr(ev, f) for f in Evaluation.__dataclass_fields__},
                   solver=solver, config=dict(config or {}), status=status,
                   iterations=int(iterations), wall_time=float(wall_time),
                   objective=objective, extra=dict(extra or {}))

    @property
    def approximate(self) -> bool:
        """``status == "approximate"`` (an answer, not certified optimal; never ``failed``)."""
        return self.status == "approximate"

    @property
    def certificate(self) -> dict:
        """``{"status", "gap", "tolerance", "iterations", "residuals", "certified"}``: one
        shape for every solver. ``tolerance`` (payoff units) and ``certified`` come from
        the host's check (``extra["certificate"]``, ``None`` where it did not run);
        ``residuals`` is ``extra["residuals"]`` (``{}`` where the solver has none)."""
        cert = self.extra.get("certificate") or {}
        return {"status": self.status, "gap": self.gap, "tolerance": cert.get("tolerance"),
                "iterations": self.iterations,
                "residuals": dict(self.extra.get("residuals") or {}),
                "certified": cert.get("certified")}

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(_jsonable({"solver": self.solver, "config": self.config,
                              "status": self.status, "iterations": self.iterations,
                              "wall_time": self.wall_time, "objective": self.objective,
                              "extra": self.extra}))
        return out

    def __str__(self) -> str:
        head = (f"{self.game}: {self.concept.upper()} by {self.solver} - {self.status}, "
                f"{self.iterations} iterations, {self.wall_time:.3g} s")
        return "\n".join([head] + self._summary_lines())


@dataclass(frozen=True)
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

    ``batch[i]`` is game ``i``'s :class:`Solution` (named ``batch[i]``, default
    player and action names, the batch's wall time shared equally, the per-game
    entries of ``extra`` taken at ``i``).
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

    @classmethod
    def from_joints(cls, payoffs: Any, joints: Any, concept: str, *, solver: str,
                    statuses: Any, iterations: Any, epsilons: Any = None,
                    wall_time: float = 0.0, config: Mapping | None = None,
                    extra: Mapping | None = None) -> "BatchSolution":
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
                   config=dict(config or {}), extra=dict(extra or {}))

    def __len__(self) -> int:
        return len(self.statuses)

    def __getitem__(self, i: int) -> Solution:
        b = len(self)
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
            extra=_game_extra(self.extra, i, b))

    @property
    def all_optimal(self) -> bool:
        return all(s == "optimal" for s in self.statuses)

    def to_dict(self) -> dict:
        return _jsonable({"solver": self.solver, "concept": self.concept,
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


@dataclass(frozen=True)
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
        seeds that did not diverge (``None`` where every seed diverged)."""
        out: dict[str, dict[str, float | None]] = {}
        for key, value in self.final_metrics(include_diverged=False).items():
            v = np.asarray(value, dtype=float)
            if v.ndim != 1:
                continue
            if v.size == 0:
                out[key] = dict.fromkeys(("mean", "median", "std", "min", "max"))
            else:
                out[key] = {"mean": float(v.mean()), "median": float(np.median(v)),
                            "std": float(v.std()), "min": float(v.min()), "max": float(v.max())}
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
            diverged_step=(None,) * int(keep.sum()))

    def to_dict(self) -> dict:
        mask = self.diverged_mask
        steps = self.diverged_step or (None,) * len(self.seeds)
        return _jsonable({"learner": self.learner, "game": self.game, "config": self.config,
                          "seeds": list(self.seeds), "steps": self.steps,
                          "metrics": self.metrics, "final": self.final,
                          "wall_time": self.wall_time,
                          "diverged": [bool(d) for d in mask],
                          "diverged_step": [None if s is None else int(s) for s in steps]})

    def __str__(self) -> str:
        mask = self.diverged_mask
        lines = [f"{self.learner} on {self.game}: {len(self.seeds)} seeds, "
                 f"{int(self.steps[-1]) if len(self.steps) else 0} steps, {self.wall_time:.3g} s"]
        if mask.any():
            which = ", ".join(f"{s} (step {st})" for s, st in self.diverged_seeds)
            lines.append(f"  {int(mask.sum())} of {len(mask)} seeds diverged: {which}; "
                         f"statistics over the other {int((~mask).sum())}")
        for k, s in self.summary().items():
            if s["mean"] is None:
                lines.append(f"  {k}: - (every seed diverged)")
            else:
                lines.append(f"  {k}: mean {s['mean']:.6g}, median {s['median']:.6g}, "
                             f"std {s['std']:.3g}")
        return "\n".join(lines)
