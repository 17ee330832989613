"""Joint-distribution files: JSON (a nested list ``[A_1][A_2]...``, or an object with
a ``"joint"`` key such as ``spielplatz solve --json`` writes) or CSV (a two-player
matrix with an optional header row and column of action labels, which place the
numbers, or one row per joint action: one column per player, then ``probability``),
read with the bounds of
:mod:`spielplatz.system.inputs`.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from spielplatz.errors import GameFileError
from spielplatz.games.normal_form import NormalFormGame
from spielplatz.system.inputs import load_json, read_text
from spielplatz.games.files import number_array

__all__ = ["read_joint_file", "validate_joint"]


def validate_joint(joint: Any, game: NormalFormGame, source: str = "joint",
                   tolerance: float = 1e-6) -> np.ndarray:
    """Check that ``joint`` is a probability distribution over ``game``'s joint actions."""
    try:
        joint = np.asarray(joint, dtype=float)
    except (TypeError, ValueError):
        raise GameFileError(f"{source}: probabilities are not numeric") from None
    if joint.shape != game.shape:
        if joint.size == game.num_joint_actions and joint.ndim == 1:
            joint = joint.reshape(game.shape)
        else:
            raise GameFileError(f"{source}: distribution of shape {list(joint.shape)} does not "
                                f"match game {game.name!r} of shape {list(game.shape)}")
    if not np.all(np.isfinite(joint)):
        raise GameFileError(f"{source}: probabilities contain NaN or infinity")
    if joint.min() < -tolerance:
        raise GameFileError(f"{source}: negative probability {joint.min():.6g}")
    total = joint.sum()
    if abs(total - 1.0) > tolerance:
        raise GameFileError(f"{source}: probabilities sum to {total:.9g}, not 1")
    joint = np.clip(joint, 0.0, None)
    return joint / joint.sum()


#: A plain ASCII decimal number (no underscores, no non-ASCII digits, no inf/nan).
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _is_number(text: str) -> bool:
    return DECIMAL.fullmatch(text.strip()) is not None


def _csv_rows(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank CSV rows with their line numbers, read lazily."""
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            if any(c.strip() for c in row):
                yield reader.line_num, row
    except csv.Error as exc:
        raise GameFileError(f"{source}: invalid CSV ({exc})") from None


def _action_index(cell: str, game: NormalFormGame, p: int, where: str) -> int:
    """Action of player ``p`` named ``cell`` (its name, else its 0-based index)."""
    cell = cell.strip()
    names = list(game.action_names[p])
    matches = [i for i, x in enumerate(names) if x == cell] or \
        [i for i, x in enumerate(names) if x.casefold() == cell.casefold()]
    if len(matches) > 1:
        raise GameFileError(f"{where}: player {game.player_names[p]} has {len(matches)} "
                            f"actions named {cell[:40]!r}; label them by 0-based index")
    if matches:
        return matches[0]
    if cell.isascii() and cell.isdigit() and len(cell) < 19 and int(cell) < len(names):
        return int(cell)
    raise GameFileError(f"{where}: {cell[:40]!r} is not an action of player "
                        f"{game.player_names[p]}")


def _player_order(header: list[str], game: NormalFormGame, source: str) -> list[int]:
    """Which player each action column of a long-format CSV holds: by the header's
    player names when it names them (in any order), else the players in order."""
    names = [str(x).strip().lower() for x in game.player_names]
    cells = [c.strip().lower() for c in header]
    named = [c for c in cells if c in names]
    if not named:
        return list(range(game.num_players))
    if sorted(cells) != sorted(names) or len(set(cells)) != len(cells):
        raise GameFileError(f"{source}: the header names players {header!r}; game "
                            f"{game.name!r} has players {list(game.player_names)}")
    return [names.index(c) for c in cells]


def _csv_long(rows: Iterator, header: list[str], game: NormalFormGame,
              source: str) -> np.ndarray:
    """Long format: one row per joint action (action columns, then the probability)."""
    n = game.num_players
    if len(header) != n + 1:
        raise GameFileError(f"{source}: long-format CSV needs {n} action columns and a "
                            f"probability column, found {len(header)} columns")
    order = _player_order(header[:n], game, source)
    joint = np.zeros(game.shape)
    for line, row in rows:
        if len(row) != n + 1:
            raise GameFileError(f"{source}: line {line} has {len(row)} columns, "
                                f"expected {n + 1}")
        idx = [0] * n
        for column, cell in enumerate(row[:n]):
            p = order[column]
            idx[p] = _action_index(cell, game, p, f"{source}: line {line}")
        if not _is_number(row[n]):
            raise GameFileError(f"{source}: line {line}: {row[n][:40]!r} is not a "
                                f"probability")
        joint[tuple(idx)] += float(row[n])
    return joint


def _labels(cells: list[str], game: NormalFormGame, p: int, where: str) -> list[int]:
    """The actions of player ``p`` that labels ``cells`` name, each exactly once."""
    idx = [_action_index(c, game, p, where) for c in cells]
    if sorted(idx) != list(range(game.shape[p])):
        raise GameFileError(f"{where}: the labels {[c.strip() for c in cells]!r} do not name "
                            f"each action of player {game.player_names[p]} once "
                            f"({list(game.action_names[p])})")
    return idx


def _csv_matrix(rows: Iterator, first: tuple, game: NormalFormGame,
                source: str) -> np.ndarray:
    """Matrix format (two players): rows are player 1's actions, columns player 2's,
    optionally labelled by a header row and a first column (action names or 0-based
    indices, in any order; every label must name an action)."""
    if game.num_players != 2:
        raise GameFileError(f"{source}: a matrix CSV needs a 2-player game; for "
                            f"{game.num_players} players use one row per joint action with "
                            f"a 'probability' column")
    a1, a2 = game.shape

    def trimmed(item: tuple | None) -> tuple | None:     # spreadsheets' trailing commas
        if item is None:
            return None
        cells = list(item[1])
        while len(cells) > 1 and not cells[-1].strip():
            cells.pop()
        return item[0], cells

    first = trimmed(first)
    line, row = first
    columns = list(range(a2))
    # a header: a blank corner cell, labels that are not all numbers, or (no corner)
    # one label per column of which the first is not a number
    if (not row[0].strip() or not all(_is_number(c) for c in row[1:])
            or (len(row) == a2 and not _is_number(row[0]))):
        cells = row[1:] if len(row) == a2 + 1 else row
        if len(cells) != a2:
            raise GameFileError(f"{source}: line {line}: a header of {len(row)} cells does "
                                f"not match game {game.name!r} of shape {list(game.shape)}")
        columns = _labels(cells, game, 1, f"{source}: line {line}")
        first = trimmed(next(rows, None))
    # a first column of row labels: rows of one cell more than the columns
    names_column = first is not None and len(first[1]) == a2 + 1
    matrix = np.full((a1, a2), np.nan)
    count, labels = 0, []
    while first is not None:
        line, row = first
        if names_column:
            labels.append(row[0])
            row = row[1:]
        if count == a1 or len(row) != a2:
            found = f"more than {count} rows" if count == a1 else f"a row of {len(row)} values"
            raise GameFileError(f"{source}: line {line}: {found} does not match game "
                                f"{game.name!r} of shape {list(game.shape)}")
        for cell in row:
            if not _is_number(cell):
                raise GameFileError(f"{source}: line {line}: {cell[:40]!r} is not a "
                                    f"probability")
        matrix[count, columns] = [float(c) for c in row]
        count += 1
        first = trimmed(next(rows, None))
    if count != a1:
        raise GameFileError(f"{source}: {count} rows do not match game {game.name!r} of "
                            f"shape {list(game.shape)}")
    if names_column:
        out = np.empty_like(matrix)
        out[_labels(labels, game, 0, f"{source}: first column")] = matrix
        return out
    return matrix


def _csv_joint(text: str, game: NormalFormGame, source: str) -> np.ndarray:
    rows = _csv_rows(text, source)
    first = next(rows, None)
    if first is None:
        raise GameFileError(f"{source}: empty CSV file")
    header = [c.strip().lower() for c in first[1]]
    if header and header[-1] in ("probability", "prob", "p"):
        return _csv_long(rows, first[1], game, source)
    return _csv_matrix(rows, first, game, source)


def read_joint_file(path: str | Path, game: NormalFormGame) -> np.ndarray:
    """Read a joint distribution for ``game`` from a JSON or CSV file (validated).

    The file is read with the same bounds as game files (size, kind of file);
    JSON holds numbers only (no strings or booleans), at most as many as the game
    has joint actions.
    """
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() == ".csv" or not text.lstrip().startswith(("[", "{")):
        joint = _csv_joint(text, game, str(path))
    else:
        data = load_json(text, path)
        if isinstance(data, dict):
            if "joint" not in data:
                raise GameFileError(f"{path}: a JSON object needs a 'joint' array")
            data = data["joint"]
        joint = number_array(data, str(path), "probabilities", game.num_players,
                              game.num_joint_actions,
                              f" (game {game.name!r} has shape {list(game.shape)})")
    return validate_joint(joint, game, str(path))
