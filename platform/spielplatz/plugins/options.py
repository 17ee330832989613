"""Declared options of solvers and learners, and checks of registration metadata.

A plugin declares each option once, as an :class:`Option` (name, type, default,
range or choices, help), and registers the tuple with ``options=``. The host
then, before the solver or learner is called: refuses unknown names with a
close match, coerces each given value to its declared type (``-o max_iter=20``
arrives as an ``int``), checks the registered ``concepts`` and ``game_kinds``;
``spielplatz solvers --json`` / ``learners --json`` show the schemas and
:func:`options_table` renders the tables of ``docs/cli.md``.

Options a caller does not give are not filled in: the plugin applies its own
defaults, so ``default`` here is what the listing and the docs show.

Nothing here imports more than the standard library and numpy (through
:mod:`spielplatz.validation`, lazily), so listings stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Option", "OPTION_TYPES", "coerce_options", "declared_options", "check_registration",
           "options_table", "update_options_tables"]

#: Declared types: ``floats`` is a number or one per player (``-o epsilon=0.1;0.2``);
#: ``array`` and ``any`` are passed on as given (the plugin checks them).
OPTION_TYPES = ("int", "float", "floats", "bool", "str", "choice", "seed", "array", "any")
_NONE = ("none", "null")


def _as_text(value: Any) -> Any:
    """A number or boolean the command line typed (``-o label=1``) as text again, as it
    would be written: ``1``, ``0.5``, ``nan``, ``true``; anything else unchanged."""
    import math

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        short = f"{value:g}"
        return short if not math.isfinite(value) or float(short) == value else repr(value)
    return value


@dataclass(frozen=True)
class Option:
    """One declared option of a solver or learner.

    Attributes
    ----------
    name : str
    type : str
        One of :data:`OPTION_TYPES`.
    default : object
        The plugin's default (shown, not applied by the host); a dict maps game
        kinds to their defaults where they differ.
    help : str
        One line.
    minimum, maximum : float, optional
        Bounds of ``int``/``float``/``floats`` values (inclusive).
    positive : bool
        ``float``/``floats`` values must be ``> 0``.
    choices : tuple of str
        The values of a ``choice`` option (matched case-insensitively).
    nullable : bool
        ``None`` (``-o key=none``) is accepted.
    batch_only : bool
        Taken only by ``solve_batch``.
    """

    name: str
    type: str = "any"
    default: Any = None
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False
    choices: tuple = ()
    nullable: bool = False
    batch_only: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"option name must be an identifier, got {self.name!r}")
        if self.type not in OPTION_TYPES:
            raise ValueError(f"option {self.name!r}: type must be one of "
                             f"{', '.join(OPTION_TYPES)}, got {self.type!r}")
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"option {self.name!r}: choices go with type 'choice' only")
        object.__setattr__(self, "choices", tuple(self.choices))

    def __str__(self) -> str:
        return self.name

    def coerce(self, value: Any) -> Any:
        """``value`` (typed as ``-o`` or a Python caller gave it) as the declared type.

        Raises :class:`~spielplatz.errors.OptionError` naming the option.
        """
        from spielplatz import validation as v

        if self.nullable and (value is None or (isinstance(value, str)
                                                and value.strip().lower() in _NONE)):
            return None
        name, kind = self.name, self.type
        if kind in ("int", "float", "floats", "seed") and isinstance(value, str):
            value = _number(value)
        if kind == "int":
            return v.as_int(value, name, minimum=self.minimum, maximum=self.maximum)
        if kind == "float":
            return v.as_float(value, name, minimum=self.minimum, maximum=self.maximum,
                              positive=self.positive)
        if kind == "floats":
            if isinstance(value, (list, tuple)):
                return [v.as_float(x, name, minimum=self.minimum, maximum=self.maximum,
                                   positive=self.positive) for x in value]
            if hasattr(value, "__array__") and getattr(value, "ndim", 0) > 0:
                return value                     # an array: the plugin checks its shape
            return v.as_float(value, name, minimum=self.minimum, maximum=self.maximum,
                              positive=self.positive)
        if kind == "bool":
            return v.as_bool(value, name)
        if kind in ("choice", "str"):          # -o mode=1 arrives typed: text again
            value = _as_text(value)
        if kind == "choice":
            return v.as_choice(value, name, self.choices)
        if kind == "seed":
            return v.as_seed(value, name)
        if kind == "str":
            if isinstance(value, (list, tuple)):      # -o a;b arrives as a list
                return ";".join(map(_as_text, value))
            if isinstance(value, str):
                return value
            from spielplatz.errors import OptionError

            raise OptionError(f"{name} must be text, got {value!r}")
        return value                                  # array, any

    def range_text(self) -> str:
        """``>= 1``, ``> 0``, ``0 .. 1``, ``a, b``: what the listing and the docs show."""
        if self.choices:
            return ", ".join(self.choices)
        if self.type == "seed":
            return "0 .. 4294967295"
        lo = "0" if self.positive else self.minimum
        if lo is not None and self.maximum is not None:
            return f"{lo} .. {self.maximum}"
        if lo is not None:
            return f"{'>' if self.positive else '>='} {lo}"
        if self.maximum is not None:
            return f"<= {self.maximum}"
        return ""

    def to_dict(self) -> dict:
        """JSON-ready schema."""
        default = self.default
        if isinstance(default, tuple):
            default = list(default)
        return {"name": self.name, "type": self.type, "default": default,
                "range": self.range_text() or None, "choices": list(self.choices) or None,
                "nullable": self.nullable, "batch_only": self.batch_only, "help": self.help}


def declared_options(value: Any, where: str = "options") -> tuple[Option, ...] | None:
    """A registration's ``options=`` as a tuple of :class:`Option` (``None``: undeclared).

    Also accepts the older ``{name: help}`` mapping (each an untyped option).
    """
    if value is None:
        return None
    if isinstance(value, dict):
        value = [Option(str(k), "any", help=str(h)) for k, h in value.items()]
    try:
        options = tuple(value)
    except TypeError:
        raise ValueError(f"{where} must be a sequence of spielplatz.Option, got "
                         f"{type(value).__name__}") from None
    for opt in options:
        if not isinstance(opt, Option):
            raise ValueError(f"{where} must hold spielplatz.Option objects, got {opt!r}")
    names = [o.name for o in options]
    if len(set(names)) != len(names):
        raise ValueError(f"{where} declares an option twice")
    return options


def coerce_options(declared: Any, given: dict, owner: str, *, batch: bool = False) -> dict:
    """Check ``given`` against ``declared`` (an entry's ``meta["options"]``) and coerce it.

    Unknown names are refused with a close match (:func:`validation.check_option_names`);
    batch-only options are known only with ``batch``. Undeclared options
    (``declared is None``) are passed on unchecked.
    """
    if declared is None or not given:
        return dict(given)
    from spielplatz.validation import check_option_names

    known = {o.name: o for o in declared if batch or not o.batch_only}
    check_option_names(given, list(known), owner)
    return {k: known[k].coerce(val) for k, val in given.items()}


def _number(text: str) -> Any:
    """``"3"`` -> 3, ``"0.01"`` -> 0.01 (as ``-o`` types them); other text unchanged."""
    for cast in (int, float):
        try:
            return cast(text.strip())
        except ValueError:
            pass
    return text


# --------------------------------------------------------------------------- registration
_CONCEPTS = ("ce", "cce")


def _names(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(
            isinstance(x, str) and x for x in value):
        raise ValueError(f"{what} must be a tuple of names, got {value!r}")
    return tuple(value)


def check_registration(kind: str, name: str, meta: dict) -> dict:
    """Check and normalise the metadata of one registration (raises ``ValueError``).

    Games: ``parameters`` (a dict of defaults, or None), ``tags``, ``batch_sampler``
    (a callable or ``"module:attr"`` string). Solvers:
    ``concepts`` (within ce, cce; default both), ``exact`` and ``default``
    (bool), ``options``.
    Learners: ``game_kinds`` (names), ``options``. Welfare functions: ``defined_on``
    (values or trajectories), ``impartial`` (bool or None), ``needs`` (names).
    """
    meta = dict(meta)
    where = f"{kind} {name!r}"
    if "tags" in meta:
        meta["tags"] = _names(meta["tags"], f"{where}: tags")
    if kind == "game" and meta.get("parameters") is not None:
        params = meta["parameters"]
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise ValueError(f"{where}: parameters must map names to defaults, got {params!r}")
    if kind == "game" and meta.get("batch_sampler") is not None:
        sampler = meta["batch_sampler"]
        if not (callable(sampler) or (isinstance(sampler, str) and ":" in sampler)):
            raise ValueError(f"{where}: batch_sampler must be a callable or a 'module:attr' "
                             f"string, got {sampler!r}")
    if kind == "solver":
        concepts = tuple(c.lower() for c in _names(meta.get("concepts", _CONCEPTS),
                                                   f"{where}: concepts"))
        if not concepts or not set(concepts) <= set(_CONCEPTS):
            raise ValueError(f"{where}: concepts must be within ce, cce, got {concepts!r}")
        meta["concepts"] = concepts
        for flag in ("exact", "default"):
            if not isinstance(meta.get(flag, False), bool):
                raise ValueError(f"{where}: {flag} must be True or False, got {meta[flag]!r}")
        meta.setdefault("default", False)
    if kind == "learner" and "game_kinds" in meta:
        meta["game_kinds"] = _names(meta["game_kinds"], f"{where}: game_kinds")
    if kind == "welfare":
        if meta.get("defined_on", "values") not in ("values", "trajectories"):
            raise ValueError(f"{where}: defined_on must be 'values' or 'trajectories', got "
                             f"{meta['defined_on']!r}")
        if meta.get("impartial") not in (None, True, False):
            raise ValueError(f"{where}: impartial must be True, False or None, got "
                             f"{meta['impartial']!r}")
        if "needs" in meta:
            meta["needs"] = _names(meta["needs"], f"{where}: needs")
        # listed for every welfare function, a plugin's plain function included
        meta.setdefault("defined_on", "values")
        meta.setdefault("impartial", None)
        meta.setdefault("needs", ())
    if kind in ("solver", "learner") and "options" in meta:
        meta["options"] = declared_options(meta["options"], f"{where}: options")
    return meta


# --------------------------------------------------------------------------- docs
def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def options_table(options: Any) -> str:
    """The markdown table of declared ``options`` (as docs/cli.md shows them)."""
    lines = ["| option | type | default | range / choices | description |",
             "|---|---|---|---|---|"]
    for opt in declared_options(options) or ():
        kind = opt.type + (" or none" if opt.nullable else "")
        if opt.batch_only:
            kind += " (batches only)"
        text = opt.help.replace("|", "\\|")
        lines.append(f"| `{opt.name}` | {kind} | `{_cell(opt.default)}` | "
                     f"{opt.range_text().replace('|', '/')} | {text} |")
    return "\n".join(lines)


_BEGIN = "<!-- options: {kind} {name} -->"
_END = "<!-- end options -->"


def update_options_tables(text: str, registries: dict | None = None) -> str:
    """``text`` (docs/cli.md) with every ``<!-- options: KIND NAME[,NAME...] -->`` ...
    ``<!-- end options -->`` block replaced by :func:`options_table` of that registration
    (names sharing one table must declare the same options)."""
    import re

    if registries is None:
        from spielplatz.plugins.host import get_host

        host = get_host()
        registries = {k: host.registry(k) for k in ("solver", "learner")}

    def block(match: Any) -> str:
        kind, names = match.group(1), match.group(2)
        tables = {options_table(registries[kind].get(n).meta.get("options") or ())
                  for n in names.split(",")}
        if len(tables) != 1:
            raise ValueError(f"{kind}s {names} declare different options; give each its "
                             f"own table")
        return f"{_BEGIN.format(kind=kind, name=names)}\n{tables.pop()}\n{_END}"

    return re.sub(r"<!-- options: (solver|learner) (\S+) -->.*?<!-- end options -->", block,
                  text, flags=re.S)
