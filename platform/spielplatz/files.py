"""Game files, joint-distribution files and atomic writes.

* games: Gambit ``.nfg`` (see :mod:`spielplatz.nfg`) and Spielplatz ``.json``
  (``{"payoffs": [...], "players": [...], "actions": [[...], ...], "name": ...}``);
* joint distributions: JSON (a nested list ``[A_1][A_2]...``, or an object with
  a ``"joint"`` key such as ``spielplatz solve --json`` writes) or CSV (a
  two-player matrix with optional action-name header row and column, or one
  row per joint action: one column per player, then ``probability``);
* every file is written to a temporary file in the same folder, then renamed,
  so a failure never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .errors import GameFileError
from .normal_form import NormalFormGame

__all__ = ["read_game_file", "write_game_file", "read_joint_file", "atomic_write",
           "GAME_SUFFIXES", "validate_joint"]

GAME_SUFFIXES = (".nfg", ".json")


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file beside ``path``; rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GameFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise GameFileError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise GameFileError(f"{path}: not a text file") from None


def read_game_file(path: str | Path) -> NormalFormGame:
    """Read a game from a ``.nfg`` or ``.json`` file.

    Raises
    ------
    GameFileError
        Naming the file and the problem.
    """
    from .errors import GameError
    from .nfg import parse_nfg

    path = Path(path)
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix != ".nfg" and text.lstrip().startswith("{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GameFileError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(data, dict) or "payoffs" not in data:
            raise GameFileError(f"{path}: a JSON game needs a 'payoffs' array of shape "
                                f"[N, A_1, ..., A_N]")
        try:
            return NormalFormGame(data["payoffs"], name=data.get("name", path.stem),
                                  player_names=data.get("players") or (),
                                  action_names=data.get("actions") or (),
                                  description=data.get("description", ""))
        except GameError as exc:
            raise GameFileError(f"{path}: {exc}") from None
    try:
        return parse_nfg(text, name=path.stem, source=str(path))
    except GameFileError:
        raise
    except GameError as exc:
        raise GameFileError(f"{path}: {exc}") from None


def write_game_file(game: NormalFormGame, path: str | Path) -> Path:
    """Write ``game`` as ``.nfg`` or ``.json`` (by suffix), atomically."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        text = json.dumps(game.to_dict(), indent=1) + "\n"
    elif path.suffix.lower() == ".nfg":
        text = game.to_nfg()
    else:
        raise GameFileError(f"{path}: unknown game file suffix; use one of {GAME_SUFFIXES}")
    with atomic_write(path) as handle:
        handle.write(text)
    return path


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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _csv_joint(text: str, game: NormalFormGame, source: str) -> np.ndarray:
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise GameFileError(f"{source}: empty CSV file")
    header = [c.strip().lower() for c in rows[0]]
    if header and header[-1] in ("probability", "prob", "p"):
        # Long format: one row per joint action.
        n = game.num_players
        if len(header) != n + 1:
            raise GameFileError(f"{source}: long-format CSV needs {n} action columns and a "
                                f"probability column, found {len(header)} columns")
        joint = np.zeros(game.shape)
        for line, row in enumerate(rows[1:], start=2):
            if len(row) != n + 1:
                raise GameFileError(f"{source}: line {line} has {len(row)} columns, "
                                    f"expected {n + 1}")
            idx = []
            for p, cell in enumerate(row[:n]):
                cell = cell.strip()
                names = game.action_names[p]
                if cell in names:
                    idx.append(names.index(cell))
                elif cell.isdigit() and int(cell) < len(names):
                    idx.append(int(cell))
                else:
                    raise GameFileError(f"{source}: line {line}: {cell!r} is not an action "
                                        f"of player {game.player_names[p]}")
            if not _is_number(row[n]):
                raise GameFileError(f"{source}: line {line}: {row[n]!r} is not a probability")
            joint[tuple(idx)] += float(row[n])
        return joint
    if game.num_players != 2:
        raise GameFileError(f"{source}: a matrix CSV needs a 2-player game; for "
                            f"{game.num_players} players use one row per joint action with "
                            f"a 'probability' column")
    if not all(_is_number(c) for c in rows[0][1:]):
        rows = rows[1:]                                   # header row of action names
    if rows and not _is_number(rows[0][0]):
        rows = [r[1:] for r in rows]                      # leading column of action names
    try:
        return np.array([[float(c) for c in r] for r in rows], dtype=float)
    except ValueError as exc:
        raise GameFileError(f"{source}: {exc}") from None


def read_joint_file(path: str | Path, game: NormalFormGame) -> np.ndarray:
    """Read a joint distribution for ``game`` from a JSON or CSV file (validated)."""
    path = Path(path)
    text = _read_text(path)
    if path.suffix.lower() == ".csv" or not text.lstrip().startswith(("[", "{")):
        joint = _csv_joint(text, game, str(path))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GameFileError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(data, dict):
            if "joint" not in data:
                raise GameFileError(f"{path}: a JSON object needs a 'joint' array")
            data = data["joint"]
        try:
            joint = np.array(data, dtype=float)
        except (TypeError, ValueError):
            raise GameFileError(f"{path}: 'joint' is not a rectangular array of numbers") from None
    return validate_joint(joint, game, str(path))
