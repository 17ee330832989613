"""Reading and writing Gambit ``.nfg`` normal-form game files.

Both formats of Gambit's NFG version 1 are read:

* payoff format: ``NFG 1 R "title" { "P1" "P2" } { 3 2 }`` followed by the payoffs
  of every player for each pure-strategy profile;
* outcome format: strategy names per player, a list of outcomes
  ``{ "name" u_1, u_2 }`` and, for each profile, the outcome index (0 = the
  null outcome, all payoffs zero).

Profiles are listed with player 1's strategy changing fastest. Numbers may be
integers, decimals, exponents or rationals (``3/2``).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Iterator

import numpy as np

from .errors import GameFileError
from .normal_form import NormalFormGame

__all__ = ["parse_nfg", "format_nfg"]

_TOKEN = re.compile(r'\s*(?:(?P<brace>[{}])|"(?P<str>(?:[^"\\]|\\.)*)"|(?P<comma>,)|(?P<atom>[^\s{},"]+))',
                    re.S)


class _Tokens:
    def __init__(self, text: str, source: str):
        self.source = source
        self.items: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise GameFileError(f"{source}: cannot read .nfg text near {text[pos:pos + 20]!r}")
            pos = m.end()
            if m.group("brace"):
                self.items.append(("brace", m.group("brace")))
            elif m.group("str") is not None:
                self.items.append(("str", re.sub(r"\\(.)", r"\1", m.group("str"))))
            elif m.group("atom"):
                self.items.append(("atom", m.group("atom")))
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def next(self, what: str) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise GameFileError(f"{self.source}: file ends early, expected {what}")
        self.i += 1
        return tok

    def expect(self, kind: str, value: str | None, what: str) -> str:
        tok = self.next(what)
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise GameFileError(f"{self.source}: expected {what}, found {tok[1]!r}")
        return tok[1]

    def is_brace(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok == ("brace", value)

    def strings_in_braces(self, what: str) -> list[str]:
        self.expect("brace", "{", f"'{{' opening {what}")
        out = []
        while not self.is_brace("}"):
            out.append(self.expect("str", None, f"a quoted name in {what}"))
        self.i += 1
        return out


def _number(text: str, source: str) -> float:
    try:
        if "/" in text:
            return float(Fraction(text))
        return float(text)
    except (ValueError, ZeroDivisionError):
        raise GameFileError(f"{source}: {text!r} is not a number") from None


def _integer(text: str, source: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise GameFileError(f"{source}: {what} must be an integer, got {text!r}") from None


def parse_nfg(text: str, name: str | None = None, source: str = "<nfg>") -> NormalFormGame:
    """Parse Gambit ``.nfg`` text into a :class:`NormalFormGame`.

    Raises
    ------
    GameFileError
        On anything that is not a valid NFG version 1 file; the message names
        the problem.
    """
    toks = _Tokens(text, source)
    if toks.expect("atom", None, "'NFG'") != "NFG":
        raise GameFileError(f"{source}: not a Gambit .nfg file (must start with 'NFG')")
    version = toks.expect("atom", None, "the version number")
    if version != "1":
        raise GameFileError(f"{source}: unsupported .nfg version {version!r} (only 1 is read)")
    kind = toks.expect("atom", None, "'R' or 'D'")
    if kind not in ("R", "D"):
        raise GameFileError(f"{source}: expected 'R' or 'D' after version, got {kind!r}")
    title = toks.expect("str", None, "the game title")
    players = toks.strings_in_braces("the player list")
    if not players:
        raise GameFileError(f"{source}: the game has no players")
    toks.expect("brace", "{", "'{' opening the strategies")
    nxt = toks.peek()
    actions: list[list[str]]
    if nxt == ("brace", "{"):
        actions = []
        while not toks.is_brace("}"):
            actions.append(toks.strings_in_braces(f"player {len(actions) + 1}'s strategies"))
        toks.i += 1
    else:
        counts = []
        while not toks.is_brace("}"):
            counts.append(_integer(toks.expect("atom", None, "a strategy count"), source,
                                   "a strategy count"))
        toks.i += 1
        actions = [[str(a + 1) for a in range(c)] for c in counts]
    if len(actions) != len(players):
        raise GameFileError(f"{source}: {len(players)} players but strategies for {len(actions)}")
    shape = [len(a) for a in actions]
    if min(shape) < 1:
        raise GameFileError(f"{source}: every player needs at least one strategy, got {shape}")
    comment = ""
    if toks.peek() is not None and toks.peek()[0] == "str":
        comment = toks.next("a comment")[1]
    n = len(players)
    num_profiles = int(np.prod(shape))
    if toks.is_brace("{"):
        flat = _outcome_payoffs(toks, n, num_profiles, source)
    else:
        values = []
        while toks.peek() is not None:
            tok = toks.next("a payoff")
            if tok[0] != "atom":
                raise GameFileError(f"{source}: expected a payoff, found {tok[1]!r}")
            values.append(_number(tok[1], source))
        if len(values) != n * num_profiles:
            raise GameFileError(f"{source}: expected {n * num_profiles} payoffs "
                                f"({num_profiles} profiles x {n} players), found {len(values)}")
        flat = np.array(values, dtype=float).reshape(num_profiles, n)
    if toks.peek() is not None:
        raise GameFileError(f"{source}: unexpected text after the payoffs: {toks.peek()[1]!r}")
    # Profiles list player 1 fastest, i.e. Fortran order over (a_1, ..., a_N).
    payoffs = flat.T.reshape([n] + shape, order="F")
    return NormalFormGame(payoffs, name=name or title or "nfg", player_names=players,
                          action_names=actions, description=comment or title)


def _outcome_payoffs(toks: _Tokens, n: int, num_profiles: int, source: str) -> np.ndarray:
    toks.expect("brace", "{", "'{' opening the outcomes")
    outcomes: list[list[float]] = []
    while not toks.is_brace("}"):
        toks.expect("brace", "{", f"'{{' opening outcome {len(outcomes) + 1}")
        if toks.peek() is not None and toks.peek()[0] == "str":
            toks.i += 1
        vals = []
        while not toks.is_brace("}"):
            vals.append(_number(toks.expect("atom", None, "an outcome payoff"), source))
        toks.i += 1
        if len(vals) != n:
            raise GameFileError(f"{source}: outcome {len(outcomes) + 1} has {len(vals)} payoffs "
                                f"for {n} players")
        outcomes.append(vals)
    toks.i += 1
    table = np.vstack([np.zeros((1, n))] + [np.array([o]) for o in outcomes])
    indices = []
    while toks.peek() is not None:
        idx = _integer(toks.expect("atom", None, "an outcome index"), source, "an outcome index")
        if not 0 <= idx <= len(outcomes):
            raise GameFileError(f"{source}: outcome index {idx} out of range 0..{len(outcomes)}")
        indices.append(idx)
    if len(indices) != num_profiles:
        raise GameFileError(f"{source}: expected {num_profiles} outcome indices, "
                            f"found {len(indices)}")
    return table[np.array(indices, dtype=int)]


def _format_number(x: float) -> str:
    if float(x).is_integer():
        return str(int(x))
    frac = Fraction(x).limit_denominator(10_000)
    if float(frac) == x:
        return f"{frac.numerator}/{frac.denominator}"
    return repr(float(x))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lines(game: NormalFormGame) -> Iterator[str]:
    yield (f"NFG 1 R {_quote(game.name)} {{ "
           + " ".join(_quote(p) for p in game.player_names) + " }")
    yield ""
    yield "{"
    for names in game.action_names:
        yield "{ " + " ".join(_quote(a) for a in names) + " }"
    yield "}"
    yield _quote(game.description if game.description != game.name else "")
    yield ""
    flat = game.payoffs.reshape(game.num_players, -1, order="F").T
    for row in flat:
        yield " ".join(_format_number(v) for v in row)


def format_nfg(game: NormalFormGame) -> str:
    """The game as ``.nfg`` text in payoff format with strategy names.

    Numbers are written exactly: integers as integers, floats that are small
    fractions as ``p/q``, anything else with Python's round-trip ``repr``.
    """
    return "\n".join(_lines(game)) + "\n"
