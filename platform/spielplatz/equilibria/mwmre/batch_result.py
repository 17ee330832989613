"""The result of :func:`~spielplatz.equilibria.mwmre.batched.solve_batch`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BatchResult"]


@dataclass(frozen=True)
class BatchResult:
    """The exact MWMRE answers of a batch of games (payoff units).

    Attributes
    ----------
    payoffs : ndarray ``[B, N, A...]``
        The games (float64).
    joints : ndarray ``[B, A...]``
    epsilons : ndarray ``[B, N]``
        Achieved (C)CE gap per game and player.
    statuses : ndarray of str ``[B]``
        ``optimal``, ``approximate`` or ``failed`` (:func:`~spielplatz.equilibria.mwmre.exact.status_of`).
    iterations : ndarray ``[B]``
    config : dict
        The validated options (per-game arrays left out).
    duals : list of ndarray
        Per player ``[B, A_p, A_p]`` (CE) or ``[B, A_p]`` (CCE): the dual minimisers on
        each answer's support (recommendations proven unplayable keep the duals that
        proved it; a warm start from them proves those zeros again at once).
    residuals : dict
        ``kkt``: the projected dual gradient per game ``[B]`` (range-1 units).
    certificate : dict
        ``certified``, ``violation`` and ``tolerance`` per game ``[B]``.
    epsilon_required, payoff_scales : ndarray ``[B, N]``, ``[B]``
    fallback : list of int
        Games re-solved on the exact single-game path.
    paths : ndarray of str ``[B]``
        ``batch`` or ``exact``.
    batch_time : float
        Seconds on the batched path (for small games, where the host threads finish
        their shares as they go: certification, zeros and exact re-solves included).
    support_routes : ndarray of str ``[B]``
        How the answer's zeros were found: ``none`` (no mass below ``1e-9``),
        ``dominance`` (exact zeros certified by the duals; every other mass below
        ``1e-9``, if any, proven positive), ``interior`` (no zeros: the masses below
        ``1e-9`` proven positive by a CE that plays every joint action), ``farkas``
        (zeros proven by a Farkas certificate, no exact CE putting more than 1e-12 on
        them, the rest proven positive), ``lp`` (the support LP's: cells it keeps may
        hold masses far below ``1e-9``, as in the single-game path), ``vanishing``
        (some masses below ``1e-9`` are left as found, besides any exact zeros the
        duals certified). ``interior``, ``farkas`` and ``lp`` come with ``exact_zeros``
        (or the exact path's fallback).
    """

    payoffs: np.ndarray
    joints: np.ndarray
    epsilons: np.ndarray
    statuses: np.ndarray
    iterations: np.ndarray
    config: dict
    duals: list
    residuals: dict
    certificate: dict
    epsilon_required: np.ndarray
    payoff_scales: np.ndarray
    fallback: list = field(default_factory=list)
    paths: Any = None
    batch_time: float = 0.0
    support_routes: Any = None

    def measured(self) -> dict:
        """``epsilons``, ``statuses`` and ``iterations``, as ``BatchSolution.from_joints``
        takes them."""
        return {"epsilons": self.epsilons, "statuses": self.statuses,
                "iterations": self.iterations}

    def extra(self) -> dict:
        """The solver-specific details a ``BatchSolution`` carries in ``extra``."""
        return {"duals": self.duals, "residuals": self.residuals,
                "certificate": self.certificate, "epsilon_required": self.epsilon_required,
                "payoff_scales": self.payoff_scales, "fallback": self.fallback,
                "paths": self.paths, "batch_time": self.batch_time,
                "support_routes": self.support_routes}
