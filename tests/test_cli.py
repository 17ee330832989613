"""The command line through click's CliRunner, plus start-up cost."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from spielplatz import __version__
from spielplatz.cli import cli


@pytest.fixture()
def runner():
    return CliRunner()


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"spielplatz, version {__version__}"


def test_plugins_json_lists_builtins(runner):
    result = runner.invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    plugins = {p["name"]: p for p in data["plugins"]}
    assert plugins["openspiel"]["distribution"] == "spielplatz"
    assert "chicken" in plugins["openspiel"]["registered"]["games"]
    assert "openspiel:*" in plugins["openspiel"]["registered"]["games"]
    assert plugins["builtin_welfare"]["registered"]["welfares"] == [
        "egalitarian", "inequity_averse", "kalai_smorodinsky", "nash", "utilitarian"]
    assert plugins["amtft"]["registered"]["policies"] == ["amtft", "amtft_net"]   # not 'policys'
    assert data["failures"] == []


def test_games_listing(runner):
    result = runner.invoke(cli, ["games", "--json", "--all"])
    data = json.loads(result.output)
    names = {g["name"] for g in data["games"]}
    assert {"chicken", "battle_of_the_sexes", "asymmetric_bos", "prisoners_dilemma",
            "nes_ce_counterexample", "nes_cce_counterexample"} <= names
    catalog = data["catalogs"][0]
    assert catalog["catalog"] == "openspiel"
    assert {"kuhn_poker", "matrix_shapleys_game", "blotto"} <= set(catalog["names"])
    text = runner.invoke(cli, ["games"]).output
    assert "chicken" in text and "spielplatz games --all" in text


def test_show_chicken_and_shapley(runner):
    result = runner.invoke(cli, ["show", "chicken"])
    assert result.exit_code == 0
    assert "2 x 2 pure strategies" in result.output
    lines = [l for l in result.output.splitlines() if "Straight" in l and "│" in l]
    assert any("5, 1" in l and "0, 0" in l for l in lines)
    shapley = runner.invoke(cli, ["show", "matrix_shapleys_game"]).output
    assert "Rock" in shapley and "Scissors" in shapley and "0, 1" in shapley


def test_show_kuhn_poker(runner):
    result = runner.invoke(cli, ["show", "kuhn_poker"])
    assert result.exit_code == 0
    assert "kuhn_poker: 2-player normal form, 64 x 64 pure strategies" in result.output
    assert "P1 s0 = 0:0 0pb:0 1:0 1pb:0 2:0 2pb:0" in result.output
    data = json.loads(runner.invoke(cli, ["show", "kuhn_poker", "--json"]).output)
    assert np.asarray(data["payoffs"]).shape == (2, 64, 64)


def test_show_prints_the_rules_of_a_learner_game(runner):
    """A game without a payoff table (iterated, differentiable, environment): ``show``
    prints its rules, the parameters in effect, its known values and default learner."""
    ipd = runner.invoke(cli, ["show", "iterated(stage=chicken,gamma=0.9)"])
    assert ipd.exit_code == 0, ipd.output
    assert "IteratedMatrixGame, 2 players" in ipd.output
    assert "stage game (payoffs per round)" in ipd.output
    rows = [l for l in ipd.output.splitlines() if l.startswith("│ Straight")]
    assert len(rows) == 1 and "5, 1" in rows[0] and "0, 0" in rows[0]
    assert "default learner: lola" in ipd.output
    card = json.loads(runner.invoke(cli, ["show", "ipd", "--json"]).output)
    assert card["facts"]["gamma"] == 0.96 and card["facts"]["num_states"] == 5
    assert card["facts"]["payoffs"] == [[[-1, -3], [0, -2]], [[-1, 0], [-3, -2]]]
    assert card["default_learner"] == "lola" and card["plugin"] == "iterated"
    braess = json.loads(runner.invoke(cli, ["show", "braess(shortcut=false)", "--json"]).output)
    assert braess["parameters"] == {"shortcut": False}
    assert braess["facts"]["num_players"] == 4
    assert braess["facts"]["optimal_total_loss"] == braess["facts"]["nash_total_loss"] == 260
    tyb = runner.invoke(cli, ["show", "trust_your_brother(cells=8)"])
    assert tyb.exit_code == 0 and "parameter cells" in tyb.output
    assert re.search(r"episode_length\s+│ 5", tyb.output)


def test_show_nfg_output_round_trips(runner, tmp_path):
    text = runner.invoke(cli, ["show", "chicken", "--nfg"]).output
    path = tmp_path / "chicken.nfg"
    path.write_text(text)
    again = json.loads(runner.invoke(cli, ["show", str(path), "--json"]).output)
    assert again["payoffs"] == [[[3, 1], [5, 0]], [[3, 5], [1, 0]]]
    assert again["actions"] == [["Swerve", "Straight"], ["Swerve", "Straight"]]


def test_check_json_and_csv(runner, tmp_path):
    joint = tmp_path / "j.json"
    joint.write_text("[[0.2, 0.4], [0.4, 0.0]]")
    result = runner.invoke(cli, ["check", "chicken", str(joint), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ce"]["gap"] == pytest.approx(0, abs=1e-15)
    assert data["ce"]["values"] == pytest.approx([3.0, 3.0])
    assert data["cce"]["welfare"] == pytest.approx(6.0)
    matrix = tmp_path / "m.csv"
    matrix.write_text(",Swerve,Straight\nSwerve,0.25,0.25\nStraight,0.25,0.25\n")
    data = json.loads(runner.invoke(cli, ["check", "chicken", str(matrix), "--json",
                                          "--concept", "ce"]).output)
    # Uniform: recommended S, deviating to T gains 0.25*(5-3) + 0.25*(0-1) = 0.25.
    assert data["gap"] == pytest.approx(0.25)
    assert data["entropy_bits"] == pytest.approx(2.0)
    long = tmp_path / "l.csv"
    long.write_text("P1,P2,probability\nSwerve,Straight,0.5\nStraight,Swerve,0.5\n")
    result = runner.invoke(cli, ["check", "chicken", str(long)])
    assert result.exit_code == 0
    assert "is an exact CE" in result.output
    assert "mutual information" in result.output
    three = tmp_path / "three.csv"
    three.write_text("a,b,c,probability\nHeads,Heads,Heads,1\n")
    data = json.loads(runner.invoke(cli, ["check", "matching_pennies_3p", str(three),
                                          "--json", "--concept", "cce"]).output)
    assert data["values"] == [1.0, 1.0, -1.0]


@pytest.mark.parametrize("args, content, message", [
    (["show", "nonexistent_game"], None, "Error: unknown game 'nonexistent_game'"),
    (["show", "chiken"], None, "did you mean 'chicken'"),
    (["check", "chicken", "{f}"], "[[0.5, 0.5]]", "does not match game 'chicken' of shape [2, 2]"),
    (["check", "chicken", "{f}"], "[[0.5, 0.6], [0, 0]]", "probabilities sum to 1.1, not 1"),
    (["check", "chicken", "{f}"], "[[0.5, NaN], [0, 0.5]]", "NaN or infinity"),
    (["check", "chicken", "{f}"], "[[1.5, -0.5], [0, 0]]", "negative probability"),
    (["check", "chicken", "{f}"], "{not json", "invalid JSON"),
    (["show", "{f}"], '{"payoffs": [[[1, Infinity], [0, 0]], [[0, 0], [0, 0]]]}', "not finite"),
    (["check", "chicken", "missing.json"], None, "no such file"),
    (["show", "leduc_poker"], None, "more than the limit"),
    # pyspiel itself would end the process in a segmentation fault
    (["show", "blotto(coins=4,fields=-3)"], None,
     "game 'blotto(coins=4,fields=-3)': parameter 'fields' must not be negative "
     "(OpenSpiel's default is 3)"),
    (["show", "braess(shortcut=maybe)"], None, "shortcut must be true or false, got 'maybe'"),
    (["show", "blotto(coins=4,fields=0)"], None,
     "every player needs at least one action, got 0, 0 actions"),
    (["solve", "chicken", "--solver", "nes", "-o", "parameterization=XYZ"], None,
     "nes: unknown parameterization 'XYZ'; use one of ME, MT, MU, MWME, MRE, MS, eps-ME"),
])
def test_errors_are_one_line(runner, tmp_path, args, content, message):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    args = [a.replace("{f}", str(path)) for a in args]
    if args[-1] == "missing.json":
        args[-1] = str(tmp_path / "missing.json")
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_debug_shows_traceback(runner):
    result = runner.invoke(cli, ["--debug", "show", "nonexistent_game"])
    assert result.exit_code == 1
    assert result.exception is not None
    assert "unknown game" in str(result.exception)


def test_listing_commands_do_not_import_heavy_modules():
    """--help, plugins and games must not import numpy, jax, scipy or matplotlib."""
    code = (
        "import sys\n"
        "from spielplatz.cli.main import cli\n"
        "for args in (['--help'], ['plugins'], ['games'], ['solvers'], ['learners']):\n"
        "    try:\n"
        "        cli(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in ('numpy', 'jax', 'flax', 'optax', 'scipy', 'matplotlib')\n"
        "               if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY=\n" in out.stdout, out.stdout[-500:]


def test_show_refuses_two_output_formats(runner):
    result = runner.invoke(cli, ["show", "chicken", "--json", "--nfg"])
    assert result.exit_code == 2 and "--json and --nfg are two output formats" in result.output


def test_show_keeps_distinct_payoffs_apart(runner, tmp_path):
    """Payoffs 1e15 + (0, 1, 3, 5) are shown with the digits that tell them apart (four
    significant digits showed every cell as 1e+15); small integers stay short."""
    from spielplatz.display.tables import distinguishing_digits

    assert distinguishing_digits([3, 1, 5, 0]) == 4
    assert distinguishing_digits(np.random.default_rng(0).normal(size=900)) == 4
    assert distinguishing_digits([100.01, 100.02, 100.05]) == 8
    path = tmp_path / "offset.json"
    payoffs = np.array([[[3, 1], [5, 0]], [[3, 5], [1, 0]]], float) + 1e15
    path.write_text(json.dumps({"payoffs": payoffs.tolist()}))
    out = runner.invoke(cli, ["show", str(path)]).output
    for cell in ("1000000000000003, 1000000000000003", "1000000000000001, 1000000000000005",
                 "1000000000000000, 1000000000000000"):
        assert cell in out, out
    assert "3, 3" in runner.invoke(cli, ["show", "chicken"]).output


def test_ctrl_c_exits_130_with_one_line(monkeypatch):
    """Ctrl-C in the middle of a command: one line on stderr and the shell's status 130
    (was click's ``Aborted!`` and 1). The console script then leaves with ``os._exit``
    (``main``), since finalisation after an interrupted JAX compilation could segfault."""
    import spielplatz.api as api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "solve", interrupted)
    result = CliRunner().invoke(cli, ["solve", "chicken"])
    assert result.exit_code == 130
    assert result.stderr.strip() == "Aborted (interrupted)." and result.stdout == ""


#: Runs argv[1:] with SIGINT's default disposition (exec keeps it; a preexec_fn would fork
#: this multithreaded process).
DEFAULT_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                  "os.execv(sys.argv[1], sys.argv[1:])")


def test_ctrl_c_stops_a_training_run(tmp_path):
    """The real console script, interrupted with SIGINT during training: status 130, one
    line, nothing half-written.

    The child gets SIGINT's default disposition first (DEFAULT_SIGINT): a job started in
    the background by a shell without job control (``cmd &`` in a script, as CI runners
    do) inherits SIGINT *ignored*, and Python then rightly leaves it ignored. That, not
    the program, is why an earlier version of this test once trained on for 30 minutes."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    exe = str(Path(sys.executable).with_name("spielplatz"))
    err_path = tmp_path / "stderr.txt"
    run = tmp_path / "run"
    with open(err_path, "w") as err_file:
        proc = subprocess.Popen([sys.executable, "-c", DEFAULT_SIGINT, exe, "train-solver",
                                 "--shape", "3x3", "--steps", "10000000", "--batch-size", "4",
                                 "--architecture", "4/4/4", "--no-plot", "--out", str(run)],
                                stdout=subprocess.PIPE, stderr=err_file, text=True)
        try:
            deadline = time.monotonic() + 120
            while not (run / "checkpoint.msgpack").exists() and time.monotonic() < deadline:
                time.sleep(0.2)    # the first checkpoint (step 500): training has begun
            assert (run / "checkpoint.msgpack").exists(), err_path.read_text()[-2000:]
            time.sleep(1)
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    err = err_path.read_text()
    assert proc.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1:] == ["Aborted (interrupted)."], err[-2000:]
    assert out == ""
    left = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert not [n for n in left if n.startswith(".") or n.endswith(".tmp")], left
