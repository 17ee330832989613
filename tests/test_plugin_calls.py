"""Plugin code run after start-up (lazy imports, solves, trainings) is contained too."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.api import audit_solution, call_plugin
from spielplatz.errors import PluginError
from spielplatz.results import Solution


def _exit():
    sys.exit(7)


def _interrupt():
    raise KeyboardInterrupt


def _bug():
    raise ValueError("boom from plugin")


@pytest.mark.parametrize("fn, fragment", [
    (_exit, "solver 'x' (plugin 'evil') failed: SystemExit: 7"),
    (_interrupt, "solver 'x' (plugin 'evil') failed: KeyboardInterrupt"),
    (_bug, "solver 'x' (plugin 'evil') failed: ValueError: boom from plugin"),
])
def test_plugin_failures_become_one_plugin_error(fn, fragment):
    with pytest.raises(PluginError) as info:
        call_plugin("solver", "x", "evil", fn)
    assert str(info.value) == fragment


def test_user_errors_pass_through_unchanged():
    def refuse():
        raise sp.SpielplatzError("bad option")

    with pytest.raises(sp.SpielplatzError, match="^bad option$"):
        call_plugin("solver", "x", "evil", refuse)


def test_plugin_output_goes_to_stderr(capfd):
    def noisy():
        print("PY-LEVEL")
        os.write(1, b"FD-LEVEL\n")
        return 42

    assert call_plugin("solver", "x", "evil", noisy) == 42
    out, err = capfd.readouterr()
    assert out == ""
    assert "PY-LEVEL" in err and "FD-LEVEL" in err


def test_unknown_status_and_borrowed_name_are_not_passed_on():
    game = sp.load_game("chicken")
    joint = sp.solve(game).joint
    odd = Solution.from_joint(game, joint, "ce", solver="maxent", status="totally-optimal")
    out = audit_solution(odd, game, "ce", solver="impostor", plugin="evil", exact=False)
    assert out.status == "failed"
    assert out.solver == "impostor"
    assert out.extra["reported_status"] == "totally-optimal"
    assert out.extra["reported_solver"] == "maxent"


def test_a_solver_cannot_certify_its_answer_by_reporting_a_larger_epsilon():
    """The epsilon certified against is the user's (0 unless asked), not one the solver
    writes into its own config or ``epsilon_required``; only the target formulation,
    which chooses epsilon, reports its own."""
    from spielplatz.errors import SolverWarning

    game = sp.load_game("chicken")
    uniform = np.full((2, 2), 0.25)                       # not a CE of chicken
    liar = Solution.from_joint(game, uniform, "ce", solver="liar", status="optimal",
                               config={"epsilon": 1.0}, extra={"epsilon_required": [1.0, 1.0]})
    with pytest.warns(SolverWarning, match="labelled an answer optimal"):
        out = audit_solution(liar, game, "ce", solver="liar", plugin="evil", exact=True,
                             options={})
    assert out.status == "failed" and out.extra["certificate"]["certified"] is False
    asked = audit_solution(liar, game, "ce", solver="liar", plugin="evil", exact=True,
                           options={"epsilon": 1.0})           # what the user asked for
    assert asked.status == "optimal" and asked.extra["certificate"]["certified"] is True
    target = audit_solution(liar, game, "ce", solver="liar", plugin="evil", exact=True,
                            options={"target_epsilon": 0.0})
    assert target.extra["certificate"]["certified"] is True


def test_solve_through_the_host_reports_the_registered_name():
    sol = sp.solve("chicken", solver="maxent")
    assert sol.solver == "maxent" and sol.status == "optimal"
    assert sol.extra["certificate"]["certified"] is True
    assert np.isclose(sol.joint.sum(), 1.0)


def test_compare_keeps_repeated_solvers_apart():
    import json

    from click.testing import CliRunner

    from spielplatz.cli import cli

    result = CliRunner().invoke(cli, ["compare", "chicken", "--solvers", "maxent,maxent",
                                      "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == ["maxent", "maxent #2"]
    assert data["maxent"]["entropy"] == pytest.approx(data["maxent #2"]["entropy"])


def test_game_loaders_and_learners_run_under_the_guard(monkeypatch, capfd):
    """A game loader or a learner that prints, raises or answers nonsense: its prints go
    to stderr and its failures are one PluginError naming the plugin, through the API
    and the command line alike (the CLI's learn used to call learners unguarded)."""
    from click.testing import CliRunner

    from spielplatz import hookimpl
    from spielplatz.api import games as api_games, learning as api_learning
    from spielplatz.cli import cli
    from spielplatz.plugins import host as host_module
    from spielplatz.plugins.host import PluginHost

    def noisy_game():
        print("LOADER PRINTS")
        return sp.NormalFormGame([[[1, 0], [0, 1]], [[1, 0], [0, 1]]], name="noisy")

    def broken_game():
        raise RuntimeError("loader blew up")

    class Learner:
        def learn(self, game, *, steps, seeds=(0,), mode="dict", **options):
            print("LEARNER PRINTS")
            if mode == "raise":
                raise RuntimeError("learner blew up")
            return {"not": "a run"}

    class Plugin:
        @hookimpl
        def register_games(self, register):
            register("zz_noisy", noisy_game, parameters={})
            register("zz_broken", broken_game, parameters={})

        @hookimpl
        def register_learners(self, register):
            register("zz_learner", Learner, options=(sp.Option("mode", "str", "dict"),))

    host = PluginHost(entry_points=False)
    assert host.add_plugin(Plugin(), name="zz")
    for module in (api_games, api_learning, host_module):
        monkeypatch.setattr(module, "get_host", lambda: host)
    monkeypatch.setattr("spielplatz.api.registry.get_host", lambda: host)
    assert sp.load_game("zz_noisy").name == "noisy"
    out, err = capfd.readouterr()
    assert "LOADER PRINTS" not in out and "LOADER PRINTS" in err
    with pytest.raises(PluginError, match=r"^game 'zz_broken' \(plugin 'zz'\) failed: "
                                          r"RuntimeError: loader blew up$"):
        sp.load_game("zz_broken")
    with pytest.raises(PluginError, match=r"learner 'zz_learner' \(plugin 'zz'\) returned a "
                                          r"dict, not a spielplatz.Run"):
        sp.learn("zz_noisy", "zz_learner", steps=1)
    result = CliRunner().invoke(cli, ["learn", "zz_noisy", "--learner", "zz_learner",
                                      "--steps", "1", "-o", "mode=raise", "--json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: learner 'zz_learner' (plugin 'zz') failed: RuntimeError: learner blew up")
