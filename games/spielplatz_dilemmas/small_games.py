"""Small differentiable dilemmas of the D3C paper (Appendix B.1, F.5, F.6).

* :func:`nash_paradox` - Game 1: the unique Nash equilibrium is the worst
  outcome for everybody.
* :func:`efficient_unfair` - Game 2: welfare maximisation is infinitely
  unfair; D3C stops at a compromise.
* :func:`zero_sum_election` - F.5: two parties of two candidates; a
  prisoner's dilemma inside each party and a zero-sum race between them.

Each follows :class:`spielplatz.learning.games.DifferentiableGame` with parameters
``[num_players, 1]`` (one scalar strategy per player). Games with a bounded
strategy set have a ``project(params)`` method, which the D3C learners apply
after each gradient step (projected gradient descent).
"""

from __future__ import annotations

from typing import Any

__all__ = ["NashParadox", "EfficientUnfair", "ZeroSumElection", "nash_paradox",
           "efficient_unfair", "zero_sum_election"]


class NashParadox:
    """Game 1 (Nash paradox), ``x_1, x_2 in [0, 1]``::

        f_1 = x_1^2 + 1 / (x_2^2 + kappa),   f_2 = x_2^2 + 1 / (x_1^2 + kappa)

    The unique Nash equilibrium is ``(0, 0)`` with loss ``1/kappa`` each; the
    minimal total loss ``2 (2 - kappa)`` is at ``x_i = sqrt(1 - kappa)``; the
    price of anarchy is ``(1/kappa) / (2 - kappa)``.

    Parameters
    ----------
    kappa : float
        In ``(0, 1]``.
    """

    num_players = 2

    def __init__(self, kappa: float = 0.25):
        kappa = float(kappa)
        if not 0.0 < kappa <= 1.0:
            raise ValueError(f"kappa must be in (0, 1], got {kappa}")
        self.kappa = kappa
        self.name = f"nash_paradox(kappa={kappa:g})"
        self.optimal_total_loss = 2.0 * (2.0 - kappa)
        self.nash_total_loss = 2.0 / kappa
        self.price_of_anarchy = self.nash_total_loss / self.optimal_total_loss

    def init_params(self, key: Any) -> Any:
        """Uniform on ``[0, 1]``, shape ``[2, 1]``."""
        import jax

        return jax.random.uniform(key, (2, 1))

    def losses(self, params: Any) -> Any:
        """``[f_1, f_2]`` at ``params`` ``[2, 1]``."""
        import jax.numpy as jnp

        x = params[:, 0]
        return jnp.stack([x[0] ** 2 + 1.0 / (x[1] ** 2 + self.kappa),
                          x[1] ** 2 + 1.0 / (x[0] ** 2 + self.kappa)])

    def project(self, params: Any) -> Any:
        """Clip to the strategy set ``[0, 1]``."""
        import jax.numpy as jnp

        return jnp.clip(params, 0.0, 1.0)

    def optimal_params(self) -> Any:
        """The welfare optimum ``x_i = sqrt(1 - kappa)``."""
        import numpy as np

        return np.full((2, 1), np.sqrt(1.0 - self.kappa))

    def nash_params(self) -> Any:
        """The unique Nash equilibrium, ``x = 0``."""
        import numpy as np

        return np.zeros((2, 1))


class EfficientUnfair:
    """Game 2 (efficient but unfair), ``x_1, x_2 in R``::

        f_1 = x_1^2,   f_2 = x_2^2 - (11/10) x_1^2

    Nash at ``(0, 0)`` with losses ``(0, 0)``; the total loss is unbounded
    below (``x_1 -> infinity``), so there is no optimum and no price of
    anarchy (``optimal_total_loss`` is ``None``). The paper reports D3C
    stopping at losses ``1.079`` and ``-1.162`` with ``A_11/A_12 ~ 11/10``.
    """

    num_players = 2
    name = "efficient_unfair"
    optimal_total_loss = None
    nash_total_loss = 0.0

    def init_params(self, key: Any) -> Any:
        """Standard normal, shape ``[2, 1]``."""
        import jax

        return jax.random.normal(key, (2, 1))

    def losses(self, params: Any) -> Any:
        """``[f_1, f_2]`` at ``params`` ``[2, 1]``."""
        import jax.numpy as jnp

        x = params[:, 0]
        return jnp.stack([x[0] ** 2, x[1] ** 2 - 1.1 * x[0] ** 2])

    def nash_params(self) -> Any:
        """The unique Nash equilibrium, ``x = 0``."""
        import numpy as np

        return np.zeros((2, 1))


class ZeroSumElection:
    """F.5: a zero-sum election between two parties, players ``(0, 1)`` and ``(2, 3)``.

    Inside each party the candidates play the prisoner's dilemma of Figure 12
    (``x = 0``: negative advertising against the party colleague, ``x = 1``:
    none); the parties race each other in a zero-sum bilinear game::

        f_1 = x_1^2 + (x_2 - 1)^2 + s h,   f_2 = x_2^2 + (x_1 - 1)^2 + s h
        f_3 = x_3^2 + (x_4 - 1)^2 - s h,   f_4 = x_4^2 + (x_3 - 1)^2 - s h
        h = x_1 x_3 + x_2 x_4

    The paper gives no formula; this one reproduces its numbers: the game
    Jacobian under perfect teams (``A`` = 1/2 on the 2x2 diagonal blocks) has
    eigenvalues ``(2 +- s i) x 2`` = ``(2 +- 0.25i) x 2`` for ``s = 1/4``, and
    under the paper's final mixing matrix ``(1.84 +- 0.21i) x 2``, as reported.

    Parameters
    ----------
    coupling : float
        ``s``, the strength of the zero-sum race.

    Attributes
    ----------
    teams : tuple
        ``((0, 1), (2, 3))``.
    """

    num_players = 4
    teams = ((0, 1), (2, 3))

    def __init__(self, coupling: float = 0.25):
        self.coupling = float(coupling)
        self.name = ("zero_sum_election" if self.coupling == 0.25
                     else f"zero_sum_election(coupling={self.coupling:g})")
        # The zero-sum race cancels in the total: 4 * (x^2 + (x-1)^2) per pair.
        self.optimal_total_loss = 2.0      # x_i = 1/2
        self.nash_total_loss = 4.0         # x = 0, the unique Nash equilibrium
        self.price_of_anarchy = 2.0

    def init_params(self, key: Any) -> Any:
        """Uniform on ``[0, 1]``, shape ``[4, 1]``."""
        import jax

        return jax.random.uniform(key, (4, 1))

    def losses(self, params: Any) -> Any:
        """``[f_1, ..., f_4]`` at ``params`` ``[4, 1]``."""
        import jax.numpy as jnp

        x = params[:, 0]
        h = x[0] * x[2] + x[1] * x[3]
        s = self.coupling
        return jnp.stack([x[0] ** 2 + (x[1] - 1.0) ** 2 + s * h,
                          x[1] ** 2 + (x[0] - 1.0) ** 2 + s * h,
                          x[2] ** 2 + (x[3] - 1.0) ** 2 - s * h,
                          x[3] ** 2 + (x[2] - 1.0) ** 2 - s * h])

    def nash_params(self) -> Any:
        """The unique Nash equilibrium, ``x = 0``."""
        import numpy as np

        return np.zeros((4, 1))


def nash_paradox(kappa: float = 0.25) -> NashParadox:
    """Game 1 of Appendix B.1 (``nash_paradox(kappa=0.25)``)."""
    return NashParadox(kappa)


def efficient_unfair() -> EfficientUnfair:
    """Game 2 of Appendix F.6."""
    return EfficientUnfair()


def zero_sum_election(coupling: float = 0.25) -> ZeroSumElection:
    """The zero-sum election of Appendix F.5."""
    return ZeroSumElection(coupling)
