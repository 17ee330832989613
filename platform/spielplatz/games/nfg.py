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

import math
import re
from array import array
from fractions import Fraction
from typing import Iterator

import numpy as np

from spielplatz.errors import GameFileError
from spielplatz.games.normal_form import NormalFormGame

__all__ = ["parse_nfg", "format_nfg"]

_TOKEN = re.compile(r'(?:(?P<brace>[{}])|"(?P<str>(?:[^"\\]|\\.)*)"|(?P<comma>,)|(?P<atom>[^\s{},"]+))',
                    re.S)
_SPACE = re.compile(r"\s*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INTEGER_RATIO = re.compile(r"[+-]?[0-9]+/[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: Longest integer (in digits) read for a strategy count or an outcome index.
_MAX_INTEGER_DIGITS = 30


def _shown(text: str) -> str:
    """``text`` for an error message: long tokens are cut, with their length."""
    if len(text) <= 40:
        return repr(text)
    return f"{text[:20]!r}... ({len(text):,} characters)"


class _Tokens:
    """The tokens of an ``.nfg`` text, read lazily (one token of look-ahead)."""

    def __init__(self, text: str, source: str):
        self.source = source
        self.text = text
        self.pos = 0
        self._next: tuple[str, str] | None = None
        self._advance()

    def _advance(self) -> None:
        text = self.text
        while True:                             # commas separate; they are no tokens
            pos = _SPACE.match(text, self.pos).end()
            if pos >= len(text):
                self._next, self.pos = None, pos
                return
            m = _TOKEN.match(text, pos)
            if m is None:
                raise GameFileError(f"{self.source}: cannot read .nfg text near "
                                    f"{text[pos:pos + 20]!r}")
            self.pos = m.end()
            if m.group("brace"):
                self._next = ("brace", m.group("brace"))
            elif m.group("str") is not None:
                self._next = ("str", re.sub(r"\\(.)", r"\1", m.group("str")))
            elif m.group("atom"):
                self._next = ("atom", m.group("atom"))
            else:
                continue
            return

    def peek(self) -> tuple[str, str] | None:
        return self._next

    def skip(self) -> None:
        """Drop the current token."""
        self._advance()

    def next(self, what: str) -> tuple[str, str]:
        tok = self._next
        if tok is None:
            raise GameFileError(f"{self.source}: file ends early, expected {what}")
        self._advance()
        return tok

    def expect(self, kind: str, value: str | None, what: str) -> str:
        tok = self.next(what)
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise GameFileError(f"{self.source}: expected {what}, found {_shown(tok[1])}")
        return tok[1]

    def is_brace(self, value: str) -> bool:
        tok = self.peek()
        return tok is not None and tok == ("brace", value)

    def strings_in_braces(self, what: str, limit: int | None = None) -> list[str]:
        self.expect("brace", "{", f"'{{' opening {what}")
        out = []
        while not self.is_brace("}"):
            out.append(self.expect("str", None, f"a quoted name in {what}"))
            if limit is not None and len(out) > limit:
                raise GameFileError(f"{self.source}: more than {limit} entries in {what}")
        self.skip()
        return out


def _number(text: str, source: str) -> float:
    """A payoff: an integer, decimal, exponent or rational ``p/q``, finite in float64."""
    parts = text.split("/", 1)
    if text.strip("+-").lower() in ("inf", "infinity", "nan"):
        raise GameFileError(f"{source}: payoff {_shown(text)} is not a finite number")
    if not all(_DECIMAL.fullmatch(part) for part in parts):
        raise GameFileError(f"{source}: {_shown(text)} is not a number (plain ASCII decimals "
                            f"or integer/integer only)")
    try:
        if _INTEGER_RATIO.fullmatch(text):
            num, den = text.split("/")
            value = float(Fraction(int(num), int(den)))
        elif "/" in text:
            num, den = text.split("/", 1)
            value = float(num) / float(den)
        else:
            value = float(text)
    except OverflowError:
        raise GameFileError(f"{source}: payoff {_shown(text)} is too large for float64 "
                            f"(|x| must stay below 1.8e308)") from None
    except (ValueError, ZeroDivisionError) as exc:
        if "digits" in str(exc):                 # Python's int-string conversion limit
            raise GameFileError(f"{source}: payoff {_shown(text)} has too many digits") from None
        raise GameFileError(f"{source}: {_shown(text)} is not a number") from None
    if not math.isfinite(value):
        if text.strip("+-").lower() in ("inf", "infinity", "nan"):
            raise GameFileError(f"{source}: payoff {_shown(text)} is not a finite number")
        raise GameFileError(f"{source}: payoff {_shown(text)} is too large for float64 "
                            f"(|x| must stay below 1.8e308)")
    return value


def _integer(text: str, source: str, what: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise GameFileError(f"{source}: {what} must be an integer, got {_shown(text)}")
    if len(text.lstrip("+-")) > _MAX_INTEGER_DIGITS:
        raise GameFileError(f"{source}: {what} {_shown(text)} is far too large")
    return int(text)


def _check_size(shape: list[int], source: str) -> None:
    """Refuse a declared game larger than :data:`spielplatz.games.files.MAX_FILE_CELLS` payoffs."""
    from spielplatz.games.files import MAX_FILE_CELLS, MAX_PLAYERS

    n = len(shape)
    if n > MAX_PLAYERS:
        raise GameFileError(f"{source}: declares {n:,} players, more than the limit of "
                            f"{MAX_PLAYERS}")
    cells = n * math.prod(shape)
    if cells > MAX_FILE_CELLS:
        shown = " x ".join(f"{k:,}" for k in shape)
        if len(shown) > 80:
            shown = shown[:60] + " x ..."
        raise GameFileError(f"{source}: declares {n} players with {shown} strategies = "
                            f"{cells:,} payoffs, more than the limit of {MAX_FILE_CELLS:,}")


def parse_nfg(text: str, name: str | None = None, source: str = "<nfg>") -> NormalFormGame:
    """Parse Gambit ``.nfg`` text into a :class:`NormalFormGame`.

    Declared sizes are checked before anything is allocated: at most
    :data:`spielplatz.games.files.MAX_PLAYERS` players and
    :data:`spielplatz.games.files.MAX_FILE_CELLS` payoffs (players x profiles).

    Raises
    ------
    GameFileError
        On anything that is not a valid NFG version 1 file, or on a game above
        the size limits; the message names the problem.
    """
    from spielplatz.games.files import MAX_PLAYERS

    if text.startswith("\ufeff"):                   # a UTF-8 byte-order mark
        text = text[1:]
    toks = _Tokens(text, source)
    if toks.expect("atom", None, "'NFG'") != "NFG":
        raise GameFileError(f"{source}: not a Gambit .nfg file (must start with 'NFG')")
    version = toks.expect("atom", None, "the version number")
    if version != "1":
        raise GameFileError(f"{source}: unsupported .nfg version {_shown(version)} "
                            f"(only 1 is read)")
    kind = toks.expect("atom", None, "'R' or 'D'")
    if kind not in ("R", "D"):
        raise GameFileError(f"{source}: expected 'R' or 'D' after version, got {_shown(kind)}")
    title = toks.expect("str", None, "the game title")
    players = toks.strings_in_braces("the player list", limit=MAX_PLAYERS)
    if not players:
        raise GameFileError(f"{source}: the game has no players")
    toks.expect("brace", "{", "'{' opening the strategies")
    nxt = toks.peek()
    actions: list[list[str]] | None = None
    if nxt == ("brace", "{"):
        actions = []
        while not toks.is_brace("}"):
            if len(actions) >= MAX_PLAYERS:
                raise GameFileError(f"{source}: strategies for more than {MAX_PLAYERS} players")
            actions.append(toks.strings_in_braces(f"player {len(actions) + 1}'s strategies"))
        toks.skip()
        shape = [len(a) for a in actions]
    else:
        shape = []
        while not toks.is_brace("}"):
            if len(shape) >= MAX_PLAYERS:
                raise GameFileError(f"{source}: strategies for more than {MAX_PLAYERS} players")
            shape.append(_integer(toks.expect("atom", None, "a strategy count"), source,
                                  "a strategy count"))
        toks.skip()
    if len(shape) != len(players):
        raise GameFileError(f"{source}: {len(players)} players but strategies for {len(shape)}")
    if min(shape) < 1:
        raise GameFileError(f"{source}: every player needs at least one strategy, got {shape}")
    _check_size(shape, source)                     # before anything of that size is built
    if actions is None:
        actions = [[str(a + 1) for a in range(c)] for c in shape]
    comment = ""
    if toks.peek() is not None and toks.peek()[0] == "str":
        comment = toks.next("a comment")[1]
    n = len(players)
    num_profiles = math.prod(shape)
    if toks.is_brace("{"):
        flat = _outcome_payoffs(toks, n, num_profiles, source)
    else:
        expected = n * num_profiles
        values = array("d")
        found = 0
        while toks.peek() is not None:
            tok = toks.next("a payoff")
            if tok[0] != "atom":
                raise GameFileError(f"{source}: expected a payoff, found {_shown(tok[1])}")
            found += 1
            if found <= expected:                  # count the rest without keeping them
                values.append(_number(tok[1], source))
        if found != expected:
            raise GameFileError(f"{source}: expected {expected} payoffs "
                                f"({num_profiles} profiles x {n} players), found {found}")
        flat = np.frombuffer(values, dtype=float).reshape(num_profiles, n)
    if toks.peek() is not None:
        raise GameFileError(f"{source}: unexpected text after the payoffs: "
                            f"{_shown(toks.peek()[1])}")
    # Profiles list player 1 fastest, i.e. Fortran order over (a_1, ..., a_N).
    payoffs = flat.T.reshape([n] + shape, order="F")
    return NormalFormGame(payoffs, name=name or title or "nfg", player_names=players,
                          action_names=actions, description=comment or title)


def _outcome_payoffs(toks: _Tokens, n: int, num_profiles: int, source: str) -> np.ndarray:
    toks.expect("brace", "{", "'{' opening the outcomes")
    table = array("d", [0.0] * n)                  # outcome 0: the null outcome
    count = 0
    while not toks.is_brace("}"):
        toks.expect("brace", "{", f"'{{' opening outcome {count + 1}")
        if toks.peek() is not None and toks.peek()[0] == "str":
            toks.skip()
        vals = []
        while not toks.is_brace("}"):
            vals.append(_number(toks.expect("atom", None, "an outcome payoff"), source))
            if len(vals) > n:
                break
        if len(vals) != n:
            raise GameFileError(f"{source}: outcome {count + 1} has "
                                f"{len(vals) if len(vals) <= n else 'more'} payoffs "
                                f"for {n} players")
        toks.skip()
        table.extend(vals)
        count += 1
    toks.skip()
    indices = array("q")
    found = 0
    while toks.peek() is not None:
        idx = _integer(toks.expect("atom", None, "an outcome index"), source, "an outcome index")
        if not 0 <= idx <= count:
            raise GameFileError(f"{source}: outcome index {idx} out of range 0..{count}")
        found += 1
        if found <= num_profiles:
            indices.append(idx)
    if found != num_profiles:
        raise GameFileError(f"{source}: expected {num_profiles} outcome indices, "
                            f"found {found}")
    return np.frombuffer(table, dtype=float).reshape(count + 1, n)[np.frombuffer(indices,
                                                                                 dtype=np.int64)]


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
