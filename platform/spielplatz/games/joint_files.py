"""Joint-distribution files: JSON (a nested list ``[A_1][A_2]...``, or an object with
a ``"joint"`` key such as ``spielplatz solve --json`` writes) or CSV (a two-player
matrix with optional action-name header row and column, or one row per joint
action: one column per player, then ``probability``), read with the bounds of
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


def _csv_joint(text: str, game: NormalFormGame, source: str) -> np.ndarray:
    rows = _csv_rows(text, source)
    first = next(rows, None)
    if first is None:
        raise GameFileError(f"{source}: empty CSV file")
    header = [c.strip().lower() for c in first[1]]
    if header and header[-1] in ("probability", "prob", "p"):
        # Long format: one row per joint action.
        n = game.num_players
        if len(header) != n + 1:
            raise GameFileError(f"{source}: long-format CSV needs {n} action columns and a "
                                f"probability column, found {len(header)} columns")
        joint = np.zeros(game.shape)
        for line, row in rows:
            if len(row) != n + 1:
                raise GameFileError(f"{source}: line {line} has {len(row)} columns, "
                                    f"expected {n + 1}")
            idx = []
            for p, cell in enumerate(row[:n]):
                cell = cell.strip()
                names = game.action_names[p]
                if cell in names:
                    idx.append(names.index(cell))
                elif cell.isascii() and cell.isdigit() and len(cell) < 19 \
                        and int(cell) < len(names):
                    idx.append(int(cell))
                else:
                    raise GameFileError(f"{source}: line {line}: {cell[:40]!r} is not an action "
                                        f"of player {game.player_names[p]}")
            if not _is_number(row[n]):
                raise GameFileError(f"{source}: line {line}: {row[n][:40]!r} is not a "
                                    f"probability")
            joint[tuple(idx)] += float(row[n])
        return joint
    if game.num_players != 2:
        raise GameFileError(f"{source}: a matrix CSV needs a 2-player game; for "
                            f"{game.num_players} players use one row per joint action with "
                            f"a 'probability' column")
    line, row = first
    if not all(_is_number(c) for c in row[1:]):
        first = next(rows, None)                          # header row of action names
    names_column = first is not None and not _is_number(first[1][0])
    matrix = []
    while first is not None:
        line, row = first
        row = row[1:] if names_column else row            # leading column of action names
        if len(matrix) == game.shape[0] or len(row) != game.shape[1]:
            found = (f"more than {len(matrix)} rows" if len(matrix) == game.shape[0]
                     else f"a row of {len(row)} values")
            raise GameFileError(f"{source}: line {line}: {found} does not match game "
                                f"{game.name!r} of shape {list(game.shape)}")
        for cell in row:
            if not _is_number(cell):
                raise GameFileError(f"{source}: line {line}: {cell[:40]!r} is not a "
                                    f"probability")
        matrix.append([float(c) for c in row])
        first = next(rows, None)
    return np.array(matrix, dtype=float).reshape(len(matrix), game.shape[1])


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
