"""``--json`` output is exactly one JSON document on stdout, checked at file-descriptor level.

Every command runs in a subprocess (the installed console script, else
``python -c 'from spielplatz.cli import main; main()'``), so that whatever C or
C++ code writes to file descriptor 1 (HiGHS' banner, OpenSpiel) or a plugin
prints would land in the captured stdout, which click's CliRunner would not see.
Every built-in solver and learner is covered (read from the plugin host, so a
new built-in is covered without editing this file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spielplatz.plugins.host import get_host

ROOT = Path(__file__).resolve().parents[1]
CHICKEN_CE = ROOT / "docs" / "examples" / "chicken_ce.json"
SCRIPT = Path(sys.executable).with_name("spielplatz")


def _command() -> list[str]:
    if SCRIPT.is_file() and os.access(SCRIPT, os.X_OK):
        return [str(SCRIPT)]
    return [sys.executable, "-c", "from spielplatz.cli import main; main()"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPIELPLATZ_")}
    return env


def run_json(*args: str, timeout: int = 120) -> object:
    """Run ``spielplatz ARGS``; exit 0 and stdout must be one JSON document."""
    result = subprocess.run([*_command(), *args], capture_output=True, text=True,
                            env=_env(), cwd=ROOT, timeout=timeout)
    assert result.returncode == 0, f"spielplatz {' '.join(args)}:\n{result.stderr}"
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"spielplatz {' '.join(args)}: stdout is not JSON ({exc}); it starts with "
                    f"{result.stdout[:300]!r}")


def _builtin(kind: str) -> list[str]:
    host = get_host()
    return [e.name for e in host.registry(kind).entries()
            if e.plugin in host.plugins and host.plugins[e.plugin].builtin]


SOLVERS = _builtin("solver")
LEARNERS = _builtin("learner")


def test_builtins_are_found():
    assert {"maxent", "welfare", "nes"} <= set(SOLVERS)
    assert {"d3c", "gd", "coop"} <= set(LEARNERS)


@pytest.mark.parametrize("listing", ["plugins", "games", "solvers", "learners",
                                     "welfare-functions"])
def test_listings(listing):
    data = run_json(listing, "--json")
    assert data


def test_show_and_check():
    game = run_json("show", "chicken", "--json")
    assert game["actions"] == [["Swerve", "Straight"], ["Swerve", "Straight"]]
    checked = run_json("check", "chicken", str(CHICKEN_CE), "--json")
    assert set(checked) >= {"ce", "cce"}


@pytest.mark.parametrize("concept", ["ce", "cce"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_solve_with_every_builtin_solver(solver, concept):
    data = run_json("solve", "chicken", "--solver", solver, "--concept", concept, "--json")
    assert data["solver"] == solver and data["concept"] == concept


@pytest.mark.parametrize("solver", ["maxent", "welfare"])
def test_exact_solvers_on_a_larger_game(solver):
    # The LP-based support reduction (HiGHS) runs on non-trivial games.
    data = run_json("solve", "blotto(coins=4,fields=3)", "--solver", solver, "--json")
    assert data["status"] == "optimal"


def test_compare_with_default_solvers(tmp_path):
    data = run_json("compare", "chicken", "--json", "--plot", str(tmp_path / "c.png"))
    assert {"maxent", "welfare"} <= set(data)


@pytest.mark.parametrize("learner", LEARNERS)
def test_learn_with_every_builtin_learner(learner):
    kinds = get_host().registry("learner").get(learner).meta.get("game_kinds", ())
    game = "chicken" if "normal_form" in kinds else "ichicken"      # a game it trains
    data = run_json("learn", game, "--learner", learner, "--steps", "3", "--seeds", "2",
                    "--json")
    assert [r["learner"] for r in data["runs"]] == [learner]


def test_learn_on_an_openspiel_environment(tmp_path):
    rl = [n for n in LEARNERS if "rl_environment" in
          get_host().registry("learner").get(n).meta.get("game_kinds", ())]
    data = run_json("learn", "trust_your_brother", "--learner", rl[0], "--steps", "2",
                    "--seeds", "2", "--json", "--out", str(tmp_path / "run"))
    assert data


def test_evaluate_solver():
    data = run_json("evaluate-solver", "--classes", "l2_invariant", "--games", "2", "--json")
    assert data


def test_train_solver(tmp_path):
    (tmp_path / "nes").mkdir()
    data = run_json("train-solver", "--shape", "2x2", "--steps", "2", "--batch-size", "4",
                    "--architecture", "4/4/4", "--no-plot", "--out", str(tmp_path / "nes"),
                    "--json", timeout=300)
    assert data


def test_python_api_prints_nothing():
    code = ("import spielplatz as sp\n"
            "game = sp.load_game('blotto(coins=4,fields=3)')\n"
            "for solver in ('welfare', 'maxent'):\n"
            "    sp.solve(game, solver=solver)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=_env(), cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("game, message", [
    ("blotto(coins=abc)", "Wrong type for parameter coins"),
    ("matrix_pd(x=1)", "Unknown parameter 'x'"),
    ("kuhn_poker(players=1)", "kuhn_poker(players=1)"),
])
def test_openspiel_errors_are_one_line(game, message):
    result = subprocess.run([*_command(), "show", game], capture_output=True, text=True,
                            env=_env(), cwd=ROOT, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and message in lines[0]
    assert "OpenSpiel exception" not in result.stderr


@pytest.mark.parametrize("value, debug", [("0", False), ("", False), ("false", False),
                                          ("no", False), ("1", True), ("yes", True)])
def test_spielplatz_debug_values(value, debug):
    env = {**_env(), "SPIELPLATZ_DEBUG": value}
    result = subprocess.run([*_command(), "show", "zzqqxx"], capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=60)
    assert result.returncode == 1
    assert ("Traceback" in result.stderr) is debug
    if not debug:
        assert result.stderr.splitlines()[-1] == (
            "Error: unknown game 'zzqqxx' (see `spielplatz games`)")
