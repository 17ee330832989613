"""MWMRE problem options, validated and converted to the internal units (payoffs
scaled to range 1): prior, welfare term, fixed or target epsilon, warm-start duals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from spielplatz.equilibria import deviations
from spielplatz.errors import SpielplatzError
from spielplatz.validation import as_float, as_int, finite_float, per_player

__all__ = ["Options", "prepare", "warm_start_duals", "welfare_values", "per_game",
           "KKT_TOLERANCE"]

#: Projected dual gradient certified for status ``"optimal"`` (range-1 units).
KKT_TOLERANCE = 1e-8


@dataclass(frozen=True)
class Options:
    """Validated options in the solver's internal units (payoffs of range 1).

    Attributes
    ----------
    scale : float
        The payoff range the game was divided by (1 for a constant game).
    log_prior : ndarray ``[A...]``
        Normalised ``ln sigma_hat``.
    welfare_term : ndarray ``[A...]``
        ``mu (W(a) - max W)`` (logits are shift-invariant).
    epsilon : ndarray ``[N]`` or None
        Fixed epsilon / scale.
    target, eps_plus : ndarray ``[N]`` or None
        ``eps_hat / scale`` and ``eps+ / scale``.
    rho : float or None
        ``rho * scale``.
    config : dict
        The options as given (JSON-ready), for :class:`~spielplatz.Solution`.
    welfare_offset : float
        ``mu max W``, added back to the reported objective.
    """

    scale: float
    log_prior: np.ndarray
    welfare_term: np.ndarray
    epsilon: np.ndarray | None
    target: np.ndarray | None
    eps_plus: np.ndarray | None
    rho: float | None
    tol: float
    max_iter: int
    config: dict
    welfare_offset: float = 0.0


def welfare_values(payoffs: np.ndarray, name: str, player_axis: int = 0) -> np.ndarray:
    """``W(a)`` from the registered welfare function ``name``.

    ``payoffs`` is ``[N, A...]`` (or ``[B, N, A...]`` with ``player_axis=1``);
    the players' payoffs are moved to the last axis, ``[..., N]``, and the
    function maps them to ``[A...]`` (``[B, A...]``).

    Raises
    ------
    SpielplatzError
        For an unknown name or a welfare that is not finite.
    """
    from spielplatz.equilibria.welfare_functions import registered_welfare_function

    func = registered_welfare_function(name)
    g = np.asarray(payoffs, dtype=float)
    w = np.asarray(func(np.moveaxis(g, player_axis, -1)), dtype=float)
    expected = g.shape[:player_axis] + g.shape[player_axis + 1:]
    if w.shape != expected or not np.all(np.isfinite(w)):
        raise SpielplatzError(f"welfare function {name!r} must give finite values of shape "
                              f"{expected}, got shape {w.shape}")
    return w



def warm_start_duals(value: Any, shape: tuple, concept: str, scales: np.ndarray) -> np.ndarray:
    """Warm-start duals in payoff units -> flat range-1 duals ``[B, K]``.

    ``value`` is a list over players of ``[B, A_p, A_p]`` (CE) / ``[B, A_p]`` (CCE)
    arrays, the layout of ``Solution.extra["duals"]`` with a batch axis first
    (a single game's list is taken as a batch of one). A multiplier of payoff-unit
    gains becomes ``alpha * scale`` on the range-1 game; negative entries are
    projected to 0 (duals of inequality constraints).

    Raises
    ------
    SpielplatzError
        When the list has the wrong length, an array the wrong shape, or a value
        that is not finite.
    """
    from spielplatz.equilibria.mwmre import dual_shapes

    b = len(scales)
    want = dual_shapes(shape, concept)
    try:
        parts = [np.asarray(v, dtype=float) for v in value]
    except (TypeError, ValueError):
        raise SpielplatzError("initial_duals must be a list of per-player arrays") from None
    if len(parts) != len(want):
        raise SpielplatzError(f"initial_duals: need {len(want)} per-player arrays, got "
                              f"{len(parts)}")
    flat = []
    for p, (arr, w) in enumerate(zip(parts, want)):
        if arr.shape == w:
            arr = np.broadcast_to(arr, (b,) + w)
        if arr.shape != (b,) + w:
            want_shape = f"{list(w)} or {list((b,) + w)}" if b > 1 else f"{list(w)}"
            raise SpielplatzError(f"initial_duals of player {p} must have shape {want_shape}, "
                                  f"got {list(arr.shape)}")
        if not np.all(np.isfinite(arr)):
            raise SpielplatzError(f"initial_duals of player {p} are not finite")
        flat.append(arr.reshape(b, -1))
    return np.maximum(np.concatenate(flat, axis=1), 0.0) * np.asarray(scales)[:, None]


def prepare(payoffs: np.ndarray, *, prior: Any = None, mu: Any = 0.0, welfare: Any = None,
            epsilon: Any = 0.0, target_epsilon: Any = None, rho: Any = None,
            eps_plus: Any = None, tol: Any = 1e-10, max_iter: Any = 200) -> Options:
    """Validate the options for a game with ``payoffs`` and convert them to range-1 units.

    Raises
    ------
    SpielplatzError
        For a prior that is not a full-support distribution of the game's
        shape, non-finite numbers, ``rho <= 0``, ``eps_plus <= 0`` or
        ``target_epsilon >= eps_plus``.
    """
    n = payoffs.shape[0]
    shape = payoffs.shape[1:]
    scale = float(deviations.payoff_scale(payoffs))
    if not scale > 0:
        scale = 1.0
    config: dict = {"mu": mu, "epsilon": epsilon, "tol": tol, "max_iter": max_iter}
    if prior is None:
        log_prior = np.full(shape, -math.log(math.prod(shape)))
    else:
        try:
            p = np.asarray(prior, dtype=float)
        except (TypeError, ValueError):
            raise SpielplatzError("prior must be an array of probabilities") from None
        if p.shape != shape:
            raise SpielplatzError(f"prior has shape {p.shape}, the game's joint actions "
                                  f"have shape {shape}")
        if not np.all(np.isfinite(p)) or np.any(p <= 0):
            raise SpielplatzError("prior must be a full-support distribution: every "
                                  "probability finite and > 0 (zeros make the relative "
                                  "entropy infinite)")
        log_prior = np.log(p) - math.log(p.sum())
        config["prior"] = (p / p.sum()).tolist()
    mu = finite_float(mu, "mu")
    if welfare is None and mu == 0:
        w = None                                    # no welfare term
    elif welfare is None:
        w = payoffs.sum(axis=0)
    elif isinstance(welfare, str):
        w = welfare_values(payoffs, welfare)
        config["welfare"] = welfare
    else:
        w = np.asarray(welfare, dtype=float)
        if w.shape != shape or not np.all(np.isfinite(w)):
            raise SpielplatzError(f"welfare must be a finite array of shape {shape}")
        config["welfare"] = w.tolist()
    # a constant added to the logits changes nothing: shift W to max 0 (no overflow
    # or lost digits for payoffs with a large offset)
    if mu == 0:
        welfare_term = np.zeros(shape)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            welfare_term = mu * (w - w.max())
        if not np.all(np.isfinite(welfare_term)):
            raise SpielplatzError(f"mu = {mu:g} times the welfare range {float(np.ptp(w)):g} "
                                  f"overflows float64; use a smaller mu (large mu tends to "
                                  f"the maximum-welfare (C)CE: --solver welfare)")
    tol = as_float(tol, "tol", positive=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    eps_fixed = target = eplus = rho_int = None
    if target_epsilon is None:
        if rho is not None or eps_plus is not None:
            raise SpielplatzError("rho and eps_plus belong to the target formulation; "
                                  "give target_epsilon too")
        eps_fixed = per_player(epsilon, n, "epsilon") / scale
    else:
        if not (isinstance(epsilon, (int, float)) and epsilon == 0):
            raise SpielplatzError("give either epsilon (fixed) or target_epsilon, not both")
        target_raw = per_player(target_epsilon, n, "target_epsilon")
        eplus_raw = (scale + np.maximum(target_raw, 0.0) if eps_plus is None
                     else per_player(eps_plus, n, "eps_plus"))
        if np.any(eplus_raw <= 0):
            raise SpielplatzError(f"eps_plus must be > 0, got {eplus_raw.tolist()}")
        if np.any(target_raw >= eplus_raw):
            raise SpielplatzError(f"target_epsilon {target_raw.tolist()} must be below "
                                  f"eps_plus {eplus_raw.tolist()}")
        rho_raw = 10.0 / scale if rho is None else finite_float(rho, "rho")
        if not rho_raw > 0:
            raise SpielplatzError(f"rho must be > 0, got {rho_raw}")
        target, eplus, rho_int = target_raw / scale, eplus_raw / scale, rho_raw * scale
        config.update({"target_epsilon": target_raw.tolist(), "eps_plus": eplus_raw.tolist(),
                       "rho": rho_raw})
        config.pop("epsilon")
    return Options(scale=scale, log_prior=log_prior, welfare_term=welfare_term,
                   epsilon=eps_fixed, target=target, eps_plus=eplus, rho=rho_int, tol=tol,
                   max_iter=max_iter, config=config,
                   welfare_offset=float(mu * w.max()) if mu != 0 else 0.0)


def per_game(value: Any, b: int, shape: tuple, name: str) -> list:
    """``value`` for every game: ``None``, one ``[A...]`` array, or ``[B, A...]``."""
    if value is None:
        return [None] * b
    arr = np.asarray(value, dtype=float)
    if arr.shape == shape:
        return [arr] * b
    if arr.shape == (b,) + shape:
        return list(arr)
    raise SpielplatzError(f"{name} must have shape {shape} or {(b,) + shape}, got {arr.shape}")
