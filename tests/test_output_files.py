"""Files the commands write: the umask's mode, and output paths checked before any work."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from spielplatz.cli import cli
from spielplatz.errors import OutputPathError
from spielplatz.system.outputs import atomic_write, check_output_file, check_output_folder


@pytest.fixture()
def umask():
    """Set the process umask for one test and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


def _modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
            for p in folder.rglob("*") if p.is_file()}


def _ok(result) -> None:
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_every_written_file_has_the_umask_mode(tmp_path, umask, mask, mode):
    umask(mask)
    runner = CliRunner()
    _ok(runner.invoke(cli, ["solve", "chicken", "--plot", str(tmp_path / "s.png")]))
    _ok(runner.invoke(cli, ["compare", "chicken", "--json", "--plot", str(tmp_path / "c.svg")]))
    _ok(runner.invoke(cli, ["learn", "braess", "--seeds", "2", "--steps", "20",
                            "--out", str(tmp_path / "runs"), "--plot", str(tmp_path / "l.pdf")]))
    _ok(runner.invoke(cli, ["train-solver", "--shape", "2x2", "--steps", "2", "--batch-size",
                            "4", "--architecture", "4/4/4", "--out", str(tmp_path / "nes")]))
    import spielplatz as sp
    from spielplatz.games.files import write_game_file

    write_game_file(sp.load_game("chicken"), tmp_path / "g.nfg")
    modes = _modes(tmp_path)
    expected = {"s.png", "c.svg", "l.pdf", "g.nfg", "runs/d3c_run.json",
                "runs/d3c_metrics.csv", "runs/d3c_summary.csv", "nes/metrics.json",
                "nes/training.png", "nes/model.msgpack", "nes/checkpoint.msgpack"}
    assert expected <= set(modes), sorted(modes)
    assert {name: oct(m) for name, m in modes.items() if m != mode} == {}
    assert not [n for n in modes if n.endswith(".tmp")]


def test_atomic_write_folder_rules(tmp_path, umask):
    umask(0o022)
    with pytest.raises(OutputPathError, match="does not exist"):
        with atomic_write(tmp_path / "missing" / "f.txt") as fh:
            fh.write("x")
    assert not (tmp_path / "missing").exists()
    with atomic_write(tmp_path / "new" / "f.txt", make_folder=True) as fh:
        fh.write("x")
    assert (tmp_path / "new" / "f.txt").read_text() == "x"
    with pytest.raises(OutputPathError, match="parent folder"):
        with atomic_write(tmp_path / "a" / "b" / "f.txt", make_folder=True) as fh:
            fh.write("x")
    assert not (tmp_path / "a").exists()
    with pytest.raises(RuntimeError):                       # failure: nothing left behind
        with atomic_write(tmp_path / "g.txt") as fh:
            fh.write("half")
            raise RuntimeError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_output_path_checks(tmp_path):
    assert check_output_folder(tmp_path / "new") == tmp_path / "new"
    assert check_output_folder(tmp_path) == tmp_path
    with pytest.raises(OutputPathError, match="parent folder"):
        check_output_folder(tmp_path / "a" / "b")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputPathError, match="not a folder"):
        check_output_folder(tmp_path / "file")
    with pytest.raises(OutputPathError, match="is a folder"):
        check_output_file(tmp_path, "--plot")
    with pytest.raises(OutputPathError, match="does not exist"):
        check_output_file(tmp_path / "no" / "x.png", "--plot")
    if os.geteuid() != 0:                                   # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        with pytest.raises(OutputPathError, match="not writable"):
            check_output_file(ro / "x.png", "--plot")


def _one_error_line(result, *needles: str) -> str:
    assert result.exit_code == 1, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _no_work(monkeypatch):
    """Make solving and game loading fail loudly: a check must come before them."""
    import spielplatz.api as api

    def boom(*args, **kwargs):
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(api, "solve", boom)
    monkeypatch.setattr(api, "load_game", boom)


@pytest.mark.parametrize("command", [["solve", "chicken"], ["compare", "chicken"],
                                     ["learn", "braess", "--steps", "5"]])
def test_plot_into_a_missing_folder_is_an_error_before_any_work(tmp_path, monkeypatch,
                                                                 command):
    _no_work(monkeypatch)
    target = tmp_path / "missing" / "p.png"
    result = CliRunner().invoke(cli, command + ["--plot", str(target)])
    _one_error_line(result, "--plot", "does not exist")
    assert not (tmp_path / "missing").exists()          # no silent mkdir -p


@pytest.mark.parametrize("command", [["solve", "chicken"], ["compare", "chicken"],
                                     ["learn", "braess", "--steps", "5"]])
@pytest.mark.parametrize("name", ["p.xyz", "p", "p.txt"])
def test_plot_suffix_is_checked_before_any_work(tmp_path, monkeypatch, command, name):
    _no_work(monkeypatch)
    result = CliRunner().invoke(cli, command + ["--plot", str(tmp_path / name)])
    _one_error_line(result, "--plot", ".png", ".pdf", ".svg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command, option, what", [
    (["solve", "chicken"], "--plot", "file"), (["compare", "chicken"], "--plot", "file"),
    (["region", "chicken"], "--plot", "file"),
    (["learn", "braess", "--steps", "5"], "--plot", "file"),
    (["learn", "braess", "--steps", "5"], "--out", "folder"),
    (["train-solver", "--shape", "2x2", "--steps", "1"], "--out", "folder")])
def test_an_empty_output_path_is_one_error_everywhere(monkeypatch, command, option, what):
    """``--plot ''`` used to mean "no plot" for solve/compare/region and to name '.' for
    learn; ``--out ''`` wrote into the current folder. Now every command refuses both."""
    _no_work(monkeypatch)
    result = CliRunner().invoke(cli, command + [option, ""])
    _one_error_line(result, f"{option}: the {what} name is empty")


def test_learners_given_twice_or_empty_are_usage_errors(monkeypatch):
    _no_work(monkeypatch)
    for learners, message in (("gd,gd", "'gd' is given twice"),
                              ("gd,", "'gd,' has an empty entry")):
        result = CliRunner().invoke(cli, ["learn", "braess", "--learner", learners])
        assert result.exit_code == 2 and message in result.output, result.output


def test_other_matplotlib_formats_are_accepted(tmp_path):
    result = CliRunner().invoke(cli, ["solve", "chicken", "--plot", str(tmp_path / "p.JPG")])
    _ok(result)
    assert (tmp_path / "p.JPG").read_bytes()[:2] == b"\xff\xd8"


def test_out_folder_may_be_created_but_not_its_parent(tmp_path, monkeypatch):
    runner = CliRunner()
    _ok(runner.invoke(cli, ["learn", "braess", "--seeds", "1", "--steps", "5",
                            "--out", str(tmp_path / "new")]))
    assert (tmp_path / "new" / "d3c_run.json").is_file()
    _no_work(monkeypatch)
    result = runner.invoke(cli, ["learn", "braess", "--steps", "5",
                                 "--out", str(tmp_path / "a" / "b")])
    _one_error_line(result, "--out", "parent folder")
    result = runner.invoke(cli, ["train-solver", "--shape", "2x2", "--steps", "1",
                                 "--out", str(tmp_path / "a" / "b")])
    _one_error_line(result, "--out", "parent folder")
    (tmp_path / "f").write_text("")
    result = runner.invoke(cli, ["learn", "braess", "--out", str(tmp_path / "f")])
    assert result.exit_code != 0
    assert not (tmp_path / "a").exists()


def test_a_folder_that_refuses_files_is_found_before_any_work(tmp_path, monkeypatch):
    """Writability is probed by creating a file (and a folder), not only by
    ``os.access``, which says yes to root on read-only or virtual file systems (a
    ``--out /proc/x`` used to train in full and then fail)."""
    from spielplatz.system import outputs

    def refuse(*args, **kwargs):
        raise PermissionError(30, "Read-only file system")

    monkeypatch.setattr(outputs.tempfile, "NamedTemporaryFile", refuse)
    monkeypatch.setattr(outputs.tempfile, "mkdtemp", refuse)
    _no_work(monkeypatch)
    result = CliRunner().invoke(cli, ["solve", "chicken", "--plot", str(tmp_path / "p.png")])
    _one_error_line(result, "--plot", "is not writable")
    result = CliRunner().invoke(cli, ["learn", "braess", "--out", str(tmp_path / "new")])
    _one_error_line(result, "--out", f"cannot create {str(tmp_path / 'new')!r}", "not writable")
    assert list(tmp_path.iterdir()) == []


def test_seeds_beyond_what_one_call_trains_are_refused_at_once(monkeypatch):
    """``--seeds 100000000`` used more than 5 GB before any message."""
    import spielplatz as sp
    from spielplatz.validation import MAX_SEEDS

    with pytest.raises(sp.SpielplatzError, match="seeds, more than the 100,000 one call"):
        sp.get_learner("d3c").learn(sp.load_game("braess"), steps=1,
                                    seeds=range(10 ** 8))
    _no_work(monkeypatch)
    for command in (["learn", "braess"], ["crossplay", "coins", "--agents", "amtft"]):
        result = CliRunner().invoke(cli, command + ["--seeds", str(MAX_SEEDS + 1)])
        _one_error_line(result, "--seeds", "100000")
