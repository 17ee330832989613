"""Helpers shared by the commands: the console, strict JSON output, ``-o`` options."""

from __future__ import annotations

import sys
from typing import Any

import click

__all__ = ["CONCEPT_CHOICE", "make_console", "echo_json", "parse_options", "option_value",
           "load_normal_form"]

CONCEPT_CHOICE = click.Choice(["ce", "cce"], case_sensitive=False)


def make_console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 120)


def echo_json(data: Any) -> None:
    """Print strict JSON (non-finite numbers as ``null``, :func:`~spielplatz.results.to_json`)."""
    from spielplatz.results import to_json

    click.echo(to_json(data))


def parse_options(items: tuple[str, ...]) -> dict[str, Any]:
    """``-o key=value`` pairs of any command; values typed like game-string parameters
    (numbers, booleans, ``a;b`` lists). A malformed pair, an empty value (``mu=``,
    ``a;;b``) or a key given twice is a usage error (exit 2). Each solver or learner
    checks the names and types of its options (:mod:`spielplatz.validation`)."""
    hint = "'-o' / '--option'"
    options: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key, value = key.strip().replace("-", "_"), value.strip()
        if not eq or not key:
            raise click.BadParameter(f"{item!r} is not of the form key=value", param_hint=hint)
        typed = option_value(value)
        if typed is None:
            raise click.BadParameter(f"{item!r} has an empty value", param_hint=hint)
        if key in options:
            raise click.BadParameter(f"option {key!r} is given twice", param_hint=hint)
        options[key] = typed
    return options


def option_value(value: str) -> Any:
    """An option's text typed like a game-string parameter, ``a;b`` a list of them;
    ``None`` when it or a list item is empty."""
    from spielplatz.games.gamestring import _value

    parts = [v.strip() for v in value.split(";")]
    if not all(parts):
        return None
    return [_value(v) for v in parts] if len(parts) > 1 else _value(value.strip())


def load_normal_form(spec: str) -> Any:
    from spielplatz.api import normal_form_game

    return normal_form_game(spec, "this command")
