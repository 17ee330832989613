"""Evaluating a trained model per game class (NES appendix, Table 4).

For every class: mean and 95th percentile of the (C)CE gap of the network's
answer and of the uniform joint (a reference), the *solver gap* (half the L1
distance to the exact MWMRE answer, which is a total-variation distance
in [0, 1]), and the throughput of both solvers in games per second.

Gaps are measured on the games mapped to the L2 invariant subspace (eq. 16a:
zero mean, L2 norm ``sqrt(|A|)`` per player, so payoffs have unit variance);
the answers do not depend on that map, and the numbers of different classes
become comparable.

Games are drawn through the host's game registry: a game that registered a
``batch_sampler`` (as :mod:`spielplatz_random` does) is sampled in one call,
any other registered game string is loaded once per seed.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np

from spielplatz.equilibria import deviations, scaling

__all__ = ["DEFAULT_CLASSES", "sample_games", "score_joints", "evaluate_model"]

#: Table 4 classes evaluated by default (L1, L2, Linf and GAMUT-style D-rows).
DEFAULT_CLASSES = (
    "l2_invariant", "l1_invariant", "linf_invariant", "random_game", "covariant_game",
    "covariant_game_pos", "covariant_game_zero", "dispersion_game", "minimum_effort_game",
    "travelers_dilemma", "bertrand_oligopoly", "polymatrix_game(graph=complete)",
    "graphical_game(graph=random)", "local_effect_game(graph=star)",
)


def sample_games(spec: str, shape: Sequence[int], num_games: int, seed: int) -> np.ndarray:
    """Payoffs ``[num_games, N, A...]`` of the registered game class ``spec``
    (:func:`spielplatz.sample_games`)."""
    import spielplatz as sp

    return sp.sample_games(spec, shape, num_games, seed)


def get_host_games() -> list[str]:
    from spielplatz import get_host

    return [e.name for e in get_host().registry("game").entries()]


def _gaps(payoffs: np.ndarray, joints: np.ndarray, concept: str) -> np.ndarray:
    return np.maximum(deviations.batch_epsilons(payoffs, joints, concept).max(axis=1), 0.0)


def _stats(x: np.ndarray) -> dict:
    return {"mean": float(np.mean(x)), "p95": float(np.percentile(x, 95))}


def score_joints(payoffs: np.ndarray, joints: np.ndarray, concept: str,
                 exact: np.ndarray | None = None) -> dict:
    """The acceptance numbers of ``joints`` ``[B, A...]`` answering ``payoffs``: (C)CE gap
    on the games mapped to the L2 invariant subspace (mean, p95), the uniform joint's,
    their ratio, and with ``exact`` (the exact answers) the solver gap, half the L1
    distance to it."""
    n = payoffs.shape[1]
    scaled = scaling.project_invariant(payoffs, m=2, num_players=n)
    gaps = _gaps(scaled, joints, concept)
    uniform = np.full(joints.shape, 1.0 / joints[0].size)
    ugaps = _gaps(scaled, uniform, concept)
    row = {"gap": _stats(gaps), "uniform_gap": _stats(ugaps),
           "gap_ratio": float(np.mean(ugaps) / max(np.mean(gaps), 1e-300))}
    if exact is not None:
        sgap = 0.5 * np.abs(joints - exact).reshape(len(joints), -1).sum(axis=1)
        row["solver_gap"] = _stats(sgap)
    return row


def evaluate_model(model: Any, classes: Sequence[str] = DEFAULT_CLASSES, num_games: int = 200,
                   seed: int = 12345, exact: bool = True,
                   progress: Callable[[str], None] | None = None) -> dict:
    """Evaluate ``model`` (a :class:`~spielplatz_nes.model.TrainedModel`) per class.

    Returns
    -------
    dict
        ``{"model", "concept", "shape", "num_games", "classes": {spec: {...}}}``
        with, per class, ``gap`` / ``uniform_gap`` / ``solver_gap`` (mean and
        p95), ``nes_games_per_s`` and ``maxent_games_per_s``.
    """
    from spielplatz.equilibria import mwmre

    cfg = model.config
    shape = cfg.shape
    n = len(shape)
    out = {"model": model.name, "concept": cfg.concept, "shape": cfg.shape_str,
           "parameterization": cfg.parameterization, "num_games": num_games, "seed": seed,
           "classes": {}}
    warm = sample_games("l2_invariant", shape, num_games, seed + 999_999) \
        if "l2_invariant" in get_host_games() else np.random.default_rng(0).normal(
            size=(num_games, n) + shape)
    model.predict(warm)                                   # compile outside the timing
    if exact:
        mwmre.solve_batch(warm, cfg.concept)
    for i, spec in enumerate(classes):
        if progress:
            progress(spec)
        # a different seed per class: classes that are affine images of each other
        # (random_game and linf_invariant) must not get the same games
        payoffs = sample_games(spec, shape, num_games, seed + 1000 * i)
        t0 = time.perf_counter()
        pred = model.predict(payoffs)
        t_nes = time.perf_counter() - t0
        timing = {"nes_games_per_s": num_games / t_nes}
        exact_joint = None
        if exact:
            t0 = time.perf_counter()
            ex = mwmre.solve_batch(payoffs, cfg.concept)
            t_ex = time.perf_counter() - t0
            exact_joint = np.asarray(ex.joints)
            timing.update(maxent_games_per_s=num_games / t_ex, speedup=t_ex / t_nes)
        row = {**score_joints(payoffs, pred.joint, cfg.concept, exact_joint), **timing}
        out["classes"][spec] = row
    return out
