"""Declared options (issue 10, item 5): each solver and learner declares its options once;
the host checks names, coerces types, checks concepts, game kinds and game parameters,
lists the schemas and keeps the tables of docs/cli.md in sync."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

import spielplatz as sp
from spielplatz import Option, hookimpl
from spielplatz import api
from spielplatz.plugins import host as plugins_module
from spielplatz.cli import cli
from spielplatz.errors import GameError, OptionError
from spielplatz.plugins.options import (check_registration, coerce_options, options_table,
                                update_options_tables)
from spielplatz.plugins.host import PluginHost
from spielplatz.plugins.registry import Entry, Registry

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


# -- docs ----------------------------------------------------------------------------------

def test_docs_cli_option_tables_are_in_sync():
    text = DOCS.read_text()
    assert update_options_tables(text) == text, (
        "docs/cli.md option tables differ from the declarations; regenerate with "
        "spielplatz.plugins.options.update_options_tables")
    host = sp.get_host()
    for kind in ("solver", "learner"):
        for entry in host.registry(kind).entries():
            if entry.plugin in ("maxent", "welfare", "nes", "d3c", "lola"):
                assert any(f"<!-- options: {kind} " in line and entry.name in
                           line.split()[3].split(",") for line in text.splitlines()
                           if line.startswith("<!-- options:")), (kind, entry.name)


def test_docs_sync_detects_a_missing_or_changed_option():
    options = (Option("k", "int", 3, "iterations", minimum=1),)
    registries = {"solver": Registry("solver"), "learner": Registry("learner")}
    registries["solver"].add(Entry("s", "m:S", "p", meta={"options": options}))
    text = f"x\n<!-- options: solver s -->\n{options_table(options)}\n<!-- end options -->\n"
    assert update_options_tables(text, registries) == text
    registries["solver"] = Registry("solver")
    registries["solver"].add(Entry("s", "m:S", "p", meta={"options": (
        *options, Option("tol", "float", 1e-8, "tolerance", positive=True))}))
    assert update_options_tables(text, registries) != text          # a missing option
    registries["solver"] = Registry("solver")
    registries["solver"].add(Entry("s", "m:S", "p", meta={"options": (
        Option("k", "int", 4, "iterations", minimum=1),)}))
    assert update_options_tables(text, registries) != text          # a changed default


# -- the declarations and their coercion ---------------------------------------------------

def test_option_coercion():
    declared = (Option("n", "int", 1, minimum=1), Option("x", "float", 0.5, positive=True),
                Option("flag", "bool", False), Option("form", "choice", "a", choices=("a", "b")),
                Option("eps", "floats", 0.0), Option("clip", "float", None, nullable=True),
                Option("name", "str", ""), Option("chunk", "int", 4, batch_only=True))
    got = coerce_options(declared, {"n": 20.0, "x": "0.25", "flag": "yes", "form": "B",
                                    "eps": [0, 1], "clip": "none", "name": ["a", "b"]}, "t")
    assert got == {"n": 20, "x": 0.25, "flag": True, "form": "b", "eps": [0.0, 1.0],
                   "clip": None, "name": "a;b"}
    assert type(got["n"]) is int
    with pytest.raises(OptionError, match="n must be an integer >= 1, got 0"):
        coerce_options(declared, {"n": 0}, "t")
    with pytest.raises(OptionError, match="form must be one of a, b, got 'c'"):
        coerce_options(declared, {"form": "c"}, "t")
    with pytest.raises(OptionError, match="unknown option 'chunk' for t"):
        coerce_options(declared, {"chunk": 2}, "t")
    assert coerce_options(declared, {"chunk": "2"}, "t", batch=True) == {"chunk": 2}
    assert coerce_options(None, {"anything": 1}, "t") == {"anything": 1}   # undeclared
    # text and choices given numbers or booleans (the command line types -o values)
    texts = (Option("label", "str", ""), Option("mode", "choice", "1", choices=("1", "2", "on")))
    assert coerce_options(texts, {"label": 1, "mode": 2}, "t") == {"label": "1", "mode": "2"}
    assert [coerce_options(texts, {"label": x}, "t")["label"]
            for x in (1000.0, 0.1, float("nan"), True, [1, 2.5])] == [
        "1000", "0.1", "nan", "true", "1;2.5"]


def test_check_registration_refuses_bad_metadata():
    assert check_registration("solver", "s", {})["concepts"] == ("ce", "cce")
    for meta, fragment in [({"concepts": ("nash",)}, "concepts must be within ce, cce"),
                           ({"exact": "yes"}, "exact must be True or False"),
                           ({"options": [1]}, "must hold spielplatz.Option"),
                           ({"options": (Option("a"), Option("a"))}, "declares an option twice"),
                           ({"tags": "x"}, "tags must be a tuple of names")]:
        with pytest.raises(ValueError, match=fragment):
            check_registration("solver", "s", meta)
    with pytest.raises(ValueError, match="parameters must map names"):
        check_registration("game", "g", {"parameters": ["a"]})
    legacy = check_registration("solver", "s", {"options": {"k": "help"}})["options"]
    assert legacy == (Option("k", "any", help="help"),)
    with pytest.raises(ValueError, match="type must be one of"):
        Option("k", "integer")


def test_builtin_declarations_are_typed():
    host = sp.get_host()
    maxent = {o.name: o for o in host.registry("solver").get("maxent").meta["options"]}
    assert maxent["max_iter"].type == "int" and maxent["chunk"].batch_only
    d3c = {o.name: o for o in host.registry("learner").get("d3c").meta["options"]}
    assert d3c["lr"].default == {"differentiable": 0.03, "rl_environment": 0.1,
                                 "jax_environment": 4e-4}
    assert d3c["rho"].choices == ("additive", "log", "bound")


# -- the host checks before calling --------------------------------------------------------

def test_host_coerces_and_refuses_before_the_solver():
    sol = sp.solve("chicken", solver="maxent", max_iter="50")
    assert sol.config["max_iter"] == 50
    with pytest.raises(OptionError, match="unknown option 'chunk' for the maxent solver"):
        sp.solve("chicken", solver="maxent", chunk=2)        # a batch-only option
    assert api.check_options("solver", "welfare", {"summary": "on"}) == {"summary": True}


def _host_with(monkeypatch, module):
    monkeypatch.setattr(plugins_module.metadata, "entry_points", lambda group: [])
    host = PluginHost()
    assert host.add_plugin(module, name="toy"), host.failures
    monkeypatch.setattr(plugins_module, "_HOST", host)
    return host


def test_registered_concepts_and_game_kinds_are_checked(monkeypatch):
    calls = []

    class Toy:
        def solve(self, game, concept="ce", **options):
            import numpy as np

            from spielplatz.results import Solution

            calls.append(options)
            return Solution.from_joint(game, np.full(game.shape, 1 / 4), concept, solver="toy",
                                       status="approximate")

        def learn(self, game, *, steps, seeds=(0,), **options):
            calls.append(options)
            return "ran"

    module = types.SimpleNamespace()

    @hookimpl
    def register_solvers(register):
        register("toy", Toy, concepts=("ce",), options=(Option("k", "int", 1, minimum=1),))

    @hookimpl
    def register_learners(register):
        register("toyl", Toy, game_kinds=("rl_environment",),
                 options=(Option("lr", "float", 0.1, positive=True),))

    module.register_solvers, module.register_learners = register_solvers, register_learners
    game = sp.load_game("chicken")
    _host_with(monkeypatch, module)
    with pytest.raises(OptionError, match="solver 'toy' does not solve cce \\(it solves ce\\)"):
        api.solve(game, solver="toy", concept="cce")
    with pytest.raises(OptionError, match="unknown option 'kk' for the toy solver; did you "
                                          "mean 'k'"):
        api.solve(game, solver="toy", kk=1)
    api.solve(game, solver="toy", k=2.0)
    assert calls[-1] == {"k": 2} and type(calls[-1]["k"]) is int
    with pytest.raises(GameError, match="learner 'toyl' does not train normal_form games"):
        api.learn(game, "toyl", steps=1)
    with pytest.raises(OptionError, match="lr must be a finite number > 0"):
        api.get_learner("toyl").learn(types.SimpleNamespace(), steps=1, lr=0)


def test_cli_options_are_typed_and_checked():
    runner = CliRunner()
    result = runner.invoke(cli, ["solve", "chicken", "-o", "max_iter=2.5"])
    assert result.exit_code == 1
    assert "max_iter must be an integer >= 1, got 2.5" in result.stderr
    result = runner.invoke(cli, ["solve", "chicken", "--solver", "welfare", "-o",
                                 "sumary=true"])
    assert result.exit_code == 1 and "did you mean 'summary'?" in result.stderr
    result = runner.invoke(cli, ["solvers", "--json"])
    listed = {s["name"]: s for s in json.loads(result.stdout)}
    tol = next(o for o in listed["maxent"]["options"] if o["name"] == "tol")
    assert tol == {"name": "tol", "type": "float", "default": 1e-10, "range": "> 0",
                   "choices": None, "nullable": False, "batch_only": False, "help": tol["help"]}
    learners = json.loads(runner.invoke(cli, ["learners", "--json"]).stdout)
    d3c = next(entry for entry in learners if entry["name"] == "d3c")
    assert any(o["name"] == "trial_return" for o in d3c["options"])


def test_listing_json_does_not_import_heavy_modules():
    code = ("import sys\nfrom spielplatz.cli.main import cli\n"
            "for args in (['solvers', '--json'], ['learners', '--json']):\n"
            "    try:\n        cli(args, standalone_mode=False)\n    except SystemExit:\n"
            "        pass\n"
            "print('HEAVY=' + ','.join(m for m in ('jax', 'scipy', 'matplotlib') "
            "if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY=\n" in out.stdout, out.stdout[-300:]


# -- game parameters from the registration -------------------------------------------------

def test_game_parameters_checked_from_registration():
    with pytest.raises(GameError, match="game 'random_game' has no parameter 'shap' \\(did you "
                                        "mean 'shape'\\?\\); it takes shape, seed"):
        sp.load_game("random_game(shap=3x3)")
    with pytest.raises(GameError, match="has no parameter 'rho'"):
        sp.load_game("l2_invariant(shape=3x3,rho=1)")
    with pytest.raises(GameError, match="game 'chicken' has no parameter 'x'; it takes no "
                                        "parameters"):
        sp.load_game("chicken(x=1)")
    assert sp.load_game("covariant_game(shape=3x3,rho=0.5)").shape == (3, 3)
    import spielplatz_random.named as named

    assert "exec(" not in Path(named.__file__).read_text()
    assert named.batch_l2_invariant(shape="2x2", batch_size=3, seed=1).shape == (3, 2, 2, 2)
