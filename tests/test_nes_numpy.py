"""The neural solver's numpy inference path, non-finite models and training, strict JSON,
and train-solver's output streams."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("jax")
pytest.importorskip("flax")

import spielplatz as sp  # noqa: E402
from spielplatz.cli.main import cli  # noqa: E402
from spielplatz.results import to_json  # noqa: E402
from spielplatz_nes.checkpoint import CheckpointError, save_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPIELPLATZ = str(Path(sys.executable).with_name("spielplatz"))


def _assert_close(numpy_out, jax_out, tol=1e-5):
    scale = max(1.0, float(np.abs(jax_out).max()))
    assert np.abs(np.asarray(numpy_out) - np.asarray(jax_out)).max() <= tol * scale


@pytest.mark.parametrize("name", ["me_ce_2x2", "me_ce_3x3", "me_cce_8x8", "me_ce_3x3x3",
                                  "me_cce_3x3x3"])
def test_numpy_forward_equals_jax_forward(name):
    from spielplatz_nes.model import load_model

    model = load_model(name)
    rng = np.random.default_rng(7)
    games = rng.normal(size=(6, len(model.config.shape)) + model.config.shape) * 3.0 + 1.0
    a = model.predict(games, backend="numpy")
    b = model.predict(games, backend="jax")
    _assert_close(a.joint, b.joint)
    for x, y in zip(a.scaled_duals, b.scaled_duals):
        _assert_close(x, y)


@pytest.mark.parametrize("concept, extra", [
    ("ce", {"full_payoff_pooling": True}),
    ("cce", {"full_payoff_pooling": True, "aligned_action_pooling": True}),
    ("cce", {"parameterization": "eps-MWME"}),
    ("ce", {"parameterization": "MRE", "dual_layers": ()}),
])
def test_numpy_forward_equals_jax_forward_every_layer_kind(concept, extra):
    """Random (untrained) weights and batch statistics through every optional branch."""
    import jax

    from spielplatz_nes import numpy_net, parameterizations as pz
    from spielplatz_nes.config import ModelConfig
    from spielplatz_nes.core import apply_network, init_variables

    cfg = ModelConfig(concept=concept, shape=(3, 3, 3), payoff_channels=(8, 8),
                      dual_channels=8, dual_layers=extra.pop("dual_layers", (8,)), **extra)
    variables = init_variables(cfg, jax.random.PRNGKey(1))
    rng = np.random.default_rng(3)
    variables = jax.tree_util.tree_map(
        lambda x: np.asarray(x) + rng.uniform(0.1, 0.5, np.shape(x)).astype(np.float32),
        variables)
    problem = pz.sample_problem(jax.random.PRNGKey(2), cfg.param, cfg.shape, 4)
    want = apply_network(cfg, variables, problem)
    x = pz.features({k: np.asarray(v) for k, v in problem.items()}, cfg.param, xp=np)
    got = numpy_net.forward(cfg, variables, x)
    for g, w in zip(got, want):
        _assert_close(g, w)


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_numpy_forward_takes_jax_parameters_and_follows_new_variables(concept):
    """The numpy pass on a model's variables held as jax arrays (freshly initialised or
    trained in this process) equals the jax pass; a model whose ``variables`` are
    replaced (a training script scoring its current weights) answers with the new ones
    on both backends."""
    import jax

    from spielplatz_nes import numpy_net, parameterizations as pz
    from spielplatz_nes.config import ModelConfig
    from spielplatz_nes.core import apply_network, init_variables
    from spielplatz_nes.model import TrainedModel

    cfg = ModelConfig(concept=concept, shape=(3, 3), payoff_channels=(8, 8), dual_channels=8,
                      dual_layers=(8,))
    variables = init_variables(cfg, jax.random.PRNGKey(1))           # jax leaves
    problem = pz.sample_problem(jax.random.PRNGKey(2), cfg.param, cfg.shape, 4)
    want = apply_network(cfg, variables, problem)
    x = pz.features({k: np.asarray(v) for k, v in problem.items()}, cfg.param, xp=np)
    for g, w in zip(numpy_net.forward(cfg, variables, x), want):
        _assert_close(g, w)
    model = TrainedModel(cfg, variables, name="fresh")
    games = np.random.default_rng(0).standard_normal((2, 2, 3, 3))
    before = model.predict(games, backend="numpy").joint
    model.variables = jax.tree_util.tree_map(lambda v: np.asarray(v) * 0.5, variables)
    after = model.predict(games, backend="numpy").joint
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, model.predict(games, backend="jax").joint, atol=1e-5)


def test_single_game_solve_does_not_import_jax():
    code = ("import sys, spielplatz as sp\n"
            "s = sp.solve('l2_invariant(shape=8x8,seed=0)', solver='nes', concept='cce')\n"
            "assert s.status == 'approximate', s.status\n"
            "assert 'jax' not in sys.modules and 'flax' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_single_game_refinement_still_certified():
    sol = sp.solve("chicken", solver="nes", refine="auto")
    exact = sp.solve("chicken", solver="maxent")
    assert sol.status == "optimal"
    assert np.abs(sol.joint - exact.joint).sum() < 1e-6


def _nan_model(tmp_path: Path) -> Path:
    from spielplatz_nes.model import load_model

    model = load_model("me_ce_2x2")
    variables = {"params": json_copy(model.variables["params"]),
                 "batch_stats": json_copy(model.variables["batch_stats"])}
    kernel = variables["params"]["PayoffsLayer_0"]["18a"]["kernel"]
    kernel[...] = np.nan
    save_model(tmp_path / "bad", model.config, variables)
    return tmp_path / "bad"


def json_copy(tree):
    return {k: json_copy(v) if isinstance(v, dict) else np.array(v) for k, v in tree.items()}


def test_model_with_nan_weights_is_refused_at_load(tmp_path):
    from spielplatz_nes.model import load_model

    folder = _nan_model(tmp_path)
    with pytest.raises(CheckpointError, match="non-finite weights.*PayoffsLayer_0/18a/kernel"):
        load_model(str(folder))
    result = CliRunner().invoke(cli, ["solve", "matrix_pd", "--solver", "nes",
                                      "-o", f"model={folder}", "--json"])
    assert result.exit_code == 1
    assert "non-finite weights" in result.output and result.stdout == ""


def test_non_finite_network_answer_is_failed(monkeypatch):
    from spielplatz_nes.model import TrainedModel

    real = TrainedModel._numpy_forward

    def broken(self, problem):
        joint, duals = real(self, problem)
        return joint * np.nan, duals

    monkeypatch.setattr(TrainedModel, "_numpy_forward", broken)
    sol = sp.solve("chicken", solver="nes")
    assert sol.status == "failed" and "non-finite" in sol.extra["message"]
    text = to_json(sol.to_dict())
    assert _strict_loads(text)["gap"] is None
    result = CliRunner().invoke(cli, ["solve", "chicken", "--solver", "nes", "--json"])
    assert result.exit_code == 1
    _strict_loads(result.stdout)                    # strict: parses, no NaN tokens
    assert "Error:" in result.output and "non-finite" in result.output


def _strict_loads(text):
    def bad(token):
        raise AssertionError(f"non-strict JSON token {token}")
    return json.loads(text, parse_constant=bad)


def test_non_finite_numbers_are_null_in_every_json():
    from spielplatz.cli.common import echo_json as _echo_json
    from spielplatz.results import Solution

    game = sp.load_game("chicken")
    sol = Solution.from_joint(game, np.array([[np.nan, 0.5], [np.inf, 0.5]]), "ce",
                              solver="x", status="failed",
                              extra={"a": float("nan"), "b": [np.float32(np.inf), -np.inf],
                                     "c": np.array([1.0, np.nan])})
    data = _strict_loads(to_json(sol.to_dict()))
    assert data["joint"][0][0] is None and data["joint"][1][0] is None
    assert data["extra"]["a"] is None and data["extra"]["b"] == [None, None]
    assert data["extra"]["c"] == [1.0, None]
    runner = CliRunner()
    import click

    @click.command()
    def show():
        _echo_json({"x": float("nan"), "y": np.array([np.inf, 2.0]), "z": sol.to_dict()})

    out = runner.invoke(show).output
    parsed = _strict_loads(out)
    assert parsed["x"] is None and parsed["y"] == [None, 2.0]


TINY = ["--shape", "2x2", "--batch-size", "4", "--architecture", "4/4/4", "--no-plot"]


def test_train_solver_stdout_carries_only_the_summary(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([SPIELPLATZ, "train-solver", "--steps", "2", *TINY, "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "training" in proc.stderr and "━" not in proc.stdout
    assert proc.stdout.splitlines()[0].startswith("step 2: loss")
    proc = subprocess.run([SPIELPLATZ, "train-solver", "--steps", "3", *TINY, "--out", str(out),
                           "--json"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _strict_loads(proc.stdout)["final"]["step"] == 3


def test_train_solver_time_limit_stops_at_a_checkpoint_and_continues(tmp_path):
    """``--time-limit``: the run ends early with a usable model and a checkpoint, says so
    in one line, and the same command continues from there."""
    out = tmp_path / "run"
    args = [SPIELPLATZ, "train-solver", "--steps", "100000", *TINY, "--out", str(out)]
    proc = subprocess.run([*args, "--time-limit", "0.001", "--json"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = _strict_loads(proc.stdout)
    assert summary["stopped_at_time_limit"] is True and summary["steps"] == 100000
    first = summary["step"]
    assert 1 <= first < 100000 and summary["final"]["step"] == first
    assert (out / "model.msgpack").is_file() and (out / "checkpoint.msgpack").is_file()
    proc = subprocess.run([*args, "--time-limit", "0.001"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"resumed from step {first}"
    assert lines[1].startswith("stopped at the time limit after step ")
    assert int(lines[1].split("after step ")[1].split()[0]) > first
    for value in ("0", "nan", "-1"):
        fresh = tmp_path / f"bad{value}"
        bad = subprocess.run([SPIELPLATZ, "train-solver", *TINY, "--out", str(fresh),
                              "--time-limit", value], capture_output=True, text=True,
                             cwd=tmp_path)
        assert bad.returncode == 1 and bad.stdout == ""
        assert bad.stderr.strip().splitlines() == [
            f"Error: --time-limit must be a finite number > 0, got {float(value)}"]
        assert not fresh.exists()


def test_train_solver_refuses_before_the_progress_bar(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIELPLATZ_MEMORY_LIMIT", "4GiB")
    result = CliRunner().invoke(cli, ["train-solver", "--shape", "200x200x200",
                                      "--out", str(tmp_path / "big")])
    assert result.exit_code == 1
    assert "training" not in result.output.replace("nes: training on", "")
    line = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert len(line) == 1 and "TiB" in line[0] and "4.0 GiB" in line[0]
    assert not (tmp_path / "big").exists()


def _tiny_trainer(out, **train):
    from spielplatz_nes.config import ModelConfig, TrainConfig
    from spielplatz_nes.training import Trainer

    mc = ModelConfig(concept="cce", shape=(2, 2), payoff_channels=(4,), dual_channels=4,
                     dual_layers=())
    tc = TrainConfig(**{"steps": 4, "batch_size": 4, "checkpoint_every": 1, "log_every": 1,
                        **train})
    return Trainer(mc, tc, out=out)


def test_training_stops_when_the_learning_rate_is_nan(tmp_path):
    from spielplatz_nes.training import TrainingDivergedError

    trainer = _tiny_trainer(tmp_path / "nan", learning_rate=float("nan"))
    with pytest.raises(TrainingDivergedError, match="training stopped at step 1.*nothing was "
                                                    "written"):
        trainer.run()
    assert not (tmp_path / "nan").exists() or not any((tmp_path / "nan").iterdir())


def test_training_keeps_the_last_good_checkpoint(tmp_path):
    import jax

    from spielplatz_nes import checkpoint as ckpt
    from spielplatz_nes.training import TrainingDivergedError

    out = tmp_path / "run"
    trainer = _tiny_trainer(out)
    trainer.run(steps=2)
    good = (out / "checkpoint.msgpack").read_bytes()
    trainer.state = dict(trainer.state, params=jax.tree_util.tree_map(
        lambda x: x * np.nan, trainer.state["params"]))
    with pytest.raises(TrainingDivergedError, match=r"loss became nan.*step 2\) is kept"):
        trainer.run(steps=4)
    assert (out / "checkpoint.msgpack").read_bytes() == good
    assert not (out / "model.msgpack").exists()
    fresh = _tiny_trainer(out)
    assert fresh.resume() and fresh.step == 2
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(fresh.state))
    assert ckpt.exists(out)
    assert math.isfinite(fresh.evaluate()["loss"])
