"""Game files, joint-distribution files and atomic writes.

* games: Gambit ``.nfg`` (see :mod:`spielplatz.nfg`) and Spielplatz ``.json``
  (``{"payoffs": [...], "players": [...], "actions": [[...], ...], "name": ...}``);
* joint distributions: JSON (a nested list ``[A_1][A_2]...``, or an object with
  a ``"joint"`` key such as ``spielplatz solve --json`` writes) or CSV (a
  two-player matrix with optional action-name header row and column, or one
  row per joint action: one column per player, then ``probability``);
* every file is written to a temporary file in the same folder, then renamed,
  so a failure never leaves a half-written file; it gets the umask's mode
  (``0644`` under umask ``022``); output paths are checked before any work
  (:func:`check_output_file`, :func:`check_output_folder`);
* every file is read with bounds: at most :data:`MAX_FILE_BYTES` bytes from a
  regular file or a pipe (devices are refused), at most :data:`MAX_PLAYERS`
  players and :data:`MAX_FILE_CELLS` numbers, checked before anything of the
  declared size is allocated.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .errors import GameFileError, OutputPathError
from .normal_form import NormalFormGame

__all__ = ["read_game_file", "write_game_file", "read_joint_file", "atomic_write",
           "check_output_file", "check_output_folder", "current_umask",
           "GAME_SUFFIXES", "validate_joint", "MAX_FILE_BYTES", "MAX_FILE_CELLS", "MAX_PLAYERS"]

GAME_SUFFIXES = (".nfg", ".json")

#: Largest input file (bytes) that is read: 64 MiB.
MAX_FILE_BYTES = 64 * 2**20
#: Most numbers (payoffs: players x joint actions) a game file may declare: 2**24,
#: 128 MiB of float64.
MAX_FILE_CELLS = 2**24
#: Most players a game file may declare (numpy arrays have at most 64 axes).
MAX_PLAYERS = 32


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's file-mode creation mask (``os.umask`` read and put back)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _missing_folder(folder: Path, what: str) -> OutputPathError:
    return OutputPathError(f"{what}: folder {str(folder)!r} does not exist (create it first)")


def check_output_file(path: str | Path, what: str = "output file") -> Path:
    """Check, before any work, that ``path`` can be written: its folder exists and is
    writable and ``path`` is not a folder. ``what`` names the option in errors.

    Raises
    ------
    OutputPathError
    """
    path = Path(path)
    folder = path.parent
    if str(path) in ("", ".") or path.name in ("", ".", ".."):
        raise OutputPathError(f"{what}: {str(path)!r} is not a file name")
    if path.is_dir():
        raise OutputPathError(f"{what}: {str(path)!r} is a folder, not a file")
    if not folder.exists():
        raise _missing_folder(folder, what)
    if not folder.is_dir():
        raise OutputPathError(f"{what}: {str(folder)!r} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{what}: folder {str(folder)!r} is not writable")
    return path


def check_output_folder(folder: str | Path, what: str = "output folder") -> Path:
    """Check, before any work, that ``folder`` can receive files: it is a writable
    folder, or it does not exist and its parent is a writable folder (then the
    first write creates it; parents are never created).

    Raises
    ------
    OutputPathError
    """
    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise OutputPathError(f"{what}: {str(folder)!r} exists and is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputPathError(f"{what}: folder {str(folder)!r} is not writable")
        return folder
    parent = folder.parent
    if not parent.is_dir():
        raise OutputPathError(f"{what}: cannot create {str(folder)!r}: its parent folder "
                              f"{str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{what}: cannot create {str(folder)!r}: folder "
                              f"{str(parent)!r} is not writable")
    return folder


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", *,
                 make_folder: bool = False) -> Iterator[Any]:
    """Open a temporary file beside ``path``; rename it onto ``path`` on success.

    The file gets the mode a plain ``open`` would give it (``0o666`` less the
    umask: ``0644`` under umask ``022``), not ``mkstemp``'s ``0600``. With
    ``make_folder`` the folder of ``path`` is created if missing (its parent
    must exist); without it a missing folder is an error.

    Raises
    ------
    OutputPathError
        The folder is missing or not writable.
    """
    path = Path(path)
    folder = path.parent
    if make_folder and not folder.is_dir():
        check_output_folder(folder, str(path))
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputPathError(f"{path}: cannot create folder {str(folder)!r} "
                                  f"({exc.strerror or exc})") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except FileNotFoundError:
        raise _missing_folder(folder, str(path)) from None
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write in {str(folder)!r} "
                              f"({exc.strerror or exc})") from None
    try:
        if hasattr(os, "fchmod"):                     # POSIX: mkstemp's 0600 -> umask's mode
            os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _read_text(path: Path) -> str:
    """The text of ``path``, read with bounds (size, kind of file, UTF-8 with optional BOM)."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise GameFileError(f"{path}: is a folder, not a file")
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
            raise GameFileError(f"{path}: not a regular file (a device or socket cannot be "
                                f"read as a game or distribution)")
        if info.st_size > MAX_FILE_BYTES:
            raise GameFileError(f"{path}: file of {info.st_size:,} bytes is larger than the "
                                f"limit of {MAX_FILE_BYTES:,} bytes (64 MiB)")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise GameFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise GameFileError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise GameFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise GameFileError(f"{path}: more than the limit of {MAX_FILE_BYTES:,} bytes "
                            f"(64 MiB) to read")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GameFileError(f"{path}: not a text file (not UTF-8)") from None


def _load_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GameFileError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise GameFileError(f"{path}: invalid JSON (nested too deeply)") from None
    except ValueError as exc:            # e.g. an integer beyond Python's digit limit
        if "digits" in str(exc):
            raise GameFileError(f"{path}: invalid JSON (a number has more than "
                                f"{sys.get_int_max_str_digits()} digits)") from None
        raise GameFileError(f"{path}: invalid JSON ({str(exc).splitlines()[0][:80]})") \
            from None


def _type_name(value: Any) -> str:
    return {bool: "a boolean", str: "a string", dict: "an object", list: "a list",
            type(None): "null", int: "a number", float: "a number"}.get(type(value),
                                                                        type(value).__name__)


def _number_array(data: Any, source: str, what: str, max_ndim: int,
                  max_cells: int, context: str = "") -> np.ndarray:
    """A rectangular nested list of JSON numbers as a float64 array (strict: no strings,
    booleans or nulls), its shape checked against ``max_ndim`` and ``max_cells`` first."""
    shape = []
    node = data
    while isinstance(node, list):
        if len(shape) >= max_ndim:
            raise GameFileError(f"{source}: {what} nested deeper than {max_ndim} levels")
        if not node:
            raise GameFileError(f"{source}: {what} contain an empty list")
        shape.append(len(node))
        node = node[0]
    if not shape:
        raise GameFileError(f"{source}: {what} must be a nested list of numbers, "
                            f"found {_type_name(data)}")
    cells = math.prod(shape)
    if cells > max_cells:
        raise GameFileError(f"{source}: {what} of shape {shape} hold {cells:,} numbers, more "
                            f"than the limit of {max_cells:,}{context}")
    out = np.empty(cells)
    flat = 0
    stack: list[tuple[list, int, tuple[int, ...]]] = [(data, 0, ())]
    while stack:                                  # depth-first, in row-major order
        node, depth, index = stack.pop()
        if depth == len(shape):
            if type(node) not in (int, float):
                shown = json.dumps(node)
                shown = shown if len(shown) <= 24 else shown[:20] + "..."
                raise GameFileError(f"{source}: {what} must be numbers; found "
                                    f"{_type_name(node)} ({shown}) at {list(index)}")
            try:
                out[flat] = float(node)
            except OverflowError:
                raise GameFileError(f"{source}: {what}: the number at {list(index)} is too "
                                    f"large for float64") from None
            flat += 1
            continue
        if not isinstance(node, list) or len(node) != shape[depth]:
            found = (f"{len(node)} entries" if isinstance(node, list) else _type_name(node))
            raise GameFileError(f"{source}: {what} are not a rectangular array of shape "
                                f"{shape}: {found} at {list(index)}, expected "
                                f"{shape[depth]} entries")
        for i in range(len(node) - 1, -1, -1):
            stack.append((node[i], depth + 1, index + (i,)))
    return out.reshape(shape)


def _string_list(value: Any, source: str, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GameFileError(f"{source}: {what} must be a list of strings, "
                            f"found {_type_name(value)}")
    return value


def _json_game(data: Any, path: Path) -> NormalFormGame:
    from .errors import GameError

    if not isinstance(data, dict) or "payoffs" not in data:
        raise GameFileError(f"{path}: a JSON game needs a 'payoffs' array of shape "
                            f"[N, A_1, ..., A_N]")
    source = str(path)
    payoffs = _number_array(data["payoffs"], source, "payoffs", MAX_PLAYERS + 1, MAX_FILE_CELLS)
    name = data.get("name", path.stem)
    description = data.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise GameFileError(f"{path}: '{key}' must be a string, found {_type_name(value)}")
    players = data.get("players")
    players = [] if players is None else _string_list(players, source, "'players'")
    actions = data.get("actions")
    actions = [] if actions is None else actions
    if not isinstance(actions, list):
        raise GameFileError(f"{path}: 'actions' must be a list of lists of strings, "
                            f"found {_type_name(actions)}")
    for p, names in enumerate(actions):
        _string_list(names, source, f"'actions' of player {p + 1}")
    try:
        return NormalFormGame(payoffs, name=name, player_names=players, action_names=actions,
                              description=description)
    except GameError as exc:
        raise GameFileError(f"{path}: {exc}") from None


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
        return _json_game(_load_json(text, path), path)
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
    text = _read_text(path)
    if path.suffix.lower() == ".csv" or not text.lstrip().startswith(("[", "{")):
        joint = _csv_joint(text, game, str(path))
    else:
        data = _load_json(text, path)
        if isinstance(data, dict):
            if "joint" not in data:
                raise GameFileError(f"{path}: a JSON object needs a 'joint' array")
            data = data["joint"]
        joint = _number_array(data, str(path), "probabilities", game.num_players,
                              game.num_joint_actions,
                              f" (game {game.name!r} has shape {list(game.shape)})")
    return validate_joint(joint, game, str(path))
