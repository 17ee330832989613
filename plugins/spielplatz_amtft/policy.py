"""The ``amtft`` policy kind: amTFT(W) as a pure JAX policy (init, act).

Normative disagreement, Section 4.1 (amTFT(w)), Section 5.1 (amTFT(W)) and Appendix C.1,
after Lerer and Peysakhovich's approximate Markov tit-for-tat. One agent's parameters:

* ``schedules [SLOTS, PERIOD]``: per welfare function of its set W, the public schedule of
  joint profiles that realises the cooperative lottery optimal for it (row-major joint
  action index, step ``t`` plays column ``t mod PERIOD``); unused slots repeat slot 0;
* ``weights [SLOTS]``: re-sampling probabilities over W (zero on unused slots);
* ``start``: the slot it starts with; ``seat``: 0 or 1;
* ``payoffs [2, A_1, A_2]``: the stage game (amTFT knows the opponent's rewards, 4.1);
* ``punish [A_max]``: the mixed strategy minimising the opponent's best reply (C.1's
  punishment policy), zero-padded;
* ``loss [SLOTS]``: the opponent's loss per punished step against cooperation under
  each w (cooperative value minus its best reply to the punishment);
* ``threshold``, ``alpha``, ``rollout``, ``gamma``: a defection is detected when the
  debit exceeds ``threshold``; the punishment lasts the fewest steps ``k <= rollout``
  whose discounted loss ``loss_w (1 - gamma^k) / (1 - gamma)`` reaches ``alpha`` times
  the debit (the rollout of length 20 of C.1, computed exactly: a matrix game needs no
  sampling).

Each step, from the previous joint action (the observation), unless it was punishing:
(1) if the opponent did not play its part of the current w's schedule but did play its
part under another w' in W, the agent re-samples w from ``weights`` (normative
disagreement, not defection: Section 5.1's first stage); (2) otherwise a deviation adds
to the debit the opponent's reward for its actual action minus its reward for the
simulated cooperative action, the agent's own action held fixed (C.1's debit without
rollouts; the debit never goes below zero), and a debit above the threshold starts a
punishment. The state counts the events: re-samples, defections detected, punished steps.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AMTFT", "SLOTS", "PERIOD", "MAX_ROLLOUT", "init", "act", "judge"]

#: Welfare functions one agent can hold (fixed, so that every agent has the same shapes).
SLOTS = 8
#: Length of the public schedule (divisible by 2, 3, 4, 5 and 6).
PERIOD = 60
#: Longest punishment (the ``rollout`` option's maximum).
MAX_ROLLOUT = 100


def init(params: Any, key: Any) -> dict:
    import jax.numpy as jnp

    del key
    zero = jnp.zeros((), jnp.int32)
    return {"w": jnp.asarray(params["start"]).astype(jnp.int32), "debit": jnp.zeros(()),
            "left": zero, "punishing": jnp.zeros((), bool), "t": zero,
            "events": jnp.zeros(3, jnp.int32)}


def _split(profile: Any, columns: int) -> tuple:
    return profile // columns, profile % columns


def _draw(probabilities: Any, u: Any) -> Any:
    """Index drawn from ``probabilities`` with the uniform number ``u`` (inverse CDF)."""
    import jax.numpy as jnp

    cdf = jnp.cumsum(probabilities)
    index = jnp.sum(cdf <= u * cdf[-1])
    return jnp.minimum(index, probabilities.shape[0] - 1).astype(jnp.int32)


def judge(params: Any, state: dict, charged: Any, gain: Any, w: Any) -> tuple:
    """The debit and the punishment (shared by both amTFT policy kinds): ``charged``
    deviations add ``gain`` to the debit (never below zero); a debit above ``threshold``
    starts a punishment of the fewest steps ``k <= rollout`` whose discounted loss
    ``loss_w (1 - gamma^k) / (1 - gamma)`` reaches ``alpha`` times the debit, and clears
    it. Returns ``(debit, steps left to punish, detected)``."""
    import jax.numpy as jnp

    debit = jnp.where(charged, jnp.maximum(state["debit"] + gain, 0.0), state["debit"])
    detect = debit > params["threshold"]
    ks = jnp.arange(1, MAX_ROLLOUT + 1)
    gamma = params["gamma"]
    loss = params["loss"][w] * (1 - gamma ** ks) / (1 - gamma)
    enough = (loss >= params["alpha"] * debit) & (ks <= params["rollout"])
    length = jnp.where(enough.any(), ks[jnp.argmax(enough)],
                       jnp.asarray(params["rollout"]).astype(ks.dtype))
    left = jnp.where(detect, length, state["left"]).astype(jnp.int32)
    return jnp.where(detect, 0.0, debit), left, detect


def act(params: Any, state: dict, obs: Any, key: Any) -> tuple:
    import jax
    import jax.numpy as jnp

    payoffs = params["payoffs"]
    cols = payoffs.shape[2]
    seat = jnp.asarray(params["seat"]).astype(jnp.int32)
    schedules = params["schedules"].astype(jnp.int32)
    weights = params["weights"]
    w, t = state["w"], state["t"]
    u_resample, u_punish = jax.random.uniform(key, (2,))      # one draw each, by inverse CDF

    # the previous joint action and what the opponent should have played under each w
    prev_a1, prev_a2 = _split(jnp.maximum(obs - 1, 0), cols)
    own_prev = jnp.where(seat == 0, prev_a1, prev_a2)
    opp_prev = jnp.where(seat == 0, prev_a2, prev_a1)
    c1, c2 = _split(schedules[:, (t - 1) % schedules.shape[1]], cols)
    opp_coop = jnp.where(seat == 0, c2, c1)                                    # [SLOTS]
    judged = (t > 0) & ~state["punishing"]
    deviated = judged & (opp_prev != opp_coop[w])
    other = (weights > 0) & (opp_coop == opp_prev) & (opp_coop != opp_coop[w])
    resample = deviated & other.any()
    new_w = jnp.where(resample, _draw(weights, u_resample), w)

    # C.1 debit: the opponent's reward for its action minus for the cooperative one
    opp_payoffs = jnp.where(seat == 0, payoffs[1], payoffs[0].T)       # [own, opponent]
    gain = opp_payoffs[own_prev, opp_prev] - opp_payoffs[own_prev, opp_coop[w]]
    debit, left, detect = judge(params, state, deviated & ~resample, gain, new_w)
    punishing = left > 0
    p_action = _draw(params["punish"], u_punish)
    own_coop = jnp.where(seat == 0, *(_split(schedules[new_w, t % schedules.shape[1]], cols)))
    action = jnp.where(punishing, p_action, own_coop).astype(jnp.int32)
    events = state["events"] + jnp.stack([resample, detect, punishing]).astype(jnp.int32)
    return action, {"w": new_w.astype(jnp.int32), "debit": debit,
                    "left": jnp.maximum(left - 1, 0), "punishing": punishing, "t": t + 1,
                    "events": events}


def _kind() -> Any:
    from spielplatz.learning.agents import PolicyKind

    return PolicyKind("amtft", init, act,
                      "amTFT(W): public cooperative schedules per welfare function, "
                      "re-sampling on normative disagreement, debit and punishment")


AMTFT = _kind()
