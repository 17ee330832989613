"""Every hook has a numpydoc docstring and a section in docs/plugins.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from spielplatz.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[1]
PLUGINS_MD = ROOT / "docs" / "plugins.md"


def _hookspec_functions() -> dict[str, object]:
    return {name: obj for name, obj in vars(hookspecs).items()
            if callable(obj) and hasattr(obj, "spielplatz_spec")}


def _signature(name: str) -> str:
    return f"{name}{inspect.signature(getattr(hookspecs, name))}"


@pytest.fixture(scope="module")
def plugins_md() -> str:
    assert PLUGINS_MD.is_file(), f"missing {PLUGINS_MD}"
    return PLUGINS_MD.read_text(encoding="utf-8")


def test_hook_names_lists_every_hookspec():
    assert sorted(hookspecs.HOOK_NAMES) == sorted(_hookspec_functions())
    assert len(set(hookspecs.HOOK_NAMES)) == len(hookspecs.HOOK_NAMES)


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_hookspec_has_numpydoc_docstring(name):
    doc = inspect.getdoc(getattr(hookspecs, name))
    assert doc, f"hook {name} has no docstring"
    assert re.search(r"^Parameters\n-{10,}$", doc, re.M), \
        f"hook {name}: docstring lacks a numpydoc 'Parameters' section"
    for param in inspect.signature(getattr(hookspecs, name)).parameters:
        assert re.search(rf"^{param} : \S", doc, re.M), \
            f"hook {name}: parameter {param!r} is not documented as '{param} : type'"


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_hook_has_section_in_plugins_md(name, plugins_md):
    headings = [line for line in plugins_md.splitlines() if re.match(r"^#{2,4} ", line)]
    assert any(re.search(rf"\b{name}\b", h) for h in headings), \
        f"docs/plugins.md has no heading naming hook {name}"
    signature = _signature(name)
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", plugins_md, re.M | re.S)
    assert any(signature in block for block in blocks), \
        f"docs/plugins.md has no code block with the exact signature {signature!r}"


def test_design_card_signatures_are_kept():
    # The design card fixes these callback signatures; published plugins depend on them.
    signatures = {_signature(n) for n in hookspecs.HOOK_NAMES}
    assert signatures >= {
        "register_games(register)", "register_solvers(register)",
        "register_learners(register)", "register_welfare_functions(register)",
        "register_commands(cli)"}
