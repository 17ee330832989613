"""Payoff regions (spielplatz.equilibria.regions, ``spielplatz region``) against independent LPs.

The reference writes the CE / CCE inequalities by hand from the bimatrix (not from
``spielplatz.equilibria.constraints``) and maximises ``d . (v_1, v_2)`` with
``scipy.optimize.linprog`` in hundreds of directions ``d``. Two convex sets are equal
when their support functions are: the region's ``max_v d . v`` over its vertices must
match the reference LP's optimum in every direction, every reference optimum must lie
in the region, and every vertex must be the reference optimum along the bisector of
its edge normals (so every vertex is attained, and none is missing).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.optimize import linprog

import spielplatz as sp
from spielplatz.cli import cli
from spielplatz.equilibria.regions import (Region, convex_hull, equilibrium_region,
                                           feasible_region, pareto_frontier)
from spielplatz.errors import SpielplatzError

TOL = 1e-7
ANGLES = 720


# ------------------------------------------------------------------- independent reference
def _inequalities(a: np.ndarray, b: np.ndarray, concept: str) -> np.ndarray:
    """Rows r with ``r . sigma.ravel() <= 0`` for a (C)CE of the bimatrix (a, b), by hand."""
    n1, n2 = a.shape
    rows = []
    if concept == "ce":
        for i in range(n1):                  # row player told i, deviates to k
            for k in range(n1):
                if k != i:
                    r = np.zeros((n1, n2))
                    r[i, :] = a[k, :] - a[i, :]
                    rows.append(r.ravel())
        for j in range(n2):                  # column player told j, deviates to l
            for l in range(n2):
                if l != j:
                    r = np.zeros((n1, n2))
                    r[:, j] = b[:, l] - b[:, j]
                    rows.append(r.ravel())
    else:
        for k in range(n1):                  # row player always plays k instead
            rows.append(np.array([[a[k, j] - a[i, j] for j in range(n2)]
                                  for i in range(n1)]).ravel())
        for l in range(n2):
            rows.append(np.array([[b[i, l] - b[i, j] for j in range(n2)]
                                  for i in range(n1)]).ravel())
    return np.array(rows)


def _reference_max(a: np.ndarray, b: np.ndarray, concept: str, d: np.ndarray):
    """(optimal value, an optimal payoff pair) of ``max d . v`` over the (C)CE set."""
    rows = _inequalities(a, b, concept)
    n = a.size
    res = linprog(-(d[0] * a.ravel() + d[1] * b.ravel()), A_ub=rows, b_ub=np.zeros(len(rows)),
                  A_eq=np.ones((1, n)), b_eq=[1.0], bounds=(0, None), method="highs")
    assert res.status == 0, res.message
    return -res.fun, np.array([a.ravel() @ res.x, b.ravel() @ res.x])


def _vertex_directions(v: np.ndarray) -> list[np.ndarray]:
    """For each vertex of a ccw polygon/segment/point, a direction it alone maximises."""
    k = len(v)
    if k == 1:
        return [np.array([1.0, 0.0])]
    out = []
    for i in range(k):
        normals = []
        for e in ((v[i - 1], v[i]), (v[i], v[(i + 1) % k])):
            d = e[1] - e[0]
            normals.append(np.array([d[1], -d[0]]) / np.linalg.norm(d))
        if k == 2:                           # a segment: along it, away from the other end
            other = v[1 - i]
            normals = [(v[i] - other) / np.linalg.norm(v[i] - other)]
        s = sum(normals)
        out.append(s / np.linalg.norm(s))
    return out


def _check_against_reference(game, region: Region, concept: str, angles: int = ANGLES):
    a, b = game.payoffs
    scale = region.scale
    for t in np.linspace(0, 2 * np.pi, angles, endpoint=False):
        d = np.array([np.cos(t), np.sin(t)])
        value, point = _reference_max(a, b, concept, d)
        assert abs((region.vertices @ d).max() - value) <= TOL * scale, (t, value)
        assert region.contains(point, TOL), (t, point)
    for vertex, d in zip(region.vertices, _vertex_directions(region.vertices)):
        value, point = _reference_max(a, b, concept, d)
        assert abs(d @ vertex - value) <= TOL * scale
        np.testing.assert_allclose(point, vertex, atol=1e-6 * scale)
    for vertex, joint in zip(region.vertices, region.joints):
        assert joint.min() >= 0 and abs(joint.sum() - 1) < 1e-12
        assert (_inequalities(a, b, concept) @ joint.ravel()).max() <= 1e-8 * scale
        np.testing.assert_allclose([(a * joint).sum(), (b * joint).sum()], vertex, atol=1e-12)


# ------------------------------------------------------------------------------- regions
def test_chicken_ce_region_matches_independent_lps():
    game = sp.load_game("chicken")
    region = equilibrium_region(game, "ce")
    assert region.kind == "polygon"
    _check_against_reference(game, region, "ce")
    # the exact vertices: (Swerve, Straight), (Straight, Swerve) and the joint
    # 1/4 (S, T) + 1/4 (T, S) + 1/2 (T, T) that minimises welfare, counter-clockwise
    np.testing.assert_allclose(region.vertices, [[1, 5], [1.5, 1.5], [5, 1]], atol=1e-12)
    np.testing.assert_allclose(region.joints[1], [[0, 0.25], [0.25, 0.5]], atol=1e-12)
    np.testing.assert_allclose(region.pareto, [[1, 5], [5, 1]])
    assert region.area == pytest.approx(6.0)


@pytest.mark.parametrize("name, concept", [
    ("chicken", "cce"), ("asymmetric_bos", "ce"), ("asymmetric_bos", "cce"),
    ("battle_of_the_sexes", "ce"), ("matrix_shapleys_game", "ce"),
    ("matrix_shapleys_game", "cce"), ("prisoners_dilemma", "ce"), ("matrix_rps", "cce"),
])
def test_regions_of_named_games_match_independent_lps(name, concept):
    game = sp.load_game(name)
    _check_against_reference(game, equilibrium_region(game, concept), concept, angles=240)


@pytest.mark.parametrize("seed, shape", [(0, (3, 4)), (1, (4, 4)), (2, (2, 5))])
@pytest.mark.parametrize("concept", ["ce", "cce"])
def test_regions_of_random_games_match_independent_lps(seed, shape, concept):
    game = sp.load_game(np.random.default_rng(seed).normal(size=(2, *shape)))
    _check_against_reference(game, equilibrium_region(game, concept), concept, angles=240)


def test_degenerate_regions():
    pd = equilibrium_region(sp.load_game("prisoners_dilemma"), "ce")
    assert pd.kind == "point" and pd.area == 0
    shapley = equilibrium_region(sp.load_game("matrix_shapleys_game"), "ce")
    assert shapley.kind == "segment"              # from the Nash (1/3, 1/3) to (1/2, 1/2)
    np.testing.assert_allclose(sorted(shapley.vertices.tolist()), [[1 / 3, 1 / 3], [0.5, 0.5]],
                               atol=1e-12)
    np.testing.assert_allclose(shapley.pareto, [[0.5, 0.5]])
    constant = equilibrium_region(np.full((2, 3, 2), 7.0), "cce")
    np.testing.assert_allclose(constant.vertices, [[7, 7]])
    assert feasible_region(np.full((2, 3, 2), 7.0)).kind == "point"
    one_row = equilibrium_region(np.array([[[1.0, 2.0, 3.0]], [[0.0, 0.0, 0.0]]]), "ce")
    assert one_row.kind == "segment"              # the column player is indifferent
    np.testing.assert_allclose(one_row.pareto, [[3, 0]])


def test_affine_payoff_changes_move_the_region():
    game = sp.load_game("asymmetric_bos")
    g = game.payoffs
    moved = np.stack([10 * g[0] + 3, 0.5 * g[1] - 7])
    for concept in ("ce", "cce"):
        r0, r1 = equilibrium_region(game, concept), equilibrium_region(moved, concept)
        np.testing.assert_allclose(r1.vertices, r0.vertices * [10, 0.5] + [3, -7], atol=1e-9)


def test_feasible_region_of_2x2_games_is_the_hand_computed_hull():
    # Prisoner's dilemma (3,3) (0,5) / (5,0) (1,1): all four points are vertices.
    pd = sp.NormalFormGame.from_bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])
    region = feasible_region(pd)
    np.testing.assert_allclose(region.vertices, [[0, 5], [1, 1], [5, 0], [3, 3]])
    assert region.area == pytest.approx(10.0)       # shoelace by hand
    np.testing.assert_allclose(region.pareto, [[0, 5], [3, 3], [5, 0]])
    np.testing.assert_allclose(region.joints[1], [[0, 0], [0, 1]])   # (1, 1) is (D, D)
    # an interior point and a point on an edge are not vertices
    inner = sp.NormalFormGame.from_bimatrix([[0, 4], [0, 1]], [[0, 0], [4, 1]])
    np.testing.assert_allclose(feasible_region(inner).vertices, [[0, 0], [4, 0], [0, 4]])
    edge = sp.NormalFormGame.from_bimatrix([[0, 2], [1, 0]], [[0, 0], [0, 2]])
    np.testing.assert_allclose(feasible_region(edge).vertices, [[0, 0], [2, 0], [0, 2]])
    rps = feasible_region(sp.load_game("matrix_rps"))
    assert rps.kind == "segment"
    np.testing.assert_allclose(rps.pareto, [[-1, 1], [1, -1]])


@pytest.mark.parametrize("name, nash", [
    ("chicken", [(5, 1), (1, 5), (5 / 3, 5 / 3)]),
    ("asymmetric_bos", [(4, 1), (2, 2), (4 / 3, 2 / 3)]),
    ("matrix_shapleys_game", [(1 / 3, 1 / 3)]),
])
def test_cce_region_contains_ce_region_contains_nash_payoffs(name, nash):
    game = sp.load_game(name)
    feasible = feasible_region(game)
    ce, cce = equilibrium_region(game, "ce"), equilibrium_region(game, "cce")
    for point in nash:
        assert ce.contains(point)
    for vertex in ce.vertices:
        assert cce.contains(vertex)
    for vertex in cce.vertices:
        assert feasible.contains(vertex)
    assert not ce.contains(feasible.vertices.min(axis=0) - 1)


def test_pareto_frontier_of_asymmetric_bos_is_the_segment():
    region = feasible_region(sp.load_game("asymmetric_bos"))
    np.testing.assert_allclose(region.pareto, [[2, 2], [4, 1]])
    np.testing.assert_allclose(pareto_frontier(region.vertices), [[2, 2], [4, 1]])


def test_pareto_frontier_and_hull_of_point_sets():
    square = [[0, 0], [1, 0], [0, 1], [1, 1]]
    np.testing.assert_allclose(pareto_frontier(square), [[1, 1]])
    np.testing.assert_allclose(pareto_frontier([[0, 0], [1, 1], [2, 0], [0, 2], [0.9, 0.9]]),
                               [[0, 2], [2, 0]])
    np.testing.assert_allclose(pareto_frontier([[1, 0], [1, 1], [0, 0]]), [[1, 1]])
    np.testing.assert_allclose(convex_hull([[0, 0], [1, 1], [2, 2], [1, 1 + 1e-13]]),
                               [[0, 0], [2, 2]])
    with pytest.raises(SpielplatzError, match=r"shape \[n, 2\]"):
        pareto_frontier([[0, 0, 0]])


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(SpielplatzError, match="need a 2-player game; 'matching_pennies_3p'"):
        feasible_region(sp.load_game("matching_pennies_3p"))
    with pytest.raises(SpielplatzError, match="unknown solution concept 'nash'"):
        equilibrium_region(sp.load_game("chicken"), "nash")


def test_to_dict_is_json_ready():
    data = json.loads(json.dumps(equilibrium_region(sp.load_game("chicken"), "ce").to_dict()))
    assert data["kind"] == "polygon" and data["vertices"][0] == [1.0, 5.0]
    assert data["vertex_joints"][0] == [{"profile": [0, 1], "actions": ["Swerve", "Straight"],
                                         "probability": 1.0}]
    assert "CE region" in str(equilibrium_region(sp.load_game("chicken"), "ce"))


# ----------------------------------------------------------------------------------- CLI
@pytest.fixture()
def runner():
    return CliRunner()


def test_cli_region_chicken_ce_json(runner):
    result = runner.invoke(cli, ["region", "chicken", "--concept", "ce", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["regions"]) == {"feasible", "ce"}
    np.testing.assert_allclose(data["regions"]["ce"]["vertices"], [[1, 5], [1.5, 1.5], [5, 1]])
    np.testing.assert_allclose(data["regions"]["feasible"]["pareto_frontier"], [[1, 5], [5, 1]])


def test_cli_region_human_output_and_plot(runner, tmp_path):
    plot = tmp_path / "regions.png"
    result = runner.invoke(cli, ["region", "asymmetric_bos", "--concept", "CCE",
                                 "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "Feasible set of asymmetric_bos" in result.output
    assert "CCE region of asymmetric_bos" in result.output
    assert "Pareto frontier: (2, 2) – (4, 1)" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    only = runner.invoke(cli, ["region", "chicken", "--json"])
    assert list(json.loads(only.stdout)["regions"]) == ["feasible"]


def test_cli_region_reads_game_files(runner):
    from conftest import DATA_DIR

    result = runner.invoke(cli, ["region", str(DATA_DIR / "pd_payoff.nfg"), "--concept",
                                 "cce", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["regions"]["cce"]["kind"] == "point"


@pytest.mark.parametrize("args, code, message", [
    (["region", "matching_pennies_3p"], 1, "Error: payoff regions need a 2-player game"),
    (["region", "chicken", "--plot", "regions.txt"], 1, "Error: --plot: 'regions.txt' has"),
    (["region", "chiken"], 1, "did you mean 'chicken'"),
    (["region", "chicken", "--concept", "nash"], 2, "'nash' is not one of"),
])
def test_cli_region_errors(runner, args, code, message):
    result = runner.invoke(cli, args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output
    if code == 1:
        assert len(result.stderr.strip().splitlines()) == 1
