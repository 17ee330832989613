"""Braess's paradox traffic networks (D3C paper, Section 3.1, Figure 2 and Appendix E.1).

Four drivers commute from S to E over three routes::

    top      S-A-E    F * n_SA + C
    bottom   S-B-E    D + G * n_BE
    shortcut S-A-B-E  F * n_SA + E + G * n_BE

where ``n_SA`` (``n_BE``) counts the drivers on edge SA (BE). Driver ``i``
plays a mixed strategy ``x_i = softmax(theta_i)`` over the routes; its loss is
its *expected* commute time (eq. 126)::

    l_i(x) = Tr(M C_i) + x^T Q_i x + d_i^T x
           = sum_r x_ir (b_r + M_rr + [M sum_{k != i} x_k]_r)

with ``M = [[F, 0, F], [0, G, G], [F, G, F+G]]`` and ``b = [C, D, E]``
(eq. 114). Figure 2a is ``F = G = 10``, ``C = D = 45``, ``E = 0``: splitting
2/2 over top and bottom takes 65 minutes, everyone on the shortcut (the
unique Nash equilibrium) 80.

Design choice: strategies are softmax logits (as in
:class:`spielplatz.learning.games.MixedStrategyGame`), so learners stay
unconstrained; the paper does not say how its learners keep ``x_i`` on the
simplex.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from flax import struct

__all__ = ["BraessNetwork", "RandomBraessFamily", "braess", "random_braess", "gen_braess",
           "route_times", "optimal_total", "worst_nash_total", "FIGURE_2A"]

#: Figure 2a's network: (C, D, E, F, G).
FIGURE_2A = (45.0, 45.0, 0.0, 10.0, 10.0)
DRIVERS = 4


def route_times(counts: tuple[int, ...], C: float, D: float, E: float, F: float,
                G: float) -> tuple[float, ...]:
    """Commute time of each route when ``counts[r]`` drivers take route ``r``."""
    n_top, n_bottom = counts[0], counts[1]
    n_short = counts[2] if len(counts) > 2 else 0
    n_sa, n_be = n_top + n_short, n_bottom + n_short
    times = (F * n_sa + C, D + G * n_be, F * n_sa + E + G * n_be)
    return times[:len(counts)]


def _count_vectors(routes: int, drivers: int = DRIVERS):
    for combo in itertools.product(range(drivers + 1), repeat=routes):
        if sum(combo) == drivers:
            yield combo


def optimal_total(C: float, D: float, E: float, F: float, G: float, *, routes: int = 3) -> float:
    """Minimal total commute time over all pure profiles.

    Expected total commute time under independent mixed strategies is an
    average of pure profiles' totals, so this is also the minimum over mixed
    strategies (the denominator of the price of anarchy / ratio to optimal).
    It can use the shortcut: Algorithm 4's ``tau_Opt`` (top/bottom splits
    only) is an upper bound on it.
    """
    return min(sum(n * t for n, t in zip(c, route_times(c, C, D, E, F, G)))
               for c in _count_vectors(routes))


def worst_nash_total(C: float, D: float, E: float, F: float, G: float, *,
                     routes: int = 3) -> float:
    """Largest total commute time over the pure Nash equilibria (by enumeration)."""
    worst = -math.inf
    for c in _count_vectors(routes):
        times = route_times(c, C, D, E, F, G)
        stable = True
        for r in range(routes):
            if c[r] == 0:
                continue
            for s in range(routes):
                if s == r:
                    continue
                moved = list(c)
                moved[r] -= 1
                moved[s] += 1
                if route_times(tuple(moved), C, D, E, F, G)[s] < times[r] - 1e-12:
                    stable = False
        if stable:
            worst = max(worst, sum(n * t for n, t in zip(c, times)))
    return worst


@struct.dataclass
class BraessNetwork:
    """A four-driver traffic network as a :class:`~spielplatz.learning.games.DifferentiableGame`.

    Attributes
    ----------
    C, D, E, F, G : float
        Constant (C, D, E) and congestion (F, G) commute-time parameters of
        Figure 11.
    optimal_total_loss : float
        Minimal total expected commute time (see :func:`optimal_total`).
    nash_total_loss : float
        Total commute time at the worst pure Nash equilibrium.
    name : str
    shortcut : bool
        Whether the edge AB (the third route) exists.
    init_scale : float
        Standard deviation of the random initial logits.

    Parameters of the learners are logits ``[4, routes]``.
    """

    C: Any
    D: Any
    E: Any
    F: Any
    G: Any
    optimal_total_loss: Any
    nash_total_loss: Any
    name: str = struct.field(pytree_node=False, default="braess")
    shortcut: bool = struct.field(pytree_node=False, default=True)
    init_scale: float = struct.field(pytree_node=False, default=1.0)

    num_players = DRIVERS

    @classmethod
    def build(cls, C: float, D: float, E: float, F: float, G: float, *, name: str,
              shortcut: bool = True, init_scale: float = 1.0) -> "BraessNetwork":
        """A network with its optimum and worst pure Nash totals computed."""
        routes = 3 if shortcut else 2
        return cls(float(C), float(D), float(E), float(F), float(G),
                   float(optimal_total(C, D, E, F, G, routes=routes)),
                   float(worst_nash_total(C, D, E, F, G, routes=routes)),
                   name=name, shortcut=bool(shortcut), init_scale=float(init_scale))

    @property
    def routes(self) -> int:
        """Number of routes: 3 with the shortcut, else 2."""
        return 3 if self.shortcut else 2

    @property
    def price_of_anarchy(self) -> float:
        """Worst pure Nash total over the optimal total."""
        return float(self.nash_total_loss) / float(self.optimal_total_loss)

    def init_params(self, key: Any) -> Any:
        """Random logits ``[4, routes]`` (standard normal times ``init_scale``)."""
        import jax

        return self.init_scale * jax.random.normal(key, (DRIVERS, self.routes))

    def strategies(self, params: Any) -> Any:
        """Route probabilities ``[4, routes]``."""
        import jax

        return jax.nn.softmax(params, axis=-1)

    def _matrices(self) -> tuple[Any, Any]:
        import jax.numpy as jnp

        F, G = self.F, self.G
        M = jnp.array([[F, 0.0, F], [0.0, G, G], [F, G, F + G]])
        b = jnp.array([self.C, self.D, self.E])
        r = self.routes
        return M[:r, :r], b[:r]

    def losses(self, params: Any) -> Any:
        """Expected commute time of each driver, ``[4]`` (eq. 126)."""
        import jax.numpy as jnp

        x = self.strategies(params)
        M, b = self._matrices()
        others = x.sum(axis=0, keepdims=True) - x          # sum_{k != i} x_k
        per_route = b + jnp.diag(M) + others @ M.T          # E[time of route r | i takes r]
        return jnp.sum(x * per_route, axis=-1)


def braess(shortcut: bool = True) -> BraessNetwork:
    """Figure 2a's network: 65 minutes at the optimum, 80 at the Nash equilibrium.

    Parameters
    ----------
    shortcut : bool
        ``False`` removes edge AB (Figure 3a): then the 2/2 split is both the
        optimum and the pure Nash equilibrium.
    """
    from spielplatz.validation import as_bool

    shortcut = as_bool(shortcut, "shortcut")
    name = "braess" if shortcut else "braess(shortcut=false)"
    return BraessNetwork.build(*FIGURE_2A, name=name, shortcut=bool(shortcut))


def gen_braess(seed: int, delta: float = 10.0) -> tuple[int, int, int, int, int]:
    """Algorithm 4 (``gen_braess``): a random network exhibiting Braess's paradox.

    Parameters
    ----------
    seed : int
        Seed of the numpy random generator.
    delta : float
        Minimal gap between the Nash total and Algorithm 4's ``tau_Opt``
        (eq. 113). The paper leaves its value open; the default 10 is our
        choice.

    Returns
    -------
    (C, D, E, F, G) : tuple of int

    Notes
    -----
    ``E`` is drawn from the integers *strictly* between ``E_min`` and
    ``E_max``: eqs. 108 and 113 are strict inequalities (the shortcut must be
    strictly dominant, the Nash total strictly above ``tau_Opt + delta``),
    whereas Algorithm 4's ``{E_min, ..., E_max}`` would include both ends.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    while True:
        F = int(rng.integers(1, 21))
        G = int(rng.integers(1, 21))
        C = int(rng.integers(4 * G + 10, 4 * G + 21))   # 10: buffer, 20: upper limit
        D = int(rng.integers(4 * F + 10, 4 * F + 21))
        tau_opt = min(n_sa * (F * n_sa + C) + (4 - n_sa) * (G * (4 - n_sa) + D)
                      for n_sa in (1, 2, 3))
        e_low = max(math.floor((tau_opt + delta) / 4 - 4 * (F + G)) + 1, 0)
        e_high = min(C - 4 * G, D - 4 * F) - 1
        if e_low <= e_high:
            E = int(rng.integers(e_low, e_high + 1))
            return C, D, E, F, G


class RandomBraessFamily:
    """Random Braess networks, one per training seed (Figure 2b).

    A *seeded family*: besides the :class:`~spielplatz.learning.games.DifferentiableGame`
    methods (which use the network of seed 0) it has :meth:`instance`; the
    D3C learners call ``game.instance(seed)`` for every seed and train all
    networks at once under ``jax.vmap``.
    """

    num_players = DRIVERS

    def __init__(self, delta: float = 10.0):
        self.delta = float(delta)
        self.name = "random_braess" if self.delta == 10.0 else f"random_braess(delta={delta:g})"

    def instance(self, seed: int) -> BraessNetwork:
        """The network drawn by Algorithm 4 from ``seed``."""
        return BraessNetwork.build(*gen_braess(int(seed), self.delta), name=self.name)

    def init_params(self, key: Any) -> Any:
        """Random logits (those of any member; they do not depend on the network)."""
        return self.instance(0).init_params(key)

    def losses(self, params: Any) -> Any:
        """Losses on the seed-0 network (learners use :meth:`instance` per seed)."""
        return self.instance(0).losses(params)

    def __repr__(self) -> str:
        return f"RandomBraessFamily(delta={self.delta:g})"


def random_braess(seed: int | None = None, delta: float = 10.0) -> Any:
    """A random Braess network (``seed`` given) or the family of them (no seed).

    Parameters
    ----------
    seed : int, optional
        ``random_braess(seed=3)`` is the network Algorithm 4 draws from seed 3.
        Without a seed, every training seed gets its own network.
    delta : float
        See :func:`gen_braess`.
    """
    if seed is None or seed == "None":
        return RandomBraessFamily(delta)
    seed = int(seed)
    name = f"random_braess(seed={seed})" if float(delta) == 10.0 else \
        f"random_braess(seed={seed},delta={float(delta):g})"
    return BraessNetwork.build(*gen_braess(seed, float(delta)), name=name)
