"""Training without labels on the MWMRE dual loss (NES appendix, Theorems 1-2, D.2).

* Data: every step draws a fresh batch of L2-invariant games (Appendix B,
  Figure 6) and the parameterization's inputs from ``fold_in(key, step)``, so
  the data of step ``t`` does not depend on how the run was split into
  resumed pieces.
* Optimiser (D.2): Adam (learning rate 4e-4) after adaptive gradient clipping
  (1e-3), the piecewise-constant schedule
  ``[(1e5, 1.0), (1e6, 0.6), (4e6, 0.3), (7e6, 0.1), (1e7, 0.06), (1e8, 0.03)]``
  (read as: factor ``f_i`` until iteration ``t_i``; iteration boundaries
  multiplied by ``schedule_scale``) and a decoupled weight decay of 1e-7 per
  step (``p <- p - 1e-7 p``: "a weight decay loss (learning rate 1e-7)").
* Data parallel: one ``jax.jit`` program over a 1-D mesh of *all* JAX devices;
  the batch is sharded along the mesh, parameters are replicated, and XLA
  inserts the cross-device reductions (BatchNorm statistics and the mean loss
  are global). The same code runs on CPU, GPU and TPU; with one device it is
  plain ``jit``. The batch size must be divisible by the number of devices.
* Checkpoints (:mod:`spielplatz_nes.checkpoint`): the whole state (parameters,
  batch statistics, optimiser state, step) and the metric history, written
  atomically; resuming continues the exact same loss curve.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from spielplatz.errors import SpielplatzError

from . import checkpoint as ckpt
from . import parameterizations as pz
from .core import ModelConfig, TrainConfig, apply_network, batch_gap, batch_joint, batch_loss, \
    init_variables

__all__ = ["Trainer", "SCHEDULE", "learning_rate_schedule", "make_optimizer",
           "TrainingDivergedError"]


class TrainingDivergedError(SpielplatzError):
    """The loss or the parameters became non-finite; nothing of the bad steps is saved."""

#: D.2: (iteration, factor) pairs.
SCHEDULE = ((1e5, 1.0), (1e6, 0.6), (4e6, 0.3), (7e6, 0.1), (1e7, 0.06), (1e8, 0.03))


def learning_rate_schedule(base: float, scale: float = 1.0) -> Callable:
    """The D.2 schedule: ``base * f_i`` while ``step < t_i * scale`` (the last factor after)."""
    bounds = jnp.asarray([t * scale for t, _ in SCHEDULE], jnp.float32)
    factors = jnp.asarray([f for _, f in SCHEDULE] + [SCHEDULE[-1][1]], jnp.float32)

    def schedule(step):
        idx = jnp.sum(jnp.asarray(step, jnp.float32) >= bounds)
        return base * factors[idx]
    return schedule


def make_optimizer(tc: TrainConfig) -> optax.GradientTransformation:
    """Adaptive gradient clipping, Adam with the D.2 schedule, decoupled weight decay."""
    return optax.chain(
        optax.adaptive_grad_clip(tc.clipping),
        optax.scale_by_adam(),
        optax.scale_by_schedule(lambda s: -learning_rate_schedule(tc.learning_rate,
                                                                  tc.schedule_scale)(s)),
        optax.add_decayed_weights(-tc.weight_decay),
    )


#: Compiled training steps, shared by trainers of the same configuration (e.g. a resumed run).
_STEP_CACHE: dict = {}


def _step_key(tc: TrainConfig) -> tuple:
    """The training settings a compiled step depends on."""
    return (tc.batch_size, tc.learning_rate, tc.clipping, tc.weight_decay, tc.schedule_scale,
            tc.seed)


class Trainer:
    """Trains one model; resumable.

    Parameters
    ----------
    model : ModelConfig
    train : TrainConfig
    out : str or Path, optional
        Folder for the checkpoint and metrics; without it nothing is written.
    devices : list, optional
        JAX devices of the data-parallel mesh (default: all).
    """

    def __init__(self, model: ModelConfig, train: TrainConfig, out: str | Path | None = None,
                 devices: Any = None):
        self.model = model
        self.train = train
        self.out = Path(out) if out is not None else None
        self.devices = list(devices or jax.devices())
        nd = len(self.devices)
        if train.batch_size % nd:
            raise ValueError(f"batch size {train.batch_size} is not divisible by the "
                             f"{nd} JAX devices; use a multiple of {nd}")
        self.mesh = Mesh(np.asarray(self.devices), ("data",))
        self.replicated = NamedSharding(self.mesh, PartitionSpec())
        self.sharded = NamedSharding(self.mesh, PartitionSpec("data"))
        self.tx = make_optimizer(train)
        self.history: list[dict] = []
        self.saved_step: int | None = None      # the step of the checkpoint in ``out``
        self.state = self._fresh_state()
        key = (model, _step_key(train), tuple(str(d) for d in self.devices))
        if key not in _STEP_CACHE:
            _STEP_CACHE[key] = (self._build_step(), self._eval_fn)
        self._step_fn, self._eval_fn = _STEP_CACHE[key]

    # -- state -------------------------------------------------------------------
    def _fresh_state(self) -> dict:
        key = jax.random.PRNGKey(self.train.seed)
        variables = init_variables(self.model, jax.random.fold_in(key, 1))
        state = {"params": variables["params"], "batch_stats": variables["batch_stats"],
                 "opt_state": self.tx.init(variables["params"]),
                 "step": jnp.zeros((), jnp.int32)}
        return jax.device_put(state, self.replicated)

    def _build_step(self) -> Callable:
        cfg, tc = self.model, self.train
        param = cfg.param
        data_key = jax.random.fold_in(jax.random.PRNGKey(tc.seed), 2)
        sharded = self.sharded
        tx = self.tx

        def constrain(tree):
            return jax.tree_util.tree_map(
                lambda x: jax.lax.with_sharding_constraint(x, sharded), tree)

        def step_problem(state):
            """The batch of step ``state["step"]``: the same for any number of devices."""
            key = jax.random.fold_in(data_key, state["step"])
            return constrain(pz.sample_problem(key, param, cfg.shape, tc.batch_size))

        def forward(params, batch_stats, problem):
            """Mean dual loss (Theorems 1-2) with the new batch statistics and the duals."""
            duals, updates = apply_network(
                cfg, {"params": params, "batch_stats": batch_stats}, problem, train=True)
            return batch_loss(cfg, problem, duals).mean(), (updates["batch_stats"], duals)

        def step_fn(state):
            problem = step_problem(state)
            (loss, (stats, duals)), grads = jax.value_and_grad(forward, has_aux=True)(
                state["params"], state["batch_stats"], problem)
            updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
            params = optax.apply_updates(state["params"], updates)
            joint = batch_joint(cfg, problem, jax.lax.stop_gradient(duals))
            gap = batch_gap(cfg, problem["payoffs"], joint).mean()
            size = joint[0].size
            uniform = jnp.full(joint.shape, 1.0 / size, joint.dtype)
            ugap = batch_gap(cfg, problem["payoffs"], uniform).mean()
            new = {"params": params, "batch_stats": stats, "opt_state": opt_state,
                   "step": state["step"] + 1}
            finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in
                                        jax.tree_util.tree_leaves((params, stats))]))
            return new, {"loss": loss, "gap": gap, "uniform_gap": ugap, "finite": finite}

        def eval_fn(state):
            """Loss and gradient norm of the current state on this step's batch (no update)."""
            problem = step_problem(state)
            (loss, _), grads = jax.value_and_grad(forward, has_aux=True)(
                state["params"], state["batch_stats"], problem)
            norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree_util.tree_leaves(grads)))
            return {"loss": loss, "grad_norm": norm}

        self._eval_fn = jax.jit(eval_fn, out_shardings=self.replicated)
        return jax.jit(step_fn, donate_argnums=0,
                       out_shardings=(self.replicated, self.replicated))

    # -- running -------------------------------------------------------------------
    @property
    def step(self) -> int:
        return int(self.state["step"])

    def resume(self) -> bool:
        """Load the checkpoint in ``out`` if there is one. Returns whether it did.

        Raises
        ------
        CheckpointError
            If the checkpoint is corrupt or was made for another model/training
            configuration.
        """
        if self.out is None or not ckpt.exists(self.out):
            return False
        state, history = ckpt.load_training(self.out, self.model, self.train,
                                            jax.device_get(self.state))
        self.state = jax.device_put(state, self.replicated)
        self.history = history
        self.saved_step = self.step
        return True

    def save(self) -> None:
        if self.out is None:
            return
        state = jax.device_get(self.state)
        ckpt.save_training(self.out, self.model, self.train, state, self.history)
        self.saved_step = int(state["step"])

    def run(self, steps: int | None = None, callback: Callable | None = None,
            time_limit: float | None = None, save_at_end: bool = True) -> list[dict]:
        """Train until ``steps`` (default ``train.steps``) total steps; returns the history.

        ``callback(step, metrics)`` is called for every step, in order, with the
        step's loss, gap and uniform-joint gap (floats). The host reads the
        metrics back once per ``log_every`` window (and at checkpoints and the
        end) rather than after every step, so an accelerator runs a window's
        steps without waiting for Python; a window's callbacks come together
        when it is read, when the state may already be up to a window ahead.

        ``time_limit`` (seconds from this call, compilation included) ends the
        run at the end of the first ``log_every`` window that finishes after it,
        with a checkpoint there (when ``out`` is set). With ``save_at_end=False``
        only ``checkpoint_every`` and the time limit save (for callers that run
        short pieces and save themselves).
        """
        if time_limit is not None:
            time_limit = float(time_limit)
            if not (math.isfinite(time_limit) and time_limit >= 0):
                raise ValueError(f"time_limit must be a finite number >= 0, got {time_limit}")
        total = self.train.steps if steps is None else int(steps)
        every, ckpt_every = self.train.log_every, self.train.checkpoint_every
        step = self.step
        window: list[dict] = []
        pending: list = []
        start = time.perf_counter()
        while step < total:
            self.state, metrics = self._step_fn(self.state)
            step += 1
            pending.append((step, metrics))
            if not (step % every == 0 or step % ckpt_every == 0 or step == total):
                continue
            for s, m in jax.device_get(pending):
                m = {k: float(v) for k, v in m.items()}
                finite = bool(m.pop("finite", 1.0)) and math.isfinite(m["loss"])
                if not finite:
                    raise TrainingDivergedError(self._diverged_message(s, m["loss"]))
                window.append(m)
                if callback is not None:
                    callback(s, m)
                if s % every == 0 or s == self.train.steps:
                    rec = {"step": s, **{k: float(np.mean([w[k] for w in window]))
                                         for k in window[0]}}
                    rec["time"] = time.perf_counter() - start
                    self.history.append(rec)
                    window = []
            pending = []
            late = (time_limit is not None and step % every == 0 and step < total
                    and time.perf_counter() - start >= time_limit)
            if self.out is not None and (step % ckpt_every == 0 or late
                                         or (step == total and save_at_end)):
                self.save()
            if late:
                break
        return self.history

    def _diverged_message(self, step: int, loss: float) -> str:
        what = (f"the loss became {loss}" if not math.isfinite(loss)
                else "the parameters became non-finite (NaN or infinity)")
        kept = "nothing was written"
        if self.out is not None and ckpt.exists(self.out):
            last = self.saved_step
            if last is None:                 # a checkpoint this trainer did not load
                try:
                    saved = json.loads((self.out / "metrics.json").read_text())
                    last = saved[-1]["step"] if saved else "?"
                except (OSError, ValueError, KeyError, IndexError, TypeError):
                    last = "?"
            kept = (f"the last good checkpoint (step {last}) is kept in {self.out}, and no "
                    f"model was exported")
        return (f"nes: training stopped at step {step}: {what}; {kept}. Lower the learning "
                f"rate or change the seed")

    def evaluate(self) -> dict:
        """Loss and gradient norm at the current state on the next step's batch (floats)."""
        return {k: float(v) for k, v in jax.device_get(self._eval_fn(self.state)).items()}

    def variables(self) -> dict:
        """``{"params", "batch_stats"}`` on the host."""
        s = jax.device_get(self.state)
        return {"params": s["params"], "batch_stats": s["batch_stats"]}

    def export(self, path: str | Path, extra: dict | None = None) -> Path:
        """Write the trained model (no optimiser state); see :mod:`spielplatz_nes.model`."""
        return ckpt.save_model(path, self.model, self.variables(),
                               {"train": self.train.to_dict(), "steps": self.step,
                                **(extra or {})})

