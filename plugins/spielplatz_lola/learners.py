"""The learner objects registered as ``naive``, ``lola`` and ``lola_dice``.

Each ``learn(game, *, steps, seeds, **options) -> spielplatz.Run`` trains every seed at
once with the host's run driver (:mod:`spielplatz.learning.driver`: ``jax.vmap`` over
seeds, ``lax.scan`` over steps) on an iterated matrix game
(:class:`spielplatz.learning.iterated.IteratedMatrixGame`), in float64.

Metrics, each ``[seeds, records, ...]``: ``reward_1`` and ``reward_2`` (exact average
reward per step, ``(1 - gamma) V_i``, of the current policies), ``policy_1`` ``[S, A_1]``
and ``policy_2`` ``[S, A_2]`` (action probabilities per memory-one state). The run holds
the trained agents (memory-one logits per seed and player) for later play.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from spielplatz.errors import SpielplatzError
from spielplatz.results import Run

from .display import LolaDisplay

__all__ = ["NaiveLearner", "LolaLearner", "LolaDiceLearner"]


def _check_game(game: Any, learner: str) -> None:
    from spielplatz.learning import game_kinds

    if "iterated_matrix" not in game_kinds(game):
        raise SpielplatzError(f"learner {learner!r} trains iterated two-player games (e.g. "
                              f"ipd, iterated(stage=chicken)); {getattr(game, 'name', game)!r} "
                              f"is not one")


def _measure(g: Any, state: dict) -> dict:
    params = state["params"]
    rewards = g.average_rewards(params)
    p1, p2 = g.policies(params)
    return {"reward_1": rewards[0], "reward_2": rewards[1], "policy_1": p1, "policy_2": p2}


class _Family(LolaDisplay):
    name = "lola"
    kinds = ("lola", "lola")

    def learn(self, game: Any, *, steps: int, seeds: Any = (0,),
              progress: Callable[[int, int], None] | None = None, **options: Any) -> Run:
        """Train one run per seed for ``steps`` updates (options: see the registration)."""
        import jax

        from spielplatz.learning import driver
        from spielplatz.validation import as_int, as_seeds

        _check_game(game, self.name)
        steps = as_int(steps, "steps", minimum=1)
        seeds = as_seeds((options.pop("seed"),) if "seed" in options else seeds)
        opts = self._options(options)
        kinds = (self.kinds[0], "naive" if opts.get("opponent") == "naive" else self.kinds[1])
        start = time.perf_counter()
        with jax.enable_x64(True):
            game64 = game.as_float64()
            init, step = self._trainer(game64, kinds, opts)
            record_steps, metrics, state = driver.run_seeds(
                init, step, _measure, seeds=seeds, steps=steps, records=opts["records"],
                game=game64, progress=progress)
            params = [np.asarray(p, dtype=float) for p in state["params"]]
        metrics = {k: np.asarray(v, dtype=float) for k, v in metrics.items()}
        diverged, diverged_step = _divergence(metrics, record_steps)
        learners = [self.name if k == self.kinds[0] else "naive" for k in kinds]
        config = {**opts, "players": learners, "gamma": float(np.asarray(game.gamma))}
        return Run(learner=self.name, game=str(game.name), config=config, seeds=seeds,
                   metrics=metrics, steps=record_steps,
                   final={"policies": [metrics["policy_1"][:, -1], metrics["policy_2"][:, -1]],
                          "states": game.states()},
                   wall_time=time.perf_counter() - start, diverged=diverged,
                   diverged_step=diverged_step,
                   agents={"kind": "memory_one", "game": str(game.name), "learners": learners,
                           "players": params})

    def _options(self, options: dict) -> dict:
        """The declared options' defaults, updated with ``options`` (checked and coerced
        by the host; checked again here for direct calls)."""
        from spielplatz.api import check_options

        from . import OPTIONS

        given = check_options("learner", self.name, options)
        return {**{o.name: o.default for o in OPTIONS[self.name]}, **given}

    def _trainer(self, game: Any, kinds: tuple, opts: dict) -> tuple:
        from .updates import update

        kw = {"lr": opts["lr"], "lola_lr": opts.get("lola_lr", 0.0),
              "lookahead": int(opts.get("lookahead", 0))}

        def init(g: Any, key: Any) -> dict:
            return {"params": g.init_params(key)}

        def step(g: Any, state: dict) -> tuple:
            a, b = state["params"]
            return {"params": (update(kinds[0], g, 0, a, b, **kw),
                               update(kinds[1], g, 1, b, a, **kw))}, {}

        return init, step


def _divergence(metrics: dict, record_steps: np.ndarray) -> tuple:
    """A seed diverged when a recorded reward or policy is not finite."""
    bad = np.zeros(metrics["reward_1"].shape, dtype=bool)
    for value in metrics.values():
        finite = np.isfinite(value.reshape(value.shape[0], value.shape[1], -1)).all(axis=2)
        bad |= ~finite
    if not bad.any():
        return (), ()
    first = [int(record_steps[np.argmax(row)]) if row.any() else None for row in bad]
    return tuple(bool(row.any()) for row in bad), tuple(first)


class NaiveLearner(_Family):
    """Both players ascend their own exact value (``lr``)."""

    name = "naive"
    kinds = ("naive", "naive")


class LolaLearner(_Family):
    """Both players take the C.1 LOLA step (or the k-step look-ahead) on exact values."""

    name = "lola"
    kinds = ("lola", "lola")


class LolaDiceLearner(_Family):
    """LOLA-DiCE on sampled episodes of the game's environment (:mod:`spielplatz_lola.dice`;
    on ``jax_environment`` games with network policies, :mod:`spielplatz_lola.dice_env`:
    ``lr`` is then Adam's step, the options ``horizon``, ``init_scale`` and ``lr_value``
    do not apply, and metrics are the update's mean reward per step of each player and
    the game's episode metrics, e.g. the Coin Games' coins taken and ``own_coin_rate``)."""

    name = "lola_dice"
    kinds = ("lola_dice", "lola_dice")

    def learn(self, game: Any, *, steps: int, seeds: Any = (0,),
              progress: Callable[[int, int], None] | None = None, **options: Any) -> Run:
        from spielplatz.learning import game_kinds

        if "jax_environment" not in game_kinds(game):
            return super().learn(game, steps=steps, seeds=seeds, progress=progress, **options)
        return self._learn_environment(game, steps, seeds, progress, options)

    def _learn_environment(self, game: Any, steps: int, seeds: Any, progress: Any,
                           options: dict) -> Run:
        import jax

        from spielplatz.learning import derived_metrics, driver
        from spielplatz.validation import as_int, as_seeds

        from .dice_env import env_dice_trainer

        steps = as_int(steps, "steps", minimum=1)
        seeds = as_seeds(seeds)
        opts = self._options(options)
        kinds = ("lola_dice", "naive" if opts["opponent"] == "naive" else "lola_dice")
        start = time.perf_counter()
        init, step, measure = env_dice_trainer(game, kinds, opts)
        record_steps, stats, state = driver.run_seeds(
            init, step, measure, seeds=seeds, steps=steps, records=opts["records"],
            game=game, initial_record=False, progress=progress)
        metrics: dict = {}
        for key, value in stats.items():
            value = np.asarray(value, dtype=float)
            if value.ndim == 3 and value.shape[-1] == 2:
                metrics.update({f"{key}_{p + 1}": value[..., p] for p in (0, 1)})
            else:
                metrics[key] = value
        metrics.update(derived_metrics(game, stats, over_players=True))
        diverged, diverged_step = _divergence(
            {k: v for k, v in metrics.items() if k.startswith("reward")}, record_steps)
        params = jax.tree_util.tree_map(np.asarray, state["params"])
        bad = np.asarray(diverged if diverged else [False] * len(seeds))
        players = []
        for p in (0, 1):
            net = jax.tree_util.tree_map(
                lambda x: np.where(bad.reshape((-1,) + (1,) * (x.ndim - 1)), 0.0, x), params[p])
            players.append({"net": net, "seat": np.full(len(seeds), float(p))})
        learners = [self.name if k == "lola_dice" else "naive" for k in kinds]
        final = {"reward": np.stack([metrics["reward_1"][:, -1], metrics["reward_2"][:, -1]],
                                    axis=-1)}
        if "own_coin_rate" in metrics:
            final["own_coin_rate"] = metrics["own_coin_rate"][:, -1]
        return Run(learner=self.name, game=str(game.name),
                   config={**opts, "players": learners}, seeds=seeds, metrics=metrics,
                   steps=np.asarray(record_steps), final=final,
                   wall_time=time.perf_counter() - start, diverged=diverged,
                   diverged_step=diverged_step,
                   agents={"kind": "a2c", "game": str(game.name), "learners": learners,
                           "players": players})

    def _trainer(self, game: Any, kinds: tuple, opts: dict) -> tuple:
        from .dice import dice_trainer

        return dice_trainer(game, kinds, opts)
