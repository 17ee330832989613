"""Cross-play of trained agents: the full seed matrix, NormalizedScore, and the game of norms.

Normative disagreement, Section 4.2, Appendix B.2 and Appendix E. Every agent family (a
run holding agents) contributes each of its seeds' player-1 and player-2 agents; every
seat-1 agent plays every seat-2 agent, so each pair is played in both seat orders. Cells:

* ``self-play``: the two agents of one seed of one family (trained together);
* ``same welfare``: independently built agents with the same welfare functions;
* ``different welfare``: the others.

An agent's welfare functions are what its learner declared (``agents["info"][seed]["W"]``,
e.g. amTFT(W)'s set W); a learner that declares none (LOLA) gets the welfare function of
the score set whose optimum lies nearest to its self-play payoffs, the after-the-fact
assignment Figure 3 uses for LOLA (reported as ``"nearest optimum"``).

``NormalizedScore(pi) = max_{w in W} (w(pi) - w(pi^d)) / (max_pi' w(pi') - w(pi^d))``
(Section 4.2): ``W`` is the set of welfare functions of the experiment (default: the
agents' declared ones, else utilitarian and inequity-averse, C.1), ``pi^d`` the
disagreement profile (default: each player's pure security level,
:func:`~spielplatz.equilibria.welfare_optimum.disagreement_point`: ``(-2, -2)`` in the IPD
with the payoffs actually played, where B.2 writes ``(-3, -3)``; ``(0, 0)`` in IAsymBoS),
``max w`` the exact optimum over the feasible payoffs. Welfare on values uses the average
rewards per step (exact for memory-one pairs, else discounted averages of sampled
episodes); welfare on trajectories is averaged over the sampled episodes.

On a ``jax_environment`` game (the Coin Games) nothing is known in closed form: the
values are mean rewards per step of sampled episodes of the game's own length, the
disagreement profile defaults to ``(0, 0)`` (Appendix B.2 for the Coin Game and the
ABCG: cooperation failure as both players racing for every coin, or as mutual
punishment), and ``max w`` is the best value of ``w`` observed in any cell of the
cross-play (reported as ``"source": "best observed"``), so a score of 1 means "as good
as the best profile seen", not the game's optimum; trajectory welfare uses
``gamma = 0.96`` (C.1). No Pareto slack is computed there (the feasible set is not
known); each cell carries the environment's episode metrics (``episode_metrics``, means
over the episodes, e.g. the coins each player took).

Group means, and each family pair's mean score in the family table, come with
percentile-bootstrap confidence intervals over their cells (``scipy.stats.bootstrap``).
Appendix E's bound (1), ``V_i(pi^w_1, pi^{w'}_2) <= min(V_i(pi^w), V_i(pi^{w'}))``, is
checked in every cross-play cell between agents that each optimise one welfare function
(different ones) against the two seeds' self-play values. Seeds a learner reports as
diverged are discarded and listed, never averaged in. With ``min_selfplay``, so are seeds
whose self-play cell scores below it (the paper's code keeps only runs above a self-play
reward threshold, silently; here each is listed with its seed number and score,
``discarded_selfplay``, and its cells leave the groups, the table, the bound and the
figure -- each cell says whether it was ``scored``; a family left with no seed leaves
the table; ``max w`` still counts every cell played).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from spielplatz.equilibria.welfare_optimum import disagreement_point, pareto_slack
from spielplatz.errors import SpielplatzError
from spielplatz.learning.agents import (agent, check_trained_on, discounted_average,
                                        has_exact_values, play_many)
from spielplatz.learning.scoring import ObservedOptimum, Scorer, _best, normalized_score

__all__ = ["CrossPlay", "cross_play", "Scorer", "ObservedOptimum", "normalized_score",
           "GROUPS", "DEFAULT_WELFARE", "ENVIRONMENT_GAMMA"]

GROUPS = ("self-play", "same welfare", "different welfare")
#: The score's welfare functions when no agent declares any (the paper's pair, C.1).
DEFAULT_WELFARE = ("utilitarian", "inequity_averse")
#: A cell counts as below the Pareto frontier when some feasible payoff is better for both
#: players by more than this fraction of the payoff range (learned stochastic policies sit
#: a hair below it; the exact slack of every cell is in ``cells[k]["pareto_slack"]``).
FRONTIER_TOL = 0.01
#: Discount of trajectory welfare on ``jax_environment`` games (normative disagreement,
#: C.1: 0.96 for every algorithm and environment).
ENVIRONMENT_GAMMA = 0.96


@dataclass(eq=False)
class CrossPlay:
    """The result of :func:`cross_play` (``to_dict()`` is its JSON)."""

    game: str
    families: list
    welfare: tuple
    disagreement: np.ndarray
    optima: dict
    cells: list
    groups: dict
    table: dict
    bound: dict
    settings: dict
    meta: Any = field(default=None)

    def __str__(self) -> str:
        """A readable summary: the score per kind of pair and the family table."""
        lines = [f"cross-play on {self.game}: "
                 + ", ".join(f"{f['label']} ({f['seeds']} seeds)" for f in self.families)
                 + f"; welfare {'+'.join(self.welfare)}, disagreement "
                 + f"({', '.join(f'{x:g}' for x in np.ravel(self.disagreement))})"]
        for kind, g in self.groups.items():
            lo, hi = g["score_ci"]
            ci = "" if lo is None else f" [{lo:.3f}, {hi:.3f}]"
            lines.append(f"  {kind}: NormalizedScore {g['score']:.3f}{ci} over {g['cells']} "
                         f"cells")
        labels = self.table.get("families", [])
        for r, row in enumerate(labels):
            cells = [f"{c}: {self.table['score'][r][k]:.3f}" for k, c in enumerate(labels)]
            lines.append(f"  {row} (seat 1) vs " + ", ".join(cells))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        meta = self.meta.to_dict() if hasattr(self.meta, "to_dict") else self.meta
        return {"game": self.game, "families": self.families, "welfare": list(self.welfare),
                "disagreement": self.disagreement.tolist(), "max_welfare": self.optima,
                "groups": self.groups, "table": self.table, "bound": self.bound,
                "settings": self.settings, "cells": self.cells, "meta_game": meta}


def _bootstrap(x: np.ndarray, confidence: float, resamples: int, seed: int) -> list:
    x = np.asarray(x, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0:
        return [float(x.mean()), float(x.mean())] if len(x) else [None, None]
    from scipy.stats import bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=resamples,
                        method="percentile", random_state=np.random.default_rng(seed))
    return [float(res.confidence_interval.low), float(res.confidence_interval.high)]


def _family_agents(label: str, run: Any, game: Any) -> tuple:
    check_trained_on(run, game, label)
    discarded = [int(s) for s, _ in getattr(run, "diverged_seeds", ())]
    kept = run.without_diverged() if discarded else run
    if not kept.seeds:
        raise SpielplatzError(f"{label}: every seed diverged ({len(discarded)} discarded)")
    pairs = [(agent(kept, i, 0), agent(kept, i, 1)) for i in range(len(kept.seeds))]
    return pairs, discarded, [int(x) for x in kept.seeds]


def cross_play(game: Any, families: Sequence[tuple], *, welfare: Any = None,
               disagreement: Any = None, episodes: int = 32, horizon: int = 100,
               seed: int = 0, confidence: float = 0.95, resamples: int = 2000,
               welfare_params: dict | None = None,
               min_selfplay: float | None = None) -> CrossPlay:
    """Cross-play of ``families`` (``(label, run)`` pairs) on the iterated game ``game``.

    Raises
    ------
    SpielplatzError
        A run without agents, agents trained on another game, an unknown or empty
        welfare set (one line each).
    """
    environment = not hasattr(game, "payoffs")
    if environment:
        payoffs, gamma, horizon = None, 1.0, int(game.horizon)
    else:
        payoffs = np.asarray(game.payoffs, dtype=float)
        gamma = float(np.asarray(getattr(game, "gamma", 1.0)))
    if disagreement is not None:
        d = np.broadcast_to(np.asarray(disagreement, dtype=float), (2,)).copy()
    else:
        d = np.zeros(2) if environment else disagreement_point(payoffs)
    members, fam_info = [], []
    for f, (label, run) in enumerate(families):
        pairs, discarded, numbers = _family_agents(label, run, game)
        members += [(f, i, p) for i, p in enumerate(pairs)]
        fam_info.append({"label": label, "learner": run.learner, "seeds": len(pairs),
                         "seed_numbers": numbers, "discarded_seeds": discarded})
    declared = [tuple(p[0].info["W"]) for _, _, p in members
                if isinstance(p[0].info, dict) and p[0].info.get("W")]
    if welfare is None:
        names = list(dict.fromkeys(n for w in declared for n in w)) or list(DEFAULT_WELFARE)
        welfare = "+".join(names)
    scorer = Scorer(welfare, payoffs, d, horizon=horizon,
                    params={"gamma": ENVIRONMENT_GAMMA if environment else gamma,
                            **(welfare_params or {})})
    functions = scorer.functions

    # every seat-1 agent against every seat-2 agent
    index = [(r, c) for r in range(len(members)) for c in range(len(members))]
    pairs = [(members[r][2][0], members[c][2][1]) for r, c in index]
    trajectories = play_many(game, pairs, episodes=episodes, horizon=horizon, seed=seed,
                             keep_metrics=environment)
    ends: dict = {}
    if environment:
        trajectories, ends = trajectories
    sampled = discounted_average(trajectories, gamma)                     # [cells, E, 2]
    values = sampled.mean(axis=1)
    stderr = sampled.std(axis=1) / np.sqrt(max(episodes, 1))
    exact = {} if environment else _exact_values(game, pairs)
    for n, v in exact.items():
        values[n], stderr[n] = v, 0.0
    if environment:
        scorer.observe(values, trajectories)
    optima = scorer.optima

    self_index = {r: index.index((r, r)) for r in range(len(members))}
    labels = []
    for r, (_, _, p) in enumerate(members):
        info = p[0].info if isinstance(p[0].info, dict) else {}
        if info.get("W"):
            labels.append((tuple(info["W"]), "declared"))
        else:
            v = values[self_index[r]]
            near = min(optima, key=lambda k: float(np.linalg.norm(optima[k].value - v)))
            labels.append(((near,), "nearest optimum"))

    cells = []
    for n, (r, c) in enumerate(index):
        (fr, ir, _), (fc, ic, _) = members[r], members[c]
        kind = ("self-play" if r == c else
                "same welfare" if set(labels[r][0]) == set(labels[c][0]) else
                "different welfare")
        normalized = scorer.normalized(values[n], trajectories[n])
        cells.append({"row": [fam_info[fr]["label"], ir], "col": [fam_info[fc]["label"], ic],
                      "kind": kind, "values": values[n].tolist(), "stderr": stderr[n].tolist(),
                      "normalized": normalized, "score": _best(normalized),
                      "pareto_slack": (None if environment
                                       else pareto_slack(payoffs, values[n])),
                      "welfare": [list(labels[r][0]), list(labels[c][0])],
                      **({"episode_metrics": {k: np.asarray(v[n], dtype=float).mean(axis=0)
                                              .tolist() for k, v in ends.items()}}
                         if environment else {})})
    for r, (_, ir, _) in enumerate(members):
        fam_info[members[r][0]].setdefault("welfare", []).append(
            {"seed": ir, "W": list(labels[r][0]), "source": labels[r][1]})

    span = float(np.ptp(values if environment else payoffs)) or 1.0
    kept = _selfplay_filter(min_selfplay, members, fam_info, cells, self_index)
    chosen = [n for n, (r, c) in enumerate(index) if kept[r] and kept[c]]
    scored = set(chosen)
    for n, cell in enumerate(cells):
        cell["scored"] = n in scored
    groups = _groups([cells[n] for n in chosen], confidence, resamples, seed,
                     FRONTIER_TOL * span)
    table = _table([cells[n] for n in chosen], fam_info, confidence, resamples, seed)
    bound = _bound(cells, index, self_index, labels, values, stderr, span, scored)
    settings = {"episodes": int(episodes), "horizon": int(horizon), "seed": int(seed),
                "confidence": float(confidence), "resamples": int(resamples),
                "frontier_tolerance": FRONTIER_TOL,
                "gamma": gamma, "exact_cells": len(exact), "cells": len(cells),
                "cells_scored": len(chosen), "min_selfplay": min_selfplay,
                "max_welfare": "best observed" if environment else "exact"}
    return CrossPlay(str(game.name), fam_info, tuple(w.name for w in functions), d,
                     {k: o.to_dict() for k, o in optima.items()}, cells, groups, table, bound,
                     settings)


def _selfplay_filter(threshold: float | None, members: list, families: list, cells: list,
                     self_index: dict) -> list:
    """Which members stay (``[bool]``): those whose self-play cell scores at least
    ``threshold``; the others are listed in their family's ``discarded_selfplay``."""
    kept = [True] * len(members)
    for fam in families:
        fam["discarded_selfplay"] = []
    for r, (f, i, _) in enumerate(members):
        score = cells[self_index[r]]["score"]
        if threshold is not None and score < threshold:
            kept[r] = False
            families[f]["discarded_selfplay"].append(
                {"seed": families[f]["seed_numbers"][i], "index": i, "score": float(score)})
    for fam in families:
        fam["seeds_scored"] = fam["seeds"] - len(fam["discarded_selfplay"])
    if not any(kept):
        raise SpielplatzError(f"every seed's self-play scored below min_selfplay "
                              f"{threshold:g}; nothing is left to score")
    return kept


def _exact_values(game: Any, pairs: list) -> dict:
    """Closed-form average rewards of the memory-one pairs (one vmapped call)."""
    chosen = [n for n, (a, b) in enumerate(pairs) if has_exact_values(game, a, b)]
    if not chosen:
        return {}
    import jax
    import jax.numpy as jnp

    p1 = jnp.asarray(np.stack([pairs[n][0].params for n in chosen]))
    p2 = jnp.asarray(np.stack([pairs[n][1].params for n in chosen]))
    with jax.enable_x64(True):
        g64 = game.as_float64()
        out = np.asarray(jax.vmap(lambda a, b: g64.average_rewards((a, b)))(
            p1.astype(jnp.float64), p2.astype(jnp.float64)), dtype=float)
    return dict(zip(chosen, out))


def _groups(cells: list, confidence: float, resamples: int, seed: int, below: float) -> dict:
    out = {}
    for g in GROUPS:
        chosen = [c for c in cells if c["kind"] == g]
        if not chosen:
            continue
        scores = np.array([c["score"] for c in chosen])
        values = np.array([c["values"] for c in chosen])
        out[g] = {"cells": len(chosen), "score": float(scores.mean()),
                  "score_ci": _bootstrap(scores, confidence, resamples, seed),
                  "score_stderr": float(scores.std() / np.sqrt(len(scores))),
                  "values": values.mean(axis=0).tolist(),
                  "values_ci": [_bootstrap(values[:, i], confidence, resamples, seed)
                                for i in range(2)],
                  "below_frontier": (None if chosen[0]["pareto_slack"] is None else
                                     int(sum(c["pareto_slack"] > below for c in chosen)))}
    return out


def _table(cells: list, families: list, confidence: float, resamples: int,
           seed: int) -> dict:
    """Family x family means (row: seat 1, column: seat 2) over independently built agents
    (self-play cells only where a family has one seed), with the score's bootstrap
    confidence interval over each pair's cells (``score_ci [k][k]``: ``[low, high]``)."""
    # a family none of whose seeds is scored (min_selfplay) has no row or column
    labels = [f["label"] for f in families if f["seeds_scored"]]
    k = len(labels)
    sums = np.zeros((2, k, k))
    scores: list = [[[] for _ in range(k)] for _ in range(k)]
    single = {f["label"] for f in families if f["seeds_scored"] == 1}
    for c in cells:
        r, s = labels.index(c["row"][0]), labels.index(c["col"][0])
        if c["kind"] == "self-play" and c["row"][0] not in single:
            continue
        sums[:, r, s] += c["values"]
        scores[r][s].append(c["score"])
    counts = np.array([[len(x) for x in row] for row in scores], dtype=float).reshape(k, k)
    return {"families": labels, "values": (sums / counts).tolist(),
            "score": [[float(np.mean(x)) if x else float("nan") for x in row]
                      for row in scores],
            "score_ci": [[_bootstrap(np.array(x), confidence, resamples, seed) for x in row]
                         for row in scores],
            "cells": counts.astype(int).tolist()}


def _bound(cells: list, index: list, self_index: dict, labels: list, values: np.ndarray,
           stderr: np.ndarray, span: float, scored: set) -> dict:
    """Appendix E (1) in the cross-play cells between single-welfare agents of different
    welfare functions; tolerance: three standard errors plus 1e-9 of the payoff range."""
    checked, held, violations = 0, 0, []
    tol0 = 1e-9 * span
    for n, (r, c) in enumerate(index):
        if n not in scored:                           # a discarded seed's cell
            continue
        (wr, _), (wc, _) = labels[r], labels[c]
        if r == c or len(wr) != 1 or len(wc) != 1 or wr == wc:
            continue
        a, b = self_index[r], self_index[c]
        bound = np.minimum(values[a], values[b])
        tol = 3 * (stderr[n] + stderr[a] + stderr[b]) + tol0
        checked += 1
        if np.all(values[n] <= bound + tol):
            held += 1
        else:
            violations.append({"cell": n, "values": values[n].tolist(),
                               "bound": bound.tolist()})
    return {"checked": checked, "held": held, "violations": violations}
