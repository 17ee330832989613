"""Batched MWMRE solves: many games of one shape at once, every answer certified.

The JAX kernel (:mod:`spielplatz.equilibria.mwmre.kernel`) advances every game;
then every answer is certified on the host in float64 (gap at most ``1e-8``
times the game's payoff range, projected dual gradient at most ``1e-8``); a
game that is not certified is re-solved by the exact single-game path
(:mod:`spielplatz.equilibria.mwmre.exact`), which finds zeros exactly with an LP
(first, when the batch's answer already has vanishing masses).

``initial_duals`` warm-starts every game's Newton (e.g. from a network's
prediction); the duals of the answers come back in payoff units.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from spielplatz.equilibria import deviations
from spielplatz.equilibria.mwmre.batch_finish import VANISHING, Finisher
from spielplatz.equilibria.mwmre.config import (per_game, prepare, warm_start_duals,
                                                welfare_values)
from spielplatz.equilibria.mwmre.batch_result import BatchResult
from spielplatz.equilibria.mwmre.kernel import (BATCH_ITERATIONS, FLOAT32_TOLERANCE,
                                                batch_function, dual_gaps_ok)
from spielplatz.equilibria.mwmre.newton import compiled_batch_for
from spielplatz.equilibria.mwmre.problem import SMALL_BLAS_ENTRIES, blas_entries, single_thread
from spielplatz.errors import SpielplatzError
from spielplatz.system import resources

__all__ = ["solve_batch", "BatchResult", "DEFAULT_ROUNDS", "VANISHING"]

#: ``(chunk, steps_per_round)`` by concept. A vmapped Newton-CG waits for the slowest game
#: of its chunk, so small chunks waste less. Chosen by a sweep over 500 N(0, 1) and uniform
#: 8x8 games (the batched part of one solve, on a machine shared with a training run): CE
#: 32 games, 4 iterations per call: 0.40 s against 0.50 s at 64 (8 and 16: 0.59-0.60 s);
#: CCE (compact contractions, two threads) 32 games, 8 iterations: 0.018 s against 0.024 s at 16.
DEFAULT_ROUNDS = {"ce": (32, 4), "cce": (32, 8)}
#: Default host threads: one per usable CPU, at most this (docs/benchmarks.md, second
#: pass: two threads on 2 cores, 500 8x8 games CE 0.35 s, CCE 0.025 s; one 0.53 s, 0.031 s).
MAX_DEFAULT_THREADS = 4


def run_rounds(g: np.ndarray, base: np.ndarray, eps: np.ndarray, target: np.ndarray,
                eplus: np.ndarray, rho: np.ndarray, concept: str, target_mode: bool, *, tol: float,
                max_iter: int, chunk: int, steps_per_round: int, threads: int,
                alpha0: np.ndarray | None = None, eliminate: bool = False) -> dict:
    """Advance every game by rounds of ``steps_per_round`` Newton iterations.

    Each round fills a fixed-size chunk with games that are still running
    (padding with a repeated game), so the compiled function always sees one
    shape, and a game that has converged frees its slot: the work is about the
    sum of the games' iteration counts, not the batch size times the slowest.
    With ``threads > 1`` the games are split between that many host threads that feed
    the same compiled function (XLA's own threads barely fill the cores on ops this small).
    ``eliminate`` (exact CE): proven zeros get ``base`` ``-inf`` as games go (``out["base"]``).
    """
    import jax

    b, n = g.shape[:2]
    chunk = int(max(1, min(chunk, b)))
    k = sum(a * a if concept == "ce" else a for a in g.shape[2:])
    out = {"alpha": np.zeros((b, k)) if alpha0 is None else np.array(alpha0, dtype=float),
           "joint": np.zeros((b,) + g.shape[2:]),
           "eps": np.zeros((b, n)), "residual": np.full(b, np.inf),
           "iterations": np.zeros(b, dtype=int), "base": np.array(base, dtype=float),
           "value": np.zeros(b)}

    def work(games: list, fn: Any) -> None:
        pending = list(games)
        while pending:
            idx = np.array(pending[:chunk])
            pad = np.concatenate([idx, np.full(chunk - idx.size, idx[-1])])
            budget = np.minimum(steps_per_round, max_iter - out["iterations"][pad])
            # numpy arrays go in as they are (jnp.asarray on each costs a dispatch)
            res = fn(g[pad], out["base"][pad], eps[pad], target[pad], eplus[pad], rho[pad],
                     out["alpha"][pad], tol, budget)
            res = {key: np.asarray(v)[:idx.size] for key, v in res.items()}
            for key in ("alpha", "joint", "eps", "residual", "base", "value"):
                out[key][idx] = res[key]
            out["iterations"][idx] += res["iterations"]
            finished = ((res["residual"] <= tol) | res["stalled"]
                        | (out["iterations"][idx] >= max_iter))
            running = idx[~finished].tolist()
            # the games still running go behind the ones not yet tried
            pending = pending[idx.size:] + running

    with jax.enable_x64(True):
        fn = batch_function((chunk,) + g.shape[1:], concept, target_mode, eliminate,
                            precise=tol < FLOAT32_TOLERANCE)
        threads = int(max(1, min(threads, b // chunk)))
        if threads == 1:
            work(list(range(b)), fn)
        else:
            parts = [list(range(i, b, threads)) for i in range(threads)]

            def run(part: list) -> None:
                with jax.enable_x64(True):
                    work(part, fn)

            with ThreadPoolExecutor(threads) as pool:
                for f in [pool.submit(run, part) for part in parts]:
                    f.result()
    out["dual_ok"] = dual_gaps_ok(out, target_mode)
    return out


def solve_batch(payoffs: Any, concept: str, *, prior: Any = None, mu: float = 0.0,
                welfare: Any = None, epsilon: Any = 0.0, target_epsilon: Any = None,
                rho: Any = None, eps_plus: Any = None, tol: float = 1e-10,
                max_iter: int = 200, fallback: bool = True, chunk: int | None = None,
                steps_per_round: int | None = None, threads: int | None = None,
                initial_duals: Any = None, exact_zeros: bool = False) -> BatchResult:
    """Solve ``payoffs`` ``[B, N, A...]`` (many games of one shape) at once.

    Options as for :func:`spielplatz.equilibria.mwmre.solve` (``prior`` and ``welfare`` may
    also be given per game, ``[B, A...]``); ``max_iter`` is capped at
    :data:`~spielplatz.equilibria.mwmre.kernel.BATCH_ITERATIONS` on the batched path.
    ``fallback`` re-solves every uncertified game on the exact single-game path;
    ``chunk`` games are advanced together by one compiled call, ``steps_per_round``
    Newton iterations at a time, fed by ``threads`` host threads; ``None`` takes the
    concept's default (:data:`DEFAULT_ROUNDS`, :data:`MAX_DEFAULT_THREADS`).

    Zeros: for exact CE (``epsilon = 0``) the joint actions the batch's duals prove
    unplayable (the kernel drops them as Newton goes, and
    :func:`~spielplatz.equilibria.mwmre.dominance.batch_dominated` checks the final duals)
    are returned as exact zeros (``support_routes`` ``"dominance"``); other masses below
    ``1e-9`` stay as the batch found them (``"vanishing"``) unless ``exact_zeros``
    (with ``fallback``; not in target mode) identifies them
    (:mod:`~spielplatz.equilibria.mwmre.zeros`): all positive (``"interior"``, a CE that
    plays every joint action of the support), their zeros proven by a Farkas
    certificate and the rest positive (``"farkas"``), or the support LP's
    (``"lp"``); a game whose answer on its face is not certified is re-solved there on
    the exact path (one that is not certified either keeps the batch's answer).
    """
    start = time.perf_counter()
    if exact_zeros and not fallback:
        raise SpielplatzError("exact_zeros re-solves games on the exact path: it needs "
                              "fallback=True")
    concept = deviations.check_concept(concept)
    chunk = DEFAULT_ROUNDS[concept][0] if chunk is None else chunk
    steps_per_round = DEFAULT_ROUNDS[concept][1] if steps_per_round is None else steps_per_round
    if threads is None:
        threads = min(resources.usable_cpus(), MAX_DEFAULT_THREADS)
    try:
        payoffs = np.array(payoffs, dtype=np.float64)
    except (TypeError, ValueError):
        raise SpielplatzError("payoffs must be a numeric array [B, N, A_1, ..., A_N]") from None
    if payoffs.ndim < 3 or payoffs.ndim != payoffs.shape[1] + 2:
        raise SpielplatzError(f"payoffs must have shape [B, N, A_1, ..., A_N], got "
                              f"{payoffs.shape}")
    if payoffs.shape[0] == 0 or min(payoffs.shape[2:]) < 1:
        raise SpielplatzError(f"empty batch or action set: payoffs shape {payoffs.shape}")
    if not np.all(np.isfinite(payoffs)):
        bad = np.argwhere(~np.isfinite(payoffs))[0]
        raise SpielplatzError(f"payoffs of game {bad[0]} are not finite at "
                              f"{tuple(int(i) for i in bad[1:])}")
    b, n = payoffs.shape[:2]
    shape = payoffs.shape[2:]
    if isinstance(welfare, str):
        welfare = welfare_values(payoffs, welfare, player_axis=1)
    priors = per_game(prior, b, shape, "prior")
    welfares = per_game(welfare, b, shape, "welfare")
    options = dict(mu=mu, epsilon=epsilon, target_epsilon=target_epsilon, rho=rho,
                   eps_plus=eps_plus, tol=tol, max_iter=max_iter)
    first = prepare(payoffs[0], prior=priors[0], welfare=welfares[0], **options)  # validates
    target_mode = first.target is not None
    # the per-game quantities of prepare(), vectorised over the batch
    scales = deviations.batch_payoff_scales(payoffs)
    scales = np.where(scales > 0, scales, 1.0)
    g = deviations.remove_offsets(payoffs, n) / scales.reshape((b,) + (1,) * (n + 1))
    if prior is None:
        log_prior = np.broadcast_to(first.log_prior, (b,) + shape)
    elif np.ndim(prior) == len(shape):
        log_prior = np.broadcast_to(first.log_prior, (b,) + shape)
    else:
        log_prior = np.stack([first.log_prior] + [
            prepare(payoffs[i], prior=priors[i], **options).log_prior for i in range(1, b)])
    if float(mu) != 0:
        w = payoffs.sum(axis=1) if welfare is None else np.broadcast_to(
            np.asarray(welfare, dtype=float), (b,) + shape)
        if welfare is not None and not np.all(np.isfinite(w)):
            raise SpielplatzError("welfare must be finite")
        w = w - w.max(axis=tuple(range(1, n + 1)), keepdims=True)   # logits shift: no change
        base = log_prior + float(mu) * w
    else:
        base = np.array(log_prior)
    zeros = np.zeros((b, n))
    if target_mode:
        eps = zeros
        target_raw = first.target * first.scale
        target = target_raw[None, :] / scales[:, None]
        if eps_plus is None:
            eplus = (scales[:, None] + np.maximum(target_raw, 0.0)[None, :]) / scales[:, None]
        else:
            eplus = (first.eps_plus * first.scale)[None, :] / scales[:, None]
        rho_int = np.full(b, 10.0) if rho is None else float(rho) * scales
    else:
        eps = (first.epsilon * first.scale)[None, :] / scales[:, None]
        target = eplus = zeros
        rho_int = np.ones(b)

    def options_of(i: int) -> Any:
        return prepare(payoffs[i], prior=priors[i], welfare=welfares[i], **options)

    alpha0 = None if initial_duals is None else warm_start_duals(initial_duals, shape, concept,
                                                                   scales)
    zeros_ok = concept == "ce" and not target_mode and not np.any(eps)
    budget = min(int(max_iter), BATCH_ITERATIONS)
    driver = None if target_mode else compiled_batch_for(shape, concept)

    def rerun(games: np.ndarray, supports: np.ndarray, duals: np.ndarray) -> dict:
        # the compiled Newton on faces (every game proving its support), from their duals
        return driver.run_batch(g[games], np.where(supports, base[games], -np.inf), eps[games],
                                concept, tol=float(tol), max_iter=budget, threads=1,
                                alpha0=duals, eliminate=True, prove="all")

    finisher = Finisher(payoffs, g, concept, options_of, first.config, scales,
                        duals=sum(a * a if concept == "ce" else a for a in shape),
                        fallback=fallback, exact_zeros=bool(exact_zeros) and not target_mode,
                        zeros_ok=zeros_ok, rerun=None if driver is None else rerun)
    if driver is not None and blas_entries(shape, concept) <= SMALL_BLAS_ENTRIES:
        # small games, fixed epsilon: the compiled Newton, each host thread finishing its
        # share of the games as it goes (numpy's BLAS on one thread, for them all)
        with single_thread():
            driver.run_batch(g, base, eps, concept, tol=float(tol), max_iter=budget,
                             threads=threads, alpha0=alpha0, eliminate=zeros_ok,
                             prove=zeros_ok and bool(exact_zeros), on_share=finisher.part)
        return finisher.result(time.perf_counter() - start)
    if driver is not None:
        out = driver.run_batch(g, base, eps, concept, tol=float(tol), max_iter=budget,
                               threads=threads, alpha0=alpha0, eliminate=zeros_ok,
                               prove=zeros_ok and bool(exact_zeros))
    else:
        out = run_rounds(g, base, eps, target, eplus, rho_int, concept, target_mode,
                         tol=float(tol), max_iter=budget, chunk=chunk,
                         steps_per_round=steps_per_round, threads=threads, alpha0=alpha0,
                         eliminate=zeros_ok)
    batch_time = time.perf_counter() - start
    with single_thread():
        finisher.part(out, np.arange(b))
    return finisher.result(batch_time)
