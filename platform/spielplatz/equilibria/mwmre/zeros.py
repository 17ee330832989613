"""The zeros of a batch's exact CE answers, found without the single-game path
(``solve_batch(..., exact_zeros=True)``).

A batch answer whose masses below 1e-9 the duals do not prove zero
(:mod:`~spielplatz.equilibria.mwmre.dominance`) has one of two faces:

* every joint action of its support is played by some CE: the masses are tiny but
  positive. :func:`interior_proofs` proves it with the joint that the compiled batch
  found for it (``prove``: :mod:`~spielplatz.equilibria.mwmre.interior`'s search, run
  inside the compiled call), every mass positive and every gain at most 0, certified
  rigorously for the whole batch at once
  (:func:`~spielplatz.equilibria.certificate.certify_exact_batch`);
* or not. :func:`farkas_zeros` then looks for a Farkas certificate of its small masses'
  zeros (no exact CE puts more than 1e-12 on them), and the compiled batch re-runs the
  game on the face that leaves, where its interior joint proves the rest playable
  (:func:`find_zeros`'s ``rerun``). Where either fails, :func:`support_lps` runs the
  support LP (:func:`~spielplatz.equilibria.polytope.cone_support`) on the joint
  actions left (each host thread its share's; HiGHS runs without the GIL), built
  from the dense constraint rows the compiled loop solves with.

Where the LP finds the batch's own support, the batch's answer stands; where the
batch's answer, its zeros made exact, satisfies the face's KKT conditions, it is kept
(:func:`on_face`); elsewhere the exact path re-solves on the face, warm-started from
the batch's duals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spielplatz.equilibria.certificate import certify_exact_batch
from spielplatz.equilibria.polytope import cone_support
from spielplatz.errors import SpielplatzError

__all__ = ["interior_proofs", "find_zeros", "farkas_zeros", "on_face", "support_lps",
           "FARKAS_BOUND"]


def interior_proofs(payoffs: np.ndarray, concept: str, out: dict,
                    support: np.ndarray | None, candidates: np.ndarray) -> np.ndarray:
    """The ``candidates`` (bool ``[B]``) whose every joint action left in the support is
    proven playable by the batch's interior joint (``out["proof"]``,
    :func:`~spielplatz.equilibria.mwmre.compiled_batch.run_batch`'s ``prove``): every
    mass of the support positive and every gain at most 0 on ``payoffs``, certified
    rigorously (tolerance 0), as :func:`~spielplatz.equilibria.mwmre.interior.full_support`
    does for one game. Bool ``[B]``."""
    proved = np.zeros(payoffs.shape[0], dtype=bool)
    if "proved" not in out:
        return proved
    b = payoffs.shape[0]
    on = np.isfinite(out["base"]).reshape(b, -1)
    games = candidates & out["proved"]
    if support is not None:     # (the proof is of the support the Newton ran on)
        games &= (support.reshape(b, -1) == on).all(axis=1)
    games = np.flatnonzero(games)
    if games.size == 0:
        return proved
    joints = np.where(on[games], out["proof"].reshape(b, -1)[games], 0.0)
    totals = joints.sum(axis=1, keepdims=True)
    joints = joints / np.where(totals > 0, totals, 1.0)
    positive = np.where(on[games], joints > 0, True).all(axis=1) & (totals[:, 0] > 0)
    shape = payoffs.shape[2:]
    proved[games] = positive & certify_exact_batch(
        payoffs[games], joints.reshape((games.size,) + shape), concept)
    return proved


#: The largest total mass that a Farkas certificate of :func:`farkas_zeros` may leave to
#: its zeros in any exact CE (the support LP's own threshold is ``1 / MAX_SCALE`` = 1e-7
#: per joint action, within HiGHS' tolerances).
FARKAS_BOUND = 1e-12
#: Masses below this (the batch's ``VANISHING``) are the zeros a certificate is sought for.
_SMALL = 1e-9
_U = 2.0 ** -53


def farkas_zeros(rows: np.ndarray, alpha: np.ndarray, joint: np.ndarray) -> np.ndarray | None:
    """The joint actions of ``joint`` (``[S]``, the support's masses) below 1e-9, proven
    zero by a Farkas certificate, or ``None``.

    ``rows`` ``[K, S]`` are the exact CE constraints ``rows @ sigma <= 0`` on the support,
    each coefficient the float64 difference of two of the game's own payoffs (within a
    relative ``u`` of the true one), ``alpha`` ``[K]`` the batch's duals. A combination ``y >= 0`` of
    the rows whose duals are positive (the ones that grew as the masses vanished) with
    ``v = rows' y >= 1`` on the small masses ``Z`` and ``v = 0`` on the rest is sought by
    non-negative least squares (:func:`scipy.optimize.nnls`, slack columns for ``>=``).
    Every CE ``sigma`` has ``0 >= y' rows sigma = sum_a sigma(a) v(a)``, so with ``v``
    rigorously at least ``m_Z > 0`` on ``Z`` and at least ``-m`` elsewhere (float64
    rounding of ``v`` and of the rows themselves bounded, Higham eq. 3.5),
    ``sigma(Z) <= m / (m_Z + m)``; the zeros are accepted when that is at most
    :data:`FARKAS_BOUND`. ``None`` where it is not (e.g. some small masses are positive:
    the support LP decides those games)."""
    from scipy.optimize import nnls

    small = joint < _SMALL
    active = (alpha > 0) & (rows != 0).any(axis=1)
    if not small.any() or small.all() or not active.any():
        return None
    a = rows[active]                                                # [K', S]
    k, z = a.shape[0], int(small.sum())
    system = np.zeros((joint.size, k + z))
    system[:, :k] = a.T
    system[np.flatnonzero(small), k + np.arange(z)] = -1.0          # v(Z) - slack = 1
    try:
        y = nnls(system, small.astype(float), maxiter=10 * (k + z))[0][:k]
    except (RuntimeError, ValueError):      # (iteration limit; rows not finite)
        return None
    v = a.T @ y
    if not np.isfinite(v).all():
        return None
    # |fl(v) - v| <= gamma_K (|a|' y), and the coefficients' own rounding adds u (|a|' y)
    # (products that underflow: 2^-1074 each)
    err = ((k + 4) * _U * (np.abs(a).T @ y) + (k + 2) * 2.0 ** -1074) * (1 + 1e-6)
    m_zero = (v - err)[small].min()
    m_rest = max(0.0, float((err - v)[~small].max()))
    if not m_zero > 0 or m_rest > FARKAS_BOUND * m_zero:
        return None
    return small


def find_zeros(payoffs: np.ndarray, g: np.ndarray, concept: str, support: np.ndarray,
               joints: np.ndarray, alphas: np.ndarray, games: np.ndarray,
               rerun: Any = None) -> dict:
    """``{game: (support, route, face)}`` for ``games`` (exact CE answers ``joints``
    ``[B, A...]`` of games ``payoffs`` (``g``: the same at range 1) with masses below
    1e-9 on their ``support``; duals ``alphas`` ``[B, K]``).

    ``"farkas"``: the support less the zeros that :func:`farkas_zeros` proves, where
    ``rerun(games, supports, alphas)`` (the compiled batch on those faces, warm-started,
    every game looking for its interior joint) proves the rest of the support playable
    (:func:`interior_proofs`); ``face`` is then that answer, ``(joint, alpha, residual,
    iterations)``. Else ``"lp"``: the support LP's (:func:`support_lps`), ``face`` the
    batch's own answer on it (:func:`on_face`) or ``None``. A game whose LP fails is
    left out."""
    from spielplatz.equilibria.mwmre.compiled_batch import constraint_rows
    from spielplatz.equilibria.mwmre.config import KKT_TOLERANCE

    rows = constraint_rows(g[games], concept)           # (the LP's, as the exact path's)
    # (the certificate's coefficients: differences of the game's own payoffs)
    own = None if rerun is None else constraint_rows(payoffs[games], concept)
    b, shape = g.shape[0], support.shape[1:]
    flat, masses = support.reshape(b, -1), joints.reshape(b, -1)
    faces = {}
    for j, i in enumerate(games):
        on = flat[i]
        zero = None if rerun is None else farkas_zeros(own[j][:, on], alphas[i], masses[i][on])
        if zero is not None:
            keep = on.copy()
            keep[np.flatnonzero(on)[zero]] = False
            faces[int(i)] = keep
    found = {}
    if faces:
        idx = np.array(sorted(faces))
        out = rerun(idx, np.stack([faces[i] for i in idx]).reshape((idx.size,) + shape),
                    alphas[idx])
        on = np.isfinite(out["base"])
        proved = interior_proofs(payoffs[idx], concept, out, on, np.ones(idx.size, dtype=bool))
        settled = proved & out["dual_ok"] & (out["residual"] <= KKT_TOLERANCE)
        for j, i in enumerate(idx):
            if settled[j]:
                found[int(i)] = (on[j], "farkas", (out["joint"][j].ravel(), out["alpha"][j],
                                                   float(out["residual"][j]),
                                                   int(out["iterations"][j])))
    rest = np.array([j for j, i in enumerate(games) if int(i) not in found], dtype=int)
    where = {int(i): j for j, i in enumerate(games)}
    # (a face whose zeros a certificate proved: every CE puts at most 1e-12 on those
    # zeros, far below the LP's own 1e-7, so its LP runs on the face, much smaller)
    narrowed = support.copy()
    for i, keep in faces.items():
        narrowed[i] = keep.reshape(shape)
    for i, lp in support_lps(g, concept, narrowed, games[rest], rows=rows[rest]).items():
        found[i] = (lp, "lp", on_face(rows[where[i]], masses[i], alphas[i], lp.ravel()))
    return found


def on_face(rows: np.ndarray, joint: np.ndarray, alpha: np.ndarray,
            keep: np.ndarray) -> tuple | None:
    """The batch's answer on the face its zeros were found on, if it is the answer there:
    ``(joint, alpha, residual, 0)`` (no iterations) or ``None``.

    ``rows`` ``[K, S]`` are the exact CE constraints (range 1) of the whole game,
    ``joint`` ``[S]`` and ``alpha`` ``[K]`` the batch's answer and duals, ``keep`` the
    support found. The joint of the duals on the face is the batch's joint restricted
    to it and renormalised (the same logits; constraints that vanish on the face change
    no logit there, and keep their duals). It is the face's answer when its projected
    dual gradient is within :data:`~spielplatz.equilibria.mwmre.config.KKT_TOLERANCE`
    and its dual gap (``alpha . grad``) within the batch's own bound
    (:func:`~spielplatz.equilibria.mwmre.kernel.dual_gaps_ok`); else the exact path
    re-solves the game on the face."""
    from spielplatz.equilibria.mwmre.config import KKT_TOLERANCE

    sigma = np.where(keep, joint, 0.0)
    total = sigma.sum()
    if not total > 0:
        return None
    sigma = sigma / total
    live = (rows[:, keep] != 0).any(axis=1)
    duals = np.where(live, alpha, 0.0)
    grad = np.where(live, -(rows @ sigma), 0.0)                 # epsilon 0
    residual = float(np.abs(np.minimum(grad, duals)).max(initial=0.0))
    gap = abs(float(duals @ grad))
    if not (residual <= KKT_TOLERANCE
            and gap <= KKT_TOLERANCE * (1.0 + np.abs(duals).sum() + duals.size)):
        return None
    # (rows that vanish on the face keep the batch's duals, as the compiled batch's do)
    return sigma, np.asarray(alpha, dtype=float).copy(), residual, 0


def support_lps(g: np.ndarray, concept: str, support: np.ndarray, games: np.ndarray,
                rows: np.ndarray | None = None) -> dict:
    """``{game: support}``: the support LP of each of ``games`` (indices into ``g``
    ``[B, N, A...]``, range-1 payoffs) on the joint actions its ``support`` (bool
    ``[B, A...]``) left (on the calling thread: each host thread runs its share's). A
    game whose LP fails is left out (the exact path runs its own and reports the
    failure). ``rows``: the games'
    :func:`~spielplatz.equilibria.mwmre.compiled_batch.constraint_rows` if computed."""
    from spielplatz.equilibria.mwmre.compiled_batch import constraint_rows

    rows = constraint_rows(g[games], concept) if rows is None else rows
    found = {}
    for j, i in enumerate(games):
        on = support[i].ravel()
        try:
            lp = cone_support(rows[j][:, on])
        except SpielplatzError:
            continue
        if lp.any():
            full = np.zeros(on.size, dtype=bool)
            full[np.flatnonzero(on)[lp]] = True
            found[int(i)] = full.reshape(support.shape[1:])
    return found
