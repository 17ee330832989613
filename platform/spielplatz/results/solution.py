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
    the (C)CE polytope (a maximum-entropy solver: ``-KL(joint || prior) + mu
    W(joint)`` in nats, less its target penalty; a welfare LP: the chosen welfare
    objective in payoff units). ``None`` for a solver that maximises no explicit
    function.
``extra`` keys shared by every solver that has them (the rest are its own details)
    ``certificate``: the host's check (:class:`spielplatz.equilibria.certificate.Certificate`
    as a dict: ``certified``, ``violation``, ``bound``, ``tolerance``, ``method``,
    ``valid_distribution``); ``residuals``: a dict of the solver's optimality
    residuals by name (the MWMRE solve: ``kkt`` and ``dual_gap``; an LP:
    ``duality_gap``), floats; ``duals``: per player a numpy array, CE
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

from spielplatz.equilibria import deviations, measures
from spielplatz.equilibria.memo import ArrayMemo
from spielplatz.games.normal_form import NormalFormGame
from spielplatz.results.serialize import jsonable

__all__ = ["Evaluation", "Solution", "evaluate", "STATUSES"]

#: Statuses a solver may report.
STATUSES = ("optimal", "approximate", "infeasible", "iteration_limit", "failed")

NATS_PER_BIT = math.log(2.0)

@dataclass(frozen=True, eq=False)
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

    def __post_init__(self) -> None:
        # read-only copies: the measures and the status stay those of this joint
        # (compared by identity: eq=False, as arrays have no single truth value)
        for name in ("joint", "epsilons", "values"):
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                frozen = value.copy()
                frozen.setflags(write=False)
                object.__setattr__(self, name, frozen)

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
        return jsonable({
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
    return Evaluation(**_evaluation_fields(game, joint, concept))


def _evaluation_fields(game: NormalFormGame, joint: Any, concept: str) -> dict:
    """The fields of :func:`evaluate`'s :class:`Evaluation`."""
    joint = np.asarray(joint, dtype=float)
    eps, vals, entropy, correlation = _measures(game.payoffs, joint, concept)
    return dict(
        game=game.name, concept=concept.lower(), joint=joint, epsilons=eps.copy(),
        gap=float(max(eps.max(), 0.0)), values=vals.copy(), welfare=float(vals.sum()),
        entropy=entropy, total_correlation=correlation,
        player_names=game.player_names, action_names=game.action_names)


#: The last measures of small games: a solver's answer is measured by the solver that
#: builds its Solution and again by the host's audit, on the same bytes (the arrays are
#: copied into each Evaluation, never handed out).
_MEMO = ArrayMemo()


def _measures(payoffs: np.ndarray, joint: np.ndarray, concept: str) -> tuple:
    """``(epsilons [N], values [N], entropy, total correlation)`` of ``joint``."""
    payoffs = np.asarray(payoffs, dtype=float)
    return _MEMO.get(lambda: _measured(payoffs, joint, concept), concept.lower(), payoffs, joint)


def _measured(payoffs: np.ndarray, joint: np.ndarray, concept: str) -> tuple:
    entropy = float(measures.entropy(joint))
    # total correlation: sum of the marginals' entropies less the joint's (computed once)
    marginal_entropy = float(-measures.xlogx(np.concatenate(measures.marginals(joint))).sum())
    return (np.asarray(deviations.epsilons(payoffs, joint, concept), dtype=float),
            np.asarray(measures.values(payoffs, joint), dtype=float),
            float(max(entropy, 0.0)) + 0.0,  # never -0.0
            float(max(marginal_entropy - entropy, 0.0)))


@dataclass(frozen=True, eq=False)
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
        return cls(**_evaluation_fields(game, joint, concept), solver=solver,
                   config=dict(config or {}), status=status,
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
        out.update(jsonable({"solver": self.solver, "config": self.config,
                              "status": self.status, "iterations": self.iterations,
                              "wall_time": self.wall_time, "objective": self.objective,
                              "extra": self.extra}))
        return out

    def __str__(self) -> str:
        head = (f"{self.game}: {self.concept.upper()} by {self.solver} - {self.status}, "
                f"{self.iterations} iterations, {self.wall_time:.3g} s")
        return "\n".join([head] + self._summary_lines())


