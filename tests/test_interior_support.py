"""Answers without zeros whose masses fall below 1e-9: their support proven by a (C)CE
that plays every joint action (:mod:`spielplatz.equilibria.mwmre.interior`), no LP."""

import numpy as np

import spielplatz as sp
from spielplatz.equilibria import deviations
from spielplatz.equilibria.certificate import certify
from spielplatz.equilibria.mwmre import dominance, interior
from spielplatz.equilibria.mwmre.config import prepare
from spielplatz.equilibria.mwmre.newton import min_mass, support_lp
from spielplatz.equilibria.mwmre.problem import DualProblem


def _stalled(g, concept="ce"):
    """The problem and duals that reach the support question, or ``None``."""
    opts = prepare(g)
    problem = DualProblem(deviations.remove_offsets(g) / opts.scale, concept, opts.log_prior,
                          epsilon=opts.epsilon)
    res, problem, _, _ = dominance.newton_eliminating(problem, opts, None, concept == "ce")
    if res.converged and min_mass(res.state, problem) >= 1e-9:
        return None
    return problem, res.alpha


def test_full_support_is_never_claimed_where_the_lp_finds_zeros():
    """Every 8x8 CE game that reaches the support question: a proof of full support
    only where the support LP also finds none, and most interior games proven."""
    games = np.random.default_rng(15).standard_normal((200, 2, 8, 8))
    proven = interior_games = zeros = 0
    for g in games:
        found = _stalled(g)
        if found is None:
            continue
        problem, alpha = found
        full = bool((support_lp(problem) == problem.support).all())
        claim = interior.full_support(problem, alpha, g)
        assert not claim or full
        proven += claim
        interior_games += full
        zeros += not full
    assert zeros >= 10 and interior_games >= 30
    assert proven >= 0.85 * interior_games, (proven, interior_games)


def test_interior_route_is_the_lp_route(monkeypatch):
    """The answers the proof gives are the LP route's: same support, joints to 1e-8."""
    games = np.random.default_rng(15).standard_normal((60, 2, 8, 8))
    routes = [sp.solve(g, solver="maxent", concept="ce") for g in games]
    chosen = [(g, s) for g, s in zip(games, routes) if s.extra["support_route"] == "interior"]
    assert len(chosen) >= 3
    monkeypatch.setattr(interior, "full_support", lambda *args: False)
    for g, sol in chosen:
        assert sol.status == "optimal" and not sol.extra["support_lp"]
        assert (sol.joint > 0).all() and sol.joint.min() < 1e-9
        lp = sp.solve(g, solver="maxent", concept="ce")
        assert lp.extra["support_route"] == "lp" and (lp.joint > 0).all()
        np.testing.assert_allclose(sol.joint, lp.joint, atol=1e-8)


def test_a_thin_polytope_goes_to_the_lp():
    """A CE polytope with no room below epsilon (matching pennies: its only CE is
    uniform, every constraint tight) has no strictly feasible joint: no proof."""
    pennies = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]])
    opts = prepare(pennies)
    problem = DualProblem(deviations.remove_offsets(pennies) / opts.scale, "ce",
                          opts.log_prior, epsilon=opts.epsilon)
    assert not interior.full_support(problem, np.zeros(problem.k), pennies)
    assert support_lp(problem).all()


def test_unplayed_recommendations_need_no_exact_arithmetic():
    """Rows of a recommendation with no mass have gain exactly 0: the rounding bound
    decides them, even at tolerance 0 (the proof's certificate)."""
    pd = np.array([[[-1.0, -3.0], [0.0, -2.0]], [[-1.0, 0.0], [-3.0, -2.0]]])
    pure = np.array([[0.0, 0.0], [0.0, 1.0]])
    cert = certify(pd, pure, "ce", tolerance=0.0)
    assert cert.certified and cert.method == "float-bound" and cert.violation == 0.0
    wrong = np.array([[1.0, 0.0], [0.0, 0.0]])
    cert = certify(pd, wrong, "ce", tolerance=0.0)
    assert not cert.certified and cert.violation == 1.0


def test_duplicate_strategies_do_not_block_the_proof():
    """Chicken with a duplicated action: the two copies' CE constraints vanish
    identically (every joint satisfies them), so the proof still finds a full-support
    CE; a positive epsilon is not the proof's to decide."""
    chicken = np.array([[[0.0, -1.0], [1.0, -10.0]], [[0.0, 1.0], [-1.0, -10.0]]])
    twice = np.concatenate([chicken, chicken[:, :1]], axis=1)       # row player's copy
    twice = np.concatenate([twice, twice[:, :, :1]], axis=2)        # column player's
    for game in (chicken, twice):
        opts = prepare(game)
        problem = DualProblem(deviations.remove_offsets(game) / opts.scale, "ce",
                              opts.log_prior, epsilon=opts.epsilon)
        assert interior.full_support(problem, np.zeros(problem.k), game)
        loose = problem.with_epsilon(np.full(2, 0.01))
        assert not interior.full_support(loose, np.zeros(problem.k), game)
