"""Unit-variance scaling of games (NES appendix, Appendix B, eqs. 16-17).

Every (C)CE is unchanged by adding a constant to a player's payoffs and by
multiplying them by a positive number; only the epsilons change, by the same
factor. So any game can be mapped onto the *invariant subspace* (zero mean,
fixed ``L_m`` norm per player), solved there, and the answer mapped back:

* eq. (16a): ``G'_p(a) = Z_m (G_p(a) - mean_a G_p) / ||G_p - mean_a G_p||_m``
* eq. (16b): ``eps'_p = clip(Z_m eps_p / ||G_p - mean G_p||_m, -Z_m, Z_m)``
* eq. (16c): the same map as (16a) for a welfare tensor ``W(a)``
* eq. (16d): ``sigma'(a) = Z_sigma (sigma(a) - 1/|A|)`` (a network input feature)
* eq. (17):  ``Z_sigma = |A| sqrt((|A| + 1) / (|A| - 1))``, ``Z_2 = sqrt(|A|)``

Choices where the appendix is silent or ambiguous (documented in the neural solver's docs):

* (16b) as printed divides by the norm but omits the factor ``Z_m`` that (16a)
  applies to the payoffs; we include it, so that an epsilon means the same
  deviation gain before and after scaling (the map stays exactly invertible
  for epsilons inside the clip range).
* ``Z_1 = |A| / sqrt(2)`` and ``Z_inf = sqrt(3)``: like ``Z_2`` they make the
  elements' variance about one, for the generating distributions of the L1
  (Laplace) and L-infinity (uniform) invariant classes.
* A player whose payoffs are constant (norm 0) has no incentives at all; its
  scaled payoffs are all zero and its scale is taken as 1.

All functions are pure and work on numpy and jax arrays (under ``jax.jit`` and
``jax.vmap`` too). Payoff arrays may carry leading batch axes:
``[..., N, A_1, ..., A_N]``; pass ``num_players`` when they do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from spielplatz.equilibria.deviations import array_module

__all__ = ["NORMS", "z_norm", "z_sigma", "norm_name", "Scaling", "unit_variance",
           "scale_welfare", "scale_target_joint", "project_invariant"]

#: Norm orders accepted by the functions below (``inf`` is L-infinity).
NORMS = (1, 2, math.inf)


def norm_name(m: Any) -> float:
    """Parse ``1``, ``2``, ``"inf"``, ``"linf"``, ``"l2"`` ... into 1, 2 or ``math.inf``."""
    text = str(m).lower().lstrip("l")
    value = math.inf if text in ("inf", "infinity", "∞") else float(text)
    if value not in NORMS:
        raise ValueError(f"unsupported norm {m!r}; use 1, 2 or inf")
    return value


def z_norm(num_joint_actions: int, m: Any = 2) -> float:
    """``Z_m`` of eq. (17): the norm that gives elements of variance about one.

    ``Z_2 = sqrt(|A|)`` (the paper); ``Z_1 = |A| / sqrt(2)`` (mean absolute
    value of a unit-variance Laplace element is ``1/sqrt(2)``);
    ``Z_inf = sqrt(3)`` (a unit-variance uniform element lies in ``[-sqrt 3, sqrt 3]``).
    """
    m = norm_name(m)
    n = float(num_joint_actions)
    if m == 2:
        return math.sqrt(n)
    if m == 1:
        return n / math.sqrt(2.0)
    return math.sqrt(3.0)


def z_sigma(num_joint_actions: int) -> float:
    """``Z_sigma`` of eq. (17) (variance of a flat Dirichlet's elements); 1 for ``|A| = 1``."""
    n = float(num_joint_actions)
    return n * math.sqrt((n + 1.0) / (n - 1.0)) if n > 1 else 1.0


def _axes(x: Any, num_players: int | None) -> tuple[int, tuple[int, ...]]:
    """Number of players and the joint-action axes (the last N) of ``x``."""
    if num_players is None:
        num_players = x.shape[0] if x.ndim > 0 else 0
    return num_players, tuple(range(x.ndim - num_players, x.ndim))


def _norm(x: Any, axes: tuple[int, ...], m: float) -> Any:
    xp = array_module(x)
    if m == 2:
        return xp.sqrt((x * x).sum(axis=axes, keepdims=True))
    if m == 1:
        return xp.abs(x).sum(axis=axes, keepdims=True)
    return xp.abs(x).max(axis=axes, keepdims=True)


@dataclass(frozen=True)
class Scaling:
    """The per-player affine map of eq. (16a); invertible.

    Attributes
    ----------
    offset : array
        ``mean_a G_p(a)``, shape ``[..., N]``.
    scale : array
        ``||G_p - offset_p||_m / Z_m`` (1 for constant payoffs), shape ``[..., N]``.
        Scaled payoffs are ``(G - offset) / scale``.
    m : float
        The norm order.
    z : float
        ``Z_m``.
    """

    offset: Any
    scale: Any
    m: float
    z: float

    def _expand(self, v: Any, num_players: int) -> Any:
        return v.reshape(v.shape + (1,) * num_players)

    def apply(self, payoffs: Any) -> Any:
        """Eq. (16a) for ``payoffs`` ``[..., N, A...]`` with the stored offset and scale."""
        n = self.offset.shape[-1]
        return (payoffs - self._expand(self.offset, n)) / self._expand(self.scale, n)

    def invert(self, scaled: Any) -> Any:
        """The game's own payoffs from scaled ones (inverse of :meth:`apply`)."""
        n = self.offset.shape[-1]
        return scaled * self._expand(self.scale, n) + self._expand(self.offset, n)

    def scale_epsilon(self, eps: Any, clip: bool = True) -> Any:
        """Eq. (16b): per-player epsilons ``[..., N]`` in scaled units, clipped to ``±Z_m``."""
        xp = array_module(eps, self.scale)
        out = eps / self.scale
        return xp.clip(out, -self.z, self.z) if clip else out

    def unscale_epsilon(self, eps: Any) -> Any:
        """Per-player epsilons (deviation gains) in the game's own units."""
        return eps * self.scale

    def unscale_duals(self, duals: list) -> list:
        """Duals of the scaled game's constraints expressed for the original game.

        A constraint ``gain'_p <= eps'_p`` equals ``gain_p / scale_p <= eps_p / scale_p``,
        so its multiplier is divided by ``scale_p`` (batch axes broadcast).
        """
        out = []
        for p, a in enumerate(duals):
            s = self.scale[..., p]
            out.append(a / s.reshape(s.shape + (1,) * (a.ndim - s.ndim)))
        return out


def unit_variance(payoffs: Any, m: Any = 2, num_players: int | None = None) -> tuple[Any, Scaling]:
    """Map payoffs onto the invariant subspace, eq. (16a).

    Parameters
    ----------
    payoffs : array
        ``[..., N, A_1, ..., A_N]`` (numpy or jax).
    m : {1, 2, inf}
        Norm of the invariant subspace; 2 (``Z_2 = sqrt(|A|)``) by default.
    num_players : int, optional
        ``N``; needed only when ``payoffs`` has leading batch axes.

    Returns
    -------
    scaled : array
        Same shape: every player's payoffs have zero mean and ``L_m`` norm
        ``Z_m`` (or are all zero if they were constant).
    scaling : Scaling
        The map, with :meth:`Scaling.invert` to go back.
    """
    xp = array_module(payoffs)
    m = norm_name(m)
    n, axes = _axes(payoffs, num_players)
    num_joint = 1
    for ax in axes:
        num_joint *= payoffs.shape[ax]
    z = z_norm(num_joint, m)
    offset = payoffs.mean(axis=axes, keepdims=True)
    centred = payoffs - offset
    norm = _norm(centred, axes, m)
    # Constant payoffs (norm ~ 0 relative to their magnitude): scale 1, scaled payoffs 0.
    tiny = 1e-12 * (xp.abs(offset) + 1.0)
    degenerate = norm <= tiny
    scale = xp.where(degenerate, 1.0, norm / z)
    scaled = xp.where(degenerate, 0.0, centred / scale)
    squeeze = tuple(range(-n, 0))
    return scaled, Scaling(offset=offset.squeeze(axis=squeeze), scale=scale.squeeze(axis=squeeze),
                           m=m, z=z)


def scale_welfare(welfare: Any, m: Any = 2, num_players: int = 0) -> Any:
    """Eq. (16c): a welfare tensor ``[..., A_1, ..., A_N]`` mapped like payoffs.

    ``num_players`` is the number of joint-action axes (all axes by default).
    """
    xp = array_module(welfare)
    m = norm_name(m)
    n = num_players or welfare.ndim
    axes = tuple(range(welfare.ndim - n, welfare.ndim))
    num_joint = 1
    for ax in axes:
        num_joint *= welfare.shape[ax]
    centred = welfare - welfare.mean(axis=axes, keepdims=True)
    norm = _norm(centred, axes, m)
    safe = xp.where(norm > 0, norm, 1.0)
    return z_norm(num_joint, m) * centred / safe


def scale_target_joint(joint: Any, num_players: int = 0) -> Any:
    """Eq. (16d): ``Z_sigma (sigma_hat(a) - 1/|A|)`` for a target joint ``[..., A_1..A_N]``."""
    n = num_players or joint.ndim
    num_joint = 1
    for ax in range(joint.ndim - n, joint.ndim):
        num_joint *= joint.shape[ax]
    return z_sigma(num_joint) * (joint - 1.0 / num_joint)


def project_invariant(payoffs: Any, m: Any = 2, num_players: int | None = None) -> Any:
    """Only the scaled payoffs of :func:`unit_variance` (a point of the invariant subspace)."""
    return unit_variance(payoffs, m=m, num_players=num_players)[0]
