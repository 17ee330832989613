"""OpenSpiel-style game strings: ``name``, ``name(k=v,...)``, nested values allowed.

>>> parse_game_string("blotto(coins=4,fields=3)")
('blotto', {'coins': 4, 'fields': 3})
>>> parse_game_string("l2_invariant(shape=8x8,seed=0)")
('l2_invariant', {'shape': '8x8', 'seed': 0})
"""

from __future__ import annotations

import re
from typing import Any

from spielplatz.errors import GameError

__all__ = ["parse_game_string", "format_game_string", "split_top_level"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _split_top_level(text: str, source: str, keep_empty: bool = False,
                     what: str = "game string") -> list[str]:
    """Split ``text`` at commas outside parentheses; empty parts are dropped unless
    ``keep_empty`` (then they are kept, stripped, for the caller to refuse)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise GameError(f"unbalanced parentheses in {what} {source!r}")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise GameError(f"unbalanced parentheses in {what} {source!r}")
    parts.append(text[start:])
    return [p.strip() for p in parts if keep_empty or p.strip()]


def split_top_level(text: str, what: str | None = None) -> list[str]:
    """``"a,b(x=1,y=2)"`` -> ``["a", "b(x=1,y=2)"]``: commas inside parentheses stay;
    unbalanced parentheses are a :class:`GameError`. (For lists of game or solver specs,
    e.g. a command's ``--classes``.) Without ``what`` empty entries are dropped; with it
    (the list's name, e.g. ``"--classes"``) an empty entry is an error naming it."""
    if what is None:
        return _split_top_level(text, text)
    parts = _split_top_level(text, text, keep_empty=True) if text.strip() else []
    if not parts or not all(parts):
        raise GameError(f"{what} {text!r} has an empty entry (two commas, or a comma at the "
                        f"start or end)")
    return parts


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_game_string(text: str, what: str = "game string") -> tuple[str, dict[str, Any]]:
    """Split ``"name(k=v,...)"`` into the name and a dict of typed parameters.

    Values become ``int``, ``float`` or ``bool`` where they read as such and
    stay strings otherwise (``"8x8"``, a nested game string). ``what`` names the text
    in error messages (``"solver spec"`` for ``compare --solvers``'s entries).

    Raises
    ------
    GameError
        On an empty or invalid name, unbalanced parentheses, text after the
        closing parenthesis, an empty parameter (``a=1,,b=2``), a parameter
        without ``=``, an empty key or value, or a key given twice.
    """
    text = text.strip()
    name, paren, rest = text.partition("(")
    name = name.strip()
    if not name or not _NAME.match(name):
        raise GameError(f"invalid {'game ' if what == 'game string' else ''}name in "
                        f"{what + ' ' if what != 'game string' else ''}{text!r}")
    params: dict[str, Any] = {}
    if paren:
        if not rest.endswith(")"):
            raise GameError(f"{what} {text!r} must end with ')'")
        inner = rest[:-1]
        parts = _split_top_level(inner, text, keep_empty=True, what=what) if inner.strip() else []
        for part in parts:
            if not part:
                raise GameError(f"empty parameter (two commas, or a comma at the start or "
                                f"end) in {what} {text!r}")
            key, eq, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or not key:
                raise GameError(f"parameter {part!r} in {text!r} is not of the form key=value")
            if not _KEY.match(key):
                raise GameError(f"invalid parameter name {key!r} in {what} {text!r}")
            if not value:
                raise GameError(f"parameter {key!r} has an empty value in {what} {text!r}")
            if key in params:
                raise GameError(f"parameter {key!r} is given twice in {what} {text!r}")
            if "(" in value or ")" in value:
                parse_game_string(value, what)  # a nested game string: the same rules
            params[key] = _value(value)
    return name, params


def format_game_string(name: str, params: dict[str, Any]) -> str:
    """Inverse of :func:`parse_game_string`."""
    if not params:
        return name
    return name + "(" + ",".join(f"{k}={_fmt(v)}" for k, v in params.items()) + ")"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
