"""The host's architecture as a contract (docs/architecture.md).

* The import-linter contracts of ``pyproject.toml`` hold: the host's layers
  (cli > display > api > results | learning > equilibria > games > plugins >
  validation | system > errors) import only downwards, plugins use the public API
  (not ``spielplatz.cli`` or ``spielplatz.plugins``), and no plugin imports another.
* The check is not vacuous: a copy of the tree with one deliberate violation of
  each kind fails it, naming the offending import.
* No host module is over the size bar, and the host names no plugin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOST = ROOT / "platform" / "spielplatz"
LINT = Path(sys.executable).with_name("lint-imports")
#: "No module in the host over about 350 lines".
MAX_LINES = 360
#: Names of the built-in plugins (packages and registered solver/learner names) that the
#: host's code must not mention: it works with whatever plugins are installed.
PLUGIN_NAMES = re.compile(r"\bspielplatz_(openspiel|random|dilemmas|iterated|welfare|maxent"
                          r"|nes|d3c|lola|amtft|a2c|coins)\b|\b(maxent|nes|d3c|lola|lola_dice|amtft|a2c)\b")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed "
                                "(pip install -e '.[test]')")


def _lint(pythonpath: list[Path] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    return subprocess.run([str(LINT), "--no-cache"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_import_contracts_hold():
    result = _lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    platform = tmp_path / "platform"
    plugins = tmp_path / "plugins"
    shutil.copytree(HOST, platform / "spielplatz",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "plugins", plugins, ignore=shutil.ignore_patterns("__pycache__"))
    return platform, plugins


@pytest.mark.parametrize("path, line, contract", [
    ("platform/spielplatz/equilibria/deviations.py", "import spielplatz.cli.main",
     "host layers: each imports only from the layers below it BROKEN"),
    ("platform/spielplatz/games/normal_form.py", "import spielplatz.display.tables",
     "host layers: each imports only from the layers below it BROKEN"),
    ("plugins/spielplatz_welfare/solver.py", "import spielplatz.plugins.host",
     "internals BROKEN"),
    ("plugins/spielplatz_nes/solver.py", "import spielplatz_maxent.solver",
     "no plugin imports another BROKEN"),
])
def test_a_deliberate_violation_breaks_the_contract(tmp_path, path, line, contract):
    platform, plugins = _copy(tmp_path)
    target = tmp_path / path
    target.write_text(target.read_text() + f"\n{line}  # deliberate violation\n")
    result = _lint([platform, plugins])
    assert result.returncode != 0
    assert contract in result.stdout, result.stdout
    module = ".".join(Path(path).with_suffix("").parts[1:])
    assert module in result.stdout, result.stdout            # the report names the importer


def test_the_unchanged_copy_passes(tmp_path):
    """The violation tests fail for their injected line, not because of the copy."""
    platform, plugins = _copy(tmp_path)
    result = _lint([platform, plugins])
    assert result.returncode == 0, result.stdout


def test_no_host_module_over_the_size_bar():
    sizes = {str(p.relative_to(HOST)): len(p.read_text().splitlines())
             for p in HOST.rglob("*.py")}
    assert max(sizes.values()) > 100                        # the walk found the modules
    assert {k: v for k, v in sizes.items() if v > MAX_LINES} == {}


def test_the_host_names_no_plugin():
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
            for p in HOST.rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if PLUGIN_NAMES.search(line)]
    assert hits == []


def test_the_plugin_name_check_can_fail():
    assert PLUGIN_NAMES.search('solver: str = "maxent"')
    assert PLUGIN_NAMES.search("from spielplatz_d3c import x")
    assert not PLUGIN_NAMES.search("MaxEnt CE of the NES appendix")
