"""Checkpoints and model files: one msgpack file each, written atomically, verified on load.

A file holds ``{"format", "kind", "model", "train", "sha256", "state", "extra"}``:
``state`` is the ``flax.serialization`` msgpack of the state pytree and
``sha256`` its digest. Loading checks, in order: the file is a readable
msgpack of this format (else *corrupt*), the digest matches (else *corrupt*),
the model (and, for a training checkpoint, the training) configuration equals
the requested one (else *mismatched*, naming the differing fields), and the
state has the expected structure and shapes (else *mismatched*).

* training checkpoint: ``<out>/checkpoint.msgpack`` (parameters, batch
  statistics, optimiser state, step) and the metric history;
* model file: ``<dir>/model.msgpack`` (parameters and batch statistics only).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgpack

from spielplatz.errors import SpielplatzError
from spielplatz.system.outputs import atomic_write
from spielplatz.results import to_json

from .config import ModelConfig, TrainConfig

__all__ = ["CheckpointError", "FORMAT", "exists", "save_training", "load_training",
           "check_training", "save_model", "read_model_file", "CHECKPOINT_NAME", "MODEL_NAME"]

FORMAT = "spielplatz-nes/1"
CHECKPOINT_NAME = "checkpoint.msgpack"
MODEL_NAME = "model.msgpack"


class CheckpointError(SpielplatzError):
    """A checkpoint or model file is corrupt or belongs to another configuration."""


def exists(out: str | Path) -> bool:
    return (Path(out) / CHECKPOINT_NAME).is_file()


def _write(path: Path, kind: str, model: ModelConfig, state: Any, train: TrainConfig | None,
           extra: dict) -> Path:
    from flax import serialization

    blob = serialization.to_bytes(state)
    record = {"format": FORMAT, "kind": kind, "model": json.dumps(model.to_dict()),
              "train": json.dumps(train.to_dict()) if train is not None else "",
              "sha256": hashlib.sha256(blob).hexdigest(), "state": blob,
              "extra": to_json(extra, indent=None)}
    with atomic_write(path, "wb", make_folder=True) as fh:
        fh.write(msgpack.packb(record, use_bin_type=True))
    return path


def _read(path: Path, kind: str) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    try:
        record = msgpack.unpackb(raw, raw=False)
        ok = isinstance(record, dict) and record.get("format") == FORMAT
    except Exception:  # noqa: BLE001 - any decoding failure means corruption
        ok = False
    if not ok:
        raise CheckpointError(f"{path}: corrupt or not a spielplatz-nes file "
                              f"(could not decode format {FORMAT!r}); delete it or train again")
    if record.get("kind") != kind:
        raise CheckpointError(f"{path}: is a {record.get('kind')!r} file, expected {kind!r}")
    blob = record.get("state", b"")
    if hashlib.sha256(blob).hexdigest() != record.get("sha256"):
        raise CheckpointError(f"{path}: corrupt (checksum mismatch); delete it or train again")
    return record


def _diff(saved: dict, wanted: dict) -> list[str]:
    keys = sorted(set(saved) | set(wanted))
    return [f"{k}: checkpoint {saved.get(k)!r} vs requested {wanted.get(k)!r}"
            for k in keys if saved.get(k) != wanted.get(k)]


def _restore(path: Path, target: Any, blob: bytes) -> Any:
    from flax import serialization

    try:
        return serialization.from_bytes(target, blob)
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"{path}: state does not fit this model "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None


def _check_shapes(path: Path, target: Any, restored: Any) -> None:
    import jax

    t_leaves, t_def = jax.tree_util.tree_flatten(target)
    r_leaves, r_def = jax.tree_util.tree_flatten(restored)
    if t_def != r_def:
        raise CheckpointError(f"{path}: state structure does not fit this model")
    for a, b in zip(t_leaves, r_leaves):
        if getattr(a, "shape", ()) != getattr(b, "shape", ()):
            raise CheckpointError(f"{path}: a parameter of shape {getattr(b, 'shape', ())} "
                                  f"where this model has {getattr(a, 'shape', ())}")


def save_training(out: str | Path, model: ModelConfig, train: TrainConfig, state: Any,
                  history: list[dict]) -> Path:
    """Write the training checkpoint and ``metrics.json`` in ``out`` (atomically)."""
    out = Path(out)
    step = state.get("step") if isinstance(state, dict) else None
    path = _write(out / CHECKPOINT_NAME, "training", model, state, train,
                  {"history": history, **({} if step is None else {"step": int(step)})})
    with atomic_write(out / "config.json", make_folder=True) as fh:
        json.dump({"model": model.to_dict(), "train": train.to_dict()}, fh, indent=1)
    with atomic_write(out / "metrics.json", make_folder=True) as fh:
        fh.write(to_json(history, indent=1))             # strict: non-finite values are null
    return path


#: Training fields that may differ on resume (more steps, other logging).
RESUMABLE_CHANGES = ("steps", "checkpoint_every", "log_every")


def load_training(out: str | Path, model: ModelConfig, train: TrainConfig,
                  target: Any) -> tuple[Any, list[dict]]:
    """The state and metric history of the checkpoint in ``out``.

    Raises
    ------
    CheckpointError
        Corrupt file, or model/training configuration mismatch.
    """
    path = Path(out) / CHECKPOINT_NAME
    record = check_training(out, model, train)
    state = _restore(path, target, record["state"])
    _check_shapes(path, target, state)
    return state, json.loads(record["extra"]).get("history", [])


def check_training(out: str | Path, model: ModelConfig, train: TrainConfig) -> dict:
    """The checkpoint record in ``out``, read and checked against ``model`` and ``train``
    (corrupt file, configuration mismatch) without restoring its state: no jax, so
    ``train-solver`` refuses a mismatched checkpoint before any setup.

    Raises
    ------
    CheckpointError
    """
    path = Path(out) / CHECKPOINT_NAME
    record = _read(path, "training")
    saved_model = json.loads(record["model"])
    problems = _diff(saved_model, model.to_dict())
    saved_train = {k: v for k, v in json.loads(record["train"]).items()
                   if k not in RESUMABLE_CHANGES}
    wanted_train = {k: v for k, v in train.to_dict().items() if k not in RESUMABLE_CHANGES}
    problems += _diff(saved_train, wanted_train)
    if problems:
        raise CheckpointError(f"{path}: checkpoint was made for another configuration ("
                              + "; ".join(problems) + "); use another --out folder")
    extra = json.loads(record.get("extra") or "{}")
    history = extra.get("history") or []
    # the state's own step (older checkpoints: the last logged one)
    done = int(extra.get("step", max((int(h.get("step", 0)) for h in history), default=0)))
    if done > train.steps:
        raise CheckpointError(f"{path}: the checkpoint is at step {done}, past the "
                              f"{train.steps} steps asked for; give more steps to continue "
                              f"it, or another --out folder")
    return record


def save_model(folder: str | Path, model: ModelConfig, variables: dict,
               extra: dict | None = None) -> Path:
    """Write ``<folder>/model.msgpack`` (parameters and batch statistics) and ``model.json``."""
    folder = Path(folder)
    path = _write(folder / MODEL_NAME, "model", model, variables, None, extra or {})
    with atomic_write(folder / "model.json", make_folder=True) as fh:
        json.dump({"model": model.to_dict(), **(extra or {})}, fh, indent=1)
    return path


def read_model_file(path: str | Path) -> tuple[ModelConfig, bytes, dict]:
    """``(config, state bytes, extra)`` of a model file (or a training checkpoint)."""
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_NAME if (path / MODEL_NAME).is_file() else path / CHECKPOINT_NAME
    try:
        record = _read(path, "model")
    except CheckpointError as exc:
        if "expected 'model'" not in str(exc):
            raise
        record = _read(path, "training")
    try:
        cfg = ModelConfig.from_dict(json.loads(record["model"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{path}: bad model configuration ({exc})") from None
    return cfg, record["state"], dict(json.loads(record["extra"]), kind=record["kind"])


def restore_variables(path: str | Path, cfg: ModelConfig, blob: bytes, kind: str,
                      target: dict) -> dict:
    """``{"params", "batch_stats"}`` from a model file or a training checkpoint's state."""
    from flax import serialization

    path = Path(path)
    if kind == "training":
        state = serialization.msgpack_restore(blob)
        blob = serialization.to_bytes(serialization.from_state_dict(
            target, {"params": state["params"], "batch_stats": state["batch_stats"]}))
    out = _restore(path, target, blob)
    _check_shapes(path, target, out)
    return out
