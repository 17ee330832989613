"""The rules of one Coin Game, every one named and validated (no JAX, no pyspiel).

A :class:`CoinRules` is shared by the JAX environment (:mod:`spielplatz_coins.env`) and
its pyspiel twin (:mod:`spielplatz_coins.openspiel_game`); docs/games.md describes every
rule. Player 0 is red, player 1 is blue; a coin's *owner* is the player of its colour.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from spielplatz.errors import GameError, SpielplatzError

__all__ = ["CoinRules", "ACTION_NAMES", "MOVES", "PICK_REWARD", "OWNER_PENALTY",
           "BOUNDARIES", "COIN_PROCESSES", "TIE_RULES", "VARIANTS", "make_rules"]

#: Actions (row, column) offsets; ``stay`` exists only with ``stay=true``.
ACTION_NAMES = ("up", "down", "left", "right", "stay")
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1), (0, 0))
#: Classic Coin Game (Lerer and Peysakhovich; normative disagreement, Fig. 6).
PICK_REWARD = 1.0
OWNER_PENALTY = -2.0

BOUNDARIES = ("torus", "walls")
COIN_PROCESSES = ("one", "spawn", "cells")
TIE_RULES = ("both", "random")
VARIANTS = ("classic", "abcg")


@dataclass(frozen=True)
class CoinRules:
    """Every rule of a Coin Game (see docs/games.md).

    Attributes
    ----------
    grid : int
        Rows = columns.
    boundary : {"torus", "walls"}
        Moving off an edge wraps around (torus) or leaves the player where it is (walls).
    stay : bool
        A fifth action ``stay`` (else four moves).
    coins : {"one", "spawn", "cells"}
        ``one``: one coin on the board, respawned at once when taken at a uniformly random
        cell no player stands on, its colour alternating (the first colour a fair coin
        flip); ``spawn``: at most one coin of each colour, an absent coin appears with
        probability ``p`` at the end of every step (and at the start) on a uniformly
        random cell free of players and coins; ``cells``: any number of coins, every cell
        free of players and coins grows a red coin with probability ``p`` and a blue one
        with probability ``p`` (never both) at the start and at the end of every step.
    p : float
        Spawn probability per absent coin and step (``coins=spawn``) or per free cell,
        colour and step (``coins=cells``, at most 0.5).
    tie : {"both", "random"}
        Both players step onto the same coin at once: ``both`` take it (each +1, and the
        owner's -2 applies because the non-owner took it: owner -1, other +1);
        ``random``: a fair coin flip gives it to one of them.
    egocentric : bool
        Each player sees the board shifted so that it stands at the centre cell
        ``(grid // 2, grid // 2)`` (torus only); else absolute coordinates.
    horizon : int
        Steps per episode.
    variant : {"classic", "abcg"}
        ``abcg``: the asymmetric bargaining Coin Game (a cooperation coin and a
        disagreement coin at once; see docs/games.md).
    coop_red, coop_blue, disagreement : float
        ``abcg`` rewards: the owner of a cooperation coin taken together gets
        ``coop_red`` (red's coin) or ``coop_blue`` (blue's); the owner of a disagreement
        coin gets ``disagreement``.
    """

    grid: int = 3
    boundary: str = "torus"
    stay: bool = False
    coins: str = "one"
    p: float = 0.005
    tie: str = "both"
    egocentric: bool = False
    horizon: int = 100
    variant: str = "classic"
    coop_red: float = 2.0
    coop_blue: float = 3.0
    disagreement: float = 1.0

    # -- derived ----------------------------------------------------------------
    @property
    def abcg(self) -> bool:
        return self.variant == "abcg"

    @property
    def num_cells(self) -> int:
        return self.grid * self.grid

    @property
    def num_actions(self) -> int:
        return 5 if self.stay else 4

    @property
    def num_slots(self) -> int:
        """Coin slots: 1 (``one``), 2 (``spawn``: one per colour; ``abcg``: cooperation
        coin in slot 0, disagreement coin in slot 1), ``2 * cells`` (``cells``: slot
        ``c`` a red coin on cell ``c``, slot ``cells + c`` a blue one)."""
        if self.coins == "cells":
            return 2 * self.num_cells
        return 1 if (self.coins == "one" and not self.abcg) else 2

    @property
    def num_channels(self) -> int:
        """Own position, other's position, own-colour coins, other-colour coins (and for
        ``abcg`` the cooperation coin)."""
        return 5 if self.abcg else 4

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        return (self.num_channels, self.grid, self.grid)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def mirrored(self) -> "CoinRules":
        """The same game with the colours (and seats) exchanged: only ``abcg``'s
        cooperation rewards change places."""
        import dataclasses

        return dataclasses.replace(self, coop_red=self.coop_blue, coop_blue=self.coop_red)


def _fail(message: str) -> None:
    raise GameError(message)


def make_rules(**params: Any) -> CoinRules:
    """Validated :class:`CoinRules` from (string, number or bool) parameters.

    Raises
    ------
    GameError
        One line naming the bad rule: an unknown parameter or value, a grid too small for
        two players and the coins, ``egocentric`` on walls, ``abcg`` with ``spawn``.
    """
    from spielplatz.validation import as_bool, as_choice, as_float, as_int

    known = [f.name for f in fields(CoinRules)]
    unknown = [k for k in params if k not in known]
    if unknown:
        _fail(f"unknown Coin Game rule {unknown[0]!r}; the rules are {', '.join(known)}")
    values = {**CoinRules().to_dict(), **params}
    try:
        out = CoinRules(
            grid=as_int(values["grid"], "grid"),
            boundary=as_choice(values["boundary"], "boundary", BOUNDARIES),
            stay=as_bool(values["stay"], "stay"),
            coins=as_choice(values["coins"], "coins", COIN_PROCESSES),
            p=as_float(values["p"], "p"),
            tie=as_choice(values["tie"], "tie", TIE_RULES),
            egocentric=as_bool(values["egocentric"], "egocentric"),
            horizon=as_int(values["horizon"], "horizon", minimum=1),
            variant=as_choice(values["variant"], "variant", VARIANTS),
            coop_red=as_float(values["coop_red"], "coop_red"),
            coop_blue=as_float(values["coop_blue"], "coop_blue"),
            disagreement=as_float(values["disagreement"], "disagreement"))
    except SpielplatzError as exc:               # OptionError -> one GameError line
        raise GameError(str(exc)) from None
    if not 0.0 < out.p <= 1.0:
        _fail(f"p (the spawn probability per coin and step) must be in (0, 1], got {out.p:g}")
    if out.coins == "cells" and out.p > 0.5:
        _fail(f"coins=cells grows a red coin with probability p and a blue one with "
              f"probability p on each free cell, so p must be at most 0.5, got {out.p:g}")
    coins = 2 if (out.abcg or out.coins in ("spawn", "cells")) else 1
    need = 2 + coins
    if out.grid < 1 or out.num_cells < need:
        _fail(f"grid {out.grid} is too small: 2 players and {coins} coin{'s' * (coins > 1)} "
              f"need {need} cells (grid >= {math.isqrt(need - 1) + 1})")
    if out.egocentric and out.boundary != "torus":
        _fail("egocentric observations need boundary=torus (a view centred on the player "
              "wraps around the edges)")
    if out.abcg and out.coins != "one":
        _fail("variant=abcg renews its pair of coins as soon as one is taken (coins=one); "
              f"coins={out.coins} is not defined for it")
    return out
