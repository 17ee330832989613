"""Benchmarks of the neural solver ``nes`` against the exact ``maxent`` solver (CPU).

Run with ``.venv/bin/python -m pytest -m benchmark tests/benchmarks/test_nes_benchmark.py -s``;
the numbers are printed (and written to ``$NES_BENCHMARK_OUT`` as JSON when set) and
recorded by hand in docs/benchmarks.md, section ``## nes``.

* batched inference: games per second on 1000 L2-invariant 8x8 games, ``nes``
  (network, float32) vs ``maxent.solve_batch`` (exact, float64), both warmed up
  (compiled) on a batch of the same size first;
* refinement: ``nes`` with ``refine="auto"`` (network + exact dual steps) vs a
  cold ``maxent`` solve, per game, on the same games, median of interleaved runs.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import spielplatz as sp
from recording import Recorder

pytestmark = pytest.mark.benchmark

_record = Recorder("NES_BENCHMARK_OUT")


def _games(n: int, seed: int) -> np.ndarray:
    from spielplatz_random.distributions import sample

    return sample("l2_invariant", "8x8", n, seed=seed)


@pytest.mark.parametrize("concept", ["cce", "ce"])
def test_batched_inference_throughput_8x8(concept):
    n = 1000
    payoffs = _games(n, 777)
    sp.solve_batch(_games(n, 1), solver="nes", concept=concept)        # compile, same batch size
    sp.solve_batch(_games(n, 1), solver="maxent", concept=concept)     # compile, same batch size
    t0 = time.perf_counter()
    res = sp.solve_batch(payoffs, solver="nes", concept=concept)
    t_nes = time.perf_counter() - t0
    net_time = res.extra["network_time"]
    t0 = time.perf_counter()
    exact = sp.solve_batch(payoffs, solver="maxent", concept=concept)
    t_exact = time.perf_counter() - t0
    solver_gap = 0.5 * np.abs(res.joints - exact.joints).reshape(n, -1).sum(1)
    _record(f"throughput_{concept}_8x8", {
        "games": n, "nes_games_per_s": n / t_nes, "nes_network_games_per_s": n / net_time,
        "maxent_batch_games_per_s": n / t_exact, "speedup": t_exact / t_nes,
        "mean_solver_gap": float(solver_gap.mean())})
    assert n / t_nes > 500          # recorded against maxent in docs/benchmarks.md


@pytest.mark.parametrize("concept", ["cce"])
def test_refinement_vs_cold_exact_solve(concept):
    """Refinement (exact dual steps from the network's duals) against cold starts.

    Asserted: refined answers equal maxent's to 1e-6 in L1, and the refinement Newton
    from the network's duals is faster than the same Newton from zero duals. Recorded:
    end-to-end (network + refinement) against the exact batched ``maxent`` solver and
    one game at a time against a cold ``maxent`` solve.
    """
    from spielplatz_nes.model import load_model
    from spielplatz_nes.refine import network_to_flat, range_scale, refine_batch, warm_start

    n = 1000
    payoffs = _games(n, 4242)
    sp.solve_batch(_games(n, 1), solver="nes", concept=concept, refine="auto")   # compile
    sp.solve_batch(_games(n, 1), solver="maxent", concept=concept)
    t_ref, t_cold = [], []
    for _ in range(3):                                   # interleaved repeats
        t0 = time.perf_counter()
        refined = sp.solve_batch(payoffs, solver="nes", concept=concept, refine="auto")
        t_ref.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cold = sp.solve_batch(payoffs, solver="maxent", concept=concept)
        t_cold.append(time.perf_counter() - t0)
    l1 = np.abs(refined.joints - cold.joints).reshape(n, -1).sum(1)
    # the same Newton from zero duals
    scales = np.array([range_scale(p) for p in payoffs])
    scaled = payoffs / scales[:, None, None, None]
    pred = load_model(None, concept=concept, shape=(8, 8)).predict(payoffs)
    alpha = warm_start(np.stack([network_to_flat([d[i] for d in pred.duals], concept, scales[i])
                                 for i in range(n)]))
    t_warm, t_zero = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        own_warm = refine_batch(scaled, concept, alpha)
        t_warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        own_cold = refine_batch(scaled, concept, np.zeros_like(alpha))
        t_zero.append(time.perf_counter() - t0)
    # one game at a time
    games = [sp.NormalFormGame(p) for p in payoffs[:40]]
    nes, maxent = sp.get_solver("nes"), sp.get_solver("maxent")
    single_ref, single_cold = [], []
    for g in games:
        t0 = time.perf_counter()
        nes.solve(g, concept, refine="auto")
        single_ref.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        maxent.solve(g, concept)
        single_cold.append(time.perf_counter() - t0)
    _record(f"refine_{concept}_8x8", {
        "games": n, "refined_batch_s": float(np.median(t_ref)),
        "maxent_cold_batch_s": float(np.median(t_cold)),
        "ratio_cold_over_refined": float(np.median(t_cold) / np.median(t_ref)),
        "max_l1_to_maxent": float(l1.max()), "all_optimal": refined.all_optimal,
        "mean_refine_iterations": float(np.mean(refined.iterations)),
        "newton_from_network_iterations": float(np.mean(own_warm["iterations"])),
        "newton_from_network_s": float(np.median(t_warm)),
        "newton_from_zero_iterations": float(np.mean(own_cold["iterations"])),
        "newton_from_zero_s": float(np.median(t_zero)),
        "single_game_refined_ms": 1e3 * float(np.median(single_ref)),
        "single_game_maxent_ms": 1e3 * float(np.median(single_cold))})
    assert l1.max() < 1e-6 and own_warm["converged"].all()
    assert np.median(t_warm) < np.median(t_zero)
