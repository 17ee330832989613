"""The ``maxent`` solver (MWMRE of NES appendix Section A) and :mod:`spielplatz.equilibria.mwmre`.

Known answers are derived in the docstrings; the random-game comparison uses an
independent cvxpy exponential-cone model (test-only dependency) whose answer is
refined by re-solving on its own support and polishing its own KKT equations,
because interior-point answers of degenerate problems are only accurate to
about 1e-6.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.equilibria import deviations, mwmre
from spielplatz.errors import SpielplatzError

from conftest import DATA_DIR, corpus_files, gambit_files, require_gambit


def solve(game, concept="ce", **options):
    return sp.solve(game, solver="maxent", concept=concept, **options)


# --------------------------------------------------------------------------------------
# An independent reference: cvxpy (exponential cone), support refinement, KKT polish.
# --------------------------------------------------------------------------------------
def constraint_matrix(payoffs, concept):
    """Dense (C)CE constraints ``A sigma <= eps``, built by explicit loops (independent)."""
    n, shape = payoffs.shape[0], payoffs.shape[1:]
    joints = list(np.ndindex(*shape))
    rows = []
    for p in range(n):
        for a1 in range(shape[p]):
            for a2 in (range(shape[p]) if concept == "ce" else [None]):
                if concept == "ce" and a1 == a2:
                    continue
                row = np.zeros(len(joints))
                for j, a in enumerate(joints):
                    if concept == "ce" and a[p] != a1:
                        continue
                    b = list(a)
                    b[p] = a2 if concept == "ce" else a1
                    row[j] = payoffs[(p,) + tuple(b)] - payoffs[(p,) + a]
                rows.append(row)
    return np.array(rows)


def _rows_eps(payoffs, concept, epsilon):
    n, shape = payoffs.shape[0], payoffs.shape[1:]
    eps = np.broadcast_to(np.asarray(epsilon, float), (n,))
    return np.concatenate([np.full(shape[p] * (shape[p] - 1) if concept == "ce" else shape[p],
                                   eps[p]) for p in range(n)])


TIGHT = dict(tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12, tol_ktratio=1e-10,
             max_iter=500)


def _solve_cvxpy(prob):
    """Clarabel at tight tolerances, at its defaults if that fails, then SCS."""
    import warnings

    import cvxpy as cp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            prob.solve(solver="CLARABEL", **TIGHT)
        except cp.error.SolverError:
            try:
                prob.solve(solver="CLARABEL")
            except cp.error.SolverError:
                try:       # Clarabel gives up on some degenerate games; SCS then
                    prob.solve(solver="SCS", eps_abs=1e-9, eps_rel=1e-9, max_iters=20_000)
                except cp.error.SolverError:
                    return False
    return prob.variables()[0].value is not None


def reference(payoffs, concept, prior=None, mu=0.0, epsilon=0.0):
    """cvxpy MaxEnt / minimum relative entropy (C)CE (re-solved on its support, polished)."""
    import cvxpy as cp

    a = constraint_matrix(payoffs, concept)
    m = a.shape[1]
    c = np.log(np.full(m, 1.0 / m) if prior is None else np.ravel(prior) / np.sum(prior))
    c = c + mu * payoffs.sum(axis=0).ravel()
    b = _rows_eps(payoffs, concept, epsilon)
    keep = np.ones(m, bool)
    for _ in range(4):
        x = cp.Variable(int(keep.sum()), nonneg=True)
        prob = cp.Problem(cp.Maximize(cp.sum(cp.entr(x)) + c[keep] @ x),
                          [a[:, keep] @ x <= b, cp.sum(x) == 1])
        if not _solve_cvxpy(prob):
            if keep.all():
                raise RuntimeError("the cvxpy reference failed")
            break               # keep the previous stage's answer
        full = np.zeros(m)
        full[keep] = np.maximum(x.value, 0.0)
        new = full > 1e-7 * full.max()
        if new.sum() == keep.sum():
            break
        keep = new
    return _polish(a, b, c, full / full.sum()).reshape(payoffs.shape[1:])


def _polish(a, b, c, x):
    """Newton on the KKT equations of the support and active rows cvxpy found."""
    s_mask = x > 1e-9 * x.max()
    act = (b - a @ x < 1e-7) & (np.abs(a[:, s_mask]).max(axis=1) > 0)
    a_s = a[np.ix_(act, s_mask)]
    k, s = a_s.shape[0], x[s_mask].copy()
    lam, nu = np.zeros(k), 0.0
    for _ in range(30):
        f = np.concatenate([np.log(s) + 1 - c[s_mask] + a_s.T @ lam + nu, a_s @ s - b[act],
                            [s.sum() - 1]])
        if np.abs(f).max() < 1e-14:
            break
        jac = np.block([[np.diag(1 / s), a_s.T, np.ones((s.size, 1))],
                        [a_s, np.zeros((k, k)), np.zeros((k, 1))],
                        [np.ones((1, s.size)), np.zeros((1, k)), np.zeros((1, 1))]])
        d = np.linalg.lstsq(jac, -f, rcond=None)[0]
        t = 1.0
        while np.any(s + t * d[:s.size] <= 0):
            t *= 0.5
        s, lam, nu = s + t * d[:s.size], lam + t * d[s.size:s.size + k], nu + t * d[-1]
    out = np.zeros(x.size)
    out[s_mask] = s
    ok = np.abs(f).max() < 1e-10 and (a @ out - b).max() < 1e-12 and np.all(lam >= -1e-9)
    return out if ok else x


def target_reference(payoffs, concept, target, eps_plus, rho):
    """cvxpy model of the target-epsilon primal of Theorems 1/2 (uniform prior)."""
    import cvxpy as cp

    n = payoffs.shape[0]
    a = constraint_matrix(payoffs, concept)
    m = a.shape[1]
    owner = np.concatenate([np.full(payoffs.shape[1 + p] * (payoffs.shape[1 + p] - 1)
                                    if concept == "ce" else payoffs.shape[1 + p], p)
                            for p in range(n)])
    x = cp.Variable(m, nonneg=True)
    u = cp.Variable(n, nonneg=True)          # eps+_p - eps_p
    eps = eps_plus - u
    # -rho (eps+ - eps) ln((eps+ - eps) / (e (eps+ - eps_hat)))
    #     = rho [entr(u) + u (ln(eps+ - eps_hat) + 1)]
    obj = cp.sum(cp.entr(x)) - math.log(m) + rho * (cp.sum(cp.entr(u)) + u @ (
        np.log(eps_plus - np.asarray(target, float) * np.ones(n)) + 1))
    prob = cp.Problem(cp.Maximize(obj), [a @ x <= eps[owner], cp.sum(x) == 1])
    _solve_cvxpy(prob)
    return x.value.reshape(payoffs.shape[1:]), eps_plus - u.value


def random_game(rng, shape):
    g = rng.uniform(size=(len(shape),) + tuple(shape))
    return (g - g.min()) / (g.max() - g.min())       # payoff range 1


# --------------------------------------------------------------------------------------
# Known answers
# --------------------------------------------------------------------------------------
def test_chicken_maxent_ce_known_answer():
    """Chicken (tutorial comment: S/S=(3,3), S/T=(1,5), T/S=(5,1), T/T=(0,0)).

    The constraint ``sigma(S,T) >= 2 sigma(S,S)`` (and its mirror) binds; with
    ``a = sigma(S,S)``, ``b = sigma(S,T) = sigma(T,S) = 2a``, ``d = sigma(T,T)``,
    ``dH/da = 0`` gives ``d = 2^(4/5) a`` and ``a = 1 / (5 + 2^(4/5))``.
    """
    game = sp.load_game("chicken")
    assert game.payoffs[:, 0, 1].tolist() == [1, 5] and game.payoffs[:, 1, 0].tolist() == [5, 1]
    a = 1 / (5 + 2 ** 0.8)
    expected = np.array([[a, 2 * a], [2 * a, 2 ** 0.8 * a]])
    sol = solve(game, "ce")
    assert sol.status == "optimal"
    np.testing.assert_allclose(sol.joint, expected, atol=1e-8)
    assert sol.gap <= 1e-8
    assert sol.entropy == pytest.approx(-(expected * np.log(expected)).sum(), abs=1e-8)
    # the duals returned are a minimiser of the fixed-epsilon dual: strong duality
    assert mwmre.maxent_loss(game.payoffs, sol.extra["duals"], "ce") == pytest.approx(
        sol.entropy - math.log(4), abs=1e-9)
    np.testing.assert_allclose(mwmre.joint(game.payoffs, sol.extra["duals"], "ce"),
                               sol.joint, atol=1e-9)
    json.dumps(sol.to_dict())


def test_battle_of_the_sexes_known_answer():
    """BoS (O,O)=(3,2), (F,F)=(2,3): only ``3 sigma(F,O) <= 2 sigma(O,O)`` (and mirror) bind.

    With ``x = sigma(O,O) = sigma(F,F)``, ``z = sigma(F,O) = 2x/3`` and
    ``y = sigma(O,F)``: ``y = (2/3)^(1/4) x`` and ``x = 1 / (8/3 + (2/3)^(1/4))``.
    """
    x = 1 / (8 / 3 + (2 / 3) ** 0.25)
    expected = np.array([[x, (2 / 3) ** 0.25 * x], [2 * x / 3, x]])
    for concept in ("ce", "cce"):
        sol = solve("battle_of_the_sexes", concept)
        assert sol.status == "optimal"
        np.testing.assert_allclose(sol.joint, expected, atol=1e-8)


def test_prisoners_dilemma_is_exactly_defect_defect():
    """The unique (C)CE is pure: the dual has no finite minimiser. CE: the duals prove
    cooperation strictly dominated (no LP); CCE: the LP finds the support."""
    for concept in ("ce", "cce"):
        sol = solve("prisoners_dilemma", concept)
        assert sol.status == "optimal"
        assert sol.joint.tolist() == [[0.0, 0.0], [0.0, 1.0]]
        assert sol.gap == 0.0 and sol.entropy == 0.0
        assert sol.extra["support_size"] == 1
        if concept == "ce":
            assert not sol.extra["support_lp"] and sol.extra["support_route"] == "dominance"
        else:
            assert sol.extra["support_lp"] and sol.extra["support_route"] == "lp"


def test_dominance_route_agrees_with_the_support_lp(monkeypatch):
    """CE zeros certified by the duals (strictly dominated recommendations, no LP) are
    the support LP's zeros, and the answer is the LP route's (issue 15)."""
    from spielplatz.equilibria import deviations
    from spielplatz.equilibria.mwmre import dominance, newton as newton_module
    from spielplatz.equilibria.mwmre.config import prepare
    from spielplatz.equilibria.mwmre.newton import support_lp
    from spielplatz.equilibria.mwmre.problem import DualProblem

    games = np.random.default_rng(15).standard_normal((30, 2, 8, 8))
    routes = []
    for g in games:
        sol = solve(g, "ce")
        routes.append(sol.extra["support_route"])
        assert sol.status == "optimal" and sol.gap <= 1e-8 * np.ptp(g)
        if sol.extra["support_route"] != "dominance":
            continue
        opts = prepare(g)
        problem = DualProblem(deviations.remove_offsets(g) / opts.scale, "ce", opts.log_prior,
                              epsilon=opts.epsilon)
        assert np.array_equal(support_lp(problem), sol.joint > 0)
        with monkeypatch.context() as m:
            # the Python loop, whose certificate is then switched off
            m.setattr(newton_module, "COMPILED", False)
            m.setattr(dominance, "dominated", lambda problem, alpha: None)
            lp = solve(g, "ce")
        assert lp.extra["support_route"] == "lp" and lp.status == "optimal"
        assert np.array_equal(lp.joint > 0, sol.joint > 0)
        np.testing.assert_allclose(sol.joint, lp.joint, atol=1e-8)
    assert routes.count("dominance") >= 5, routes


def test_weakly_dominated_strategy():
    """Row's U is weakly dominated by D (equal against L, worse against R); column indifferent.

    Every (C)CE has ``sigma(U,R) = 0`` and nothing else binds: the maximum-entropy
    answer is uniform on the other three cells, with an exact zero.
    """
    row = [[1.0, 0.0], [1.0, 1.0]]
    game = sp.NormalFormGame.from_bimatrix(row, np.zeros((2, 2)), name="weak")
    for concept in ("ce", "cce"):
        sol = solve(game, concept)
        assert sol.status == "optimal"
        np.testing.assert_allclose(sol.joint, [[1 / 3, 0.0], [1 / 3, 1 / 3]], atol=1e-12)
        assert sol.joint[0, 1] == 0.0


def test_constant_and_one_player_games():
    """All-zero payoffs: everything is a (C)CE, the answer is the prior itself."""
    rng = np.random.default_rng(3)
    prior = rng.dirichlet(np.ones(6)).reshape(2, 3)
    game = sp.NormalFormGame.from_array(np.zeros((2, 2, 3)))
    sol = solve(game, "ce", prior=prior)
    np.testing.assert_allclose(sol.joint, prior, atol=1e-12)
    one = sp.NormalFormGame.from_array(np.array([[1.0, 3.0, 2.0]]))
    sol = solve(one, "ce")
    assert sol.status == "optimal" and np.argmax(sol.joint) == 1 and sol.joint[1] == 1.0


# --------------------------------------------------------------------------------------
# Against cvxpy on random games
# --------------------------------------------------------------------------------------
SHAPES = [(2, 2), (3, 3), (2, 12), (5, 5), (8, 8), (12, 12), (3, 3, 3), (3, 4, 5), (3, 5, 5),
          (4, 4, 4), (3, 3, 3, 3), (4, 3, 3, 3)]


def test_against_cvxpy_on_random_games():
    """52 random games (2 to 4 players), CE and CCE: L1 <= 1e-6, gap <= 1e-8 (range 1)."""
    rng = np.random.default_rng(20240601)
    worst_l1 = worst_gap = 0.0
    count = 0
    for shape in SHAPES:
        for _ in range(52 // len(SHAPES) + 1):
            game = random_game(rng, shape)
            count += 1
            for concept in ("ce", "cce"):
                sol = solve(game, concept)
                ref = reference(game, concept)
                l1 = float(np.abs(sol.joint - ref).sum())
                assert sol.status == "optimal", (shape, concept)
                assert l1 <= 1e-6, (shape, concept, l1)
                assert sol.gap <= 1e-8, (shape, concept, sol.gap)
                worst_l1, worst_gap = max(worst_l1, l1), max(worst_gap, sol.gap)
    assert count >= 50
    print(f"\nmaxent vs cvxpy: {count} games x 2 concepts, max L1 {worst_l1:.2e}, "
          f"max gap {worst_gap:.2e}")


def test_relative_entropy_prior_against_cvxpy():
    rng = np.random.default_rng(5)
    for shape in [(3, 4), (2, 2, 3)]:
        game = random_game(rng, shape)
        prior = rng.dirichlet(np.ones(int(np.prod(shape)))).reshape(shape)
        for concept in ("ce", "cce"):
            sol = solve(game, concept, prior=prior)
            assert sol.status == "optimal"
            np.testing.assert_allclose(sol.joint, reference(game, concept, prior=prior),
                                       atol=1e-7)
            kl = float((sol.joint * np.log(np.where(sol.joint > 0, sol.joint / prior, 1))).sum())
            assert sol.extra["relative_entropy"] == pytest.approx(kl, abs=1e-10)


def test_welfare_term_mu_against_cvxpy():
    rng = np.random.default_rng(6)
    game = random_game(rng, (4, 4))
    welfare = []
    for mu in (0.0, 0.5, 2.0):
        sol = solve(game, "ce", mu=mu)
        assert sol.status == "optimal"
        np.testing.assert_allclose(sol.joint, reference(game, "ce", mu=mu), atol=1e-7)
        welfare.append(sol.welfare)
    assert welfare[0] <= welfare[1] <= welfare[2]
    # a custom welfare W(a): weight on player 1 only
    w = game[0]
    sol = solve(game, "cce", mu=3.0, welfare=w)
    base = solve(game, "cce")
    assert sol.values[0] >= base.values[0] - 1e-12


def test_welfare_by_registered_name():
    """``welfare="egalitarian"`` is ``W(a) = min_p G_p(a)``, the same as passing that array."""
    game = sp.load_game("chicken")
    by_name = solve(game, "ce", mu=1.0, welfare="egalitarian")
    by_array = solve(game, "ce", mu=1.0, welfare=game.payoffs.min(axis=0))
    assert by_name.status == "optimal"
    np.testing.assert_allclose(by_name.joint, by_array.joint, atol=1e-12)
    assert by_name.config["welfare"] == "egalitarian"
    # mu > 0 on the worst-off player's payoff moves mass away from the crash (D, D)
    assert by_name.joint[1, 1] < solve(game, "ce").joint[1, 1]
    batch = sp.get_solver("maxent").solve_batch(game.payoffs[None], "ce", mu=1.0,
                                                welfare="egalitarian")
    np.testing.assert_allclose(batch.joints[0], by_array.joint, atol=1e-7)
    with pytest.raises(SpielplatzError, match="no_such_welfare|unknown"):
        solve(game, "ce", mu=1.0, welfare="no_such_welfare")


def test_fixed_epsilon_against_cvxpy():
    rng = np.random.default_rng(8)
    game = random_game(rng, (3, 3))
    for concept, eps in (("ce", 0.02), ("cce", [0.05, 0.0])):
        sol = solve(game, concept, epsilon=eps)
        assert sol.status == "optimal"
        np.testing.assert_allclose(sol.joint, reference(game, concept, epsilon=eps), atol=1e-7)
        assert np.all(sol.epsilons <= np.broadcast_to(eps, (2,)) + 1e-8)


# --------------------------------------------------------------------------------------
# Target epsilon (Theorems 1 and 2)
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("concept", ["ce", "cce"])
@pytest.mark.parametrize("target", [0.0, 0.05, -0.3])
def test_target_epsilon_against_cvxpy(concept, target):
    """Feasible and unreachable targets (-0.3: no joint has every gain <= -0.3)."""
    rng = np.random.default_rng(9)
    game = random_game(rng, (3, 3))
    sol = solve(game, concept, target_epsilon=target, eps_plus=1.0, rho=2.0)
    assert sol.status == "optimal"
    assert np.all(np.isfinite(sol.joint))
    eps_req = np.asarray(sol.extra["epsilon_required"])
    assert np.all(np.isfinite(eps_req)) and np.all(eps_req >= target - 1e-12)
    assert np.all(eps_req < 1.0)
    assert np.all(sol.epsilons <= eps_req + 1e-8)
    ref_joint, ref_eps = target_reference(game, concept, target, 1.0, 2.0)
    np.testing.assert_allclose(sol.joint, ref_joint, atol=1e-6)
    np.testing.assert_allclose(eps_req, ref_eps, atol=1e-6)


def test_target_epsilon_tends_to_fixed_epsilon():
    """Large rho pulls eps_p(alpha) to a feasible target: the answer approaches fixed epsilon."""
    rng = np.random.default_rng(10)
    game = random_game(rng, (3, 3))
    fixed = solve(game, "ce", epsilon=0.05)
    prev = None
    for rho in (100.0, 1e3, 1e4, 1e5):
        sol = solve(game, "ce", target_epsilon=0.05, eps_plus=1.0, rho=rho)
        dist = float(np.abs(sol.joint - fixed.joint).sum())
        assert prev is None or dist < prev
        prev = dist
    assert prev < 5e-3


def test_target_epsilon_infeasible_prisoners_dilemma():
    """An impossible target on a degenerate game: finite, the nearest answer of the formulation."""
    sol = solve("prisoners_dilemma", "ce", target_epsilon=-1.0)
    assert sol.status == "optimal" and np.all(np.isfinite(sol.joint))
    eps_req = np.asarray(sol.extra["epsilon_required"])
    assert np.all(eps_req > -1.0) and np.all(np.isfinite(eps_req))
    assert sol.joint[1, 1] > 0.5      # (D,D) still carries most mass


def test_errors():
    with pytest.raises(SpielplatzError, match="full-support"):
        solve("chicken", prior=[[0.5, 0.5], [0.0, 0.0]])
    with pytest.raises(SpielplatzError, match="polytope is empty"):
        solve("prisoners_dilemma", epsilon=-0.5)
    with pytest.raises(SpielplatzError, match="below"):
        solve("chicken", target_epsilon=2.0, eps_plus=1.0)
    with pytest.raises(SpielplatzError, match="rho"):
        solve("chicken", target_epsilon=0.0, rho=-1.0)
    with pytest.raises(SpielplatzError, match="unknown option"):
        solve("chicken", temperature=3)
    with pytest.raises(SpielplatzError, match="target_epsilon"):
        solve("chicken", rho=3.0)


# --------------------------------------------------------------------------------------
# NES appendix Table 5(b)
# --------------------------------------------------------------------------------------
def test_nes_cce_counterexample_relative_entropy_to_softmax_welfare():
    """Minimum relative entropy to ``softmax(T W)`` on Table 5(b), ``W`` the sum of payoffs.

    With Section A's relative entropy ``sum sigma ln(sigma / sigma_hat)`` the
    objective is ``-H(sigma) - T <W, sigma> + const``: as ``T`` grows the answer
    tends to the maximum-welfare CCE, which plays (1,1) (1-based) with
    probability 1 (welfare 4). It does *not* move towards the CCE
    (2,2) = 0.2, (2,3) = (3,2) = 0.4 that Appendix E describes (welfare 3.6;
    that joint is a CCE, but neither the max-welfare one nor the one with the
    most mass on (2,2), which is 1/3 on each of (2,2), (1,3), (3,1)). Appendix
    E's statement matches the reverse divergence ``KL(sigma_hat || sigma)``;
    this discrepancy is reported in issue 3.
    """
    game = sp.load_game("nes_cce_counterexample")
    w = game.payoffs.sum(axis=0)
    appendix = np.zeros((4, 4))
    appendix[1, 1], appendix[1, 2], appendix[2, 1] = 0.2, 0.4, 0.4
    assert deviations.gap(game.payoffs, appendix, "cce") <= 1e-12
    max_welfare = np.zeros((4, 4))
    max_welfare[0, 0] = 1.0
    dists = []
    for t in (1.0, 2.0, 4.0, 8.0, 16.0):
        logits = t * w
        prior = np.exp(logits - logits.max())
        sol = solve(game, "cce", prior=prior / prior.sum())
        assert sol.status == "optimal"
        dists.append(float(np.abs(sol.joint - max_welfare).sum()))
        assert np.abs(sol.joint - appendix).sum() > 0.5
    assert all(a > b for a, b in zip(dists, dists[1:])), dists
    assert dists[-1] < 0.01


# --------------------------------------------------------------------------------------
# Invariances
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_invariances(concept):
    rng = np.random.default_rng(11)
    games = [sp.NormalFormGame.from_array(random_game(rng, (3, 2, 4))),
             sp.load_game("prisoners_dilemma"), sp.load_game("nes_cce_counterexample")]
    for game in games:
        base = solve(game, concept).joint
        n = game.num_players
        offset = game.with_payoffs(game.payoffs + rng.normal(size=(n,) + (1,) * n) * 10)
        np.testing.assert_allclose(solve(offset, concept).joint, base, atol=1e-7)
        scaled = game.with_payoffs(game.payoffs * rng.uniform(0.1, 10, size=(n,) + (1,) * n))
        np.testing.assert_allclose(solve(scaled, concept).joint, base, atol=1e-7)
        order = list(rng.permutation(n))
        np.testing.assert_allclose(solve(game.permute_players(order), concept).joint,
                                   base.transpose(order), atol=1e-7)
        for p in range(n):
            perm = list(rng.permutation(game.shape[p]))
            np.testing.assert_allclose(solve(game.permute_actions(p, perm), concept).joint,
                                       np.take(base, perm, axis=p), atol=1e-7)


# --------------------------------------------------------------------------------------
# Real games
# --------------------------------------------------------------------------------------
def test_all_gambit_games_solve_optimally():
    require_gambit()           # the external corpus: skipped with the reason when missing
    assert len(gambit_files()) == 60
    check_all_solve_optimally(gambit_files())


def test_all_corpus_games_solve_optimally():
    files = corpus_files()     # tests/data: always present
    assert len(files) >= 12
    check_all_solve_optimally(files)
    # Known answers: the prisoner's dilemma's only CE is (defect, defect); with every payoff
    # zero every distribution is a CE and the maximum-entropy one is uniform.
    pd = solve(sp.load_game(str(DATA_DIR / "pd_payoff.nfg")), "ce").joint
    np.testing.assert_allclose(pd, [[0, 0], [0, 1]], atol=1e-9)
    zero = solve(sp.load_game(str(DATA_DIR / "all_zero.nfg")), "cce").joint
    np.testing.assert_allclose(zero, np.full((2, 3), 1 / 6), atol=1e-9)
    pennies = solve(sp.load_game(str(DATA_DIR / "matching_pennies.json")), "ce").joint
    np.testing.assert_allclose(pennies, np.full((2, 2), 1 / 4), atol=1e-7)


def check_all_solve_optimally(paths):
    for path in paths:
        game = sp.load_game(str(path))
        scale = max(float(deviations.payoff_scale(game.payoffs)), 1e-300)
        for concept in ("ce", "cce"):
            sol = solve(game, concept)
            assert sol.status == "optimal", (path, concept)
            assert sol.gap <= 1e-8 * scale + 1e-300, (path, concept, sol.gap)
            assert abs(sol.joint.sum() - 1) < 1e-12 and sol.joint.min() >= 0


# --------------------------------------------------------------------------------------
# The dual (spielplatz.equilibria.mwmre) in numpy and jax
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_mwmre_numpy_and_jax_agree(concept):
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(12)
    g = rng.normal(size=(3, 2, 3, 2))
    duals = [rng.uniform(size=s) for s in mwmre.dual_shapes(g.shape[1:], concept)]
    prior = np.log(rng.dirichlet(np.ones(12))).reshape(2, 3, 2)
    kw = dict(target_epsilon=np.array([0.0, -0.1, 0.2]), eps_plus=1.5, rho=3.0,
              log_prior=prior, mu=0.3)
    with jax.enable_x64(True):
        jg, jd = jnp.asarray(g), [jnp.asarray(d) for d in duals]
        jkw = {k: (jnp.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        value = mwmre.loss(g, duals, concept, **kw)
        assert float(mwmre.loss(jg, jd, concept, **jkw)) == pytest.approx(float(value), abs=1e-12)
        grad = jax.grad(lambda d: mwmre.loss(jg, d, concept, **jkw))(jd)
        mine = mwmre.dual_gradient(g, duals, concept, **kw)
        masks = mwmre.dual_masks(g.shape[1:], concept)
        for a, b, m in zip(grad, mine, masks):
            np.testing.assert_allclose(np.asarray(a) * m, b, atol=1e-10)
        # Hessian-vector product against jax
        v = [rng.normal(size=d.shape) * m for d, m in zip(duals, masks)]
        hv_jax = jax.jvp(lambda d: jax.grad(lambda e: mwmre.loss(jg, e, concept, **jkw))(d),
                         (jd,), ([jnp.asarray(x) for x in v],))[1]
        hv = mwmre.dual_hvp(g, duals, v, concept, **{k: kw[k] for k in
                                                     ("target_epsilon", "eps_plus", "rho",
                                                      "log_prior", "mu")})
        for a, b, m in zip(hv_jax, hv, masks):
            np.testing.assert_allclose(np.asarray(a) * m, b, atol=1e-10)
        # jit and vmap over a batch of games
        batch = jnp.asarray(rng.normal(size=(5,) + g.shape))
        f = jax.jit(jax.vmap(lambda x: mwmre.maxent_loss(x, jd, concept, epsilon=0.1)))
        out = np.asarray(f(batch))
        for i in range(5):
            assert out[i] == pytest.approx(float(mwmre.maxent_loss(np.asarray(batch[i]), duals,
                                                                   concept, epsilon=0.1)),
                                           abs=1e-12)
        np.testing.assert_allclose(np.asarray(mwmre.joint(jg, jd, concept)).sum(), 1.0)


def test_mwmre_target_loss_at_optimum_equals_primal():
    """Strong duality for Theorem 1: the proof's loss at the minimiser is the primal value."""
    game = sp.load_game("chicken")
    g = game.payoffs / 5.0
    sol = solve(game.with_payoffs(g), "ce", target_epsilon=-0.05, eps_plus=1.0, rho=4.0)
    duals = sol.extra["duals"]
    kw = dict(target_epsilon=-0.05, eps_plus=1.0, rho=4.0)
    dual_value = mwmre.loss(g, duals, "ce", **kw) + 4.0 * 2 * 1.0   # + rho sum eps+
    eps = mwmre.target_epsilons(duals, "ce", -0.05, 1.0, 4.0)
    primal = mwmre.primal_objective(g, sol.joint, epsilons=eps, **kw)
    assert dual_value == pytest.approx(float(primal), abs=1e-9)
    assert sol.objective == pytest.approx(float(primal), abs=1e-9)


def test_mwmre_target_loss_keeps_float32_precision_at_large_rho():
    """At rho 1e6 the proof's form of the loss is about 8e6 in size: in float32 its value
    was off by tenths (0.2 between a GPU and a CPU for the same duals). The loss is now
    computed without the large constants: float32 within 1e-3 of float64."""
    import jax.numpy as jnp

    rng = np.random.default_rng(5)
    kw = dict(target_epsilon=0.0, eps_plus=8.0, rho=1e6)
    worst = 0.0
    for _ in range(20):
        g = rng.normal(size=(2, 8, 8))
        duals = [rng.uniform(0, 20, size=(8, 8)) * rng.binomial(1, 0.3, size=(8, 8))
                 for _ in range(2)]
        exact = float(mwmre.loss(g, duals, "ce", **kw))
        single = float(mwmre.loss(jnp.asarray(g, jnp.float32),
                                  [jnp.asarray(d, jnp.float32) for d in duals], "ce", **kw))
        worst = max(worst, abs(single - exact))
    assert worst < 1e-3, worst


# --------------------------------------------------------------------------------------
# Batched solving
# --------------------------------------------------------------------------------------
def test_solve_batch_matches_single_solves_and_compiles_once():
    from spielplatz.equilibria.mwmre import kernel as batched

    rng = np.random.default_rng(13)
    payoffs = rng.uniform(size=(64, 2, 4, 4))
    before = batched.compile_count()
    out = sp.solve_batch(payoffs, solver="maxent", concept="ce")
    after_first = batched.compile_count()
    again = sp.solve_batch(payoffs * 3.0 + 1.0, solver="maxent", concept="ce")
    assert after_first - before <= 1                       # one compile for this shape
    assert batched.compile_count() == after_first          # same shape: no new compile
    assert len(out) == 64 and out.all_optimal and again.all_optimal
    assert out.joints.shape == (64, 4, 4) and out.epsilons.shape == (64, 2)
    assert np.all(out.gaps <= 1e-8)
    for i in range(64):
        single = solve(payoffs[i], "ce")
        np.testing.assert_allclose(out.joints[i], single.joint, atol=1e-6)
        np.testing.assert_allclose(again.joints[i], single.joint, atol=1e-6)
        np.testing.assert_allclose(out.epsilons[i],
                                   deviations.epsilons(payoffs[i], out.joints[i], "ce"),
                                   atol=1e-14)
    json.dumps(out.to_dict())
    assert "64 4x4 games" in str(out)


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_solve_batch_threads_give_the_same_answers(concept):
    """Host threads only split the games between callers of the same compiled function:
    every game's iterations and answer are those of one thread."""
    from spielplatz.equilibria.mwmre.batched import MAX_DEFAULT_THREADS
    from spielplatz.system.resources import usable_cpus

    payoffs = np.random.default_rng(21).normal(size=(96, 2, 4, 4))
    one = sp.solve_batch(payoffs, solver="maxent", concept=concept, threads=1, chunk=8)
    three = sp.solve_batch(payoffs, solver="maxent", concept=concept, threads=3, chunk=8)
    auto = sp.solve_batch(payoffs, solver="maxent", concept=concept, chunk=8)
    assert one.all_optimal and three.all_optimal and auto.all_optimal
    np.testing.assert_array_equal(one.iterations, three.iterations)
    np.testing.assert_allclose(three.joints, one.joints, rtol=0, atol=1e-13)
    np.testing.assert_allclose(auto.joints, one.joints, rtol=0, atol=1e-13)
    assert usable_cpus() >= 1 and MAX_DEFAULT_THREADS == 4


def test_solve_batch_returns_certified_zeros_exactly():
    """Issue 15: zeros the batch's duals prove (strictly dominated recommendations) come
    back as exact zeros, where the single-game path has its zeros; ``exact_zeros``
    sends the rest to the support LP, so that every zero is exact."""
    games = np.random.default_rng(15).standard_normal((24, 2, 6, 6))
    out = sp.solve_batch(games, solver="maxent", concept="ce")
    routes = out.extra["support_routes"]
    assert set(routes) <= {"none", "dominance", "lp", "vanishing"}
    assert (routes == "dominance").sum() >= 7                    # measured: 14 of 24
    exact = sp.solve_batch(games, solver="maxent", concept="ce", exact_zeros=True)
    assert out.all_optimal and exact.all_optimal
    assert "vanishing" not in set(exact.extra["support_routes"])
    for i in range(len(games)):
        single = sp.solve(games[i], solver="maxent", concept="ce")
        assert np.abs(out.joints[i] - single.joint).sum() < 1e-7
        np.testing.assert_array_equal(exact.joints[i] == 0, single.joint == 0)
        if routes[i] in ("none", "dominance"):
            np.testing.assert_array_equal(out.joints[i] == 0, single.joint == 0)
    # CCE and epsilon > 0: no certificate of this kind, masses are left as found
    for concept, eps in (("cce", 0.0), ("ce", 0.01)):
        other = sp.solve_batch(games[:6], solver="maxent", concept=concept, epsilon=eps)
        assert "dominance" not in set(other.extra["support_routes"])
        assert not (np.asarray(other.joints) == 0).any() or other.extra["fallback"]
    with pytest.raises(SpielplatzError, match="exact_zeros .* needs fallback=True"):
        sp.solve_batch(games[:2], solver="maxent", exact_zeros=True, fallback=False)


def test_batch_drops_unplayable_recommendations_as_newton_goes(monkeypatch):
    """Issue 15: the batched kernel drops the recommendations its duals prove unplayable
    after every Newton step (logit -inf: exact zeros) and goes on with the smaller
    problem. Every joint action it drops is a zero of the single-game answer, and the
    answers are those of the kernel without dropping, in fewer iterations (48 8x8
    N(0, 1) games, measured: drops in 38, 13.3 against 19.3 iterations; on 500 games
    16.2 against 24.5, and 7 against 29 games left to the exact path)."""
    from spielplatz.equilibria.mwmre import batched

    from spielplatz.equilibria.mwmre import newton

    monkeypatch.setattr(newton, "COMPILED", False)          # the kernel, not the compiled driver
    games = np.random.default_rng(23).standard_normal((48, 2, 8, 8))
    seen = {}
    rounds = batched.run_rounds

    def recording(*args, **kwargs):
        seen["out"] = out = rounds(*args, **kwargs)
        return out

    monkeypatch.setattr(batched, "run_rounds", recording)
    out = sp.solve_batch(games, solver="maxent", concept="ce", threads=1)
    dropped = ~np.isfinite(seen["out"]["base"])
    monkeypatch.setattr(batched, "run_rounds",
                        lambda *a, **k: rounds(*a, **dict(k, eliminate=False)))
    plain = sp.solve_batch(games, solver="maxent", concept="ce", threads=1)
    assert out.all_optimal and plain.all_optimal
    assert dropped.reshape(48, -1).any(axis=1).sum() >= 25         # measured: 38 of 48
    for i in range(len(games)):
        single = sp.solve(games[i], solver="maxent", concept="ce")
        assert np.all(single.joint[dropped[i]] == 0) and np.all(out.joints[i][dropped[i]] == 0)
        assert np.abs(out.joints[i] - single.joint).sum() < 1e-7
        assert np.abs(out.joints[i] - plain.joints[i]).sum() < 1e-6
    assert np.mean(out.iterations) < 0.85 * np.mean(plain.iterations)
    assert len(out.extra["fallback"]) <= len(plain.extra["fallback"])


@pytest.mark.parametrize("shape", [(6, 6), (3, 4, 2)])
def test_batch_dominance_certificate_equals_the_single_game_one(shape):
    """``batch_dominated`` proves exactly what ``dominated`` proves, game by game, for
    random duals (converged or not) and payoffs, two and three players."""
    from spielplatz.equilibria.mwmre.dominance import batch_dominated, dominated
    from spielplatz.equilibria.mwmre.problem import DualProblem

    rng = np.random.default_rng(7)
    n, b = len(shape), 80
    payoffs = rng.standard_normal((b, n) + shape)
    k = sum(a * a for a in shape)
    alphas = rng.exponential(size=(b, k)) * rng.choice([0.0, 1.0, 30.0], size=(b, k))
    support = batch_dominated(payoffs, alphas)
    changed = 0
    for i in range(b):
        problem = DualProblem(payoffs[i], "ce", np.zeros(shape), epsilon=np.zeros(n))
        single = dominated(problem, alphas[i])
        expected = np.ones(shape, dtype=bool) if single is None else single
        np.testing.assert_array_equal(support[i], expected)
        changed += single is not None
    assert changed >= 3                  # measured: 11 (6x6) and 5 (3x4x2) of 80


def test_solve_batch_cce_target_and_errors():
    rng = np.random.default_rng(14)
    payoffs = rng.uniform(size=(6, 3, 2, 3, 2))
    prior = rng.dirichlet(np.ones(12), size=6).reshape(6, 2, 3, 2)
    for kw in (dict(target_epsilon=-0.2, eps_plus=1.0, rho=2.0), dict(target_epsilon=0.1),
               dict(epsilon=0.05, mu=0.5)):
        out = sp.solve_batch(payoffs, concept="cce", prior=prior, **kw)
        assert out.all_optimal
        for i in range(6):
            single = solve(payoffs[i], "cce", prior=prior[i], **kw)
            np.testing.assert_allclose(out.joints[i], single.joint, atol=1e-6)
    with pytest.raises(SpielplatzError, match="shape"):
        sp.solve_batch(np.zeros((2, 2, 3)), concept="ce")
    with pytest.raises(SpielplatzError, match="not finite"):
        sp.solve_batch(np.full((2, 2, 2, 2), np.nan), concept="ce")


@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_warm_start_gives_the_same_answer_in_fewer_iterations(concept):
    """``initial_duals`` (payoff units, the layout of ``extra["duals"]``) only changes
    where Newton starts: from the answer's own duals it has nothing left to do."""
    rng = np.random.default_rng(21)
    payoffs = rng.normal(size=(32, 2, 3, 3)) * 4.0 + 2.0      # CE: 4 interior answers
    cold = sp.solve_batch(payoffs, solver="maxent", concept=concept)
    assert cold.all_optimal
    duals = cold.extra["duals"]
    assert [d.shape for d in duals] == ([(32, 3, 3)] * 2 if concept == "ce" else [(32, 3)] * 2)
    # the returned duals are the answer's: sigma = softmax(-adjoint(duals)) where it has
    # no zeros (uniform prior, mu = 0)
    adjoint = (deviations.ce_gains_adjoint if concept == "ce" else deviations.cce_gains_adjoint)
    interior = [i for i in range(32) if cold.joints[i].min() > 1e-6]
    assert len(interior) >= 4
    for i in interior:
        logits = -np.asarray(adjoint(payoffs[i], [d[i] for d in duals]))
        sigma = np.exp(logits - logits.max())
        np.testing.assert_allclose(sigma / sigma.sum(), cold.joints[i], atol=1e-7)
    warm = sp.solve_batch(payoffs, solver="maxent", concept=concept, initial_duals=duals)
    assert warm.all_optimal
    np.testing.assert_allclose(warm.joints, cold.joints, atol=1e-7)
    assert np.all(warm.iterations[interior] <= 1)
    assert warm.iterations.sum() < cold.iterations.sum()
    if concept == "ce":
        # every game, zeros included: the duals that proved the zeros prove them again
        # at the start (measured: 0 iterations in all, none re-solved on the exact path)
        assert warm.iterations.max() <= 1 < cold.iterations.max()
        assert not warm.extra["fallback"]
    # single games: the same option, the same answer
    game = sp.NormalFormGame(payoffs[interior[0]])
    one = sp.solve(game, solver="maxent", concept=concept)
    again = sp.solve(game, solver="maxent", concept=concept, initial_duals=one.extra["duals"])
    assert again.status == "optimal" and again.iterations <= 1 < one.iterations
    np.testing.assert_allclose(again.joint, one.joint, atol=1e-9)
    json.dumps(warm.to_dict())


def test_batch_never_returns_a_collapsed_joint_as_optimal():
    """Review of issue 15: a line search that accepted a growing dual loss (for a smaller
    residual) could collapse a joint onto a pure CE whose projected gradient underflows
    to 0, and the host's checks passed it. Steps that grow the loss are refused, and the
    kernel's dual loss must match its joint's objective (weak duality, ``dual_gaps_ok``);
    games that fall to the exact path get its nearest-CE answer, not ``failed``.
    Measured on these games before the fix: with ``mu = -200`` 7 of 16 CE answers
    differed from the single-game ones (L1 up to 1.9, status ``failed``)."""
    from spielplatz.equilibria.mwmre.kernel import dual_gaps_ok

    games = np.random.default_rng(77).standard_normal((16, 2, 4, 4))
    rank = {"failed": 0, "approximate": 1, "optimal": 2}
    for mu in (200.0, -200.0):
        out = sp.solve_batch(games, solver="maxent", concept="ce", mu=mu)
        assert "failed" not in set(out.statuses)
        for i in range(len(games)):
            single = sp.solve(games[i], solver="maxent", concept="ce", mu=mu)
            # the compiled batch (exact Newton steps, 80 iterations) certifies two answers
            # that the single path, giving up at 40, leaves approximate (L1 1e-10 apart)
            assert rank[out.statuses[i]] >= rank[single.status]
            assert np.abs(out.joints[i] - single.joint).sum() < 1e-6
    # a pure joint with duals that ran off: its loss is far above its objective
    pure = np.zeros((2, 2, 2))
    pure[:, 0, 0] = 1.0
    base = np.full((2, 2, 2), -np.log(4.0))
    alpha = np.array([[0.0, 3e23, 1e23, 0.0] * 2, [0.0, 0.5, 0.2, 0.0] * 2])
    sane = {"joint": pure, "base": base, "alpha": alpha,
            "value": np.array([2.8e23, -np.log(4.0) + 1e-12])}
    np.testing.assert_array_equal(dual_gaps_ok(sane, False), [False, True])
    np.testing.assert_array_equal(dual_gaps_ok(sane, True), [True, True])


def test_warm_start_errors():
    payoffs = np.random.default_rng(2).normal(size=(3, 2, 3, 3))
    with pytest.raises(SpielplatzError, match="need 2 per-player arrays"):
        sp.solve_batch(payoffs, solver="maxent", concept="cce", initial_duals=[np.zeros((3, 3))])
    with pytest.raises(SpielplatzError, match=r"player 1 must have shape \[3\] or \[3, 3\]"):
        sp.solve_batch(payoffs, solver="maxent", concept="cce",
                       initial_duals=[np.zeros((3, 3)), np.zeros((3, 4))])
    with pytest.raises(SpielplatzError, match="player 0 are not finite"):
        sp.solve(sp.NormalFormGame(payoffs[0]), solver="maxent", concept="ce",
                 initial_duals=[np.full((3, 3), np.nan), np.zeros((3, 3))])
    # negative entries are projected onto alpha >= 0: the cold start, step for step
    a = sp.solve(sp.NormalFormGame(payoffs[0]), solver="maxent", concept="ce")
    b = sp.solve(sp.NormalFormGame(payoffs[0]), solver="maxent", concept="ce",
                 initial_duals=[-np.ones((3, 3)), -np.ones((3, 3))])
    np.testing.assert_allclose(a.joint, b.joint, atol=1e-9)
    assert b.iterations == a.iterations
    batch = sp.solve_batch(payoffs, solver="maxent", concept="cce")
    again = sp.solve_batch(payoffs, solver="maxent", concept="cce",
                           initial_duals=[-np.ones((3, 3)), -5 * np.ones((3, 3))])
    np.testing.assert_array_equal(again.iterations, batch.iterations)


def test_max_iter_caps_the_batched_iterations():
    payoffs = np.random.default_rng(3).normal(size=(10, 2, 6, 6))
    out = sp.solve_batch(payoffs, solver="maxent", concept="ce", max_iter=3, fallback=False)
    assert out.iterations.max() <= 3 and "approximate" in out.statuses


def test_dense_matrix_is_the_constraint_matrix():
    """The exact path's dense constraint matrix (built without the sparse one) has the
    sparse matrix's numbers, for CE (with the diagonal rows) and CCE (issue 15)."""
    from spielplatz.equilibria.constraints import constraint_matrix
    from spielplatz.equilibria.mwmre.problem import dense_matrix

    rng = np.random.default_rng(15)
    for shape in [(8, 8), (3, 5), (2, 3, 4), (4, 2, 3, 2), (1, 3)]:
        g = rng.standard_normal((len(shape),) + shape)
        g[0].flat[0] = g[0].flat[1]                       # a tie: a stored zero
        for concept in ("ce", "cce"):
            sparse = constraint_matrix(g, concept, include_diagonal=True).toarray()
            assert np.array_equal(dense_matrix(g, concept), sparse)


def test_remembered_certificates_follow_their_inputs():
    """certify remembers small games' certificates (the solver and the host's audit check
    the same answer back to back); another epsilon, joint or tolerance is decided anew."""
    from spielplatz.equilibria.certificate import certify

    game = sp.load_game("prisoners_dilemma").payoffs
    pure = np.array([[0.0, 0.0], [0.0, 1.0]])
    coop = np.array([[1.0, 0.0], [0.0, 0.0]])
    for _ in range(2):
        assert certify(game, pure, "ce").certified
        assert not certify(game, coop, "ce").certified
        assert certify(game, coop, "ce", epsilon=1.0).certified
        assert not certify(game, coop, "ce", epsilon=0.5).certified
        assert certify(game, coop, "ce", epsilon=0.5, tolerance=1.0).certified
