"""Conversions between pyspiel games and :class:`NormalFormGame`.

* ``MatrixGame``/``TensorGame`` (``matrix_*``, ``nfg_game``...): payoffs are read
  directly.
* other one-shot simultaneous-move games (``blotto``, ``matching_pennies_3p``):
  every joint action is played once from the initial state.
* extensive-form games: converted with ``pyspiel.extensive_to_tensor_game``
  (one pure strategy per combination of actions at a player's information
  states) after a size guard, because the number of pure strategies grows
  exponentially with the number of information states.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from spielplatz.errors import GameError, GameTooLargeError
from spielplatz.system.fdio import captured_stderr
from spielplatz.games.normal_form import NormalFormGame
from spielplatz.system.resources import GAME_COPIES

__all__ = ["from_pyspiel", "to_pyspiel", "DEFAULT_MAX_JOINT_ACTIONS", "count_pure_strategies",
           "openspiel_errors_once"]

#: Default limit on the number of joint pure strategies of a converted game.
DEFAULT_MAX_JOINT_ACTIONS = 1_000_000
#: Limit on the number of histories visited while sizing an extensive-form game.
MAX_TREE_NODES = 200_000


def openspiel_errors_once():
    """Context manager for pyspiel calls that can throw.

    OpenSpiel's C++ code prints ``OpenSpiel exception: ...`` on stderr (fd 2)
    before raising ``pyspiel.SpielError`` with the same text; this drops that
    line (anything else written meanwhile still reaches stderr), so that the
    user reads the error once, as the host's one-line ``Error: ...``.
    """
    return captured_stderr("OpenSpiel exception:")


def _game_name(game: Any) -> str:
    return str(game)


def from_pyspiel(game: Any, name: str | None = None, *,
                 max_joint_actions: int | None = None) -> NormalFormGame:
    """Convert a pyspiel game to a :class:`NormalFormGame`.

    Parameters
    ----------
    game : pyspiel.Game
    name : str, optional
        Defaults to the game's string (``"blotto(coins=4,fields=3)"``).
    max_joint_actions : int, optional
        Size guard (default :data:`DEFAULT_MAX_JOINT_ACTIONS`).

    Raises
    ------
    GameTooLargeError
        If the normal form would have more joint pure strategies than allowed.
    GameError
        If the game cannot be expressed in normal form (e.g. it is not finite).
    """
    import pyspiel

    limit = max_joint_actions or DEFAULT_MAX_JOINT_ACTIONS
    name = name or _game_name(game)
    gtype = game.get_type()
    if isinstance(game, pyspiel.MatrixGame):
        payoffs = np.stack([np.asarray(game.row_utilities()), np.asarray(game.col_utilities())])
        actions = [[game.row_action_name(i) for i in range(game.num_rows())],
                   [game.col_action_name(j) for j in range(game.num_cols())]]
        return NormalFormGame(payoffs, name=name, action_names=actions,
                              description=gtype.long_name)
    if isinstance(game, pyspiel.TensorGame):
        return _from_tensor_game(game, name, gtype.long_name)
    if gtype.dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS and game.max_game_length() == 1 \
            and gtype.chance_mode == pyspiel.GameType.ChanceMode.DETERMINISTIC:
        return _from_one_shot(game, name, limit)
    if gtype.dynamics == pyspiel.GameType.Dynamics.SIMULTANEOUS:
        raise GameError(f"{name}: simultaneous-move game with more than one round; "
                        f"convert it with turn_based_simultaneous_game first, e.g. "
                        f"'turn_based_simultaneous_game(game={gtype.short_name})'")
    if gtype.dynamics != pyspiel.GameType.Dynamics.SEQUENTIAL:
        raise GameError(f"{name}: {gtype.dynamics} games have no normal form here")
    counts = count_pure_strategies(game)
    total = math.prod(counts)
    if total > limit:
        shown = " x ".join(_short_int(c) for c in counts)
        raise GameTooLargeError(
            f"{name}: its normal form has {shown} pure strategies ({_short_int(total)} joint), "
            f"more than the limit of {limit:,}; pick a smaller variant or raise the limit")
    # pyspiel's tensor game holds every player's utilities (and strategy names) too
    _check_conversion_memory(name, counts, copies=GAME_COPIES + 2)
    with openspiel_errors_once():
        tensor = pyspiel.extensive_to_tensor_game(game)
    return _from_tensor_game(tensor, name, gtype.long_name, compact_names=True)


def _check_conversion_memory(name: str, shape: list, copies: int = 0) -> None:
    """Refuse a conversion whose payoff tensors would not fit the memory limit."""
    from spielplatz.system.resources import GAME_COPIES, check_memory, game_bytes

    check_memory(game_bytes(shape, copies=copies or GAME_COPIES),
                 f"{name}: converting its {' x '.join(_short_int(a) for a in shape)} normal form",
                 hint="pick a smaller variant", error=GameTooLargeError)


def _short_int(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"~1e{int(math.log10(n))}"


def _compact_strategy_name(text: str) -> str:
    # extensive_to_tensor_game names a pure strategy by one line per information
    # state: "<infostate>  ---  action = <a>". Shorten to "<infostate>:<a>".
    parts = []
    for line in text.strip().splitlines():
        state, sep, action = line.partition("---")
        if not sep:
            return text.strip()
        parts.append(f"{state.strip()}:{action.replace('action =', '').strip()}")
    return " ".join(parts)


def _from_tensor_game(game: Any, name: str, long_name: str,
                      compact_names: bool = False) -> NormalFormGame:
    n = game.num_players()
    shape = list(game.shape())
    _check_conversion_memory(name, shape)
    payoffs = np.stack([np.asarray(game.player_utilities(p), dtype=float).reshape(shape)
                        for p in range(n)])
    fix = _compact_strategy_name if compact_names else (lambda s: s)
    actions = [[fix(game.action_name(p, a)) for a in range(shape[p])] for p in range(n)]
    return NormalFormGame(payoffs, name=name, action_names=actions, description=long_name)


def _from_one_shot(game: Any, name: str, limit: int) -> NormalFormGame:
    state = game.new_initial_state()
    n = game.num_players()
    legal = [state.legal_actions(p) for p in range(n)]
    shape = [len(a) for a in legal]
    if math.prod(shape) > limit:
        raise GameTooLargeError(f"{name}: {' x '.join(map(str, shape))} joint actions exceed "
                                f"the limit of {limit:,}")
    _check_conversion_memory(name, shape)
    payoffs = np.zeros([n] + shape)
    for idx in itertools.product(*(range(k) for k in shape)):
        child = state.clone()
        child.apply_actions([legal[p][i] for p, i in enumerate(idx)])
        payoffs[(slice(None),) + idx] = child.returns()
    actions = [[state.action_to_string(p, a) for a in legal[p]] for p in range(n)]
    return NormalFormGame(payoffs, name=name, action_names=actions,
                          description=game.get_type().long_name)


def count_pure_strategies(game: Any, max_nodes: int = MAX_TREE_NODES) -> list[int]:
    """Number of pure strategies per player of a sequential pyspiel game.

    Walks the tree once, collecting each player's information states and their
    action counts (product over information states).

    Raises
    ------
    GameTooLargeError
        If the tree has more than ``max_nodes`` histories.
    """
    n = game.num_players()
    infosets: list[dict[str, int]] = [dict() for _ in range(n)]
    stack = [game.new_initial_state()]
    visited = 0
    while stack:
        state = stack.pop()
        visited += 1
        if visited > max_nodes:
            raise GameTooLargeError(
                f"{game}: the game tree has more than {max_nodes:,} histories; its normal "
                f"form is far too large")
        if state.is_terminal():
            continue
        if state.is_chance_node():
            for action, _ in state.chance_outcomes():
                stack.append(state.child(action))
            continue
        player = state.current_player()
        key = state.information_state_string(player)
        actions = state.legal_actions()
        infosets[player].setdefault(key, len(actions))
        for action in actions:
            stack.append(state.child(action))
    return [math.prod(sets.values()) for sets in infosets]


def to_pyspiel(game: NormalFormGame) -> Any:
    """An equivalent pyspiel game with the same payoffs and action names."""
    import pyspiel

    short = "".join(c if c.isalnum() or c == "_" else "_" for c in game.name) or "game"
    if game.num_players == 2:
        with openspiel_errors_once():
            return pyspiel.create_matrix_game(
                short, game.description or game.name,
                list(game.action_names[0]), list(game.action_names[1]),
                game.payoffs[0].tolist(), game.payoffs[1].tolist())
    utilities = [game.payoffs[p].reshape(-1).tolist() for p in range(game.num_players)]
    with openspiel_errors_once():
        return pyspiel.create_tensor_game(
            short, game.description or game.name,
            [list(a) for a in game.action_names], utilities)
