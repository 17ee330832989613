"""Game files: Gambit ``.nfg`` (see :mod:`spielplatz.games.nfg`) and Spielplatz ``.json``
(``{"payoffs": [...], "players": [...], "actions": [[...], ...], "name": ...}``).

Files are read with bounds (:mod:`spielplatz.system.inputs`): at most
:data:`MAX_PLAYERS` players and :data:`MAX_FILE_CELLS` numbers, checked before
anything of the declared size is allocated; written atomically
(:func:`spielplatz.system.outputs.atomic_write`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from spielplatz.errors import GameFileError
from spielplatz.games.normal_form import NormalFormGame
from spielplatz.system.inputs import load_json, read_text, type_name
from spielplatz.system.outputs import atomic_write

__all__ = ["read_game_file", "write_game_file", "GAME_SUFFIXES", "MAX_FILE_CELLS",
           "MAX_PLAYERS", "number_array"]

GAME_SUFFIXES = (".nfg", ".json")
#: Most numbers (payoffs: players x joint actions) a game file may declare: 2**24,
#: 128 MiB of float64.
MAX_FILE_CELLS = 2**24
#: Most players a game file may declare (numpy arrays have at most 64 axes).
MAX_PLAYERS = 32

def number_array(data: Any, source: str, what: str, max_ndim: int,
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
                            f"found {type_name(data)}")
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
                                    f"{type_name(node)} ({shown}) at {list(index)}")
            try:
                out[flat] = float(node)
            except OverflowError:
                raise GameFileError(f"{source}: {what}: the number at {list(index)} is too "
                                    f"large for float64") from None
            flat += 1
            continue
        if not isinstance(node, list) or len(node) != shape[depth]:
            found = (f"{len(node)} entries" if isinstance(node, list) else type_name(node))
            raise GameFileError(f"{source}: {what} are not a rectangular array of shape "
                                f"{shape}: {found} at {list(index)}, expected "
                                f"{shape[depth]} entries")
        for i in range(len(node) - 1, -1, -1):
            stack.append((node[i], depth + 1, index + (i,)))
    return out.reshape(shape)


def _string_list(value: Any, source: str, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GameFileError(f"{source}: {what} must be a list of strings, "
                            f"found {type_name(value)}")
    return value


def _json_game(data: Any, path: Path) -> NormalFormGame:
    from spielplatz.errors import GameError

    if not isinstance(data, dict) or "payoffs" not in data:
        raise GameFileError(f"{path}: a JSON game needs a 'payoffs' array of shape "
                            f"[N, A_1, ..., A_N]")
    source = str(path)
    if data.get("format", "spielplatz-game") != "spielplatz-game":
        raise GameFileError(f"{path}: 'format' is {data['format']!r}, not 'spielplatz-game'")
    if data.get("version", 1) != 1:
        raise GameFileError(f"{path}: game format version {data['version']!r}; this "
                            f"Spielplatz reads version 1")
    payoffs = number_array(data["payoffs"], source, "payoffs", MAX_PLAYERS + 1, MAX_FILE_CELLS)
    name = data.get("name", path.stem)
    description = data.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise GameFileError(f"{path}: '{key}' must be a string, found {type_name(value)}")
    players = data.get("players")
    players = [] if players is None else _string_list(players, source, "'players'")
    actions = data.get("actions")
    actions = [] if actions is None else actions
    if not isinstance(actions, list):
        raise GameFileError(f"{path}: 'actions' must be a list of lists of strings, "
                            f"found {type_name(actions)}")
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
    from spielplatz.errors import GameError
    from spielplatz.games.nfg import parse_nfg

    path = Path(path)
    text = read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix != ".nfg" and text.lstrip().startswith("{")):
        return _json_game(load_json(text, path), path)
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
