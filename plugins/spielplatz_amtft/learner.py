"""The ``amtft`` learner: amTFT(W) agents from exact parts, and their logged self-play.

Nothing is trained: ``steps`` is the number of stages of each logged self-play episode.
Per seed the agents differ only in the welfare function they start with (sampled from
the preference over W, or the first of W); both seats of a seed start with the same one
(the jointly built profile), so self-play coordinates from the first stage and cross-play
between seeds may have to re-sample. The run's metrics per recorded stage: the mean stage
rewards and the fraction of episodes with each event (re-sample, defection detected,
punishing); ``final`` holds each seed's discounted average rewards and mean event counts.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from spielplatz.equilibria.welfare_functions import welfare_set
from spielplatz.equilibria.welfare_optimum import (disagreement_point, maximise, punishment,
                                                   schedule)
from spielplatz.errors import SpielplatzError
from spielplatz.results import Run

from .policy import PERIOD, SLOTS

__all__ = ["AmtftLearner", "build_agents", "exploit_bound", "EVENTS"]

EVENTS = ("resample", "defection", "punishing")


def _options(options: dict) -> dict:
    from spielplatz.api import check_options

    from . import OPTIONS

    given = check_options("learner", "amtft", options)
    return {**{o.name: o.default for o in OPTIONS}, **given}


def preference_weights(opts: dict, k: int) -> np.ndarray:
    """Re-sampling (and starting) probabilities over the ``k`` functions of W: the
    ``preference`` option normalised, or uniform."""
    pref = opts.get("preference")
    if pref is None:
        return np.full(k, 1.0 / k)
    weights = np.asarray(pref, dtype=float).reshape(-1)
    if weights.shape != (k,) or np.any(weights < 0) or weights.sum() <= 0:
        raise SpielplatzError(f"preference needs {k} non-negative weights (one per "
                              f"welfare function in W), got {list(weights)}")
    return weights / weights.sum()


def first_functions(opts: dict, weights: np.ndarray, seeds: tuple) -> np.ndarray:
    """Each seed's first welfare function (an index into W): the first of W, or drawn
    from ``weights`` with the seed."""
    return np.array([0 if opts["start"] == "first"
                     else int(np.random.default_rng(s).choice(len(weights), p=weights))
                     for s in seeds])


def log_metrics(rewards: np.ndarray, events: np.ndarray, recorded: np.ndarray) -> tuple:
    """The logged self-play of ``rewards [seeds, episodes, T, 2]`` and per-step
    ``events [seeds, episodes, T, 3]``: ``(metrics, totals)`` -- per recorded step the
    mean rewards and the share of episodes with each event, and per seed the mean count
    of each event per episode."""
    metrics = {"reward_1": rewards[:, :, recorded, 0].mean(axis=1),
               "reward_2": rewards[:, :, recorded, 1].mean(axis=1)}
    for e, name in enumerate(EVENTS):
        metrics[name] = (events[:, :, recorded, e] > 0).mean(axis=1)
    totals = {name: events[..., e].sum(axis=2).mean(axis=1) for e, name in enumerate(EVENTS)}
    return metrics, totals


def build_agents(game: Any, opts: dict, seeds: tuple) -> tuple:
    """``(players, info, optima)``: per seat the stacked parameters of every seed's
    agent, per seed what it holds, and the cooperative optimum of each w in W."""
    functions = welfare_set(opts["W"])
    if len(functions) > SLOTS:
        raise SpielplatzError(f"W holds {len(functions)} welfare functions; amtft takes at "
                              f"most {SLOTS}")
    payoffs = np.asarray(game.payoffs, dtype=float)
    gamma = float(np.asarray(game.gamma))
    d = disagreement_point(payoffs)
    ia = {"gamma": gamma, "beta": opts["beta"], "smoothing": opts["smoothing"]}
    optima = [maximise(w, payoffs, disagreement=d, horizon=opts["horizon"],
                       params=ia if w.defined_on == "trajectories" else None)
              for w in functions]
    k = len(functions)
    weights = preference_weights(opts, k)
    schedules = np.zeros((SLOTS, PERIOD), dtype=np.int32)
    for slot in range(SLOTS):
        schedules[slot] = schedule(optima[min(slot, k - 1)].lottery, PERIOD)
    slot_weights = np.zeros(SLOTS)
    slot_weights[:k] = weights
    width = max(payoffs.shape[1:])
    starts = first_functions(opts, weights, seeds)
    players, n = [], len(seeds)
    for seat in (0, 1):
        strategy, reply = punishment(payoffs, seat)
        padded = np.zeros(width)
        padded[:len(strategy)] = strategy
        loss = np.zeros(SLOTS)
        loss[:k] = [o.value[1 - seat] - reply for o in optima]
        loss[k:] = loss[0]
        agent = {"schedules": schedules, "weights": slot_weights, "seat": float(seat),
                 "payoffs": payoffs, "punish": padded, "loss": loss,
                 "threshold": opts["threshold"], "alpha": opts["alpha"],
                 "rollout": float(opts["rollout"]), "gamma": gamma}
        stacked = {key: np.broadcast_to(np.asarray(v, dtype=float),
                                        (n, *np.shape(v))).copy() for key, v in agent.items()}
        stacked["start"] = starts.astype(float)
        players.append(stacked)
    names = [f.name for f in functions]
    info = [{"W": names, "start": names[s]} for s in starts]
    return players, info, optima


def exploit_bound(payoffs: Any, optima: list, threshold: float) -> list:
    """Per seat, the most an opponent can gain over cooperating against this agent, in
    discounted reward: ``threshold + g_max`` with ``g_max`` the largest one-step gain of a
    deviation from any cooperative profile (a debit above the threshold is punished at
    once by a loss of at least ``alpha`` times the debit, which outweighs it when
    ``alpha gamma >= 1``; what remains is the last, unpunished debit)."""
    g = np.asarray(payoffs, dtype=float)
    cols = g.shape[2]
    out = []
    for seat in (0, 1):
        opp = g[1] if seat == 0 else g[0].T                       # [own, opponent]
        gains = [0.0]
        for o in optima:
            for k in np.flatnonzero(o.lottery > 0):
                a1, a2 = divmod(int(k), cols)
                own, coop = (a1, a2) if seat == 0 else (a2, a1)
                gains.append(float(opp[own].max() - opp[own, coop]))
        out.append(float(threshold) + max(gains))
    return out


def _self_play(game: Any, players: list, seeds: tuple, stages: int, episodes: int) -> tuple:
    """Rewards ``[seeds, episodes, stages, 2]`` and events ``[seeds, episodes, stages, 3]``
    (both agents' events of each stage), by the host's :func:`play_many` (one compiled
    function for every seed; each seed's episodes from its own key)."""
    from spielplatz.learning.agents import Agent, play_many

    rewards, events = [], []
    for i, s in enumerate(seeds):
        pair = tuple(Agent("amtft", {k: v[i] for k, v in players[seat].items()}, player=seat)
                     for seat in (0, 1))
        r, (m1, m2) = play_many(game, [pair], episodes=episodes, horizon=stages, seed=s,
                                keep_states=True)
        counts = m1["events"][0] + m2["events"][0]                # cumulative [E, T, 3]
        rewards.append(r[0])
        events.append(np.diff(counts, axis=1, prepend=0))
    return np.stack(rewards), np.stack(events).astype(float)


class AmtftLearner:
    """amTFT(w) and amTFT(W) on iterated matrix games (see the package docstring) and on
    ``jax_environment`` games (:mod:`spielplatz_amtft.learner_env`; ``steps`` counts the
    A2C updates of each trained part)."""

    name = "amtft"

    def learn(self, game: Any, *, steps: int, seeds: tuple = (0,),
              progress: Callable[[int, int], None] | None = None, **options: Any) -> Run:
        from spielplatz.learning.agents import discounted_average
        from spielplatz.learning.games import game_kinds

        start = time.perf_counter()
        opts = _options(options)
        seeds = tuple(int(s) for s in seeds)
        if "jax_environment" in game_kinds(game):
            from .learner_env import learn_environment

            return learn_environment(game, opts, int(steps), seeds, progress)
        players, info, optima = build_agents(game, opts, seeds)
        rewards, events = _self_play(game, players, seeds, int(steps), int(opts["episodes"]))
        gamma = float(np.asarray(game.gamma))
        recorded = np.unique(np.linspace(0, steps - 1, min(opts["records"], steps)).astype(int))
        metrics, totals = log_metrics(rewards, events, recorded)
        value = discounted_average(rewards, gamma).mean(axis=1)           # [seeds, 2]
        final = {"value": value, "start": [i["start"] for i in info], "events": totals,
                 "episode_events": {name: events[..., e].sum(axis=2)      # [seeds, episodes]
                                    for e, name in enumerate(EVENTS)},
                 "optima": [o.to_dict() for o in optima],
                 "exploit_bound": exploit_bound(game.payoffs, optima, opts["threshold"])}
        if progress is not None:
            progress(len(seeds), len(seeds))
        names = info[0]["W"]
        config = {**opts, "W": names, "gamma": gamma}
        return Run(learner=self.name, game=str(game.name), config=config, seeds=seeds,
                   metrics=metrics, steps=recorded + 1, final=final,
                   wall_time=time.perf_counter() - start,
                   agents={"kind": "amtft", "game": str(game.name),
                           "learners": [self.name, self.name], "players": players,
                           "info": info})
