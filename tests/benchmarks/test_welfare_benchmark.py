"""Benchmark: the ``welfare`` solver against OpenSpiel's jpsro max-welfare (C)CE solvers.

Run with::

    .venv/bin/python -m pytest -m benchmark tests/benchmarks/test_welfare_benchmark.py -s

The reference is ``open_spiel.python.algorithms.jpsro._mwce`` (maximum-welfare CE:
dominated-strategy elimination, a ``dok_matrix`` of CE constraints, a cvxpy LP) and
``jpsro._mwcce`` (maximum-welfare CCE, dense constraints, the same LP). jpsro asks
cvxpy for ECOS; where ECOS is not installed (it is not a dependency here) the same
cvxpy model is solved with CLARABEL, cvxpy's default interior-point conic solver.
``jpsro`` imports ``networkx`` only for an AlphaRank plot; a stub stands in for it
when networkx is missing.

Both solvers run on the same three random games per shape (standard normal
payoffs, fixed seeds) in the same process, interleaved, after one warm-up call
each; the reported times are medians over all runs and the ratio is
``median(jpsro) / median(welfare)``. Each welfare time is split into the solver's
phases (``extra["timings"]``: constraint building, LPs, certification, tie-break; the rest,
"other", is option checks, objective set-up and the host's measures of the answer), and
each game is also solved once per round with ``maxent_tiebreak=True`` (not part of the
ratio: jpsro has no tie-break) to time the tie-break. The ratios must reach
:data:`REQUIRED` (issue 15: CCE 20x on 3x10 and 50x on 2x32; CE 50x and 200x, just
under the ratios measured before it, as the machine is shared and noisy). The numbers are
printed as a markdown table (and written as JSON to ``$WELFARE_BENCHMARK_OUT`` when
set) and copied into docs/benchmarks.md, section ``## welfare``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import time
import types

import numpy as np
import pytest

import spielplatz as sp

pytestmark = pytest.mark.benchmark

#: Required speed-ups (jpsro time / welfare time, same run): issue 3's CE bars raised by
#: issue 15 to just under the ratios measured before it (57x and 227-333x; 51-58x and
#: 241-269x on a loaded machine), and issue 15's CCE bars.
REQUIRED = {("ce", "2x32"): 200.0, ("ce", "3x10"): 50.0,
            ("cce", "2x32"): 50.0, ("cce", "3x10"): 20.0}
#: The solver's phases (``Solution.extra["timings"]``, seconds), in table order.
PHASES = ("constraints", "lp", "certification", "tiebreak")

RESULTS: dict = {}


@pytest.fixture(autouse=True)
def _only_with_benchmark_marker(request):
    if "benchmark" not in (request.config.getoption("-m") or ""):
        pytest.skip("benchmark: run with -m benchmark")


def _jpsro():
    if "networkx" not in sys.modules and importlib.util.find_spec("networkx") is None:
        sys.modules["networkx"] = types.ModuleType("networkx")   # only for AlphaRank plots
    from open_spiel.python.algorithms import jpsro

    import cvxpy as cp

    solver = "ECOS" if "ECOS" in cp.installed_solvers() else "CLARABEL"
    if solver != "ECOS":
        jpsro.DEFAULT_ECOS_SOLVER_KWARGS = dict(solver=solver, verbose=False)
    return jpsro, solver


def _game(shape: tuple, seed: int):
    rng = np.random.default_rng(seed)
    return sp.load_game(rng.normal(size=(len(shape),) + shape))


def _record(key: str, value: dict) -> None:
    RESULTS[key] = value
    print(f"\n{key}: {json.dumps(value)}")
    path = os.environ.get("WELFARE_BENCHMARK_OUT")
    if path:
        with open(path + ".tmp", "w") as fh:
            json.dump(RESULTS, fh, indent=1)
        os.replace(path + ".tmp", path)


GAMES_PER_SHAPE = 3


@pytest.mark.parametrize("concept", ["ce", "cce"])
@pytest.mark.parametrize("shape,repeats", [((32, 32), 3), ((10, 10, 10), 5)])
def test_welfare_vs_jpsro(concept, shape, repeats):
    jpsro, backend = _jpsro()
    reference = jpsro._mwce if concept == "ce" else jpsro._mwcce
    solver = sp.get_solver("welfare")
    games = [_game(shape, seed=1000 * k + sum(shape)) for k in range(GAMES_PER_SHAPE)]
    repeats_arg = [np.ones(a) for a in shape]

    def run_jpsro(game):
        start = time.perf_counter()
        dist, _ = reference(np.array(game.payoffs), repeats_arg)
        return time.perf_counter() - start, dist

    def run_ours(game, **options):
        start = time.perf_counter()
        sol = solver.solve(game, concept, **options)
        return time.perf_counter() - start, sol

    run_jpsro(games[0])                                  # warm-up (imports, cvxpy caches)
    run_ours(games[0])
    run_ours(games[0], maxent_tiebreak=True)
    t_ref, t_ours, welfare_errors = [], [], []
    phases: dict = {name: [] for name in PHASES + ("other",)}
    tiebreak: dict = {name: [] for name in PHASES + ("other", "total")}
    methods: dict = {}
    for _ in range(repeats):                             # interleaved: same machine load
        for game in games:
            elapsed, dist = run_jpsro(game)
            t_ref.append(elapsed)
            for _ in range(3):
                elapsed, sol = run_ours(game)
                t_ours.append(elapsed)
                timings = sol.extra["timings"]
                for name in PHASES:
                    phases[name].append(timings[name])
                phases["other"].append(elapsed - sum(timings.values()))
            method = sol.extra["lp"]["method"]
            methods[method] = methods.get(method, 0) + 1
            payoffs = game.payoffs
            span = float(np.ptp(payoffs))
            dist = np.clip(dist, 0.0, None)
            dist /= dist.sum()
            w_ref = float((payoffs.sum(axis=0) * dist).sum())
            assert sol.status == "optimal" and sol.gap <= 1e-8 * span
            assert sol.extra["residuals"]["duality_gap"] <= 1e-7 * span
            assert sol.welfare >= w_ref - 1e-6 * span       # jpsro's LP is ~1e-7 accurate
            welfare_errors.append(abs(sol.welfare - w_ref) / span)
            elapsed, tied = run_ours(game, maxent_tiebreak=True)
            assert tied.status == "optimal" and tied.gap <= 1e-8 * span
            assert abs(tied.welfare - sol.welfare) <= 1e-7 * span
            timings = tied.extra["timings"]
            for name in PHASES:
                tiebreak[name].append(timings[name])
            tiebreak["other"].append(elapsed - sum(timings.values()))
            tiebreak["total"].append(elapsed)
    assert max(welfare_errors) <= 1e-5
    med_ref, med_ours = statistics.median(t_ref), statistics.median(t_ours)
    ratio = med_ref / med_ours
    split = {name: statistics.median(v) for name, v in phases.items()}
    split_tiebreak = {name: statistics.median(v) for name, v in tiebreak.items()}
    label = "x".join(str(a) for a in shape) if len(set(shape)) > 1 else f"{len(shape)}x{shape[0]}"
    _record(f"{concept}_{label}", {
        "concept": concept, "game": label, "games": GAMES_PER_SHAPE,
        "jpsro_function": "_mwce" if concept == "ce" else "_mwcce",
        "jpsro_lp_backend": backend, "jpsro_s": med_ref, "welfare_s": med_ours,
        "ratio": ratio, "jpsro_runs": len(t_ref), "welfare_runs": len(t_ours),
        "max_relative_welfare_difference": max(welfare_errors),
        "welfare_phases_s": split, "lp_methods": methods,
        "with_maxent_tiebreak_phases_s": split_tiebreak,
    })
    ms = {name: f"{value * 1e3:.2f}" for name, value in split.items()}
    required = REQUIRED[(concept, label)]
    print(f"| {concept.upper()} | {label} | {med_ref * 1e3:.1f} ms | {med_ours * 1e3:.2f} ms | "
          f"{ratio:.1f}x | >= {required:g}x | {ms['constraints']} / {ms['lp']} / "
          f"{ms['certification']} / {ms['other']} ms | "
          f"{split_tiebreak['tiebreak'] * 1e3:.2f} ms ({split_tiebreak['total'] * 1e3:.2f} ms) | "
          f"{', '.join(sorted(methods))} | {max(welfare_errors):.1e} |")
    assert ratio >= required, f"{concept} {label}: {ratio:.1f}x < {required}x"
