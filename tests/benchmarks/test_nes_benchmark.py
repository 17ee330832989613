"""Benchmarks of the neural solver ``nes`` against the exact ``maxent`` solver (CPU).

Run with ``.venv/bin/python -m pytest -m benchmark tests/benchmarks/test_nes_benchmark.py -s``;
the numbers are printed (and written to ``$NES_BENCHMARK_OUT`` as JSON when set) and
recorded by hand in docs/benchmarks.md, section ``## nes``.

* batched inference: games per second on 1000 L2-invariant 8x8 games, ``nes``
  (network, float32) vs ``maxent.solve_batch`` (exact, float64), both warmed up
  (compiled) on a batch of the same size first;
* refinement: ``nes`` with ``refine="auto"`` (network, then ``maxent`` warm-started
  from its duals) vs a cold batched ``maxent`` solve on the same games, median of
  interleaved runs; the training-loss minimiser as the warm start; single games.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import spielplatz as sp
from recording import Recorder

pytestmark = pytest.mark.benchmark

_record = Recorder("NES_BENCHMARK_OUT")


def _games(n: int, seed: int, shape: str = "8x8") -> np.ndarray:
    from spielplatz_random.distributions import sample

    return sample("l2_invariant", shape, n, seed=seed)


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


@pytest.mark.parametrize("concept,shape", [("cce", "8x8"), ("ce", "8x8"), ("cce", "3x3x3"),
                                           ("ce", "3x3x3")])
def test_refinement_vs_cold_exact_solve(concept, shape):
    """Refinement (``maxent`` warm-started from the network's duals) against a cold start.

    Asserted: refined answers equal maxent's to 1e-6 in L1, all certified, the warm
    start needs fewer Newton iterations than the cold one, and for 8x8 CCE (the shipped
    model that meets issue 4's accuracy bar) the warm-started exact solve beats the cold
    batched solve (end to end it did until the cold solve was compiled; recorded). Recorded: end to end (network + warm-started maxent) against the
    cold batched ``maxent``; the same with the exact minimiser of the model's training
    loss (its target-epsilon problem, Theorems 1-2) as the warm start instead of the
    network's duals; one game at a time against a cold ``maxent.solve``.
    """
    from spielplatz.equilibria import scaling
    from spielplatz_nes.model import load_model
    from spielplatz_nes.parameterizations import loss_terms
    from spielplatz_nes.solver import warm_start

    n = 1000
    dims = tuple(int(a) for a in shape.split("x"))
    payoffs, _ = scaling.unit_variance(_games(n, 4242, shape), m=2, num_players=len(dims))
    maxent = sp.get_solver("maxent")
    model = load_model(None, concept=concept, shape=dims)
    sp.solve_batch(_games(n, 1, shape), solver="nes", concept=concept, refine="auto")  # compile
    maxent.solve_batch(_games(n, 1, shape), concept)
    t_ref, t_cold, t_net, t_newton = [], [], [], []
    for _ in range(3):                                   # interleaved repeats
        t0 = time.perf_counter()
        refined = sp.solve_batch(payoffs, solver="nes", concept=concept, refine="auto")
        t_ref.append(time.perf_counter() - t0)
        t_net.append(refined.extra["network_time"])
        t_newton.append(refined.extra["refine_time"])
        t0 = time.perf_counter()
        cold = maxent.solve_batch(payoffs, concept)
        t_cold.append(time.perf_counter() - t0)
    l1 = np.abs(refined.joints - cold.joints).reshape(n, -1).sum(1)
    # the exact minimiser of the model's training loss as the warm start
    terms = loss_terms(model.config.param, dims)
    rho = model.config.rho if model.config.rho is not None else terms["rho"]
    own = maxent.solve_batch(payoffs, concept, target_epsilon=0.0, rho=rho,
                             eps_plus=terms["eps_plus"])
    t_minimiser = []
    for _ in range(3):
        t0 = time.perf_counter()
        minimiser = maxent.solve_batch(payoffs, concept,
                                       initial_duals=warm_start(own.extra["duals"]))
        t_minimiser.append(time.perf_counter() - t0)
    # one game at a time
    games = [sp.NormalFormGame(p) for p in payoffs[:100]]
    nes = sp.get_solver("nes")
    single_ref, single_cold = [], []
    for g in games:
        t0 = time.perf_counter()
        nes.solve(g, concept, refine="auto")
        single_ref.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        maxent.solve(g, concept)
        single_cold.append(time.perf_counter() - t0)
    network = float(np.median(t_net))
    _record(f"refine_{concept}_{shape}", {
        "games": n, "refined_batch_s": float(np.median(t_ref)),
        "maxent_cold_batch_s": float(np.median(t_cold)),
        "ratio_cold_over_refined": float(np.median(t_cold) / np.median(t_ref)),
        "network_s": network, "refine_s": float(np.median(t_newton)),
        "max_l1_to_maxent": float(l1.max()), "all_optimal": refined.all_optimal,
        "refined_iterations": float(np.mean(refined.iterations)),
        "cold_iterations": float(np.mean(cold.iterations)),
        "fallback_refined": len(refined.extra["fallback"]),
        "fallback_cold": len(cold.extra["fallback"]),
        "loss_minimiser_iterations": float(np.mean(minimiser.iterations)),
        "loss_minimiser_refine_s": float(np.median(t_minimiser)),
        "loss_minimiser_ratio": float(np.median(t_cold) / (network + np.median(t_minimiser))),
        "single_game_refined_ms": 1e3 * float(np.median(single_ref)),
        "single_game_maxent_ms": 1e3 * float(np.median(single_cold))})
    assert l1.max() < 1e-6 and refined.all_optimal and minimiser.all_optimal
    assert np.mean(refined.iterations) < np.mean(cold.iterations)
    if (concept, shape) == ("cce", "8x8"):
        # The warm start pays in the exact solve: its Newton stage beats a cold solve.
        # End to end (network pass included) it did too (issue 4) until issue 15 compiled
        # the cold solve; on a CPU the network pass alone now costs about as much as a
        # cold solve, so that ratio is recorded, not asserted (docs/nes.md, Refinement).
        assert np.median(t_newton) < np.median(t_cold)


def test_single_game_latency_vs_maxent():
    """One game at a time: ``nes`` (numpy inference, no jax) against ``maxent``.

    Recorded: in this process, the median time of ``sp.solve`` of one game with each
    solver (chicken; 8x8 CE and CCE L2-invariant games; the model loaded once), their
    ratio, and the same for a fresh ``spielplatz solve`` process each (start-up,
    imports and model loading included: what a user at a terminal waits). Asserted
    only as ratios against maxent measured here (no wall-clock bars): within 3x.
    """
    import subprocess
    import sys
    from pathlib import Path

    cases = [("chicken", "ce"), ("l2_invariant(shape=8x8,seed=0)", "ce"),
             ("l2_invariant(shape=8x8,seed=0)", "cce")]
    exe = str(Path(sys.executable).with_name("spielplatz"))
    for game, concept in cases:
        g = sp.load_game(game)
        sp.solve(g, solver="nes", concept=concept)              # model loaded once
        sp.solve(g, solver="maxent", concept=concept)
        t_nes, t_maxent = [], []
        for _ in range(15):                                     # interleaved repeats
            t0 = time.perf_counter()
            sp.solve(g, solver="nes", concept=concept)
            t_nes.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            sp.solve(g, solver="maxent", concept=concept)
            t_maxent.append(time.perf_counter() - t0)
        cli_nes, cli_maxent = [], []
        for _ in range(3):
            for solver, out in (("nes", cli_nes), ("maxent", cli_maxent)):
                t0 = time.perf_counter()
                subprocess.run([exe, "solve", game, "--solver", solver, "--concept", concept],
                               check=True, capture_output=True)
                out.append(time.perf_counter() - t0)
        in_process = float(np.median(t_nes) / np.median(t_maxent))
        cli_ratio = float(np.median(cli_nes) / np.median(cli_maxent))
        _record(f"single_game_{concept}_{g.name}", {
            "nes_ms": 1e3 * float(np.median(t_nes)),
            "maxent_ms": 1e3 * float(np.median(t_maxent)),
            "ratio_nes_over_maxent": in_process,
            "cli_nes_s": float(np.median(cli_nes)), "cli_maxent_s": float(np.median(cli_maxent)),
            "cli_ratio_nes_over_maxent": cli_ratio})
        assert in_process < 3.0 and cli_ratio < 3.0
