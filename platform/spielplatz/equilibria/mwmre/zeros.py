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
* or not: :func:`support_lps` runs the support LP
  (:func:`~spielplatz.equilibria.polytope.cone_support`) of each such game on the joint
  actions its duals left, on host threads (HiGHS runs without the GIL), built from the
  dense constraint rows the compiled loop solves with. Where it finds the batch's own
  support, the batch's answer stands; elsewhere the exact path re-solves on the LP's
  support, warm-started from the batch's duals.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from spielplatz.equilibria.certificate import certify_exact_batch
from spielplatz.equilibria.polytope import cone_support
from spielplatz.errors import SpielplatzError

__all__ = ["interior_proofs", "support_lps"]


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
    if support is not None:
        # (the final duals may have proven more zeros than the loop dropped)
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


def support_lps(g: np.ndarray, concept: str, support: np.ndarray, games: np.ndarray,
                threads: int) -> dict:
    """``{game: support}``: the support LP of each of ``games`` (indices into ``g``
    ``[B, N, A...]``, range-1 payoffs) on the joint actions its ``support`` (bool
    ``[B, A...]``) left, on ``threads`` host threads. A game whose LP fails is left out
    (the exact path runs its own and reports the failure)."""
    from spielplatz.equilibria.mwmre.compiled_batch import constraint_rows

    rows = constraint_rows(g[games], concept)
    shape = support.shape[1:]

    def one(j: int) -> tuple:
        on = support[games[j]].ravel()
        try:
            found = cone_support(rows[j][:, on])
        except SpielplatzError:
            return int(games[j]), None
        full = np.zeros(on.size, dtype=bool)
        full[np.flatnonzero(on)[found]] = True
        return int(games[j]), (full.reshape(shape) if full.any() else None)

    if threads > 1 and games.size > 1:
        with ThreadPoolExecutor(min(threads, games.size)) as pool:
            results = list(pool.map(one, range(games.size)))
    else:
        results = [one(j) for j in range(games.size)]
    return {i: found for i, found in results if found is not None}
