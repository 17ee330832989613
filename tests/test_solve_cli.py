"""`spielplatz solve` and `compare` through click's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from spielplatz.cli import cli


@pytest.fixture()
def runner():
    return CliRunner()


def test_solve_maxent_chicken_json(runner):
    result = runner.invoke(cli, ["solve", "chicken", "--solver", "maxent", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "optimal"
    assert data["gap"] <= 1e-8
    joint = np.asarray(data["joint"])
    assert joint.sum() == pytest.approx(1.0)
    # Symmetric game: the MaxEnt CE is symmetric and puts mass on every profile.
    assert joint[0, 1] == pytest.approx(joint[1, 0], abs=1e-9)
    assert joint.min() > 0.1
    assert data["entropy_bits"] == pytest.approx(data["entropy"] / np.log(2))


def test_solve_maxent_welfare_by_name(runner):
    result = runner.invoke(cli, ["solve", "chicken", "-o", "mu=1", "-o", "welfare=egalitarian",
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "optimal"
    assert data["config"]["welfare"] == "egalitarian"


def test_solve_prints_tables_and_plot(runner, tmp_path):
    plot = tmp_path / "joint.png"
    result = runner.invoke(cli, ["solve", "battle_of_the_sexes", "--solver", "welfare",
                                 "--concept", "cce", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "battle_of_the_sexes: CCE by welfare" in result.output
    assert "Opera" in result.output and "marginal" in result.output
    assert "welfare" in result.output and "entropy" in result.output
    assert plot.stat().st_size > 5000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_solve_options_and_errors(runner):
    data = json.loads(runner.invoke(cli, ["solve", "chicken", "--solver", "welfare", "-o",
                                          "objective=egalitarian", "--json"]).output)
    assert min(data["values"]) == pytest.approx(3.0)
    result = runner.invoke(cli, ["solve", "chicken", "--solver", "maxnet"])
    assert result.exit_code == 1
    assert "did you mean 'maxent'" in result.stderr
    result = runner.invoke(cli, ["solve", "chicken", "-o", "objective"])
    assert result.exit_code == 2   # a malformed -o pair is a usage error, as for `learn`
    assert "'objective' is not of the form key=value" in result.stderr
    result = runner.invoke(cli, ["solve", "chicken", "--concept", "nash"])
    assert result.exit_code == 2   # click's own usage error


def test_compare_side_by_side_and_figure(runner, tmp_path):
    plot = tmp_path / "compare.png"
    result = runner.invoke(cli, ["compare", "chicken", "--solvers",
                                 "maxent,welfare(maxent_tiebreak=true)", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "(Swerve,Straight)" in result.output
    assert "welfare(maxent_tiebreak=true)" in result.output
    assert plot.read_bytes()[:4] == b"\x89PNG"
    data = json.loads(runner.invoke(cli, ["compare", "chicken", "--solvers",
                                          "maxent,welfare(maxent_tiebreak=true)",
                                          "--json"]).output)
    # The maximum-entropy point of Chicken's max-welfare CE face: (S,S)=.2, (S,T)=(T,S)=.4.
    np.testing.assert_allclose(data["welfare(maxent_tiebreak=true)"]["joint"],
                               [[0.2, 0.4], [0.4, 0.0]], atol=1e-9)
    assert data["maxent"]["entropy"] > data["welfare(maxent_tiebreak=true)"]["entropy"]


def test_compare_takes_per_player_lists_like_solve(runner):
    """``weights=1;2`` inside ``--solvers`` is the list ``-o weights=1;2`` gives ``solve``
    (it used to reach the solver as the string '1;2')."""
    import json

    out = runner.invoke(cli, ["compare", "chicken", "--json", "--solvers",
                              "welfare(objective=weighted,weights=1;2)"])
    assert out.exit_code == 0, out.output
    solved = runner.invoke(cli, ["solve", "chicken", "--solver", "welfare", "--json",
                                 "-o", "objective=weighted", "-o", "weights=1;2"])
    compared = json.loads(out.output)
    joint = json.loads(solved.output)["joint"]
    assert joint == [[0.0, 1.0], [0.0, 0.0]]            # weights 1:2 favour P2's payoff 5
    assert compared["welfare(objective=weighted,weights=1;2)"]["joint"] == joint
    bad = runner.invoke(cli, ["compare", "chicken", "--solvers",
                              "welfare(objective=weighted,weights=1;;2)"])
    assert bad.exit_code == 1 and "option weights='1;;2' of welfare has an empty value" in \
        bad.output
