"""Benchmark: the ``maxent`` solver against an independent cvxpy exponential-cone model.

Run with::

    .venv/bin/python -m pytest -m benchmark tests/benchmarks/test_maxent_benchmark.py -s -q

The reference is the model people write by hand today: a dense (C)CE constraint
matrix built with numpy, ``cp.Maximize(cp.sum(cp.entr(x)))`` subject to
``A x <= 0``, ``sum(x) == 1``, solved by cvxpy with CLARABEL (cvxpy's default
conic solver) at its default tolerances. Build and solve are timed together.

Cases (issue 3):

* ``solve_batch`` on 1000 random 8x8 games (payoffs uniform, scaled to range 1)
  against per-game cvxpy, measured on a subset and extrapolated per game:
  at least 10x the throughput;
* one 64x64 two-player game: at least 20x faster than cvxpy;
* a 4-player 8-action and a 5-player 6-action game: no slower than cvxpy, with
  the peak memory of each solver measured in a fresh process (peak resident set
  size minus the resident set size after the imports).

Issue 15 (single games): ``sp.solve`` on 8x8 games with N(0, 1) payoffs, one game
per call, against per-game cvxpy on the same games in the same run (targets: CE
5x, CCE 10x). The ratios and the distribution of the paths the solver took
(``extra["support_route"]``: Newton alone, zeros certified by the duals'
dominance certificates, or the support LP) are reported, not asserted:
wall-clock ratios on a shared machine are too noisy for a pass/fail bar.
``MAXENT_SINGLE_GAMES`` sets the number of games (60).

Issue 15 (batches): ``solve_batch`` on 500 8x8 games per distribution (N(0, 1),
uniform, L2-invariant), CE and CCE, against per-game cvxpy on every 25th game
(targets: CE 30x, CCE 100x; reported, not asserted), with the distribution of
Newton iterations and the paths the games took. ``MAXENT_BATCH_GAMES`` sets
the number of games.

Timings are in-process and interleaved (the same load hits both solvers: by rounds,
and for single games by blocks of games within a round, see
:func:`test_single_8x8_normal`); medians are over the repeats. The numbers are printed as a markdown table,
written as JSON to ``$MAXENT_BENCHMARK_OUT`` when set, and copied into
docs/benchmarks.md, section ``## maxent``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings

import numpy as np
import pytest

import spielplatz as sp

pytestmark = pytest.mark.benchmark

#: Required ratios (cvxpy time / maxent time) from the issue's acceptance list.
REQUIRED = {"batch 1000 x 8x8 CE": 10.0, "2x64 CE": 20.0, "4-player 8-action CE": 1.0,
            "5-player 6-action CE": 1.0}

RESULTS: dict = {}


@pytest.fixture(autouse=True)
def _only_with_benchmark_marker(request):
    if "benchmark" not in (request.config.getoption("-m") or ""):
        pytest.skip("benchmark: run with -m benchmark")


def constraint_matrix(payoffs: np.ndarray, concept: str) -> np.ndarray:
    """Dense ``constraints x joint actions`` matrix built with numpy (independent code)."""
    n, shape = payoffs.shape[0], payoffs.shape[1:]
    rows = []
    for p in range(n):
        g = np.moveaxis(payoffs[p], p, 0)                       # [A_p, ...others]
        eye = np.eye(shape[p])
        if concept == "ce":
            for a1 in range(shape[p]):
                diff = g - g[a1][None]                          # [a'', ...] gain of a1 -> a''
                for a2 in range(shape[p]):
                    if a2 != a1:
                        row = eye[a1].reshape((-1,) + (1,) * (n - 1)) * diff[a2][None]
                        rows.append(np.moveaxis(row, 0, p).ravel())
        else:
            for a1 in range(shape[p]):
                row = g[a1][None] - g
                rows.append(np.moveaxis(row, 0, p).ravel())
    return np.array(rows)


def cvxpy_maxent(payoffs: np.ndarray, concept: str = "ce"):
    """The hand-written cvxpy model; ``None`` when the solver fails."""
    import cvxpy as cp

    a = constraint_matrix(payoffs, concept)
    x = cp.Variable(a.shape[1], nonneg=True)
    prob = cp.Problem(cp.Maximize(cp.sum(cp.entr(x))), [a @ x <= 0, cp.sum(x) == 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prob.solve(solver="CLARABEL")
        except cp.error.SolverError:
            return None
    if x.value is None:
        return None
    return np.maximum(x.value, 0).reshape(payoffs.shape[1:])


def random_games(seed: int, count: int, shape: tuple) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = rng.uniform(size=(count, len(shape)) + tuple(shape))
    lo = g.reshape(count, -1).min(axis=1).reshape((count,) + (1,) * (len(shape) + 1))
    hi = g.reshape(count, -1).max(axis=1).reshape((count,) + (1,) * (len(shape) + 1))
    return (g - lo) / (hi - lo)


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _record(name: str, **row) -> None:
    RESULTS[name] = row
    path = os.environ.get("MAXENT_BENCHMARK_OUT")
    if path:
        with open(path, "w") as handle:
            json.dump(RESULTS, handle, indent=2, default=float)


def test_batched_8x8_throughput():
    """1000 random 8x8 games: batched maxent vs per-game cvxpy (subset of 60, extrapolated)."""
    games = random_games(0, 1000, (8, 8))
    for concept in ("ce", "cce"):
        # warm-up: compile the batched solver for its chunk shape, import the LP
        # solver of the exact path and cvxpy
        _, compile_s = _timed(sp.solve_batch, games[:64], solver="maxent", concept=concept)
        sp.solve("prisoners_dilemma", solver="maxent", concept=concept)
        cvxpy_maxent(games[0], concept)
        ours, cvx, failures, l1 = [], [], 0, 0.0
        subset = np.arange(0, 1000, 1000 // 60)[:60]
        for rnd in range(3):
            for i in subset[rnd::3]:
                ref, t = _timed(cvxpy_maxent, games[i], concept)
                cvx.append(t)
                failures += ref is None
            out, t = _timed(sp.solve_batch, games, solver="maxent", concept=concept)
            ours.append(t)
            assert out.all_optimal and np.all(out.gaps <= 1e-8)
        for i in subset[:20]:
            ref = cvxpy_maxent(games[i], concept)
            if ref is not None:
                l1 = max(l1, float(np.abs(ref - out.joints[i]).sum()))
        per_game = statistics.fmean(cvx)
        cvx_total = per_game * 1000
        ours_med = statistics.median(ours)
        ratio = cvx_total / ours_med
        name = f"batch 1000 x 8x8 {concept.upper()}"
        _record(name, cvxpy_s=cvx_total, cvxpy_per_game_ms=per_game * 1e3,
                cvxpy_median_ms=statistics.median(cvx) * 1e3, cvxpy_failures=failures,
                cvxpy_games=len(cvx), maxent_s=ours_med, maxent_runs=ours,
                compile_s=compile_s, fallback=len(out.extra["fallback"]), ratio=ratio,
                max_l1_vs_cvxpy=l1)
        print(f"\n{name}: cvxpy {per_game * 1e3:.2f} ms/game (mean of {len(cvx)}, "
              f"{failures} failed) -> {cvx_total:.2f} s; maxent {ours_med:.3f} s "
              f"(runs {', '.join(f'{t:.3f}' for t in ours)}, compile {compile_s:.2f} s, "
              f"{len(out.extra['fallback'])} fell back); ratio {ratio:.1f}x; "
              f"max L1 vs cvxpy {l1:.1e}")
        if name in REQUIRED:
            assert ratio >= REQUIRED[name]


def _single_case(name: str, shape: tuple, cvxpy_runs: int, ours_runs: int = 3) -> dict:
    game = sp.NormalFormGame.from_array(random_games(1, 1, shape)[0], name=name)
    sp.solve(game, solver="maxent", concept="ce")                       # warm-up (imports)
    ours, cvx = [], []
    ref = None
    for rnd in range(max(cvxpy_runs, ours_runs)):
        if rnd < cvxpy_runs:
            ref, t = _timed(cvxpy_maxent, game.payoffs, "ce")
            cvx.append(t)
        if rnd < ours_runs:
            sol, t = _timed(sp.solve, game, solver="maxent", concept="ce")
            ours.append(t)
            assert sol.status == "optimal" and sol.gap <= 1e-8
    l1 = float(np.abs(ref - sol.joint).sum()) if ref is not None else float("nan")
    row = {"cvxpy_s": statistics.median(cvx), "cvxpy_runs": cvx,
           "maxent_s": statistics.median(ours), "maxent_runs": ours,
           "ratio": statistics.median(cvx) / statistics.median(ours),
           "max_l1_vs_cvxpy": l1, "cvxpy_failed": ref is None,
           "maxent_iterations": sol.iterations, "support_lp": sol.extra["support_lp"]}
    return row


#: Issue 15's targets for single 8x8 N(0, 1) games (reported, not asserted).
SINGLE_TARGETS = {"single 8x8 N(0,1) CE": 5.0, "single 8x8 N(0,1) CCE": 10.0}


def _until_compiled(concept: str, limit: int = 20_000) -> int:
    """Solve fresh 8x8 games until the compiled Newton is in use (as a loop of solves
    in ``"auto"`` mode reaches it); how many that took (0 if it already was)."""
    from spielplatz.equilibria.mwmre import newton as newton_module

    rng = np.random.default_rng(17)
    for count in range(limit):
        if newton_module._NUMBA.get("module") is not None or newton_module.COMPILED is False:
            return count
        sp.solve(rng.standard_normal((2, 8, 8)), solver="maxent", concept=concept)
    return limit


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_single_8x8_normal(concept):
    """Single 8x8 N(0, 1) games through ``sp.solve``: ratio against per-game cvxpy.

    Three rounds of ``MAXENT_SINGLE_GAMES`` (60) fresh games; in each round both
    solvers solve the round's games one call at a time, in blocks (maxent's block
    first in rounds 1 and 3, cvxpy's in round 2), so slow drifts of the machine's
    load hit both alike. The ratio of mean times is the issue's number. Also
    reported: the same ratio with the two solvers alternating game by game
    (``interleaved``, one more set of games). There each maxent call starts
    right after a cvxpy solve has evicted the caches: on the machine of
    docs/benchmarks.md that adds a nearly fixed 0.2-0.25 ms to every maxent call
    (a fifth of a millisecond is 4% of a cvxpy solve and a third of a maxent one),
    which no loop of maxent solves pays. Every answer must be optimal with a gap
    within 1e-8 of the payoff range. Reports the paths taken
    (``extra["support_route"]``: ``none``, ``interior``, ``dominance`` or ``lp``).
    Measured in the steady state of a loop of solves: after the warm-up solves that
    switch the compiled Newton on (its ``"auto"`` mode; counted in the report: 0 under
    tests/conftest.py, which turns it on from the first solve, 241 with
    ``SPIELPLATZ_COMPILED_NEWTON=auto``).
    """
    count = int(os.environ.get("MAXENT_SINGLE_GAMES", "60"))
    games = np.random.default_rng(15).standard_normal((4, count, 2, 8, 8))
    warm = np.random.default_rng(16).standard_normal((2, 8, 8))
    sp.solve(warm, solver="maxent", concept=concept)                    # warm-up (imports)
    cvxpy_maxent(warm, concept)
    # the steady state of a process that solves many games: solve until the "auto" mode
    # of the compiled Newton has switched it on (newton.COMPILE_AFTER seconds of Python)
    warmed = _until_compiled(concept)
    ours, cvx, paths, zeros, l1 = [], [], {}, 0, 0.0
    refs: dict = {}

    def run_ours(g, key) -> None:
        nonlocal zeros
        sol, t = _timed(sp.solve, g, solver="maxent", concept=concept)
        ours.append(t)
        assert sol.status == "optimal" and sol.gap <= 1e-8 * np.ptp(g)
        # "none": Newton alone (no zeros); "dominance": zeros certified by the duals
        # (strictly dominated recommendations), no LP; "lp": the support LP ran
        path = sol.extra.get("support_route", "lp" if sol.extra["support_lp"] else "none")
        paths[path] = paths.get(path, 0) + 1
        zeros += bool((sol.joint == 0).any())
        refs[key] = sol.joint

    def run_cvxpy(g, key) -> None:
        nonlocal l1
        ref, t = _timed(cvxpy_maxent, g, concept)
        cvx.append(t)
        if ref is not None and key in refs:
            l1 = max(l1, float(np.abs(ref - refs[key]).sum()))

    for rnd in range(3):
        for run in ((run_ours, run_cvxpy) if rnd != 1 else (run_cvxpy, run_ours)):
            for i, g in enumerate(games[rnd]):
                run(g, (rnd, i))
    blocked_ours, blocked_cvx = list(ours), list(cvx)
    del ours[:], cvx[:]
    for i, g in enumerate(games[3]):                     # interleaved, game by game
        run_ours(g, (3, i))
        run_cvxpy(g, (3, i))
    name = f"single 8x8 N(0,1) {concept.upper()}"
    ratio_mean = statistics.fmean(blocked_cvx) / statistics.fmean(blocked_ours)
    ratio_median = statistics.median(blocked_cvx) / statistics.median(blocked_ours)
    ratio_interleaved = statistics.fmean(cvx) / statistics.fmean(ours)
    _record(name, cvxpy_s=statistics.fmean(blocked_cvx),
            cvxpy_median_ms=statistics.median(blocked_cvx) * 1e3,
            maxent_s=statistics.fmean(blocked_ours),
            maxent_median_ms=statistics.median(blocked_ours) * 1e3,
            ratio=ratio_mean, ratio_median=ratio_median,
            interleaved={"cvxpy_ms": statistics.fmean(cvx) * 1e3,
                         "maxent_ms": statistics.fmean(ours) * 1e3,
                         "ratio": ratio_interleaved},
            games=4 * count, paths=paths, games_with_zeros=zeros, max_l1_vs_cvxpy=l1,
            target=SINGLE_TARGETS[name], warm_up_solves=warmed)
    print(f"\n{name}: cvxpy {statistics.fmean(blocked_cvx) * 1e3:.2f} ms/game (median "
          f"{statistics.median(blocked_cvx) * 1e3:.2f}), maxent "
          f"{statistics.fmean(blocked_ours) * 1e3:.3f} ms/game (median "
          f"{statistics.median(blocked_ours) * 1e3:.3f}); ratio {ratio_mean:.1f}x (medians "
          f"{ratio_median:.1f}x; target {SINGLE_TARGETS[name]:.0f}x); interleaved game by "
          f"game: cvxpy {statistics.fmean(cvx) * 1e3:.2f} ms, maxent "
          f"{statistics.fmean(ours) * 1e3:.3f} ms, {ratio_interleaved:.1f}x; paths {paths}; "
          f"{zeros} of {4 * count} answers with zeros; max L1 vs cvxpy {l1:.1e}; "
          f"compiled Newton on after {warmed} warm-up solves")


#: Issue 15's targets for batched 8x8 solves (reported, not asserted: the uniform
#: CE case keeps issue 3's asserted bar in ``test_batched_8x8_throughput``).
BATCH_TARGETS = {"ce": 30.0, "cce": 100.0}


def _batch_games(distribution: str, count: int) -> np.ndarray:
    rng = np.random.default_rng(15)
    if distribution == "normal":
        return rng.standard_normal((count, 2, 8, 8))
    if distribution == "uniform":
        return rng.uniform(size=(count, 2, 8, 8))
    from spielplatz_random.distributions import sample

    # seed 16: with seed 15 these would be the N(0, 1) games up to offsets and scale
    return sample("l2_invariant", "8x8", count, seed=16)


@pytest.mark.parametrize("distribution", ["normal", "uniform", "l2_invariant"])
@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_batched_8x8_distributions(concept, distribution):
    """Issue 15: 500 8x8 games per distribution, ``solve_batch`` against per-game cvxpy.

    cvxpy runs on every 25th game, interleaved with three batched solves (the same
    load hits both); the ratio is cvxpy's mean per game times 500 over the median
    batched solve. Reports the distribution of Newton iterations, the games each
    path answered (``batch``: the vectorised Newton; ``exact``: re-solved on the
    single-game path) and how the zeros were found (``support_routes``: none,
    dominance certificates, the support LP, or masses left vanishing); for CE also
    the time with ``exact_zeros`` (the support LP's zeros). Every answer must be optimal
    with a gap within 1e-8 of the payoff range.
    """
    count = int(os.environ.get("MAXENT_BATCH_GAMES", "500"))
    games = _batch_games(distribution, count)
    sp.solve_batch(games[:64], solver="maxent", concept=concept)         # compile
    sp.solve("prisoners_dilemma", solver="maxent", concept=concept)
    cvxpy_maxent(games[0], concept)
    subset = np.arange(0, count, 25)
    ours, cvx, exact_runs = [], [], []
    ptp = np.ptp(games.reshape(count, -1), axis=1)
    for rnd in range(3):
        for i in subset[rnd::3]:
            cvx.append(_timed(cvxpy_maxent, games[i], concept)[1])
        out, t = _timed(sp.solve_batch, games, solver="maxent", concept=concept)
        ours.append(t)
        assert out.all_optimal and np.all(out.gaps <= 1e-8 * ptp)
        if concept == "ce":
            # exact_zeros: every zero identified (dominance, interior joints, Farkas
            # certificates, the support LP), none left vanishing
            exact, t = _timed(sp.solve_batch, games, solver="maxent", concept=concept,
                              exact_zeros=True)
            exact_runs.append(t)
            assert exact.all_optimal and np.all(exact.gaps <= 1e-8 * ptp)
            assert "vanishing" not in set(exact.extra["support_routes"])
    its = np.asarray(out.iterations)
    paths = {p: int((np.asarray(out.extra["paths"]) == p).sum()) for p in ("batch", "exact")}
    routes = {r: int((out.extra["support_routes"] == r).sum())
              for r in ("none", "dominance", "interior", "farkas", "lp", "vanishing")}
    exact_s = statistics.median(exact_runs) if exact_runs else None
    exact_routes = None if not exact_runs else {
        r: int((exact.extra["support_routes"] == r).sum())
        for r in ("none", "dominance", "interior", "farkas", "lp")}
    small = np.asarray(out.joints).reshape(count, -1).min(axis=1) < 1e-9
    ratio = statistics.fmean(cvx) * count / statistics.median(ours)
    name = f"batch {count} x 8x8 {distribution} {concept.upper()}"
    pct = {q: float(np.percentile(its, q)) for q in (50, 90, 99, 100)}
    _record(name, cvxpy_s=statistics.fmean(cvx) * count,
            cvxpy_per_game_ms=statistics.fmean(cvx) * 1e3, cvxpy_games=len(cvx),
            maxent_s=statistics.median(ours), maxent_runs=ours,
            batch_s=float(out.extra["batch_time"]), ratio=ratio, games=count,
            iterations_mean=float(its.mean()), iterations_percentiles=pct, paths=paths,
            support_routes=routes, games_with_zeros=int(small.sum()),
            target=BATCH_TARGETS[concept], exact_zeros_s=exact_s,
            exact_zeros_ratio=None if exact_s is None else statistics.fmean(cvx) * count / exact_s,
            exact_zeros_runs=exact_runs, exact_zeros_routes=exact_routes)
    print(f"\n{name}: cvxpy {statistics.fmean(cvx) * 1e3:.2f} ms/game, maxent "
          f"{statistics.median(ours):.3f} s (batched part {out.extra['batch_time']:.3f} s); "
          f"ratio {ratio:.1f}x (target {BATCH_TARGETS[concept]:.0f}x); iterations mean "
          f"{its.mean():.1f}, percentiles 50/90/99/100 {pct[50]:.0f}/{pct[90]:.0f}/"
          f"{pct[99]:.0f}/{pct[100]:.0f}; paths {paths}; zeros {routes}"
          + ("" if exact_s is None else f"; with exact_zeros: {exact_s:.3f} s (median of "
             f"{', '.join(f'{t:.3f}' for t in exact_runs)}), "
             f"{statistics.fmean(cvx) * count / exact_s:.1f}x, zeros {exact_routes}"))


_MEMORY_CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np

    def hwm():  # peak resident set size of this process image, MB (Linux)
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024

    sys.path.insert(0, {here!r})
    payoffs = np.load({path!r})
    which = {which!r}
    if which == "cvxpy":
        import cvxpy
        from test_maxent_benchmark import cvxpy_maxent
        cvxpy_maxent(np.zeros((2, 2, 2)))
    else:
        import spielplatz as sp
        sp.solve(np.zeros((2, 2, 2)), solver="maxent")
    before = hwm()
    start = time.perf_counter()
    if which == "cvxpy":
        cvxpy_maxent(payoffs, "ce")
    else:
        sp.solve(payoffs, solver="maxent", concept="ce")
    wall = time.perf_counter() - start
    after = hwm()
    print(json.dumps({{"before_mb": before, "peak_mb": after, "wall_s": wall}}))
""")


def _peak_memory(payoffs: np.ndarray, which: str) -> dict:
    """Peak RSS of a fresh process that solves ``payoffs`` once (after its imports)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "payoffs.npy")
        np.save(path, payoffs)
        code = _MEMORY_CHILD.format(here=os.path.dirname(os.path.abspath(__file__)), path=path,
                                    which=which)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name,shape,cvxpy_runs", [
    ("2x64 CE", (64, 64), 1),
    ("4-player 8-action CE", (8, 8, 8, 8), 3),
    ("5-player 6-action CE", (6, 6, 6, 6, 6), 3),
])
def test_single_games(name, shape, cvxpy_runs):
    row = _single_case(name, shape, cvxpy_runs)
    payoffs = random_games(1, 1, shape)[0]
    mem_ours = _peak_memory(payoffs, "maxent")
    mem_cvx = _peak_memory(payoffs, "cvxpy")
    row.update({"maxent_peak_mb": mem_ours["peak_mb"],
                "maxent_solve_mb": mem_ours["peak_mb"] - mem_ours["before_mb"],
                "cvxpy_peak_mb": mem_cvx["peak_mb"],
                "cvxpy_solve_mb": mem_cvx["peak_mb"] - mem_cvx["before_mb"]})
    _record(name, **row)
    print(f"\n{name}: cvxpy {row['cvxpy_s']:.3f} s, maxent {row['maxent_s']:.3f} s "
          f"(runs {', '.join(f'{t:.3f}' for t in row['maxent_runs'])}), ratio "
          f"{row['ratio']:.1f}x, L1 vs cvxpy {row['max_l1_vs_cvxpy']:.1e}; peak RSS "
          f"maxent {row['maxent_peak_mb']:.0f} MB (+{row['maxent_solve_mb']:.0f} MB for the "
          f"solve), cvxpy {row['cvxpy_peak_mb']:.0f} MB (+{row['cvxpy_solve_mb']:.0f} MB)")
    assert row["ratio"] >= REQUIRED[name]


def test_print_table():
    """Markdown rows for docs/benchmarks.md (after the other benchmarks of this file)."""
    if not RESULTS:
        pytest.skip("no results in this run")
    print("\n| case | cvxpy | maxent | ratio | notes |\n| --- | --- | --- | --- | --- |")
    for name, r in RESULTS.items():
        if name.startswith("single"):
            notes = (f"{r['games']} games, per game; medians {r['ratio_median']:.1f}x; target "
                     f"{r['target']:.0f}x; paths {r['paths']}")
            print(f"| {name} | {r['cvxpy_s'] * 1e3:.2f} ms | {r['maxent_s'] * 1e3:.3f} ms | "
                  f"{r['ratio']:.1f}x | {notes} |")
        elif name.startswith("batch") and "target" in r:
            p = r["iterations_percentiles"]
            notes = (f"cvxpy {r['cvxpy_per_game_ms']:.2f} ms/game over {r['cvxpy_games']} "
                     f"games; target {r['target']:.0f}x; Newton iterations mean "
                     f"{r['iterations_mean']:.1f}, p50/p90/p99/max {p[50]:.0f}/{p[90]:.0f}/"
                     f"{p[99]:.0f}/{p[100]:.0f}; paths {r['paths']}; zeros "
                     f"{r['support_routes']}"
                     + ("" if r["exact_zeros_s"] is None else
                        f"; exact_zeros {r['exact_zeros_s']:.3f} s "
                        f"({r['exact_zeros_ratio']:.1f}x)"))
            print(f"| {name} | {r['cvxpy_s']:.2f} s (extrapolated) | {r['maxent_s']:.3f} s | "
                  f"{r['ratio']:.1f}x | {notes} |")
        elif name.startswith("batch"):
            notes = (f"cvxpy {r['cvxpy_per_game_ms']:.2f} ms/game over {r['cvxpy_games']} games "
                     f"({r['cvxpy_failures']} failed); compile {r['compile_s']:.1f} s; "
                     f"{r['fallback']} games re-solved on the exact path")
            print(f"| {name} | {r['cvxpy_s']:.2f} s (extrapolated) | {r['maxent_s']:.3f} s | "
                  f"{r['ratio']:.1f}x | {notes} |")
        else:
            notes = (f"peak RSS {r['cvxpy_peak_mb']:.0f} MB vs {r['maxent_peak_mb']:.0f} MB "
                     f"(solve +{r['cvxpy_solve_mb']:.0f} MB vs +{r['maxent_solve_mb']:.0f} MB); "
                     f"L1 {r['max_l1_vs_cvxpy']:.1e}")
            print(f"| {name} | {r['cvxpy_s']:.2f} s | {r['maxent_s']:.3f} s | "
                  f"{r['ratio']:.1f}x | {notes} |")
