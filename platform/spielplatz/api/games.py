"""Games through the host: load a game by name, file or object; sample a class."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spielplatz.errors import GameError, OptionError, SpielplatzError
from spielplatz.plugins.host import get_host
from spielplatz.plugins.registry import Catalog

__all__ = ["load_game", "is_game_file", "normal_form_game", "sample_games"]


def is_game_file(spec: str) -> bool:
    """Whether ``spec`` names a game file rather than a registered game."""
    return spec.lower().endswith((".nfg", ".json")) or (
        ("/" in spec or "\\" in spec) and "(" not in spec) or Path(spec).is_file()


def load_game(spec: Any, **params: Any) -> Any:
    """Load a game by name, game string, file path, pyspiel game or payoff array.

    Parameters
    ----------
    spec : str or pyspiel.Game or NormalFormGame or array_like
        ``"chicken"``, ``"blotto(coins=4,fields=3)"``, ``"games/pd.nfg"``, a
        pyspiel game, or payoffs ``[N, A_1, ..., A_N]``.
    **params
        Parameters added to (and overriding) those in the game string.

    Returns
    -------
    NormalFormGame or a learner game (see :mod:`spielplatz.learning.games`)

    Raises
    ------
    UnknownNameError
        For an unknown name (with close matches).
    GameError
        For bad parameters, files or payoffs.
    """
    from spielplatz.games.normal_form import NormalFormGame

    if params and not (isinstance(spec, str) and not is_game_file(spec)):
        given = "a file" if isinstance(spec, str) else f"a {type(spec).__name__}"
        raise GameError(f"parameters ({', '.join(params)}) apply to a game given by name, "
                        f"not to {given}")
    if isinstance(spec, NormalFormGame):
        return spec
    if isinstance(spec, os.PathLike):                 # a path object is always a file
        from spielplatz.games.files import read_game_file

        return read_game_file(os.fspath(spec))
    if not isinstance(spec, str):
        if _is_pyspiel_game(spec):
            return NormalFormGame.from_pyspiel(spec)
        if isinstance(spec, (list, tuple)) or hasattr(spec, "__array__"):
            return NormalFormGame.from_array(spec)
        from spielplatz.learning.games import game_kinds

        if game_kinds(spec):        # a learner game object (spielplatz.learning.games)
            return spec
        shown = repr(spec)
        raise GameError(f"cannot load a game from {type(spec).__name__} "
                        f"{shown[:60] + '...' if len(shown) > 60 else shown}: give a name, a "
                        f"game string, a file path, a pyspiel game, payoffs [N, A_1, ..., "
                        f"A_N] or a game object")
    spec = spec.strip()
    if is_game_file(spec):
        from spielplatz.games.files import read_game_file

        return read_game_file(spec)
    from spielplatz.games.gamestring import format_game_string, parse_game_string

    name, parsed = parse_game_string(spec)
    parsed.update(params)
    from spielplatz.api.registry import call_plugin

    entry = get_host().registry("game").get(name)
    full = format_game_string(name, parsed)
    if not isinstance(entry, Catalog):
        _check_params(entry, name, parsed, full)

    def build() -> Any:           # plugin code: under the host's guard (stdout, errors)
        loader = entry.load()
        if isinstance(entry, Catalog):
            return loader(full, parsed)
        return _call_loader(lambda: loader(**parsed), f"game {full!r}")

    game = call_plugin("game", name, entry.plugin, build)
    if _is_pyspiel_game(game):
        game = NormalFormGame.from_pyspiel(game, name=full)
    return game


def _call_loader(call: Any, label: str) -> Any:
    """A game loader or batch sampler called with the user's parameters: a bad value
    (an ``OptionError``, ``TypeError`` or ``ValueError``) is one :class:`GameError`
    prefixed with ``label``; the host's other errors pass as they are."""
    try:
        return call()
    except OptionError as exc:              # before SpielplatzError: it is one
        raise GameError(f"{label}: {exc}") from None
    except SpielplatzError:
        raise
    except (TypeError, ValueError) as exc:
        raise GameError(f"{label}: {exc}") from None


def _is_pyspiel_game(obj: Any) -> bool:
    """A ``pyspiel.Game``, C++ or Python (``pyspiel.kuhn_poker``, ``open_spiel.python.games``
    classes); pyspiel is imported only for objects from those modules."""
    module = type(obj).__module__ or ""
    if not module.startswith(("pyspiel", "open_spiel")):
        return False
    import pyspiel

    return isinstance(obj, pyspiel.Game)


def _check_params(entry: Any, name: str, params: dict, full: str | None = None) -> None:
    """Refuse parameters the game did not register (``parameters=``; None: not declared)."""
    declared = entry.meta.get("parameters")
    if declared is None:
        return
    allowed = list(declared)
    unknown = [k for k in params if k not in allowed]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        hint += f"; it takes {', '.join(allowed)}" if allowed else "; it takes no parameters"
        raise GameError(f"game {name!r} has no parameter {unknown[0]!r}{hint}")
    # a value of another kind than the registered default's: true/false for a flag,
    # a number for a number (the loader would compare 'abc' with 2 or read true as 1)
    for key, value in params.items():
        default = declared.get(key)
        if isinstance(default, bool):
            from spielplatz.validation import as_bool

            try:
                params[key] = as_bool(value, key)
            except OptionError as exc:
                raise GameError(f"game {full or name!r}: {exc}") from None
        elif isinstance(default, (int, float)):
            import numbers

            if isinstance(value, (bool, str)) or not isinstance(value, numbers.Real):
                raise GameError(f"game {full or name!r}: {key} must be a number, got "
                                f"{value!r}")
            if hasattr(value, "item"):              # a numpy number: the loader's int/float
                params[key] = value.item()


def normal_form_game(game: Any, user: str = "this command") -> Any:
    """Load ``game`` (anything :func:`spielplatz.load_game` accepts) as a normal-form game."""
    from spielplatz.games.normal_form import NormalFormGame

    loaded = load_game(game)
    if not isinstance(loaded, NormalFormGame):
        raise SpielplatzError(f"{user} needs a normal-form game; {game!r} is a "
                              f"{type(loaded).__name__}")
    return loaded


def sample_games(spec: str, shape: Any, num_games: int, seed: int = 0) -> Any:
    """Payoffs ``[num_games, N, A_1, ..., A_N]`` of the registered game class ``spec``.

    ``spec`` is a game string (``"covariant_game(rho=0.5)"``) naming a random game
    class that takes ``shape`` and ``seed`` parameters. A game registered with a
    ``batch_sampler`` (docs/plugins.md) draws the whole batch in one call
    ``sampler(shape="8x8", batch_size=B, seed=seed, **params)``; any other is loaded
    ``num_games`` times with seeds ``seed, seed + 1, ...``.
    """
    import numpy as np

    from spielplatz.games.gamestring import parse_game_string
    from spielplatz.plugins.registry import resolve_object
    from spielplatz.validation import as_int, as_seed, as_shape

    name, params = parse_game_string(spec)
    clash = sorted(set(params) & {"shape", "seed"})
    if clash:
        raise SpielplatzError(f"game class {spec!r}: give {' and '.join(clash)} as "
                              f"sample_games' own arguments (evaluate-solver: --shape, --seed), "
                              f"not in the class string")
    shape_text = "x".join(str(a) for a in as_shape(shape, "shape"))
    num_games = as_int(num_games, "num_games", minimum=1)
    seed = as_seed(seed)
    entry = get_host().registry("game").get(name)
    sampler = getattr(entry, "meta", {}).get("batch_sampler")
    if sampler:
        from spielplatz.api.registry import call_plugin

        _check_params(entry, name, params, spec)       # as load_game checks them

        def draw() -> Any:                               # plugin code, guarded
            return _call_loader(lambda: resolve_object(sampler)(
                shape=shape_text, batch_size=num_games, seed=seed, **params),
                f"game class {spec!r}")

        return np.asarray(call_plugin("game", name, entry.plugin, draw), dtype=float)
    return np.stack([load_game(name, shape=shape_text, seed=seed + i, **params).payoffs
                     for i in range(num_games)])
