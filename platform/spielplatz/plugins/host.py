"""The plugin manager: loads entry points, calls registration hooks, fills registries.

Entry points of the group ``spielplatz`` are loaded one at a time. A plugin that
fails to import, or whose registration hook raises, is recorded in
:attr:`PluginHost.failures` (with its distribution name and the error) and
skipped; whatever it had registered before failing is discarded, and the rest
of the host keeps working. ``SystemExit`` and ``KeyboardInterrupt`` raised by a
plugin's import or hooks are that plugin's failure too (a Ctrl-C typed by the
user still interrupts). While plugin code runs (imports, registration hooks),
stdout -- Python's and file descriptor 1 -- goes to stderr, so that a plugin
that prints never corrupts a command's output.

Built-in plugins (the entry points of the ``spielplatz`` distribution) load
first and always win: an entry point of another distribution that reuses a
built-in's plugin name is skipped, and a game, solver, learner or welfare
function name that a built-in registered cannot be taken over; the warning
names the intruder.

``SPIELPLATZ_LOAD_PLUGINS`` limits which entry points load: a comma-separated
list of plugin (entry-point) or distribution names. Set but empty, no
entry-point plugin loads; only the host's core built-ins remain. A name that
is neither is reported in :meth:`PluginHost.warnings`.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any

import pluggy

from spielplatz.plugins import hookspecs
from spielplatz.errors import PluginError, SpielplatzError, UnknownNameError
from spielplatz.plugins.isolation import (CommandCollector, Guard, PluginFailure, PluginInfo,
                                          Staging, describe, distribution_of)
from spielplatz.plugins.registry import Entry, Registry

__all__ = ["PluginHost", "PluginInfo", "PluginFailure", "get_host", "reset_host",
           "ENTRY_POINT_GROUP", "LOAD_ENV"]

ENTRY_POINT_GROUP = "spielplatz"
LOAD_ENV = "SPIELPLATZ_LOAD_PLUGINS"
#: The distribution whose entry points are the built-in plugins.
BUILTIN_DISTRIBUTION = "spielplatz"

#: Plugins that are part of the host itself (not entry points), always loaded:
#: plugin name -> module.
CORE_PLUGINS = {"builtin_welfare": "spielplatz.equilibria.welfare_functions"}

REGISTRY_HOOKS = {
    "register_games": "game",
    "register_solvers": "solver",
    "register_learners": "learner",
    "register_welfare_functions": "welfare",
    "register_policy_kinds": "policy",
}


def _is_builtin_ep(ep: metadata.EntryPoint) -> bool:
    return distribution_of(ep)[0] == BUILTIN_DISTRIBUTION


def _allowed() -> set[str] | None:
    value = os.environ.get(LOAD_ENV)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}




def guarded_command(cmd: Any, name: str, plugin: str) -> Any:
    """``cmd`` whose callback turns an unexpected exception into one
    :class:`~spielplatz.errors.PluginError` line naming the plugin (the user's errors,
    click's exits and a typed Ctrl-C pass through)."""
    import functools

    import click

    inner = cmd.callback
    if inner is None:
        return cmd

    @functools.wraps(inner)
    def callback(*args: Any, **kwargs: Any) -> Any:
        try:
            return inner(*args, **kwargs)
        except (SpielplatzError, click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the plugin boundary
            detail = str(exc).splitlines()[0] if str(exc) else ""
            raise PluginError(f"command {name!r} (plugin {plugin!r}) failed: "
                              f"{type(exc).__name__}{': ' + detail if detail else ''}") from exc

    cmd.callback = callback
    return cmd


def plural(kind: str) -> str:
    """The key of a registry kind in :attr:`PluginInfo.registered`: ``games``, ``policies``."""
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


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
        #: Warnings that are not plugin failures (ignored names, unknown names).
        self.notices: list[str] = []
        #: Names a plugin registered that a built-in already holds (ignored).
        self.ignored: list[dict] = []
        self._guard = Guard()
        with self._guard.running():
            for plugin_name, module_name in CORE_PLUGINS.items():
                self._load_module(module_name, name=plugin_name,
                                  distribution=BUILTIN_DISTRIBUTION, version=None,
                                  builtin=True)
            if entry_points:
                self._load_entry_points()

    # -- loading -----------------------------------------------------------
    def _load_entry_points(self) -> None:
        allowed = _allowed()
        # Built-ins first, so that they win every clash of plugin or registered names.
        eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP),
                     key=lambda e: (not _is_builtin_ep(e), e.name))
        if allowed:
            known = ({ep.name for ep in eps} | {distribution_of(ep)[0] for ep in eps}
                     | set(CORE_PLUGINS))
            available = ", ".join(sorted({ep.name for ep in eps})) or "none"
            for unknown in sorted(allowed - known):
                self.notices.append(f"{LOAD_ENV} names {unknown!r}, which is not an installed "
                                    f"plugin or distribution; available plugins: {available}")
        seen: dict[str, str | None] = {}
        for ep in eps:
            dist, version = distribution_of(ep)
            if allowed is not None and ep.name not in allowed and dist not in allowed:
                continue
            if ep.name in seen:
                if seen[ep.name] != dist:  # two distributions claim one plugin name
                    if seen[ep.name] == BUILTIN_DISTRIBUTION:
                        why = (f"plugin name {ep.name!r} belongs to a built-in plugin of "
                               f"distribution {BUILTIN_DISTRIBUTION!r}; the built-in was kept")
                    else:
                        why = (f"plugin name {ep.name!r} is also provided by distribution "
                               f"{seen[ep.name]!r}; only the first was loaded")
                    self.failures.append(PluginFailure(ep.name, dist, "register", why))
                continue  # else the same distribution found twice on sys.path
            seen[ep.name] = dist
            try:
                obj = ep.load()
            except BaseException as exc:  # noqa: BLE001 - a plugin must never take the host down
                self._guard.check(exc)
                self.failures.append(PluginFailure(ep.name, dist, "import", describe(exc)))
                continue
            self.add_plugin(obj, name=ep.name, distribution=dist, version=version,
                            builtin=dist == BUILTIN_DISTRIBUTION)

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
        except BaseException as exc:  # noqa: BLE001
            self._guard.check(exc)
            self.failures.append(PluginFailure(name, distribution, "register", describe(exc)))
            return False
        info = PluginInfo(name=name, module=getattr(obj, "__name__", type(obj).__name__),
                          distribution=distribution, version=version, builtin=builtin)
        callers = self.pm.get_hookcallers(obj) or []
        info.hooks = [h.name for h in callers]
        for hook in callers:             # a misspelled hook would never be called
            if hook.spec is None:
                self.notices.append(f"plugin {name!r} implements {hook.name!r}, which is not "
                                    f"a Spielplatz hook (see docs/plugins.md); it is never "
                                    f"called")
        staged: list[Staging] = []
        for hook_name, kind in REGISTRY_HOOKS.items():
            impl = getattr(obj, hook_name, None)
            if impl is None or hook_name not in info.hooks:
                continue
            stage = Staging(kind, name)
            try:
                impl(stage)
            except BaseException as exc:  # noqa: BLE001
                self._guard.check(exc)
                self.pm.unregister(obj)
                self.failures.append(PluginFailure(
                    name, distribution, "register", f"{hook_name}: {describe(exc)}"))
                return False
            staged.append(stage)
        for stage in staged:
            registry = self.registries[stage.kind]
            kept = []
            for entry in stage.entries:          # one at a time: a second default is seen
                if self._claim(registry, entry, info):
                    kept.append(self._one_default(registry, entry, name))
                    registry.add(kept[-1])
            for catalog in stage.catalogs:
                registry.add_catalog(catalog)
            info.registered[plural(stage.kind)] = ([e.name for e in kept]
                                                 + [f"{c.name}:*" for c in stage.catalogs])
        self.plugins[name] = info
        return True

    def _one_default(self, registry: Registry, entry: Entry, plugin: str) -> Entry:
        """``entry``, no longer marked ``default`` when another solver already is (the
        first registered wins, built-ins first): one default, listed as such."""
        if not entry.meta.get("default"):
            return entry
        holder = next((e.name for e in registry.entries() if e.meta.get("default")), None)
        if holder is None:
            return entry
        self.notices.append(f"{registry.kind} {entry.name!r} of plugin {plugin!r} asks to be "
                            f"the default; {holder!r} already is, and stays")
        import dataclasses

        return dataclasses.replace(entry, meta={**entry.meta, "default": False})

    def _claim(self, registry: Registry, entry: Entry, info: PluginInfo) -> bool:
        """Whether ``entry`` may be added: built-in names cannot be taken over."""
        holders = registry.holders(entry.name)
        builtin_holders = [h for h in holders if h in self.plugins and self.plugins[h].builtin]
        if builtin_holders and not info.builtin:
            self._ignore(registry.kind, entry.name, info.name, info.distribution,
                         builtin_holders[0])
            return False
        if holders and info.builtin and not builtin_holders:
            for intruder in holders:   # registered before the built-in: the built-in wins
                owner = self.plugins.get(intruder)
                self._ignore(registry.kind, entry.name, intruder,
                             owner.distribution if owner else None, info.name)
                if owner is not None:
                    names = owner.registered.get(plural(registry.kind), [])
                    if entry.name in names:
                        names.remove(entry.name)
            registry.discard(entry.name)
        return True

    def _ignore(self, kind: str, name: str, plugin: str, distribution: str | None,
                builtin: str) -> None:
        self.ignored.append({"kind": kind, "name": name, "plugin": plugin,
                             "distribution": distribution, "builtin_plugin": builtin})

    def add_commands(self, cli: Any) -> None:
        """Call every plugin's ``register_commands`` on ``cli``, isolating failures."""
        host_commands = set(getattr(cli, "commands", {}))
        for name, info in list(self.plugins.items()):
            if "register_commands" not in info.hooks:
                continue
            plugin = self.pm.get_plugin(name)
            before = set(getattr(cli, "commands", {}))
            staging_cli = CommandCollector(cli, name)
            try:
                with self._guard.running():
                    plugin.register_commands(cli=staging_cli)
            except BaseException as exc:  # noqa: BLE001
                self._guard.check(exc)
                self.failures.append(PluginFailure(
                    name, info.distribution, "register", f"register_commands: {describe(exc)}"))
                continue
            for cmd_name, cmd in staging_cli.commands.items():
                if cmd_name in before or cmd_name in cli.commands:
                    # the name is taken: this command is ignored, the plugin's others kept
                    owner = "host" if cmd_name in host_commands else next(
                        (p for p, i in self.plugins.items()
                         if cmd_name in i.registered.get("commands", [])), "another plugin")
                    self._ignore("command", cmd_name, name, info.distribution, owner)
                    continue
                cli.add_command(guarded_command(cmd, cmd_name, name), cmd_name)
                info.registered.setdefault("commands", []).append(cmd_name)

    # -- queries -----------------------------------------------------------
    def registry(self, kind: str) -> Registry:
        try:
            return self.registries[kind]
        except KeyError:
            raise UnknownNameError(f"unknown registry {kind!r}") from None

    def warnings(self) -> list[str]:
        """One line per failed plugin and per name collision."""
        lines = [str(f) for f in self.failures] + list(self.notices)
        for item in self.ignored:
            dist = f" (distribution {item['distribution']})" if item["distribution"] else ""
            if item["kind"] == "command":
                owner = ("the host" if item["builtin_plugin"] == "host"
                         else f"plugin {item['builtin_plugin']!r}")
                lines.append(f"command {item['name']!r} of plugin {item['plugin']!r}{dist} "
                             f"was ignored: {owner} already provides it")
                continue
            lines.append(f"{item['kind']} name {item['name']!r} registered by plugin "
                         f"{item['plugin']!r}{dist} was ignored: it is a built-in name, "
                         f"kept by the built-in plugin {item['builtin_plugin']!r}")
        for kind, registry in self.registries.items():
            for name, plugins in registry.collisions().items():
                lines.append(f"{kind} name {name!r} is registered by plugins "
                             f"{' and '.join(repr(p) for p in plugins)}; it is unusable "
                             f"until one is removed")
        return lines

    def to_dict(self) -> dict:
        return {"plugins": [p.to_dict() for p in self.plugins.values()],
                "failures": [f.to_dict() for f in self.failures],
                "ignored": [dict(item) for item in self.ignored],
                "notices": list(self.notices),
                "collisions": {k: r.collisions() for k, r in self.registries.items()
                               if r.collisions()}}


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

