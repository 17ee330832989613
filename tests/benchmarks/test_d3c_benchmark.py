"""Benchmark of the D3C learners: many runs at once under ``jax.vmap`` (CPU).

Run with ``.venv/bin/python -m pytest -m benchmark tests/benchmarks/test_d3c_benchmark.py -s``;
the numbers are printed (and written to ``$D3C_BENCHMARK_OUT`` as JSON when set) and
recorded by hand in docs/benchmarks.md, section ``## d3c``.

* Braess (Figure 2a): 1000 runs of 2000 gradient steps each (our "Figure 3 length",
  see docs/learners.md) for ``d3c``, ``gd`` and ``coop``; wall time includes JAX
  compilation, which is measured separately (same call with 1 step);
* random Braess (Figure 2b): 1000 networks, ``d3c`` and ``gd``;
* Trust-Your-Brother: 1000 runs of 1000 REINFORCE updates (10 episodes each).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import spielplatz as sp
from recording import Recorder

pytestmark = pytest.mark.benchmark

_record = Recorder("D3C_BENCHMARK_OUT")


def _timed(game: str, learner: str, steps: int, runs: int, **options) -> tuple:
    t0 = time.perf_counter()
    sp.learn(game, learner, steps=1, seeds=range(runs), records=1, **options)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = sp.learn(game, learner, steps=steps, seeds=range(runs), **options)
    return time.perf_counter() - t0, compile_s, run


@pytest.mark.parametrize("learner", ["d3c", "gd", "coop"])
def test_braess_1000_runs(learner):
    wall, compile_s, run = _timed("braess", learner, 2000, 1000)
    ratio = run.metrics["ratio_to_optimal"][:, -1]
    _record(f"braess_{learner}", {"runs": 1000, "steps": 2000, "wall_s": round(wall, 2),
                                  "compile_s": round(compile_s, 2),
                                  "ratio_mean": float(ratio.mean()),
                                  "ratio_median": float(np.median(ratio)),
                                  "ratio_std": float(ratio.std())})
    assert wall < 300                                   # "in minutes" on the 2-core machine


@pytest.mark.parametrize("learner", ["d3c", "gd"])
def test_random_braess_1000_networks(learner):
    wall, compile_s, run = _timed("random_braess", learner, 2000, 1000)
    ratio = run.metrics["ratio_to_optimal"][:, -1]
    _record(f"random_braess_{learner}", {"runs": 1000, "steps": 2000,
                                         "wall_s": round(wall, 2),
                                         "compile_s": round(compile_s, 2),
                                         "ratio_mean": float(ratio.mean()),
                                         "ratio_median": float(np.median(ratio)),
                                         "ratio_std": float(ratio.std())})
    assert wall < 300


@pytest.mark.parametrize("learner", ["d3c", "gd"])
def test_trust_your_brother_1000_runs(learner):
    wall, compile_s, run = _timed("trust_your_brother", learner, 1000, 1000)
    total = run.metrics["total_return"][:, -1]
    _record(f"trust_your_brother_{learner}", {
        "runs": 1000, "updates": 1000, "episodes": 1000 * 1000 * 10,
        "wall_s": round(wall, 2), "compile_s": round(compile_s, 2),
        "total_return_median": float(np.median(total)),
        "total_return_mean": float(total.mean()),
        "share_above_-2": float((total > -2).mean())})
    assert wall < 600
