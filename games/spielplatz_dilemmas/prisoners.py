"""The n-player prisoner's dilemma with convex losses (D3C paper, Section 3.2, Appendix E.2).

Player ``i`` controls ``x_i = [x_i1, ..., x_i(n-1)]`` (``x_ij = 0``: defect
against its j-th opponent, ``x_ij = c``: cooperate). With ``x`` the row-major
flattening of ``[x_ij]`` and ``C`` the ``n x n(n-1)`` "circulant matrix with
column order reversed" of eq. 128, the losses are (eq. 127)::

    f_i(x) = sum_k (x_k - C_ik)^2

Every player wants to defect (its own block of ``C`` is zero), wants each
other player to cooperate with it (one ``c`` per column) and to defect
against everyone else. The Nash equilibrium is ``x = 0`` and the optimum
``x_ij = c/n`` (eqs. 129-131).

Note on the paper: with the squared losses of eq. 127 the total loss at Nash
is ``n(n-1)c^2`` and at the optimum ``(n-1)^2 c^2`` (eq. 132), so the price of
anarchy is ``n/(n-1)`` for every ``c``; Appendix E.2 writes the Nash total as
``n(n-1)c`` and Section 3.2 / F.1 the price of anarchy as ``n/(c(n-1))``,
which agree with eq. 127 only for ``c = 1`` (the setting of Figure 5 and of
our tests). We implement eq. 127 and report its exact values.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NPlayerPD", "nplayer_pd", "pd_matrix", "MAX_PLAYERS"]

#: Largest number of players: the matrix ``C`` has ``n^2 (n-1)`` entries (8 MB at n = 100).
MAX_PLAYERS = 100


def pd_matrix(n: int, c: float) -> Any:
    """The matrix ``C`` of eq. 128 (numpy, ``[n, n(n-1)]``).

    Built as in the paper's snippet::

        row = numpy.array((([0]*(n-1)+[c])*(n-1))[::-1])
        C = scipy.linalg.circulant(row)[:n, ::-1]

    without scipy: ``circulant(row)[i, j] = row[(i - j) mod len(row)]``.
    """
    import numpy as np

    row = np.array((([0.0] * (n - 1) + [float(c)]) * (n - 1))[::-1])
    size = row.size
    i = np.arange(n)[:, None]
    j = np.arange(size)[None, :]
    return row[(i - j) % size][:, ::-1].copy()


class NPlayerPD:
    """The reformulated n-player prisoner's dilemma (a differentiable game).

    Parameters
    ----------
    n : int
        Number of players, 2 to :data:`MAX_PLAYERS` (100).
    c : float
        Cooperation level, ``c > 0``.
    init_scale : float
        Initial strategies are uniform on ``[0, init_scale * c]`` (random
        mixtures of defection and cooperation; the paper says only "randomly
        initialized").

    Attributes
    ----------
    optimal_total_loss : float
        ``(n-1)^2 c^2`` (eq. 132).
    nash_total_loss : float
        ``n (n-1) c^2`` (all defect, ``x = 0``).
    price_of_anarchy : float
        ``n / (n-1)``.
    """

    def __init__(self, n: int = 10, c: float = 1.0, init_scale: float = 1.0):
        from spielplatz.validation import as_float, as_int

        n = as_int(n, "n (players)", minimum=2, maximum=MAX_PLAYERS)
        c = as_float(c, "c", positive=True)
        self.n, self.c = n, c
        self.init_scale = as_float(init_scale, "init_scale", positive=True)
        self.num_players = n
        self.name = f"nplayer_pd(n={n},c={c:g})"
        self.C = pd_matrix(n, c)
        self.optimal_total_loss = float((n - 1) ** 2 * c ** 2)
        self.nash_total_loss = float(n * (n - 1) * c ** 2)
        self.price_of_anarchy = self.nash_total_loss / self.optimal_total_loss

    def init_params(self, key: Any) -> Any:
        """Strategies ``[n, n-1]``, uniform on ``[0, init_scale * c]``."""
        import jax

        return jax.random.uniform(key, (self.n, self.n - 1), maxval=self.init_scale * self.c)

    def losses(self, params: Any) -> Any:
        """``f(x) = sum over columns of ([x^T; ...; x^T] - C)^2``, shape ``[n]`` (eq. 127)."""
        import jax.numpy as jnp

        x = jnp.reshape(params, (-1,))
        return jnp.sum((x[None, :] - jnp.asarray(self.C)) ** 2, axis=1)

    def optimal_params(self) -> Any:
        """The unique optimum ``x_ij = c/n`` (eq. 131), ``[n, n-1]``."""
        import numpy as np

        return np.full((self.n, self.n - 1), self.c / self.n)

    def nash_params(self) -> Any:
        """The unique Nash equilibrium ``x = 0``."""
        import numpy as np

        return np.zeros((self.n, self.n - 1))

    def __repr__(self) -> str:
        return f"NPlayerPD(n={self.n}, c={self.c:g})"


def nplayer_pd(n: int = 10, c: float = 1.0) -> NPlayerPD:
    """The n-player prisoner's dilemma of eqs. 127-132 (``nplayer_pd(n=10,c=1)``)."""
    return NPlayerPD(n, c)
