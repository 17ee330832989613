"""The normal-form game model shared by every solver.

A :class:`NormalFormGame` holds a payoff tensor ``[N, A_1, ..., A_N]`` in
float64 (``payoffs[p, a_1, ..., a_N]`` is player ``p``'s payoff for the joint
action ``(a_1, ..., a_N)``), player names and action names. It is immutable:
the payoff array is a read-only copy.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spielplatz.errors import GameError

__all__ = ["NormalFormGame"]


@functools.lru_cache(maxsize=64)
def _default_actions(shape: tuple[int, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(str(a) for a in range(n)) for n in shape)


#: Largest payoff magnitude: every player's range and the players' sum of payoffs
#: (welfare) stay finite in float64.
MAX_PAYOFF = 1e307
#: Smallest non-zero payoff range: products with probabilities stay normal floats,
#: so the certified rounding bounds of :mod:`spielplatz.equilibria.certificate` hold.
MIN_RANGE = 1e-200


def _check_magnitudes(name: str, payoffs: np.ndarray) -> None:
    """Refuse payoffs that are not finite, or whose gains or welfare would overflow or
    underflow float64."""
    n = payoffs.shape[0]
    flat = payoffs.reshape(n, -1)
    high, low = flat.max(axis=1), flat.min(axis=1)
    # (max and min propagate NaN: finite extremes mean finite payoffs)
    if not (np.isfinite(high).all() and np.isfinite(low).all()):
        bad = np.argwhere(~np.isfinite(payoffs))[0]
        raise GameError(f"game {name!r}: payoff {payoffs[tuple(bad)]} for player "
                        f"{bad[0]} at joint action {tuple(int(i) for i in bad[1:])} is "
                        f"not finite")
    largest = max(float(high.max()), -float(low.min()), 0.0)
    if largest * n > MAX_PAYOFF:
        raise GameError(f"game {name!r}: payoffs up to {largest:.3g} in magnitude overflow "
                        f"float64 in values and welfare; rescale so that |payoff| x players "
                        f"<= {MAX_PAYOFF:g}")
    ranges = high - low
    tiny = (ranges > 0) & (ranges < MIN_RANGE)
    if tiny.any():
        p = int(np.argmax(tiny))
        raise GameError(f"game {name!r}: player {p}'s payoffs span only {ranges[p]:.3g}, below "
                        f"float64's reliable range ({MIN_RANGE:g}); rescale the game")


@dataclass(frozen=True, eq=False)
class NormalFormGame:
    """An N-player normal-form game.

    Parameters
    ----------
    payoffs : array_like
        Shape ``[N, A_1, ..., A_N]``; finite numbers.
    name : str
        Name shown in results.
    player_names : sequence of str, optional
        Defaults to ``"P1" .. "PN"``.
    action_names : sequence of sequence of str, optional
        One sequence per player; defaults to ``"0" .. "A_p-1"``.

    Raises
    ------
    GameError
        On a wrong shape, a non-numeric or non-finite payoff, or names that do
        not match the shape.
    """

    payoffs: np.ndarray
    name: str = "game"
    player_names: tuple[str, ...] = ()
    action_names: tuple[tuple[str, ...], ...] = ()
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if np.iscomplexobj(self.payoffs):         # float64 would drop the imaginary part
            raise GameError(f"game {self.name!r}: payoffs are complex numbers; give real ones")
        try:
            payoffs = np.array(self.payoffs, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise GameError(f"game {self.name!r}: payoffs are not numeric ({exc})") from None
        if payoffs.ndim < 2:
            raise GameError(f"game {self.name!r}: payoffs must have shape [N, A_1, ..., A_N], "
                            f"got shape {payoffs.shape}")
        n = payoffs.shape[0]
        if payoffs.ndim != n + 1:
            raise GameError(f"game {self.name!r}: payoffs of shape {payoffs.shape} have "
                            f"{payoffs.shape[0]} players but {payoffs.ndim - 1} action axes; "
                            f"expected shape [N, A_1, ..., A_N]")
        if min(payoffs.shape[1:]) < 1:
            counts = ", ".join(str(a) for a in payoffs.shape[1:])
            raise GameError(f"game {self.name!r}: every player needs at least one action, "
                            f"got {counts} actions (payoffs of shape {payoffs.shape})")
        _check_magnitudes(self.name, payoffs)
        payoffs.setflags(write=False)
        object.__setattr__(self, "payoffs", payoffs)
        shape = payoffs.shape[1:]
        players = tuple(str(p) for p in self.player_names) or tuple(f"P{i + 1}" for i in range(n))
        if len(players) != n:
            raise GameError(f"game {self.name!r}: {len(players)} player names for {n} players")
        object.__setattr__(self, "player_names", players)
        actions = (tuple(tuple(str(a) for a in names) for names in self.action_names)
                   or _default_actions(shape))
        if len(actions) != n or any(len(a) != k for a, k in zip(actions, shape)):
            raise GameError(f"game {self.name!r}: action names of sizes "
                            f"{[len(a) for a in actions]} do not match action counts {list(shape)}")
        object.__setattr__(self, "action_names", actions)

    # -- shape ---------------------------------------------------------------
    @property
    def num_players(self) -> int:
        return self.payoffs.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        """Action counts ``(A_1, ..., A_N)``."""
        return tuple(self.payoffs.shape[1:])

    @property
    def num_joint_actions(self) -> int:
        return int(np.prod(self.shape))

    @property
    def shape_str(self) -> str:
        return "x".join(str(a) for a in self.shape)

    # -- constructors ----------------------------------------------------------
    @classmethod
    def from_array(cls, payoffs: Any, name: str = "game", **kwargs: Any) -> "NormalFormGame":
        """Build a game from a payoff array ``[N, A_1, ..., A_N]``."""
        return cls(payoffs=payoffs, name=name, **kwargs)

    @classmethod
    def from_bimatrix(cls, row: Any, col: Any, name: str = "game", **kwargs: Any) -> "NormalFormGame":
        """Build a two-player game from the row and column players' matrices."""
        row, col = np.asarray(row, dtype=float), np.asarray(col, dtype=float)
        if row.shape != col.shape or row.ndim != 2:
            raise GameError(f"game {name!r}: bimatrix shapes {row.shape} and {col.shape} "
                            f"must be equal and two-dimensional")
        return cls(payoffs=np.stack([row, col]), name=name, **kwargs)

    @classmethod
    def from_pyspiel(cls, game: Any, name: str | None = None, *,
                     max_joint_actions: int | None = None) -> "NormalFormGame":
        """Convert a pyspiel game (normal-form, or small extensive-form)."""
        from spielplatz.games.openspiel_bridge import from_pyspiel

        return from_pyspiel(game, name=name, max_joint_actions=max_joint_actions)

    @classmethod
    def from_file(cls, path: str | Path) -> "NormalFormGame":
        """Read a Gambit ``.nfg`` or a Spielplatz ``.json`` game file."""
        from spielplatz.games.files import read_game_file

        return read_game_file(path)

    @classmethod
    def from_nfg(cls, text: str, name: str | None = None) -> "NormalFormGame":
        """Parse the text of a Gambit ``.nfg`` file (payoff or outcome format)."""
        from spielplatz.games.nfg import parse_nfg

        return parse_nfg(text, name=name)

    # -- conversions ---------------------------------------------------------
    def to_openspiel(self) -> Any:
        """An equivalent pyspiel game (``MatrixGame`` for 2 players, else ``TensorGame``)."""
        from spielplatz.games.openspiel_bridge import to_pyspiel

        return to_pyspiel(self)

    def to_nfg(self) -> str:
        """The game as Gambit ``.nfg`` text (payoff format, exact decimals)."""
        from spielplatz.games.nfg import format_nfg

        return format_nfg(self)

    def to_dict(self) -> dict:
        """JSON-ready description (the format read by :meth:`from_file`)."""
        out = {"format": "spielplatz-game", "version": 1, "name": self.name,
               "players": list(self.player_names),
               "actions": [list(a) for a in self.action_names],
               "payoffs": self.payoffs.tolist()}
        if self.description and self.description != self.name:
            out["description"] = self.description
        return out

    # -- transformations -------------------------------------------------------
    def permute_players(self, order: Sequence[int]) -> "NormalFormGame":
        """New game whose player ``i`` is this game's player ``order[i]``."""
        order = [int(i) for i in order]
        if sorted(order) != list(range(self.num_players)):
            raise GameError(f"{order} is not a permutation of {self.num_players} players")
        payoffs = self.payoffs[order].transpose([0] + [1 + i for i in order])
        return NormalFormGame(payoffs, name=self.name,
                              player_names=[self.player_names[i] for i in order],
                              action_names=[self.action_names[i] for i in order])

    def permute_actions(self, player: int, order: Sequence[int]) -> "NormalFormGame":
        """New game whose action ``j`` of ``player`` is this game's action ``order[j]``."""
        order = [int(i) for i in order]
        if sorted(order) != list(range(self.shape[player])):
            raise GameError(f"{order} is not a permutation of player {player}'s "
                            f"{self.shape[player]} actions")
        payoffs = np.take(self.payoffs, order, axis=player + 1)
        actions = list(self.action_names)
        actions[player] = tuple(actions[player][i] for i in order)
        return NormalFormGame(payoffs, name=self.name, player_names=self.player_names,
                              action_names=actions)

    def with_payoffs(self, payoffs: Any) -> "NormalFormGame":
        """Same names, new payoffs of the same shape."""
        payoffs = np.asarray(payoffs, dtype=float)
        if payoffs.shape != self.payoffs.shape:
            raise GameError(f"payoffs of shape {payoffs.shape} do not match {self.payoffs.shape}")
        return NormalFormGame(payoffs, name=self.name, player_names=self.player_names,
                              action_names=self.action_names, description=self.description)

    def joint_action_labels(self) -> list[str]:
        """``"(a_1,...,a_N)"`` labels of all joint actions in C order."""
        return ["(" + ",".join(self.action_names[p][i] for p, i in enumerate(idx)) + ")"
                for idx in np.ndindex(*self.shape)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NormalFormGame):
            return NotImplemented
        return (self.payoffs.shape == other.payoffs.shape
                and bool(np.array_equal(self.payoffs, other.payoffs))
                and self.player_names == other.player_names
                and self.action_names == other.action_names)

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"{self.name}: {self.num_players}-player {self.shape_str} normal-form game"
