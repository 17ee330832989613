"""OpenSpiel-style game strings."""

import pytest

from spielplatz.errors import GameError
from spielplatz.games.gamestring import format_game_string, parse_game_string


@pytest.mark.parametrize("text, expected", [
    ("chicken", ("chicken", {})),
    ("blotto(coins=4,fields=3)", ("blotto", {"coins": 4, "fields": 3})),
    ("l2_invariant(shape=8x8,seed=0)", ("l2_invariant", {"shape": "8x8", "seed": 0})),
    ("x(a=0.5, b=true, c=hello)", ("x", {"a": 0.5, "b": True, "c": "hello"})),
    ("turn_based_simultaneous_game(game=goofspiel(num_cards=3,points_order=descending))",
     ("turn_based_simultaneous_game", {"game": "goofspiel(num_cards=3,points_order=descending)"})),
])
def test_parse(text, expected):
    assert parse_game_string(text) == expected
    name, params = expected
    assert parse_game_string(format_game_string(name, params)) == expected


@pytest.mark.parametrize("text, message", [
    ("", "invalid game name"),
    ("(a=1)", "invalid game name"),
    ("x(a=1", "must end with"),
    ("x(a)", "not of the form key=value"),
    ("x(a=(1)", "unbalanced"),
])
def test_errors(text, message):
    with pytest.raises(GameError, match=message):
        parse_game_string(text)
