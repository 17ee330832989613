"""The game model: validation, constructors, permutations, pyspiel round trips."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest

from spielplatz import NormalFormGame, load_game
from spielplatz.errors import GameError, GameTooLargeError


def test_defaults_and_properties():
    game = NormalFormGame(np.zeros((3, 2, 3, 4)), name="z")
    assert game.num_players == 3
    assert game.shape == (2, 3, 4)
    assert game.num_joint_actions == 24
    assert game.shape_str == "2x3x4"
    assert game.player_names == ("P1", "P2", "P3")
    assert game.action_names[2] == ("0", "1", "2", "3")
    assert not game.payoffs.flags.writeable
    assert str(game) == "z: 3-player 2x3x4 normal-form game"


@pytest.mark.parametrize("payoffs, message", [
    (np.zeros((2, 2)), "2 players but 1 action axes"),
    (np.zeros(3), "must have shape"),
    (np.zeros((2, 2, 0)), "at least one action"),
    (np.zeros((2, 2, 2)) + 1j, "payoffs are complex numbers"),
    ([[[1, np.nan], [0, 0]], [[0, 0], [0, 0]]], "payoff nan for player 0 at joint action (0, 1)"),
    ([[[1, 0], [0, 0]], [[0, 0], [np.inf, 0]]], "payoff inf for player 1 at joint action (1, 0)"),
    ([["a", "b"], ["c", "d"]], "not numeric"),
])
def test_bad_payoffs_are_clear_errors(payoffs, message):
    with pytest.raises(GameError, match=message.replace("(", r"\(").replace(")", r"\)")):
        NormalFormGame(payoffs, name="bad")


def test_bad_names():
    with pytest.raises(GameError, match="3 player names for 2 players"):
        NormalFormGame(np.zeros((2, 2, 2)), player_names=["a", "b", "c"])
    with pytest.raises(GameError, match="action names of sizes"):
        NormalFormGame(np.zeros((2, 2, 2)), action_names=[["x", "y"], ["x"]])


def test_permutations():
    rng = np.random.default_rng(0)
    game = NormalFormGame(rng.normal(size=(3, 2, 3, 4)), name="g",
                          action_names=[["a0", "a1"], ["b0", "b1", "b2"], ["c0", "c1", "c2", "c3"]])
    perm = game.permute_players([1, 2, 0])
    assert perm.shape == (3, 4, 2)
    assert perm.player_names == ("P2", "P3", "P1")
    # New player 0 is old player 1; payoff of new p at (b, c, a) = old payoff at (a, b, c).
    assert perm.payoffs[0, 2, 3, 1] == game.payoffs[1, 1, 2, 3]
    assert perm.payoffs[2, 2, 3, 1] == game.payoffs[0, 1, 2, 3]
    relabel = game.permute_actions(1, [2, 0, 1])
    assert relabel.action_names[1] == ("b2", "b0", "b1")
    assert relabel.payoffs[0, 1, 0, 3] == game.payoffs[0, 1, 2, 3]
    assert game.permute_players([0, 1, 2]) == game
    with pytest.raises(GameError, match="not a permutation"):
        game.permute_players([0, 0, 1])


@pytest.mark.parametrize("shape", [(2, 3), (3, 2, 4), (2, 3, 2, 2)])
def test_pyspiel_round_trip_keeps_every_payoff(shape):
    rng = np.random.default_rng(sum(shape))
    game = NormalFormGame(rng.normal(size=(len(shape),) + shape), name="rt",
                          action_names=[[f"p{p}a{a}" for a in range(k)] for p, k in enumerate(shape)])
    ps = game.to_openspiel()
    assert isinstance(ps, pyspiel.MatrixGame if len(shape) == 2 else pyspiel.TensorGame)
    back = NormalFormGame.from_pyspiel(ps, name="rt")
    np.testing.assert_array_equal(back.payoffs, game.payoffs)
    assert back.action_names == game.action_names
    # And a pyspiel game -> NormalFormGame -> pyspiel: utilities agree.
    again = NormalFormGame.from_pyspiel(back.to_openspiel())
    np.testing.assert_array_equal(again.payoffs, game.payoffs)


def test_pyspiel_games_load():
    shapley = load_game("matrix_shapleys_game")
    assert shapley.shape == (3, 3)
    assert shapley.action_names[0] == ("Rock", "Paper", "Scissors")
    kuhn = load_game("kuhn_poker")
    assert kuhn.shape == (64, 64)
    # Kuhn poker is zero-sum and its value for player 1 is -1/18.
    np.testing.assert_allclose(kuhn.payoffs.sum(axis=0), 0, atol=1e-12)
    blotto = load_game("blotto(coins=4,fields=3)")
    assert blotto.shape == (15, 15)
    assert blotto.name == "blotto(coins=4,fields=3)"
    mp3 = load_game("matching_pennies_3p")
    assert mp3.shape == (2, 2, 2)
    direct = NormalFormGame.from_pyspiel(pyspiel.load_game("matrix_pd"))
    assert load_game(pyspiel.load_game("matrix_pd")) == direct
    # pyspiel game objects of any class: a Python game, and a C++ one of a submodule
    import open_spiel.python.games  # noqa: F401 - registers python_kuhn_poker

    python_kuhn = load_game(pyspiel.load_game("python_kuhn_poker"))
    np.testing.assert_allclose(python_kuhn.payoffs, kuhn.payoffs, atol=1e-12)
    with pytest.raises(GameError, match="more than 200,000 histories"):
        load_game(pyspiel.load_game("tic_tac_toe"))
    # parameters go with names: not silently dropped for an object or a file
    with pytest.raises(GameError, match=r"parameters \(name\) apply to a game given by name, "
                                        r"not to a ndarray"):
        load_game(np.zeros((2, 2, 2)), name="z")
    assert load_game("blotto", coins=4, fields=3) == blotto


def test_kuhn_value_through_normal_form():
    """Kuhn poker's game value -1/18 is the min-max of its 64x64 normal form."""
    from scipy.optimize import linprog

    kuhn = load_game("kuhn_poker")
    a = kuhn.payoffs[0]
    m, n = a.shape
    # max v s.t. x^T A >= v, sum x = 1, x >= 0.
    res = linprog(np.r_[np.zeros(m), -1.0], A_ub=np.c_[-a.T, np.ones(n)], b_ub=np.zeros(n),
                  A_eq=np.r_[np.ones(m), 0.0][None], b_eq=[1.0],
                  bounds=[(0, None)] * m + [(None, None)], method="highs")
    assert -res.fun == pytest.approx(-1 / 18, abs=1e-9)


def test_size_guard():
    with pytest.raises(GameTooLargeError, match="more than the limit"):
        load_game("leduc_poker")
    with pytest.raises(GameTooLargeError, match="game tree has more than"):
        load_game("tic_tac_toe")
    with pytest.raises(GameTooLargeError, match="limit of 100"):
        NormalFormGame.from_pyspiel(pyspiel.load_game("kuhn_poker"), max_joint_actions=100)


def test_paper_games():
    chicken = load_game("chicken")
    assert chicken.action_names == (("Swerve", "Straight"), ("Swerve", "Straight"))
    np.testing.assert_array_equal(chicken.payoffs[:, 0, 1], [1, 5])   # (S, T)
    np.testing.assert_array_equal(chicken.payoffs[:, 1, 0], [5, 1])   # (T, S)
    bos = load_game("battle_of_the_sexes")
    np.testing.assert_array_equal(bos.payoffs[:, 0, 0], [3, 2])
    np.testing.assert_array_equal(bos.payoffs[:, 1, 1], [2, 3])
    asym = load_game("asymmetric_bos")
    np.testing.assert_array_equal(asym.payoffs[:, 0, 0], [4, 1])
    np.testing.assert_array_equal(asym.payoffs[:, 1, 1], [2, 2])
    pd = load_game("prisoners_dilemma")
    np.testing.assert_array_equal(pd.payoffs, [[[-1, -3], [0, -2]], [[-1, 0], [-3, -2]]])
    for name in ("nes_ce_counterexample", "nes_cce_counterexample"):
        g = load_game(name)
        assert g.shape == (4, 4)
        # Table 5 games are symmetric: the column player's matrix is the row player's transposed.
        np.testing.assert_array_equal(g.payoffs[1], g.payoffs[0].T)
    ce = load_game("nes_ce_counterexample")
    assert ce.payoffs[0, 3, 3] == 1.1 and ce.payoffs[0, 0, 1] == 2 and ce.payoffs[1, 0, 1] == -2
    cce = load_game("nes_cce_counterexample")
    assert tuple(cce.payoffs[:, 1, 3]) == (-10, 7) and tuple(cce.payoffs[:, 3, 1]) == (7, -10)


def test_unknown_and_bad_game_strings():
    from spielplatz.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="did you mean 'chicken'"):
        load_game("chiken")
    with pytest.raises(GameError, match="has no parameter 'size'"):
        load_game("chicken(size=3)")
    with pytest.raises(GameError, match="pyspiel cannot load"):
        load_game("blotto(coins=banana)")
    with pytest.raises(GameError, match="must end with"):
        load_game("blotto(coins=4")
