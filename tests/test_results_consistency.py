"""One shape of result for every solver (issue 10, item 6): the certificate, the shared
``extra`` keys (``residuals``, ``duals``), ``objective``, ``BatchSolution``'s measures
and ``batch[i]``, and ``Solution.approximate``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.results import BatchSolution, Solution, batch_measures

CERT_KEYS = {"status", "gap", "tolerance", "iterations", "residuals", "certified"}


def _dual_shapes(game, concept):
    return [(k, k) if concept == "ce" else (k,) for k in game.shape]


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_every_solver_reports_one_certificate_shape_and_duals_layout(concept):
    game = sp.load_game("chicken")
    answers = {
        "maxent": sp.solve(game, solver="maxent", concept=concept),
        "welfare": sp.solve(game, solver="welfare", concept=concept),
        "nes": sp.solve(game, solver="nes", concept=concept),
        "nes_refined": sp.solve(game, solver="nes", concept=concept, refine="auto"),
    }
    for name, sol in answers.items():
        cert = sol.certificate
        assert set(cert) == CERT_KEYS, name
        assert cert["status"] == sol.status and cert["gap"] == sol.gap
        assert cert["iterations"] == sol.iterations
        assert cert["certified"] is (name != "nes") and cert["tolerance"] > 0, name
        assert all(isinstance(v, float) for v in cert["residuals"].values()), name
        json.dumps(sol.to_dict())
    assert set(answers["maxent"].certificate["residuals"]) == {"kkt", "dual_gap"}
    assert set(answers["welfare"].certificate["residuals"]) == {"duality_gap"}
    assert answers["nes"].certificate["residuals"] == {}
    assert set(answers["nes_refined"].certificate["residuals"]) == {"kkt"}
    for name in ("maxent", "nes", "nes_refined"):
        duals = answers[name].extra["duals"]
        assert isinstance(duals, list) and all(isinstance(d, np.ndarray) for d in duals), name
        assert [d.shape for d in duals] == _dual_shapes(game, concept), name
    # objective: the maximised function's value, or None
    maxent = answers["maxent"]
    assert maxent.objective == pytest.approx(-maxent.extra["relative_entropy"])
    assert answers["welfare"].objective == pytest.approx(answers["welfare"].welfare)
    assert answers["nes"].objective is None
    assert answers["nes_refined"].objective == pytest.approx(maxent.objective, abs=1e-8)
    for sol in answers.values():      # old spellings are gone
        assert not {"kkt_residual", "dual_gap", "duality_gap", "objective_value",
                    "refine_residual", "max_violation"} & set(sol.extra)


def test_approximate_is_false_for_failed_answers():
    game = sp.load_game("chicken")
    joint = np.full(game.shape, 0.25)
    for status, approx in [("optimal", False), ("approximate", True), ("failed", False),
                           ("iteration_limit", False)]:
        sol = Solution.from_joint(game, joint, "ce", solver="x", status=status)
        assert sol.approximate is approx, status
    assert Solution.from_joint(game, joint, "ce", solver="x").certificate == {
        "status": "optimal", "gap": 0.25, "tolerance": None, "iterations": 0,
        "residuals": {}, "certified": None}


@pytest.mark.parametrize("solver", ["maxent", "nes"])
def test_batch_solution_carries_the_measures_and_indexes_to_solutions(solver):
    rng = np.random.default_rng(4)
    payoffs = rng.normal(size=(5, 2, 2, 2))
    batch = sp.solve_batch(payoffs, solver=solver, concept="cce")
    assert batch.values.shape == (5, 2) and batch.welfare.shape == (5,)
    assert batch.total_correlations.shape == (5,)
    for i in range(len(batch)):
        ev = sp.evaluate(payoffs[i], batch.joints[i], "cce")
        one = batch[i]
        assert isinstance(one, Solution) and one.solver == solver
        np.testing.assert_allclose(batch.values[i], ev.values, atol=1e-12)
        assert batch.welfare[i] == pytest.approx(ev.welfare, abs=1e-12)
        assert batch.entropies[i] == pytest.approx(ev.entropy, abs=1e-12)
        assert batch.total_correlations[i] == pytest.approx(ev.total_correlation, abs=1e-12)
        assert one.status == batch.statuses[i] and one.gap == batch.gaps[i]
        assert one.total_correlation == batch.total_correlations[i]
        assert [d.shape for d in one.extra["duals"]] == [(2,), (2,)]
        assert set(one.certificate) == CERT_KEYS
        json.dumps(one.to_dict())
    assert [d.shape for d in batch.extra["duals"]] == [(5, 2), (5, 2)]
    if solver == "maxent":
        assert batch[0].certificate["certified"] is True
        assert set(batch[0].certificate["residuals"]) == {"kkt"}
        # a game's details under the single-game solve's names, one value each
        single = sp.solve(payoffs[0], solver="maxent", concept="cce").extra
        for key in ("path", "support_route", "payoff_scale"):
            assert key in single and key in batch[0].extra, key
            assert not isinstance(batch[0].extra[key], np.ndarray)
        assert batch[0].extra["support_route"] == batch.extra["support_routes"][0]
        assert batch[0].extra["payoff_scale"] == batch.extra["payoff_scales"][0]
        assert not {"paths", "support_routes", "payoff_scales"} & set(batch[0].extra)
    assert batch[-1].joint.shape == (2, 2)
    with pytest.raises(IndexError):
        batch[5]
    sliced = batch[1:5:2]                           # a slice: the games' Solutions
    assert [s.game for s in sliced] == ["batch[1]", "batch[3]"]
    np.testing.assert_array_equal(sliced[1].joint, batch.joints[3])
    with pytest.raises(TypeError, match="batch indices are integers or slices, not str"):
        batch["0"]
    with pytest.raises(sp.SpielplatzError, match="payoffs are complex numbers"):
        sp.solve_batch(payoffs + 1j, solver=solver, concept="cce")
    data = json.loads(json.dumps(batch.to_dict()))
    assert len(data["welfare"]) == 5 and len(data["total_correlations"]) == 5


def test_batch_measures_match_the_single_game_measures_on_three_players():
    rng = np.random.default_rng(1)
    payoffs = rng.normal(size=(3, 3, 2, 3, 2))
    joints = rng.dirichlet(np.ones(12), size=3).reshape(3, 2, 3, 2)
    joints[0, 1] = 0.0
    joints[0] /= joints[0].sum()
    vals, welfare, ent, tc = batch_measures(payoffs, joints)
    out = BatchSolution.from_joints(payoffs, joints, "ce", solver="x",
                                    statuses=["approximate"] * 3, iterations=[0, 0, 0])
    for i in range(3):
        ev = sp.evaluate(payoffs[i], joints[i], "ce")
        np.testing.assert_allclose(vals[i], ev.values, atol=1e-12)
        assert welfare[i] == pytest.approx(ev.welfare, abs=1e-12)
        assert ent[i] == pytest.approx(ev.entropy, abs=1e-12)
        assert tc[i] == pytest.approx(ev.total_correlation, abs=1e-12)
        np.testing.assert_allclose(out.epsilons[i], ev.epsilons, atol=1e-12)
        assert out[i].gap == pytest.approx(ev.gap, abs=1e-12)


def test_an_answer_cannot_be_edited_into_another_and_compares_by_identity():
    """The joint, epsilons and values of a Solution are read-only copies (its gap and
    status stay those of its joint); results compare by identity instead of raising on
    their arrays, and hash."""
    sol = sp.solve("chicken", solver="maxent")
    for name in ("joint", "epsilons", "values"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(sol, name)[0] = 0.9
    again = sp.solve("chicken", solver="maxent")
    assert sol == sol and sol != again and len({sol, again}) == 2
    np.testing.assert_array_equal(sol.joint, again.joint)
    # a batch's arrays and a run's history too, copied from what they were built from
    joints = np.full((2, 2, 2), 0.25)
    batch = sp.BatchSolution.from_joints(np.ones((2, 2, 2, 2)), joints, "ce", solver="x",
                                         statuses=["optimal"] * 2, iterations=[0, 0])
    for name in ("joints", "epsilons", "gaps", "values", "welfare", "entropies",
                 "total_correlations", "iterations"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(batch, name)[0] = 0
    joints[0] = 1.0                                  # (the caller's array stays its own)
    assert batch.joints[0, 0, 0] == 0.25
    run = sp.learn("braess", "gd", steps=4, seeds=[3, 5], records=2)
    with pytest.raises(ValueError, match="read-only"):
        run.steps[0] = 7
    for values in run.metrics.values():
        with pytest.raises(ValueError, match="read-only"):
            np.asarray(values)[0] = 0


def test_save_run_is_public_and_round_trips(tmp_path):
    """``sp.save_run`` writes what ``learn --out`` writes; ``sp.load_run`` reads it back."""
    run = sp.learn("braess", "gd", steps=4, seeds=[3, 5], records=2)
    names = [p.name for p in sp.save_run(run, tmp_path / "out")]
    assert names == ["gd_run.json", "gd_metrics.csv", "gd_summary.csv"]
    back = sp.load_run(tmp_path / "out")
    assert back.seeds == (3, 5) and list(back.steps) == list(run.steps)
    np.testing.assert_allclose(back.metrics["total_loss"], run.metrics["total_loss"])


def test_run_summary_leaves_out_metrics_not_defined_yet():
    """A metric that is NaN in a seed that did not diverge (an episode's before any
    episode ended) is left out of the statistics, not averaged into a NaN; where no seed
    has it, its statistics are ``None`` and the summary says so."""
    from spielplatz.results import Run

    nan = np.nan
    run = Run(learner="x", game="g", config={}, seeds=(0, 1, 2),
              metrics={"ret": np.array([[nan, 1.0], [nan, 3.0], [nan, nan]]),
                       "never": np.full((3, 2), nan), "loss": np.ones((3, 2))},
              steps=np.array([1, 2]))
    summary = run.summary()
    assert summary["ret"]["mean"] == 2.0 and summary["ret"]["min"] == 1.0
    assert summary["ret"]["count"] == 2 and summary["loss"]["count"] == 3
    assert summary["never"] == dict(dict.fromkeys(("mean", "median", "std", "min", "max")),
                                    count=0)
    assert summary["loss"]["std"] == 0.0
    assert "never: - (not defined yet in any seed)" in str(run)
    assert "ret: mean 2, median 2, std 1 (over the 2 of 3 seeds where it is defined)" in str(run)
    assert "nan" not in str(run)
