"""The ``nes`` solver: a trained network answers; optional exact refinement.

* ``solve(game)`` / ``solve_batch(payoffs)``: scale the games (Appendix B),
  run the network, recover the joint from its duals (Theorems 1-2) and report
  it with its measured gaps and status ``"approximate"``.
* ``refine="auto"`` or ``refine=K``: the host's exact MWMRE solve
  (:mod:`spielplatz.equilibria.mwmre`), warm-started
  from the network's duals (:func:`warm_start`), solves the same problem
  (epsilon = 0, the model's prior and welfare term): ``"auto"`` runs it to its
  certified answer (the host's certificate, status ``"optimal"``), ``K`` caps
  it at ``K`` Newton iterations per game without the exact fallback path.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from spielplatz.equilibria import deviations, mwmre
from spielplatz.errors import SpielplatzError
from spielplatz.games.normal_form import NormalFormGame
from spielplatz.results import BatchSolution, Solution
from spielplatz.validation import (as_bool, as_float, as_int, as_seed, check_option_names)

__all__ = ["NESSolver"]

#: ``refine="auto"``: up to this many Newton iterations per phase, then certified.
AUTO = 200
#: ``refine=K``: at most this many Newton steps (the host's batched MWMRE path's limit).
STEP_LIMIT = mwmre.BATCH_ITERATIONS
#: Network duals below this fraction of the game's largest dual start at 0
#: (softplus never outputs an exact zero, but most constraints are slack at the
#: answer; measured: 4.0 instead of 4.5 Newton iterations per 8x8 CCE game).
WARM_START_KEEP = 0.1
#: Keyword options of :meth:`NESSolver.solve` (``solve_batch`` also takes ``batch_size``).
SOLVE_OPTIONS = ("model", "refine", "tol", "parameterization", "target_joint", "welfare",
                 "target_epsilon")


def _refine_steps(refine: Any) -> tuple[int, bool]:
    """``refine`` -> (Newton iterations, run to the certified answer)."""
    if isinstance(refine, str):
        if refine.strip().lower() in ("auto", "exact", "true", "yes"):
            return AUTO, True
        if refine.strip().lower() in ("false", "no", "none", "0", ""):
            return 0, False
        if not refine.strip().isdigit():
            raise SpielplatzError(f"nes: refine must be a number of steps 0..{STEP_LIMIT} or "
                                  f"'auto', got {refine!r}")
        refine = int(refine)
    if refine is None or isinstance(refine, (bool, np.bool_)):
        return (AUTO, True) if refine else (0, False)
    refine = as_int(refine, "nes: refine (a number of steps, or 'auto')", minimum=0)
    if refine > STEP_LIMIT:
        raise SpielplatzError(f"nes: refine=K takes at most {STEP_LIMIT} Newton steps; use "
                              f"refine=auto for the certified exact answer")
    return refine, False


def warm_start(duals: list, keep: float = WARM_START_KEEP, reference: list | None = None) -> list:
    """The network's per-player duals ``[B, ...]`` as a Newton start: entries below ``keep``
    times the game's largest dual are set to 0.

    ``reference`` (default ``duals``) decides what is kept; pass the duals of the
    *scaled* games (``Prediction.scaled_duals``, every player in the same units), since
    payoff-unit duals of a player with large payoffs are small and would all be dropped.
    """
    ref = duals if reference is None else reference
    b = ref[0].shape[0]
    top = np.max([d.reshape(b, -1).max(axis=1) for d in ref], axis=0)
    return [np.where(r > keep * top.reshape((b,) + (1,) * (r.ndim - 1)), d, 0.0)
            for d, r in zip(duals, ref)]


class NESSolver:
    """Neural MWMRE (C)CE solver (approximate; batched; optional exact refinement)."""

    name = "nes"

    def _model(self, model: Any, concept: str, shape: tuple, parameterization: str) -> Any:
        from .model import load_model

        m = load_model(model, concept=concept, shape=shape, parameterization=parameterization)
        m.check_shape(shape)
        return m

    def solve(self, game: Any, concept: str = "ce", *, model: Any = None, refine: Any = 0,
              tol: float = 1e-10, parameterization: str = "ME", target_joint: Any = None,
              welfare: Any = None, target_epsilon: Any = None, **unknown: Any) -> Solution:
        """Solve one game.

        Parameters
        ----------
        game : NormalFormGame or anything :func:`spielplatz.load_game` accepts
        concept : {"ce", "cce"}
        model : str, optional
            Shipped model name or a folder/file from ``spielplatz train-solver``;
            by default the shipped model of the game's shape and concept.
        refine : int or "auto"
            ``"auto"``: the host's exact MWMRE solve warm-started from the network's
            duals, to its certified answer; ``K``: at most ``K`` of its Newton steps
            (``K <= 80``, no exact fallback); 0: the network alone.
        tol : float
            Refinement tolerance on the projected dual gradient (range-1 units).
        parameterization : str
            Which shipped model to pick when ``model`` is not given (``ME``).
        target_joint, welfare, target_epsilon
            Inputs of MRE/MT, MWME and epsilon-hat models (own units).

        Returns
        -------
        Solution
            ``status`` ``"approximate"`` (network alone, or refinement that did
            not converge) or ``"optimal"`` (refined to the certified exact answer).
            ``objective``: the exact solve's after ``refine="auto"``, else ``None``.
            ``extra``: ``model``, ``network_gap``, ``network_time``,
            ``refine_iterations``, ``refine_time``, ``residuals`` (``kkt``, after
            refinement), ``epsilon_required`` (after refinement), ``duals`` (per
            player numpy arrays, payoff units: the network's, or the refined ones).
        """
        check_option_names(unknown, SOLVE_OPTIONS, "the nes solver")
        tol = as_float(tol, "tol", positive=True)
        concept = deviations.check_concept(concept)
        if not isinstance(game, NormalFormGame):
            from spielplatz.api import load_game

            game = load_game(game)
        start = time.perf_counter()
        net = self._model(model, concept, game.shape, parameterization)
        steps, exact = _refine_steps(refine)
        pred = net.predict(game.payoffs[None], target_joint=target_joint, welfare=welfare,
                           target_epsilon=target_epsilon)
        network_time = time.perf_counter() - start
        joint = pred.joint[0]
        if not np.all(np.isfinite(joint)):
            return Solution.from_joint(
                game, np.full(game.shape, np.nan), concept, solver="nes",
                config=self._config(net, steps, exact, tol), status="failed", iterations=0,
                wall_time=time.perf_counter() - start,
                extra={"model": net.name, "message": f"model {net.name!r} gave a non-finite "
                       f"joint (NaN or infinity) for this game"})
        network_gap = float(deviations.gap(game.payoffs, joint, concept))
        extra: dict = {"model": net.name, "parameterization": net.config.parameterization,
                       "network_gap": network_gap, "network_time": network_time,
                       "refine_iterations": 0}
        config = self._config(net, steps, exact, tol)
        if steps:
            options = self._exact_options(pred, net, steps, tol)
            started = warm_start(pred.duals, reference=pred.scaled_duals)
            if exact:
                # one game: the host's exact single-game solve (Newton, then the support LP)
                options = {k: (v[0] if k in ("prior", "welfare") and v is not None else v)
                           for k, v in options.items()}
                res = mwmre.solve(game.payoffs, concept, initial_duals=[d[0] for d in started],
                                  **options)
                joint, status, iterations = res.joint, res.status, res.iterations
                objective, kkt, eps_req = (res.objective, res.residuals["kkt"],
                                           res.epsilon_required)
                duals = res.duals
            else:
                # K steps exactly: the host's batched solve, without its exact fallback
                res = mwmre.solve_batch(game.payoffs[None], concept, initial_duals=started,
                                        fallback=False, **options)
                joint, status, iterations = res.joints[0], str(res.statuses[0]), \
                    int(res.iterations[0])
                objective, kkt, eps_req = None, res.residuals["kkt"][0], \
                    res.epsilon_required[0]
                duals = [d[0] for d in res.duals]
            extra.update(refine_iterations=iterations,
                         refine_time=time.perf_counter() - start - network_time,
                         residuals={"kkt": float(kkt)},
                         epsilon_required=np.asarray(eps_req, float),
                         duals=[np.asarray(d, dtype=float) for d in duals])
            return Solution.from_joint(game, joint, concept, solver="nes", config=config,
                                       status=status, iterations=iterations,
                                       wall_time=time.perf_counter() - start,
                                       objective=objective, extra=extra)
        extra["duals"] = [np.asarray(d[0], dtype=float) for d in pred.duals]
        return Solution.from_joint(game, joint, concept, solver="nes", config=config,
                                   status="approximate", iterations=0,
                                   wall_time=time.perf_counter() - start, extra=extra)

    @staticmethod
    def _config(net: Any, steps: int, exact: bool, tol: float) -> dict:
        return {"model": net.name, "refine": "auto" if exact else steps, "tol": tol,
                "parameterization": net.config.parameterization}

    @staticmethod
    def _exact_options(pred: Any, net: Any, steps: int, tol: float) -> dict:
        """Options of the host's exact MWMRE solve for the network's problem (epsilon = 0).

        The same prior and welfare term as the network's (``Prediction.log_prior``,
        ``Prediction.welfare`` times the parameterization's ``mu``); epsilon = 0 exactly
        instead of the network's target-epsilon penalty (its training device, Theorems 1-2).
        """
        param = net.config.param
        if param.target_epsilon != "zero":
            raise SpielplatzError(f"nes: refinement solves the exact epsilon = 0 problem; "
                                  f"model {net.name!r} ({param.name}) has a target epsilon")
        uniform = bool(np.all(pred.log_prior == pred.log_prior.flat[0]))
        options: dict = {"tol": tol, "max_iter": steps, "welfare": None,
                         "prior": None if uniform else np.exp(pred.log_prior)}
        if param.mu:
            options.update(mu=param.mu, welfare=pred.welfare)
        return options

    def solve_batch(self, payoffs: Any, concept: str = "ce", *, model: Any = None,
                    refine: Any = 0, tol: float = 1e-10, parameterization: str = "ME",
                    target_joint: Any = None, welfare: Any = None, target_epsilon: Any = None,
                    batch_size: int | None = None, **unknown: Any) -> BatchSolution:
        """Solve ``payoffs`` ``[B, N, A_1, ..., A_N]`` in batches on the JAX backend.

        Options as for :meth:`solve` (the same for every game; ``target_joint``,
        ``welfare`` may be per game ``[B, A...]``); ``batch_size`` is the number of games
        per network call (by default 64 on CPU, where small chunks stay in cache, and
        1024 on accelerators). Returns a :class:`spielplatz.results.BatchSolution`
        (``extra``: ``model``, ``network_time``, ``duals`` per player ``[B, ...]`` in
        payoff units; refined: also ``refine_time``, the exact solve's ``residuals``,
        ``certificate``, ``epsilon_required`` and the ``fallback`` games that
        host re-solved on its single-game path).
        """
        check_option_names(unknown, [*SOLVE_OPTIONS, "batch_size"], "the nes solver's batches")
        tol = as_float(tol, "tol", positive=True)
        if batch_size is not None:
            batch_size = as_int(batch_size, "batch_size", minimum=1)
        concept = deviations.check_concept(concept)
        payoffs = np.asarray(payoffs, dtype=float)
        if payoffs.ndim < 3 or payoffs.shape[1] != payoffs.ndim - 2:
            raise SpielplatzError(f"nes: payoffs must have shape [B, N, A_1, ..., A_N], got "
                                  f"{list(payoffs.shape)}")
        start = time.perf_counter()
        shape = payoffs.shape[2:]
        net = self._model(model, concept, shape, parameterization)
        pred = net.predict(payoffs, target_joint=target_joint, welfare=welfare,
                           target_epsilon=target_epsilon, batch_size=batch_size)
        network_time = time.perf_counter() - start
        steps, exact = _refine_steps(refine)
        config = self._config(net, steps, exact, tol)
        extra = {"model": net.name, "network_time": network_time}
        if steps:
            options = self._exact_options(pred, net, steps, tol)
            started = warm_start(pred.duals, reference=pred.scaled_duals)
            res = mwmre.solve_batch(payoffs, concept, initial_duals=started, fallback=exact,
                                    **options)
            extra.update(refine_time=time.perf_counter() - start - network_time,
                         **{k: v for k, v in res.extra().items()
                            if k in ("duals", "residuals", "certificate", "epsilon_required",
                                     "fallback")})
            return BatchSolution.from_joints(
                res.payoffs, res.joints, concept, solver="nes", config=config, extra=extra,
                wall_time=time.perf_counter() - start, **res.measured())
        joint = pred.joint
        finite = np.isfinite(joint.reshape(len(joint), -1)).all(axis=1)
        extra["duals"] = [np.asarray(d, dtype=float) for d in pred.duals]
        if not finite.all():
            extra["message"] = (f"model {net.name!r} gave a non-finite joint for "
                                f"{int((~finite).sum())} game(s), marked failed")
        return BatchSolution.from_joints(
            payoffs, joint, concept, solver="nes",
            statuses=["approximate" if f else "failed" for f in finite],
            iterations=np.zeros(len(payoffs), int), wall_time=time.perf_counter() - start,
            config=config, extra=extra)

    # -- training and evaluation (used by `spielplatz train-solver` / `evaluate-solver`) --
    def train(self, *, concept: str = "cce", shape: Any = "8x8", parameterization: str = "ME",
              steps: int = 2000, batch_size: int = 256, out: Any = None,
              learning_rate: float = 4e-4, seed: int = 0, architecture: dict | None = None,
              schedule_scale: float | None = None, checkpoint_every: int = 500,
              log_every: int = 10, callback: Any = None, resume: bool = True,
              rho: float | None = None, time_limit: float | None = None) -> dict:
        """Train a model without labels (see :mod:`spielplatz_nes.training`).

        Writes ``checkpoint.msgpack``, ``metrics.json``, ``config.json`` and the
        final ``model.msgpack`` to ``out``; resumes from ``out`` when it holds a
        checkpoint of the same configuration. ``schedule_scale`` defaults to
        ``steps / 1e7`` (the D.2 schedule compressed into the run) or, when
        resuming, to the checkpoint's. ``rho`` overrides the parameterization's.
        ``time_limit`` (seconds) ends the run early at a resumable checkpoint; the
        model of that step is exported (call again to continue).

        Returns
        -------
        dict
            ``history`` (list of metric records), ``model`` (path of the model
            file or None), ``resumed_from`` (step), ``step`` (the step reached),
            ``model_config``.
        """
        mc, tc = self._train_configs(
            concept=concept, shape=shape, parameterization=parameterization, steps=steps,
            batch_size=batch_size, out=out, learning_rate=learning_rate, seed=seed,
            architecture=architecture, schedule_scale=schedule_scale,
            checkpoint_every=checkpoint_every, log_every=log_every, resume=resume, rho=rho,
            time_limit=time_limit)
        resume = as_bool(resume, "resume")
        from .training import Trainer

        try:
            trainer = Trainer(mc, tc, out=out)
        except ValueError as exc:
            raise SpielplatzError(f"nes: {exc}") from None
        resumed = trainer.resume() if resume else False
        start_step = trainer.step
        history = trainer.run(callback=callback, time_limit=time_limit)
        path = trainer.export(out) if out is not None else None
        return {"history": history, "model": str(path) if path else None,
                "resumed_from": start_step if resumed else None, "step": trainer.step,
                "model_config": mc.to_dict(), "trainer": trainer}

    def check_train(self, **options: Any) -> None:
        """Check :meth:`train`'s arguments (values, configuration, memory) without jax.

        ``spielplatz train-solver`` calls it before drawing its progress bar.
        """
        self._train_configs(**options)

    def _train_configs(self, *, concept: str = "cce", shape: Any = "8x8",
                       parameterization: str = "ME", steps: int = 2000, batch_size: int = 256,
                       out: Any = None, learning_rate: float = 4e-4, seed: int = 0,
                       architecture: dict | None = None, schedule_scale: float | None = None,
                       checkpoint_every: int = 500, log_every: int = 10, resume: bool = True,
                       rho: float | None = None, callback: Any = None,
                       time_limit: float | None = None) -> tuple:
        """Checked ``(ModelConfig, TrainConfig)`` of a training run (no jax import)."""
        steps = as_int(steps, "steps", minimum=1)            # checked before jax loads
        batch_size = as_int(batch_size, "batch size", minimum=1)
        learning_rate = as_float(learning_rate, "learning rate", positive=True)
        seed = as_seed(seed, "seed")
        checkpoint_every = as_int(checkpoint_every, "checkpoint_every", minimum=1)
        log_every = as_int(log_every, "log_every", minimum=1)
        resume = as_bool(resume, "resume")
        if rho is not None:
            rho = as_float(rho, "rho", positive=True)
        if time_limit is not None:
            as_float(time_limit, "time_limit", positive=True)
        if schedule_scale is not None:
            schedule_scale = as_float(schedule_scale, "schedule_scale", positive=True)
        from .checkpoint import exists
        from .config import ModelConfig, TrainConfig

        if schedule_scale is None and out is not None and resume and exists(out):
            import json
            from pathlib import Path

            try:
                saved = json.loads((Path(out) / "config.json").read_text())
                schedule_scale = saved["train"]["schedule_scale"]
            except (OSError, ValueError, KeyError):
                pass
        try:
            mc = ModelConfig(concept=concept, shape=shape, parameterization=parameterization,
                             rho=rho, **(architecture or {}))
            tc = TrainConfig(steps=int(steps), batch_size=int(batch_size),
                             learning_rate=float(learning_rate), seed=int(seed),
                             schedule_scale=(float(schedule_scale) if schedule_scale is not None
                                             else max(int(steps), 1) / 1e7),
                             checkpoint_every=int(checkpoint_every), log_every=int(log_every))
        except (TypeError, ValueError) as exc:
            raise SpielplatzError(f"nes: {exc}") from None
        if tc.steps < 1 or tc.batch_size < 1:
            raise SpielplatzError("nes: steps and batch size must be positive")
        from spielplatz.system.resources import check_memory, nes_bytes

        from .parameterizations import input_channels

        check_memory(nes_bytes(mc.shape, tc.batch_size, mc.payoff_channels, mc.dual_channels,
                               mc.dual_layers, mc.concept, training=True,
                               input_channels=input_channels(mc.param)),
                     f"nes: training on batches of {tc.batch_size:,} {mc.shape_str} games "
                     f"(channels {','.join(map(str, mc.payoff_channels))}/{mc.dual_channels}/"
                     f"{','.join(map(str, mc.dual_layers))})",
                     hint="use a smaller --shape, --batch-size or --architecture")
        if out is not None and resume and exists(out):
            from .checkpoint import check_training

            check_training(out, mc, tc)       # a mismatched checkpoint: before any setup
        return mc, tc

    def evaluate(self, model: Any = None, *, concept: str | None = None, shape: Any = None,
                 classes: Any = None, num_games: int = 200, seed: int = 12345,
                 exact: bool = True, progress: Any = None) -> dict:
        """Evaluate a model per game class (see :mod:`spielplatz_nes.evaluation`).

        Without ``model``, the shipped model of ``concept`` (``"cce"``) and ``shape``
        (``"8x8"``); with one, ``concept`` and ``shape`` are the model's, and refused
        when given otherwise."""
        from .core import parse_shape
        from .evaluation import DEFAULT_CLASSES, evaluate_model
        from .model import load_model

        num_games = as_int(num_games, "number of games per class", minimum=1)
        seed = as_seed(seed, "seed")
        dims = parse_shape("8x8" if shape is None else shape)
        if model is None:
            net = load_model(None, concept=concept or "cce", shape=dims)
        else:
            net = load_model(model, concept=concept)
            if shape is not None and tuple(net.config.shape) != tuple(dims):
                raise SpielplatzError(
                    f"nes: model {net.name!r} solves {net.config.shape_str} games, not "
                    f"{'x'.join(map(str, dims))}; leave the shape out to evaluate it on its own")
        return evaluate_model(net, classes or DEFAULT_CLASSES, num_games=num_games,
                              seed=seed, exact=as_bool(exact, "exact"), progress=progress)
