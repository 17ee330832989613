"""Reading game and joint-distribution files: size bounds and one clear error per problem.

Every malformed file raises :class:`GameFileError` naming the file and the problem,
before anything of the declared size is allocated; through the command line it is one
``Error: ...`` line on stderr with exit code 1 (never a traceback, ``internal error``,
a ``MemoryError`` or a hang).
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner

import spielplatz as sp
from spielplatz.games import files
from spielplatz.system import inputs
from spielplatz.cli import cli
from spielplatz.errors import GameFileError
from spielplatz.games.files import read_game_file
from spielplatz.games.joint_files import read_joint_file
from spielplatz.games.nfg import parse_nfg

from conftest import DATA_DIR, ROOT

HEAD = 'NFG 1 R "x" { "a" "b" }'
DIGITS = "1" * 5000
NAMES = " ".join(['"s"'] * 5000)

# (file name, content, message fragment); content is text, or bytes when given as bytes
BAD_GAMES = [
    # declared sizes, checked before any allocation
    ("huge.nfg", f"{HEAD} {{ 400000000 400000000 }}\n",
     "declares 2 players with 400,000,000 x 400,000,000 strategies = "
     "320,000,000,000,000,000 payoffs, more than the limit of 16,777,216"),
    ("int64.nfg", f"{HEAD} {{ 9223372036854775807 9223372036854775807 }}\n1 2\n",
     "more than the limit of 16,777,216"),
    ("wide.nfg", f"{HEAD} {{ 3000 3000 }}\n1 2\n", "18,000,000 payoffs, more than the limit"),
    ("named.nfg", f'{HEAD}\n{{ {{ {NAMES} }} {{ {NAMES} }} }}\n""\n1 2\n',
     "5,000 x 5,000 strategies = 50,000,000 payoffs"),
    ("players.nfg", 'NFG 1 R "x" { ' + '"p" ' * 40 + "} { " + "1 " * 40 + "}\n1\n",
     "more than 32 entries in the player list"),
    ("count_digits.nfg", f"{HEAD} {{ {DIGITS} 2 }}\n1 2\n",
     "a strategy count '11111111111111111111'... (5,000 characters) is far too large"),
    # numbers
    ("fraction.nfg", f"{HEAD} {{ 2 1 }}\n1 1 2 {'1' * 400}/3\n",
     "(402 characters) is too large for float64"),
    ("exponent_fraction.nfg", f"{HEAD} {{ 2 1 }}\n1 1 2 1e400/3\n",
     "payoff '1e400/3' is too large for float64"),
    ("overflow.nfg", f"{HEAD} {{ 2 1 }}\n1 1 2 1e400\n", "payoff '1e400' is too large"),
    ("digits.nfg", f"{HEAD} {{ 2 1 }}\n1 1 2 {DIGITS}\n", "(5,000 characters) is too large"),
    ("digits_ratio.nfg", f"{HEAD} {{ 2 1 }}\n1 1 2 {DIGITS}/{DIGITS}\n",
     "(10,001 characters) has too many digits"),
    ("infinite.nfg", f"{HEAD} {{ 2 1 }}\n1 1 2 inf\n", "payoff 'inf' is not a finite number"),
    ("outcome_index.nfg", f'{HEAD} {{ {{ "1" }} {{ "1" }} }} "" {{ {{ "" 1, 2 }} }} {DIGITS}\n',
     "an outcome index '11111111111111111111'... (5,000 characters) is far too large"),
    ("too_many.nfg", f"{HEAD} {{ 1 1 }}\n1 2 3 4 5\n",
     "expected 2 payoffs (1 profiles x 2 players), found 5"),
    ("not_utf8.nfg", b"NFG 1 R \"\xff\" { \"a\" } { 1 }\n1\n", "not a text file (not UTF-8)"),
    # JSON games
    ("players_number.json", '{"payoffs": [[[1, 2], [3, 4]], [[1, 2], [3, 4]]], "players": 5}',
     "'players' must be a list of strings, found a number"),
    ("actions_number.json", '{"payoffs": [[[1, 2], [3, 4]], [[1, 2], [3, 4]]], "actions": 3}',
     "'actions' must be a list of lists of strings, found a number"),
    ("name_list.json", '{"payoffs": [[[1, 2], [3, 4]], [[1, 2], [3, 4]]], "name": [1]}',
     "'name' must be a string, found a list"),
    ("newer.json", '{"format": "spielplatz-game", "version": 99, "payoffs": [[[1]], [[1]]]}',
     "game format version 99; this Spielplatz reads version 1"),
    ("other.json", '{"format": "nope", "payoffs": [[[1]], [[1]]]}',
     "'format' is 'nope', not 'spielplatz-game'"),
    ("deep.json", "[" * 100000 + "]" * 100000, "invalid JSON (nested too deeply)"),
    ("deep_payoffs.json", '{"payoffs": ' + "[" * 50 + "1" + "]" * 50 + "}",
     "payoffs nested deeper than 33 levels"),
    ("int_digits.json", '{"payoffs": [[[1, 2], [3, 4]], [[1, 2], [3, %s]]]}' % DIGITS,
     "invalid JSON (a number has more than 4300 digits)"),
    ("big_int.json", '{"payoffs": [[[1, 2], [3, 4]], [[1, 2], [3, 1%s]]]}' % ("0" * 400),
     "payoffs: the number at [1, 1, 1] is too large for float64"),
    ("string.json", '{"payoffs": [[[1, "2"], [3, 4]], [[1, 2], [3, 4]]]}',
     'payoffs must be numbers; found a string ("2") at [0, 0, 1]'),
    ("boolean.json", '{"payoffs": [[[1, 2], [3, 4]], [[1, 2], [true, 4]]]}',
     "payoffs must be numbers; found a boolean (true) at [1, 1, 0]"),
    ("null.json", '{"payoffs": [[[1, 2], [3, 4]], [[1, 2], [3, null]]]}',
     "found null (null) at [1, 1, 1]"),
    ("ragged.json", '{"payoffs": [[[1, 2], [3]], [[1, 2], [3, 4]]]}',
     "payoffs are not a rectangular array of shape [2, 2, 2]: 1 entries at [0, 1]"),
    ("scalar.json", '{"payoffs": 7}', "payoffs must be a nested list of numbers, found a number"),
    ("empty.json", '{"payoffs": [[], []]}', "payoffs contain an empty list"),
    ("cells.json", '{"payoffs": [[' + ",".join(["[0]"] * 3) + "]]}",
     "have 1 players but 2 action axes"),
]


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def one_error_line(result) -> str:
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("name, content, message", BAD_GAMES, ids=[b[0] for b in BAD_GAMES])
def test_malformed_game_files_are_one_clear_error(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(GameFileError) as info:
        read_game_file(path)
    text = str(info.value)
    assert text.startswith(str(path) + ": ") and message in text, text
    assert len(text.splitlines()) == 1 and len(text) < 400, text
    line = one_error_line(CliRunner().invoke(cli, ["show", str(path)]))
    assert message in line


def test_declared_size_is_checked_before_allocating(tmp_path, monkeypatch):
    # a limit lowered to show that the check is on the declared size, before reading the
    # payoffs: 2 players x 3 x 3 = 18 payoffs > 17
    path = write(tmp_path, "small.nfg", f"{HEAD} {{ 3 3 }}\n" + "0 " * 18)
    assert read_game_file(path).shape == (3, 3)
    monkeypatch.setattr(files, "MAX_FILE_CELLS", 17)
    with pytest.raises(GameFileError, match="3 x 3 strategies = 18 payoffs, more than the "
                                            "limit of 17"):
        read_game_file(path)
    json_path = write(tmp_path, "small.json", json.dumps({"payoffs": np.zeros((2, 3, 3)).tolist()}))
    with pytest.raises(GameFileError, match=r"payoffs of shape \[2, 3, 3\] hold 18 numbers, "
                                            r"more than the limit of 17"):
        read_game_file(json_path)


def test_file_size_limit(tmp_path, monkeypatch):
    path = write(tmp_path, "big.nfg", f"{HEAD} {{ 1 1 }}\n" + "0 " * 2 + " " * 200)
    assert read_game_file(path).shape == (1, 1)
    monkeypatch.setattr(inputs, "MAX_FILE_BYTES", 100)
    size = path.stat().st_size
    with pytest.raises(GameFileError, match=f"file of {size:,} bytes is larger than the limit "
                                            f"of 100 bytes"):
        read_game_file(path)
    with pytest.raises(GameFileError, match="larger than the limit of 100 bytes"):
        read_joint_file(path, sp.load_game("chicken"))


def test_pipes_are_read_with_the_same_bound(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe.nfg"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)    # a writer, so that open() returns
    try:
        os.write(fd, b"x" * 200)
        monkeypatch.setattr(inputs, "MAX_FILE_BYTES", 100)
        with pytest.raises(GameFileError, match="more than the limit of 100 bytes"):
            read_game_file(fifo)
    finally:
        os.close(fd)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this system")
def test_dev_zero_is_refused_at_once():
    with pytest.raises(GameFileError, match="/dev/zero: not a regular file"):
        read_game_file("/dev/zero")
    with pytest.raises(GameFileError, match="/dev/zero: not a regular file"):
        read_joint_file("/dev/zero", sp.load_game("chicken"))
    runner = CliRunner()
    for args in (["show", "/dev/zero"], ["check", "chicken", "/dev/zero"],
                 ["solve", "/dev/zero"]):
        assert "/dev/zero: not a regular file" in one_error_line(runner.invoke(cli, args)), args


def test_folders_and_missing_files(tmp_path):
    with pytest.raises(GameFileError, match="is a folder, not a file"):
        read_game_file(tmp_path)
    with pytest.raises(GameFileError, match="no such file"):
        read_joint_file(tmp_path / "nope.json", sp.load_game("chicken"))


def test_bom_files_load():
    game = read_game_file(DATA_DIR / "bom.nfg")
    assert game.name == "bom" and game.shape == (2, 2)
    np.testing.assert_array_equal(game.payoffs[1], [[-1, 1], [1, -1]])
    # parse_nfg accepts the mark too, and JSON files with a BOM read as well
    assert parse_nfg("\ufeff" + game.to_nfg()) == game


def test_bom_json_and_joint(tmp_path):
    path = tmp_path / "g.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(sp.load_game("chicken").to_dict()).encode())
    assert read_game_file(path) == sp.load_game("chicken")
    assert read_game_file(path).description == "Chicken"          # kept in the JSON form
    joint = tmp_path / "j.csv"
    joint.write_bytes(b"\xef\xbb\xbfP1,P2,probability\nSwerve,Swerve,1\n")
    np.testing.assert_array_equal(read_joint_file(joint, sp.load_game("chicken")),
                                  [[1, 0], [0, 0]])


BAD_JOINTS = [
    ("deep.json", "[" * 100000 + "]" * 100000, "invalid JSON (nested too deeply)"),
    ("digits.json", "[[%s, 0], [0, 0]]" % DIGITS, "a number has more than 4300 digits"),
    ("string.json", '[["0.5", 0.5], [0, 0]]', 'probabilities must be numbers; found a string '
                                             '("0.5") at [0, 0]'),
    ("boolean.json", '{"joint": [[true, 0], [0, 0]]}', "found a boolean (true) at [0, 0]"),
    ("big.json", "[[1e400, 0], [0, 0]]", "NaN or infinity"),
    ("too_many.json", json.dumps(np.full((3, 3), 1 / 9).tolist()),
     "probabilities of shape [3, 3] hold 9 numbers, more than the limit of 4 "
     "(game 'chicken' has shape [2, 2])"),
    ("too_deep.json", "[[[1]]]", "probabilities nested deeper than 2 levels"),
    ("ragged.json", "[[1, 0], [0]]", "probabilities are not a rectangular array"),
    ("index.csv", f"P1,P2,probability\n{DIGITS},0,1\n",
     f"line 2: '{'1' * 40}' is not an action of player P1"),
    ("unicode_digit.csv", "P1,P2,probability\n\u00b2,0,1\n", "line 2: '\u00b2' is not an action"),
    ("nul.csv", "P1,P2,probability\nSwerve,Swerve,1\x00\n", "line 2: '1\\x00' is not a "
                                                           "probability"),
    ("field.csv", "0.5," + "1" * 200000 + "\n", "invalid CSV (field larger than field limit"),
    ("rows.csv", "P1,P2,probability\n" + "Swerve,Swerve,0.1\n" * 11,
     "probabilities sum to 1.1, not 1"),
    ("matrix.csv", "0.5,0.5\n0,x\n", "line 2: 'x' is not a probability"),
    ("matrix_rows.csv", "0.5,0.5\n0,0\n0,0\n", "line 3: more than 2 rows does not match game "
                                              "'chicken' of shape [2, 2]"),
    ("matrix_shape.csv", ",a,b,c\nSwerve,0.5,0.5,0\n", "line 1: a header of 4 cells does not "
                                                       "match game 'chicken' of shape [2, 2]"),
    ("matrix_short.csv", "0.5,0.5\n", "1 rows do not match game 'chicken' of shape [2, 2]"),
    # labels are read, never skipped: a name that is no action, or one named twice
    ("matrix_label.csv", ",Foo,Bar\nSwerve,0.5,0.5\nStraight,0,0\n",
     "line 1: 'Foo' is not an action of player P2"),
    ("matrix_row_label.csv", ",Swerve,Straight\nSwerve,0.5,0.5\nSwerve,0,0\n",
     "first column: the labels ['Swerve', 'Swerve'] do not name each action of player P1 "
     "once (['Swerve', 'Straight'])"),
    ("long_players.csv", "P1,P3,probability\nSwerve,Swerve,1\n",
     "the header names players ['P1', 'P3']; game 'chicken' has players ['P1', 'P2']"),
    ("matrix_inf.csv", "0.5,0.5\n0,1e400\n", "NaN or infinity"),
]


@pytest.mark.parametrize("name, content, message", BAD_JOINTS, ids=[b[0] for b in BAD_JOINTS])
def test_malformed_joint_files_are_one_clear_error(tmp_path, name, content, message):
    path = write(tmp_path, name, content)
    with pytest.raises(GameFileError) as info:
        read_joint_file(path, sp.load_game("chicken"))
    text = str(info.value)
    assert text.startswith(str(path) + ": ") and message in text, text
    assert len(text.splitlines()) == 1 and len(text) < 400, text
    line = one_error_line(CliRunner().invoke(cli, ["check", "chicken", str(path)]))
    assert message in line


@pytest.mark.parametrize("content", [
    ",Straight,Swerve\nSwerve,0.2,0.4\nStraight,0,0.4\n",      # columns in another order
    ",Swerve,Straight\nStraight,0.4,0\nSwerve,0.4,0.2\n",      # rows in another order
    "Straight,Swerve\nSwerve,0.2,0.4\nStraight,0,0.4\n",       # header without a corner
    ",1,0\n0,0.2,0.4\n1,0,0.4\n",                             # 0-based indices as labels
    "P2,P1,probability\nStraight,Swerve,0.2\nSwerve,Swerve,0.4\nSwerve,Straight,0.4\n",
    ",straight,SWERVE,\n0.2,0.4\n0,0.4\n",                    # case; trailing comma; no row labels
], ids=["columns", "rows", "no_corner", "indices", "long_players", "case_trailing"])
def test_csv_labels_place_the_probabilities(tmp_path, content):
    """Labelled CSV joints are placed by their labels (action names or indices; player
    names in long format), not by position: all give Pr(Swerve, Swerve) = 0.4,
    Pr(Swerve, Straight) = 0.2, Pr(Straight, Swerve) = 0.4."""
    path = write(tmp_path, "j.csv", content)
    np.testing.assert_array_equal(read_joint_file(path, sp.load_game("chicken")),
                                  [[0.4, 0.2], [0.4, 0.0]])


def test_good_joint_files_still_read(tmp_path):
    chicken = sp.load_game("chicken")
    expected = [[0.2, 0.4], [0.4, 0.0]]
    for name in ("chicken_ce.json", "chicken_ce.csv"):
        path = ROOT / "docs" / "examples" / name
        np.testing.assert_allclose(read_joint_file(path, chicken), expected)
    flat = write(tmp_path, "flat.json", "[0.2, 0.4, 0.4, 0]")
    np.testing.assert_allclose(read_joint_file(flat, chicken), expected)
    for text in (",Swerve,Straight\nSwerve,0.2,0.4\nStraight,0.4,0\n",
                 "0.2,0.4\n\n0.4,0\n", "Swerve,0.2,0.4\nStraight,0.4,0\n",
                 "P1,P2,probability\nSwerve,Swerve,0.1\n0,0,0.1\n0,1,0.4\nStraight,0,0.4\n"):
        matrix = write(tmp_path, "m.csv", text)
        np.testing.assert_allclose(read_joint_file(matrix, chicken), expected)


def test_cli_solve_of_a_malformed_file_is_one_line(tmp_path):
    path = write(tmp_path, "bad.json", '{"payoffs": [[[1, "x"], [3, 4]], [[1, 2], [3, 4]]]}')
    line = one_error_line(CliRunner().invoke(cli, ["solve", str(path)]))
    assert line == (f'Error: {path}: payoffs must be numbers; found a string ("x") at '
                    f"[0, 0, 1]")


@pytest.mark.parametrize("payoff", ["1_000", "١", "0x10", "1e5_0", "3/1_0"])
def test_nfg_numbers_are_plain_ascii_decimals(tmp_path, payoff):
    path = tmp_path / "odd.nfg"
    path.write_text(f'NFG 1 R "odd" {{ "a" "b" }} {{ 1 1 }}\n{payoff} 2\n', encoding="utf-8")
    with pytest.raises(GameFileError, match="is not a number"):
        read_game_file(str(path))


def test_csv_probabilities_are_plain_ascii_decimals(tmp_path):
    import spielplatz as sp

    path = tmp_path / "joint.csv"
    path.write_text("0.5,0.5\n0,0\n", encoding="utf-8")
    assert read_joint_file(str(path), sp.load_game("chicken")).sum() == pytest.approx(1.0)
    path.write_text("1_0,0\n0,0\n", encoding="utf-8")      # not read as 10: refused
    with pytest.raises(GameFileError, match="joint.csv: line"):
        read_joint_file(str(path), sp.load_game("chicken"))


def test_shapes_take_ascii_digits_only():
    import spielplatz as sp

    with pytest.raises(sp.SpielplatzError, match="shape must be of the form"):
        sp.load_game("random_game(shape=2x\u0663)")


def test_the_python_api_checks_what_it_is_given(tmp_path):
    """``load_game`` reads a path object as a file and refuses what is no game (it used to
    return ``None``, numbers or dicts unchanged); ``evaluate`` needs a normal-form game;
    ``sample_games`` refuses a shape or seed inside the class string, which its own
    arguments set (they used to collide in a raw TypeError)."""

    assert sp.load_game(DATA_DIR / "pd_payoff.nfg") == sp.load_game(
        str(DATA_DIR / "pd_payoff.nfg"))
    with pytest.raises(GameFileError, match="no such file"):
        sp.load_game(tmp_path / "chicken")             # a path object is a file, not a name
    for bad, kind in ((None, "NoneType None"), (5, "int 5"), ({}, "dict {}"),
                      (b"chicken", "bytes b'chicken'")):
        with pytest.raises(sp.SpielplatzError, match=f"cannot load a game from {re.escape(kind)}: "
                                                     "give a name"):
            sp.load_game(bad)
    with pytest.raises(sp.SpielplatzError, match="evaluate needs a normal-form game; 'braess'"):
        sp.evaluate("braess", np.full((2, 2), 0.25))
    for spec in ("random_game(seed=5)", "random_game(shape=3x3)"):
        with pytest.raises(sp.SpielplatzError, match=r"as sample_games' own arguments \(evaluate-solver: --shape, --seed\)"):
            sp.sample_games(spec, "8x8", 2)
    assert sp.sample_games("random_game", "3x3", 2, seed=5).shape == (2, 2, 3, 3)
    # a batch sampler's class string is checked as load_game checks a game string
    with pytest.raises(sp.GameError, match="game 'random_game' has no parameter 'foo'"):
        sp.sample_games("random_game(foo=1)", "3x3", 2)
    with pytest.raises(sp.GameError, match=r"game class 'covariant_game\(rho=5\)': rho=5.0 "
                                            r"must lie in"):
        sp.sample_games("covariant_game(rho=5)", "3x3", 2)
