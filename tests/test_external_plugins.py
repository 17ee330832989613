"""Third-party plugins: installed with pip into a fresh virtual environment.

The example plugin in ``docs/examples/spielplatz-example-plugin`` and a plugin
that raises at import are pip-installed into a temporary venv that sees this
environment's packages (so ``spielplatz`` and its built-in ``openspiel`` plugin
are there too); the command line then runs in that venv. The second half of
the module checks the plugin host's failure isolation, name collisions and
"did you mean" suggestions in process.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import click
from click.testing import CliRunner
import pytest

import spielplatz
from spielplatz import hookimpl
from spielplatz.errors import NameCollisionError, PluginError, UnknownNameError
from spielplatz.plugins.host import PluginHost

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "spielplatz-example-plugin"
SOURCE_ROOTS = [ROOT / d for d in ("platform", "plugins", "games")]

BROKEN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "spielplatz-broken-plugin"
version = "0.0.1"

[project.entry-points.spielplatz]
broken = "spielplatz_broken_example"

[tool.setuptools]
packages = ["spielplatz_broken_example"]
"""

BROKEN_INIT = 'raise RuntimeError("this plugin is broken on purpose")\n'


# -- building and installing ----------------------------------------------------

def _setuptools_builds_wheels() -> bool:
    """Whether setuptools can build a wheel here without downloading anything."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        found = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return False
    version = tuple(int(p) for p in re.findall(r"\d+", found)[:2])
    return version >= (70, 1)  # bdist_wheel is part of setuptools from 70.1


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _wheel_from_egg_info(project: Path, python: str, out: Path) -> Path:
    """Pack ``project`` as a pure-Python wheel without the ``wheel`` package.

    setuptools' ``egg_info`` (which needs no ``wheel``) turns pyproject.toml
    into metadata and entry points; they are packed into a ``.dist-info``.
    Used only where setuptools cannot build wheels offline (setuptools < 70.1
    without ``wheel``); pip then installs the wheel as usual.
    """
    egg_base = out / "egg-info"
    egg_base.mkdir(parents=True)
    subprocess.run([python, "-c", "from setuptools import setup; setup()", "-q", "egg_info",
                    "--egg-base", str(egg_base)], cwd=project, check=True,
                   capture_output=True, text=True)
    (egg,) = egg_base.glob("*.egg-info")
    pkg_info = (egg / "PKG-INFO").read_text()
    name = re.search(r"^Name: (.+)$", pkg_info, re.M).group(1).strip()
    version = re.search(r"^Version: (.+)$", pkg_info, re.M).group(1).strip()
    stem = f"{re.sub(r'[-_.]+', '_', name)}-{version}"
    files: dict[str, bytes] = {}
    for top in (egg / "top_level.txt").read_text().split():
        for path in sorted((project / top).rglob("*.py")):
            files[path.relative_to(project).as_posix()] = path.read_bytes()
    dist_info = f"{stem}.dist-info"
    files[f"{dist_info}/METADATA"] = pkg_info.encode()
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: spielplatz-tests\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    if (egg / "entry_points.txt").exists():
        files[f"{dist_info}/entry_points.txt"] = (egg / "entry_points.txt").read_bytes()
    record = [_record_line(n, d) for n, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in files.items():
            zf.writestr(n, d)
    return wheel


def _pip_install(python: str, projects: list[Path], scratch: Path) -> None:
    """``pip install --no-deps --no-build-isolation`` offline, into ``python``'s venv."""
    targets = list(projects)
    if not _setuptools_builds_wheels():
        targets = [_wheel_from_egg_info(p, python, scratch / f"wheel-{p.name}") for p in projects]
    result = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--no-input", "--quiet", *map(str, targets)],
        capture_output=True, text=True, env=_clean_env())
    assert result.returncode == 0, f"pip install failed:\n{result.stderr}"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SPIELPLATZ_", "PIP_")) and k != "PYTHONPATH"}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> SimpleNamespace:
    """A fresh venv holding the example plugin and a broken plugin."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip("pip is not installed in the test environment")
    base = tmp_path_factory.mktemp("plugin-venv")
    python, env_dir = make_venv(base)
    # Build from copies, so that nothing is written into docs/examples.
    example = base / "src" / EXAMPLE.name
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    broken = base / "src" / "spielplatz-broken-plugin"
    (broken / "spielplatz_broken_example").mkdir(parents=True)
    (broken / "pyproject.toml").write_text(BROKEN_PYPROJECT)
    (broken / "spielplatz_broken_example" / "__init__.py").write_text(BROKEN_INIT)
    _pip_install(python, [example, broken], base)
    return SimpleNamespace(python=python, path=env_dir, tmp=base)


def make_venv(base: Path) -> tuple[str, Path]:
    """A fresh venv in ``base/venv`` that sees this environment's packages and sources.

    Returns its interpreter and folder. Also used by tests/test_hostile_plugins.py.
    """
    env_dir = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip",
                    str(env_dir)], check=True, capture_output=True)
    python = str(env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], check=True, capture_output=True,
                             text=True).stdout.strip()
    # A venv made from a venv sees the *base* interpreter's site-packages, not the
    # running environment's: add those (processing their .pth files, which hold
    # the editable install of spielplatz) and the source roots.
    dirs = [d for d in site.getsitepackages() if Path(d).is_dir()]
    roots = [str(r) for r in SOURCE_ROOTS if r.is_dir()]
    (Path(purelib) / "_spielplatz_test_env.pth").write_text(
        "import site; list(map(site.addsitedir, " + repr(dirs) + "))\n"
        + "".join(r + "\n" for r in roots))
    return python, env_dir


def spielplatz_cli(venv: SimpleNamespace, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run the ``spielplatz`` command line with the venv's interpreter."""
    return subprocess.run([venv.python, "-c", "from spielplatz.cli import main; main()", *args],
                          capture_output=True, text=True, env=_clean_env(**env), timeout=60)


def plugins_json(venv: SimpleNamespace, **env: str) -> dict:
    result = spielplatz_cli(venv, "plugins", "--json", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- the installed example plugin ---------------------------------------------

def test_example_plugin_is_listed_with_its_distribution(venv):
    data = plugins_json(venv)
    plugins = {p["name"]: p for p in data["plugins"]}
    example = plugins["example"]
    assert example["distribution"] == "spielplatz-example-plugin"
    assert example["version"] == "0.1.0"
    assert example["module"] == "spielplatz_example"
    assert example["builtin"] is False
    assert example["hooks"] == ["register_commands", "register_games"]
    assert example["registered"] == {"games": ["example_stag_hunt"],
                                     "commands": ["example-hello"]}
    # The host's own entry points are still visible in the new venv.
    assert plugins["openspiel"]["distribution"] == "spielplatz"
    assert plugins["openspiel"]["builtin"] is True
    assert "chicken" in plugins["openspiel"]["registered"]["games"]
    assert not any("example" in plugins_ for names in data["collisions"].values()
                   for plugins_ in names.values())


def test_example_game_is_listed_and_shown(venv):
    games = spielplatz_cli(venv, "games", "--json")
    assert games.returncode == 0, games.stderr
    entry = {g["name"]: g for g in json.loads(games.stdout)["games"]}["example_stag_hunt"]
    assert entry["plugin"] == "example"
    assert entry["parameters"] == {"stag": 4.0, "hare": 3.0}

    shown = spielplatz_cli(venv, "show", "example_stag_hunt")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "example_stag_hunt: 2-player normal form, 2 x 2" in out
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:4]]
            for line in out.splitlines() if line.count("│") == 4}
    assert rows == {"Stag": ["4, 4", "0, 3"], "Hare": ["3, 0", "3, 3"]}
    assert re.search(r"Hunter 1 \\ Hunter 2\s+┃\s+Stag\s+┃\s+Hare", out)

    as_json = spielplatz_cli(venv, "show", "example_stag_hunt(stag=5)", "--json")
    assert as_json.returncode == 0, as_json.stderr
    game = json.loads(as_json.stdout)
    assert game["actions"] == [["Stag", "Hare"], ["Stag", "Hare"]]
    assert game["payoffs"] == [[[5, 0], [3, 3]], [[5, 3], [0, 3]]]

    bad = spielplatz_cli(venv, "show", "example_stag_hunt(stag=1)")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1] == (
        "Error: game 'example_stag_hunt(stag=1)': a stag hunt needs stag > hare > 0, "
        "got stag=1, hare=3.0")


def test_example_game_can_be_checked(venv):
    joint = venv.tmp / "stag.csv"
    joint.write_text("Hunter 1,Hunter 2,probability\nStag,Stag,1\n")
    result = spielplatz_cli(venv, "check", "example_stag_hunt", str(joint), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ce"]["gap"] == 0 and data["cce"]["gap"] == 0
    assert data["ce"]["values"] == [4, 4] and data["ce"]["welfare"] == 8


def test_example_command(venv):
    games = json.loads(spielplatz_cli(venv, "games", "--json").stdout)["games"]
    result = spielplatz_cli(venv, "example-hello", "--name", "Ada")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Hello, Ada! {len(games)} games are registered."
    helped = spielplatz_cli(venv, "--help")
    assert re.search(r"^\s+example-hello\s+Greet NAME", helped.stdout, re.M)


# -- a broken plugin ----------------------------------------------------------------

def test_broken_plugin_is_reported_and_skipped(venv):
    data = plugins_json(venv)
    (failure,) = [f for f in data["failures"] if f["name"] == "broken"]
    assert failure["distribution"] == "spielplatz-broken-plugin"
    assert failure["stage"] == "import"
    assert failure["error"] == "RuntimeError: this plugin is broken on purpose"
    assert "broken" not in {p["name"] for p in data["plugins"]}

    shown = spielplatz_cli(venv, "show", "chicken")
    assert shown.returncode == 0, shown.stderr
    assert "Swerve" in shown.stdout and "Straight" in shown.stdout
    assert ("spielplatz: warning: plugin 'broken' (distribution spielplatz-broken-plugin) "
            "failed to import and was skipped: RuntimeError: this plugin is broken on purpose"
            ) in shown.stderr

    table = spielplatz_cli(venv, "plugins")
    assert table.returncode == 0, table.stderr
    assert "failed plugins (skipped)" in table.stdout
    assert "spielplatz-broken-plugin" in table.stdout


# -- SPIELPLATZ_LOAD_PLUGINS ----------------------------------------------------

def test_load_plugins_env_hides_the_example_plugin(venv):
    data = plugins_json(venv, SPIELPLATZ_LOAD_PLUGINS="openspiel")
    assert {p["name"] for p in data["plugins"]} == {"builtin_welfare", "openspiel"}
    assert data["failures"] == []  # the broken plugin is not even imported

    hidden = spielplatz_cli(venv, "show", "example_stag_hunt",
                            SPIELPLATZ_LOAD_PLUGINS="openspiel")
    assert hidden.returncode == 1
    assert hidden.stderr.strip() == "Error: unknown game 'example_stag_hunt' (see `spielplatz games`)"
    command = spielplatz_cli(venv, "example-hello", SPIELPLATZ_LOAD_PLUGINS="openspiel")
    assert command.returncode == 2 and "No such command 'example-hello'" in command.stderr


def test_load_plugins_env_accepts_distribution_names(venv):
    data = plugins_json(venv, SPIELPLATZ_LOAD_PLUGINS="spielplatz-example-plugin")
    assert {p["name"] for p in data["plugins"]} == {"builtin_welfare", "example"}
    data = plugins_json(venv, SPIELPLATZ_LOAD_PLUGINS="")
    assert {p["name"] for p in data["plugins"]} == {"builtin_welfare"}
    shown = spielplatz_cli(venv, "show", "example_stag_hunt",
                           SPIELPLATZ_LOAD_PLUGINS="example")
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr == ""


# -- in process: failure isolation, collisions, suggestions --------------------------

def _game_loader(name):
    def load():
        return spielplatz.NormalFormGame.from_bimatrix([[1, 0], [0, 1]], [[1, 0], [0, 1]],
                                                       name=name)
    return load


def test_failing_registration_keeps_nothing():
    calls = []

    class HalfBroken:
        @hookimpl
        def register_games(self, register):
            register("half_game", _game_loader("half_game"), description="registered first")
            calls.append("games")

        @hookimpl
        def register_solvers(self, register):
            register("half_solver", "nowhere:solver")
            raise RuntimeError("solver registration exploded")

    @hookimpl
    def register_games(register):
        register("good_game", _game_loader("good_game"))

    host = PluginHost(entry_points=False)
    assert host.add_plugin(HalfBroken(), name="half", distribution="half-dist") is False
    assert calls == ["games"]  # its register_games ran, but nothing of it is kept
    (failure,) = host.failures
    assert failure.to_dict() == {
        "name": "half", "distribution": "half-dist", "stage": "register",
        "error": "register_solvers: RuntimeError: solver registration exploded"}
    assert "half" not in host.plugins
    for kind, name in (("game", "half_game"), ("solver", "half_solver")):
        with pytest.raises(UnknownNameError):
            host.registry(kind).get(name)
    assert host.pm.get_plugin("half") is None

    # The host keeps working: another plugin registers normally afterwards.
    good = SimpleNamespace(register_games=register_games)
    assert host.add_plugin(good, name="good", distribution="good-dist") is True
    assert host.registry("game").get("good_game").plugin == "good"
    assert host.plugins["good"].registered == {"games": ["good_game"]}
    assert host.warnings() == [str(failure)]
    assert "half-dist" in host.warnings()[0]


def test_register_games_raising_midway_keeps_nothing():
    @hookimpl
    def register_games(register):
        register("first_game", _game_loader("first_game"))
        register("second_game", _game_loader("second_game"))
        raise ValueError("third game is broken")

    host = PluginHost(entry_points=False)
    assert not host.add_plugin(SimpleNamespace(register_games=register_games),
                               name="midway", distribution="midway-dist")
    assert len(host.registry("game")) == 0
    assert host.to_dict()["failures"] == [{
        "name": "midway", "distribution": "midway-dist", "stage": "register",
        "error": "register_games: ValueError: third game is broken"}]


def test_bad_registrations_are_failures():
    @hookimpl
    def register_games(register):
        register(" spaced ", _game_loader("x"))

    host = PluginHost(entry_points=False)
    assert not host.add_plugin(SimpleNamespace(register_games=register_games), name="bad")
    assert "non-empty string" in host.failures[0].error


def test_name_collision_names_both_plugins():
    def plugin(game_names):
        @hookimpl
        def register_games(register):
            for n in game_names:
                register(n, _game_loader(n))
        return SimpleNamespace(register_games=register_games)

    host = PluginHost(entry_points=False)
    assert host.add_plugin(plugin(["shared_game", "alpha_only"]), name="alpha",
                           distribution="alpha-dist")
    assert host.add_plugin(plugin(["shared_game", "beta_only"]), name="beta",
                           distribution="beta-dist")
    registry = host.registry("game")
    with pytest.raises(NameCollisionError) as info:
        registry.get("shared_game")
    message = str(info.value)
    assert "'alpha'" in message and "'beta'" in message
    assert "SPIELPLATZ_LOAD_PLUGINS" in message
    assert registry.collisions() == {"shared_game": ["alpha", "beta"]}
    assert host.to_dict()["collisions"] == {"game": {"shared_game": ["alpha", "beta"]}}
    (warning,) = host.warnings()
    assert "'shared_game'" in warning and "'alpha'" in warning and "'beta'" in warning
    # The names nobody else claims still work.
    assert registry.get("alpha_only").plugin == "alpha"
    assert registry.get("beta_only").plugin == "beta"
    # A third claimant is added to the collision.
    assert host.add_plugin(plugin(["shared_game"]), name="gamma")
    assert registry.collisions() == {"shared_game": ["alpha", "beta", "gamma"]}


def test_duplicate_plugin_name_is_a_failure():
    host = PluginHost(entry_points=False)
    assert host.add_plugin(SimpleNamespace(), name="twin", distribution="first-dist")
    assert not host.add_plugin(SimpleNamespace(), name="twin", distribution="second-dist")
    assert "already loaded (from first-dist)" in host.failures[0].error


def test_unknown_names_suggest_close_matches():
    @hookimpl
    def register_games(register):
        for n in ("stag_hunt", "chicken_game", "matching_pennies"):
            register(n, _game_loader(n))

    host = PluginHost(entry_points=False)
    host.add_plugin(SimpleNamespace(register_games=register_games), name="some")
    registry = host.registry("game")
    with pytest.raises(UnknownNameError) as info:
        registry.get("stag_hunts")
    assert str(info.value) == "unknown game 'stag_hunts'; did you mean 'stag_hunt'?"
    with pytest.raises(UnknownNameError, match=r"did you mean 'chicken_game'\?"):
        registry.get("chiken_game")
    with pytest.raises(UnknownNameError) as info:
        registry.get("zzz")
    assert str(info.value) == "unknown game 'zzz' (see `spielplatz games`)"
    assert isinstance(info.value, KeyError)  # UnknownNameError is also a KeyError
    with pytest.raises(UnknownNameError, match=r"^unknown welfare 'utilitarain'; did you mean "
                                               r"'utilitarian'"):
        host.registry("welfare").get("utilitarain")


def test_plugin_commands_are_isolated():
    @click.group()
    def cli():
        pass

    @cli.command()
    def show():
        pass

    class Commands:
        def __init__(self, name):
            self.name = name

        @hookimpl
        def register_commands(self, cli):
            @cli.command(name=self.name)
            def _cmd():
                click.echo("hi")

    @hookimpl
    def register_commands(cli):
        raise RuntimeError("no commands today")

    class Crashing:
        @hookimpl
        def register_commands(self, cli):
            @cli.command(name="crash")
            def _cmd():
                raise RuntimeError("crash blew up")

    host = PluginHost(entry_points=False)
    host.add_plugin(Commands("show"), name="clash", distribution="clash-dist")
    host.add_plugin(Commands("hello"), name="hello", distribution="hello-dist")
    host.add_plugin(Commands("hello"), name="hello2")
    host.add_plugin(SimpleNamespace(register_commands=register_commands), name="raiser")
    host.add_plugin(Crashing(), name="crashing")
    host.add_commands(cli)
    assert sorted(cli.commands) == ["crash", "hello", "show"]
    assert host.plugins["hello"].registered == {"commands": ["hello"]}
    # a taken name ignores that command only: not a failed plugin
    errors = {f.name: f.error for f in host.failures}
    assert errors == {"raiser": "register_commands: RuntimeError: no commands today"}
    assert [(i["name"], i["plugin"], i["builtin_plugin"]) for i in host.ignored] == [
        ("show", "clash", "host"), ("hello", "hello2", "hello")]
    warnings = host.warnings()
    assert ("command 'show' of plugin 'clash' (distribution clash-dist) was ignored: the host "
            "already provides it") in warnings
    assert "command 'hello' of plugin 'hello2' was ignored: plugin 'hello' already provides it" \
        in warnings
    # a misspelled hook is a notice (never called); a hook with a wrong argument name fails
    # the plugin with pluggy's reason, not only its first line

    class Misspelled:
        @hookimpl
        def register_widgets(self, register):
            pass

    class WrongArgument:
        @hookimpl
        def register_games(self, reg):
            pass

    assert host.add_plugin(Misspelled(), name="misspelled")
    assert host.notices == ["plugin 'misspelled' implements 'register_widgets', which is not "
                            "a Spielplatz hook (see docs/plugins.md); it is never called"]
    assert not host.add_plugin(WrongArgument(), name="wrong")
    assert "Argument(s) {'reg'} are declared in the hookimpl but can not be found in the " \
        "hookspec" in host.failures[-1].error
    # a command that crashes is one line naming its plugin
    result = CliRunner().invoke(cli, ["crash"])
    assert isinstance(result.exception, PluginError)
    assert str(result.exception) == ("command 'crash' (plugin 'crashing') failed: RuntimeError: "
                                     "crash blew up")


def test_example_plugin_in_process(monkeypatch):
    """The example module works as a plugin object without being installed."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)   # nothing written into docs/
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delitem(sys.modules, "spielplatz_example", raising=False)
    import spielplatz_example

    host = PluginHost(entry_points=False)
    assert host.add_plugin(spielplatz_example, name="example",
                           distribution="spielplatz-example-plugin")
    entry = host.registry("game").get("example_stag_hunt")
    game = entry.load()(stag=4.0, hare=3.0)
    assert game.action_names == (("Stag", "Hare"), ("Stag", "Hare"))
    assert game.payoffs.tolist() == [[[4, 0], [3, 3]], [[4, 3], [0, 3]]]
    with pytest.raises(ValueError, match="stag > hare"):
        entry.load()(stag=1.0, hare=3.0)
    monkeypatch.delitem(sys.modules, "spielplatz_example")


def test_example_plugin_registers_without_heavy_imports(venv):
    code = ("import sys; from spielplatz.plugins.host import get_host; host = get_host(); "
            "assert 'example' in host.plugins, host.to_dict(); "
            "print(sorted(m for m in ('numpy', 'jax', 'scipy', 'pyspiel', 'matplotlib') "
            "if m in sys.modules))")
    result = subprocess.run([venv.python, "-c", code], capture_output=True, text=True,
                            env=_clean_env(SPIELPLATZ_LOAD_PLUGINS="example"), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_one_default_solver_and_complete_welfare_listings():
    """A plugin's solver asking to be the default while a built-in is stays a plain solver
    (one notice); a plugin's plain welfare function is listed with the defaults of its
    metadata and keeps its description."""

    class Plugin:
        @hookimpl
        def register_solvers(self, register):
            register("zz_default", "builtins:object", default=True)
            register("zz_other", "builtins:object", default=True)

        @hookimpl
        def register_welfare_functions(self, register):
            register("zz_welfare", lambda values: values.sum(), description="a plain sum")

    class First:
        @hookimpl
        def register_solvers(self, register):
            register("first", "builtins:object", default=True)

    host = PluginHost(entry_points=False)
    assert host.add_plugin(First(), name="first")
    assert host.add_plugin(Plugin(), name="second")
    solvers = {e.name: e.meta["default"] for e in host.registry("solver").entries()}
    assert solvers == {"first": True, "zz_default": False, "zz_other": False}
    assert host.notices == [f"solver {n!r} of plugin 'second' asks to be the default; "
                            f"'first' already is, and stays" for n in ("zz_default", "zz_other")]
    lone = PluginHost(entry_points=False)                 # two defaults in one plugin
    assert lone.add_plugin(Plugin(), name="second")
    assert [e.meta["default"] for e in lone.registry("solver").entries()] == [True, False]
    welfare = host.registry("welfare").get("zz_welfare")
    assert (welfare.meta["defined_on"], welfare.meta["impartial"], welfare.meta["needs"]) == (
        "values", None, ())
