"""Exact welfare maximisers, disagreement and punishment points, NormalizedScore by hand."""

from __future__ import annotations

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.equilibria.welfare_optimum import (disagreement_point, maximise, pareto_slack,
                                                   punishment, schedule)
from spielplatz.learning.crossplay import normalized_score

BOS = np.array([[[4.0, 0.0], [0.0, 2.0]], [[1.0, 0.0], [0.0, 2.0]]])
IPD = np.array([[[-1.0, -3.0], [0.0, -2.0]], [[-1.0, 0.0], [-3.0, -2.0]]])


def wf(name):
    return sp.get_welfare_function(name)


def test_bos_is_the_registered_asymmetric_bos():
    np.testing.assert_array_equal(sp.load_game("asymmetric_bos").payoffs, BOS)
    np.testing.assert_array_equal(sp.load_game("prisoners_dilemma").payoffs, IPD)


@pytest.mark.parametrize("name, lottery, value, objective", [
    ("utilitarian", [1, 0, 0, 0], [4, 1], 5.0),
    ("egalitarian", [0, 0, 0, 1], [2, 2], 2.0),
    # (2 + 2p)(2 - p) is largest at p = 1/2: the fair lottery over (4,1) and (2,2)
    ("nash", [0.5, 0, 0, 0.5], [3, 1.5], 4.5),
    # ideal (4, 2): min(v1 / 4, v2 / 2) is largest where they are equal, p = 1/2
    ("kalai_smorodinsky", [0.5, 0, 0, 0.5], [3, 1.5], 0.75),
])
def test_asymmetric_bos_optima_by_hand(name, lottery, value, objective):
    opt = maximise(wf(name), BOS, disagreement=[0.0, 0.0])
    np.testing.assert_allclose(opt.lottery, lottery, atol=1e-9)
    np.testing.assert_allclose(opt.value, value, atol=1e-9)
    assert opt.objective == pytest.approx(objective, abs=1e-9)
    assert opt.over == "hull"


def test_inequity_averse_picks_the_equal_outcome_over_stationary_profiles():
    opt = maximise(wf("ia"), BOS, horizon=100, params={"gamma": 0.96})
    np.testing.assert_array_equal(opt.value, [2, 2])
    assert opt.over == "stationary"
    # (2, 2) forever: no inequity, returns 4 sum_t 0.96^t over 100 stages
    assert opt.objective == pytest.approx(4 * (1 - 0.96 ** 100) / 0.04)


def test_negative_payoffs_and_a_nonzero_disagreement_point():
    d = disagreement_point(IPD)
    np.testing.assert_array_equal(d, [-2, -2])               # mutual defection as played
    nash = maximise(wf("nash"), IPD, disagreement=d)
    np.testing.assert_allclose(nash.value, [-1, -1])          # gains (1, 1): product 1
    assert nash.objective == pytest.approx(1.0)
    egal = maximise(wf("egalitarian"), IPD, disagreement=d)
    assert egal.objective == pytest.approx(1.0)
    # relative to d = (-1, -1) nothing is better for both: nash welfare is zero everywhere
    with pytest.raises(sp.SpielplatzError, match="nash welfare is zero"):
        maximise(wf("nash"), IPD, disagreement=[-1.0, -1.0])


def test_disagreement_and_punishment_points():
    np.testing.assert_array_equal(disagreement_point(BOS), [0, 0])
    strategy, reply = punishment(IPD, 0)
    np.testing.assert_allclose(strategy, [0, 1], atol=1e-12)  # defect
    assert reply == pytest.approx(-2.0)
    # BoS: player 1 mixes 2/3 B, 1/3 S; player 2 gets 2/3 with either reply
    strategy, reply = punishment(BOS, 0)
    np.testing.assert_allclose(strategy, [2 / 3, 1 / 3], atol=1e-9)
    assert reply == pytest.approx(2 / 3)


def test_schedule_tracks_the_lottery():
    seq = schedule([0.5, 0.0, 0.0, 0.5], 60)
    assert set(seq) == {0, 3} and (seq == 0).sum() == 30
    seq = schedule([0.2, 0.8], 60)
    assert (seq == 0).sum() == 12
    assert np.all(schedule([0, 0, 1, 0], 7) == 2)


def test_pareto_slack():
    assert pareto_slack(BOS, [0.0, 0.0]) == pytest.approx(2.0)   # (2,2) better for both by 2
    assert pareto_slack(BOS, [4.0, 1.0]) == pytest.approx(0.0, abs=1e-9)
    assert pareto_slack(BOS, [3.0, 1.5]) == pytest.approx(0.0, abs=1e-9)
    assert pareto_slack(BOS, [2.0, 1.0]) > 0.2


def test_normalized_score_by_hand():
    # IPD, d = (-2, -2): utilitarian gains 1 of at most 2, egalitarian 0.5 of at most 1
    out = normalized_score([-1.5, -1.5], "util+egal", IPD)
    assert out["normalized"] == pytest.approx({"utilitarian": 0.5, "egalitarian": 0.5})
    assert out["score"] == pytest.approx(0.5)
    out = normalized_score([0.0, -3.0], "util+egal+nash", IPD)
    assert out["normalized"] == pytest.approx({"utilitarian": 0.5, "egalitarian": -1.0,
                                               "nash": 0.0})
    # a non-zero disagreement point given explicitly: d = (-3, -3)
    out = normalized_score([-1.5, -1.5], "util", IPD, [-3.0, -3.0])
    assert out["score"] == pytest.approx(3.0 / 4.0)
    # BoS: the Nash lottery is optimal for nash and KS, 0.9 of utilitarian, 0.75 of egal
    out = normalized_score([3.0, 1.5], "util+nash+ks+egal", BOS)
    assert out["normalized"] == pytest.approx({"utilitarian": 0.9, "nash": 1.0,
                                               "kalai_smorodinsky": 1.0, "egalitarian": 0.75})
    # trajectory welfare: (2,2) forever is ia's optimum; (4,1) forever scores
    # ((5 - beta * mean|e1 - e2|) sum) / optimum
    flat = np.full((1, 100, 2), 2.0)
    out = normalized_score([2.0, 2.0], "util+ia", BOS, trajectories=flat,
                           params={"gamma": 0.96})
    assert out["normalized"] == pytest.approx({"utilitarian": 0.8, "inequity_averse": 1.0})
    with pytest.raises(sp.SpielplatzError, match="needs reward trajectories"):
        normalized_score([2.0, 2.0], "ia", BOS)


def test_welfare_set_errors():
    from spielplatz.equilibria.welfare_functions import welfare_set

    with pytest.raises(sp.SpielplatzError, match="W is empty"):
        welfare_set("")
    with pytest.raises(sp.SpielplatzError, match="twice"):
        welfare_set("util+utilitarian")
    with pytest.raises(sp.SpielplatzError, match="unknown welfare 'foo'"):
        welfare_set("util+foo")
    assert [w.name for w in welfare_set("util+ia+egal+ks")] == [
        "utilitarian", "inequity_averse", "egalitarian", "kalai_smorodinsky"]
