"""D3C around A2C with V-trace on ``jax_environment`` games (D3C paper, Algorithm 1 with
the learner of Appendix G.1, Table 2; the Coins of Section 3.4).

One step is one A2C update of every player (the host's
:class:`spielplatz.learning.actor_critic.ActorCritic`: ``envs`` environments, one unroll
of 100 steps) on rewards mixed with the trial's ``A~`` (Algorithm 3: player ``i`` learns
``sum_j A~_ji r_j``), then one iteration of Algorithm 1 (:func:`spielplatz_d3c.rl.trial_update`)
with the trial return ``g_i``: Algorithm 3's *discounted return*, estimated as the mean
reward per step of the update's unroll over ``1 - gamma`` (the discounted return of a
stationary reward stream; ``gamma`` is A2C's discount, 0.98), mixed
(``trial_return="mixed"``) or the player's own. The scale matters: Algorithm 1 compares
``(G_b - G) / tau`` with ``epsilon``. ``gd`` keeps ``A = I`` (selfish A2C),
``coop`` ``A_ij = 1/n`` (the cooperative baseline of Figure 8a).
"""

from __future__ import annotations

from typing import Any, Callable

import jax.numpy as jnp

from spielplatz.learning.actor_critic import ActorCritic, ActorCriticConfig

from . import mixing
from .rl import RLConfig, trial_init, trial_update

__all__ = ["make_ac_rl"]


def make_ac_rl(game: Any, cfg: RLConfig, envs: int,
               unroll: int = 100) -> tuple[Callable, Callable, Callable]:
    """``init``/``step``/``measure`` for :func:`spielplatz.learning.driver.run_seeds`."""
    import jax

    n = int(game.num_players)
    learner = ActorCritic(game, ActorCriticConfig(learning_rate=cfg.lr, num_envs=int(envs),
                                                  unroll_length=int(unroll)))

    def init(g: Any, key: Any) -> dict:
        k_ac, k_trial = jax.random.split(key)
        d3c = trial_init(k_trial, n, cfg)
        return {"ac": learner.init(k_ac, d3c["A_tilde"].T), "d3c": d3c}

    def step(g: Any, state: dict) -> tuple:
        ac = state["ac"].replace(mixing=state["d3c"]["A_tilde"].T)
        key, k_trial = jax.random.split(ac.key)
        ac, stats = learner.update(ac.replace(key=key))
        own = stats["reward"]                                      # [n] mean per step
        ret = own / (1.0 - learner.config.discount)                # discounted return
        g_i = state["d3c"]["A_tilde"].T @ ret if cfg.trial_return == "mixed" else ret
        d3c = trial_update(state["d3c"], g_i, k_trial, cfg)
        episodes = jnp.maximum(stats["episodes"], 1.0)
        out = {"reward": own, "total_reward": own.sum(), "entropy": stats["entropy"],
               "value_loss": stats["value_loss"], "episodes": stats["episodes"],
               "return": stats["return_sum"] / episodes,
               **{k: v / episodes for k, v in stats.items()
                  if k not in ("reward", "episodes", "return_sum", "loss", "policy_loss",
                               "value_loss", "entropy", "rho")}}
        return {"ac": ac, "d3c": d3c}, out

    def measure(g: Any, state: dict) -> dict:
        out = {"mixing": state["d3c"]["A"]}
        if cfg.mode != "selfish":
            out["attention"] = mixing.attention(state["d3c"]["A"])
        return out

    return init, step, measure
