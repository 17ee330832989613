"""Welfare functions (normative disagreement, Appendix A Table 2 and C.1): hand-computed
values on hand-made profiles, negative payoffs and non-zero disagreement points."""

from __future__ import annotations

import numpy as np
import pytest

import spielplatz as sp

V = np.array([[-1.0, -3.0], [2.0, 1.0], [4.0, 1.0], [2.0, 2.0]])
D = np.array([-2.0, -2.0])


def test_registry_objects_say_what_they_need():
    for name, on, needs in (("utilitarian", "values", ()), ("egalitarian", "values", ()),
                            ("nash", "values", ()), ("kalai_smorodinsky", "values", ("ideal",)),
                            ("inequity_averse", "trajectories", ())):
        w = sp.get_welfare_function(name)
        assert (w.defined_on, w.needs, w.impartial) == (on, needs, True)


def test_values_by_hand_with_disagreement_points():
    util, egal, nash, ks = (sp.get_welfare_function(n) for n in
                            ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky"))
    np.testing.assert_allclose(util(V), [-4, 3, 5, 4])
    np.testing.assert_allclose(util(V, D), [0, 7, 9, 8])                 # shifted by 4
    np.testing.assert_allclose(egal(V, D), [-1, 3, 3, 4])
    # Nash: product of the gains over d; (-1,-3) has gains (1,-1): not above d, zero
    np.testing.assert_allclose(nash(V, D), [0, 12, 18, 16])
    np.testing.assert_allclose(nash(V), [0, 2, 4, 4])                   # d = 0: (-1,-3) is 0
    # Kalai-Smorodinsky with ideal (4, 2) and d = (0, 0): min(v1 / 4, v2 / 2)
    np.testing.assert_allclose(ks(V, np.zeros(2), ideal=np.array([4.0, 2.0])),
                               [-1.5, 0.5, 0.5, 0.5])
    # on the asymmetric BoS frontier x + 2y = 6 it selects the point on the line d -> I
    frontier = np.array([[4 - 2 * t, 1 + t] for t in np.linspace(0, 1, 101)])
    best = frontier[np.argmax(ks(frontier, np.zeros(2), ideal=np.array([4.0, 2.0])))]
    np.testing.assert_allclose(best, [3.0, 1.5], atol=1e-9)             # 2 y = x there


def test_impartial_functions_ignore_seat_order():
    for name in ("utilitarian", "egalitarian", "nash"):
        w = sp.get_welfare_function(name)
        np.testing.assert_allclose(w(V, D), w(V[:, ::-1], D[::-1]))


def test_inequity_averse_on_trajectories_by_hand():
    ia = sp.get_welfare_function("inequity_averse")
    rewards = np.zeros((3, 2))
    rewards[:, 0] = 1.0                          # player 1 gets 1 each step, player 2 nothing
    # returns 1 + 0.5 + 0.25; e_1 = 1, 1.5, 1.75 (decay gamma * lambda = 0.5), e_2 = 0
    value = ia.of_trajectories(rewards, gamma=0.5, smoothing=1.0, beta=1.0)
    assert value == pytest.approx(1.75 - (1 + 1.5 + 1.75) / 3)
    equal = np.ones((3, 2))
    assert ia.of_trajectories(equal, gamma=0.5, smoothing=1.0, beta=5.0) == pytest.approx(3.5)
    with pytest.raises(sp.SpielplatzError, match="defined on trajectories"):
        ia(V)


def test_missing_reference_points_and_bad_registrations_are_one_line():
    with pytest.raises(sp.SpielplatzError, match="needs ideal"):
        sp.get_welfare_function("kalai_smorodinsky")(V)
    from spielplatz.plugins.options import check_registration

    with pytest.raises(ValueError, match="defined_on must be"):
        check_registration("welfare", "x", {"defined_on": "histories"})
    with pytest.raises(ValueError, match="impartial must be"):
        check_registration("welfare", "x", {"impartial": "yes"})


def test_a_plugins_plain_function_is_wrapped_with_the_disagreement_point():
    from spielplatz.equilibria.welfare_functions import as_welfare_function

    w = as_welfare_function("worst_plus_mean", lambda v: v.min(axis=-1) + v.mean(axis=-1))
    assert w.defined_on == "values" and w.impartial is None
    np.testing.assert_allclose(w(V, D), [-1.0, 6.5, 7.5, 8.0])   # on V - d
