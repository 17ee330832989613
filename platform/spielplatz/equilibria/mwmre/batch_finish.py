"""What :func:`~spielplatz.equilibria.mwmre.batched.solve_batch` does with the batch's
answers: certify every game on the host, find the zeros (``exact_zeros``), re-solve the
uncertified games on the exact single-game path, and build the
:class:`~spielplatz.equilibria.mwmre.batch_result.BatchResult`.

:class:`Finisher` does it for any set of games (:meth:`Finisher.part`), so the
compiled batch's host threads can finish the games they ran while the others still run
Newton (its calls release the GIL; the host's work here mostly holds it, so one thread
finishes at a time): on two cores the batch and its finishing overlap instead of
following each other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spielplatz.equilibria import deviations
from spielplatz.equilibria.certificate import GAP_TOLERANCE, certify, rounding_bound
from spielplatz.equilibria.mwmre.batch_result import BatchResult
from spielplatz.equilibria.mwmre.config import KKT_TOLERANCE
from spielplatz.equilibria.mwmre.dominance import batch_dominated, certified_zeros
from spielplatz.equilibria.mwmre.dual import unflatten_duals
from spielplatz.equilibria.mwmre.exact import result_of, solve_exact
from spielplatz.equilibria.mwmre.kernel import dual_gaps_ok
from spielplatz.equilibria.mwmre.zeros import find_zeros, interior_proofs

__all__ = ["Finisher", "VANISHING"]

#: Masses below this count as zeros of the answer (``support_routes``).
VANISHING = 1e-9


def _gaps(payoffs: np.ndarray, joints: np.ndarray, eps_req: np.ndarray, scales: np.ndarray,
          concept: str) -> tuple:
    """``(achieved, violations, within, borderline)`` for joints ``[B, A...]``: each
    player's epsilon, the largest excess over ``eps_req``, whether it is within
    ``GAP_TOLERANCE`` of the payoff range, and which games were within rounding of that
    tolerance (the certificate's rigorous rounding bound for this game size) and so
    decided rigorously (:func:`~spielplatz.equilibria.certificate.certify`)."""
    achieved = deviations.batch_epsilons(payoffs, joints, concept)
    violations = (achieved - eps_req).max(axis=1)
    within = violations <= GAP_TOLERANCE * scales
    window = rounding_bound(int(np.prod(payoffs.shape[2:])) + max(payoffs.shape[2:])) * scales
    borderline = np.abs(violations - GAP_TOLERANCE * scales) <= window
    for i in np.flatnonzero(borderline):
        within[i] = certify(payoffs[i], joints[i], concept, epsilon=eps_req[i]).certified
    return achieved, violations, within, borderline


class Finisher:
    """The host's side of a batched solve, game range by game range.

    ``out`` is the batch's output (``joint``, ``alpha``, ``base``, ``eps``, ``residual``,
    ``iterations``, ``value``, ``dual_ok``; ``proof``/``proved`` from a compiled batch
    with ``prove``), filled for the games before :meth:`part` is called on them;
    ``g`` the games at payoff range 1; ``zeros_ok``: exact CE (zeros proven by the
    duals); ``options_of(i)``: game ``i``'s validated options for the exact path;
    ``rerun(games, supports, duals)``: the compiled batch on those games restricted to
    those supports (:func:`~spielplatz.equilibria.mwmre.zeros.find_zeros`), if any."""

    def __init__(self, payoffs: np.ndarray, g: np.ndarray, concept: str, options_of: Any,
                 config: dict, scales: np.ndarray, *, duals: int, fallback: bool,
                 exact_zeros: bool, zeros_ok: bool, rerun: Any = None) -> None:
        b = payoffs.shape[0]
        self.payoffs, self.g, self.concept, self.options_of = payoffs, g, concept, options_of
        self.config, self.scales = config, scales
        self.fallback, self.exact_zeros, self.zeros_ok = fallback, exact_zeros, zeros_ok
        self.rerun = rerun
        self.joints = np.zeros(payoffs.shape[:1] + payoffs.shape[2:])
        self.routes = np.empty(b, dtype=object)
        self.residuals = np.zeros(b)
        self.iterations = np.zeros(b, dtype=int)
        self.alphas = np.zeros((b, duals))
        self.eps_req = np.zeros(payoffs.shape[:2])
        self.achieved = np.zeros(payoffs.shape[:2])
        self.violations = np.zeros(b)
        self.certified = np.zeros(b, dtype=bool)
        self.statuses = np.empty(b, dtype=object)
        self.paths = np.array(["batch"] * b, dtype=object)
        self.fell_back = np.zeros(b, dtype=bool)

    def part(self, out: dict, games: np.ndarray) -> None:
        """Certify ``games`` (indices into the batch), find their zeros, re-solve as
        needed."""
        games = np.asarray(games, dtype=np.int64)
        payoffs, concept, scales = self.payoffs[games], self.concept, self.scales[games]
        b = games.size
        share = {key: out[key][games] for key in ("joint", "alpha", "base", "eps", "residual",
                                                "iterations", "value", "dual_ok", "proof",
                                                "proved")
                 if key in out}
        if "dual_ok" not in share:
            share["dual_ok"] = dual_gaps_ok(share, False)
        # zeros proven as Newton went, and by the final duals (the compiled batch checks
        # these itself)
        support = None if not self.zeros_ok else np.isfinite(share["base"]) \
            if out.get("final_dominance") else \
            batch_dominated(self.g[games], share["alpha"]) & np.isfinite(share["base"])
        joints, routes = certified_zeros(share["joint"].astype(np.float64), support, VANISHING)
        residuals = share["residual"].astype(float)
        iterations = share["iterations"].astype(int).copy()
        alphas = np.array(share["alpha"], dtype=float)
        eps_req = share["eps"] * scales[:, None]
        achieved, violations, within, borderline = _gaps(payoffs, joints, eps_req, scales,
                                                         concept)
        certified = within & (residuals <= KKT_TOLERANCE) & np.where(
            borderline, True,
            np.all(np.isfinite(joints.reshape(b, -1)), axis=1) & share["dual_ok"])
        statuses = np.where(certified, "optimal", "approximate").astype(object)
        paths = np.array(["batch"] * b, dtype=object)
        if self.exact_zeros:
            # small masses that the batch's interior joints prove positive: no LP
            proved = interior_proofs(payoffs, concept, share, support,
                                     (routes == "vanishing") & certified)
            zeros_found = np.zeros(b, dtype=bool) if support is None else \
                (~support).reshape(b, -1).any(axis=1)
            routes[proved] = np.where(zeros_found[proved], "dominance", "interior")
        for_zeros = (routes == "vanishing") & self.exact_zeros & certified
        zeros_of: dict = {}
        if for_zeros.any() and support is not None:
            # Farkas certificates, then the support LPs; where an LP finds the batch's own
            # support, the batch's answer stands (its small masses are positive)
            zeros_of = find_zeros(payoffs, self.g[games], concept, support, joints, alphas,
                                  np.flatnonzero(for_zeros),
                                  None if self.rerun is None else (
                                      lambda idx, faces, duals: self.rerun(games[idx], faces,
                                                                           duals)))
            for i, (found, route, _) in zeros_of.items():
                if (found == support[i]).all():
                    routes[i], for_zeros[i] = route, False
            # the face's answer (the batch's own on it, or its re-run there) where it is
            # certified; the others are re-solved on the face by the exact path
            faces = [i for i in np.flatnonzero(for_zeros)
                     if i in zeros_of and zeros_of[i][2] is not None]
            if faces:
                idx = np.asarray(faces)
                face_joints = np.stack([zeros_of[i][2][0].reshape(joints.shape[1:])
                                        for i in faces])
                face_achieved, face_violations, ok, _ = _gaps(
                    payoffs[idx], face_joints, eps_req[idx], scales[idx], concept)
                for j, i in enumerate(faces):
                    _, route, (_, duals, residual, extra) = zeros_of[i]
                    if not (ok[j] and residual <= KKT_TOLERANCE):
                        continue
                    joints[i], achieved[i] = face_joints[j], face_achieved[j]
                    violations[i], alphas[i], residuals[i] = face_violations[j], duals, residual
                    iterations[i] += extra
                    routes[i], for_zeros[i] = route, False
        fell_back = ~certified | for_zeros
        for i in np.flatnonzero(fell_back) if self.fallback else ():
            opts_i = self.options_of(int(games[i]))
            # warm start from the batch's duals (solve_exact restarts from zero if needed);
            # small masses: the support LP first, on the support the batch's duals left,
            # or the support found for them above
            known, route, _ = zeros_of.get(i, (None, None, None)) if for_zeros[i] \
                else (None, None, None)
            # (small masses no support was found for: the single path's proofs first)
            lp_first = (opts_i.target is None and bool(joints[i].min() < VANISHING)
                        and (known is not None or not for_zeros[i]))
            on = None if support is None else support[i]
            res = solve_exact(payoffs[i], concept, opts_i, alpha0=alphas[i], lp_first=lp_first,
                              support=on, lp_support=known)
            if not np.isfinite(res.joint).all():
                continue            # (the batch's answer stays, uncertified)
            # certified as the single-game path does: the nearest (C)CE if Newton fell short
            found = result_of(payoffs[i], concept, opts_i, res)
            if for_zeros[i] and found.status != "optimal":
                continue            # keep the certified batch answer and its small masses
            joints[i] = found.joint
            achieved[i] = np.asarray(deviations.epsilons(payoffs[i], found.joint, concept))
            eps_req[i] = found.epsilon_required
            violations[i] = (achieved[i] - eps_req[i]).max()
            residuals[i] = res.residual
            alphas[i] = res.duals
            iterations[i] += res.iterations
            routes[i] = route or ("vanishing" if res.support_route == "none"
                                  and found.joint.min() < VANISHING else res.support_route)
            statuses[i] = found.status
            certified[i] = found.certificate.certified
            paths[i] = "exact"
        for name, value in (("joints", joints), ("routes", routes), ("residuals", residuals),
                            ("iterations", iterations), ("alphas", alphas),
                            ("eps_req", eps_req), ("achieved", achieved),
                            ("violations", violations), ("certified", certified),
                            ("statuses", statuses), ("paths", paths),
                            ("fell_back", fell_back)):
            getattr(self, name)[games] = value

    def result(self, batch_time: float) -> BatchResult:
        """The :class:`BatchResult` once every game has had its :meth:`part`."""
        config = dict(self.config)
        config.pop("prior", None)
        config.pop("welfare", None)
        scales, payoffs = self.scales, self.payoffs
        return BatchResult(
            payoffs=payoffs, joints=self.joints, epsilons=self.achieved, statuses=self.statuses,
            iterations=self.iterations, config=config,
            duals=unflatten_duals(self.alphas / scales[:, None], payoffs.shape[2:],
                                  self.concept),
            residuals={"kkt": self.residuals},
            certificate={"certified": self.certified, "violation": self.violations,
                         "tolerance": GAP_TOLERANCE * scales},
            epsilon_required=self.eps_req, payoff_scales=scales,
            fallback=[int(i) for i in np.flatnonzero(self.fell_back)] if self.fallback else [],
            paths=np.array([str(p) for p in self.paths]), batch_time=batch_time,
            support_routes=np.array([str(r) for r in self.routes]))
