"""Name registries for games, solvers, learners and welfare functions.

A :class:`Registry` maps names to :class:`Entry` objects. Entries are cheap: the
thing they describe is imported only when :meth:`Entry.load` is first called.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from spielplatz.errors import NameCollisionError, UnknownNameError

__all__ = ["Entry", "Catalog", "Registry", "resolve_object"]

#: The command that lists each kind, where it is not ``spielplatz <kind>s``.
_LISTING = {"welfare": "welfare-functions"}


def resolve_object(target: Any) -> Any:
    """Return ``target``, importing it first if it is a ``"module:attr"`` string."""
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        obj = importlib.import_module(module_name)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
        return obj
    return target


@dataclass(frozen=True)
class Entry:
    """One registered name.

    Attributes
    ----------
    name : str
        The registered name.
    target : object
        The object, or a ``"module:attr"`` string naming it (imported lazily).
    plugin : str
        Name of the plugin that registered it.
    description : str
        One line shown in listings.
    meta : dict
        Kind-specific metadata (parameters, concepts, ...).
    """

    name: str
    target: Any
    plugin: str
    description: str = ""
    meta: dict = field(default_factory=dict)

    def load(self) -> Any:
        """Import (if needed) and return the registered object."""
        return resolve_object(self.target)

    def to_dict(self) -> dict:
        """JSON-ready description (the target is not imported)."""
        return {"name": self.name, "plugin": self.plugin,
                "description": self.description,
                **{k: _jsonable(v) for k, v in self.meta.items()}}


@dataclass(frozen=True)
class Catalog:
    """A family of names that is only enumerated on demand (e.g. all pyspiel games)."""

    name: str
    names: Callable[[], Iterable[str]]
    target: Any
    plugin: str
    description: str = ""

    def load(self) -> Any:
        return resolve_object(self.target)

    def list_names(self) -> list[str]:
        return sorted(resolve_object(self.names)())

    def to_dict(self) -> dict:
        return {"catalog": self.name, "plugin": self.plugin, "description": self.description}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "to_dict"):              # a declared Option
        return _jsonable(value.to_dict())
    return repr(value)


class Registry:
    """Names of one kind (``"game"``, ``"solver"``, ...) with their entries."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._catalogs: list[Catalog] = []
        self._collisions: dict[str, list[str]] = {}
        self._catalog_index: dict[str, Catalog] | None = None

    # -- registration ------------------------------------------------------
    def add(self, entry: Entry) -> None:
        """Add ``entry``; a name taken by another plugin is a collision."""
        if entry.name in self._collisions:
            self._collisions[entry.name].append(entry.plugin)
            return
        old = self._entries.get(entry.name)
        if old is not None:
            self._collisions[entry.name] = [old.plugin, entry.plugin]
            del self._entries[entry.name]
            return
        self._entries[entry.name] = entry

    def holders(self, name: str) -> list[str]:
        """The plugins that registered ``name`` explicitly (two or more: a collision)."""
        if name in self._collisions:
            return list(self._collisions[name])
        entry = self._entries.get(name)
        return [entry.plugin] if entry is not None else []

    def discard(self, name: str) -> None:
        """Forget every explicit registration of ``name`` (used when a built-in claims it)."""
        self._entries.pop(name, None)
        self._collisions.pop(name, None)

    def add_catalog(self, catalog: Catalog) -> None:
        self._catalogs.append(catalog)
        self._catalog_index = None

    # -- queries -----------------------------------------------------------
    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)
        except UnknownNameError:
            return False
        return True

    def __iter__(self):
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry]:
        """Explicitly registered entries, sorted by name."""
        return [self._entries[n] for n in sorted(self._entries)]

    def catalogs(self) -> list[Catalog]:
        return list(self._catalogs)

    def collisions(self) -> dict[str, list[str]]:
        """Names registered by more than one plugin, with the plugins."""
        return {k: list(v) for k, v in self._collisions.items()}

    def _catalog_lookup(self) -> dict[str, Catalog]:
        if self._catalog_index is None:
            index: dict[str, Catalog] = {}
            for catalog in self._catalogs:
                for name in catalog.list_names():
                    index.setdefault(name, catalog)
            self._catalog_index = index
        return self._catalog_index

    def get(self, name: str) -> Entry | Catalog:
        """Return the entry (or catalog) for ``name``.

        Raises
        ------
        NameCollisionError
            If two plugins registered ``name``.
        UnknownNameError
            If nothing is registered under ``name``; the message lists close
            matches.
        """
        if name in self._entries:
            return self._entries[name]
        if name in self._collisions:
            plugins = self._collisions[name]
            raise NameCollisionError(
                f"{self.kind} name {name!r} is registered by more than one plugin: "
                f"{', '.join(repr(p) for p in plugins)}; uninstall one or limit plugins "
                f"with SPIELPLATZ_LOAD_PLUGINS")
        if self._catalogs:
            found = self._catalog_lookup().get(name)
            if found is not None:
                return found
        raise UnknownNameError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        known = list(self._entries)
        if self._catalogs:
            known += list(self._catalog_lookup())
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        message = f"unknown {self.kind} {name!r}"
        if close:
            message += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
        else:
            message += f" (see `spielplatz {_LISTING.get(self.kind, self.kind + 's')}`)"
        return message
