"""Tests of the sparse (C)CE constraint matrix and of the ``welfare`` solver plugin.

Reference values come from hand calculations (Chicken, the prisoner's dilemma,
NES appendix Table 5 / Appendix E) and from an independent cvxpy model whose
constraint matrix is built here by explicit loops over joint actions.
"""

from __future__ import annotations

import json

import itertools
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.equilibria import constraints, deviations, measures
from spielplatz.errors import SpielplatzError

from spielplatz_welfare.solver import OPTIONS, WelfareSolver, efficiency_summary

cp = pytest.importorskip("cvxpy")

from conftest import DATA_DIR, corpus_files, gambit_files, require_gambit
SOLVER = WelfareSolver()


# --------------------------------------------------------------------------- helpers
def dense_gains(payoffs: np.ndarray, concept: str) -> np.ndarray:
    """Deviation-gain matrix by explicit loops (independent of spielplatz.equilibria.constraints)."""
    n = payoffs.shape[0]
    shape = payoffs.shape[1:]
    joints = list(np.ndindex(*shape))
    column = {a: i for i, a in enumerate(joints)}
    rows = []
    for p in range(n):
        if concept == "ce":
            pairs = [(r, d) for r in range(shape[p]) for d in range(shape[p]) if r != d]
        else:
            pairs = [(None, d) for d in range(shape[p])]
        for rec, dev in pairs:
            row = np.zeros(len(joints))
            for a in joints:
                if rec is not None and a[p] != rec:
                    continue
                b = list(a)
                b[p] = dev
                row[column[a]] = payoffs[(p, *b)] - payoffs[(p, *a)]
            rows.append(row)
    return np.array(rows).reshape(-1, len(joints))


LP_TOL = dict(tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11, tol_ktratio=1e-9)


def cvxpy_optimum(payoffs: np.ndarray, concept: str, objective: str = "utilitarian",
                  weights=None) -> float:
    """Optimal objective of an independent cvxpy model (CLARABEL, interior point)."""
    n = payoffs.shape[0]
    flat = payoffs.reshape(n, -1)
    A = dense_gains(payoffs, concept)
    x = cp.Variable(flat.shape[1], nonneg=True)
    cons = [cp.sum(x) == 1] + ([A @ x <= 0] if A.shape[0] else [])
    values = flat @ x
    if objective == "utilitarian":
        prob = cp.Problem(cp.Maximize(cp.sum(values)), cons)
    elif objective == "weighted":
        prob = cp.Problem(cp.Maximize(np.asarray(weights) @ values), cons)
    elif objective == "egalitarian":
        prob = cp.Problem(cp.Maximize(cp.min(values)), cons)
    else:
        prob = cp.Problem(cp.Minimize(cp.sum(values)), cons)
    prob.solve(solver="CLARABEL", **LP_TOL)
    assert prob.status == "optimal"
    return float(prob.value)


def cvxpy_maxent_on_face(payoffs: np.ndarray, concept: str, welfare: float) -> np.ndarray:
    """cvxpy's maximum-entropy (C)CE among those with welfare >= ``welfare`` (exp cone)."""
    n = payoffs.shape[0]
    A = dense_gains(payoffs, concept)
    c = payoffs.reshape(n, -1).sum(axis=0)
    x = cp.Variable(c.size, nonneg=True)
    cons = [cp.sum(x) == 1, c @ x >= welfare - 1e-10] + ([A @ x <= 0] if A.shape[0] else [])
    prob = cp.Problem(cp.Maximize(cp.sum(cp.entr(x))), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL")
    return np.asarray(x.value)


def normalised(payoffs: np.ndarray) -> np.ndarray:
    """Payoffs scaled to (largest per-player) range 1."""
    return payoffs / float(deviations.payoff_scale(payoffs))


def random_games(seed: int = 0):
    """56 random games: 2x2..2x12 (both orientations), 3x3x3..3x5x5 and 4x3x3x3."""
    rng = np.random.default_rng(seed)
    shapes = ([(2, a) for a in range(2, 13)] + [(a, 2) for a in range(3, 13, 3)]
              + [(3, 3, 3), (3, 4, 5), (4, 4, 4), (5, 5, 5), (3, 5, 4)]
              + [(3, 3, 3, 3)])
    games = []
    for k in range(56):
        shape = shapes[k % len(shapes)]
        payoffs = rng.normal(size=(len(shape),) + shape)
        if k % 4 == 3:                                   # some integer payoffs (ties, degeneracy)
            payoffs = rng.integers(-3, 4, size=payoffs.shape).astype(float)
        if np.ptp(payoffs) == 0:
            payoffs[0].flat[0] += 1.0
        games.append(normalised(payoffs))
    return games


RANDOM_GAMES = random_games()


# --------------------------------------------------------------------------- constraints.py
@pytest.mark.parametrize("shape", [(2, 3), (3, 3), (1, 4), (4, 1), (2, 3, 4), (3, 1, 2),
                                   (2, 2, 3, 2), (3, 3, 3, 3), (2, 2, 2, 2, 2)])
def test_constraint_matrix_matches_deviation_gains(shape):
    rng = np.random.default_rng(sum(shape))
    payoffs = rng.normal(size=(len(shape),) + shape)
    for _ in range(3):
        joint = rng.random(shape)
        joint /= joint.sum()
        A = constraints.ce_constraint_matrix(payoffs)
        ce = np.concatenate([g[~np.eye(g.shape[0], dtype=bool)]
                             for g in deviations.ce_gains(payoffs, joint)])
        assert A.shape == (constraints.num_constraints(shape, "ce"), joint.size)
        np.testing.assert_allclose(A @ joint.ravel(), ce, atol=1e-12, rtol=0)
        B = constraints.cce_constraint_matrix(payoffs)
        cce = np.concatenate(deviations.cce_gains(payoffs, joint))
        assert B.shape == (constraints.num_constraints(shape, "cce"), joint.size)
        np.testing.assert_allclose(B @ joint.ravel(), cce, atol=1e-12, rtol=0)
    for concept in ("ce", "cce"):
        A = constraints.constraint_matrix(payoffs, concept)
        A.check_format(full_check=True)
        assert A.has_sorted_indices
        np.testing.assert_allclose(A.toarray(), dense_gains(payoffs, concept), atol=1e-12)
        labels = constraints.constraint_labels(shape, concept)
        players = constraints.constraint_players(shape, concept)
        assert len(labels) == len(players) == A.shape[0]
        assert [lab[0] for lab in labels] == players.tolist()


def test_constraint_matrix_row_order_is_documented_order():
    payoffs = np.random.default_rng(1).normal(size=(2, 3, 2))
    A = constraints.ce_constraint_matrix(payoffs).toarray()
    for row, (p, rec, dev) in enumerate(constraints.constraint_labels((3, 2), "ce")):
        expected = np.zeros((3, 2))
        for a in np.ndindex(3, 2):
            if a[p] == rec:
                b = list(a)
                b[p] = dev
                expected[a] = payoffs[(p, *b)] - payoffs[(p, *a)]
        np.testing.assert_allclose(A[row], expected.ravel(), atol=1e-15)


def test_constraint_matrix_drop_zeros_and_speed():
    payoffs = np.zeros((2, 3, 3))
    assert constraints.ce_constraint_matrix(payoffs, drop_zeros=True).nnz == 0
    rng = np.random.default_rng(0)
    for shape in [(64, 64), (10, 10, 10), (8, 8, 8, 8)]:
        payoffs = rng.normal(size=(len(shape),) + shape)
        for concept in ("ce", "cce"):
            constraints.constraint_matrix(payoffs, concept)
            start = time.perf_counter()
            A = constraints.constraint_matrix(payoffs, concept)
            elapsed = time.perf_counter() - start
            assert A.nnz == sum(constraints.num_constraints([a], concept) * (
                A.shape[1] // a if concept == "ce" else A.shape[1] - A.shape[1] // a)
                for a in shape)
            assert elapsed < 0.5, (shape, concept, elapsed)   # milliseconds in practice


# --------------------------------------------------------------------------- generation.py
@pytest.mark.parametrize("shape", [(2, 3), (1, 4), (4, 1), (3, 1, 2), (2, 3, 4), (3, 3, 3, 3)])
def test_dense_cce_rows_match_the_sparse_matrix(shape):
    from spielplatz.equilibria.mwmre.face import row_max_over_simplex
    from spielplatz_welfare.generation import CCERows

    rng = np.random.default_rng(sum(shape))
    # integer payoffs: ties, and rows that never bind (dropped by the same test)
    payoffs = rng.integers(-2, 3, size=(len(shape),) + shape).astype(float)
    gc = deviations.remove_offsets(payoffs)
    e = rng.choice([0.0, 0.5, -0.5, 4.0], size=sum(shape))
    rows = CCERows(gc, e)
    full = constraints.constraint_matrix(gc, "cce")
    keep = row_max_over_simplex(full) > e
    np.testing.assert_array_equal(rows.keep, keep)
    assert rows.m == int(keep.sum())
    dense = full[keep].toarray()
    cols = rng.permutation(gc[0].size)[:5]
    np.testing.assert_array_equal(rows.block(cols), dense[:, cols])   # the same differences
    w = rng.random(rows.m)
    np.testing.assert_allclose(rows.adjoint(w), dense.T @ w, rtol=0, atol=1e-12)


def _full_lp_only(monkeypatch):
    import spielplatz_welfare.solver as module

    monkeypatch.setattr(module, "solve_by_columns", lambda *a, **k: None)


def test_column_generation_matches_the_full_lp(monkeypatch):
    cases = [(payoffs, objective) for payoffs in RANDOM_GAMES[::3]
             for objective in ("utilitarian", "egalitarian", "worst")]
    fast = [SOLVER.solve(sp.load_game(p), "cce", objective=o, maxent_tiebreak=True)
            for p, o in cases]
    assert {sol.extra["lp"]["method"] for sol in fast} == {"column generation"}
    assert {SOLVER.solve(sp.load_game(p), "ce").extra["lp"]["method"]
            for p in RANDOM_GAMES[:8]} == {"full"}
    _full_lp_only(monkeypatch)
    for (payoffs, objective), sol in zip(cases, fast):
        full = SOLVER.solve(sp.load_game(payoffs), "cce", objective=objective,
                            maxent_tiebreak=True)
        assert full.extra["lp"]["method"] in ("full", "lifted")
        assert sol.status == full.status == "optimal" and sol.gap <= 1e-8
        assert sol.objective == pytest.approx(full.objective, abs=1e-9)
        assert sol.extra["residuals"]["duality_gap"] <= 1e-9
        # the tie-break's answer is unique: the same joint whichever LP found the face
        assert sol.extra["maxent_tiebreak"]["applied"]
        np.testing.assert_allclose(sol.joint, full.joint, atol=1e-6)


def test_column_generation_rounds_and_the_elastic_column(monkeypatch):
    import functools

    import spielplatz_welfare.solver as module
    from spielplatz_welfare import generation

    # one column to start with and one per round; a cheap elastic column, so that the
    # restricted optimum first violates the CCE rows and its cost has to grow
    monkeypatch.setattr(module, "solve_by_columns",
                        functools.partial(generation.solve_by_columns, first=1, per_round=1))
    monkeypatch.setattr(generation, "ELASTIC_COST", 1e-4)
    rounds, costs = [], []
    for payoffs in RANDOM_GAMES[:12]:
        for objective in ("utilitarian", "egalitarian"):
            sol = SOLVER.solve(sp.load_game(payoffs), "cce", objective=objective)
            assert sol.status == "optimal" and sol.extra["lp"]["method"] == "column generation"
            assert sol.objective == pytest.approx(cvxpy_optimum(payoffs, "cce", objective),
                                                  abs=1e-7)
            rounds.append(sol.extra["lp"]["rounds"])
            costs.append(sol.extra["lp"]["elastic_cost"])
    assert max(rounds) > 3 and max(costs) > 1e-4


def test_column_generation_failure_falls_back_to_the_full_lp(monkeypatch):
    from spielplatz_welfare import generation

    # an elastic column that stays positive and may not grow: column generation gives up
    monkeypatch.setattr(generation, "ELASTIC_COST", 1e-4)
    monkeypatch.setattr(generation, "ELASTIC_COST_LIMIT", 1e-4)
    methods = set()
    for payoffs in RANDOM_GAMES[4:8] + RANDOM_GAMES[15:19]:      # 2 and 3 players
        sol = SOLVER.solve(sp.load_game(payoffs), "cce")
        assert sol.status == "optimal"
        assert sol.welfare == pytest.approx(cvxpy_optimum(payoffs, "cce"), abs=1e-7)
        methods.add(sol.extra["lp"]["method"])
    assert "lifted" in methods and "full" in methods


def test_column_generation_with_negative_epsilon(monkeypatch):
    # a coordination game: every diagonal cell is a strict equilibrium
    payoffs = np.array([[[4.0, 0.0, 1.0], [1.0, 3.0, 0.0], [0.0, 1.0, 5.0]],
                        [[4.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0]]])
    game = sp.load_game(payoffs)
    with pytest.raises(SpielplatzError, match="smallest epsilon"):
        SOLVER.solve(game, "cce", epsilon=-5.0)
    strict = SOLVER.solve(game, "cce", epsilon=-0.5)
    assert strict.status == "optimal" and strict.extra["lp"]["method"] == "column generation"
    assert max(strict.epsilons) <= -0.5 + 1e-12
    _full_lp_only(monkeypatch)
    full = SOLVER.solve(game, "cce", epsilon=-0.5)
    assert full.extra["lp"]["method"] == "lifted"                # two players
    assert strict.welfare == pytest.approx(full.welfare, abs=1e-9)


def test_phase_timings_and_no_sparse_cce_matrix():
    from spielplatz_welfare.solver import _Problem, _solve_problem

    game = sp.load_game(RANDOM_GAMES[20])
    for concept in ("ce", "cce"):
        sol = SOLVER.solve(game, concept, maxent_tiebreak=True)
        timings = sol.extra["timings"]
        assert set(timings) == {"constraints", "lp", "certification", "tiebreak"}
        assert all(t >= 0 for t in timings.values()) and timings["lp"] > 0
        assert sum(timings.values()) <= sol.wall_time
    problem = _Problem(game, "cce", "utilitarian", None, np.zeros(game.num_players))
    assert _solve_problem(problem)["status"] == "optimal"
    assert problem._A is None           # column generation never built the sparse rows
    assert "timings" not in SOLVER.solve(game, "cce", objective="nash").extra


# --------------------------------------------------------------------------- registration
def test_plugin_registered_through_entry_point_with_options():
    entry = sp.get_host().registry("solver").get("welfare")
    assert entry.plugin == "welfare"
    assert entry.meta["concepts"] == ("ce", "cce") and entry.meta["exact"] is True
    assert entry.meta["options"] == OPTIONS
    import inspect

    keyword_only = [name for name, par in inspect.signature(WelfareSolver.solve).parameters.items()
                    if par.kind == par.KEYWORD_ONLY]
    assert sorted(keyword_only) == sorted(o.name for o in OPTIONS)
    assert isinstance(sp.get_solver("welfare"), WelfareSolver)


def test_registration_does_not_import_heavy_modules():
    code = ("import sys, spielplatz_welfare; "
            "heavy = [m for m in ('numpy', 'scipy', 'highspy', 'jax') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_unknown_options_and_bad_input_are_clear_errors():
    game = sp.load_game("chicken")
    with pytest.raises(SpielplatzError,
                       match="unknown option .tiebreak.*did you mean 'maxent_tiebreak'"):
        SOLVER.solve(game, tiebreak=True)
    with pytest.raises(SpielplatzError, match="did you mean 'egalitarian'"):
        SOLVER.solve(game, objective="egalitarion")
    with pytest.raises(SpielplatzError, match="needs weights"):
        SOLVER.solve(game, objective="weighted")
    with pytest.raises(SpielplatzError, match="only used by objective 'weighted'"):
        SOLVER.solve(game, weights=[1, 2])
    with pytest.raises(SpielplatzError, match="2 finite numbers"):
        SOLVER.solve(game, objective="weighted", weights=[1, 2, 3])
    with pytest.raises(SpielplatzError, match="finite"):
        SOLVER.solve(game, epsilon=float("nan"))
    with pytest.raises(SpielplatzError, match="one per player"):
        SOLVER.solve(game, epsilon=[0.1, 0.2, 0.3])
    with pytest.raises(SpielplatzError, match="concept"):
        SOLVER.solve(game, concept="nash")


# --------------------------------------------------------------------------- known answers
def test_chicken_by_hand():
    # Swerve/Straight: (S,S)=(3,3), (S,T)=(1,5), (T,S)=(5,1), (T,T)=(0,0). Welfare is 6
    # on every cell but (T,T); the CE constraints are p(ST) >= 2 p(SS), p(TS) >= 2 p(SS),
    # 2 p(TS) >= p(TT), 2 p(ST) >= p(TT) and the CCE ones reduce to the same on the
    # welfare-6 face. Max welfare: 6. Maximum entropy on that face: b = c = 2a with
    # a + b + c = 1, i.e. (0.2, 0.4, 0.4, 0).
    game = sp.load_game("chicken")
    for concept in ("ce", "cce"):
        sol = sp.solve(game, solver="welfare", concept=concept)
        assert sol.status == "optimal" and sol.gap <= 1e-12
        assert sol.welfare == pytest.approx(6.0, abs=1e-12)
        assert sol.objective == pytest.approx(6.0, abs=1e-12)
        tie = sp.solve(game, solver="welfare", concept=concept, maxent_tiebreak=True)
        np.testing.assert_allclose(tie.joint, [[0.2, 0.4], [0.4, 0.0]], atol=1e-12)
        assert tie.extra["maxent_tiebreak"]["applied"]
        # Egalitarian: values (3, 3) at best (welfare <= 6, symmetric).
        ega = SOLVER.solve(game, concept, objective="egalitarian")
        assert ega.objective == pytest.approx(3.0, abs=1e-12)
        # Worst equilibrium: maximise p(TT) with p(ST) = p(TS) = p(TT)/2 -> p(TT) = 1/2.
        worst = SOLVER.solve(game, concept, objective="worst")
        assert worst.welfare == pytest.approx(3.0, abs=1e-12)
        np.testing.assert_allclose(worst.joint, [[0, 0.25], [0.25, 0.5]], atol=1e-12)
        # Weighted 2:1 towards the row player: (T,S) gives 2*5 + 1 = 11.
        weighted = SOLVER.solve(game, concept, objective="weighted", weights=[2, 1])
        assert weighted.objective == pytest.approx(11.0, abs=1e-12)
        np.testing.assert_allclose(weighted.joint, [[0, 0], [1, 0]], atol=1e-12)
        summary = efficiency_summary(game, concept)
        assert summary["best_outcome_welfare"] == 6.0
        assert summary["best_equilibrium_welfare"] == pytest.approx(6.0)
        assert summary["worst_equilibrium_welfare"] == pytest.approx(3.0)
        assert summary["price_of_anarchy"] == pytest.approx(2.0)
        assert summary["price_of_stability"] == pytest.approx(1.0)


def test_summary_option_and_non_positive_welfare_convention():
    sol = SOLVER.solve(sp.load_game("chicken"), "ce", summary=True)
    assert sol.extra["efficiency"]["price_of_anarchy"] == pytest.approx(2.0)
    assert sol.to_dict()["extra"]["efficiency"]["price_of_stability"] == pytest.approx(1.0)
    # Prisoner's dilemma (LOLA payoffs): all welfare negative -> ratios undefined.
    pd = efficiency_summary(sp.load_game("prisoners_dilemma"), "ce")
    assert pd["best_outcome_welfare"] == -2.0
    assert pd["worst_equilibrium_welfare"] == pytest.approx(-4.0)
    assert pd["price_of_anarchy"] is None and pd["price_of_stability"] is None
    assert pd["anarchy_loss"] == pytest.approx(2.0) and pd["stability_loss"] == pytest.approx(2.0)
    zero = efficiency_summary(np.zeros((2, 2, 2)), "cce")
    assert zero["price_of_anarchy"] == 1.0 and zero["price_of_stability"] == 1.0


def test_prisoners_dilemma_unique_ce_is_defect_defect():
    game = sp.load_game("prisoners_dilemma")
    for concept in ("ce", "cce"):
        for objective in ("utilitarian", "worst", "egalitarian"):
            for tie in (False, True):
                sol = SOLVER.solve(game, concept, objective=objective, maxent_tiebreak=tie)
                assert sol.status == "optimal"
                np.testing.assert_allclose(sol.joint, [[0, 0], [0, 1]], atol=1e-12)
                assert sol.welfare == pytest.approx(-4.0)


def test_nes_table5_counterexamples():
    # NES appendix E: the CE counterexample's max-welfare CE plays only (1,2), (2,1),
    # (2,2) (one-based), never the max-welfare joint action (4,4); the CCE
    # counterexample's max-welfare CCE plays (1,1).
    ce = sp.solve("nes_ce_counterexample", solver="welfare", concept="ce", maxent_tiebreak=True)
    assert ce.status == "optimal" and ce.gap <= 1e-8
    support = {tuple(int(i) for i in a) for a in np.argwhere(ce.joint > 1e-9)}
    assert support == {(0, 1), (1, 0), (1, 1)}
    np.testing.assert_allclose(ce.joint[:2, :2], [[0, 0.25], [0.25, 0.5]], atol=1e-9)
    assert ce.welfare == pytest.approx(1.0, abs=1e-9)
    plain = sp.solve("nes_ce_counterexample", solver="welfare", concept="ce")
    assert plain.welfare == pytest.approx(1.0, abs=1e-9)
    assert plain.joint[3, 3] == 0.0
    cce = sp.solve("nes_cce_counterexample", solver="welfare", concept="cce")
    assert cce.status == "optimal"
    np.testing.assert_allclose(cce.joint[0, 0], 1.0, atol=1e-12)
    assert cce.welfare == pytest.approx(4.0)


# --------------------------------------------------------------------------- against cvxpy
@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_max_welfare_matches_cvxpy_on_random_games(concept):
    assert len(RANDOM_GAMES) >= 50
    worst_err = 0.0
    for payoffs in RANDOM_GAMES:
        sol = SOLVER.solve(sp.load_game(payoffs), concept)
        assert sol.status == "optimal"
        assert sol.gap <= 1e-8                         # payoff range is 1
        assert deviations.gap(payoffs, sol.joint, concept) <= 1e-8
        assert sol.joint.min() >= 0.0 and sol.joint.sum() == pytest.approx(1.0, abs=1e-14)
        reference = cvxpy_optimum(payoffs, concept)
        worst_err = max(worst_err, abs(sol.welfare - reference))
        assert sol.welfare == pytest.approx(reference, abs=1e-7)
        assert sol.extra["residuals"]["duality_gap"] <= 1e-9
    print(f"{concept}: max |welfare - cvxpy| = {worst_err:.2e}")


@pytest.mark.parametrize("objective", ["egalitarian", "worst", "weighted"])
def test_other_objectives_match_cvxpy(objective):
    rng = np.random.default_rng(11)
    for payoffs in RANDOM_GAMES[::7]:
        n = payoffs.shape[0]
        weights = rng.random(n) + 0.1 if objective == "weighted" else None
        for concept in ("ce", "cce"):
            sol = SOLVER.solve(sp.load_game(payoffs), concept, objective=objective,
                               weights=weights)
            assert sol.status == "optimal" and sol.gap <= 1e-8
            reference = cvxpy_optimum(payoffs, concept, objective, weights)
            assert sol.objective == pytest.approx(reference, abs=1e-7)
            if objective == "worst":
                assert sol.welfare == pytest.approx(reference, abs=1e-7)


# --------------------------------------------------------------------------- invariances
def test_invariance_under_offset_scaling_and_permutations():
    rng = np.random.default_rng(5)
    for payoffs in RANDOM_GAMES[::5]:
        game = sp.load_game(payoffs)
        n = game.num_players
        for concept in ("ce", "cce"):
            base = SOLVER.solve(game, concept)
            # common offset and positive scale: welfare maps affinely
            scale, offset = 3.7, -12.5
            moved = SOLVER.solve(game.with_payoffs(scale * payoffs + offset), concept)
            assert moved.welfare == pytest.approx(scale * base.welfare + n * offset,
                                                  abs=1e-7 * scale)
            # per-player offsets shift utilitarian welfare by their sum
            offsets = rng.normal(size=n).reshape((n,) + (1,) * n)
            shifted = SOLVER.solve(game.with_payoffs(payoffs + offsets), concept)
            assert shifted.welfare == pytest.approx(base.welfare + offsets.sum(), abs=1e-7)
            # relabel players and actions
            perm = game.permute_players(rng.permutation(n))
            for p in range(n):
                perm = perm.permute_actions(p, rng.permutation(perm.shape[p]))
            relabelled = SOLVER.solve(perm, concept)
            assert relabelled.welfare == pytest.approx(base.welfare, abs=1e-7)
            # egalitarian value is invariant under player relabelling and common offsets
            ega = SOLVER.solve(game, concept, objective="egalitarian")
            ega_perm = SOLVER.solve(perm, concept, objective="egalitarian")
            assert ega_perm.objective == pytest.approx(ega.objective, abs=1e-7)


def test_maxent_tiebreak_is_equivariant_under_relabelling():
    # The tie-broken answer is unique, so it must move with the labels.
    payoffs = np.random.default_rng(2).integers(0, 3, size=(2, 3, 3)).astype(float)
    game = sp.load_game(payoffs)
    base = SOLVER.solve(game, "ce", maxent_tiebreak=True)
    order_p, order_0 = [1, 0], [2, 0, 1]
    relabelled = SOLVER.solve(game.permute_players(order_p).permute_actions(1, order_0), "ce",
                              maxent_tiebreak=True)
    expected = base.joint.transpose(order_p)[:, order_0]
    np.testing.assert_allclose(relabelled.joint, expected, atol=1e-9)
    again = SOLVER.solve(game.with_payoffs(7 * payoffs - 2), "ce", maxent_tiebreak=True)
    np.testing.assert_allclose(again.joint, base.joint, atol=1e-9)


# --------------------------------------------------------------------------- tie-break
def _duplicate_action(payoffs, player, action):
    return np.concatenate([payoffs, np.take(payoffs, [action], axis=player + 1)], axis=player + 1)


def test_maxent_tiebreak_all_zero_payoffs_is_uniform_and_matches_cvxpy():
    for shape in [(2, 3), (3, 2, 2), (2, 2, 2, 2)]:
        payoffs = np.zeros((len(shape),) + shape)
        for concept in ("ce", "cce"):
            first = SOLVER.solve(sp.load_game(payoffs), concept, maxent_tiebreak=True)
            second = SOLVER.solve(sp.load_game(payoffs), concept, maxent_tiebreak=True)
            np.testing.assert_array_equal(first.joint, second.joint)        # reproducible
            np.testing.assert_allclose(first.joint, np.full(shape, 1 / np.prod(shape)), atol=1e-15)
            # cvxpy (CLARABEL, exponential cones) reaches only ~1e-6..5e-6 in L1 even
            # for the maximum-entropy point of a plain simplex; ours is exact.
            reference = cvxpy_maxent_on_face(payoffs, concept, 0.0)
            assert np.abs(reference - first.joint.ravel()).sum() <= 1e-5


def _first_order_certificate(payoffs, concept, joint, welfare):
    """Independent LP check (cvxpy) that ``joint`` maximises entropy on the optimal face.

    ``x`` maximises the (concave) entropy over the face F iff no y in F has
    y_j > 0 where x_j = 0, and grad H(x) . (y - x) <= 0 for all y in F.
    """
    n = payoffs.shape[0]
    A = dense_gains(payoffs, concept)
    c = payoffs.reshape(n, -1).sum(axis=0)
    x = joint.ravel()
    y = cp.Variable(x.size, nonneg=True)
    face = [cp.sum(y) == 1, c @ y >= welfare - 1e-12] + ([A @ y <= 0] if A.shape[0] else [])
    zero = x <= 0
    outside = cp.Problem(cp.Maximize(cp.sum(y[np.flatnonzero(zero)]) if zero.any() else 0), face)
    outside.solve(solver="CLARABEL", **LP_TOL)
    grad = np.where(zero, 0.0, -np.log(np.where(zero, 1.0, x)))
    ascent = cp.Problem(cp.Maximize(grad @ y), face + ([y[np.flatnonzero(zero)] == 0]
                                                      if zero.any() else []))
    ascent.solve(solver="CLARABEL", **LP_TOL)
    return float(outside.value), float(ascent.value - grad @ x)


def test_maxent_tiebreak_matches_cvxpy_on_non_unique_optima():
    rng = np.random.default_rng(3)
    games = [normalised(sp.load_game("chicken").payoffs)]
    for k in range(6):
        shape = [(3, 3), (2, 3), (2, 2, 2)][k % 3]
        payoffs = _duplicate_action(rng.normal(size=(len(shape),) + shape), k % len(shape), 0)
        games.append(normalised(payoffs))
    games.append(normalised(rng.integers(0, 3, size=(2, 3, 3)).astype(float)))
    newton_used = 0
    for payoffs in games:
        for concept in ("ce", "cce"):
            sol = SOLVER.solve(sp.load_game(payoffs), concept, maxent_tiebreak=True)
            info = sol.extra["maxent_tiebreak"]
            assert sol.status == "optimal" and info["applied"], info
            assert sol.gap <= 1e-8
            plain = SOLVER.solve(sp.load_game(payoffs), concept)
            assert sol.welfare == pytest.approx(plain.welfare, abs=1e-9)
            assert measures.entropy(sol.joint) >= measures.entropy(plain.joint) - 1e-12
            reference = cvxpy_maxent_on_face(payoffs, concept, sol.welfare)
            # cvxpy's exponential-cone answer is itself only accurate to ~1e-5 here
            # (the entropy is flat at its maximum); the exact check is the certificate.
            assert np.abs(reference - sol.joint.ravel()).sum() <= 1e-4
            outside, ascent = _first_order_certificate(payoffs, concept, sol.joint, sol.welfare)
            assert outside <= 1e-7 and ascent <= 1e-7, (outside, ascent)
            newton_used += info["method"] == "newton"
    assert newton_used >= 4


def test_duplicated_action_splits_evenly():
    payoffs = np.random.default_rng(8).normal(size=(2, 3, 3))
    payoffs = _duplicate_action(_duplicate_action(payoffs, 0, 1), 0, 1)   # rows 1, 3, 4 equal
    for concept in ("ce", "cce"):
        sol = SOLVER.solve(sp.load_game(payoffs), concept, maxent_tiebreak=True)
        np.testing.assert_allclose(sol.joint[3], sol.joint[1], atol=1e-10)
        np.testing.assert_allclose(sol.joint[4], sol.joint[1], atol=1e-10)


# --------------------------------------------------------------------------- epsilon
def test_epsilon_approximate_and_infeasible():
    game = sp.load_game("chicken")
    for concept in ("ce", "cce"):
        loose = SOLVER.solve(game, concept, epsilon=0.5)
        assert loose.status == "optimal" and loose.gap <= 0.5 + 1e-12
        # Strict equilibria (negative epsilon) down to the smallest achievable -0.5.
        strict = SOLVER.solve(game, concept, epsilon=-0.1, maxent_tiebreak=True)
        assert strict.status == "optimal"
        for g in deviations.gains(game.payoffs, strict.joint, concept):
            off = g[~np.eye(g.shape[0], dtype=bool)] if concept == "ce" else g
            assert off.max() <= -0.1 + 1e-12
        edge = SOLVER.solve(game, concept, epsilon=-0.5)
        assert edge.status == "optimal" and np.isfinite(edge.joint).all()
        with pytest.raises(SpielplatzError, match=r"smallest epsilon .* is -0\.5"):
            SOLVER.solve(game, concept, epsilon=-0.6)
        per_player = SOLVER.solve(game, concept, epsilon=[0.0, 1.0])
        assert per_player.status == "optimal"
        assert per_player.epsilons[0] <= 1e-12 and per_player.epsilons[1] <= 1.0 + 1e-12
        assert per_player.config["epsilon"] == [0.0, 1.0]
    # epsilon relaxes the polytope: welfare can only grow
    for payoffs in RANDOM_GAMES[:10]:
        exact = SOLVER.solve(sp.load_game(payoffs), "ce")
        approx = SOLVER.solve(sp.load_game(payoffs), "ce", epsilon=0.05)
        assert approx.welfare >= exact.welfare - 1e-9 and approx.gap <= 0.05 + 1e-8


def test_negative_epsilon_with_one_action_player_cce_is_infeasible():
    payoffs = np.random.default_rng(0).normal(size=(2, 1, 3))
    with pytest.raises(SpielplatzError, match="smallest epsilon"):
        SOLVER.solve(sp.load_game(payoffs), "cce", epsilon=-0.01)


# --------------------------------------------------------------------------- real games
def test_all_gambit_games_solve_optimally():
    require_gambit()           # the external corpus: skipped with the reason when missing
    assert len(gambit_files()) == 60
    check_all_solve_optimally(gambit_files())


def test_all_corpus_games_solve_optimally():
    files = corpus_files()     # tests/data: always present
    assert len(files) >= 12
    check_all_solve_optimally(files)
    # Known welfare optima: (cooperate, cooperate) = 6 in the prisoner's dilemma, yet its
    # only CE is (defect, defect) = 2; 12 at (2,2,2) of the three-player game; 6 at (T,L)
    # or (T,C) of the degenerate game; 0 in matching pennies (zero-sum).
    for path, welfare in (("pd_payoff.nfg", 2.0), ("three_player.nfg", 12.0),
                          ("degenerate.nfg", 6.0), ("matching_pennies.json", 0.0),
                          ("coordination_outcome.nfg", 4.0)):
        sol = SOLVER.solve(sp.load_game(str(DATA_DIR / path)), "ce")
        assert sol.welfare == pytest.approx(welfare, abs=1e-9), path


def check_all_solve_optimally(paths):
    for path in paths:
        game = sp.load_game(str(path))
        scale = max(float(deviations.payoff_scale(game.payoffs)), 1.0)
        for concept in ("ce", "cce"):
            for tie in (False, True):
                sol = SOLVER.solve(game, concept, maxent_tiebreak=tie)
                assert sol.status == "optimal", (path, concept, sol.extra)
                assert sol.gap <= 1e-8 * scale, (path, concept, sol.gap)
                assert np.isfinite(sol.joint).all() and sol.joint.min() >= 0
                if tie:
                    assert sol.extra["maxent_tiebreak"]["applied"], (path, sol.extra)
        worst = SOLVER.solve(game, "ce", objective="worst")
        best = SOLVER.solve(game, "ce")
        assert worst.status == best.status == "optimal"
        assert worst.welfare <= best.welfare + 1e-8 * scale


def test_solution_is_json_ready_and_reports_certificates():
    import json

    sol = sp.solve("chicken", solver="welfare", concept="ce", maxent_tiebreak=True, summary=True)
    data = json.loads(json.dumps(sol.to_dict()))
    assert data["solver"] == "welfare" and data["status"] == "optimal"
    assert data["objective"] == pytest.approx(6.0)
    assert data["extra"]["objective_bound"] == pytest.approx(6.0)
    assert data["config"]["maxent_tiebreak"] is True
    assert "welfare" in str(sol)


def test_shapes_with_single_joint_action_and_single_action_players():
    one = SOLVER.solve(sp.load_game(np.array([[[1.0]], [[2.0]]])), "ce", maxent_tiebreak=True)
    assert one.status == "optimal" and one.joint.shape == (1, 1) and one.joint[0, 0] == 1.0
    payoffs = np.random.default_rng(4).normal(size=(3, 1, 3, 2))
    for concept, tie in itertools.product(("ce", "cce"), (False, True)):
        sol = SOLVER.solve(sp.load_game(payoffs), concept, maxent_tiebreak=tie)
        assert sol.status == "optimal" and sol.gap <= 1e-8 * float(deviations.payoff_scale(payoffs))


# --------------------------------------------------------------------------- registry objectives
# Asymmetric BoS (normative disagreement, B.2): BB (4,1), SS (2,2), (0,0) off the
# diagonal. Every lottery p BB + (1-p) SS is a CE (each recommendation is a best reply)
# and its values (2+2p, 2-p) lie on the Pareto frontier x + 2y = 6 of the feasible
# payoffs, so every Pareto-optimal (C)CE payoff is on that segment. By hand:
# Nash, d = 0:         max (2+2p)(2-p) = 4 + 2p - 2p^2 -> p = 1/2, (3, 1.5), product 4.5;
# Nash, d = (0, 1):    (2+2p)(1-p) = 2(1-p^2) -> p = 0, (2, 2), product 2;
# Nash, d = (1, 0):    (1+2p)(2-p) = 2 + 3p - 2p^2 -> p = 3/4, (3.5, 1.25), product 3.125;
# KS, ideal (4, 2):    d = 0: (2+2p)/4 = (2-p)/2 -> p = 1/2, ratio 3/4;
#                      d = (0, 1): (2+2p)/4 = (1-p)/1 -> p = 1/3, (8/3, 5/3), ratio 2/3;
# egalitarian, d = (1, 0): 1+2p = 2-p -> p = 1/3, (8/3, 5/3), value 5/3.
BOS = "asymmetric_bos"


def _diagonal(p):
    return np.array([[p, 0.0], [0.0, 1.0 - p]])


def test_objectives_come_from_the_welfare_registry():
    import spielplatz_welfare.solver as module

    assert not hasattr(module, "OBJECTIVES")                 # no table of its own
    assert set(module.solvable_objectives()) == {"utilitarian", "egalitarian", "nash",
                                                 "kalai_smorodinsky", "weighted", "worst"}
    assert module.MODES == ("weighted", "worst")
    listed = {name for name in sp.get_host().registry("welfare")}
    assert {"utilitarian", "egalitarian", "nash", "kalai_smorodinsky"} <= listed
    game = sp.load_game(BOS)
    for name in listed - {"inequity_averse"}:             # every value-based one solves
        sol = SOLVER.solve(game, "ce", objective=name)
        assert sol.status == "optimal", name


def test_unsolvable_objectives_are_one_line_errors(monkeypatch):
    game = sp.load_game(BOS)
    with pytest.raises(SpielplatzError) as info:
        SOLVER.solve(game, objective="inequity_averse")
    text = str(info.value)
    assert "\n" not in text
    assert "defined on trajectories" in text and "not on the players' values" in text
    assert "solvable objectives: egalitarian, kalai_smorodinsky, nash, utilitarian, weighted, " \
           "worst" in text
    with pytest.raises(SpielplatzError, match=r"unknown welfare objective 'nsh'; did you mean "
                                              r"'nash'\? .*registered welfare functions: .*"
                                              r"inequity_averse"):
        SOLVER.solve(game, objective="nsh")
    with pytest.raises(SpielplatzError, match="did you mean 'kalai_smorodinsky'"):
        SOLVER.solve(game, objective="kalai_smorodinski")
    # a plugin's plain function of values: registered, but no certified method
    from spielplatz.equilibria import welfare_functions

    real = welfare_functions.registered_welfare_function

    def lookup(name):
        if name == "worst_plus_mean":
            return welfare_functions.as_welfare_function(
                name, lambda v: v.min(axis=-1) + v.mean(axis=-1))
        return real(name)

    monkeypatch.setattr(welfare_functions, "registered_welfare_function", lookup)
    with pytest.raises(SpielplatzError, match="plugin's welfare function of values that the "
                                              "welfare solver cannot maximise to a certified"):
        SOLVER.solve(game, objective="worst_plus_mean")
    with pytest.raises(SpielplatzError, match="maxent_tiebreak is not available for "
                                              "objective 'nash'"):
        SOLVER.solve(game, objective="nash", maxent_tiebreak=True)
    with pytest.raises(SpielplatzError, match="disagreement must be"):
        SOLVER.solve(game, objective="nash", disagreement=[0, 1, 2])


def _ce_vertices(payoffs, concept="ce"):
    """Vertices of the (C)CE polytope by brute force (tight rows of an explicit matrix)."""
    n = payoffs[0].size
    A = np.vstack([dense_gains(payoffs, concept), -np.eye(n)])
    found = []
    for rows in itertools.combinations(range(A.shape[0]), n - 1):
        M = np.vstack([A[list(rows)], np.ones(n)])
        if abs(np.linalg.det(M)) < 1e-12:
            continue
        x = np.linalg.solve(M, np.eye(n)[-1])
        if np.all(A @ x <= 1e-12):
            found.append(x)
    return np.array(found)


def _max_nash_product_over_polygon(payoffs, d, concept="ce"):
    """Max of (v1 - d1)(v2 - d2) over the (C)CE payoff polygon of a 2-player game: over
    every segment between two vertices' payoffs (the polygon's edges among them), the
    product is a quadratic in the mixing weight, maximised in closed form."""
    pts = _ce_vertices(payoffs, concept) @ payoffs.reshape(2, -1).T - d
    best = 0.0
    for a, b in itertools.product(pts, pts):
        step = b - a
        ts = [0.0, 1.0]
        if step[0] * step[1] != 0:
            ts.append(-(a[0] * step[1] + a[1] * step[0]) / (2 * step[0] * step[1]))
        for t in ts:
            if 0 <= t <= 1:
                g = a + t * step
                if np.all(g > 0):
                    best = max(best, float(g[0] * g[1]))
    return best


def test_nash_asymmetric_bos_is_the_50_50_lottery():
    game = sp.load_game(BOS)
    for concept in ("ce", "cce"):
        sol = SOLVER.solve(game, concept, objective="nash")
        assert sol.status == "optimal" and sol.gap <= 1e-12
        assert sol.objective == pytest.approx(4.5, rel=1e-9)
        np.testing.assert_allclose(sol.values, [3.0, 1.5], atol=1e-6)
        np.testing.assert_allclose(sol.joint, _diagonal(0.5), atol=1e-6)
        cut = sol.extra["cutting_plane"]
        assert 0 <= cut["gap"] <= 1e-9 and cut["rounds"] >= 2
        assert sol.objective <= sol.extra["objective_bound"] <= 4.5 * (1 + 1e-8)
        assert sol.extra["residuals"]["duality_gap"] <= 4.5e-8
        assert sol.extra["log_nash_welfare"] == pytest.approx(np.log(4.5), abs=1e-9)
        assert _max_nash_product_over_polygon(game.payoffs, np.zeros(2), concept) == \
            pytest.approx(4.5, rel=1e-12)
    # the registry's own value at the answer
    nash = sp.get_welfare_function("nash")
    assert float(nash(sol.values)) == pytest.approx(sol.objective, rel=1e-12)
    # d = (0, 1): a corner, the pure equilibrium SS
    corner = SOLVER.solve(game, "ce", objective="nash", disagreement=[0, 1])
    assert corner.status == "optimal" and corner.objective == pytest.approx(2.0, rel=1e-9)
    np.testing.assert_allclose(corner.joint, _diagonal(0.0), atol=1e-6)
    assert corner.config["disagreement"] == [0.0, 1.0]


def test_nash_with_negative_payoffs_and_a_disagreement_point():
    # BoS - 3 with d = (-2, -3): the gains are those of BoS with d = (1, 0), so p = 3/4,
    # values (3.5 - 3, 1.25 - 3) = (0.5, -1.75), gains (2.5, 1.25), product 3.125.
    game = sp.load_game(sp.load_game(BOS).payoffs - 3.0)
    sol = SOLVER.solve(game, "ce", objective="nash", disagreement=[-2, -3])
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(3.125, rel=1e-9)
    np.testing.assert_allclose(sol.values, [0.5, -1.75], atol=1e-6)
    np.testing.assert_allclose(sol.joint, _diagonal(0.75), atol=1e-6)
    assert _max_nash_product_over_polygon(game.payoffs, np.array([-2.0, -3.0])) == \
        pytest.approx(3.125, rel=1e-12)
    # Chicken - 5 with d = (-5, -4): max v1 (v2 - 1) on the frontier v1 + v2 = 6 of Chicken
    # (CE payoffs from (5, 1) to (1, 5)): v1 = 2.5, product 6.25; shifted values (-2.5, -1.5)
    chicken = sp.load_game(sp.load_game("chicken").payoffs - 5.0)
    for concept in ("ce", "cce"):
        sol = SOLVER.solve(chicken, concept, objective="nash", disagreement=[-5, -4])
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(6.25, rel=1e-9)
        np.testing.assert_allclose(sol.values, [-2.5, -1.5], atol=1e-6)
        assert _max_nash_product_over_polygon(chicken.payoffs, np.array([-5.0, -4.0]),
                                              concept) == pytest.approx(6.25, rel=1e-12)


def test_nash_matches_the_payoff_polygon_on_random_two_player_games():
    rng = np.random.default_rng(21)
    for shape in [(2, 2), (2, 3), (3, 2)] * 3:          # brute-force vertices: small games
        payoffs = rng.integers(-3, 6, size=(2,) + shape).astype(float)
        d = np.array([payoffs[0].min(), payoffs[1].min()]) - 0.5
        sol = SOLVER.solve(sp.load_game(payoffs), "ce", objective="nash", disagreement=d)
        assert sol.status == "optimal", sol.extra
        reference = _max_nash_product_over_polygon(payoffs, d)
        assert sol.objective == pytest.approx(reference, rel=1e-8)
        assert sol.objective <= reference * (1 + 1e-12)         # never above the true optimum


def test_nash_matches_cvxpy_log_objective():
    rng = np.random.default_rng(5)
    for payoffs in RANDOM_GAMES[1:40:6]:
        n = payoffs.shape[0]
        d = payoffs.reshape(n, -1).min(axis=1) - rng.random(n)
        for concept in ("ce", "cce"):
            sol = SOLVER.solve(sp.load_game(payoffs), concept, objective="nash",
                               disagreement=d)
            assert sol.status == "optimal" and sol.gap <= 1e-8
            A = dense_gains(payoffs, concept)
            x = cp.Variable(payoffs[0].size, nonneg=True)
            cons = [cp.sum(x) == 1] + ([A @ x <= 0] if A.shape[0] else [])
            prob = cp.Problem(cp.Maximize(cp.sum(cp.log(payoffs.reshape(n, -1) @ x - d))), cons)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prob.solve(solver="CLARABEL")
            # the exponential-cone answer is accurate to ~1e-7; ours is certified to 1e-9
            assert sol.extra["log_nash_welfare"] == pytest.approx(prob.value, abs=1e-6)
            assert sol.extra["log_nash_welfare"] >= prob.value - 1e-6


def test_nash_without_a_point_above_the_disagreement_point_is_infeasible():
    game = sp.load_game(BOS)
    sol = SOLVER.solve(game, "ce", objective="nash", disagreement=[3, 2])
    assert sol.status == "infeasible" and sol.objective == 0.0
    assert "Nash welfare prod_i max(v_i - d_i, 0) is 0 on the whole polytope" in \
        sol.extra["message"]
    assert sol.extra["max_min_gain"] == pytest.approx(-1 / 3)      # egalitarian, d = (3, 2)
    assert sol.gap <= 1e-12                                       # still a certified CE
    # the prisoner's dilemma (LOLA payoffs, all negative): its only CE is DD = (-2, -2)
    pd = sp.solve("prisoners_dilemma", solver="welfare", objective="nash")
    assert pd.status == "infeasible" and "no CE gives every player more" in pd.extra["message"]
    assert SOLVER.solve(sp.load_game("prisoners_dilemma"), "ce", objective="nash",
                        disagreement=-3).objective == pytest.approx(1.0, rel=1e-9)


def test_an_infeasible_nash_problem_exits_1_with_its_reason_on_the_command_line():
    """The CE is still shown (and parses as JSON), but no CE gives both players more than
    10 in chicken: one line on stderr says so, and the exit status is 1 (as for
    ``kalai_smorodinsky`` with such a point)."""
    from click.testing import CliRunner

    from spielplatz.cli.main import cli

    args = ["solve", "chicken", "--solver", "welfare", "-o", "objective=nash",
            "-o", "disagreement=10;10"]
    shown = CliRunner().invoke(cli, args)
    assert shown.exit_code == 1 and "(infeasible)" in shown.stdout
    assert shown.stderr.strip().splitlines() == [
        "Error: solver 'welfare' found the problem infeasible on chicken: no CE gives every "
        "player more than its disagreement value (the largest min_i (v_i - d_i) over the "
        "polytope is -7), so the Nash welfare prod_i max(v_i - d_i, 0) is 0 on the whole "
        "polytope; lower the disagreement point or use objective=egalitarian"]
    as_json = CliRunner().invoke(cli, args + ["--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["status"] == "infeasible"


def test_kalai_smorodinsky_by_hand():
    game = sp.load_game(BOS)
    for concept in ("ce", "cce"):
        sol = SOLVER.solve(game, concept, objective="kalai_smorodinsky")
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(0.75, abs=1e-12)
        assert sol.extra["ideal_point"]["ideal"] == pytest.approx([4.0, 2.0], abs=1e-12)
        np.testing.assert_allclose(sol.joint, _diagonal(0.5), atol=1e-12)
        shifted = SOLVER.solve(game, concept, objective="kalai_smorodinsky",
                               disagreement=[0, 1])
        assert shifted.objective == pytest.approx(2 / 3, abs=1e-12)
        np.testing.assert_allclose(shifted.values, [8 / 3, 5 / 3], atol=1e-12)
        assert shifted.extra["objective_bound"] == pytest.approx(2 / 3, abs=1e-9)
    ks = sp.get_welfare_function("kalai_smorodinsky")
    assert float(ks(shifted.values, np.array([0.0, 1.0]), ideal=np.array([4.0, 2.0]))) == \
        pytest.approx(shifted.objective, abs=1e-12)
    with pytest.raises(SpielplatzError, match=r"player 2 has ideal 2 <= d = 2"):
        SOLVER.solve(game, objective="kalai_smorodinsky", disagreement=[0, 2])
    # Chicken: ideal (5, 5), so KS = egalitarian; the tie-break spreads over the same face
    tie = SOLVER.solve(sp.load_game("chicken"), "ce", objective="kalai_smorodinsky",
                       maxent_tiebreak=True)
    assert tie.objective == pytest.approx(0.6, abs=1e-12)
    assert tie.extra["maxent_tiebreak"]["applied"]
    np.testing.assert_allclose(tie.joint, [[0.2, 0.4], [0.4, 0.0]], atol=1e-9)


def test_egalitarian_relative_to_the_disagreement_point():
    game = sp.load_game(BOS)
    plain = SOLVER.solve(game, "ce", objective="egalitarian")
    assert plain.objective == pytest.approx(2.0, abs=1e-12)      # SS: min(2, 2)
    for concept in ("ce", "cce"):
        sol = SOLVER.solve(game, concept, objective="egalitarian", disagreement=[1, 0])
        assert sol.status == "optimal"
        assert sol.objective == pytest.approx(5 / 3, abs=1e-12)
        np.testing.assert_allclose(sol.joint, _diagonal(1 / 3), atol=1e-12)
        assert sol.extra["objective_bound"] == pytest.approx(5 / 3, abs=1e-9)
        tie = SOLVER.solve(game, concept, objective="egalitarian", disagreement=[1, 0],
                           maxent_tiebreak=True)
        np.testing.assert_allclose(tie.joint, _diagonal(1 / 3), atol=1e-9)
    # Chicken, d = (0, 1): max min(v1, v2 - 1) on v1 + v2 = 6 -> v1 = 2.5
    chicken = SOLVER.solve(sp.load_game("chicken"), "ce", objective="egalitarian",
                           disagreement=[0, 1])
    assert chicken.objective == pytest.approx(2.5, abs=1e-12)
    # utilitarian ignores d
    util = SOLVER.solve(game, "ce", disagreement=[1, 5])
    assert util.objective == pytest.approx(5.0, abs=1e-12) == util.welfare   # BB


@pytest.mark.parametrize("objective", ["egalitarian", "kalai_smorodinsky"])
def test_max_min_objectives_with_disagreement_match_cvxpy(objective):
    rng = np.random.default_rng(13)
    for payoffs in RANDOM_GAMES[::9]:
        n = payoffs.shape[0]
        d = rng.normal(size=n) * 0.3 - 0.5
        flat = payoffs.reshape(n, -1)
        for concept in ("ce", "cce"):
            A = dense_gains(payoffs, concept)
            x = cp.Variable(flat.shape[1], nonneg=True)
            cons = [cp.sum(x) == 1] + ([A @ x <= 0] if A.shape[0] else [])
            if objective == "egalitarian":
                span = np.ones(n)
            else:
                span = np.array([cvxpy_optimum(payoffs, concept, "weighted", np.eye(n)[p])
                                 for p in range(n)]) - d
                if np.any(span <= 1e-6):
                    continue
            prob = cp.Problem(cp.Maximize(cp.min(cp.multiply(flat @ x - d, 1 / span))), cons)
            prob.solve(solver="CLARABEL", **LP_TOL)
            sol = SOLVER.solve(sp.load_game(payoffs), concept, objective=objective,
                               disagreement=d)
            assert sol.status == "optimal" and sol.gap <= 1e-8
            assert sol.objective == pytest.approx(prob.value, abs=1e-7)


def test_nash_is_equivariant_under_scaling_and_offsets():
    payoffs = RANDOM_GAMES[8]
    n = payoffs.shape[0]
    d = payoffs.reshape(n, -1).min(axis=1) - 0.25
    base = SOLVER.solve(sp.load_game(payoffs), "ce", objective="nash", disagreement=d)
    scale, offset = 7.0, -40.0
    moved = SOLVER.solve(sp.load_game(scale * payoffs + offset), "ce", objective="nash",
                         disagreement=scale * d + offset)
    assert moved.status == base.status == "optimal"
    assert moved.objective == pytest.approx(scale ** n * base.objective, rel=2e-9)


def test_cli_solves_nash_as_json():
    import json
    import os

    script = Path(sys.executable).with_name("spielplatz")
    command = [str(script)] if script.is_file() and os.access(script, os.X_OK) else [
        sys.executable, "-c", "from spielplatz.cli import main; main()"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPIELPLATZ_")}
    for options, product in ((["-o", "objective=nash"], 4.5),
                             (["-o", "objective=nash", "-o", "disagreement=0;1"], 2.0)):
        result = subprocess.run([*command, "solve", BOS, "--solver", "welfare", *options,
                                 "--json"], capture_output=True, text=True, env=env,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["status"] == "optimal" and data["config"]["objective"] == "nash"
        assert data["objective"] == pytest.approx(product, rel=1e-9)
        assert data["extra"]["objective"] == "nash"
        assert data["extra"]["cutting_plane"]["gap"] <= 1e-9
    refused = subprocess.run([*command, "solve", BOS, "--solver", "welfare", "-o",
                              "objective=inequity_averse"], capture_output=True, text=True,
                             env=env, timeout=120)
    assert refused.returncode == 1
    assert "defined on trajectories" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
