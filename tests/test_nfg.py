"""Gambit .nfg files: every game of the project's corpus (tests/data) and every real
Gambit game (external corpus, see conftest) reads; round trips keep every payoff."""

from __future__ import annotations

import numpy as np
import pytest

from spielplatz import NormalFormGame, load_game
from spielplatz.errors import GameFileError
from spielplatz.games.files import read_game_file, write_game_file
from spielplatz.games.nfg import parse_nfg

from conftest import DATA_DIR, corpus_files, gambit_files


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


@pytest.mark.parametrize("path", corpus_files() + gambit_files(),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
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


# --------------------------------------------------------------------------------------
# The project's own corpus (tests/data): always present, numbers known by construction.
# --------------------------------------------------------------------------------------
def pure_nash(game):
    """Pure Nash equilibria by brute force: nobody gains by a unilateral deviation."""
    out = []
    for a in np.ndindex(*game.shape):
        if all(game.payoffs[(p,) + a[:p] + (slice(None),) + a[p + 1:]].max()
               <= game.payoffs[(p,) + a] for p in range(game.num_players)):
            out.append(a)
    return out


def test_corpus_reads_with_every_feature():
    files = {p.name: p for p in corpus_files()}
    assert len(files) >= 12
    games = {name: load_game(str(path)) for name, path in files.items()}
    assert {g.num_players for g in games.values()} == {2, 3, 4, 5}
    assert {p.suffix for p in files.values()} == {".nfg", ".json"}
    for game in games.values():
        assert np.all(np.isfinite(game.payoffs))


def test_corpus_payoff_format_and_pure_nash():
    pd = read_game_file(DATA_DIR / "pd_payoff.nfg")
    assert pd.shape == (2, 2) and pd.player_names == ("Row", "Column")
    assert pd.action_names == (("1", "2"), ("1", "2"))     # counts, not names, in the file
    # "3 3 5 0 0 5 1 1", player 1 fastest: (0,0)=(3,3) (1,0)=(5,0) (0,1)=(0,5) (1,1)=(1,1)
    np.testing.assert_array_equal(pd.payoffs[:, 1, 0], [5, 0])
    np.testing.assert_array_equal(pd.payoffs[:, 0, 1], [0, 5])
    assert pure_nash(pd) == [(1, 1)]
    assert pd.description == "Payoff format with strategy counts; action 1 = cooperate, 2 = defect"


def test_corpus_degenerate_game_pure_nash():
    game = read_game_file(DATA_DIR / "degenerate.nfg")
    assert game.shape == (2, 3) and game.action_names == (("T", "B"), ("L", "C", "R"))
    np.testing.assert_array_equal(game.payoffs[:, 1, 1], [0, 1])
    # T has two best responses (L and C), so does Column against B (C and R): three pure
    # equilibria, (T,L) (T,C) (B,R); (B,C) is not one (Row gains 3 by T).
    assert pure_nash(game) == [(0, 0), (0, 1), (1, 2)]


def test_corpus_outcome_format_rationals_and_null_outcome():
    game = read_game_file(DATA_DIR / "coordination_outcome.nfg")
    assert game.shape == (3, 3) and game.player_names == ("Alice", "Bob")
    assert game.action_names[1] == ("left", "middle", "right")
    np.testing.assert_array_equal(game.payoffs[:, 0, 0], [1, 1])
    np.testing.assert_array_equal(game.payoffs[:, 1, 1], [2, 2])
    assert list(game.payoffs[:, 2, 2]) == [1 / 3, 2 / 3]
    off_diagonal = ~np.eye(3, dtype=bool)
    assert not game.payoffs[:, off_diagonal].any()         # outcome 0: all payoffs zero
    zero = read_game_file(DATA_DIR / "all_zero.nfg")        # outcome format, no outcomes
    assert zero.shape == (2, 3) and not zero.payoffs.any()
    assert len(pure_nash(zero)) == 6


def test_corpus_rationals_and_number_forms():
    game = read_game_file(DATA_DIR / "rationals.nfg")
    # "1/3 -2/7 1.5e1 0.25 +3 -1/2 0 100/4"
    assert list(game.payoffs[:, 0, 0]) == [1 / 3, -2 / 7]
    assert list(game.payoffs[:, 1, 0]) == [15.0, 0.25]
    assert list(game.payoffs[:, 0, 1]) == [3.0, -0.5]
    assert list(game.payoffs[:, 1, 1]) == [0.0, 25.0]


def test_corpus_quoted_names_and_one_strategy_player():
    game = read_game_file(DATA_DIR / "quoted_names.nfg")
    assert game.player_names == ('Player "One"', "Player \\ Two")
    assert game.action_names == (('say "yes"', "say 'no'"), ('a "b" c', "plain"))
    assert game.description == 'A comment with "quotes"'
    again = parse_nfg(game.to_nfg())
    assert again.player_names == game.player_names and again.action_names == game.action_names
    one = read_game_file(DATA_DIR / "one_strategy.nfg")
    assert one.shape == (1, 3)
    np.testing.assert_array_equal(one.payoffs[:, 0, :], [[2, 0, 5], [1, 4, 3]])
    assert pure_nash(one) == [(0, 1)]


def test_corpus_bom_and_json():
    bom = DATA_DIR / "bom.nfg"
    assert bom.read_bytes().startswith(b"\xef\xbb\xbfNFG")
    game = read_game_file(bom)
    assert game.player_names == ("Spieler \u00c4", "Spieler \u00d6")
    np.testing.assert_array_equal(game.payoffs[0], [[1, -1], [-1, 1]])
    pennies = load_game(str(DATA_DIR / "matching_pennies.json"))
    assert pennies.name == "matching_pennies"
    assert pennies.player_names == ("Matcher", "Mismatcher")
    np.testing.assert_array_equal(pennies.payoffs[1], [[-1, 1], [1, -1]])
    assert pure_nash(pennies) == []


def test_corpus_three_four_five_players():
    g3 = read_game_file(DATA_DIR / "three_player.nfg")
    g4 = read_game_file(DATA_DIR / "four_player_outcome.nfg")
    g5 = read_game_file(DATA_DIR / "five_player.nfg")
    assert (g3.shape, g4.shape, g5.shape) == ((2, 2, 2), (2,) * 4, (2,) * 5)
    # three players: profile (1,1,0) is the 4th line "1 1 0"; all-second-action pays 4 each
    np.testing.assert_array_equal(g3.payoffs[:, 1, 1, 0], [1, 1, 0])
    assert pure_nash(g3) == [(0, 0, 0), (1, 1, 1)]
    # four players, cyclic: 2 when matching the next player, else -1
    np.testing.assert_array_equal(g4.payoffs[:, 1, 0, 0, 0], [-1, 2, 2, -1])
    assert g4.action_names[3] == ("up", "down")
    assert pure_nash(g4) == [(0, 0, 0, 0), (1, 1, 1, 1)]
    # five players: others choosing one's action; 4 extra when all choose the second
    np.testing.assert_array_equal(g5.payoffs[:, 1, 0, 0, 0, 0], [0, 3, 3, 3, 3])
    np.testing.assert_array_equal(g5.payoffs[:, 1, 1, 1, 1, 1], [8] * 5)
    for g in (g3, g4, g5):
        back = NormalFormGame.from_pyspiel(g.to_openspiel())
        np.testing.assert_array_equal(back.payoffs, g.payoffs)


# --------------------------------------------------------------------------------------
# The real Gambit games (external corpus; skipped with the reason when missing)
# --------------------------------------------------------------------------------------
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
