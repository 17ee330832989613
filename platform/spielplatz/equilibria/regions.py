"""Payoff regions of 2-player normal-form games: feasible set, CE / CCE regions, Pareto frontiers.

* **Feasible set**: the convex hull of the pure profiles' payoff vectors (monotone chain).
* **CE / CCE region**: the image of the (C)CE polytope ``{sigma >= 0, sum sigma = 1,
  A sigma <= 0}`` (:mod:`spielplatz.equilibria.constraints`) under ``sigma -> (v_1, v_2)``,
  a polygon (or segment, or point). Its exact vertices come from the support-function
  recursion: maximise in eight directions, then along each edge's outward normal; a
  maximiser beyond the edge is a new vertex, else the edge is a true edge. The LPs
  (HiGHS, game scaled to payoff range 1) return finitely many basic solutions, so this
  ends with the region's vertices (maximisers inside an edge are dropped); each vertex
  comes with a joint that attains it. Cost: two LPs per vertex (a random 10x10 game's
  CE region can have hundreds of vertices; 3 s here).
* **Pareto frontier**: the upper-right chain, by increasing ``v_1``.

Points within ``TOLERANCE`` of the payoff range of each other, or of the segment
between their neighbours, are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spielplatz.errors import SpielplatzError

__all__ = ["Region", "feasible_region", "equilibrium_region", "convex_hull",
           "pareto_frontier", "TOLERANCE"]

#: Distance, as a fraction of the payoff range, below which points are the same.
TOLERANCE = 1e-9
#: Safety bound on the LPs of one region (each finds a vertex or confirms an edge).
MAX_LPS = 10000


@dataclass(frozen=True)
class Region:
    """A convex region of payoff vectors of a 2-player game.

    Attributes
    ----------
    concept : str
        ``"feasible"``, ``"ce"`` or ``"cce"``.
    vertices : numpy.ndarray
        ``[k, 2]`` counter-clockwise, payoff units (``k = 1``: a point, 2: a segment).
    pareto : numpy.ndarray
        ``[m, 2]`` vertices of the Pareto frontier by increasing ``v_1``.
    joints : tuple of numpy.ndarray or None
        For each vertex a joint distribution ``[A_1, A_2]`` that attains it.
    scale : float
        The game's payoff range (the unit of the tolerances).
    game, player_names, action_names, lps
        Names, for display; the number of LPs solved.
    """

    concept: str
    vertices: np.ndarray
    pareto: np.ndarray
    joints: tuple | None = None
    scale: float = 1.0
    game: str = "game"
    player_names: tuple = ("P1", "P2")
    action_names: tuple = ()
    lps: int = 0

    @property
    def kind(self) -> str:
        """``"point"``, ``"segment"`` or ``"polygon"``."""
        return ("point", "segment", "polygon")[min(len(self.vertices), 3) - 1]

    @property
    def area(self) -> float:
        """Area of the polygon (0 for a point or a segment)."""
        x, y = self.vertices[:, 0], self.vertices[:, 1]
        return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))

    def distance(self, point: Any) -> float:
        """Euclidean distance (payoff units) from ``point`` to the region (0 inside)."""
        p, v = np.asarray(point, dtype=np.float64), self.vertices
        edges = [(v[i], v[(i + 1) % len(v)]) for i in range(len(v))]
        if len(v) >= 3 and all(_cross(b - a, p - a) >= 0 for a, b in edges):
            return 0.0
        return float(min(_segment_distance(p, a, b) for a, b in edges))

    def contains(self, point: Any, tol: float = 1e-7) -> bool:
        """Whether ``point`` is within ``tol`` times the payoff range of the region."""
        return self.distance(point) <= tol * self.scale

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: concept, kind, vertices, Pareto frontier, area and vertex joints."""
        joints = None if self.joints is None else [_support(j, self.action_names)
                                                   for j in self.joints]
        return {"concept": self.concept, "game": self.game, "players": list(self.player_names),
                "kind": self.kind, "vertices": self.vertices.tolist(),
                "pareto_frontier": self.pareto.tolist(), "area": self.area, "lps": self.lps,
                "vertex_joints": joints}

    def __str__(self) -> str:
        def pts(a: np.ndarray) -> str:
            return ", ".join(f"({x:.6g}, {y:.6g})" for x, y in a)
        name = "feasible set" if self.concept == "feasible" else f"{self.concept.upper()} region"
        return (f"{self.game}: {name}, {self.kind} with vertices {pts(self.vertices)}; "
                f"Pareto frontier {pts(self.pareto)}")


def _support(joint: np.ndarray, action_names: tuple) -> list[dict[str, Any]]:
    """The joint's support: ``[{"profile": [i, j], "actions": [..], "probability": p}]``."""
    rows = [tuple(int(i) for i in idx) for idx in zip(*np.nonzero(joint > 1e-12))]
    return [{"profile": list(idx),
             "actions": [str(action_names[p][i]) if action_names else str(i)
                         for p, i in enumerate(idx)],
             "probability": float(joint[idx])} for idx in rows]


# --------------------------------------------------------------------------- geometry
def _cross(u: np.ndarray, w: np.ndarray) -> float:
    return float(u[0] * w[1] - u[1] * w[0])


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    d, denom = b - a, float((b - a) @ (b - a))
    t = 0.0 if denom == 0 else min(max(float((p - a) @ d) / denom, 0.0), 1.0)
    return float(np.linalg.norm(p - (a + t * d)))


def _clean(points: np.ndarray, order: list[int], tol: float) -> list[int]:
    """Drop near-duplicate neighbours and vertices on the segment between their neighbours."""
    order, i, stable = list(order), 0, 0
    while len(order) > 1 and stable < len(order):       # until a full round drops nothing
        k = len(order)
        i %= k
        p, prev, nxt = points[order[i]], points[order[i - 1]], points[order[(i + 1) % k]]
        if np.linalg.norm(p - prev) <= tol or (k > 2 and _segment_distance(p, prev, nxt) <= tol):
            del order[i]
            i, stable = max(i - 1, 0), 0
        else:
            i, stable = i + 1, stable + 1
    return order


def _hull_indices(points: np.ndarray, tol: float) -> list[int]:
    """Counter-clockwise hull vertex indices of ``points [n, 2]`` (Andrew's monotone chain)."""
    _, first = np.unique(points, axis=0, return_index=True)
    idx = sorted(first.tolist(), key=lambda i: (points[i, 0], points[i, 1]))
    if len(idx) < 3:
        return _clean(points, idx, tol)

    def chain(seq: list[int]) -> list[int]:             # pops non-left turns
        out: list[int] = []
        for i in seq:
            while len(out) >= 2 and _cross(points[out[-1]] - points[out[-2]],
                                           points[i] - points[out[-2]]) <= 0:
                out.pop()
            out.append(i)
        return out

    lower, upper = chain(idx), chain(idx[::-1])
    return _clean(points, lower[:-1] + upper[:-1], tol)


def convex_hull(points: Any, tol: float = TOLERANCE) -> np.ndarray:
    """Vertices ``[k, 2]`` of the convex hull of ``points [n, 2]``, counter-clockwise.

    Points within ``tol`` times the points' spread of each other, or of the segment
    between two hull neighbours, are dropped (``k = 1``: a point, ``k = 2``: a segment).
    """
    pts, spread = _points(points)
    return pts[_hull_indices(pts, tol * spread)]


def pareto_frontier(points: Any, tol: float = TOLERANCE) -> np.ndarray:
    """Vertices ``[m, 2]`` of the Pareto frontier of the convex hull of ``points``.

    The upper-right chain of the hull, from the highest point of largest ``v_1`` to the
    rightmost point of largest ``v_2``, by increasing ``v_1``: every point of it is
    undominated in the hull (ties within ``tol`` times the points' spread).
    """
    pts, spread = _points(points)
    return _pareto(convex_hull(pts, tol), tol * spread)


def _pareto(hull: np.ndarray, tol: float) -> np.ndarray:
    def best(first: int) -> int:
        near = np.nonzero(hull[:, first] >= hull[:, first].max() - tol)[0]
        return int(near[np.argmax(hull[near, 1 - first])])
    start, stop, k = best(0), best(1), len(hull)   # rightmost (then top), top (then right)
    return hull[[(start + i) % k for i in range((stop - start) % k, -1, -1)]]


def _points(points: Any) -> tuple[np.ndarray, float]:
    """``points`` as a checked float array ``[n, 2]`` and their spread (1 if none)."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or not len(pts) or not np.all(np.isfinite(pts)):
        raise SpielplatzError(f"points must be a non-empty finite array of shape [n, 2], "
                              f"got shape {pts.shape}")
    spread = float(np.ptp(pts, axis=0).max())
    return pts, spread if spread > 0 else 1.0


# --------------------------------------------------------------------------- regions
def _two_player(game: Any) -> tuple[Any, float]:
    """``(game as a NormalFormGame, its payoff range or 1)``; refuses other than 2 players."""
    from spielplatz.equilibria.deviations import payoff_scale
    from spielplatz.games.normal_form import NormalFormGame

    if not isinstance(game, NormalFormGame):
        game = NormalFormGame.from_array(game)
    if game.num_players != 2:
        raise SpielplatzError(f"payoff regions need a 2-player game; {game.name!r} has "
                              f"{game.num_players} players")
    scale = float(payoff_scale(game.payoffs))
    return game, scale if scale > 0 else 1.0


def _region(game: Any, concept: str, vertices: np.ndarray, joints: list, scale: float,
            tol: float, lps: int = 0) -> Region:
    return Region(concept=concept, vertices=vertices, pareto=_pareto(vertices, tol * scale),
                  joints=tuple(joints), scale=scale, game=game.name,
                  player_names=tuple(game.player_names), action_names=tuple(game.action_names),
                  lps=lps)


def feasible_region(game: Any, tol: float = TOLERANCE) -> Region:
    """The feasible payoff set: convex hull of the pure profiles' payoff vectors.

    Parameters
    ----------
    game : NormalFormGame or array_like
        A 2-player game (payoffs ``[2, A_1, A_2]``).
    tol : float
        Merging tolerance, a fraction of the payoff range.

    Returns
    -------
    Region
        ``concept="feasible"``; each vertex's joint is a pure profile giving it.

    Raises
    ------
    SpielplatzError
        For a game that does not have two players.
    """
    game, scale = _two_player(game)
    points = game.payoffs.reshape(2, -1).T
    order = _hull_indices(points, tol * scale)
    joints = [np.zeros(game.shape) for _ in order]
    for joint, i in zip(joints, order):
        joint.flat[i] = 1.0
    return _region(game, "feasible", points[order], joints, scale, tol)


def equilibrium_region(game: Any, concept: str = "ce", tol: float = TOLERANCE) -> Region:
    """The payoff region of the correlated (``ce``) or coarse correlated (``cce``) equilibria.

    Parameters
    ----------
    game : NormalFormGame or array_like
        A 2-player game (payoffs ``[2, A_1, A_2]``).
    concept : {"ce", "cce"}
    tol : float
        An LP maximiser must lie beyond an edge by this fraction of the payoff range to
        become a vertex; also the merging tolerance.

    Returns
    -------
    Region
        Exact vertices (up to LP accuracy) in payoff units, each with an attaining joint.

    Raises
    ------
    SpielplatzError
        For a game without two players, an unknown concept, an LP HiGHS cannot solve.
    """
    from spielplatz.equilibria.deviations import check_concept

    concept = check_concept(concept)
    game, scale = _two_player(game)
    lp = _SupportLP(game.payoffs, scale, concept)
    pts, sigmas = lp.points, lp.joints
    # the maximisers in eight directions, in counter-clockwise order of direction
    first = [lp.maximise(np.array([np.cos(t), np.sin(t)])) for t in np.arange(8) * np.pi / 4]
    poly = _clean(np.array(pts), first, tol)
    confirmed: set[tuple[int, int]] = set()
    while len(poly) > 1:
        edge = next((i for i in range(len(poly))
                     if (poly[i], poly[(i + 1) % len(poly)]) not in confirmed), None)
        if edge is None:
            break
        if lp.count >= MAX_LPS:
            raise SpielplatzError(f"the {concept.upper()} region of {game.name!r} needs more "
                                  f"than {MAX_LPS} LPs; try a smaller game")
        a, b = poly[edge], poly[(edge + 1) % len(poly)]
        d = pts[b] - pts[a]
        normal = np.array([d[1], -d[0]]) / np.linalg.norm(d)   # outward for ccw order
        q = lp.maximise(normal)         # beyond the edge: a new vertex; else a true edge
        if normal @ pts[q] > normal @ pts[a] + tol:
            poly.insert(edge + 1, q)
        else:
            confirmed.add((a, b))
    poly = _clean(np.array(pts), poly, tol)      # drop maximisers found inside an edge
    vertices = np.array([game.payoffs.reshape(2, -1) @ sigmas[i] for i in poly])
    joints = [sigmas[i].reshape(game.shape) for i in poly]
    return _region(game, concept, vertices, joints, scale, tol, lp.count)


class _SupportLP:
    """``max d . (v_1, v_2)`` over the (C)CE polytope of the game scaled to range 1.

    Each maximiser is kept: its joint (flat) in ``joints``, its payoffs on the scaled
    game in ``points``; :meth:`maximise` returns its index.
    """

    def __init__(self, g: np.ndarray, scale: float, concept: str):
        import scipy.sparse as sp

        from spielplatz.equilibria.constraints import constraint_matrix
        from spielplatz.equilibria.deviations import remove_offsets

        self.gn = ((g - g.min()) / scale).reshape(2, -1)
        n = self.gn.shape[1]
        rows = constraint_matrix(remove_offsets(g) / scale, concept)
        self.matrix = sp.vstack([rows, sp.csr_matrix(np.ones((1, n)))], format="csr")
        self.bounds = (np.append(np.full(rows.shape[0], -np.inf), 1.0),    # rows: gain <= 0,
                       np.append(np.zeros(rows.shape[0]), 1.0),          # sum sigma = 1
                       np.zeros(n), np.full(n, np.inf))                  # sigma >= 0
        self.count, self.points, self.joints = 0, [], []

    def maximise(self, direction: np.ndarray) -> int:
        """Index of a maximiser (clipped to the simplex) along ``direction [2]``."""
        from spielplatz.equilibria.highs import DEFAULT_OPTIONS, STRICT_OPTIONS, solve_lp

        cost = -(direction @ self.gn)
        attempts = (STRICT_OPTIONS, DEFAULT_OPTIONS,
                    {"solver": "ipm", "run_crossover": "on", "presolve": "on"})
        for options in attempts:
            self.count += 1
            res = solve_lp(cost, self.matrix, *self.bounds, options=options)
            if res.status == "optimal":
                sigma = np.clip(res.x, 0.0, None)
                self.joints.append(sigma / sigma.sum())
                self.points.append(self.gn @ self.joints[-1])
                return len(self.points) - 1
        raise SpielplatzError(f"HiGHS could not solve a payoff-region LP ({res.status})")
