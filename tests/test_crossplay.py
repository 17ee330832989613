"""``spielplatz crossplay`` and :func:`spielplatz.crossplay`: groups, scores, saved runs,
LOLA runs, the meta-game of norms, plots and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import spielplatz as sp
from spielplatz.cli.main import cli

FAMILIES = ["amtft(W=util)", "amtft(W=ia)", "amtft(W=util+ia)"]


def run_cli(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def norms():
    """The meta-game of {amTFT({util}), amTFT({ia}), amTFT({util, ia})} on IAsymBoS."""
    return sp.crossplay("iasymbos", FAMILIES, seeds=3, steps=40, episodes=8, solve="maxent")


def test_groups_scores_and_table(norms):
    g = norms.groups
    assert set(g) == {"self-play", "same welfare", "different welfare"}
    assert g["self-play"]["cells"] == 9 and g["same welfare"]["cells"] == 18
    assert g["different welfare"]["cells"] == 54
    assert g["self-play"]["score"] == pytest.approx(1.0)
    lo, hi = g["different welfare"]["score_ci"]
    assert lo <= g["different welfare"]["score"] <= hi
    assert g["same welfare"]["score"] > g["different welfare"]["score"]
    np.testing.assert_array_equal(norms.disagreement, [0, 0])
    assert norms.welfare == ("utilitarian", "inequity_averse")
    assert norms.optima["utilitarian"]["value"] == [4.0, 1.0]
    # amTFT(w) pairs with the same w score 1; util against ia miscoordinates: (0, 0)
    values, score = np.asarray(norms.table["values"]), np.asarray(norms.table["score"])
    assert score[0, 0] == pytest.approx(1.0) and score[1, 1] == pytest.approx(1.0)
    np.testing.assert_allclose(values[:, 0, 1], [0, 0])
    np.testing.assert_allclose(values[:, 1, 0], [0, 0])
    util_ia = [c for c in norms.cells if c["row"][0] == FAMILIES[0]
               and c["col"][0] == FAMILIES[1]]
    assert all(c["pareto_slack"] > 1.9 for c in util_ia)      # far below the frontier
    # the flexible family against ia: ia's outcome, close to it from the first stages
    assert values[0, 2, 1] == pytest.approx(2.0, abs=0.1)
    assert values[1, 2, 1] == pytest.approx(2.0, abs=0.1)
    # independent agents only: no self-play cell in the diagonal of the family table
    assert norms.table["cells"][0][0] == 6
    # each family pair's score with its bootstrap interval over the pair's cells
    ci = np.asarray(norms.table["score_ci"], dtype=float)          # [3, 3, 2]
    assert ci.shape == (3, 3, 2)
    assert np.all(ci[..., 0] <= score + 1e-12) and np.all(score <= ci[..., 1] + 1e-12)
    spread = [c["score"] for c in norms.cells if c["row"][0] == FAMILIES[2]
              and c["col"][0] == FAMILIES[1]]
    assert ci[2, 1, 0] >= min(spread) and ci[2, 1, 1] <= max(spread)
    # printed: the groups and the family table, not the dataclass's repr
    text = str(norms).splitlines()
    assert text[0].startswith("cross-play on iasymbos: ") and len(text) == 1 + 3 + 3
    assert text[1] == "  self-play: NormalizedScore 1.000 [1.000, 1.000] over 9 cells"
    assert text[4].endswith(f"{FAMILIES[0]}: 1.000, {FAMILIES[1]}: 0.000, "
                            f"{FAMILIES[2]}: {score[0, 2]:.3f}")


def test_meta_game_of_norms_is_a_bargaining_game_between_principals(norms):
    """The meta-game repeats the disagreement one level up: both principals deploying the
    same amTFT(w) are its two pure equilibria, principal 1 prefers util's, principal 2
    ia's; maxent returns a certified CE in which each principal leans to its preferred
    norm (and keeps some miscoordination), welfare the utilitarian equilibrium."""
    from spielplatz.api.crossplay import meta_game

    game = meta_game(norms)
    assert game.action_names[0] == tuple(FAMILIES)
    for k in (0, 1):                                          # (util, util), (ia, ia)
        pure = np.zeros((3, 3))
        pure[k, k] = 1.0
        assert sp.evaluate(game, pure, concept="ce").gap <= 1e-9
    flexible = np.zeros((3, 3))
    flexible[2, 2] = 1.0                                      # not an equilibrium
    assert sp.evaluate(game, flexible, concept="ce").gap > 1.0
    sol = norms.meta["solution"]
    assert sol["status"] == "optimal" and sol["gap"] <= 1e-8
    first, second = (np.asarray(m) for m in sol["marginals"])
    assert first.argmax() == 0 and second.argmax() == 1
    assert np.all(first > 0.1) and np.all(second > 0.1)
    welfare = sp.solve(game, solver="welfare", concept="ce")
    assert welfare.joint[0, 0] == pytest.approx(1.0)         # utilitarian: 4 + 1 = 5
    assert welfare.values == pytest.approx([4.0, 1.0], abs=1e-9)


def test_cli_json_and_plot(tmp_path):
    plot = tmp_path / "cp.png"
    res = run_cli("crossplay", "iasymbos", "--agents", "amtft(W=util)", "--agents",
                  "amtft(W=nash)", "--seeds", "2", "--steps", "40", "--episodes", "4",
                  "--solve", "welfare", "--json", "--plot", str(plot))
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["welfare"] == ["utilitarian", "nash"]
    assert data["max_welfare"]["nash"]["value"] == [3.0, 1.5]
    # nash's fair lottery alternates (4,1) and (2,2): discounting tilts it by 2e-5
    assert data["groups"]["self-play"]["score"] == pytest.approx(1.0, abs=1e-4)
    assert len(data["cells"]) == 16
    assert data["meta_game"]["solution"]["status"] == "optimal"
    assert plot.stat().st_size > 10_000


def test_lola_runs_and_saved_runs_go_through_crossplay(tmp_path):
    out = tmp_path / "lola"
    res = run_cli("learn", "ipd", "--learner", "lola", "--seeds", "2", "--steps", "200",
                  "--out", str(out))
    assert res.exit_code == 0, res.output
    result = sp.crossplay("ipd", [str(out), "naive"], seeds=2, steps=200, episodes=2)
    assert result.settings["exact_cells"] == result.settings["cells"] == 16
    labels = [f["label"] for f in result.families]
    assert labels == ["lola", "naive"]
    # LOLA declares no welfare function: each seed is assigned the nearest optimum
    sources = {w["source"] for f in result.families for w in f["welfare"]}
    assert sources == {"nearest optimum"}
    assert result.disagreement.tolist() == [-2.0, -2.0]      # mutual defection, as played
    for c in result.cells:
        assert np.isfinite(c["score"])


def test_diverged_seeds_are_discarded_and_reported():
    run = sp.learn("ipd", "lola", steps=20, seeds=(0, 1, 2))
    import dataclasses

    bad = dataclasses.replace(run, diverged=(False, True, False), diverged_step=(None, 5, None))
    result = sp.crossplay("ipd", [bad], episodes=2)
    assert result.families[0]["discarded_seeds"] == [1]
    assert result.families[0]["seeds"] == 2 and len(result.cells) == 4


def test_seeds_below_a_selfplay_score_are_discarded_and_listed():
    """``min_selfplay``: naive learners defect in self-play (score 0 on the IPD), amTFT(util)
    cooperates (1); only the amTFT cells are scored, every naive seed is listed with its
    score, and the family with no seed left leaves the family table."""
    families = ["amtft(W=util)", "naive"]
    result = sp.crossplay("ipd", families, seeds=2, steps=200, episodes=2, min_selfplay=0.5)
    amtft, naive = result.families
    assert amtft["discarded_selfplay"] == [] and amtft["seeds_scored"] == 2
    assert [d["seed"] for d in naive["discarded_selfplay"]] == [0, 1]
    assert all(d["score"] < 0.5 for d in naive["discarded_selfplay"])
    assert result.settings["cells"] == 16 and result.settings["cells_scored"] == 4
    assert result.groups["self-play"]["cells"] == 2
    assert result.groups["self-play"]["score"] == pytest.approx(1.0)
    assert result.groups["same welfare"]["cells"] == 2 and "different welfare" not in result.groups
    res = run_cli("crossplay", "ipd", "--agents", "amtft(W=util)", "--agents", "naive",
                  "--seeds", "2", "--steps", "200", "--episodes", "2", "--min-selfplay", "0.5")
    assert res.exit_code == 0, res.output
    assert "naive: discarded below self-play score 0.5: seed 0" in res.output
    assert result.table["families"] == ["amtft(W=util)"]        # naive has no seed left
    assert result.table["cells"] == [[2]]
    assert sum(c["scored"] for c in result.cells) == 4
    # seed numbers, not positions; every seed below: one line
    later = sp.crossplay("ipd", families, seeds=2, first_seed=10, steps=200, episodes=2,
                         min_selfplay=0.5)
    assert [d["seed"] for d in later.families[1]["discarded_selfplay"]] == [10, 11]
    with pytest.raises(sp.SpielplatzError, match="nothing is left to score"):
        sp.crossplay("ipd", ["naive"], seeds=2, steps=200, episodes=2, min_selfplay=0.5)


@pytest.mark.parametrize("spec, message", [
    ("amtfx", "unknown learner 'amtfx'; did you mean 'amtft'?"),
    ("amtft(X=1)", "unknown option 'X' for the amtft learner"),
    ("amtft(W=util+foo)", "unknown welfare 'foo'"),
    ("amtft(W=)", "'W' has an empty value"),
    ("amtft(W=util", "must end with ')'"),
])
def test_bad_specs_give_one_line(spec, message):
    res = run_cli("crossplay", "iasymbos", "--agents", spec, "--steps", "5")
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.output


def test_agents_of_another_game_and_bad_welfare_sets(tmp_path):
    out = tmp_path / "run"
    assert run_cli("learn", "ipd", "--learner", "amtft", "--steps", "40", "--seeds", "1",
                   "--out", str(out)).exit_code == 0
    res = run_cli("crossplay", "iasymbos", "--agents", str(out))
    assert res.exit_code == 1 and "trained on 'ipd', not on 'iasymbos'" in res.output
    res = run_cli("crossplay", "ipd", "--agents", str(out), "--welfare", "util+")
    assert res.exit_code == 1 and "welfare set is empty" in res.output
    res = run_cli("crossplay", "chicken", "--agents", "amtft")
    assert res.exit_code == 1 and "cross-play needs a game agents can play" in res.output
    # no profile of ipd gives more than (1, 1): the score would be NaN in every cell
    res = run_cli("crossplay", "ipd", "--agents", str(out), "--disagreement", "1")
    assert res.exit_code == 1 and res.output.strip().splitlines() == [
        "Error: the disagreement point (1, 1) is at or above the best the game allows for "
        "every welfare function (utilitarian: best -4, at the point 0): the NormalizedScore "
        "(Section 4.2) is undefined (no gains from cooperation over it); give a lower "
        "disagreement point (--disagreement) or another welfare set"]


def test_lola_figure_4_in_numbers():
    """Figure 4: LOLA cooperates in IPD cross-play far more often than it coordinates
    in IAsymBoS cross-play between seeds that reached different outcomes."""
    bos = sp.crossplay("iasymbos", ["lola"], seeds=10, steps=2000, episodes=8)
    g = bos.groups
    assert g["self-play"]["score"] > 0.9
    assert g["different welfare"]["score_ci"][1] < g["self-play"]["score_ci"][0]
    assert g["different welfare"]["score"] < 0.5
    ipd = sp.crossplay("ipd", ["lola"], seeds=10, steps=2000, episodes=8,
                       disagreement=[-3.0, -3.0])             # B.2's profile, on request
    assert ipd.disagreement.tolist() == [-3.0, -3.0]
    assert ipd.groups["self-play"]["score"] > 0.9
    assert ipd.groups["same welfare"]["score"] > g["different welfare"]["score"]
