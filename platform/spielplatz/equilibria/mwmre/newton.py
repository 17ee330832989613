"""Projected Newton on an MWMRE dual (:class:`~spielplatz.equilibria.mwmre.problem.DualProblem`).

Variables at their bound with a positive gradient are held there, the others
take a Newton step with the exact Hessian, assembled densely when the free set
is small and applied by conjugate gradients (scipy's ``cg`` with a Jacobi
preconditioner) otherwise; an Armijo search along the projection arc makes it
globally convergent (Bertsekas 1982). :func:`support_lp` finds the support of the
relative interior of the (C)CE polytope when the answer has zeros.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.linalg.lapack import dpotrf as _potrf, dpotrs as _potrs

from spielplatz.equilibria.mwmre.problem import DENSE_ENTRIES, DualProblem
from spielplatz.equilibria.polytope import face_support
from spielplatz.errors import SpielplatzError

__all__ = ["newton", "NewtonResult", "support_lp", "min_mass", "compiled_for", "COMPILED",
           "COMPILED_DUALS", "COMPILE_AFTER", "compiled_batch_for"]


def _projected_gradient(alpha: np.ndarray, grad: np.ndarray,
                        unbounded: np.ndarray | None = None) -> np.ndarray:
    """``min(grad, alpha)``: ``alpha - max(alpha - grad, 0)`` without its rounding (the
    two differ where ``alpha`` is large against ``grad``); ``grad`` on the multipliers
    of equalities (``unbounded``)."""
    bounded = np.minimum(grad, alpha)
    return bounded if unbounded is None else np.where(unbounded, grad, bounded)


def _residual(alpha: np.ndarray, grad: np.ndarray, unbounded: np.ndarray | None) -> float:
    """Largest entry of the projected gradient, in absolute value."""
    return float(np.abs(_projected_gradient(alpha, grad, unbounded)).max(initial=0.0))


def _project(x: np.ndarray, unbounded: np.ndarray | None,
             fixed: np.ndarray | None = None) -> np.ndarray:
    """Multipliers of inequalities onto ``>= 0``; those of equalities (``unbounded``) free;
    ``fixed`` ones at 0."""
    bounded = np.maximum(x, 0.0)
    out = bounded if unbounded is None else np.where(unbounded, x, bounded)
    if fixed is not None:
        out[fixed] = 0.0
    return out


def _cg(apply, b: np.ndarray, diag: np.ndarray, tol: float, maxiter: int) -> np.ndarray:
    """Solve ``apply(x) = b`` by scipy's conjugate gradients, Jacobi-preconditioned."""
    from scipy.sparse.linalg import LinearOperator, cg

    n = b.size
    inv = 1.0 / np.maximum(diag, 1e-300)
    x, _ = cg(LinearOperator((n, n), matvec=apply, dtype=float), b, rtol=tol, atol=0.0,
              maxiter=maxiter, M=LinearOperator((n, n), matvec=lambda r: inv * r, dtype=float))
    return x


@dataclass
class NewtonResult:
    alpha: np.ndarray
    state: dict
    iterations: int
    converged: bool
    residual: float
    #: the smaller support a dominance certificate proved (the compiled path's give-up
    #: rule, :func:`~spielplatz.equilibria.mwmre.dense_newton.newton_dense`), else ``None``
    support: np.ndarray | None = None


def newton(problem: DualProblem, *, tol: float = 1e-10, max_iter: int = 200,
           alpha0: np.ndarray | None = None, dense_limit: int = 1200,
           give_up: Any = None, extrapolate: bool = True) -> NewtonResult:
    """Projected Newton on ``problem``'s dual from ``alpha0`` (zeros by default).

    Stops when the projected gradient (constraint violation and
    complementarity, in units of the payoff range) is below ``tol``, after
    ``max_iter`` iterations, or when
    ``give_up(iteration, state)`` returns true (the caller then looks for
    zeros, e.g. because the joint is collapsing towards the boundary). Small dense
    problems with a fixed epsilon run compiled where :func:`compiled_for` says so (the
    same iterates), the others in Python.
    """
    compiled = compiled_for(problem, dense_limit) if give_up is None else None
    if compiled is not None:
        return compiled.newton_dense(problem, tol=tol, max_iter=max_iter, alpha0=alpha0,
                                     extrapolate=extrapolate)
    start = time.perf_counter()
    try:
        return _loop(problem, tol, max_iter, alpha0, dense_limit, give_up, extrapolate)
    finally:
        if _eligible(problem, dense_limit):     # (the clock of COMPILED's "auto")
            _NUMBA["seconds"] = _NUMBA.get("seconds", 0.0) + time.perf_counter() - start


def _loop(problem: DualProblem, tol: float, max_iter: int, alpha0: np.ndarray | None,
          dense_limit: int, give_up: Any, extrapolate: bool) -> NewtonResult:
    """:func:`newton`'s Python loop."""
    alpha = np.zeros(problem.k) if alpha0 is None else np.where(problem.fixed, 0.0, alpha0)
    unbounded = getattr(problem, "unbounded", None)      # equality rows: free multipliers
    # trial points of the line searches need the loss only (gains and gradient are
    # computed for the accepted point), where the problem can do that
    value_at = getattr(problem, "trial", problem.evaluate)
    finish = getattr(problem, "finish", None) or (lambda st: st)
    fixed = problem.fixed
    any_fixed = bool(fixed.any())
    pinned = fixed if any_fixed else None          # what _project sets to 0
    state = problem.evaluate(alpha)
    # whether the gradient may be non-zero on fixed duals (then the sums skip them)
    fixed_grad = any_fixed and bool(np.any(state["grad"][fixed] != 0))
    moving = np.flatnonzero(~fixed) if fixed_grad else None
    it = 0
    residual = _residual(alpha, state["grad"], unbounded)
    previous = math.inf
    while residual > tol and it < max_iter:
        if give_up is not None and give_up(it, state):
            break
        it += 1
        grad = state["grad"]
        delta = min(1e-3, residual)
        held = (alpha <= delta) & (grad > 0)
        if unbounded is not None:
            held &= ~unbounded
        if any_fixed:
            held &= ~fixed
        free = (~(fixed | held) if any_fixed else ~held).nonzero()[0]
        # the held duals move along the negative gradient (projected back onto 0)
        d = np.where(held, -grad, 0.0)
        if free.size:
            gf = grad[free]
            damping = min(residual, 1e-6)
            if free.size <= dense_limit:
                h = problem.hessian(state, free)
                diag = h.reshape(-1)[::h.shape[0] + 1]     # a view of the diagonal
                hd = diag.copy()
                scale = max(float(hd.max()), 1e-300)           # (free is not empty)
                # Levenberg-Marquardt damping relative to each diagonal entry
                # (constraints of very different payoff scales), plus a floor
                diag += damping * hd + 1e-14 * scale
                # LAPACK's Cholesky directly (scipy's cho_factor / cho_solve, without
                # their per-call checks): upper factor, as cho_factor
                d[free] = -_damped_solve(h, gf, scale)
            else:
                mask = np.zeros(problem.k, dtype=bool)
                mask[free] = True
                diag = _hessian_diagonal(problem, state)[free]
                scale = max(float(diag.max(initial=0.0)), 1e-300)
                shift = damping * diag + 1e-14 * scale

                def apply(v, _free=free, _shift=shift):
                    full = np.zeros(problem.k)
                    full[_free] = v
                    return problem.hvp(state, full)[_free] + _shift * v

                d[free] = -_cg(apply, gf, diag + shift, tol=min(0.1, math.sqrt(residual)),
                               maxiter=max(50, 4 * int(math.sqrt(free.size)) + 200))
        # Armijo search along the projection arc
        step, accepted = 1.0, None
        base_value = state["value"]
        for _ in range(40):
            trial = _project(alpha + step * d, unbounded, pinned)
            new = value_at(trial)
            # (over the duals that are not fixed, where the gradient may be non-zero
            # on the fixed ones; elsewhere the fixed ones add 0)
            decrease = float(grad[moving] @ (alpha[moving] - trial[moving]) if fixed_grad
                             else grad @ (alpha - trial))
            if new["value"] <= base_value - 1e-4 * decrease + 1e-15 * abs(base_value):
                accepted = new
                break
            step = _backtrack(step, base_value, new["value"], decrease)
        if accepted is None:  # rounding floor: accept the full step if it helps
            trial = _project(alpha + d, unbounded, pinned)
            new = finish(value_at(trial))
            if _residual(trial, new["grad"], unbounded) < residual:
                accepted = new
            else:
                break
        if (extrapolate and residual > FAST_PROGRESS * previous
                and min_mass(state, problem) < EXTRAPOLATE_BELOW):
            # Tails: where the dual runs off to infinity (answers with zeros) Newton
            # moves it by about one unit per step and the residual falls slowly; try
            # long steps along the last one (not while it converges fast).
            y = accepted["alpha"] - alpha
            for factor in (32.0, 4.0):
                trial = _project(accepted["alpha"] + factor * y, unbounded, pinned)
                new = value_at(trial)
                if new["value"] < accepted["value"] - 1e-14 * abs(accepted["value"]):
                    accepted = new
                    break
        alpha, state = accepted["alpha"], finish(accepted)
        previous, residual = residual, _residual(alpha, state["grad"], unbounded)
    return NewtonResult(alpha, state, it, residual <= tol, residual)


#: When small dense problems with a fixed epsilon use the compiled Newton (numba,
#: :mod:`~spielplatz.equilibria.mwmre.dense_newton`): ``"auto"`` after :data:`COMPILE_AFTER`
#: seconds of this process in the Python loop on such problems (loading numba, 0.2 s,
#: would double a one-game command), ``True`` always, ``False`` never; set at import by
#: ``SPIELPLATZ_COMPILED_NEWTON`` (``auto``, ``always``, ``never``).
COMPILED: bool | str = {"always": True, "never": False}.get(
    os.environ.get("SPIELPLATZ_COMPILED_NEWTON", "auto").strip().lower(), "auto")
COMPILE_AFTER = 0.5  #: Python-loop seconds before ``"auto"`` switches (241 8x8 CE solves)
#: Most duals the compiled Newton takes: its Hessian and Cholesky are plain loops, as fast
#: as the Python loop's BLAS and LAPACK at 16x16 CE (512 duals, 8.3 against 8.2 ms per
#: game), faster below (12x12: 2.1 against 3.4 ms; 8x8: 0.53 against 1.6 ms).
COMPILED_DUALS = 384
_NUMBA: dict = {}


def _takes(shape: tuple, concept: str, dense_limit: int = 1200) -> bool:
    """Games of ``shape`` have a dense matrix and at most ``dense_limit``, COMPILED_DUALS duals."""
    k = sum(a * a if concept == "ce" else a for a in shape)
    return k <= min(dense_limit, COMPILED_DUALS) and k * math.prod(shape) <= DENSE_ENTRIES


def _eligible(problem: Any, dense_limit: int) -> bool:
    """A :class:`DualProblem` with a fixed epsilon whose games the compiled loop takes."""
    return (type(problem) is DualProblem and problem.target is None
            and _takes(problem.shape, problem.concept, dense_limit))


def compiled_for(problem: Any, dense_limit: int = 1200) -> Any:
    """The compiled Newton's module where it solves ``problem`` (see :data:`COMPILED`;
    numba importable), else ``None``."""
    if COMPILED is False or not _eligible(problem, dense_limit):
        return None
    if "module" not in _NUMBA and COMPILED is not True \
            and _NUMBA.get("seconds", 0.0) < COMPILE_AFTER:
        return None
    return _load()


def _load() -> Any:
    """:mod:`~spielplatz.equilibria.mwmre.dense_newton` once its self-check passed, else
    ``None`` (numba missing, unable to cache or to compile: the Python loop)."""
    if "module" not in _NUMBA:
        try:
            from spielplatz.equilibria.mwmre import dense_newton as compiled
            _NUMBA["module"] = compiled if compiled.self_check() else None
        except Exception:
            _NUMBA["module"] = None
    return _NUMBA["module"]


def compiled_batch_for(shape: tuple, concept: str) -> Any:
    """:mod:`~spielplatz.equilibria.mwmre.compiled_batch` for a batch of exact games of
    ``shape`` with a fixed epsilon (as :func:`compiled_for` takes them; a batch is many
    solves, so ``"auto"`` counts as on), else ``None``."""
    if COMPILED is False or not _takes(shape, concept):
        return None
    if _load() is None:
        return None
    try:
        from spielplatz.equilibria.mwmre import compiled_batch
    except Exception:
        return None
    return compiled_batch


#: Multiples of the largest Hessian diagonal entry added to the diagonal, in turn, while
#: Cholesky fails (Nocedal and Wright, *Numerical Optimization*, Section 3.4).
RETRY_SHIFTS = (1e-10, 1e-8, 1e-6, 1e-4)


def _damped_solve(h: np.ndarray, g: np.ndarray, scale: float) -> np.ndarray:
    """``h^-1 g`` by LAPACK's Cholesky, with :data:`RETRY_SHIFTS` ``* scale`` added to the
    diagonal while it fails; ``g`` itself (a steepest-descent step) if every one does."""
    for shift in (0.0,) + RETRY_SHIFTS:
        m = h if shift == 0.0 else h + shift * scale * np.eye(h.shape[0])
        # LAPACK directly (scipy's cho_factor / cho_solve, without their per-call
        # checks): upper factor, as cho_factor
        factor, info = _potrf(m, lower=False, overwrite_a=False, clean=False)
        if info == 0:
            return _potrs(factor, g, lower=False)[0]
    return g


def _backtrack(step: float, base: float, value: float, decrease: float) -> float:
    """The next, shorter step of the Armijo search: the minimiser of the quadratic through
    the loss at 0 and at ``step`` with slope ``-decrease / step`` at 0 (Nocedal and Wright,
    *Numerical Optimization*, Section 3.5), kept within ``[0.1, 0.5]`` times ``step``. A
    Newton step far too long for the loss (a joint collapsing towards zeros) is cut by
    ten at a time instead of halved each trial. Where the loss changed by rounding only
    (near the optimum) the model is noise: halved, as Armijo's rule does."""
    slope = -decrease / step
    curvature = (value - base - slope * step) / (step * step)
    if not (curvature > 0 and math.isfinite(curvature)
            and value - base > 1e-12 * max(1.0, abs(base))):
        return 0.5 * step
    return min(max(-slope / (2.0 * curvature), 0.1 * step), 0.5 * step)


#: Long steps are not tried while the projected gradient falls by more than this factor
#: per iteration (Newton's own fast convergence).
FAST_PROGRESS = 0.1

#: Long steps are tried once the smallest mass on the support is below this (a joint
#: collapsing towards zeros); an interior answer's Newton steps need none.
EXTRAPOLATE_BELOW = 1e-4


def min_mass(state: dict, problem: Any = None) -> float:
    """Smallest probability on the problem's support (joint actions outside it are 0;
    a problem without a ``support`` has all of them)."""
    sig = state.get("_sig")            # the dense evaluation's joint on the support
    if sig is not None:
        return float(sig.min())
    sigma = state["sigma"]
    support = getattr(problem, "support", None)
    if support is not None and not support.all():
        return float(sigma[support].min())
    return float(sigma.min())


def _hessian_diagonal(problem: DualProblem, state: dict) -> np.ndarray:
    """``diag H``: ``E[A_k^2] - E[A_k]^2`` (+ the target term)."""
    own = getattr(problem, "hessian_diagonal", None)
    if own is not None:
        return own(state)
    a = problem.matrix
    sigma = state["sigma"].ravel()
    sq = a.multiply(a) @ sigma
    d = sq - state["gains"] ** 2
    d = d + problem.curvature(state)[problem.owner]
    return np.where(problem.fixed, 0.0, np.maximum(d, 0.0))


def support_lp(problem: DualProblem) -> np.ndarray:
    """Joint actions played by some joint of ``{sigma : gains(sigma) <= eps}`` (bool ``[A...]``).

    The support of the relative interior of the epsilon-(C)CE polytope, by the
    host's one-LP facial reduction (:func:`spielplatz.equilibria.polytope.face_support`,
    solved by HiGHS); joint actions outside ``problem.support`` stay at zero.

    Raises
    ------
    SpielplatzError
        If the polytope is empty (only possible for ``epsilon < 0``), or the LP
        cannot be solved.
    """
    keep = np.flatnonzero(~problem.fixed)
    try:
        found = face_support(problem.matrix.shape[1], B=problem.matrix[keep],
                             b=problem.epsilon[problem.owner[keep]],
                             zero=~problem.support.ravel(), equalities=False)
    except SpielplatzError as exc:
        raise SpielplatzError(f"the support LP failed: {exc}") from None
    if found.empty:
        raise SpielplatzError("no joint distribution satisfies the constraints with this "
                              "epsilon (the polytope is empty); use a larger epsilon, or "
                              "target_epsilon for the nearest feasible answer")
    return found.support.reshape(problem.shape)
