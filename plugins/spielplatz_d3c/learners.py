"""The learner objects registered as ``d3c``, ``gd`` and ``coop``.

Each follows :class:`spielplatz.plugins.protocols.Learner`:
``learn(game, *, steps, seeds=(0,), **options) -> spielplatz.Run``.

Games:

* differentiable games (:class:`spielplatz.learning.games.DifferentiableGame`) and
  normal-form games (through :func:`spielplatz.learning.games.mixed_strategy_game`)
  train with exact gradients (:mod:`spielplatz_d3c.exact`); a game with an
  ``instance(seed)`` method (a *seeded family* such as ``random_braess``)
  gets one member per seed;
* RL games (:class:`spielplatz.learning.games.RLEnvironment`) train REINFORCE,
  wrapped in Algorithm 1 for ``d3c`` (:mod:`spielplatz_d3c.rl`), vectorised
  over seeds when the game has a JAX simulator, otherwise through
  ``open_spiel.python.rl_environment`` one seed at a time.

Metrics of the returned :class:`~spielplatz.Run` (each ``[seeds, records, ...]``):
``losses``/``returns`` ``[n]``, ``total_loss``/``total_return``,
``ratio_to_optimal`` (total loss over the optimal total loss: the "price of
anarchy" / "ratio to optimal" the paper plots, where the game knows its
optimum), ``max_loss``, ``mixing`` ``[n, n]``, ``attention`` ``[n, n]``
(``ln(A_ii / A_ij)``), ``strategy_error`` (RMS distance to the optimum, where
known) and, for RL, ``mixed_returns``.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from spielplatz.errors import SpielplatzError
from spielplatz.learning import game_kind, mixed_strategy_game
from spielplatz.results import Run

from . import defaults
from .display import LearnDisplay

__all__ = ["D3CLearner", "SelfishLearner", "CooperativeLearner", "detect_divergence"]


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Convert a (maybe string, from the command line) option to its default's type."""
    if isinstance(default, str):
        return ";".join(map(str, value)) if isinstance(value, list) else str(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("none", "null", ""):
            return None
        try:
            value = float(low)
        except ValueError:
            raise SpielplatzError(f"option {name!r} must be a number, got {value!r}") from None
    if value is None:
        return None
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, int):
        if float(value) != int(value):
            raise SpielplatzError(f"option {name!r} must be an integer, got {value!r}")
        return int(value)
    return float(value)


def _options(table: dict, options: dict, kind: str) -> dict:
    from spielplatz.validation import check_option_names

    check_option_names(options, sorted(table), f"{kind} learning")   # with "did you mean"
    opts = {k: _coerce(k, options.get(k, v), v) if k in options else v
            for k, v in table.items()}
    low, high = opts.get("logit_min"), opts.get("logit_max")
    if low is not None and high is not None and not low < high:
        raise SpielplatzError(f"logit_min ({low:g}) must be below logit_max ({high:g})")
    return opts


def _check_positive(name: str, value: Any) -> None:
    if value is None or not value > 0:
        raise SpielplatzError(f"{name} must be positive, got {value!r}")


def _seeds(seeds: Any, options: dict) -> tuple[int, ...]:
    if "seed" in options:                       # sp.learn(..., seed=0) as in the design
        seeds = (options.pop("seed"),)
    from spielplatz.validation import as_seeds

    return as_seeds(seeds)                      # each an integer in 0..2**32-1


class _D3CFamily(LearnDisplay):
    """Shared ``learn``: dispatch on the game's kind, run, wrap the result in a Run."""

    name = "d3c"
    mode = "d3c"

    def learn(self, game: Any, *, steps: int, seeds: Any = (0,),
              progress: Callable[[int, int], None] | None = None, **options: Any) -> Run:
        """Train one run per seed for ``steps`` steps.

        Parameters
        ----------
        game : DifferentiableGame, NormalFormGame or RLEnvironment
        steps : int
            Gradient steps (exact) or learner updates of ``batch`` episodes (RL).
        seeds : int or sequence of int
        progress : callable, optional
            ``progress(done_steps, total_steps)``, called now and then.
        **options
            Hyper-parameters; see :data:`spielplatz_d3c.defaults.EXACT` and
            :data:`spielplatz_d3c.defaults.RL`. Strings are converted.

        Returns
        -------
        spielplatz.Run
        """
        seeds = _seeds(seeds, options)
        try:
            steps = int(steps)
        except (TypeError, ValueError):
            raise SpielplatzError(f"steps must be a positive integer, got {steps!r}") from None
        _check_positive("steps", steps)
        try:
            kind = game_kind(game)
        except TypeError as exc:
            raise SpielplatzError(str(exc)) from None
        if kind == "normal_form":
            game = mixed_strategy_game(game)
            kind = "differentiable"
        elif kind == "iterated_matrix":               # exact values: a differentiable game
            kind = "differentiable"
        start = time.perf_counter()
        if kind == "differentiable":
            record_steps, metrics, final, config = self._exact(game, steps, seeds, progress,
                                                                options)
        elif kind == "rl_environment":
            record_steps, metrics, final, config = self._rl(game, steps, seeds, progress,
                                                             options)
        elif kind == "jax_environment":
            record_steps, metrics, final, config = self._ac(game, steps, seeds, progress,
                                                             options)
        else:
            raise SpielplatzError(f"learner {self.name!r} does not train {kind} games")
        diverged, diverged_step = detect_divergence(metrics, record_steps,
                                                    config.get("divergence"))
        return Run(learner=self.name, game=str(getattr(game, "name", type(game).__name__)),
                   config=config, seeds=seeds, metrics=metrics, steps=record_steps,
                   final=final, wall_time=time.perf_counter() - start,
                   diverged=diverged, diverged_step=diverged_step)

    # -- exact gradients ---------------------------------------------------------
    def _exact(self, game: Any, steps: int, seeds: tuple, progress: Any, options: dict):
        from spielplatz.learning import driver

        from . import exact

        opts = _options(defaults.EXACT, options, "exact-gradient")
        for key in ("lr", "records", "mu_bar"):
            _check_positive(key, opts[key])
        if opts["divergence"] is not None:
            _check_positive("divergence", opts["divergence"])
        if not 0.0 < opts["a_ii"] < 1.0:
            raise SpielplatzError(f"a_ii must be in (0, 1), got {opts['a_ii']}")
        cfg = exact.ExactConfig(mode=self.mode, lr=opts["lr"], lr_mix=opts["lr_mix"],
                                epsilon=opts["epsilon"], nu=opts["nu"], a_ii=opts["a_ii"],
                                rho=opts["rho"], mu_bar=opts["mu_bar"],
                                logit_min=opts["logit_min"], logit_max=opts["logit_max"])
        if cfg.rho not in exact.RHO_FORMS:
            raise SpielplatzError(f"option rho must be one of {', '.join(exact.RHO_FORMS)}, "
                                  f"got {cfg.rho!r}")
        family = hasattr(game, "instance")
        proto = game.instance(seeds[0]) if family else game
        init, step, measure = exact.make_exact(proto, cfg)
        if self.mode != "d3c":
            base_measure = measure

            def measure(g, s):  # noqa: E306 - constant mixing: no attention for A = I
                out = base_measure(g, s)
                if self.mode == "selfish":
                    out.pop("attention")
                return out
        stacked = driver.stack_games([game.instance(s) for s in seeds]) if family else None
        kwargs = {"games": stacked} if family else {"game": game}
        record_steps, metrics, state = driver.run_seeds(
            init, lambda g, s: (step(g, s), {}), measure, seeds=seeds, steps=steps,
            records=opts["records"], progress=progress, **kwargs)
        params, A = state
        final = {"mixing": np.asarray(A)}
        if not isinstance(params, (tuple, list)):
            final["params"] = np.asarray(params)
        else:
            final["params"] = [np.asarray(p) for p in params]
        if family:      # the per-seed games' numbers, e.g. each Braess network's C..G
            final["games"] = {k: np.asarray(v) for k, v in vars(stacked).items()
                              if hasattr(v, "shape")}
        config = {"mode": self.mode, "kind": "differentiable", "vectorised": True,
                  **{k: v for k, v in opts.items()}}
        return record_steps, metrics, final, config

    # -- reinforcement learning -----------------------------------------------------
    def _rl(self, game: Any, steps: int, seeds: tuple, progress: Any, options: dict):
        from spielplatz.learning import driver

        from . import rl

        opts = _options(defaults.RL, options, "RL")
        for key in ("lr", "batch", "records", "tau_min", "tau_max"):
            _check_positive(key, opts[key])
        if opts["tau_min"] > opts["tau_max"]:
            raise SpielplatzError("tau_min must not exceed tau_max")
        if opts["trial_return"] not in ("mixed", "own"):
            raise SpielplatzError("option trial_return must be 'mixed' or 'own'")
        cfg = rl.RLConfig(mode=self.mode, **{k: v for k, v in opts.items() if k != "records"})
        vectorised = all(hasattr(game, a) for a in ("jax_reset", "jax_step", "jax_observe"))
        if vectorised:
            init, step, measure = rl.make_jax_rl(game, cfg)
            record_steps, metrics, state = driver.run_seeds(
                init, step, measure, seeds=seeds, steps=steps, records=opts["records"],
                game=game, initial_record=False, progress=progress)
            final = {"mixing": np.asarray(state["d3c"]["A"]),
                     "policy": {k: np.asarray(v) for k, v in state["policy"].items()}}
        else:
            every, _ = driver.record_schedule(steps, opts["records"])
            runs = []
            for i, seed in enumerate(seeds):
                def tick(done, i=i):
                    if progress is not None:
                        progress(i * steps + done, steps * len(seeds))
                runs.append(rl.run_environment(game, cfg, seed=seed, steps=steps, every=every,
                                               progress=tick))
            metrics = {k: np.stack([m[k] for m, _ in runs]) for k in runs[0][0]}
            final = {"mixing": np.stack([f["mixing"] for _, f in runs]),
                     "policy": {k: np.stack([f["policy"][k] for _, f in runs])
                                for k in runs[0][1]["policy"]}}
            record_steps = driver.record_steps(steps, opts["records"])
        config = {"mode": self.mode, "kind": "rl_environment", "vectorised": vectorised,
                  **opts, "divergence": None}      # returns are bounded: non-finite only
        return record_steps, metrics, final, config

    # -- actor-critic on jax_environment games ----------------------------------------
    def _ac(self, game: Any, steps: int, seeds: tuple, progress: Any, options: dict) -> tuple:
        """Algorithm 1 around A2C with V-trace on a ``jax_environment`` game
        (:mod:`spielplatz_d3c.ac`)."""
        from spielplatz.learning import derived_metrics, driver

        from . import ac, rl

        opts = _options(defaults.AC, options, "actor-critic")
        for key in ("lr", "envs", "unroll", "records", "tau_min", "tau_max"):
            _check_positive(key, opts[key])
        if opts["tau_min"] > opts["tau_max"]:
            raise SpielplatzError("tau_min must not exceed tau_max")
        if opts["trial_return"] not in ("mixed", "own"):
            raise SpielplatzError("option trial_return must be 'mixed' or 'own'")
        cfg = rl.RLConfig(mode=self.mode, lr=opts["lr"], lr_value=0.0, batch=1,
                          **{k: opts[k] for k in ("lr_mix", "delta", "nu", "tau_min", "tau_max",
                                                  "a_ii", "epsilon", "logit_min", "logit_max",
                                                  "trial_return")})
        init, step, measure = ac.make_ac_rl(game, cfg, opts["envs"], opts["unroll"])
        record_steps, metrics, state = driver.run_seeds(
            init, step, measure, seeds=seeds, steps=steps, records=opts["records"], game=game,
            initial_record=False, progress=progress)
        metrics = {k: np.asarray(v) for k, v in metrics.items()}
        # the game's derived statistics (the Coin Games' own-colour share, Figure 8d)
        metrics.update(derived_metrics(game, metrics, over_players=True))
        final = {"mixing": np.asarray(state["d3c"]["A"])}
        config = {"mode": self.mode, "kind": "jax_environment", "vectorised": True, **opts,
                  "divergence": None}
        return record_steps, metrics, final, config


def detect_divergence(metrics: dict, steps: Any, bound: float | None) -> tuple[tuple, tuple]:
    """Which seeds diverged, and the first recorded step at which each did.

    A seed has diverged at the first record where

    * a loss or return (``losses``, ``total_loss``, ``returns``,
      ``total_return``) is not finite, or
    * (``bound`` given, losses only) some agent's ``|f_i|`` exceeds
      ``bound * max(1, max_j |f_j(x_0)|)``: ``bound`` times the seed's largest
      initial loss, with 1 as the smallest scale (the initial losses measure the
      game's payoff range; a mixed-strategy normal-form game can never leave it).

    Checked at the records only (every ``steps[1] - steps[0]`` training steps).

    Returns
    -------
    diverged : tuple of bool
    diverged_step : tuple of (int or None)
    """
    bad = None
    for key in ("losses", "total_loss", "returns", "total_return"):
        if key in metrics:
            v = np.asarray(metrics[key], dtype=float)
            v = v.reshape(v.shape[:2] + (-1,))
            b = ~np.isfinite(v).all(axis=-1)
            bad = b if bad is None else bad | b
    if bad is None:
        return (), ()
    if bound is not None and "losses" in metrics:
        f = np.abs(np.asarray(metrics["losses"], dtype=float))
        f = f.reshape(f.shape[:2] + (-1,))
        with np.errstate(invalid="ignore"):
            scale = np.maximum(1.0, np.nan_to_num(f[:, 0], nan=0.0, posinf=0.0).max(axis=-1))
            bad = bad | (f > float(bound) * scale[:, None, None]).any(axis=-1)
    bad = np.maximum.accumulate(bad, axis=1)             # once diverged, always diverged
    diverged = bad[:, -1] if bad.shape[1] else np.zeros(bad.shape[0], dtype=bool)
    first = bad.argmax(axis=1)
    steps = np.asarray(steps)
    return (tuple(bool(d) for d in diverged),
            tuple(int(steps[r]) if d else None for d, r in zip(diverged, first)))


class D3CLearner(_D3CFamily):
    """D3C: mixing weights that descend a local price-of-anarchy bound (``A_ii^0 = 0.99``)."""

    name = "d3c"
    mode = "d3c"


class SelfishLearner(_D3CFamily):
    """Selfish baseline: gradient descent / REINFORCE on each agent's own loss (``A = I``)."""

    name = "gd"
    mode = "selfish"


class CooperativeLearner(_D3CFamily):
    """Cooperative baseline: every agent descends the mean loss (``A_ij = 1/n``)."""

    name = "coop"
    mode = "cooperative"
