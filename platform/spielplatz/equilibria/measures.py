"""Measures of a joint distribution: values, entropy, correlation.

Pure functions over numpy or jax arrays (also under ``jax.jit``/``jax.vmap``).
Entropies are in nats; ``0 log 0 = 0``.
"""

from __future__ import annotations

from typing import Any

from spielplatz.equilibria.deviations import array_module

__all__ = ["values", "entropy", "marginals", "total_correlation",
           "mutual_information", "xlogx"]


def values(payoffs: Any, joint: Any) -> Any:
    """Per-player expected payoffs ``[N]`` under ``joint``."""
    n = payoffs.shape[0]
    return (payoffs * joint[None]).reshape(n, -1).sum(axis=1)


def xlogx(x: Any) -> Any:
    """``x * log(x)`` with ``0 log 0 = 0`` (gradient-safe under jax)."""
    xp = array_module(x)
    positive = x > 0
    safe = xp.where(positive, x, 1.0)
    return xp.where(positive, x * xp.log(safe), 0.0)


def entropy(joint: Any) -> Any:
    """Shannon entropy of a distribution (any shape) in nats."""
    return -xlogx(joint).sum()


def marginals(joint: Any) -> list:
    """Each player's marginal distribution over its own actions."""
    axes = tuple(range(joint.ndim))
    return [joint.sum(axis=tuple(a for a in axes if a != p)) for p in axes]


def total_correlation(joint: Any) -> Any:
    """Total correlation ``sum_p H(sigma_p) - H(sigma)`` in nats (>= 0).

    Zero iff the players' actions are independent; for two players it is
    their mutual information.
    """
    return sum(entropy(m) for m in marginals(joint)) - entropy(joint)


def mutual_information(joint: Any) -> Any:
    """Mutual information ``I(A_1; A_2)`` in nats of a two-player joint."""
    if joint.ndim != 2:
        raise ValueError(f"mutual information needs a two-player joint, got {joint.ndim} players; "
                         f"use total_correlation")
    return total_correlation(joint)
