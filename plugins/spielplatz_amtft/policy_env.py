"""The ``amtft_net`` policy kind: amTFT(W) on ``jax_environment`` games (the Coin Games).

Normative disagreement, Sections 4.1 and 5.1, Appendix C.1, with trained parts instead
of the exact ones of :mod:`spielplatz_amtft.policy`. One agent's parameters:

* ``coop`` / ``coop_opp``: per welfare function of its set W (leading axis ``K``), the
  actor-critic networks of the cooperative profile trained on that welfare function, its
  own seat's and the opponent's (amTFT knows the jointly trained profile);
* ``punish``: its seat's punishment network, trained to minimise the opponent's reward
  (C.1's change to Lerer and Peysakhovich: not the selfish policy);
* ``weights [K]``: re-sampling probabilities over W; ``start``: the first w; ``seat``;
* ``loss [K]``: the opponent's loss per punished step against cooperation under each w,
  estimated by the learner from rollouts of length ``rollout`` (C.1: 20);
* ``threshold``, ``alpha``, ``rollout``, ``gamma`` as in the matrix version;
* ``debit_own``: 1 -- the debit counts what the deviation cost the agent itself, 0 --
  what it gained the opponent (as the matrix version); with ``debit_value`` among the
  parameters (the learner adds it for ``-o debit=welfare_value`` only), instead what the
  deviation cost the welfare w: one step's welfare plus ``critic_gamma`` times the agent's
  cooperative critic on the next state, actual against simulated; the inequity-averse
  step welfare uses ``ia_beta [K]``, ``smoothing`` and the agent's smoothed rewards, kept
  in its state as ``traces``. Without it, no critic runs and no traces are kept.

With ``joint`` among the parameters (``-o coop=joint``) the cooperative profile is one
joint-action network per w (``coop`` = ``coop_opp``, logits over ``a_0 * A + a_1`` on seat
0's view): a *correlated* profile. Each step every seat draws the profile's joint action
by inverse CDF at the public uniform :func:`spielplatz.learning.environments.public_uniform`
of the board and the step count (kept in the state as ``t``) and plays its own part;
the opponent's simulated cooperative action is its part of last step's draw, which in
self-play is exactly what it played (no false alarms). With ``temperature`` among the
parameters (``-o coop_temperature``) the draw is from the profile's log-probabilities
divided by it (after the symmetrization, when there is one). With ``greedy`` also among the
parameters (not set by the learner; for studies such as docs/learners.md's), each seat
plays its part of the network's most likely joint action instead of the draw.

The policy observes the game (``observes="game"``): every view, the state before the
last step, the last joint action and rewards, and the environment. Each step, unless it
was punishing: the opponent's *simulated cooperative action* is the most likely action
of its cooperative network under the current w on its previous view. (1) If the opponent
did not play it but played the most likely action under another w' in W, w is re-sampled
(normative disagreement, not defection: Section 5.1). (2) Otherwise a deviation adds to
the debit the difference of one step's rewards between the actual action and the
simulated cooperative action from the same state, the agent's own action held fixed --
the environment's ``step`` is called on the previous state (C.1: "the direct difference
between the rewards given by the actual action and given by the simulated cooperative
action", no rollouts; the debit never goes below zero). C.1 does not say whose rewards:
with ``debit_own`` (the default on environments) it is the agent's own reward had the
opponent cooperated minus its actual reward (a stolen coin costs 2); else the
opponent's actual reward minus its reward had it cooperated. The second reading also
charges an opponent that takes its *own* coin a step earlier than the agent's model of
its partner would have (+1), which is what independently trained partners do all the
time: measured on ``coins``, it turned cross-play between amTFT agents of different
seeds into mutual punishment (docs/learners.md). A debit above ``threshold``
starts a punishment of the fewest steps ``k <= rollout`` whose discounted loss
``loss_w (1 - gamma^k) / (1 - gamma)`` reaches ``alpha`` times the debit. The state
counts the events: re-samples, defections detected, punished steps.
"""

from __future__ import annotations

from typing import Any

from .policy import _draw, judge

__all__ = ["AMTFT_NET", "init", "act"]


def init(params: Any, key: Any) -> dict:
    import jax.numpy as jnp

    del key
    zero = jnp.zeros((), jnp.int32)
    state = {"w": jnp.asarray(params["start"]).astype(jnp.int32), "debit": jnp.zeros(()),
             "left": zero, "punishing": jnp.zeros((), bool), "events": jnp.zeros(3, jnp.int32)}
    if "debit_value" in params:
        state["traces"] = jnp.zeros(2)
    if "joint" in params:
        state["t"] = zero
    return state


def _apply(net: Any, view: Any) -> tuple:
    """``(logits, value)`` of an actor-critic network on one view."""
    import jax
    import jax.numpy as jnp

    from spielplatz.learning.networks import network_from_params

    net = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float32), net)
    logits, value, _ = network_from_params(net).apply({"params": net}, view, ())
    return logits, value


def _logits(net: Any, view: Any) -> Any:
    return _apply(net, view)[0]


def _step_welfare(params: Any, w: Any, rewards: Any, traces: Any) -> Any:
    """One step's welfare under ``w`` (C.1): ``r_1 + r_2`` minus, for the inequity-averse
    function, ``beta (1 - gamma) |e_1 - e_2|`` on the smoothed rewards ``traces``
    (the step reward its cooperative networks were trained on)."""
    import jax.numpy as jnp

    beta = params["ia_beta"][w]
    return rewards.sum() - beta * (1.0 - params["gamma"]) * jnp.abs(traces[0] - traces[1])


def _welfare_loss(params: Any, state: dict, obs: Any, w: Any, seat: Any, cf_views: Any,
                  cf_rewards: Any) -> tuple:
    """What the deviation cost the welfare ``w``: one step's welfare plus the discounted
    value of the next state under the agent's cooperative critic, simulated cooperative
    action against the actual one; and the smoothed rewards after this step."""
    import jax
    import jax.numpy as jnp

    decay = params["gamma"] * params["smoothing"]
    traces = jnp.where(obs.first, 0.0, decay * state["traces"] + obs.rewards)
    cf_traces = decay * state["traces"] + cf_rewards
    own_coop = jax.tree_util.tree_map(lambda x: x[w], params["coop"])
    seen = 0 if "joint" in params else seat        # a joint network sees seat 0's view
    v_actual = _apply(own_coop, obs.views[seen])[1]
    v_cf = _apply(own_coop, cf_views[seen])[1]
    loss = (_step_welfare(params, w, cf_rewards, cf_traces) + params["critic_gamma"] * v_cf
            - _step_welfare(params, w, obs.rewards, traces)
            - params["critic_gamma"] * v_actual)
    return loss, traces


def _symmetrized(net: Any, view: Any, cells: Any, moves: Any, num: int) -> Any:
    """Log-probabilities of the joint-action network averaged over the game's symmetries
    ``g`` (``cells [G, H*W]``: the cell each cell of ``g``'s view is read from; ``moves
    [G, A]``: ``g``'s image of each move): ``pi_sym(a | s) = mean_g pi(g a | g s)``."""
    import jax
    import jax.numpy as jnp

    cells = jnp.asarray(cells).astype(jnp.int32)
    moves = jnp.asarray(moves).astype(jnp.int32)
    flat = view.reshape(view.shape[0], -1)

    def one(src, move):
        seen = flat[:, src].reshape(view.shape)
        probs = jax.nn.softmax(_logits(net, seen))
        joint = (move[:, None] * num + move[None, :]).reshape(-1)        # g (a_0, a_1)
        return probs[joint]

    return jnp.log(jnp.mean(jax.vmap(one)(cells, moves), axis=0) + 1e-30)


def _recommend(params: Any, net: Any, view: Any, t: Any) -> Any:
    """The joint action ``[2]`` a joint-action network recommends on the board ``view`` at
    step ``t``: its most likely one (``greedy`` among the parameters) or the public draw."""
    import jax.numpy as jnp

    from spielplatz.learning.environments import (joint_recommendation, public_uniform,
                                                  split_joint)

    num = int(round(net["policy"]["bias"].shape[-1] ** 0.5))
    if "sym_cells" in params:
        logits = _symmetrized(net, view, params["sym_cells"], params["sym_actions"], num)
    else:
        logits = _logits(net, view)
    if "greedy" in params:
        return split_joint(jnp.argmax(logits), num)
    if "temperature" in params:
        logits = logits / params["temperature"]
    return joint_recommendation(logits, public_uniform(view, t), num)


def act(params: Any, state: dict, obs: Any, key: Any) -> tuple:
    import jax
    import jax.numpy as jnp

    seat = jnp.asarray(params["seat"]).astype(jnp.int32)
    opp = 1 - seat
    weights = params["weights"]
    w = state["w"]
    k_resample, k_cf, k_act = jax.random.split(key, 3)

    joint = "joint" in params           # a correlated profile: one joint-action network
    if joint:
        # what the profile recommended the opponent last step under each w: the same
        # public draw (the correlation device) the opponent made from the same board
        modes = jax.vmap(lambda net: _recommend(params, net, obs.previous_views[0],
                                                state["t"] - 1)[opp])(params["coop_opp"])
    else:
        # what the opponent's cooperative network under each w would have played
        opp_view = obs.previous_views[opp]
        modes = jnp.argmax(jax.vmap(lambda net: _logits(net, opp_view))(params["coop_opp"]),
                           axis=-1).astype(jnp.int32)                              # [K]
    played = obs.actions[opp]
    judged = ~obs.first & ~state["punishing"]
    deviated = judged & (played != modes[w])
    other = (weights > 0) & (modes == played) & (modes != modes[w])
    resample = deviated & other.any()
    new_w = jnp.where(resample, _draw(weights, jax.random.uniform(k_resample)), w)

    # C.1's debit: one step's rewards, actual against the simulated cooperative action
    simulated = obs.actions.at[opp].set(modes[w])
    _, cf_views, cf_rewards, _ = obs.env.step(obs.previous, simulated, k_cf)
    gain = jnp.where(params["debit_own"] > 0, cf_rewards[seat] - obs.rewards[seat],
                     obs.rewards[opp] - cf_rewards[opp])
    extra = {}
    if "debit_value" in params:                   # the welfare-value reading
        gain, extra["traces"] = _welfare_loss(params, state, obs, w, seat, cf_views,
                                              cf_rewards)
    debit, left, detect = judge(params, state, deviated & ~resample, gain, new_w)
    punishing = left > 0
    view = obs.views[seat]
    coop = jax.tree_util.tree_map(lambda x: x[new_w], params["coop"])
    punish = jax.random.categorical(k_act, _logits(params["punish"], view)).astype(jnp.int32)
    if joint:
        extra["t"] = state["t"] + 1
        cooperate = _recommend(params, coop, obs.views[0], state["t"])[seat]
    else:
        cooperate = jax.random.categorical(k_act, _logits(coop, view)).astype(jnp.int32)
    action = jnp.where(punishing, punish, cooperate)
    events = state["events"] + jnp.stack([resample, detect, punishing]).astype(jnp.int32)
    return action, {"w": new_w.astype(jnp.int32), "debit": debit,
                    "left": jnp.maximum(left - 1, 0), "punishing": punishing,
                    "events": events, **extra}


def _kind() -> Any:
    from spielplatz.learning.agents import PolicyKind

    return PolicyKind("amtft_net", init, act,
                      "amTFT(W) on environments: trained cooperative networks per welfare "
                      "function, a punishment network, debit by simulating the opponent's "
                      "cooperative action", observes="game")


AMTFT_NET = _kind()
