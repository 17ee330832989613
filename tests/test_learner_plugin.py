"""A learner and a solver written from docs/plugins.md alone, installed into a fresh venv.

The ```python blocks of docs/plugins.md that start with ``# my_learners/<file>.py``
(``# my_solvers/<file>.py``) are written, as they are, into a temporary package
``my-learners`` (``my-solvers``), pip-installed offline into a venv (``make_venv``
of tests/test_external_plugins.py). There ``spielplatz learn`` trains the learner
with ``--json``, ``--out`` and ``--plot`` (the host shows its declared headline
metrics and column and draws the generic figure), and ``spielplatz solve`` runs
the solver with ``-o`` options (coerced to the declared type, unknown names and
bad values refused), ``--json`` and ``--plot``. The host's generic output is also
checked in process (a learner that declares nothing).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import ROOT
from test_external_plugins import _clean_env, _pip_install, make_venv

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "my-learners"
version = "0.1.0"
dependencies = ["spielplatz"]

[project.entry-points.spielplatz]
my_learners = "my_learners"

[tool.setuptools]
packages = ["my_learners"]
"""


def documented_files(package: str = "my_learners") -> dict[str, str]:
    """``{"my_learners/naive.py": code, ...}`` from docs/plugins.md."""
    text = (ROOT / "docs" / "plugins.md").read_text()
    files = {}
    for block in re.findall(r"^```python\n(.*?)^```", text, re.M | re.S):
        first = block.splitlines()[0]
        found = re.match(rf"# ({package}/\w+\.py)\b", first)
        if found:
            files[found.group(1)] = block
    return files


def test_docs_hold_a_complete_learner_package():
    assert set(documented_files()) == {"my_learners/__init__.py", "my_learners/naive.py"}


def test_docs_hold_a_complete_solver_package():
    assert set(documented_files("my_solvers")) == {"my_solvers/__init__.py",
                                                   "my_solvers/softmax.py"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> SimpleNamespace:
    if importlib.util.find_spec("pip") is None:
        pytest.skip("pip is not installed in the test environment")
    base = tmp_path_factory.mktemp("learner-venv")
    python, env_dir = make_venv(base)
    project = base / "src" / "my-learners"
    (project / "my_learners").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT)
    for name, code in documented_files().items():
        (project / name).write_text(code)
    solvers = base / "src" / "my-solvers"
    (solvers / "my_solvers").mkdir(parents=True)
    (solvers / "pyproject.toml").write_text(PYPROJECT.replace("my-learners", "my-solvers")
                                            .replace("my_learners", "my_solvers"))
    for name, code in documented_files("my_solvers").items():
        (solvers / name).write_text(code)
    _pip_install(python, [project, solvers], base)
    return SimpleNamespace(python=python, path=env_dir, tmp=base)


def _run(venv: SimpleNamespace, *args: str):
    import subprocess

    return subprocess.run([venv.python, "-c", "from spielplatz.cli import main; main()",
                           *args], capture_output=True, text=True, env=_clean_env(),
                          timeout=300)


def _learn(venv: SimpleNamespace, *args: str):
    return _run(venv, "learn", *args)


def test_documented_solver_with_options_json_and_plot(venv, tmp_path):
    plot = tmp_path / "softmax.png"
    result = _run(venv, "solve", "chicken", "--solver", "welfare_softmax", "-o",
                  "temperature=2", "--json", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    sol = json.loads(result.stdout)
    assert sol["solver"] == "welfare_softmax" and sol["status"] == "approximate"
    assert sol["config"] == {"temperature": 2.0}          # "2" coerced to the declared float
    joint = np.asarray(sol["joint"])
    assert joint.sum() == pytest.approx(1.0) and sol["gap"] > 0
    assert plot.read_bytes()[:4] == b"\x89PNG"
    listed = json.loads(_run(venv, "solvers", "--json").stdout)
    entry = next(s for s in listed if s["name"] == "welfare_softmax")
    assert entry["options"][0]["name"] == "temperature" and entry["options"][0]["default"] == 1.0
    # the host refuses what the declaration excludes, in one line, before the solver runs
    bad = _run(venv, "solve", "chicken", "--solver", "welfare_softmax", "-o", "temprature=2")
    assert bad.returncode == 1 and "did you mean 'temperature'" in bad.stderr
    bad = _run(venv, "solve", "chicken", "--solver", "welfare_softmax", "-o", "temperature=0")
    assert bad.returncode == 1 and "temperature" in bad.stderr
    default = json.loads(_run(venv, "solve", "chicken", "--solver", "welfare_softmax",
                              "--json").stdout)
    assert default["config"] == {"temperature": 1.0}


def test_documented_learner_with_json_out_and_plot(venv, tmp_path):
    out, plot = tmp_path / "runs", tmp_path / "naive.png"
    result = _learn(venv, "chicken", "--learner", "naive_pg", "--steps", "20", "--seeds",
                    "3", "--json", "--out", str(out), "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr
    data = json.loads(result.stdout)
    (run,) = data["runs"]
    assert run["learner"] == "naive_pg" and run["config"] == {"lr": 0.1}
    assert run["headline"] == ["total_loss", "max_loss"]
    assert set(run["final"]) == {"total_loss", "max_loss"}
    assert run["diverged"]["count"] == 0 and run["diverged"]["criterion"] == "not checked"
    assert "mixing" not in run                        # nothing of another learner's
    assert sorted(Path(f).name for f in data["files"]) == [
        "naive.png", "naive_pg_metrics.csv", "naive_pg_run.json", "naive_pg_summary.csv"]
    saved = json.loads((out / "naive_pg_run.json").read_text())
    assert np.asarray(saved["metrics"]["losses"]).shape == (3, 11, 2)
    with open(out / "naive_pg_summary.csv", newline="") as handle:
        summary = list(csv.DictReader(handle))
    assert len(summary) == 11 and "total_loss_median" in summary[0]
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_documented_learner_table(venv):
    result = _learn(venv, "chicken", "--learner", "naive_pg", "--steps", "5", "--seeds", "2")
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "learner" in line)
    assert "total loss" in header and "max loss" in header and "players" in header
    assert "self-attention" not in result.stdout and "mixing" not in result.stdout
    # chicken names no default learner and several are installed: --learner is asked for
    result = _learn(venv, "chicken", "--steps", "5")
    assert result.returncode == 1
    assert "names no default learner; give --learner" in result.stderr
    assert "naive_pg" in result.stderr


# -- in process: a learner that declares nothing gets the generic output ----------

class _Bare:
    """Declares nothing: the host shows every scalar metric and draws them."""

    def learn(self, game, *, steps, seeds=(0,), **options):
        from spielplatz import Run

        x = np.linspace(0, 1, 4)
        return Run(learner="bare", game="g", config={}, seeds=tuple(seeds),
                   steps=np.arange(4) * steps // 3,
                   metrics={"score": np.outer(np.arange(1, len(seeds) + 1), x),
                            "pair": np.zeros((len(seeds), 4, 2))})


def test_generic_table_json_and_plot(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import spielplatz.api
    import spielplatz.cli.learn as cli_learn
    from spielplatz.cli import cli

    monkeypatch.setattr(spielplatz.api, "get_learner", lambda name: _Bare())
    monkeypatch.setattr(cli_learn, "default_learner", lambda game: "gd")
    result = CliRunner().invoke(cli, ["learn", "chicken", "--steps", "3", "--seeds", "2",
                                      "--json", "--plot", str(tmp_path / "b.svg")])
    assert result.exit_code == 0, result.output
    (run,) = json.loads(result.stdout)["runs"]
    assert run["headline"] == ["score"] and set(run["final"]) == {"score"}
    assert (tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")
    result = CliRunner().invoke(cli, ["learn", "chicken", "--steps", "3", "--seeds", "2"])
    assert result.exit_code == 0, result.output
    assert "score" in result.stdout and "1.5 ± 0.5, 1.5" in result.stdout


def test_generic_figure_has_one_panel_per_headline_metric():
    from spielplatz.display.plots import runs_figure

    run = _Bare().learn(None, steps=3, seeds=(0, 1, 2))
    fig = runs_figure([run], metrics=["score"])
    (ax,) = [a for a in fig.axes if a.get_visible()]
    assert ax.get_ylabel() == "score" and ax.get_legend() is not None
    import matplotlib.pyplot as plt

    plt.close(fig)
