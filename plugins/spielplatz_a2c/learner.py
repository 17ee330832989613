"""The ``a2c`` learner: A2C with V-trace through the host's actor-critic machinery.

``steps`` counts updates; each update plays ``unroll`` steps in each of ``envs``
environments per seed. Metrics per record ``[seeds, records]``, averaged over the
record's window of updates: per player ``p`` the mean episode return ``return_p`` of the
episodes that ended in the window (raw rewards; carried forward from the last window
with an ended episode, NaN before the first), ``reward_p`` (raw reward per step),
``entropy_p``, ``value_loss_p``, ``policy_loss_p``, ``loss_p``, ``rho_p`` (mean
importance ratio, 1 on-policy), ``episodes`` (ended per update), and the game's own
``metrics`` at episode ends (means over the episodes; a per-player metric ``[N]`` becomes
``name_1 ... name_N``), and the game's derived statistics from the window's totals
(:func:`spielplatz.learning.games.derived_metrics`; the Coin Games: ``own_coin_rate``
over both players and ``own_coin_rate_p``, own / all coins taken in the window). A seed
whose loss or parameters are not finite is reported diverged (its agents are saved as
zero networks, uniform policies).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from spielplatz.errors import SpielplatzError
from spielplatz.results import Run

__all__ = ["A2CLearner", "config_of", "environment_of"]

LOSSES = ("loss", "policy_loss", "value_loss", "entropy", "rho")


def _options(options: dict) -> dict:
    from spielplatz.api import check_options

    from . import OPTIONS

    given = check_options("learner", "a2c", options)
    return {**{o.name: o.default for o in OPTIONS}, **given}


def _widths(text: Any, name: str) -> tuple:
    parts = [p.strip() for p in str(text or "").replace(";", ",").split(",") if p.strip()]
    try:
        widths = tuple(int(p) for p in parts)
    except ValueError:
        raise SpielplatzError(f"{name} must be positive integers joined by ',', got "
                              f"{text!r}") from None
    if any(w < 1 for w in widths):
        raise SpielplatzError(f"{name} must be positive integers, got {text!r}")
    return widths


def config_of(opts: dict) -> Any:
    """The host's :class:`~spielplatz.learning.actor_critic.ActorCriticConfig` of ``opts``."""
    from spielplatz.learning.actor_critic import ActorCriticConfig

    return ActorCriticConfig(
        entropy_cost=opts["entropy_cost"], baseline_cost=opts["baseline_cost"],
        unroll_length=opts["unroll"], discount=opts["discount"], learning_rate=opts["lr"],
        rms_epsilon=opts["rms_epsilon"], rms_momentum=opts["rms_momentum"],
        rms_decay=opts["rms_decay"], num_envs=opts["envs"],
        hidden=_widths(opts["hidden"], "hidden"), channels=_widths(opts["channels"], "channels"),
        lstm=opts["lstm"], vtrace_lambda=opts["vtrace_lambda"], clip_rho=opts["clip_rho"],
        clip_pg_rho=opts["clip_pg_rho"], max_grad_norm=opts["max_grad_norm"])


def environment_of(game: Any, horizon: int) -> Any:
    """``game`` as a ``jax_environment`` (an iterated matrix game: ``horizon`` stages)."""
    from spielplatz.learning.actor_critic import IteratedEnvironment
    from spielplatz.learning.games import game_kinds

    kinds = game_kinds(game)
    if "jax_environment" in kinds:
        return game
    if "iterated_matrix" in kinds:
        return IteratedEnvironment.of(game, horizon)
    raise SpielplatzError(f"a2c trains jax_environment and iterated_matrix games, not "
                          f"{kinds[0] if kinds else type(game).__name__}")


def _carry_forward(x: np.ndarray) -> np.ndarray:
    """NaN records take the last finite record before them (per seed, along axis 1)."""
    out = x.copy()
    for r in range(1, out.shape[1]):
        out[:, r] = np.where(np.isnan(out[:, r]), out[:, r - 1], out[:, r])
    return out


def _metrics(stats: dict, n: int, env: Any) -> dict:
    """Per-player metrics from the driver's window averages (see the module docstring)."""
    from spielplatz.learning.games import derived_metrics

    stats = {k: np.asarray(v, dtype=float) for k, v in stats.items()}
    episodes = stats.pop("episodes")
    out: dict = {}

    def put(name: str, value: np.ndarray) -> None:
        if value.ndim == 3 and value.shape[-1] == n:
            out.update({f"{name}_{p + 1}": value[..., p] for p in range(n)})
        else:
            out[name] = value

    with np.errstate(invalid="ignore", divide="ignore"):
        for key, value in stats.items():
            if key in LOSSES or key == "reward":
                put(key, value)
                continue
            name = "return" if key == "return_sum" else key
            scale = episodes.reshape(episodes.shape + (1,) * (value.ndim - 2))
            mean = np.where(scale > 0, value / np.where(scale > 0, scale, 1.0), np.nan)
            put(name, _carry_forward(mean))
        # the game's derived statistics (the Coin Games' own-coin rate), per player and
        # over both, from the window's totals
        for name, value in derived_metrics(env, stats).items():
            put(name, _carry_forward(value))
        for name, value in derived_metrics(env, stats, over_players=True).items():
            out[name] = _carry_forward(value)
    out["episodes"] = episodes
    return out


class A2CLearner:
    """A2C with V-trace on ``jax_environment`` and iterated matrix games."""

    name = "a2c"
    headline_metrics = ("return_1", "return_2", "return_3", "return_4", "own_coin_rate",
                        "entropy_1", "entropy_2", "value_loss_1", "value_loss_2")

    def learn(self, game: Any, *, steps: int, seeds: tuple = (0,),
              progress: Callable[[int, int], None] | None = None, **options: Any) -> Run:
        import jax

        from spielplatz.learning.actor_critic import reward_shaping, train

        start = time.perf_counter()
        opts = _options(options)
        seeds = tuple(int(s) for s in seeds)
        env = environment_of(game, opts["horizon"])
        n = int(env.num_players)
        config = config_of(opts)
        mixing, welfare = reward_shaping(opts["reward"], n, mixing=opts["mixing"],
                                         disagreement=opts["d"])
        record_steps, stats, state = train(env, config, seeds=seeds, steps=int(steps),
                                           records=opts["records"], mixing=mixing,
                                           welfare=welfare, progress=progress)
        metrics = _metrics(stats, n, env)
        losses = np.stack([metrics[f"loss_{p + 1}"] for p in range(n)], axis=-1)
        bad = ~np.all(np.isfinite(losses), axis=-1)                      # [seeds, records]
        params = jax.tree_util.tree_map(np.asarray, state.params)
        finite = np.all([np.all(np.isfinite(x.reshape(len(seeds), -1)), axis=1)
                         for x in jax.tree_util.tree_leaves(params)], axis=0)
        diverged = bad.any(axis=1) | ~finite
        first = [int(record_steps[np.argmax(b)]) if b.any() else int(record_steps[-1])
                 for b in bad]
        players = []
        for p in range(n):
            net = jax.tree_util.tree_map(
                lambda x: np.where(diverged.reshape((-1,) + (1,) * (x.ndim - 2)), 0.0,
                                   x[:, p]), params)
            players.append({"net": net, "seat": np.full(len(seeds), float(p))})
        final = {"return": np.stack([metrics[f"return_{p + 1}"][:, -1] for p in range(n)],
                                    axis=-1),
                 "mixing": np.asarray(mixing)}
        cfg = {**opts, "mixing": None if opts["mixing"] is None else np.asarray(mixing),
               "env_steps_per_update": config.unroll_length * config.num_envs,
               "divergence": "a non-finite loss or parameter"}
        return Run(learner=self.name, game=str(game.name), config=cfg, seeds=seeds,
                   metrics=metrics, steps=np.asarray(record_steps), final=final,
                   wall_time=time.perf_counter() - start,
                   diverged=tuple(bool(d) for d in diverged),
                   diverged_step=tuple(f if d else None for f, d in zip(first, diverged)),
                   agents={"kind": "a2c", "game": str(game.name),
                           "learners": [self.name] * n, "players": players})

    def divergence_criterion(self, run: Run) -> str:
        return "a non-finite loss or network parameter"

    def report_lines(self, run: Run) -> list[str]:
        kept = run.final_metrics(include_diverged=False)
        shown = [k for k in kept if not k.startswith(("return_", "reward_", "episodes"))
                 and k.split("_")[0] not in ("loss", "policy", "value", "entropy", "rho")
                 and np.asarray(kept[k]).ndim == 1]
        if not shown:
            return []
        if run.diverged_mask.all():
            return []       # (the host reports the diverged seeds)
        means = run.summary()
        return ["episode metrics (final record, mean over seeds): " + ", ".join(
            f"{k} {means[k]['mean']:.3g}" if means[k]["mean"] is not None else f"{k} -"
            for k in sorted(shown)) + ("" if all(means[k]["mean"] is not None for k in shown)
                                        else " (-: no episode ended yet)")]
