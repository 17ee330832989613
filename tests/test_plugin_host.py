"""The plugin host with stand-in entry points: isolation, filtering, name clashes."""

from __future__ import annotations

import types

import pytest

from spielplatz import hookimpl
from spielplatz.plugins import host as plugins_module
from spielplatz.plugins.host import PluginHost


class FakeEntryPoint:
    def __init__(self, name, dist, target):
        self.name = name
        self.dist = types.SimpleNamespace(metadata={"Name": dist}, version="9.9")
        self._target = target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def game_plugin(*names):
    module = types.SimpleNamespace()

    @hookimpl
    def register_games(register):
        for name in names:
            register(name, lambda: None, description=f"{name} game")

    module.register_games = register_games
    return module


@pytest.fixture()
def fake_entry_points(monkeypatch):
    eps = []
    monkeypatch.setattr(plugins_module.metadata, "entry_points", lambda group: list(eps))
    return eps


def test_import_failure_is_reported_and_skipped(fake_entry_points):
    fake_entry_points += [
        FakeEntryPoint("broken", "broken-dist", ImportError("No module named 'nowhere'")),
        FakeEntryPoint("good", "good-dist", game_plugin("good_game")),
    ]
    host = PluginHost()
    assert "good" in host.plugins
    assert host.plugins["good"].version == "9.9"
    assert "good_game" in host.registry("game")
    (failure,) = host.failures
    assert (failure.name, failure.distribution, failure.stage) == ("broken", "broken-dist", "import")
    assert str(failure) == ("plugin 'broken' (distribution broken-dist) failed to import and was "
                            "skipped: ImportError: No module named 'nowhere'")


def test_same_plugin_name_from_two_distributions(fake_entry_points):
    fake_entry_points += [
        FakeEntryPoint("dup", "first-dist", game_plugin("a")),
        FakeEntryPoint("dup", "second-dist", game_plugin("b")),
        FakeEntryPoint("dup", "first-dist", game_plugin("a")),   # same dist seen twice: silent
    ]
    host = PluginHost()
    assert "a" in host.registry("game") and "b" not in host.registry("game")
    (failure,) = host.failures
    assert "also provided by distribution 'first-dist'" in failure.error
    assert failure.distribution == "second-dist"


def test_load_plugins_env_filters(fake_entry_points, monkeypatch):
    fake_entry_points += [FakeEntryPoint("one", "one-dist", game_plugin("g1")),
                          FakeEntryPoint("two", "two-dist", game_plugin("g2"))]
    monkeypatch.setenv("SPIELPLATZ_LOAD_PLUGINS", "two-dist")
    assert set(PluginHost().plugins) == {"builtin_welfare", "two"}
    monkeypatch.setenv("SPIELPLATZ_LOAD_PLUGINS", "one, two")
    assert set(PluginHost().plugins) == {"builtin_welfare", "one", "two"}
    monkeypatch.setenv("SPIELPLATZ_LOAD_PLUGINS", "")
    host = PluginHost()
    assert set(host.plugins) == {"builtin_welfare"}     # core built-ins always load
    assert "utilitarian" in host.registry("welfare")


def test_collision_between_plugins_names_both(fake_entry_points):
    from spielplatz.errors import NameCollisionError

    fake_entry_points += [FakeEntryPoint("p1", "d1", game_plugin("same", "only1")),
                          FakeEntryPoint("p2", "d2", game_plugin("same"))]
    host = PluginHost()
    with pytest.raises(NameCollisionError, match="'same' is registered by more than one "
                                                 "plugin: 'p1', 'p2'"):
        host.registry("game").get("same")
    assert host.registry("game").get("only1").plugin == "p1"
    assert any("'p1' and 'p2'" in w for w in host.warnings())
