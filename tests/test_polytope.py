"""Support and implicit equalities of a polytope in the simplex (:mod:`spielplatz.equilibria.polytope`).

Every expected answer is checked by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from spielplatz.equilibria.constraints import constraint_matrix
from spielplatz.equilibria.polytope import MAX_SCALE, face_support


def _ce_support(payoffs):
    a = constraint_matrix(np.asarray(payoffs, dtype=float), "ce")
    return face_support(a.shape[1], B=a, b=np.zeros(a.shape[0])).support.reshape(2, 2)


def test_prisoners_dilemma_ce_support_is_defect_defect():
    # C = 0, D = 1; D strictly dominates C for both players, so the only CE is (D, D).
    pd = [[[-1, -3], [0, -2]],
          [[-1, 0], [-3, -2]]]
    np.testing.assert_array_equal(_ce_support(pd), [[False, False], [False, True]])


def test_chicken_ce_support_is_every_cell():
    # (C, C) = 6,6; (C, D) = 2,7; (D, C) = 7,2; (D, D) = 0,0. The mixed Nash
    # equilibrium (2/3 C, 1/3 D) for both is a CE that plays all four cells.
    chicken = [[[6, 2], [7, 0]],
               [[6, 7], [2, 0]]]
    assert _ce_support(chicken).all()


def test_implicit_equalities_and_slack_rows():
    # x0 - x1 <= 0 and x1 - x0 <= 0 force x0 = x1 (both implicit); x2 <= 0.5 is
    # strict at (1/2, 1/2, 0); every coordinate is positive at (1/4, 1/4, 1/2).
    B = np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    found = face_support(3, B=B, b=[0.0, 0.0, 0.5])
    np.testing.assert_array_equal(found.support, [True, True, True])
    np.testing.assert_array_equal(found.implicit, [True, True, False])
    np.testing.assert_array_equal(found.slack, [False, False, True])
    assert not found.empty


def test_implicit_equality_that_zeroes_a_coordinate():
    # E: x0 = x1; B: x0 + x1 <= 0 forces x0 = x1 = 0 (implicit); x2 <= 1 is strict at
    # (0, 0, 1/2, 1/2), which also shows that x2 and x3 can be positive.
    E = np.array([[1.0, -1.0, 0.0, 0.0]])
    B = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    found = face_support(4, E=E, f=[0.0], B=B, b=[0.0, 1.0])
    np.testing.assert_array_equal(found.support, [False, False, True, True])
    np.testing.assert_array_equal(found.implicit, [True, False])


def test_zero_mask_empty_polytope_and_resolution():
    # x[zero] = 0 leaves only x2; the row x2 <= 0.5 then cannot hold: empty.
    B = np.array([[0.0, 0.0, 1.0]])
    assert face_support(3, B=B, b=[0.5], zero=[True, True, False]).empty
    assert face_support(3, B=B, b=[0.5], zero=[True, True, True]).empty
    # Without the mask the polytope is x2 <= 0.5: full support, row not implicit.
    found = face_support(3, B=B, b=[0.5], equalities=False)
    assert found.support.all()
    assert not found.slack.any()      # not computed with equalities=False
    # A coordinate that cannot exceed 1 / MAX_SCALE counts as zero.
    tiny = face_support(2, B=np.array([[0.0, 1.0]]), b=[0.1 / MAX_SCALE])
    np.testing.assert_array_equal(tiny.support, [True, False])


def test_no_constraints_gives_the_whole_simplex():
    found = face_support(5)
    assert found.support.all() and found.slack.shape == (0,)


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_include_diagonal_adds_empty_rows_in_dual_order(concept):
    rng = np.random.default_rng(0)
    g = rng.normal(size=(3, 2, 3, 2))
    plain = constraint_matrix(g, concept).toarray()
    full = constraint_matrix(g, concept, include_diagonal=True).toarray()
    if concept == "cce":
        np.testing.assert_array_equal(full, plain)
        return
    keep = np.concatenate([~np.eye(a, dtype=bool).ravel() for a in g.shape[1:]])
    assert full.shape == (sum(a * a for a in g.shape[1:]), plain.shape[1])
    np.testing.assert_array_equal(full[keep], plain)
    assert not full[~keep].any()
