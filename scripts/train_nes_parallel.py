"""Train several `nes` configurations side by side on one JAX device, for a fixed time.

For a leased accelerator, where device time, not steps, is what there is: the
configurations of PLAN train in turns of ``chunk`` steps (one process, one
device; the same number of steps each, so a slower configuration gets more of
the time), every ``eval_every`` seconds each one is saved (a resumable
checkpoint), exported (``OUT/<name>/model.msgpack``, usable with
``-o model=OUT/<name>``) and scored on held-out games, and so again once
``time_limit`` seconds have passed (run the same plan again to continue).

The score is the acceptance measure of docs/nes.md: on 1000 L2-invariant games
of seed 20260 (not seen in training), the mean (C)CE gap against the uniform
joint's, and, when REFERENCE (an ``.npy`` of the exact ``maxent`` joints of
those games) is given, the mean solver gap (half the L1 distance to them).

    python scripts/train_nes_parallel.py PLAN.json OUT [--reference joints.npy]

PLAN: ``{"time_limit": s, "eval_every": s, "chunk": steps (a multiple of every
log_every), "eval_games": n, "reference_concept": "ce" (the concept REFERENCE
answers), "matmul_precision": optional (e.g. "highest"), "configs": [{"name":
..., "model": {ModelConfig fields}, "train": {TrainConfig fields}}, ...]}``.
REFERENCE is ``maxent``'s answer to the held-out games, e.g.
``sp.solve_batch(sample("l2_invariant", "8x8", 1000, seed=20260), solver="maxent",
concept="ce").joints``. One line per score goes to stdout and to
``OUT/scores.jsonl``: ``steps_per_s`` counts this run's steps over its training
time, ``steps_per_s_warm`` leaves out the first turn (compilation).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for part in ("platform", "plugins", "games"):
    if str(ROOT / part) not in sys.path:
        sys.path.insert(0, str(ROOT / part))

import jax  # noqa: E402

from spielplatz_nes.core import ModelConfig, TrainConfig  # noqa: E402
from spielplatz_nes.evaluation import score_joints  # noqa: E402
from spielplatz_nes.model import TrainedModel  # noqa: E402
from spielplatz_nes.network import count_parameters  # noqa: E402
from spielplatz_nes.training import Trainer, TrainingDivergedError  # noqa: E402
from spielplatz_random.distributions import sample  # noqa: E402


def score(trainer: Trainer, model: TrainedModel, games: np.ndarray,
          reference: np.ndarray | None) -> dict:
    """Acceptance numbers of the trainer's current network on ``games``
    (:func:`spielplatz_nes.evaluation.score_joints`, flattened; ``model`` is the
    trainer's network for inference, compiled once)."""
    model.variables = trainer.variables()
    row = score_joints(games, model.predict(games).joint, trainer.model.concept, reference)
    out = {"gap": row["gap"]["mean"], "gap_p95": row["gap"]["p95"],
           "uniform_gap": row["uniform_gap"]["mean"], "ratio": row["gap_ratio"]}
    if reference is not None:
        out.update(solver_gap=row["solver_gap"]["mean"],
                   solver_gap_p95=row["solver_gap"]["p95"])
    return out


def archive(folder: Path, path: Path, limit: int = 15_000_000) -> None:
    """``folder`` as a .tar.gz at ``path`` (written whole, then renamed); without the
    training checkpoints if the archive would pass ``limit`` bytes."""
    tmp = path.with_name(path.name + ".part")
    for checkpoints in (True, False):
        with tarfile.open(tmp, "w:gz") as tar:
            for f in sorted(folder.rglob("*")):
                if f.is_file() and (checkpoints or f.name != "checkpoint.msgpack"):
                    tar.add(f, arcname=str(f.relative_to(folder)))
        if tmp.stat().st_size <= limit:
            break
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("plan")
    ap.add_argument("out")
    ap.add_argument("--reference", help=".npy of the exact joints of the held-out games")
    ap.add_argument("--archive", help="after every score, write OUT (models, metrics, and "
                                      "checkpoints if they fit in 15 MB) to this .tar.gz")
    args = ap.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text())
    if plan.get("matmul_precision"):
        jax.config.update("jax_default_matmul_precision", plan["matmul_precision"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "scores.jsonl", "a")

    def emit(record: dict) -> None:
        line = json.dumps(record)
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    emit({"event": "start", "backend": jax.default_backend(),
          "devices": [str(d) for d in jax.devices()], "plan": plan})
    reference = np.load(args.reference) if args.reference else None
    n_eval = int(plan.get("eval_games", 1000))
    trainers: dict[str, Trainer] = {}
    models: dict[str, TrainedModel] = {}
    games: dict[tuple, np.ndarray] = {}                  # held-out games per shape
    reference_concept = plan.get("reference_concept", "ce")
    for c in plan["configs"]:
        mc = ModelConfig(**c["model"])
        tc = TrainConfig(**c["train"])
        t = Trainer(mc, tc, out=out / c["name"])
        resumed = t.resume()
        trainers[c["name"]] = t
        models[c["name"]] = TrainedModel(mc, t.variables(), name=c["name"])
        if mc.shape not in games:
            games[mc.shape] = sample("l2_invariant", mc.shape, n_eval, seed=20260)
        emit({"event": "config", "name": c["name"], "resumed_at": t.step if resumed else None,
              "parameters": count_parameters(t.state["params"])})
    if reference is not None:
        shapes = {t.model.shape for t in trainers.values()
                  if t.model.concept == reference_concept}
        want = [(n_eval,) + shape for shape in shapes]
        if len(reference) < n_eval or any(reference.shape[1:] != w[1:] for w in want):
            raise SystemExit(f"--reference holds {reference.shape}, the plan needs {want}")
        reference = reference[:n_eval]
    chunk = int(plan.get("chunk", 50))
    for name, t in trainers.items():
        if chunk % t.train.log_every:
            raise SystemExit(f"chunk {chunk} is not a multiple of {name}'s log_every "
                             f"{t.train.log_every}")
    time_limit, eval_every = float(plan["time_limit"]), float(plan.get("eval_every", 60))
    start = time.perf_counter()
    busy = {name: 0.0 for name in trainers}
    first_turn = {name: None for name in trainers}       # (steps, seconds) of turn one
    start_step = {name: t.step for name, t in trainers.items()}
    last_eval = start
    failed: set[str] = set()

    def evaluate_all(final: bool) -> None:
        for name, t in trainers.items():
            if name in failed:
                continue
            try:
                t.save()
                t.export(out / name)
                s = score(t, models[name], games[t.model.shape],
                          reference if t.model.concept == reference_concept else None)
            except Exception as exc:                     # keep the others going
                emit({"event": "error", "name": name, "error": repr(exc)})
                continue
            last = t.history[-1] if t.history else {}
            done = t.step - start_step[name]
            warm_steps, warm_time = done, busy[name]
            if first_turn[name] is not None:
                warm_steps -= first_turn[name][0]
                warm_time -= first_turn[name][1]
            emit({"event": "final" if final else "score", "name": name, "step": t.step,
                  "elapsed": round(time.perf_counter() - start, 1),
                  "train_seconds": round(busy[name], 1),
                  "steps_per_s": round(done / max(busy[name], 1e-9), 2),
                  "steps_per_s_warm": (round(warm_steps / warm_time, 2)
                                       if warm_steps > 0 and warm_time > 0 else None),
                  "batch_gap": last.get("gap"), "loss": last.get("loss"), **s})
        if args.archive:
            archive(out, Path(args.archive))

    while time.perf_counter() - start < time_limit and len(failed) < len(trainers):
        for name, t in trainers.items():
            if name in failed:
                continue
            t0 = time.perf_counter()
            before = t.step
            try:
                t.run(before + chunk, save_at_end=False)
            except TrainingDivergedError as exc:
                failed.add(name)
                emit({"event": "diverged", "name": name, "error": str(exc)})
            except Exception as exc:
                failed.add(name)
                emit({"event": "error", "name": name, "error": repr(exc),
                      "trace": traceback.format_exc()[-2000:]})
            busy[name] += time.perf_counter() - t0
            if first_turn[name] is None:
                first_turn[name] = (t.step - before, time.perf_counter() - t0)
        if time.perf_counter() - last_eval >= eval_every:
            evaluate_all(final=False)
            last_eval = time.perf_counter()
    evaluate_all(final=True)
    log.close()
    return 0 if len(failed) < len(trainers) else 1


if __name__ == "__main__":
    sys.exit(main())
