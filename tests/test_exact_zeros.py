"""``solve_batch(..., exact_zeros=True)``: every zero of a batch's exact CE answers
identified without the single-game path (:mod:`spielplatz.equilibria.mwmre.zeros`):
interior joints, Farkas certificates and the support LP, each checked against the LP
that decides the face on its own."""

import numpy as np
import pytest

import spielplatz as sp
from spielplatz.equilibria import deviations
from spielplatz.equilibria.certificate import certify, certify_exact_batch
from spielplatz.equilibria.constraints import constraint_matrix
from spielplatz.equilibria.highs import solve_lp
from spielplatz.equilibria.mwmre import zeros
from spielplatz.equilibria.mwmre.batch_threads import SHARE, share_bounds
from spielplatz.equilibria.mwmre.compiled_batch import constraint_rows
from spielplatz.equilibria.polytope import cone_support, face_support


def _rows(games):
    scales = deviations.batch_payoff_scales(games)
    return constraint_rows(deviations.remove_offsets(games, games.shape[1])
                           / scales[:, None, None, None], "ce")


@pytest.fixture(scope="module")
def batches():
    rng = np.random.default_rng(15)
    normal = rng.standard_normal((160, 2, 8, 8))
    uniform = np.random.default_rng(16).uniform(size=(160, 2, 8, 8))
    return {name: (games, sp.solve_batch(games, solver="maxent", concept="ce",
                                         exact_zeros=True))
            for name, games in (("normal", normal), ("uniform", uniform))}


@pytest.mark.parametrize("name", ["normal", "uniform"])
def test_every_face_is_the_support_lps(batches, name):
    """Each answer's support is what the support LP finds for the whole game, whichever
    route found it: no zero missed, and none made up but those the duals' dominance
    certificate proves (exact zeros of every exact CE, which the LP, within its
    feasibility tolerance, may still count as played). Every route is taken."""
    games, out = batches[name]
    default = sp.solve_batch(games, solver="maxent", concept="ce")
    proven = (np.asarray(default.joints) == 0).reshape(len(games), -1)
    routes = out.extra["support_routes"]
    assert out.all_optimal and "vanishing" not in set(routes)
    ptp = np.ptp(games.reshape(len(games), -1), axis=1)
    assert np.all(out.gaps <= 1e-8 * ptp)
    counts = {r: int((routes == r).sum()) for r in ("interior", "farkas", "lp", "dominance")}
    assert min(counts.values()) >= 2, counts            # measured: 8+ of each kind
    rows = _rows(games)
    joints = np.asarray(out.joints).reshape(len(games), -1)
    for i in range(len(games)):
        lp = cone_support(rows[i])
        np.testing.assert_array_equal(joints[i] > 0, lp & ~proven[i],
                                      err_msg=f"game {i} ({routes[i]})")
        on = joints[i] > 0
        assert cone_support(rows[i][:, on]).all(), f"game {i}: a zero missed"


def test_farkas_zeros_hold_no_mass_in_any_ce(batches):
    """The zeros of the Farkas route: the largest total mass a CE can put on them (an LP
    over the whole CE polytope) is 0 to HiGHS' tolerance."""
    games, out = batches["normal"]
    routes = out.extra["support_routes"]
    chosen = np.flatnonzero(routes == "farkas")
    assert chosen.size >= 5
    for i in chosen[:8]:
        zero = (np.asarray(out.joints[i]) == 0).ravel()
        a = constraint_matrix(deviations.remove_offsets(games[i])
                              / deviations.payoff_scale(games[i]), "ce").toarray()
        res = solve_lp(-zero.astype(float), _csr(np.vstack([a, np.ones((1, a.shape[1]))])),
                       np.concatenate([np.full(a.shape[0], -np.inf), [1.0]]),
                       np.concatenate([np.zeros(a.shape[0]), [1.0]]),
                       np.zeros(a.shape[1]), np.ones(a.shape[1]),
                       options={"primal_feasibility_tolerance": 1e-10,
                                "dual_feasibility_tolerance": 1e-10})
        assert res.status == "optimal" and -res.objective <= 1e-9


def _csr(dense):
    import scipy.sparse as sps

    return sps.csr_matrix(dense)


def test_farkas_certificate_refuses_a_positive_mass():
    """A certificate is found for the true zeros of an answer, and refused once one
    positive mass is passed off as small: no combination of the constraints can bound
    a joint action that some CE plays."""
    games = np.random.default_rng(15).standard_normal((160, 2, 8, 8))
    out = sp.solve_batch(games, solver="maxent", concept="ce", exact_zeros=True)
    i = int(np.flatnonzero(out.extra["support_routes"] == "farkas")[0])
    default = sp.solve_batch(games[i:i + 1], solver="maxent", concept="ce")
    joint = np.asarray(default.joints[0]).ravel()
    on = joint > 0
    alpha = np.concatenate([np.asarray(d[0]).ravel() for d in default.extra["duals"]]) \
        * deviations.payoff_scale(games[i])
    own = constraint_rows(games[i:i + 1], "ce")[0][:, on]
    zero = zeros.farkas_zeros(own, alpha, joint[on])
    assert zero is not None and zero.any()
    # the certificate's zeros are the answer's
    np.testing.assert_array_equal(np.flatnonzero(on)[zero],
                                  np.flatnonzero((np.asarray(out.joints[i]) == 0).ravel()
                                                 & on))
    fake = joint[on].copy()
    fake[np.argmax(fake)] = 1e-12           # a mass every CE near the answer plays
    assert zeros.farkas_zeros(own, alpha, fake) is None


def test_certify_exact_batch_is_certify():
    """The vectorised certificate decides as ``certify(..., tolerance=0)`` does, exact
    arithmetic included (gains exactly 0 in float64: matching pennies' uniform joint)."""
    rng = np.random.default_rng(3)
    payoffs = rng.standard_normal((60, 2, 3, 3))
    joints = rng.dirichlet(np.ones(9), size=60).reshape(60, 3, 3)
    # exact CE: constant games, pure equilibria of dominance-solvable games, uniform on
    # a zero-sum game whose gains vanish exactly
    payoffs[:10] = 0.0
    payoffs[10:20, 0] = np.arange(3)[:, None] * 1.0
    payoffs[10:20, 1] = np.arange(3)[None, :] * 1.0
    joints[10:20] = 0.0
    joints[10:20, 2, 2] = 1.0
    pennies = np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    payoffs[20:25] = np.stack([pennies, -pennies])
    joints[20:25] = 0.0
    joints[20:25, :2, :2] = 0.25
    got = certify_exact_batch(payoffs, joints, "ce")
    want = [certify(p, j, "ce", epsilon=0.0, tolerance=0.0).certified
            for p, j in zip(payoffs, joints)]
    np.testing.assert_array_equal(got, want)
    assert got[:25].all() and not got[25:].all()
    got = certify_exact_batch(payoffs, joints, "cce")
    want = [certify(p, j, "cce", epsilon=0.0, tolerance=0.0).certified
            for p, j in zip(payoffs, joints)]
    np.testing.assert_array_equal(got, want)


def test_cone_support_is_face_support():
    """The dense homogeneous LP gives the general facial reduction's support."""
    rng = np.random.default_rng(5)
    for _ in range(20):
        g = rng.standard_normal((2, 4, 5))
        a = constraint_matrix(g, "ce").toarray()
        want = face_support(20, B=a, b=np.zeros(a.shape[0]), equalities=False).support
        np.testing.assert_array_equal(cone_support(a), want)
    assert cone_support(np.zeros((3, 0))).size == 0


def test_shares_and_threads_give_the_same_answers(batches):
    """Host threads finishing their shares as they go: the answers and routes of one
    thread, and shares that cover every game once, the last ones smaller."""
    games, out = batches["normal"]
    one = sp.solve_batch(games, solver="maxent", concept="ce", exact_zeros=True, threads=1)
    np.testing.assert_array_equal(one.extra["support_routes"], out.extra["support_routes"])
    np.testing.assert_allclose(np.asarray(one.joints), np.asarray(out.joints), rtol=0,
                               atol=1e-13)
    for b, threads in ((500, 2), (37, 2), (1000, 4), (3, 2)):
        bounds = share_bounds(b, threads)
        sizes = np.diff(bounds)
        assert bounds[0] == 0 and bounds[-1] == b and (sizes > 0).all()
        assert sizes.max() <= SHARE and (sizes[:-1] >= min(SHARE // 4, b)).all()
        assert (np.diff(sizes) <= 0).all()


def test_a_face_answer_needs_its_kkt_conditions(monkeypatch):
    """A re-run on a Farkas face that does not converge is no face answer: those games
    take the LP, and every answer called optimal has its KKT residual within 1e-8."""
    from spielplatz.equilibria.mwmre import compiled_batch

    real = compiled_batch.run_batch

    def unconverged(*args, **kwargs):
        out = real(*args, **kwargs)
        if kwargs.get("prove") == "all":
            out["residual"][:] = 0.5
        return out

    monkeypatch.setattr(compiled_batch, "run_batch", unconverged)
    games = np.random.default_rng(15).standard_normal((160, 2, 8, 8))
    out = sp.solve_batch(games, solver="maxent", concept="ce", exact_zeros=True)
    routes = out.extra["support_routes"]
    assert out.all_optimal and "farkas" not in set(routes) and (routes == "lp").sum() >= 10
    assert np.asarray(out.extra["residuals"]["kkt"]).max() <= 1e-8


def test_a_failed_face_keeps_the_batch_answer(monkeypatch):
    """A face answer that is not certified, and an exact re-solve that fails too: the
    game keeps the batch's own certified answer (its small masses left vanishing)."""
    from spielplatz.equilibria.mwmre import batch_finish

    def wrong(rows, joint, alpha, keep):
        bent = np.where(keep, joint, 0.0) + 0.05 * keep
        return bent / bent.sum(), np.asarray(alpha, dtype=float), 0.0, 0

    def failing(payoffs, *args, **kwargs):
        res = real(payoffs, *args, **kwargs)
        return dataclasses.replace(res, joint=np.full_like(res.joint, np.nan))

    import dataclasses

    real = batch_finish.solve_exact
    monkeypatch.setattr(zeros, "on_face", wrong)
    monkeypatch.setattr(batch_finish, "solve_exact", failing)
    games = np.random.default_rng(15).standard_normal((160, 2, 8, 8))
    default = sp.solve_batch(games, solver="maxent", concept="ce")
    out = sp.solve_batch(games, solver="maxent", concept="ce", exact_zeros=True)
    kept = np.flatnonzero(out.extra["support_routes"] == "vanishing")
    assert kept.size >= 5 and out.all_optimal
    for i in kept:
        np.testing.assert_allclose(out.joints[i], default.joints[i], rtol=0, atol=1e-15)


def test_highs_instances_made_on_many_threads_leave_stdout_alone():
    """Creating HiGHS instances redirects fd 1 for its banner: threads take turns, so
    fd 1 is what it was."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from spielplatz.equilibria import highs

    before = os.fstat(1)
    for _ in range(3):      # (without the lock, about one run in five loses fd 1)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: [highs._instance(False) for _ in range(100)], range(4)))
        after = os.fstat(1)
        assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
