"""How the host runs plugin code in isolation: staged registrations committed only
when a hook succeeds, failure records, the guard that keeps stdout clean and tells
a user's Ctrl-C from a plugin's, and the collector that adds a plugin's commands.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

from spielplatz.plugins.registry import Catalog, Entry
from spielplatz.system.fdio import stdout_to_stderr

__all__ = ["PluginInfo", "PluginFailure", "Staging", "Guard", "CommandCollector",
           "distribution_of", "describe"]


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


class Staging:
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
        from spielplatz.plugins.options import check_registration

        meta = check_registration(self.kind, name, meta)
        self.entries.append(Entry(name=name, target=target, plugin=self.plugin,
                                  description=description, meta=meta))

    def catalog(self, name: str, names: Callable, target: Any, *, description: str = "") -> None:
        self.catalogs.append(Catalog(name=name, names=names, target=target,
                                     plugin=self.plugin, description=description))


def distribution_of(ep: metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


class Guard:
    """Runs plugin code: stdout to stderr, and tells a user's Ctrl-C from a plugin's.

    A ``KeyboardInterrupt`` raised while plugin code runs is the plugin's
    failure unless SIGINT was actually received (then :attr:`user_interrupt`).
    """

    def __init__(self) -> None:
        self.user_interrupt = False

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self.user_interrupt = True
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def running(self):
        previous = None
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    previous = signal.signal(signal.SIGINT, self._on_sigint)
            except (ValueError, OSError):  # pragma: no cover - no signals here
                previous = None
        try:
            with stdout_to_stderr():
                yield self
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def check(self, exc: BaseException) -> None:
        """Re-raise ``exc`` if it is the user's interrupt, not the plugin's doing."""
        if isinstance(exc, KeyboardInterrupt) and self.user_interrupt:
            raise exc


class CommandCollector:
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


def describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"SystemExit: the plugin called sys.exit({exc.code!r})"
    if isinstance(exc, KeyboardInterrupt) and not str(exc).strip():
        return "KeyboardInterrupt: raised by the plugin (not by the user)"
    text = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if type(exc).__name__ == "PluginValidationError":   # pluggy: the reason is below
        return f"{type(exc).__name__}: {'; '.join(text)}" if text else type(exc).__name__
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__

