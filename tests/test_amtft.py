"""amTFT(w) and amTFT(W) on iterated matrix games (normative disagreement, Sections 4-5,
Appendices C.1 and E): coordination, exploitability, punishment, logged events."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.equilibria.welfare_optimum import pareto_slack
from spielplatz.learning.agents import Agent, agent, discounted_average, play_many

SETS = ("util", "ia", "util+ia", "egal", "nash", "util+egal", "ia+nash", "util+nash")
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def bos():
    return sp.load_game("iasymbos")


@pytest.fixture(scope="module")
def runs(bos):
    return {w: sp.learn(bos, "amtft", steps=40, seeds=SEEDS, W=w, episodes=2) for w in SETS}


@pytest.fixture(scope="module")
def endings(bos, runs):
    """Per ordered pair of sets, the last 20 stages' mean rewards of every seed pair and
    episode, ``[seed pairs * episodes, 2]`` (one compiled call for all pairs)."""
    keys = list(itertools.product(SETS, SETS))
    pairs, owner = [], []
    for a, b in keys:
        for i, j in itertools.product(range(len(SEEDS)), repeat=2):
            pairs.append((agent(runs[a], i, 0), agent(runs[b], j, 1)))
            owner.append((a, b))
    rewards = play_many(bos, pairs, episodes=4, horizon=100, seed=3)
    last = rewards[:, :, -20:, :].mean(axis=2)                 # [pairs, episodes, 2]
    return {k: np.concatenate([last[n] for n, o in enumerate(owner) if o == k]) for k in keys}


def _optimal_outcomes(run):
    return {tuple(np.round(o["value"], 9)) for o in run.final["optima"]}


def test_self_play_reaches_each_welfare_optimum(runs):
    expected = {"util": [4, 1], "ia": [2, 2], "egal": [2, 2], "nash": [3, 1.5]}
    for w, value in expected.items():
        run = runs[w]
        np.testing.assert_allclose(run.final["value"], np.tile(value, (len(SEEDS), 1)),
                                   atol=0.05)        # nash alternates: discounting tilts it
        assert run.final["events"]["resample"].sum() == 0
        assert run.final["events"]["defection"].sum() == 0


def test_coordinates_exactly_when_the_sets_share_an_optimal_outcome(runs, endings):
    """Figure 5: amTFT(W1) vs amTFT(W2) coordinates (ends on the Pareto frontier in every
    episode) when W1 and W2 share an optimal outcome, and never otherwise. egalitarian
    and ia share (2,2); nash and KS the fair lottery; {util} and {ia} share nothing."""
    bos = sp.load_game("asymmetric_bos").payoffs
    table = {}
    for (a, b), ends in endings.items():
        share = bool(_optimal_outcomes(runs[a]) & _optimal_outcomes(runs[b]))
        on_frontier = [pareto_slack(bos, v) <= 1e-9 for v in ends]
        table[a, b] = float(np.mean(on_frontier))
        if share:
            assert all(on_frontier), (a, b, ends)
        else:
            assert not any(on_frontier), (a, b, ends)
    for a, b in itertools.product(("util", "ia", "util+ia"), repeat=2):
        intersect = bool(set(a.split("+")) & set(b.split("+")))
        assert table[a, b] == (1.0 if intersect else 0.0)


def test_flexible_agent_is_exploited_by_the_inflexible_one(endings):
    """Section 5.2: amTFT({util, ia}) against amTFT({ia}) ends up optimising ia."""
    for pair in (("util+ia", "ia"), ("ia", "util+ia")):
        np.testing.assert_allclose(endings[pair], np.full_like(endings[pair], 2.0))
    for pair in (("util+ia", "util"), ("util", "util+ia")):
        np.testing.assert_allclose(endings[pair], np.tile([4.0, 1.0], (len(endings[pair]), 1)))


def test_resampling_is_logged(bos):
    """A {util, ia} agent starting with util meets an ia agent: it re-samples, never
    punishes (a normative disagreement is not a defection)."""
    from spielplatz_amtft.policy import act, init

    import jax

    flexible = sp.learn(bos, "amtft", steps=40, seeds=(0,), W="util+ia", start="first",
                        episodes=1)
    fixed = sp.learn(bos, "amtft", steps=40, seeds=(0,), W="ia", episodes=1)
    a, b = agent(flexible, 0, 0).params, agent(fixed, 0, 1).params
    act = jax.jit(act)

    sa, sb, obs = init(a, None), init(b, None), 0
    key = jax.random.PRNGKey(0)
    for t in range(30):
        key, ka, kb = jax.random.split(key, 3)
        x, sa = act(a, sa, obs, ka)
        y, sb = act(b, sb, obs, kb)
        obs = 1 + int(x) * 2 + int(y)
    resampled, defections, punished = (int(v) for v in sa["events"])
    assert resampled >= 1 and defections == 0 and punished == 0
    assert int(sa["w"]) == 1 and int(x) == int(y) == 1         # settled on ia: (S, S)


def test_ipd_cooperates_punishes_and_bounds_the_defector():
    ipd = sp.load_game("ipd")
    run = sp.learn(ipd, "amtft", steps=40, seeds=(0,), W="util", episodes=2)
    np.testing.assert_allclose(run.final["value"], [[-1.0, -1.0]])
    always = {name: Agent("memory_one", np.tile(logits, (5, 1)), player=1)
              for name, logits in (("defect", [-30.0, 30.0]), ("cooperate", [30.0, -30.0]))}
    horizon, gamma = 100, 0.96
    rewards = play_many(ipd, [(agent(run, 0, 0), always["defect"]),
                              (agent(run, 0, 0), always["cooperate"])],
                        episodes=4, horizon=horizon, seed=0)
    disc = gamma ** np.arange(horizon)
    total = np.einsum("pets,t->pes", rewards, disc).mean(axis=1)   # [pairs, 2]
    # cooperation: -1 per stage for both
    np.testing.assert_allclose(total[1], -(1 - gamma ** horizon) / (1 - gamma) * np.ones(2))
    # amTFT punishes: most stages are mutual defection
    mutual_defection = (rewards[0] == -2.0).all(axis=-1).mean()
    assert mutual_defection > 0.6
    # the defector's gain over cooperating stays within the punishment bound
    bound = run.final["exploit_bound"][0]
    assert bound == pytest.approx(1.0)                 # threshold 0 + one-step gain 0-(-1)
    gain = total[0, 1] - total[1, 1]
    assert gain <= bound
    assert gain < 0                                     # defection does not pay at all
    average = discounted_average(rewards[0], gamma).mean(axis=0)
    assert average[1] < -1.0


def test_appendix_e_bound_holds_in_every_cross_play_cell():
    result = sp.crossplay("iasymbos", ["amtft(W=util)", "amtft(W=ia)", "amtft(W=nash)",
                                       "amtft(W=egal)"], seeds=2, steps=40, episodes=4)
    b = result.bound
    # the 6 pairs of different welfare functions (egal and ia share (2,2) but are
    # different functions) x 2 seat orders x 4 seed pairs
    assert b["checked"] == 48 and b["held"] == 48 and not b["violations"]


@pytest.mark.parametrize("options, message", [
    ({"W": ""}, "W is empty"),
    ({"W": "util+nope"}, "unknown welfare 'nope'"),
    ({"W": "util+util"}, "twice"),
    ({"W": "util+ia", "preference": [1.0]}, "preference needs 2 non-negative weights"),
    ({"rollout": 0}, "rollout"),
])
def test_bad_options(bos, options, message):
    with pytest.raises(sp.SpielplatzError, match=message):
        sp.learn(bos, "amtft", steps=5, seeds=(0,), **options)


def test_not_an_iterated_game():
    with pytest.raises(sp.SpielplatzError, match="amtft"):
        sp.learn("chicken", "amtft", steps=5)
