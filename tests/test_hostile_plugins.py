"""Hostile third-party plugins, pip-installed into a fresh venv, cannot take the host down.

Distributions built and installed as in tests/test_external_plugins.py:

* ``spielplatz-exit-plugin`` calls ``sys.exit(3)`` at import;
* ``spielplatz-interrupt-plugin`` raises ``KeyboardInterrupt`` at import;
* ``spielplatz-chatty-plugin`` prints at import and in its hooks (Python and fd 1);
* ``spielplatz-fake-maxent`` has an entry point named ``maxent`` (a solver
  ``maxent`` that returns the uniform joint as ``optimal``);
* ``spielplatz-fake-openspiel`` has an entry point named ``openspiel`` (a game
  ``chicken`` with other payoffs);
* ``spielplatz-squatter`` has its own entry-point name but registers the
  built-in names ``maxent`` (solver), ``chicken`` (game) and ``utilitarian``
  (welfare function), next to a name of its own (solver ``squat_uniform``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import textwrap
from types import SimpleNamespace

import pytest

from test_external_plugins import _clean_env, _pip_install, make_venv

UNIFORM_SOLVER = """\
import numpy as np
from spielplatz import Solution


class UniformSolver:
    def solve(self, game, concept="ce", **options):
        joint = np.full(game.shape, 1.0 / game.num_joint_actions)
        return Solution.from_joint(game, joint, concept, solver="maxent", status="optimal")
"""

PLUGINS = {
    # distribution: (entry-point name, module, __init__.py, extra modules)
    "spielplatz-exit-plugin": ("exiter", "spielplatz_exiter",
                               "import sys\nsys.exit(3)\n", {}),
    "spielplatz-interrupt-plugin": ("interrupter", "spielplatz_interrupter",
                                    "raise KeyboardInterrupt\n", {}),
    "spielplatz-chatty-plugin": ("chatty", "spielplatz_chatty", textwrap.dedent("""\
        import os
        import click
        from spielplatz import hookimpl

        print("CHATTY python print at import")
        os.write(1, b"CHATTY fd-1 write at import\\n")


        @hookimpl
        def register_welfare_functions(register):
            print("CHATTY print in register_welfare_functions")
            os.write(1, b"CHATTY fd-1 write in register_welfare_functions\\n")
            register("chatty_sum", lambda values: sum(values), description="sum")


        @hookimpl
        def register_commands(cli):
            print("CHATTY print in register_commands")

            @cli.command(name="chatty-hello")
            def hello():
                click.echo("chatty hello")
        """), {}),
    "spielplatz-fake-maxent": ("maxent", "spielplatz_fake_maxent", textwrap.dedent("""\
        from spielplatz import hookimpl


        @hookimpl
        def register_solvers(register):
            register("maxent", "spielplatz_fake_maxent.uniform:UniformSolver",
                     description="FAKE maxent", concepts=("ce", "cce"), exact=True)
        """), {"uniform.py": UNIFORM_SOLVER}),
    "spielplatz-fake-openspiel": ("openspiel", "spielplatz_fake_openspiel", textwrap.dedent("""\
        from spielplatz import hookimpl


        def chicken():
            from spielplatz import NormalFormGame
            return NormalFormGame.from_bimatrix([[9, 9], [9, 9]], [[9, 9], [9, 9]],
                                                name="chicken")


        @hookimpl
        def register_games(register):
            register("chicken", chicken, description="FAKE chicken")
        """), {}),
    "spielplatz-squatter": ("squatter", "spielplatz_squatter", textwrap.dedent("""\
        from spielplatz import hookimpl


        def chicken():
            from spielplatz import NormalFormGame
            return NormalFormGame.from_bimatrix([[9, 9], [9, 9]], [[9, 9], [9, 9]],
                                                name="chicken")


        @hookimpl
        def register_solvers(register):
            register("maxent", "spielplatz_squatter.uniform:UniformSolver",
                     description="SQUATTED maxent")
            register("squat_uniform", "spielplatz_squatter.uniform:UniformSolver",
                     description="the squatter's own solver")


        @hookimpl
        def register_games(register):
            register("chicken", chicken, description="SQUATTED chicken")


        @hookimpl
        def register_welfare_functions(register):
            register("utilitarian", lambda values: 0 * sum(values), description="SQUATTED")
        """), {"uniform.py": UNIFORM_SOLVER}),
}

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.0.1"

[project.entry-points.spielplatz]
{ep} = "{module}"

[tool.setuptools]
packages = ["{module}"]
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> SimpleNamespace:
    """A fresh venv holding every hostile plugin."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip("pip is not installed in the test environment")
    base = tmp_path_factory.mktemp("hostile-venv")
    python, env_dir = make_venv(base)
    projects = []
    for dist, (ep, module, init, extra) in PLUGINS.items():
        project = base / "src" / dist
        (project / module).mkdir(parents=True)
        (project / "pyproject.toml").write_text(PYPROJECT.format(dist=dist, ep=ep, module=module))
        (project / module / "__init__.py").write_text(init)
        for name, text in extra.items():
            (project / module / name).write_text(text)
        projects.append(project)
    _pip_install(python, projects, base)
    return SimpleNamespace(python=python, path=env_dir, tmp=base)


def cli(venv: SimpleNamespace, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([venv.python, "-c", "from spielplatz.cli import main; main()", *args],
                          capture_output=True, text=True, env=_clean_env(**env), timeout=120)


def warnings_of(result: subprocess.CompletedProcess) -> list[str]:
    prefix = "spielplatz: warning: "
    return [line[len(prefix):] for line in result.stderr.splitlines() if line.startswith(prefix)]


def test_help_works_despite_exit_and_interrupt_at_import(venv):
    result = cli(venv, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: spielplatz")
    assert "chatty-hello" in result.stdout          # the chatty plugin's command is there
    assert "Traceback" not in result.stderr
    assert "CHATTY" not in result.stdout


def test_exit_and_interrupt_are_recorded_as_failures(venv):
    result = cli(venv, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    failures = {f["name"]: f for f in data["failures"]}
    assert failures["exiter"] == {
        "name": "exiter", "distribution": "spielplatz-exit-plugin", "stage": "import",
        "error": "SystemExit: the plugin called sys.exit(3)"}
    assert failures["interrupter"] == {
        "name": "interrupter", "distribution": "spielplatz-interrupt-plugin", "stage": "import",
        "error": "KeyboardInterrupt: raised by the plugin (not by the user)"}
    loaded = {p["name"] for p in data["plugins"]}
    assert {"openspiel", "maxent", "welfare", "chatty", "squatter"} <= loaded
    assert not {"exiter", "interrupter"} & loaded
    warned = warnings_of(result)
    assert ("plugin 'exiter' (distribution spielplatz-exit-plugin) failed to import and was "
            "skipped: SystemExit: the plugin called sys.exit(3)") in warned
    assert ("plugin 'interrupter' (distribution spielplatz-interrupt-plugin) failed to import "
            "and was skipped: KeyboardInterrupt: raised by the plugin (not by the user)"
            ) in warned


def test_printing_plugin_never_reaches_stdout(venv):
    result = cli(venv, "welfare-functions", "--json")
    assert result.returncode == 0, result.stderr
    names = {w["name"] for w in json.loads(result.stdout)}   # stdout is only the JSON
    assert "chatty_sum" in names
    for text in ("CHATTY python print at import", "CHATTY fd-1 write at import",
                 "CHATTY print in register_welfare_functions",
                 "CHATTY fd-1 write in register_welfare_functions",
                 "CHATTY print in register_commands"):
        assert text in result.stderr                        # still visible to the user
    hello = cli(venv, "chatty-hello")
    assert hello.returncode == 0, hello.stderr
    assert hello.stdout == "chatty hello\n"


def test_builtin_plugin_names_cannot_be_taken(venv):
    result = cli(venv, "plugins", "--json")
    data = json.loads(result.stdout)
    plugins = {p["name"]: p for p in data["plugins"]}
    assert plugins["maxent"]["distribution"] == "spielplatz"
    assert plugins["openspiel"]["distribution"] == "spielplatz"
    failures = {(f["name"], f["distribution"]): f for f in data["failures"]}
    for ep, dist in (("maxent", "spielplatz-fake-maxent"),
                     ("openspiel", "spielplatz-fake-openspiel")):
        failure = failures[(ep, dist)]     # the intruder is the one named and skipped
        assert failure["error"] == (f"plugin name {ep!r} belongs to a built-in plugin of "
                                    f"distribution 'spielplatz'; the built-in was kept")
        assert (f"plugin {ep!r} (distribution {dist}) failed to register and was skipped: "
                f"plugin name {ep!r} belongs to a built-in plugin") in " ".join(
                    warnings_of(result))
    assert not any(f["distribution"] == "spielplatz" for f in data["failures"])


def test_builtin_registered_names_cannot_be_taken(venv):
    result = cli(venv, "plugins", "--json")
    data = json.loads(result.stdout)
    ignored = {(i["kind"], i["name"]): i for i in data["ignored"]}
    assert ignored == {
        ("solver", "maxent"): {"kind": "solver", "name": "maxent", "plugin": "squatter",
                               "distribution": "spielplatz-squatter",
                               "builtin_plugin": "maxent"},
        ("game", "chicken"): {"kind": "game", "name": "chicken", "plugin": "squatter",
                              "distribution": "spielplatz-squatter",
                              "builtin_plugin": "openspiel"},
        ("welfare", "utilitarian"): {"kind": "welfare", "name": "utilitarian",
                                     "plugin": "squatter",
                                     "distribution": "spielplatz-squatter",
                                     "builtin_plugin": "builtin_welfare"},
    }
    assert data["collisions"] == {}
    squatter = {p["name"]: p for p in data["plugins"]}["squatter"]
    assert squatter["registered"] == {"solvers": ["squat_uniform"]}
    assert ("solver name 'maxent' registered by plugin 'squatter' (distribution "
            "spielplatz-squatter) was ignored: it is a built-in name, kept by the built-in "
            "plugin 'maxent'") in warnings_of(result)


def test_solve_chicken_uses_the_real_builtins(venv):
    result = cli(venv, "solve", "chicken", "--json")
    assert result.returncode == 0, result.stderr
    sol = json.loads(result.stdout)
    assert sol["solver"] == "maxent" and sol["status"] == "optimal"
    # The real MaxEnt CE of chicken is not the uniform joint (chicken's payoffs, not 9s).
    joint = [p for row in sol["joint"] for p in row]
    assert joint == pytest.approx([0.1483437173, 0.2966874347, 0.2966874347, 0.2582814134],
                                  abs=1e-8)
    assert sol["gap"] < 1e-8
    shown = cli(venv, "show", "chicken", "--json")
    assert json.loads(shown.stdout)["payoffs"] != [[[9, 9], [9, 9]], [[9, 9], [9, 9]]]
    # The squatter's own names work.
    own = cli(venv, "solve", "chicken", "--solver", "squat_uniform", "--json")
    assert own.returncode == 0, own.stderr
    assert json.loads(own.stdout)["joint"] == [[0.25, 0.25], [0.25, 0.25]]


def test_unknown_load_plugins_name_is_warned(venv):
    result = cli(venv, "show", "chicken", "--json",
                 SPIELPLATZ_LOAD_PLUGINS="openspiel,opnespiel")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["actions"][0] == ["Swerve", "Straight"]
    (warning,) = [w for w in warnings_of(result) if w.startswith("SPIELPLATZ_LOAD_PLUGINS")]
    assert warning.startswith("SPIELPLATZ_LOAD_PLUGINS names 'opnespiel', which is not an "
                              "installed plugin or distribution; available plugins: ")
    for name in ("openspiel", "maxent", "chatty", "squatter", "exiter"):
        assert name in warning.split("available plugins: ")[1].split(", ")


# -- in process: a user's Ctrl-C still interrupts; a built-in registered late still wins ----

class _FakeEntryPoint:
    def __init__(self, name, dist, load):
        self.name = name
        self.dist = SimpleNamespace(metadata={"Name": dist}, version="1.0")
        self.load = load


def test_plugin_interrupt_is_a_failure_but_user_interrupt_is_not(monkeypatch):
    import signal

    from spielplatz.plugins import host as plugins_module

    def plugin_raises():
        raise KeyboardInterrupt

    def user_presses_ctrl_c():
        # what the interpreter does on a real Ctrl-C: call the installed SIGINT handler
        # (a real signal goes to a subprocess in the next test)
        handler = signal.getsignal(signal.SIGINT)
        assert handler is not signal.default_int_handler, "the guard installed no handler"
        handler(signal.SIGINT, None)
        raise AssertionError("the handler did not interrupt")

    def sigint_is_ignored():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN

    eps = [_FakeEntryPoint("raiser", "raiser-dist", plugin_raises)]
    monkeypatch.setattr(plugins_module.metadata, "entry_points", lambda group: list(eps))
    previous = signal.getsignal(signal.SIGINT)
    try:
        # Python's own handler, as in an interactive session. (A test process started in
        # the background by a shell without job control inherits SIGINT *ignored*: this
        # test failed in such runs before it set the handler itself.)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        host = plugins_module.PluginHost()
        assert [(f.name, f.error) for f in host.failures] == [
            ("raiser", "KeyboardInterrupt: raised by the plugin (not by the user)")]
        eps.append(_FakeEntryPoint("slow", "slow-dist", user_presses_ctrl_c))
        with pytest.raises(KeyboardInterrupt):
            plugins_module.PluginHost()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # restored
        # SIGINT ignored (no Ctrl-C can arrive): the guard leaves the disposition alone
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        eps[-1] = _FakeEntryPoint("quiet", "quiet-dist", sigint_is_ignored)
        host = plugins_module.PluginHost()
        assert [f.name for f in host.failures] == ["raiser"]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


_SLOW_PLUGIN_SCRIPT = textwrap.dedent("""\
    import os, signal, sys, time
    # Python's own SIGINT handler even when started with SIGINT ignored (a background job)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from types import SimpleNamespace
    from spielplatz.plugins import host as plugins_module

    def slow():
        os.write(2, b"ready\\n")
        for _ in range(6000):          # 60 s at most; SIGINT ends it
            time.sleep(0.01)
        print("not interrupted")

    ep = SimpleNamespace(name="slow", dist=SimpleNamespace(metadata={"Name": "slow-dist"},
                                                           version="1.0"), load=slow)
    plugins_module.metadata.entry_points = lambda group: [ep]
    try:
        host = plugins_module.PluginHost()
    except KeyboardInterrupt:
        print("user interrupt")
    else:
        print("failures:", [f.error for f in host.failures])
    """)


def test_a_real_sigint_during_plugin_loading_is_the_users_interrupt():
    import os
    import signal
    import sys

    proc = subprocess.Popen([sys.executable, "-c", _SLOW_PLUGIN_SCRIPT], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr.readline() == "ready\n"
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert out == "user interrupt\n", (out, err)
    assert proc.returncode == 0


def test_builtin_registered_after_an_intruder_still_wins():
    from spielplatz import hookimpl
    from spielplatz.plugins.host import PluginHost

    def plugin(description):
        @hookimpl
        def register_solvers(register):
            register("shared_solver", "nowhere:Solver", description=description)
        return SimpleNamespace(register_solvers=register_solvers)

    host = PluginHost(entry_points=False)
    assert host.add_plugin(plugin("intruder"), name="intruder", distribution="intruder-dist")
    assert host.add_plugin(plugin("built-in"), name="core", distribution="spielplatz",
                           builtin=True)
    assert host.registry("solver").get("shared_solver").description == "built-in"
    assert host.registry("solver").collisions() == {}
    assert host.plugins["intruder"].registered == {"solvers": []}
    assert host.warnings() == [
        "solver name 'shared_solver' registered by plugin 'intruder' (distribution "
        "intruder-dist) was ignored: it is a built-in name, kept by the built-in plugin 'core'"]
