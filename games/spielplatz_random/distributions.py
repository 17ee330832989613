"""Random game distributions (NES appendix, Section D.4, Table 4 and Figure 6).

Every sampler has the signature ``sampler(rng, shape, batch_size, **params)``
and returns payoffs ``[B, N, A_1, ..., A_N]`` (float64) for ``N = len(shape)``
players with ``shape[p]`` actions each. The public entry point is
:func:`sample`, which takes a seed; the same seed gives the same games.

Offset- and scale-invariant classes (Figure 6): every player's payoffs lie on
the invariant subspace (zero mean, ``L_m`` norm ``Z_m``, eq. 16a):

* ``l2_invariant``: isotropic Gaussian projected onto the zero-mean subspace
  and normalised; this is exactly uniform on the sphere of the subspace.
* ``l1_invariant`` / ``linf_invariant``: i.i.d. Laplace / uniform elements
  (the densities ``exp(-|x|^m)`` whose radial projection is the uniform
  surface measure of the full ``L_m`` sphere), then centred and normalised by
  the ``L_m`` norm. Exactly uniform on the L1/Linf surface of the *zero-mean*
  subspace has no cheap sampler; this is our documented approximation.

GAMUT-style classes of Table 4 (GAMUT's generators with ``-random_params``;
we re-implement them from their published definitions, so they are close in
spirit but not bit-compatible with GAMUT). Player graphs for the polymatrix,
graphical and local-effect games: ``complete``, ``random`` (Erdos-Renyi,
p = 0.5), ``star`` (player 0 in the centre), ``road`` (a ladder of two lanes,
GAMUT's road graph) and ``small_world`` (Watts-Strogatz ring, k = 2, rewiring
0.3). With two players every connected graph is the single edge.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from spielplatz.equilibria.scaling import project_invariant

__all__ = ["CLASSES", "GRAPHS", "sample", "parse_shape", "player_graph", "class_names"]

GRAPHS = ("complete", "random", "star", "road", "small_world")


def parse_shape(shape: Any) -> tuple[int, ...]:
    """``"8x8"``, ``"3x3x3"``, ``8`` (a 2-player 8x8 game) or a sequence -> action counts.

    The host's :func:`spielplatz.validation.as_shape`: ``"3xx3"`` or ``"8x"`` is an
    error, as is a game of more than 2 million joint actions.
    """
    from spielplatz.validation import as_shape

    return as_shape(shape, "shape", max_joint=2e6)


def _joint_index_grids(shape: tuple[int, ...]) -> list[np.ndarray]:
    """``grids[p][a_1, ..., a_N] = a_p``."""
    return list(np.meshgrid(*(np.arange(k) for k in shape), indexing="ij"))


# -- player graphs --------------------------------------------------------------

def player_graph(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Symmetric boolean adjacency ``[n, n]`` (no self loops) of a player graph."""
    adj = np.zeros((n, n), dtype=bool)
    if n < 2:
        return adj
    if kind == "complete":
        adj[:] = True
    elif kind == "random":
        upper = np.triu(rng.random((n, n)) < 0.5, 1)
        adj = upper | upper.T
        for i in range(n):                       # no isolated player: link it to a random other
            if not adj[i].any():
                j = (i + 1 + rng.integers(n - 1)) % n
                adj[i, j] = adj[j, i] = True
    elif kind == "star":
        adj[0, 1:] = adj[1:, 0] = True
    elif kind == "road":
        # Two lanes of ceil(n/2) players; neighbours along a lane and across.
        lane = (n + 1) // 2
        for i in range(n):
            row, col = divmod(i, lane)
            for j in range(n):
                r2, c2 = divmod(j, lane)
                if (row == r2 and abs(col - c2) == 1) or (col == c2 and row != r2):
                    adj[i, j] = True
        if n == 2:
            adj[0, 1] = adj[1, 0] = True
    elif kind == "small_world":
        for i in range(n):
            for d in (1, 2):
                j = (i + d) % n
                if j != i:
                    adj[i, j] = adj[j, i] = True
        for i in range(n):
            for j in range(i + 1, n):
                if adj[i, j] and rng.random() < 0.3 and n > 3:
                    free = [k for k in range(n) if k != i and not adj[i, k]]
                    if free:
                        k = free[rng.integers(len(free))]
                        adj[i, j] = adj[j, i] = False
                        adj[i, k] = adj[k, i] = True
    else:
        raise ValueError(f"unknown graph {kind!r}; use one of {', '.join(GRAPHS)}")
    np.fill_diagonal(adj, False)
    return adj


# -- invariant classes ------------------------------------------------------------

def _invariant(m: Any, draw: Callable) -> Callable:
    def sampler(rng: np.random.Generator, shape: tuple[int, ...], batch_size: int) -> np.ndarray:
        raw = draw(rng, (batch_size, len(shape)) + tuple(shape))
        return project_invariant(raw, m=m, num_players=len(shape))
    return sampler


l1_invariant = _invariant(1, lambda rng, size: rng.laplace(size=size))
l2_invariant = _invariant(2, lambda rng, size: rng.normal(size=size))
linf_invariant = _invariant("inf", lambda rng, size: rng.uniform(-1.0, 1.0, size=size))


# -- GAMUT-style classes ------------------------------------------------------------

def random_game(rng, shape, batch_size):
    """D18 RandomGame: every payoff i.i.d. uniform on [-100, 100]."""
    return rng.uniform(-100.0, 100.0, size=(batch_size, len(shape)) + tuple(shape))


def _covariant(rng, shape, batch_size, rho):
    n = len(shape)
    rho = np.broadcast_to(np.asarray(rho, dtype=float), (batch_size,))
    joint = int(np.prod(shape))
    z = rng.normal(size=(batch_size, n, joint))
    common = rng.normal(size=(batch_size, 1, joint))
    # Correlation rho between players, per joint action. For rho < 0 (allowed down to
    # -1/(N-1)) we use the equicorrelated Cholesky-free form via centring.
    out = np.empty_like(z)
    for b in range(batch_size):
        r = rho[b]
        if r >= 0:
            out[b] = np.sqrt(r) * common[b] + np.sqrt(1.0 - r) * z[b]
        else:
            cov = np.full((n, n), r) + np.eye(n) * (1.0 - r)
            w, v = np.linalg.eigh(cov)
            out[b] = (v * np.sqrt(np.clip(w, 0.0, None))) @ z[b]
    return out.reshape((batch_size, n) + tuple(shape))


def covariant_game(rng, shape, batch_size, rho: float | None = None):
    """D5-D7 CovariantGame: each joint action's payoffs are N(0, 1) with correlation rho.

    ``rho=None`` draws rho uniformly from ``[-1/(N-1), 1]`` per game (D6).
    """
    n = len(shape)
    if rho is None:
        low = -1.0 / (n - 1) if n > 1 else 0.0
        rho = rng.uniform(low, 1.0, size=batch_size)
    else:
        rho = float(rho)
        if n > 1 and not -1.0 / (n - 1) - 1e-12 <= rho <= 1.0:
            raise ValueError(f"rho={rho} must lie in [-1/(N-1), 1] = [{-1.0 / (n - 1):.3g}, 1]")
    return _covariant(rng, shape, batch_size, rho)


def covariant_game_pos(rng, shape, batch_size):
    """D5 CovariantGame-Pos (rho = 0.9)."""
    return _covariant(rng, shape, batch_size, 0.9)


def covariant_game_zero(rng, shape, batch_size):
    """D7 CovariantGame-Zero (rho = 0)."""
    return _covariant(rng, shape, batch_size, 0.0)


def dispersion_game(rng, shape, batch_size):
    """D8 DispersionGame: players want to pick actions nobody else picks.

    Action ``k`` of every player is the same "location" ``k`` (players with
    fewer actions use the first ones). Player ``p``'s payoff is
    ``v_k / c_k`` where ``c_k`` is the number of players at ``p``'s location
    and ``v_k ~ U(1, 2)`` a random value per location and game.
    """
    n = len(shape)
    grids = _joint_index_grids(shape)
    counts = np.zeros((n,) + tuple(shape))
    for p in range(n):
        counts[p] = sum((grids[q] == grids[p]).astype(float) for q in range(n))
    values = rng.uniform(1.0, 2.0, size=(batch_size, max(shape)))
    own = np.stack(grids)                                              # [N, A...]
    return values[:, own] / counts[None]


def minimum_effort_game(rng, shape, batch_size):
    """D13 MinimumEffortGame: ``a + b * min effort - c * own effort``.

    Efforts are the action indices scaled to [0, 1]; per game ``a ~ U(0, 1)``,
    ``b ~ U(0.5, 1.5)`` and ``c ~ U(0, b)`` (so coordinating on higher effort
    pays).
    """
    n = len(shape)
    grids = [g / max(k - 1, 1) for g, k in zip(_joint_index_grids(shape), shape)]
    low = np.minimum.reduce(grids) if n > 1 else grids[0]
    a = rng.uniform(0.0, 1.0, size=(batch_size, 1))
    b = rng.uniform(0.5, 1.5, size=(batch_size, 1))
    c = rng.uniform(0.0, 1.0, size=(batch_size, 1)) * b
    own = np.stack(grids)                                              # [N, A...]
    exp = (batch_size, n) + tuple(shape)
    flat = lambda x: x.reshape((batch_size, 1) + (1,) * n)            # noqa: E731
    return (flat(a) + flat(b) * low[None, None] - flat(c) * own[None]).reshape(exp)


def travelers_dilemma(rng, shape, batch_size):
    """D19 TravelersDilemma: claims ``2, 3, ...``; everyone is paid the lowest claim,
    those who claimed it get a bonus ``r`` and the others pay ``r``.

    ``r ~ U(1, 3)`` per game. Claim of action ``k`` is ``2 + k``.
    """
    n = len(shape)
    claims = [2.0 + g for g in _joint_index_grids(shape)]
    low = np.minimum.reduce(claims) if n > 1 else claims[0]
    r = rng.uniform(1.0, 3.0, size=batch_size).reshape((batch_size, 1) + (1,) * n)
    own = np.stack(claims)[None]
    lowest = own == low[None, None]
    everyone_equal = np.all(np.stack(claims) == low[None], axis=0)[None, None]
    bonus = np.where(everyone_equal, 0.0, np.where(lowest, r, -r))
    return np.broadcast_to(low[None, None], own.shape) + bonus


def bertrand_oligopoly(rng, shape, batch_size):
    """D1 BertrandOligopoly: firms set prices; the cheapest share the demand.

    Prices of action ``k`` are ``k / (A_p - 1)`` on [0, 1]; per game a
    marginal cost ``c ~ U(0, 0.5)`` and linear demand ``D(x) = d0 - d1 x``
    with ``d0 ~ U(1, 2)``, ``d1 ~ U(0.5, 1)``. Profit of a cheapest firm is
    ``(x - c) D(x) / #cheapest``, others get 0.
    """
    n = len(shape)
    prices = [g / max(k - 1, 1) for g, k in zip(_joint_index_grids(shape), shape)]
    low = np.minimum.reduce(prices) if n > 1 else prices[0]
    own = np.stack(prices)                                           # [N, A...]
    cheapest = np.isclose(own, low[None])
    share = cheapest / cheapest.sum(axis=0, keepdims=True)
    bshape = (batch_size, 1) + (1,) * n
    c = rng.uniform(0.0, 0.5, size=batch_size).reshape(bshape)
    d0 = rng.uniform(1.0, 2.0, size=batch_size).reshape(bshape)
    d1 = rng.uniform(0.5, 1.0, size=batch_size).reshape(bshape)
    demand = np.clip(d0 - d1 * low[None, None], 0.0, None)
    return (own[None] - c) * demand * share[None]


def _take_pair(table: np.ndarray, p: int, q: int, shape: tuple[int, ...]) -> np.ndarray:
    """``table[b, a_p, a_q]`` broadcast to ``[b, A_1, ..., A_N]``."""
    n = len(shape)
    grids = _joint_index_grids(shape)
    return table[:, grids[p], grids[q]] if n > 1 else table[:, grids[p], 0]


def polymatrix_game(rng, shape, batch_size, graph: str = "complete"):
    """D14-D17 PolymatrixGame: ``G_p(a) = sum_{q ~ p} M_pq[a_p, a_q]`` on a player graph.

    Each edge carries two matrices with entries ``U(-1, 1)``; a player without
    neighbours gets a random payoff per own action.
    """
    n = len(shape)
    out = np.zeros((batch_size, n) + tuple(shape))
    grids = _joint_index_grids(shape)
    for b in range(batch_size):
        adj = player_graph(graph, n, rng)
        for p in range(n):
            if not adj[p].any():
                out[b, p] = rng.uniform(-1, 1, size=shape[p])[grids[p]]
            for q in np.flatnonzero(adj[p]):
                m = rng.uniform(-1.0, 1.0, size=(shape[p], shape[q]))
                out[b, p] += m[grids[p], grids[q]]
    return out


def graphical_game(rng, shape, batch_size, graph: str = "random"):
    """D9-D12 GraphicalGame: ``G_p`` depends only on the actions of ``p`` and its neighbours.

    Player ``p``'s local payoff table (own action x neighbours' actions) is
    i.i.d. ``U(-1, 1)``.
    """
    n = len(shape)
    out = np.zeros((batch_size, n) + tuple(shape))
    grids = _joint_index_grids(shape)
    for b in range(batch_size):
        adj = player_graph(graph, n, rng)
        for p in range(n):
            local = [p] + [int(q) for q in np.flatnonzero(adj[p])]
            table = rng.uniform(-1.0, 1.0, size=tuple(shape[q] for q in local))
            out[b, p] = table[tuple(grids[q] for q in local)]
    return out


def local_effect_game(rng, shape, batch_size, graph: str = "complete",
                      bidirectional: bool = True):
    """D2-D4, D20-D22 Local-effect games (LEG) on an *action* graph.

    Actions are nodes ``0..K-1`` of a graph (``K = max A_p``; players with
    fewer actions use the first nodes). A player at node ``k`` gets
    ``f_k(c_k) + sum_{j ~ k} f_kj(c_j)``, ``c_j`` the number of players at
    node ``j``. Node functions are decreasing (congestion):
    ``f_k(c) = u_k - s_k c``; local effects are linear ``f_kj(c) = t_kj c``
    with ``t_kj ~ U(-1, 1)``. Bidirectional LEG: ``t_kj = t_jk``; uniform LEG:
    every edge has the same ``t`` (one draw per game).
    """
    n = len(shape)
    k_nodes = max(shape)
    grids = _joint_index_grids(shape)
    own = np.stack(grids)                                            # [N, A...]
    counts = np.stack([(own == k).sum(axis=0) for k in range(k_nodes)])  # [K, A...]
    out = np.zeros((batch_size, n) + tuple(shape))
    for b in range(batch_size):
        adj = player_graph(graph, k_nodes, rng)
        u = rng.uniform(0.0, 1.0, size=k_nodes)
        s = rng.uniform(0.1, 1.0, size=k_nodes)
        if bidirectional:
            t = np.triu(rng.uniform(-1.0, 1.0, size=(k_nodes, k_nodes)), 1)
            t = t + t.T
        else:
            t = np.full((k_nodes, k_nodes), rng.uniform(-1.0, 1.0))
        t = t * adj
        node_value = u[:, None] - s[:, None] * counts.reshape(k_nodes, -1)   # [K, J]
        effects = t @ counts.reshape(k_nodes, -1)                           # [K, J]
        total = (node_value + effects).reshape((k_nodes,) + tuple(shape))
        for p in range(n):
            out[b, p] = np.take_along_axis(total, own[p][None], axis=0)[0]
    return out


#: name -> (sampler, description, extra parameters with defaults, Table 4 rows)
CLASSES: dict[str, tuple[Callable, str, dict, str]] = {
    "l1_invariant": (l1_invariant, "L1 offset- and scale-invariant games (Figure 6)", {}, "L1"),
    "l2_invariant": (l2_invariant, "L2 offset- and scale-invariant games, uniform on the "
                     "sphere of the invariant subspace (Figure 6)", {}, "L2"),
    "linf_invariant": (linf_invariant, "L-infinity offset- and scale-invariant games (Figure 6)",
                       {}, "Linf"),
    "random_game": (random_game, "GAMUT RandomGame: i.i.d. uniform payoffs", {}, "D18"),
    "covariant_game": (covariant_game, "GAMUT CovariantGame: payoffs correlated with rho "
                       "(default: rho ~ U[-1/(N-1), 1] per game)", {"rho": None}, "D5-D7"),
    "covariant_game_pos": (covariant_game_pos, "GAMUT CovariantGame-Pos, rho = 0.9", {}, "D5"),
    "covariant_game_zero": (covariant_game_zero, "GAMUT CovariantGame-Zero, rho = 0", {}, "D7"),
    "dispersion_game": (dispersion_game, "GAMUT DispersionGame: avoid the others' actions",
                        {}, "D8"),
    "minimum_effort_game": (minimum_effort_game, "GAMUT MinimumEffortGame", {}, "D13"),
    "travelers_dilemma": (travelers_dilemma, "GAMUT TravelersDilemma", {}, "D19"),
    "bertrand_oligopoly": (bertrand_oligopoly, "GAMUT BertrandOligopoly: price competition",
                           {}, "D1"),
    "polymatrix_game": (polymatrix_game, "GAMUT PolymatrixGame on a player graph "
                        "(graph=complete|random|road|small_world|star)",
                        {"graph": "complete"}, "D14-D17"),
    "graphical_game": (graphical_game, "GAMUT GraphicalGame on a player graph "
                       "(graph=random|road|star|small_world|complete)",
                       {"graph": "random"}, "D9-D12"),
    "local_effect_game": (local_effect_game, "GAMUT local-effect game on an action graph "
                          "(graph=complete|random|star; bidirectional=true, false: uniform LEG)",
                          {"graph": "complete", "bidirectional": True}, "D2-D4, D20-D22"),
}


def class_names() -> list[str]:
    """Names of every distribution."""
    return list(CLASSES)


def sample(name: str, shape: Any = "8x8", batch_size: int = 1, seed: int = 0,
           **params: Any) -> np.ndarray:
    """Sample ``batch_size`` games of one class.

    Parameters
    ----------
    name : str
        A key of :data:`CLASSES`, e.g. ``"l2_invariant"``.
    shape : str or int or sequence of int
        Action counts, ``"8x8"`` (two players) or ``"3x3x3"`` (three players).
    batch_size : int
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same games.
    **params
        Class parameters (``graph``, ``rho``, ``bidirectional``).

    Returns
    -------
    numpy.ndarray
        Payoffs ``[batch_size, N, A_1, ..., A_N]``, float64.
    """
    if name not in CLASSES:
        raise ValueError(f"unknown game class {name!r}; known: {', '.join(CLASSES)}")
    sampler, _, defaults, _ = CLASSES[name]
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(f"game class {name!r} has no parameter {sorted(unknown)[0]!r}"
                         + (f"; it takes {', '.join(defaults)}" if defaults else ""))
    from spielplatz.validation import as_int, as_seed

    dims = parse_shape(shape)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    seed = as_seed(seed, "seed")
    from spielplatz.errors import GameTooLargeError
    from spielplatz.system.resources import check_memory, game_bytes

    check_memory(game_bytes(dims, batch=batch_size),
                 f"{name}(shape={'x'.join(map(str, dims))}): sampling "
                 + ("the game" if batch_size == 1 else f"a batch of {batch_size:,} games"),
                 hint="use a smaller shape or batch",
                 error=GameTooLargeError)
    if "graph" in params and params["graph"] not in GRAPHS:
        raise ValueError(f"unknown graph {params['graph']!r}; use one of {', '.join(GRAPHS)}")
    rng = np.random.default_rng(seed)
    kwargs = {**defaults, **params}
    if name == "local_effect_game":
        kwargs["bidirectional"] = _bool(kwargs["bidirectional"])
    return np.asarray(sampler(rng, dims, int(batch_size), **kwargs), dtype=np.float64)


def _bool(value: Any) -> bool:
    from spielplatz.validation import as_bool

    return as_bool(value, "bidirectional")
