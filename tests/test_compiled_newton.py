"""The compiled projected Newton (numba) against the Python loop it replaces on small
dense problems: the same iterates, the same certificate, the same answers."""

import os
import subprocess
import sys

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.equilibria import deviations
from spielplatz.equilibria.mwmre import compiled, dense_newton, dominance, newton as newton_module
from spielplatz.equilibria.mwmre.config import prepare
from spielplatz.equilibria.mwmre.problem import DualProblem


@pytest.fixture(autouse=True)
def _compiled_always(monkeypatch):
    """These tests compare the two loops: the compiled one from the first solve."""
    monkeypatch.setattr(newton_module, "COMPILED", True)


def _problem(g, concept, epsilon=0.0):
    opts = prepare(g, epsilon=epsilon)
    return DualProblem(deviations.remove_offsets(g) / opts.scale, concept, opts.log_prior,
                       epsilon=opts.epsilon)


def _python(problem, **kw):
    """The Python loop (the compiled path switched off for one call)."""
    saved = newton_module.COMPILED
    newton_module.COMPILED = False
    try:
        return newton_module.newton(problem, **kw)
    finally:
        newton_module.COMPILED = saved


@pytest.mark.parametrize("concept,shape,epsilon", [
    ("ce", (8, 8), 0.0), ("cce", (8, 8), 0.0), ("ce", (3, 4, 2), 0.0),
    ("cce", (3, 3, 3), 0.0), ("ce", (5, 5), 0.02)])
def test_compiled_iterates_are_the_python_loops(concept, shape, epsilon):
    """Thirty games: both converge on the same games, in the same number of iterations
    but for a few rounding ties, to joints equal to 1e-9 in L1."""
    rng = np.random.default_rng(7)
    same, both = 0, 0
    for _ in range(30):
        g = rng.standard_normal((len(shape),) + shape)
        problem = _problem(g, concept, epsilon)
        assert newton_module.compiled_for(problem) is dense_newton
        ours = newton_module.newton(problem, tol=1e-10, max_iter=30)
        theirs = _python(problem, tol=1e-10, max_iter=30)
        assert ours.converged == theirs.converged
        same += ours.iterations == theirs.iterations
        if ours.converged:
            both += 1
            assert np.abs(ours.state["sigma"] - theirs.state["sigma"]).sum() < 1e-9
            np.testing.assert_allclose(ours.state["grad"], theirs.state["grad"], atol=1e-9)
            assert ours.state["value"] == pytest.approx(theirs.state["value"], abs=1e-10)
    assert same >= 27 and both >= 10


def test_compiled_certificate_is_dominated():
    """Where the compiled loop stops with a dominance certificate, the Python certificate
    (:func:`dominance.dominated`) proves the same zeros from the same duals; where it
    collapses without one, the Python certificate finds none either."""
    rng = np.random.default_rng(15)
    proven = 0
    for _ in range(40):
        problem = _problem(rng.standard_normal((2, 8, 8)), "ce")
        res = dense_newton.newton_dense(problem, tol=1e-10, max_iter=200,
                                    patience=dominance.DOMINANCE_PATIENCE, eliminate=True)
        expected = dominance.dominated(problem, res.alpha)
        if res.support is None:
            assert expected is None or res.converged is False and res.iterations < 2
        else:
            proven += 1
            assert expected is not None and np.array_equal(res.support, expected)
            assert not res.support.all()
    assert proven >= 10


def test_solve_is_the_same_without_the_compiled_loop(monkeypatch):
    """Switching the compiled loop off (or numba missing) changes no answer: the same
    supports and routes, joints equal to 1e-9, both certified optimal."""
    games = np.random.default_rng(3).standard_normal((12, 2, 6, 6))
    fast = [sp.solve(g, solver="maxent", concept="ce") for g in games]
    monkeypatch.setitem(newton_module._NUMBA, "module", None)       # numba missing
    slow = [sp.solve(g, solver="maxent", concept="ce") for g in games]
    for a, b in zip(fast, slow):
        assert a.status == b.status == "optimal"
        assert a.extra["support_route"] == b.extra["support_route"]
        assert np.array_equal(a.joint > 0, b.joint > 0)
        assert np.abs(a.joint - b.joint).sum() < 1e-9


def test_diverging_loss_is_not_converged():
    """A NaN loss (duals run off on an empty polytope) is not a zero residual: the solve
    reports the empty polytope instead of a non-finite joint."""
    pd = np.array([[[-1, -3], [0, -2]], [[-1, 0], [-3, -2]]], dtype=float)
    problem = _problem(pd, "ce", epsilon=-0.5)
    with np.errstate(all="ignore"):
        res = dense_newton.newton_dense(problem, tol=1e-10, max_iter=20)
    assert not res.converged and not res.residual <= 1e-10
    # the residual of a NaN gradient is NaN, wherever it sits
    for grad in ([np.nan, 0.0, 0.0], [0.0, 0.0, np.nan], [0.5, np.nan, 0.5]):
        assert np.isnan(compiled._residual(np.ones(3), np.array(grad)))
    with pytest.raises(sp.SpielplatzError, match="polytope is empty"):
        sp.solve(pd, solver="maxent", concept="ce", epsilon=-0.5)


def test_auto_compiles_after_enough_python_time(monkeypatch):
    """``"auto"``: the Python loop until this process has spent ``COMPILE_AFTER`` seconds
    in it on problems the compiled loop takes (a one-game command never imports numba),
    the compiled loop from then on; ``False``: never; problems it does not take (target
    mode, more duals than ``COMPILED_DUALS``) never."""
    problem = _problem(np.random.default_rng(1).standard_normal((2, 4, 4)), "ce")
    monkeypatch.setattr(newton_module, "COMPILED", "auto")
    monkeypatch.setattr(newton_module, "_NUMBA", {})
    assert newton_module.compiled_for(problem) is None
    newton_module.newton(problem)                       # the Python loop, timed
    spent = newton_module._NUMBA["seconds"]
    assert 0.0 < spent < newton_module.COMPILE_AFTER
    assert newton_module.compiled_for(problem) is None
    monkeypatch.setattr(newton_module, "COMPILE_AFTER", spent / 2)
    assert newton_module.compiled_for(problem) is dense_newton
    monkeypatch.setattr(newton_module, "COMPILED", False)
    assert newton_module.compiled_for(problem) is None
    monkeypatch.setattr(newton_module, "COMPILED", True)
    monkeypatch.setattr(newton_module, "COMPILED_DUALS", problem.k - 1)
    assert newton_module.compiled_for(problem) is None


def test_environment_variable_sets_the_mode():
    """``SPIELPLATZ_COMPILED_NEWTON`` read at import: always, never, auto (anything
    else: auto)."""
    code = "from spielplatz.equilibria.mwmre import newton; print(repr(newton.COMPILED))"
    for value, expected in (("always", "True"), ("never", "False"), ("auto", "'auto'"),
                            (" NEVER ", "False"), ("sometimes", "'auto'")):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "SPIELPLATZ_COMPILED_NEWTON": value},
                             check=True)
        assert out.stdout.strip() == expected, (value, out.stdout, out.stderr)


def test_numba_cache_key_follows_the_dependencies():
    """numba's cache of ``compiled.run`` is keyed on compiled.py alone: a change to
    compiled_ops.py or to the constants it takes from newton.py must come with a new
    ``compiled.DEPENDENCIES`` (that edit to compiled.py makes numba compile afresh)."""
    assert compiled.dependency_hash() == compiled.DEPENDENCIES, (
        f"set DEPENDENCIES = {compiled.dependency_hash()!r} in compiled.py")


def test_self_check_and_dtypes():
    """The check run once when the compiled loop is switched on; duals of any float
    dtype are taken as float64 (numba would reject float32 ones)."""
    assert dense_newton.self_check()
    problem = _problem(np.random.default_rng(4).standard_normal((2, 5, 5)), "ce")
    start = np.full(problem.k, 0.01, dtype=np.float32)
    ours = dense_newton.newton_dense(problem, tol=1e-10, max_iter=100, alpha0=start)
    theirs = _python(problem, tol=1e-10, max_iter=100, alpha0=start.astype(float))
    assert ours.converged and theirs.converged
    assert start.dtype == np.float32 and np.all(start == np.float32(0.01))   # untouched
    assert np.abs(ours.state["sigma"] - theirs.state["sigma"]).sum() < 1e-9


def test_compiled_batch_cache_key_follows_the_dependencies():
    """The same for the batch driver, whose cache holds compiled.py's loop."""
    from spielplatz.equilibria.mwmre import compiled_batch

    assert compiled_batch.dependency_hash() == compiled_batch.DEPENDENCIES, (
        f"set DEPENDENCIES = {compiled_batch.dependency_hash()!r} in compiled_batch.py")


@pytest.mark.parametrize("concept,shape", [("ce", (8, 8)), ("cce", (8, 8)),
                                           ("ce", (3, 4, 2))])
def test_compiled_batch_answers_are_the_kernels(monkeypatch, concept, shape):
    """``solve_batch`` on small games with a fixed epsilon runs the compiled driver; its
    answers are the JAX kernel's (both certified optimal, joints within 1e-6 in L1, the
    same zeros proven by the duals where both prove them), and host threads change
    nothing."""
    from spielplatz.equilibria.mwmre import compiled_batch, newton

    games = np.random.default_rng(31).standard_normal((40, len(shape)) + shape)
    assert newton.compiled_batch_for(shape, concept) is compiled_batch
    ours = sp.solve_batch(games, solver="maxent", concept=concept, threads=2)
    one = sp.solve_batch(games, solver="maxent", concept=concept, threads=1)
    np.testing.assert_array_equal(ours.joints, one.joints)
    np.testing.assert_array_equal(ours.iterations, one.iterations)
    monkeypatch.setattr(newton, "COMPILED", False)
    assert newton.compiled_batch_for(shape, concept) is None
    kernel = sp.solve_batch(games, solver="maxent", concept=concept)
    assert ours.all_optimal and kernel.all_optimal
    l1 = np.abs(np.asarray(ours.joints) - np.asarray(kernel.joints)).reshape(40, -1).sum(1)
    assert l1.max() < 1e-6
    routes_ours, routes_kernel = ours.extra["support_routes"], kernel.extra["support_routes"]
    for i in range(len(games)):
        if routes_ours[i] == routes_kernel[i] == "dominance":
            np.testing.assert_array_equal(ours.joints[i] == 0, kernel.joints[i] == 0)


def test_compiled_batch_leaves_target_mode_and_large_games_to_the_kernel(monkeypatch):
    """Target mode (its duals are bounded, its epsilon is found) and games beyond
    ``COMPILED_DUALS`` stay on the kernel."""
    from spielplatz.equilibria.mwmre import compiled_batch, newton

    assert newton.compiled_batch_for((16, 16), "ce") is None            # 512 duals
    assert newton.compiled_batch_for((16, 16), "cce") is compiled_batch  # 32 duals

    def refuse(*args, **kwargs):
        raise AssertionError("target mode reached the compiled driver")

    monkeypatch.setattr(compiled_batch, "run_batch", refuse)
    games = np.random.default_rng(5).standard_normal((8, 2, 3, 3))
    out = sp.solve_batch(games, solver="maxent", concept="ce", target_epsilon=0.0, rho=10.0)
    assert out.all_optimal


@pytest.mark.parametrize("concept,shape", [("ce", (8, 8)), ("cce", (8, 8)), ("ce", (3, 4, 2)),
                                           ("cce", (2, 3, 2))])
def test_compiled_batch_rows_are_the_dense_matrix_compressed(concept, shape):
    """The compiled batch builds each game's rows compressed straight from its payoffs
    (``_game_rows``) and restricts them to a support (``_restrict``): the same entries,
    in the same order, as compressing the dense matrix (``_matrix``) or its columns,
    exact zeros (equal payoffs) left out."""
    from spielplatz.equilibria.mwmre import compiled_batch as cb
    from spielplatz.equilibria.mwmre.compiled_ops import compress
    from spielplatz.equilibria.mwmre.dense_newton import compiled_layout

    rng = np.random.default_rng(8)
    games = rng.integers(0, 3, size=(6, len(shape)) + shape).astype(float)  # many ties
    starts, sizes, act, rest, g_all, _ = compiled_layout(games, concept)
    ce = concept == "ce"
    k = int((sizes * sizes if ce else sizes).sum())
    s = act.shape[1]
    order = np.stack([np.argsort(act[p], kind="mergesort") for p in range(len(shape))])
    first = np.zeros((len(shape), sizes.max() + 1), dtype=np.int64)
    for p in range(len(shape)):
        first[p, 1:sizes[p] + 1] = np.cumsum(np.bincount(act[p], minlength=sizes[p]))
    dense = cb.constraint_rows(games, concept)
    for i in range(len(games)):
        rows = cb._game_rows(g_all[i], ce, starts, sizes, act, rest, order, first, k)
        for got, want in zip(rows, compress(dense[i])):
            np.testing.assert_array_equal(got, want)
        cols = np.flatnonzero(rng.random(s) < 0.6)
        for got, want in zip(cb._restrict(rows, cols, s),
                             compress(np.ascontiguousarray(dense[i][:, cols]))):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_compiled_batch_hands_every_game_over_once(threads):
    """``run_batch(on_share=...)``: every game is run and handed over exactly once, in
    calls that one thread at a time makes, and the answers are those without it."""
    import threading

    from spielplatz.equilibria.mwmre import compiled_batch as cb

    games = np.random.default_rng(12).standard_normal((150, 2, 4, 4))
    g = games / np.ptp(games.reshape(150, -1), axis=1)[:, None, None, None]
    base, eps = np.zeros((150, 4, 4)), np.zeros((150, 2))
    seen, inside, most = [], [0], [0]
    guard = threading.Lock()

    def on_share(out, idx):
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        assert np.isfinite(out["residual"][idx]).all()
        seen.append(np.asarray(idx))
        with guard:
            inside[0] -= 1

    out = cb.run_batch(g, base, eps, "ce", tol=1e-10, max_iter=200, threads=threads,
                       eliminate=True, on_share=on_share)
    handed = np.sort(np.concatenate(seen))
    np.testing.assert_array_equal(handed, np.arange(150))
    assert most[0] == 1
    plain = cb.run_batch(g, base, eps, "ce", tol=1e-10, max_iter=200, threads=1,
                         eliminate=True)
    np.testing.assert_array_equal(out["joint"], plain["joint"])
    np.testing.assert_array_equal(out["iterations"], plain["iterations"])
