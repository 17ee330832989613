"""scripts/train_nes_parallel.py: several configurations trained side by side for a fixed
time, scored on held-out games, exported, archived and resumable; one configuration that
diverges does not stop the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_nes_parallel.py"
TINY = {"concept": "ce", "shape": [3, 3], "payoff_channels": [6, 6], "dual_channels": 6,
        "dual_layers": [6]}


def _run(plan: dict, tmp_path: Path, *extra: str) -> tuple[int, list[dict]]:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    proc = subprocess.run([sys.executable, str(SCRIPT), str(path), str(tmp_path / "out"),
                           *extra], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, JAX_PLATFORMS="cpu"))
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    return proc.returncode, lines


def test_parallel_training_scores_exports_and_resumes(tmp_path):
    from spielplatz_nes.model import load_model
    from spielplatz_random.distributions import sample

    train = {"steps": 1000, "batch_size": 16, "learning_rate": 1e-3, "log_every": 2,
             "checkpoint_every": 1000, "schedule_scale": 1e-5}
    plan = {"time_limit": 0.1, "eval_every": 1000, "chunk": 4, "eval_games": 40,
            "configs": [{"name": "good", "model": TINY, "train": train},
                        {"name": "nan", "model": TINY,
                         "train": dict(train, learning_rate=float("nan"))}]}
    games = sample("l2_invariant", (3, 3), 40, seed=20260)
    uniform = np.full((40, 3, 3), 1 / 9)                   # a reference: the uniform joint
    np.save(tmp_path / "ref.npy", uniform)
    rc, lines = _run(plan, tmp_path, "--reference", str(tmp_path / "ref.npy"),
                     "--archive", str(tmp_path / "run.tar.gz"))
    assert rc == 0
    events = {(x["event"], x["name"]) for x in lines if "name" in x}
    assert ("diverged", "nan") in events and ("final", "nan") not in events
    assert not (tmp_path / "out" / "nan" / "checkpoint.msgpack").exists()
    final = next(x for x in lines if x["event"] == "final" and x["name"] == "good")
    assert final["step"] == 4 and final["train_seconds"] > 0
    # the score is the acceptance measure, recomputed here from the exported model
    model = load_model(str(tmp_path / "out" / "good"))
    from spielplatz.equilibria import deviations, scaling

    pred = model.predict(games).joint
    scaled = scaling.project_invariant(games, m=2, num_players=2)
    gaps = np.maximum(deviations.batch_epsilons(scaled, pred, "ce").max(axis=1), 0)
    ugaps = np.maximum(deviations.batch_epsilons(scaled, uniform, "ce").max(axis=1), 0)
    assert final["gap"] == pytest.approx(gaps.mean(), rel=1e-4)
    assert final["ratio"] == pytest.approx(ugaps.mean() / gaps.mean(), rel=1e-4)
    solver_gap = 0.5 * np.abs(pred - uniform).reshape(40, -1).sum(1).mean()
    assert final["solver_gap"] == pytest.approx(solver_gap, rel=1e-4)
    with tarfile.open(tmp_path / "run.tar.gz") as tar:
        names = set(tar.getnames())
    assert {"good/model.msgpack", "good/checkpoint.msgpack", "scores.jsonl"} <= names
    # the same plan again continues from the checkpoints
    rc, lines = _run(dict(plan, configs=plan["configs"][:1]), tmp_path)
    assert rc == 0
    config = next(x for x in lines if x["event"] == "config")
    assert config["resumed_at"] == 4
    assert next(x for x in lines if x["event"] == "final")["step"] == 8
