"""The ``nes`` solver: a trained network answers; optional exact refinement.

* ``solve(game)`` / ``solve_batch(payoffs)``: scale the games (Appendix B),
  run the network, recover the joint from its duals (Theorems 1-2) and report
  it with its measured gaps and status ``"approximate"``.
* ``refine=K`` (``K > 0``) or ``refine="auto"``: then minimise the exact
  fixed-epsilon dual from the network's duals (:mod:`spielplatz_nes.refine`);
  a refined answer whose projected dual gradient reaches ``tol`` is the exact
  MaxEnt (C)CE the ``maxent`` solver gives, and is reported ``"optimal"``
  when its gap is below ``1e-8`` times the payoff range (the ``maxent`` certificate).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from spielplatz import deviations
from spielplatz.errors import SpielplatzError
from spielplatz.normal_form import NormalFormGame
from spielplatz.results import BatchSolution, Solution

__all__ = ["NESSolver"]

GAP_TOLERANCE = 1e-8


def _refine_steps(refine: Any) -> int:
    if isinstance(refine, str):
        if refine.lower() in ("auto", "exact", "true", "yes"):
            return 200
        if refine.lower() in ("false", "no", "none", "0", ""):
            return 0
        try:
            refine = int(refine)
        except ValueError:
            raise SpielplatzError(f"nes: refine must be a number of steps or 'auto', "
                                  f"got {refine!r}") from None
    if refine is True:
        return 200
    refine = int(refine or 0)
    if refine < 0:
        raise SpielplatzError("nes: refine must be >= 0")
    return refine


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
            Exact dual steps after the network (0: the network alone).
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
            ``extra``: ``model``, ``network_gap``, ``refine_iterations``,
            ``refine_residual``, ``duals`` (own units).
        """
        if unknown:
            raise SpielplatzError(f"nes: unknown option(s) {', '.join(sorted(unknown))}; "
                                  f"see `spielplatz solvers`")
        concept = deviations._check_concept(concept)
        if not isinstance(game, NormalFormGame):
            from spielplatz.api import load_game

            game = load_game(game)
        start = time.perf_counter()
        net = self._model(model, concept, game.shape, parameterization)
        steps = _refine_steps(refine)
        pred = net.predict(game.payoffs[None], target_joint=target_joint, welfare=welfare,
                           target_epsilon=target_epsilon)
        joint = pred.joint[0]
        duals = [d[0] for d in pred.duals]
        network_gap = float(deviations.gap(game.payoffs, joint, concept))
        extra: dict = {"model": net.name, "parameterization": net.config.parameterization,
                       "network_gap": network_gap, "refine_iterations": 0}
        status, iterations = "approximate", 0
        if steps:
            info = self._refine(game.payoffs[None], concept, pred.duals, steps, tol, net,
                                target_joint, welfare)
            joint, duals = info["joint"][0], info["own_duals"][0]
            iterations = int(info["iterations"][0])
            extra.update(refine_iterations=iterations,
                         refine_residual=float(info["residual"][0]),
                         refine_time=info["time"])
            gap = float(deviations.gap(game.payoffs, joint, concept))
            if info["converged"][0] and gap <= GAP_TOLERANCE * info["scales"][0]:
                status = "optimal"
        extra["duals"] = [np.asarray(d).tolist() for d in duals]
        config = {"model": net.name, "refine": steps, "tol": tol,
                  "parameterization": net.config.parameterization}
        return Solution.from_joint(game, joint, concept, solver="nes", config=config,
                                   status=status, iterations=iterations,
                                   wall_time=time.perf_counter() - start, extra=extra)

    def _refine(self, payoffs, concept, duals, steps, tol, net, target_joint, welfare):
        """Exact refinement of a batch from the network's duals (own units).

        Games that do not converge from the warm start are restarted from zero duals.
        """
        from .refine import flat_to_duals, network_to_flat, range_scale, refine_batch, \
            warm_start

        param = net.config.param
        if param.target_epsilon != "zero":
            raise SpielplatzError(f"nes: refinement solves the exact epsilon = 0 problem; "
                                  f"model {net.name!r} ({param.name}) has a target epsilon")
        bsz = payoffs.shape[0]
        shape = payoffs.shape[2:]
        n = len(shape)
        size = int(np.prod(shape))
        scales = np.array([range_scale(p) for p in payoffs])
        g = payoffs / scales.reshape((bsz,) + (1,) * (n + 1))
        base = np.full((bsz, size), -math.log(size))
        if target_joint is not None:
            tj = np.broadcast_to(np.asarray(target_joint, float), (bsz,) + shape).reshape(bsz, -1)
            base = np.log(tj / tj.sum(axis=1, keepdims=True))
        if param.mu:
            # Same problem as the network's: mu times the L2-scaled welfare (eq. 16c).
            from spielplatz import scaling

            w = (payoffs.sum(axis=1) if welfare is None
                 else np.broadcast_to(np.asarray(welfare, float), (bsz,) + shape))
            base = base + param.mu * scaling.scale_welfare(w, 2, n).reshape(bsz, -1)
        alpha0 = np.stack([network_to_flat([d[i] for d in duals], concept, scales[i])
                           for i in range(bsz)])
        start = time.perf_counter()
        res = refine_batch(g, concept, warm_start(alpha0), base=base, tol=tol, max_iter=steps)
        failed = np.flatnonzero(~res["converged"])
        if len(failed):
            cold = refine_batch(g[failed], concept, np.zeros_like(alpha0[failed]),
                                base=base[failed], tol=tol, max_iter=steps)
            for key in ("joint", "duals", "residual", "converged"):
                res[key][failed] = cold[key]
            res["iterations"][failed] += cold["iterations"]
        res["time"] = time.perf_counter() - start
        res["scales"] = scales
        res["own_duals"] = [flat_to_duals(res["duals"][i], shape, concept, scales[i])
                            for i in range(bsz)]
        return res

    def solve_batch(self, payoffs: Any, concept: str = "ce", *, model: Any = None,
                    refine: Any = 0, tol: float = 1e-10, parameterization: str = "ME",
                    target_joint: Any = None, welfare: Any = None, target_epsilon: Any = None,
                    batch_size: int = 1024, **unknown: Any) -> BatchSolution:
        """Solve ``payoffs`` ``[B, N, A_1, ..., A_N]`` in batches on the JAX backend.

        Options as for :meth:`solve` (the same for every game; ``target_joint``,
        ``welfare`` may be per game ``[B, A...]``). Returns a
        :class:`spielplatz.results.BatchSolution` (``extra``: ``model``, ``network_time``).
        """
        if unknown:
            raise SpielplatzError(f"nes: unknown option(s) {', '.join(sorted(unknown))}")
        concept = deviations._check_concept(concept)
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
        joint = pred.joint
        steps = _refine_steps(refine)
        status = ["approximate"] * len(payoffs)
        iterations = np.zeros(len(payoffs), dtype=int)
        if steps:
            info = self._refine(payoffs, concept, pred.duals, steps, tol, net, target_joint,
                                welfare)
            joint = info["joint"]
            iterations = info["iterations"].astype(int)
            status = ["optimal" if c else "approximate" for c in info["converged"]]
        eps = np.stack([np.asarray(deviations.epsilons(payoffs[i], joint[i], concept))
                        for i in range(len(payoffs))])
        gap = np.maximum(eps.max(axis=1), 0.0)
        if steps:
            for i in range(len(payoffs)):
                scale = float(deviations.payoff_scale(payoffs[i])) or 1.0
                if status[i] == "optimal" and gap[i] > GAP_TOLERANCE * scale:
                    status[i] = "approximate"
        from spielplatz import measures

        entropies = np.array([float(measures.entropy(j)) for j in joint])
        return BatchSolution(
            solver="nes", concept=concept, joints=joint, epsilons=eps, gaps=gap,
            entropies=entropies, statuses=tuple(status), iterations=iterations,
            wall_time=time.perf_counter() - start,
            config={"model": net.name, "refine": steps, "tol": tol,
                    "parameterization": net.config.parameterization},
            extra={"model": net.name, "network_time": network_time})

    # -- training and evaluation (used by `spielplatz train-solver` / `evaluate-solver`) --
    def train(self, *, concept: str = "cce", shape: Any = "8x8", parameterization: str = "ME",
              steps: int = 2000, batch_size: int = 256, out: Any = None,
              learning_rate: float = 4e-4, seed: int = 0, architecture: dict | None = None,
              schedule_scale: float | None = None, checkpoint_every: int = 500,
              log_every: int = 10, callback: Any = None, resume: bool = True,
              rho: float | None = None) -> dict:
        """Train a model without labels (see :mod:`spielplatz_nes.training`).

        Writes ``checkpoint.msgpack``, ``metrics.json``, ``config.json`` and the
        final ``model.msgpack`` to ``out``; resumes from ``out`` when it holds a
        checkpoint of the same configuration. ``schedule_scale`` defaults to
        ``steps / 1e7`` (the D.2 schedule compressed into the run) or, when
        resuming, to the checkpoint's. ``rho`` overrides the parameterization's.

        Returns
        -------
        dict
            ``history`` (list of metric records), ``model`` (path of the model
            file or None), ``resumed_from`` (step), ``model_config``.
        """
        from .checkpoint import exists
        from .core import ModelConfig, TrainConfig
        from .training import Trainer

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
        try:
            trainer = Trainer(mc, tc, out=out)
        except ValueError as exc:
            raise SpielplatzError(f"nes: {exc}") from None
        resumed = trainer.resume() if resume else False
        start_step = trainer.step
        history = trainer.run(callback=callback)
        path = trainer.export(out) if out is not None else None
        return {"history": history, "model": str(path) if path else None,
                "resumed_from": start_step if resumed else None,
                "model_config": mc.to_dict(), "trainer": trainer}

    def evaluate(self, model: Any = None, *, concept: str = "cce", shape: Any = "8x8",
                 classes: Any = None, num_games: int = 200, seed: int = 12345,
                 exact: bool = True, progress: Any = None) -> dict:
        """Evaluate a model per game class (see :mod:`spielplatz_nes.evaluation`)."""
        from .core import parse_shape
        from .evaluation import DEFAULT_CLASSES, evaluate_model
        from .model import load_model

        dims = parse_shape(shape) if model is None else None
        net = load_model(model, concept=None if model is not None else concept, shape=dims)
        return evaluate_model(net, classes or DEFAULT_CLASSES, num_games=int(num_games),
                              seed=int(seed), exact=exact, progress=progress)
