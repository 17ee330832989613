"""Exact LOLA at scale: 1000 seeds x 1000 steps of the IPD, all seeds in one compiled scan.

Recorded: wall time of the whole run, the time of a one-step run of the same 1000 seeds
(about the compilation, which every ``learn`` call pays), the median reward and the share
of seeds that cooperate; asserted: the result matches the CI-size run's (LOLA cooperates).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import spielplatz as sp

pytestmark = pytest.mark.benchmark


def test_exact_lola_1000_seeds_1000_steps():
    t0 = time.perf_counter()
    sp.learn("ipd", "lola", steps=1, seeds=range(1000), records=1)
    t1 = time.perf_counter()
    run = sp.learn("ipd", "lola", steps=1000, seeds=range(1000), records=10)
    t2 = time.perf_counter()
    final = run.final_metrics()["reward_1"]
    record = {"seeds": 1000, "steps": 1000, "wall_s": round(t2 - t1, 2),
              "one_step_s": round(t1 - t0, 2), "median_reward": round(float(np.median(final)), 4),
              "share_cooperating": float(np.mean(final > -1.2))}
    print("\nexact_lola_ipd:", json.dumps(record))
    assert np.isfinite(run.metrics["reward_1"]).all() and np.median(final) >= -1.2
