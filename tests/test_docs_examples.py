"""docs/api.md promises that every example runs as written from the repository root.

The ```python blocks of docs/api.md run in order in one fresh interpreter (a later
block may use names from an earlier one), from the repository root, under a time
limit. Top-level one-line ``print(...)`` calls must print what the page shows: the
trailing ``# comment`` for a one-line output, else the ``# `` comment lines right below
(a parenthetical remark may follow a value).
Documentation may only use files inside the repository.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT

API_MD = ROOT / "docs" / "api.md"
TIME_LIMIT = 120       # seconds; the whole page runs in about 5 s here

# Runs every block in one namespace; for each top-level statement that is a print
# call followed on its line by "# expected", records (line, printed, expected).
DRIVER = r'''
import ast, contextlib, io, json, sys
blocks, checks = json.loads(sys.stdin.read()), []
namespace = {"__name__": "__main__"}
for first_line, code in blocks:
    lines = code.splitlines()
    tree = ast.parse(code, filename=f"docs/api.md:{first_line}")
    for stmt in tree.body:
        lineno, source = stmt.lineno, lines[stmt.lineno - 1]
        is_print = (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                    and getattr(stmt.value.func, "id", None) == "print"
                    and stmt.lineno == stmt.end_lineno)
        piece = ast.Module(body=[stmt], type_ignores=[])
        ast.increment_lineno(piece, first_line - 1)      # tracebacks name docs/api.md lines
        compiled = compile(piece, "docs/api.md", "exec")
        if not is_print:
            exec(compiled, namespace)
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compiled, namespace)
        printed = out.getvalue().rstrip("\n").split("\n")
        following = []                   # the comment lines right below the print line
        for below in lines[lineno:]:
            if not below.startswith("# "):
                break
            following.append(below[2:])
        if len(printed) == 1 and "  # " in source:
            expected = [source.split("  # ", 1)[1].strip()]
        elif following:
            expected = following[:len(printed)]
        else:
            continue                     # output not shown in the page
        checks.append((first_line + lineno - 1, printed, expected))
print("CHECKS " + json.dumps(checks))
'''


def python_blocks() -> list[tuple[int, str]]:
    """(line of the block's first code line, code) for every ```python block."""
    text = API_MD.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)]


def test_api_examples_use_only_repository_files():
    blocks = python_blocks()
    assert len(blocks) >= 15
    for line, code in blocks:
        assert "../" not in code, f"docs/api.md:{line} reaches outside the repository"
        for path in re.findall(r'"([\w./-]+\.(?:nfg|json|csv))"', code):
            assert (ROOT / path).is_file(), f"docs/api.md:{line}: {path} is not in the repo"


def test_api_examples_run_as_written():
    blocks = python_blocks()
    result = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(blocks),
                            cwd=ROOT, capture_output=True, text=True, timeout=TIME_LIMIT)
    assert result.returncode == 0, result.stderr[-3000:]
    marker = [line for line in result.stdout.splitlines() if line.startswith("CHECKS ")]
    checks = json.loads(marker[-1][len("CHECKS "):])
    documented = sum(len(re.findall(r"^print\(.*\)  +# |^print\(.*\)\n# ", code, re.M))
                     for _, code in blocks)
    assert documented >= 30 and len(checks) == documented    # every shown output is checked

    def same(printed: str, expected: str) -> bool:     # a remark may follow: "0.25 (why)"
        return printed.rstrip() == expected.rstrip() or (
            expected.startswith(printed + " ") and expected[len(printed):].lstrip()[:1] == "(")

    wrong = [(line, printed, expected) for line, printed, expected in checks
             if len(printed) != len(expected) or not all(map(same, printed, expected))]
    assert not wrong, "docs/api.md outputs differ (line, printed, documented): " + repr(wrong)


def test_cli_help_shown_in_the_docs_is_the_programs():
    """Every ``$ spielplatz [COMMAND] --help`` block of docs/cli.md is what the program
    prints (80-column terminal less a margin: click's width 78)."""
    from click.testing import CliRunner

    from spielplatz.cli.main import cli

    text = (ROOT / "docs" / "cli.md").read_text()
    blocks = re.findall(r"```console\n\$ spielplatz ?([\w-]*) --help\n(.*?)```", text, re.S)
    assert len(blocks) >= 13
    for args, shown in blocks:
        out = CliRunner().invoke(cli, (args.split() if args else []) + ["--help"],
                                 prog_name="spielplatz", terminal_width=78).output
        assert out.strip() == shown.strip(), f"docs/cli.md: `spielplatz {args} --help`"
