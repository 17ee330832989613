"""amTFT(w) and amTFT(W) on ``jax_environment`` games: trained parts (the Coin Games).

Normative disagreement, Sections 4.1 and 5.1, Appendix C.1. Per seed, with the host's
A2C with V-trace (:mod:`spielplatz.learning.actor_critic`), ``steps`` updates each:

* one cooperative profile per welfare function in W: utilitarian -- both players learn
  the total reward; inequity-averse -- both learn C.1's welfare step by step
  (:class:`~spielplatz.learning.actor_critic.InequityAverseRewards`);
* with ``-o coop=joint`` instead one joint-action network per welfare function (the
  host's :class:`~spielplatz.learning.environments.JointActions`: one player choosing
  both moves, paid the welfare), a correlated profile the agents play through a public
  draw (:mod:`spielplatz_amtft.policy_env`); ``-o coop_steps`` sets the cooperative
  profiles' updates apart from ``steps``, ``-o ia_steps`` the inequity-averse one's; with
  ``-o ia_warm_start=true`` the inequity-averse joint network starts from the seed's
  utilitarian one (trained first) and trains ``ia_steps`` more updates on C.1's welfare;
* per seat a punishment network: that seat learns minus the opponent's reward while the
  opponent learns its own (C.1's punishment policy: minimise the opponent's reward,
  trained against an opponent that defends itself);
* a selfish profile (both learn their own reward): the "naive" opponents the learner's
  report plays the agents against.

Every profile of one reward mixing trains in one compiled run (the host's ``train``
takes a mixing matrix per run); run ``m`` of seed ``s`` uses the key of seed
``s * 16 + m``. The opponent's loss per punished step (the punishment length's input)
is estimated from ``episodes`` rollouts of length ``rollout`` (C.1: 20) from the start:
the opponent's mean reward per step in the cooperative profile minus against the
punishment network (the opponent playing the selfish network it was trained with).

The run's agents are ``amtft_net`` agents (:mod:`spielplatz_amtft.policy_env`); its
``final`` holds each seed's self-play rewards, own-coin rate and events, and the
reward of the selfish opponent against the amTFT agent and against the bare
cooperative network of the same seat ("naive cooperator"), with the amTFT agent's
events in the former (``events_vs_selfish``: defections detected, punished steps).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from spielplatz.equilibria.welfare_functions import welfare_set
from spielplatz.errors import SpielplatzError
from spielplatz.results import Run

from .learner import EVENTS, first_functions, log_metrics, preference_weights

__all__ = ["learn_environment", "ENV_WELFARE"]

#: Welfare functions with a trained cooperative profile on environments.
ENV_WELFARE = ("utilitarian", "inequity_averse")
#: Runs per seed (see the module docstring): one per mixing.
_STRIDE = 16
_MIXINGS = {"utilitarian": [[1.0, 1.0], [1.0, 1.0]],
            "punish_1": [[0.0, -1.0], [0.0, 1.0]],
            "punish_2": [[1.0, 0.0], [-1.0, 0.0]],
            "selfish": [[1.0, 0.0], [0.0, 1.0]],
            "joint": [[1.0]]}        # one player over joint actions (coop=joint)


def _config(opts: dict, coop: bool = False) -> Any:
    from spielplatz.learning.actor_critic import ActorCriticConfig

    # D3C's Table 2 (entropy 0.003, discount 0.98) unless the cooperative profiles differ
    entropy = float(opts.get("coop_entropy", 0.003)) if coop else 0.003
    discount = float(opts.get("coop_discount", 0.98)) if coop else 0.98
    return ActorCriticConfig(learning_rate=float(opts["lr"]), unroll_length=int(opts["unroll"]),
                             num_envs=int(opts["envs"]), entropy_cost=entropy,
                             discount=discount)


def _nets(params: Any, run: int, seat: int) -> Any:
    import jax

    return jax.tree_util.tree_map(lambda x: np.asarray(x[run, seat]), params)


def _a2c(net: Any, seat: int) -> Any:
    from spielplatz.learning.agents import Agent

    return Agent("a2c", {"net": net, "seat": float(seat)}, player=seat)


def _train(env: Any, opts: dict, seeds: tuple, names: list, steps: int,
           progress: Callable | None, coop: bool = False, start: Any = None) -> tuple:
    """Train the profiles ``names`` (keys of ``_MIXINGS``) for every seed in one run:
    ``(params [seeds * len(names), 2, ...], diverged [seeds * len(names)])``; ``start``
    (``[seeds * len(names), players, ...]``): the networks to continue from."""
    import jax

    from spielplatz.learning.actor_critic import train

    run_seeds = [s * _STRIDE + m for s in seeds for m in range(len(names))]
    mixing = np.stack([np.asarray(_MIXINGS[n]) for _ in seeds for n in names])
    _, stats, state = train(env, _config(opts, coop), seeds=run_seeds, steps=steps,
                            records=min(10, steps), mixing=mixing, progress=progress,
                            params=start)
    params = jax.tree_util.tree_map(np.asarray, state.params)
    finite = np.all([np.all(np.isfinite(x.reshape(len(run_seeds), -1)), axis=1)
                     for x in jax.tree_util.tree_leaves(params)], axis=0)
    finite &= np.all(np.isfinite(np.asarray(stats["loss"]).reshape(len(run_seeds), -1)),
                     axis=1)
    return params, ~finite


def _own_seeds(seeds: tuple, offset: int) -> tuple:
    """Run seeds of a profile trained on its own: slot ``_STRIDE - offset`` of each seed
    (1: inequity-averse, 2: utilitarian), clear of the mixing run's slots."""
    return tuple(s * _STRIDE + _STRIDE - offset for s in seeds)


def _train_joint(env: Any, opts: dict, seeds: tuple, offset: int, steps: int,
                 start: list | None = None) -> tuple:
    """One joint-action network per seed (``coop=joint``): ``([[net, net]] per seed,
    diverged [seeds])``; both seats hold the same network (the correlated profile).
    ``start``: per seed a ``[net, net]`` pair to continue from."""
    import jax

    if start is not None:
        start = jax.tree_util.tree_map(lambda *x: np.stack(x)[:, None],
                                       *[pair[0] for pair in start])
    params, bad = _train(env, opts, _own_seeds(seeds, offset), ["joint"], steps, None,
                         coop=True, start=start)
    nets = [_nets(params, i, 0) for i in range(len(seeds))]
    return [[net, net] for net in nets], bad


def _cooperator(players: list, i: int, seat: int, j: int) -> Any:
    """Seed ``i``'s amTFT agent of ``seat`` held to welfare function ``j`` and never
    punishing: its part of the cooperative profile (how ``coop=joint`` profiles play)."""
    import jax

    from spielplatz.learning.agents import Agent

    params = jax.tree_util.tree_map(lambda x: np.array(x[i]), players[seat])
    weights = np.zeros_like(params["weights"])
    weights[j] = 1.0
    params.update(weights=weights, start=np.float64(j), threshold=np.float64(1e30))
    return Agent("amtft_net", params, player=seat)


def _opponent_reward(game: Any, pairs: list, seat: int, opts: dict, seed: int) -> np.ndarray:
    """Mean reward per step of ``seat`` in each pair over rollouts of length ``rollout``."""
    from spielplatz.learning.agents import play_many

    rewards = play_many(game, pairs, episodes=int(opts["episodes"]),
                        horizon=int(opts["rollout"]), seed=seed)
    return rewards[..., seat].mean(axis=(1, 2))


def learn_environment(game: Any, opts: dict, steps: int, seeds: tuple,
                      progress: Callable | None = None) -> Run:
    """The ``amtft`` learner on a ``jax_environment`` game (see the module docstring)."""
    from spielplatz.learning.actor_critic import InequityAverseRewards
    from spielplatz.learning.environments import JointActions

    start = time.perf_counter()
    functions = welfare_set(opts["W"])
    names = [f.name for f in functions]
    refused = [n for n in names if n not in ENV_WELFARE]
    if refused:
        raise SpielplatzError(f"amtft on {game.name}: no trained cooperative profile for "
                              f"{', '.join(refused)}; on environments W may hold "
                              f"{', '.join(ENV_WELFARE)} (util, ia)")
    k = len(names)
    weights = preference_weights(opts, k)
    n = len(seeds)

    joint = opts.get("coop", "pair") == "joint"
    symmetrize = bool(opts.get("symmetrize", False))
    if symmetrize and not joint:
        raise SpielplatzError("symmetrize needs coop=joint (a joint-action profile)")
    temperature = float(opts.get("coop_temperature", 1.0))
    if temperature != 1.0 and not joint:
        raise SpielplatzError("coop_temperature needs coop=joint (a joint-action profile)")
    if symmetrize and not callable(getattr(game, "symmetries", None)):
        raise SpielplatzError(f"symmetrize: {game.name} declares no symmetries()")
    coop_steps = int(opts.get("coop_steps") or steps)
    warm = bool(opts.get("ia_warm_start", False))
    if warm and not joint:
        raise SpielplatzError("ia_warm_start needs coop=joint (a joint-action profile)")
    if warm and "inequity_averse" not in names:
        raise SpielplatzError("ia_warm_start: W holds no inequity-averse welfare function")
    if opts.get("ia_steps") is not None and "inequity_averse" not in names:
        raise SpielplatzError("ia_steps: W holds no inequity-averse welfare function")
    ia_steps = int(opts.get("ia_steps") or coop_steps)
    # -- training: the mixing profiles in one run, the inequity-averse one in another --
    # the utilitarian profile trains on its own when its settings differ from the others'
    apart = joint or coop_steps != steps or _config(opts, True) != _config(opts)
    profiles = (["utilitarian"] if "utilitarian" in names and not apart else []) + [
        "punish_1", "punish_2", "selfish"]
    # a utilitarian joint profile of its own: W holds it, or the ia warm start needs it
    util_run = ("utilitarian" in names and apart) or warm
    total_runs = len(profiles) + ("inequity_averse" in names) + util_run
    params, diverged = _train(game, opts, seeds, profiles, steps, None)
    if progress is not None:
        progress(len(profiles), total_runs)
    per = len(profiles)
    coop: dict = {}
    bad = np.zeros(n, bool)
    for i in range(n):
        bad[i] = diverged[i * per:(i + 1) * per].any()
    if "utilitarian" in names and not apart:
        coop["utilitarian"] = [[_nets(params, i * per + profiles.index("utilitarian"), s)
                                for s in (0, 1)] for i in range(n)]
    elif util_run:
        if joint:
            util, bad_u = _train_joint(JointActions(game, reward="total"), opts, seeds, 2,
                                       coop_steps)
        else:
            u_params, bad_u = _train(game, opts, _own_seeds(seeds, 2), ["utilitarian"],
                                     coop_steps, None, coop=True)
            util = [[_nets(u_params, i, s) for s in (0, 1)] for i in range(n)]
        if "utilitarian" in names:
            coop["utilitarian"] = util
        bad |= bad_u
        if progress is not None:
            progress(len(profiles) + 1, total_runs)
    punish = [[_nets(params, i * per + profiles.index(f"punish_{s + 1}"), s)
               for s in (0, 1)] for i in range(n)]
    # the opponent each punisher trained against (its own selfish learner)
    defend = [[_nets(params, i * per + profiles.index(f"punish_{2 - s}"), s)
               for s in (0, 1)] for i in range(n)]
    selfish = [[_nets(params, i * per + profiles.index("selfish"), s) for s in (0, 1)]
               for i in range(n)]
    if "inequity_averse" in names:
        ia_env = InequityAverseRewards(game, gamma=float(opts["gamma"]),
                                       smoothing=float(opts["smoothing"]),
                                       beta=float(opts["beta"]))
        if joint:
            coop["inequity_averse"], ia_bad = _train_joint(
                JointActions(ia_env, reward="first"), opts, seeds, 1, ia_steps,
                util if warm else None)
        else:
            ia_params, ia_bad = _train(ia_env, opts, _own_seeds(seeds, 1), ["selfish"],
                                       ia_steps, None, coop=True)
            coop["inequity_averse"] = [[_nets(ia_params, i, s) for s in (0, 1)]
                                       for i in range(n)]
        if progress is not None:
            progress(total_runs, total_runs)
        bad |= ia_bad

    gamma = float(opts["gamma"])
    starts = first_functions(opts, weights, seeds)
    players = []
    for seat in (0, 1):
        import jax

        stack = lambda trees: jax.tree_util.tree_map(lambda *x: np.stack(x), *trees)  # noqa
        own = [stack([coop[name][i][seat] for name in names]) for i in range(n)]
        opp = [stack([coop[name][i][1 - seat] for name in names]) for i in range(n)]
        players.append({
            "coop": stack(own), "coop_opp": stack(opp),
            "punish": stack([punish[i][seat] for i in range(n)]),
            "weights": np.broadcast_to(weights, (n, k)).copy(),
            "start": starts.astype(float), "seat": np.full(n, float(seat)),
            "loss": np.zeros((n, k)), "threshold": np.full(n, float(opts["threshold"])),
            "alpha": np.full(n, float(opts["alpha"])),
            "rollout": np.full(n, float(opts["rollout"])), "gamma": np.full(n, gamma),
            "debit_own": np.full(n, float(opts["debit"] == "own_loss"))})
        if opts["debit"] == "welfare_value":      # policy_env's welfare-value reading
            players[-1].update({
                "debit_value": np.ones(n),
                "ia_beta": np.broadcast_to([float(opts["beta"]) if name == "inequity_averse"
                                            else 0.0 for name in names], (n, k)).copy(),
                "smoothing": np.full(n, float(opts["smoothing"])),
                "critic_gamma": np.full(n, _config(opts, True).discount)})
        if joint:                                 # policy_env's correlated-profile reading
            players[-1]["joint"] = np.ones(n)
            if temperature != 1.0:                # ... drawn at this temperature
                players[-1]["temperature"] = np.full(n, temperature)
        if symmetrize:                            # ... averaged over the game's symmetries
            cells, moves = game.symmetries()
            players[-1]["sym_cells"] = np.broadcast_to(cells, (n, *cells.shape)).astype(float)
            players[-1]["sym_actions"] = np.broadcast_to(moves, (n, *moves.shape)).astype(float)
    # -- the punishment length's input: the opponent's loss per punished step ---------
    loss = np.zeros((n, 2, k))
    for seat in (0, 1):
        opp = 1 - seat
        punished = []
        for i in range(n):
            pair = [None, None]
            pair[seat], pair[opp] = _a2c(punish[i][seat], seat), _a2c(defend[i][opp], opp)
            punished.append(tuple(pair))
        hurt = _opponent_reward(game, punished, opp, opts, seed=int(seeds[0]))
        for j, name in enumerate(names):
            pairs = [(_cooperator(players, i, 0, j), _cooperator(players, i, 1, j)) if joint
                     else (_a2c(coop[name][i][0], 0), _a2c(coop[name][i][1], 1))
                     for i in range(n)]
            base = _opponent_reward(game, pairs, opp, opts, seed=int(seeds[0]) + 1)
            loss[:, seat, j] = np.maximum(base - hurt, 1e-3)
    for seat in (0, 1):
        players[seat]["loss"] = loss[:, seat]

    info = [{"W": names, "start": names[s]} for s in starts]
    final, metrics = _report(game, players, coop, selfish, names, seeds, opts)
    config = {**opts, "W": names, "gamma": gamma, "profiles": profiles + (
        ["utilitarian"] if util_run else []) + (
        ["inequity_averse"] if "inequity_averse" in names else []),
        "coop_steps": coop_steps,
        **({"ia_steps": ia_steps} if "inequity_averse" in names else {}),
        "divergence": "a non-finite loss or parameter in any of the seed's trainings"}
    return Run(learner="amtft", game=str(game.name), config=config, seeds=seeds,
               metrics=metrics, steps=np.arange(1, metrics["reward_1"].shape[1] + 1),
               final=final, wall_time=time.perf_counter() - start,
               diverged=tuple(bool(b) for b in bad),
               diverged_step=tuple(steps if b else None for b in bad),
               agents={"kind": "amtft_net", "game": str(game.name),
                       "learners": ["amtft", "amtft"], "players": players, "info": info})


def _seed_agent(players: list, i: int, seat: int) -> Any:
    import jax

    from spielplatz.learning.agents import Agent

    return Agent("amtft_net", jax.tree_util.tree_map(lambda x: x[i], players[seat]),
                 player=seat)


def _report(game: Any, players: list, coop: dict, selfish: list, names: list, seeds: tuple,
            opts: dict) -> tuple:
    """Self-play of the amTFT agents (rewards, own-coin rate, events) and the selfish
    opponent's reward against the amTFT agent and against the bare cooperative network."""
    from spielplatz.learning.agents import play_many
    from spielplatz.learning.games import derived_metrics

    n, episodes, horizon = len(seeds), int(opts["episodes"]), int(game.horizon)
    pairs = [(_seed_agent(players, i, 0), _seed_agent(players, i, 1)) for i in range(n)]
    rewards, (m1, m2), ends = play_many(game, pairs, episodes=episodes, horizon=horizon,
                                        seed=int(seeds[0]), keep_states=True,
                                        keep_metrics=True)
    counts = m1["events"] + m2["events"]                              # [n, E, T, 3]
    events = np.diff(counts, axis=2, prepend=0).astype(float)
    recorded = np.unique(np.linspace(0, horizon - 1, min(opts["records"], horizon)).astype(int))
    metrics, event_totals = log_metrics(rewards, events, recorded)
    final: dict = {"reward": rewards.mean(axis=(1, 2)), "events": event_totals}   # [n, 2]
    ends = {k: np.asarray(v, dtype=float).sum(axis=1) for k, v in ends.items()}  # episodes
    for name, value in derived_metrics(game, ends, over_players=True).items():
        final[name] = value                                   # [n], e.g. own_coin_rate
        metrics[name] = np.repeat(value[:, None], len(recorded), axis=1)
    # the selfish opponent (seat 2) against amTFT and against the naive cooperator
    first = names[0]
    vs, (mine, _) = play_many(game, [(_seed_agent(players, i, 0), _a2c(selfish[i][1], 1))
                                     for i in range(n)],
                              episodes=episodes, horizon=horizon, seed=int(seeds[0]) + 7,
                              keep_states=True)
    naive = play_many(game, [(_cooperator(players, i, 0, 0) if "joint" in players[0]
                              else _a2c(coop[first][i][0], 0), _a2c(selfish[i][1], 1))
                             for i in range(n)],
                      episodes=episodes, horizon=horizon, seed=int(seeds[0]) + 7)
    final["selfish_vs_amtft"] = vs.mean(axis=(1, 2))                     # [n, 2]
    final["selfish_vs_naive"] = naive.mean(axis=(1, 2))
    final["events_vs_selfish"] = {name: mine["events"][:, :, -1, e].mean(axis=1)
                                  for e, name in enumerate(EVENTS)}
    final["W"] = names
    return final, metrics
