"""(C)CE math: gains against a loop reference, hand-computed cases, invariances, jax."""

from __future__ import annotations

import numpy as np
import pytest

from spielplatz.equilibria import deviations, measures
from spielplatz.results import evaluate

from conftest import loop_ce_gains, loop_cce_gains, random_game, random_joint

SHAPES = [(2, 2), (3, 5), (2, 3, 4), (3, 3, 3), (2, 3, 2, 3), (2, 2, 2, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_gains_match_loop_reference(shape):
    rng = np.random.default_rng(len(shape) * 100 + sum(shape))
    for _ in range(5):
        game = random_game(rng, shape)
        joint = random_joint(rng, shape)
        for ours, ref in zip(deviations.ce_gains(game.payoffs, joint),
                             loop_ce_gains(game.payoffs, joint)):
            np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
        for ours, ref in zip(deviations.cce_gains(game.payoffs, joint),
                             loop_cce_gains(game.payoffs, joint)):
            np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_ce_gains_zero_diagonal_and_cce_is_column_sum():
    rng = np.random.default_rng(1)
    game = random_game(rng, (3, 4, 2))
    joint = random_joint(rng, (3, 4, 2))
    for ce, cce in zip(deviations.ce_gains(game.payoffs, joint),
                       deviations.cce_gains(game.payoffs, joint)):
        np.testing.assert_allclose(np.diagonal(ce), 0, atol=1e-15)
        # A CCE deviation pools every recommendation: gains sum over recommendations.
        np.testing.assert_allclose(ce.sum(axis=0), cce, atol=1e-12)


def test_chicken_hand_computed():
    from spielplatz import load_game

    game = load_game("chicken")
    # Chicken: S/S=(3,3), S/T=(1,5), T/S=(5,1), T/T=(0,0).
    np.testing.assert_array_equal(game.payoffs[0], [[3, 1], [5, 0]])
    np.testing.assert_array_equal(game.payoffs[1], [[3, 5], [1, 0]])
    # The uniform mix over (S,S), (S,T), (T,S): recommended S, the row player
    # sees the column play S or T with prob 1/2 each: 0.5*3+0.5*1 = 2 vs 0.5*5+0.5*0 = 2.5.
    joint = np.array([[1 / 3, 1 / 3], [1 / 3, 0]])
    gains = deviations.ce_gains(game.payoffs, joint)
    np.testing.assert_allclose(gains[0], [[0, (1 / 3) * (5 - 3) + (1 / 3) * (0 - 1)],
                                          [(1 / 3) * (3 - 5), 0]], atol=1e-15)
    np.testing.assert_allclose(deviations.epsilons(game.payoffs, joint, "ce"), [1 / 3, 1 / 3])
    # (S,T),(T,S) with 1/2 each plus (S,S) 0: a CE (both pure NE mixed publicly).
    joint = np.array([[0, 0.5], [0.5, 0]])
    assert deviations.gap(game.payoffs, joint, "ce") == 0
    ev = evaluate(game, joint, "ce")
    np.testing.assert_allclose(ev.values, [3, 3])
    assert ev.welfare == 6
    assert ev.entropy == pytest.approx(np.log(2))
    assert ev.total_correlation == pytest.approx(np.log(2))
    # Recommended S with partner-S probability q: following pays 1+2q, deviating 5q, so
    # q <= 1/3; (S,S)=0.2, (S,T)=(T,S)=0.4 makes that constraint tight: a CE.
    joint = np.array([[0.2, 0.4], [0.4, 0]])
    np.testing.assert_allclose(deviations.epsilons(game.payoffs, joint, "ce"), [0, 0], atol=1e-15)
    np.testing.assert_allclose(deviations.ce_gains(game.payoffs, joint)[0],
                               [[0, 0], [0.4 * (3 - 5), 0]], atol=1e-15)
    # CCE gains: value 0.2*3 + 0.4*1 + 0.4*5 = 3; always S: 0.6*3 + 0.4*1 = 2.2; always T: 0.6*5 = 3.
    np.testing.assert_allclose(deviations.cce_gains(game.payoffs, joint)[0], [-0.8, 0], atol=1e-15)


def test_cce_epsilon_can_be_negative_but_gap_is_not():
    from spielplatz import NormalFormGame

    # A coordination game where correlated play beats every fixed deviation.
    game = NormalFormGame.from_bimatrix([[1, 0], [0, 1]], [[1, 0], [0, 1]])
    joint = np.array([[0.5, 0], [0, 0.5]])
    eps = deviations.epsilons(game.payoffs, joint, "cce")
    np.testing.assert_allclose(eps, [-0.5, -0.5])
    assert deviations.gap(game.payoffs, joint, "cce") == 0


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_invariances(concept):
    rng = np.random.default_rng(7)
    shape = (2, 3, 4)
    game = random_game(rng, shape)
    joint = random_joint(rng, shape)
    base = evaluate(game, joint, concept)
    # Offset and positive scaling per player: gains scale by the player's factor.
    scale = np.array([2.0, 0.5, 3.0])
    shifted = game.with_payoffs(game.payoffs * scale.reshape(3, 1, 1, 1) + 7.0)
    ev = evaluate(shifted, joint, concept)
    np.testing.assert_allclose(ev.epsilons, base.epsilons * scale, atol=1e-12)
    np.testing.assert_allclose(ev.values, base.values * scale + 7.0, atol=1e-12)
    # Player permutation: epsilons and values permute with the players.
    order = [2, 0, 1]
    permuted = game.permute_players(order)
    pj = joint.transpose(order)
    ev = evaluate(permuted, pj, concept)
    np.testing.assert_allclose(ev.epsilons, base.epsilons[order], atol=1e-12)
    np.testing.assert_allclose(ev.values, base.values[order], atol=1e-12)
    assert ev.entropy == pytest.approx(base.entropy, abs=1e-12)
    assert ev.total_correlation == pytest.approx(base.total_correlation, abs=1e-12)
    # Action permutation of one player changes nothing but labels.
    relabelled = game.permute_actions(2, [3, 1, 0, 2])
    ev = evaluate(relabelled, joint[:, :, [3, 1, 0, 2]], concept)
    np.testing.assert_allclose(ev.epsilons, base.epsilons, atol=1e-12)
    np.testing.assert_allclose(ev.values, base.values, atol=1e-12)


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_adjoint_is_transpose_of_gains(concept):
    """<duals, gains(sigma)> == <sigma, adjoint(duals)> for every sigma (linearity)."""
    rng = np.random.default_rng(3)
    shape = (3, 2, 4)
    game = random_game(rng, shape)
    joint = random_joint(rng, shape)
    if concept == "ce":
        duals = [rng.exponential(size=(a, a)) for a in shape]
        gains = deviations.ce_gains(game.payoffs, joint)
        adj = deviations.ce_gains_adjoint(game.payoffs, duals)
    else:
        duals = [rng.exponential(size=a) for a in shape]
        gains = deviations.cce_gains(game.payoffs, joint)
        adj = deviations.cce_gains_adjoint(game.payoffs, duals)
    lhs = sum(float((d * g).sum()) for d, g in zip(duals, gains))
    assert adj.shape == shape
    assert lhs == pytest.approx(float((joint * adj).sum()), abs=1e-12)


def test_jax_jit_and_vmap_agree_with_numpy():
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    try:
        rng = np.random.default_rng(11)
        shape = (3, 2, 2)
        payoffs = np.stack([random_game(rng, shape).payoffs for _ in range(4)])
        joints = np.stack([random_joint(rng, shape) for _ in range(4)])

        def summary(g, s):
            return jnp.concatenate([deviations.epsilons(g, s, "ce"),
                                    deviations.epsilons(g, s, "cce"),
                                    measures.values(g, s),
                                    jnp.stack([measures.entropy(s),
                                               measures.total_correlation(s)])])

        batched = jax.jit(jax.vmap(summary))(jnp.asarray(payoffs), jnp.asarray(joints))
        for b in range(4):
            ref = np.concatenate([deviations.epsilons(payoffs[b], joints[b], "ce"),
                                  deviations.epsilons(payoffs[b], joints[b], "cce"),
                                  measures.values(payoffs[b], joints[b]),
                                  [measures.entropy(joints[b]),
                                   measures.total_correlation(joints[b])]])
            np.testing.assert_allclose(np.asarray(batched[b]), ref, atol=1e-12)
        # Gradients through the entropy are finite at zeros.
        grad = jax.grad(lambda s: measures.entropy(s))(jnp.array([[0.5, 0.5], [0.0, 0.0]]))
        assert np.all(np.isfinite(np.asarray(grad)))
    finally:
        jax.config.update("jax_enable_x64", False)


def test_measures_hand_cases():
    uniform = np.full((2, 2), 0.25)
    assert measures.entropy(uniform) == pytest.approx(np.log(4))
    assert measures.total_correlation(uniform) == pytest.approx(0, abs=1e-15)
    diagonal = np.array([[0.5, 0], [0, 0.5]])
    assert measures.mutual_information(diagonal) == pytest.approx(np.log(2))
    three = np.zeros((2, 2, 2))
    three[0, 0, 0] = three[1, 1, 1] = 0.5
    # Three perfectly correlated fair bits: 3 ln 2 - ln 2.
    assert measures.total_correlation(three) == pytest.approx(2 * np.log(2))
    with pytest.raises(ValueError, match="two-player"):
        measures.mutual_information(three)


def test_payoff_scale():
    payoffs = np.zeros((2, 2, 2))
    payoffs[0, 0, 0] = 4.0
    payoffs[1, 1, 1] = -1.0
    assert deviations.payoff_scale(payoffs) == 4.0


def test_unknown_concept_is_a_clear_error():
    from spielplatz.errors import SpielplatzError

    with pytest.raises(SpielplatzError, match="unknown solution concept 'nash'"):
        deviations.gains(np.zeros((2, 2, 2)), np.full((2, 2), 0.25), "nash")


@pytest.mark.parametrize("concept", ["ce", "cce"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2)])
def test_feature_contractions_equal_the_player_view_contractions(concept, shape):
    """The precomputed form the batched MWMRE kernel uses computes the same gains,
    adjoint and second moments as the host's direct contractions, under jit and vmap."""
    import jax
    import jax.numpy as jnp

    from spielplatz.equilibria.constraints import constraint_matrix
    from spielplatz.equilibria.mwmre.dual import dual_shapes

    rng = np.random.default_rng(7)
    n = len(shape)
    payoffs = rng.normal(size=(4, n) + shape) * 3.0 + 10.0
    joints = rng.dirichlet(np.ones(int(np.prod(shape))), size=4).reshape((4,) + shape)
    duals = [rng.random((4,) + s) for s in dual_shapes(shape, concept)]
    features, gains, adjoint, second = deviations.feature_contractions(shape, concept)
    with jax.enable_x64(True):
        run = jax.jit(jax.vmap(lambda g, s, *a: (gains(features(g), s),
                                                 adjoint(features(g), list(a)),
                                                 second(features(g), s))))
        got = run(jnp.asarray(payoffs), jnp.asarray(joints), *map(jnp.asarray, duals))
    for i in range(4):
        direct = deviations.gains(payoffs[i], joints[i], concept)
        np.testing.assert_allclose(got[0][i], np.concatenate([d.ravel() for d in direct]),
                                   atol=1e-12)
        adj = (deviations.ce_gains_adjoint if concept == "ce"
               else deviations.cce_gains_adjoint)(payoffs[i], [d[i] for d in duals])
        np.testing.assert_allclose(got[1][i], adj, atol=1e-11)
        m = constraint_matrix(payoffs[i], concept, include_diagonal=True)
        np.testing.assert_allclose(got[2][i], m.multiply(m) @ joints[i].ravel(), atol=1e-11)
