"""Gambit .nfg files: every real game reads; round trips keep every payoff."""

from __future__ import annotations

import numpy as np
import pytest

from spielplatz import NormalFormGame, load_game
from spielplatz.errors import GameFileError
from spielplatz.files import read_game_file, write_game_file
from spielplatz.nfg import parse_nfg

from conftest import gambit_files


def test_all_real_games_read(gambit_dir):
    files = gambit_files()
    assert len(files) == 60
    players = set()
    for path in files:
        game = load_game(str(path))
        assert isinstance(game, NormalFormGame)
        assert np.all(np.isfinite(game.payoffs))
        players.add(game.num_players)
    assert players == {2, 3, 4, 5}


@pytest.mark.parametrize("path", gambit_files(), ids=lambda p: p.name)
def test_nfg_round_trip(path, tmp_path):
    game = read_game_file(path)
    text = game.to_nfg()
    again = parse_nfg(text, name=game.name)
    np.testing.assert_array_equal(again.payoffs, game.payoffs)
    assert again.action_names == game.action_names
    assert again.player_names == game.player_names
    # And through a file, plus the JSON format.
    out = write_game_file(game, tmp_path / "g.nfg")
    np.testing.assert_array_equal(read_game_file(out).payoffs, game.payoffs)
    out = write_game_file(game, tmp_path / "g.json")
    assert read_game_file(out) == game


def test_payoff_format_order(gambit_dir):
    # e04: Kreps-Wilson 3x2, payoff format; profiles list player 1 fastest.
    game = read_game_file(gambit_dir / "e04.nfg")
    assert game.shape == (3, 2)
    # Values in file order: (0,0) (-1,2) (-2,-2) | (0,0) (-1,0) (3,-1)
    np.testing.assert_array_equal(game.payoffs[:, 0, 0], [0, 0])
    np.testing.assert_array_equal(game.payoffs[:, 1, 0], [-1, 2])
    np.testing.assert_array_equal(game.payoffs[:, 2, 0], [-2, -2])
    np.testing.assert_array_equal(game.payoffs[:, 2, 1], [3, -1])


def test_outcome_format_and_rationals(gambit_dir):
    game = read_game_file(gambit_dir / "perfect1.nfg")
    assert game.shape == (3, 3)
    # outcome indices "1 4 7 2 5 8 3 6 9" with player 1 fastest: profile (1,0) -> outcome 4 "21".
    np.testing.assert_array_equal(game.payoffs[:, 1, 0], [1.5, 1])
    np.testing.assert_array_equal(game.payoffs[:, 1, 1], [2, 2])
    coord = read_game_file(gambit_dir / "test_coordination_4x4_outcome.nfg")
    np.testing.assert_array_equal(coord.payoffs[0], np.eye(4))
    assert coord.action_names[1] == ("2-1", "2-2", "2-3", "2-4")
    labels = read_game_file(gambit_dir / "test_2x2_bimatrix_all_zero_payoffs.nfg")
    assert labels.player_names == ("Joe", "Dan")
    assert labels.action_names[1] == ("defect", "defect")   # duplicate names are kept
    assert not labels.payoffs.any()


def test_three_and_four_player_games(gambit_dir):
    g3 = read_game_file(gambit_dir / "2x2x2.nfg")
    g4 = read_game_file(gambit_dir / "2x2x2x2.nfg")
    g5 = read_game_file(gambit_dir / "2x2x2x2x2.nfg")
    assert (g3.num_players, g4.num_players, g5.num_players) == (3, 4, 5)
    for g in (g3, g4, g5):
        back = NormalFormGame.from_pyspiel(g.to_openspiel())
        np.testing.assert_array_equal(back.payoffs, g.payoffs)


BAD = [
    ("", "file ends early"),
    ("EFG 2 R \"x\" { \"a\" }", "must start with 'NFG'"),
    ("NFG 2 R \"x\" { \"a\" \"b\" } { 2 2 }", "unsupported .nfg version"),
    ("NFG 1 R \"x\" { \"a\" \"b\" } { 2 2 }\n1 2 3", "expected 8 payoffs"),
    ("NFG 1 R \"x\" { \"a\" \"b\" } { 2 }\n1 2 3 4", "2 players but strategies for 1"),
    ("NFG 1 R \"x\" { \"a\" \"b\" } { 2 2 }\n1 2 3 x 5 6 7 8", "'x' is not a number"),
    ("NFG 1 R \"x\" { \"a\" \"b\" } { { \"1\" } { \"1\" } } \"\" { { \"\" 1, 2 } } 2",
     "outcome index 2 out of range"),
    ("NFG 1 R \"x\" { \"a\" \"b\" } { { \"1\" } { \"1\" } } \"\" { { \"\" 1 } } 1",
     "outcome 1 has 1 payoffs for 2 players"),
    ("NFG 1 R \"x\" { \"a\" \"b\" } { 2 1 }\n1 2 3 1/0", "'1/0' is not a number"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_corrupt_files_are_clear_errors(text, message):
    with pytest.raises(GameFileError, match=message):
        parse_nfg(text)


def test_missing_file_and_nan_json(tmp_path):
    with pytest.raises(GameFileError, match="no such file"):
        load_game(str(tmp_path / "nope.nfg"))
    bad = tmp_path / "nan.json"
    bad.write_text('{"payoffs": [[[1, NaN], [0, 0]], [[0, 0], [0, 0]]]}')
    with pytest.raises(GameFileError, match="not finite"):
        load_game(str(bad))
    shape = tmp_path / "shape.json"
    shape.write_text('{"payoffs": [[1, 2], [3, 4]]}')
    with pytest.raises(GameFileError, match="expected shape"):
        load_game(str(shape))
