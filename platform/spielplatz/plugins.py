"""The plugin manager: loads entry points, calls registration hooks, fills registries.

Entry points of the group ``spielplatz`` are loaded one at a time. A plugin that
fails to import, or whose registration hook raises, is recorded in
:attr:`PluginHost.failures` (with its distribution name and the error) and
skipped; whatever it had registered before failing is discarded, and the rest
of the host keeps working.

``SPIELPLATZ_LOAD_PLUGINS`` limits which entry points load: a comma-separated
list of plugin (entry-point) or distribution names. Set but empty, no
entry-point plugin loads; only the host's core built-ins remain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

import pluggy

from . import hookspecs
from .errors import UnknownNameError
from .registry import Catalog, Entry, Registry

__all__ = ["PluginHost", "PluginInfo", "PluginFailure", "get_host", "reset_host",
           "ENTRY_POINT_GROUP", "LOAD_ENV"]

ENTRY_POINT_GROUP = "spielplatz"
LOAD_ENV = "SPIELPLATZ_LOAD_PLUGINS"

# Plugins that are part of the host itself (not entry points); always loaded.
CORE_PLUGINS = ("spielplatz.builtin_welfare",)

REGISTRY_HOOKS = {
    "register_games": "game",
    "register_solvers": "solver",
    "register_learners": "learner",
    "register_welfare_functions": "welfare",
}


@dataclass
class PluginInfo:
    """One loaded plugin and what it registered."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    builtin: bool
    registered: dict[str, list[str]] = field(default_factory=dict)
    hooks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"name": self.name, "module": self.module,
                "distribution": self.distribution, "version": self.version,
                "builtin": self.builtin, "hooks": sorted(self.hooks),
                "registered": {k: sorted(v) for k, v in self.registered.items() if v}}


@dataclass
class PluginFailure:
    """A plugin that could not be loaded or registered."""

    name: str
    distribution: str | None
    stage: str
    error: str

    def __str__(self) -> str:
        dist = f" (distribution {self.distribution})" if self.distribution else ""
        return f"plugin {self.name!r}{dist} failed to {self.stage} and was skipped: {self.error}"

    def to_dict(self) -> dict:
        return {"name": self.name, "distribution": self.distribution,
                "stage": self.stage, "error": self.error}


class _Staging:
    """Collects one plugin's registrations; committed only if its hook succeeds."""

    def __init__(self, kind: str, plugin: str):
        self.kind = kind
        self.plugin = plugin
        self.entries: list[Entry] = []
        self.catalogs: list[Catalog] = []

    def __call__(self, name: str, target: Any, *, description: str = "", **meta: Any) -> None:
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")
        if target is None:
            raise ValueError(f"{self.kind} {name!r}: loader/object is None")
        self.entries.append(Entry(name=name, target=target, plugin=self.plugin,
                                  description=description, meta=meta))

    def catalog(self, name: str, names: Callable, target: Any, *, description: str = "") -> None:
        self.catalogs.append(Catalog(name=name, names=names, target=target,
                                     plugin=self.plugin, description=description))


def _distribution_of(ep: metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def _allowed() -> set[str] | None:
    value = os.environ.get(LOAD_ENV)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


class PluginHost:
    """Loads plugins and owns the registries.

    Parameters
    ----------
    entry_points : bool
        Load plugins from the ``spielplatz`` entry-point group (default). Tests
        pass ``False`` and add plugins with :meth:`add_plugin`.
    """

    def __init__(self, entry_points: bool = True):
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.registries = {kind: Registry(kind) for kind in REGISTRY_HOOKS.values()}
        self.plugins: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []
        for module_name in CORE_PLUGINS:
            self._load_module(module_name, name=module_name.rsplit(".", 1)[-1],
                              distribution="spielplatz", version=None, builtin=True)
        if entry_points:
            self._load_entry_points()

    # -- loading -----------------------------------------------------------
    def _load_entry_points(self) -> None:
        allowed = _allowed()
        eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
        seen: dict[str, str | None] = {}
        for ep in eps:
            dist, version = _distribution_of(ep)
            if ep.name in seen:
                if seen[ep.name] != dist:  # two distributions claim one plugin name
                    self.failures.append(PluginFailure(
                        ep.name, dist, "register",
                        f"plugin name {ep.name!r} is also provided by distribution "
                        f"{seen[ep.name]!r}; only the first was loaded"))
                continue  # else the same distribution found twice on sys.path
            seen[ep.name] = dist
            if allowed is not None and ep.name not in allowed and dist not in allowed:
                continue
            try:
                obj = ep.load()
            except BaseException as exc:  # noqa: BLE001 - a plugin must never take the host down
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                self.failures.append(PluginFailure(ep.name, dist, "import", _describe(exc)))
                continue
            self.add_plugin(obj, name=ep.name, distribution=dist, version=version,
                            builtin=dist == "spielplatz")

    def _load_module(self, module_name: str, **kwargs: Any) -> None:
        import importlib

        self.add_plugin(importlib.import_module(module_name), **kwargs)

    def add_plugin(self, obj: Any, *, name: str, distribution: str | None = None,
                   version: str | None = None, builtin: bool = False) -> bool:
        """Register ``obj`` (a module or object with hook implementations).

        Returns ``True`` on success; on failure the plugin is recorded in
        :attr:`failures` and nothing it registered is kept.
        """
        if name in self.plugins:
            self.failures.append(PluginFailure(
                name, distribution, "register",
                f"a plugin named {name!r} is already loaded "
                f"(from {self.plugins[name].distribution})"))
            return False
        try:
            self.pm.register(obj, name=name)
        except Exception as exc:  # noqa: BLE001
            self.failures.append(PluginFailure(name, distribution, "register", _describe(exc)))
            return False
        info = PluginInfo(name=name, module=getattr(obj, "__name__", type(obj).__name__),
                          distribution=distribution, version=version, builtin=builtin)
        info.hooks = [h.name for h in self.pm.get_hookcallers(obj) or []]
        staged: list[_Staging] = []
        for hook_name, kind in REGISTRY_HOOKS.items():
            impl = getattr(obj, hook_name, None)
            if impl is None or hook_name not in info.hooks:
                continue
            stage = _Staging(kind, name)
            try:
                impl(stage)
            except Exception as exc:  # noqa: BLE001
                self.pm.unregister(obj)
                self.failures.append(PluginFailure(
                    name, distribution, "register", f"{hook_name}: {_describe(exc)}"))
                return False
            staged.append(stage)
        for stage in staged:
            registry = self.registries[stage.kind]
            for entry in stage.entries:
                registry.add(entry)
            for catalog in stage.catalogs:
                registry.add_catalog(catalog)
            info.registered[stage.kind + "s"] = ([e.name for e in stage.entries]
                                                 + [f"{c.name}:*" for c in stage.catalogs])
        self.plugins[name] = info
        return True

    def add_commands(self, cli: Any) -> None:
        """Call every plugin's ``register_commands`` on ``cli``, isolating failures."""
        for name, info in list(self.plugins.items()):
            if "register_commands" not in info.hooks:
                continue
            plugin = self.pm.get_plugin(name)
            before = set(getattr(cli, "commands", {}))
            staging_cli = _CommandCollector(cli, name)
            try:
                plugin.register_commands(cli=staging_cli)
            except Exception as exc:  # noqa: BLE001
                self.failures.append(PluginFailure(
                    name, info.distribution, "register", f"register_commands: {_describe(exc)}"))
                continue
            for cmd_name, cmd in staging_cli.commands.items():
                if cmd_name in before or cmd_name in cli.commands:
                    owner = "the host" if cmd_name in before else "another plugin"
                    self.failures.append(PluginFailure(
                        name, info.distribution, "register",
                        f"command {cmd_name!r} is already provided by {owner}"))
                    continue
                cli.add_command(cmd, cmd_name)
                info.registered.setdefault("commands", []).append(cmd_name)

    # -- queries -----------------------------------------------------------
    def registry(self, kind: str) -> Registry:
        try:
            return self.registries[kind]
        except KeyError:
            raise UnknownNameError(f"unknown registry {kind!r}") from None

    def warnings(self) -> list[str]:
        """One line per failed plugin and per name collision."""
        lines = [str(f) for f in self.failures]
        for kind, registry in self.registries.items():
            for name, plugins in registry.collisions().items():
                lines.append(f"{kind} name {name!r} is registered by plugins "
                             f"{' and '.join(repr(p) for p in plugins)}; it is unusable "
                             f"until one is removed")
        return lines

    def to_dict(self) -> dict:
        return {"plugins": [p.to_dict() for p in self.plugins.values()],
                "failures": [f.to_dict() for f in self.failures],
                "collisions": {k: r.collisions() for k, r in self.registries.items()
                               if r.collisions()}}


class _CommandCollector:
    """Stand-in for the click group that records commands instead of adding them."""

    def __init__(self, cli: Any, plugin: str):
        self._cli = cli
        self.plugin = plugin
        self.commands: dict[str, Any] = {}

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        self.commands[name or cmd.name] = cmd

    def command(self, *args: Any, **kwargs: Any):
        import click

        def decorator(f):
            cmd = click.command(*args, **kwargs)(f)
            self.add_command(cmd)
            return cmd
        return decorator

    def group(self, *args: Any, **kwargs: Any):
        import click

        def decorator(f):
            grp = click.group(*args, **kwargs)(f)
            self.add_command(grp)
            return grp
        return decorator

    def __getattr__(self, item: str) -> Any:
        return getattr(self._cli, item)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


_HOST: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, created on first use."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost()
    return _HOST


def reset_host(host: PluginHost | None = None) -> None:
    """Replace (or drop) the process-wide host; used by tests."""
    global _HOST
    _HOST = host

