"""Memory estimates and the configurable limit (SPIELPLATZ_MEMORY_LIMIT)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import spielplatz as sp
from spielplatz.system import resources
from spielplatz.cli import cli
from spielplatz.errors import GameTooLargeError, MemoryLimitError, OptionError


@pytest.mark.parametrize("text, expected", [
    ("4GiB", 4 * 1024**3), ("512MiB", 512 * 1024**2), ("2GB", 2 * 10**9), ("1e9", 10**9),
    ("1.5 KiB", 1536), ("100", 100)])
def test_parse_size(text, expected):
    assert resources.parse_size(text) == expected


@pytest.mark.parametrize("text", ["abc", "4 parsecs", "-1GiB", "0", "GiB"])
def test_bad_limit_is_one_clear_line(monkeypatch, text):
    monkeypatch.setenv(resources.ENV_VAR, text)
    with pytest.raises(OptionError, match=resources.ENV_VAR):
        resources.memory_limit()


def test_default_limit_is_a_fraction_of_available_memory(monkeypatch):
    monkeypatch.delenv(resources.ENV_VAR, raising=False)
    limit, source = resources.memory_limit()
    avail = resources.available_memory()
    if avail is None:
        pytest.skip("available memory unknown on this system")
    assert 0 < limit <= avail
    assert resources.ENV_VAR in source
    monkeypatch.setenv(resources.ENV_VAR, "none")
    assert resources.memory_limit()[0] is None
    monkeypatch.setenv(resources.ENV_VAR, "50%")
    assert 0 < resources.memory_limit()[0] <= avail


def test_check_memory_message_states_estimate_and_limit(monkeypatch):
    monkeypatch.setenv(resources.ENV_VAR, "1MiB")
    resources.check_memory(1000, "a small step")
    with pytest.raises(MemoryLimitError) as info:
        resources.check_memory(3 * 1024**2, "a big step")
    msg = str(info.value)
    assert "a big step" in msg and "3.0 MiB" in msg and "1.0 MiB" in msg
    assert "\n" not in msg


def test_constraint_entries_match_the_built_matrix():
    from spielplatz.equilibria.constraints import constraint_matrix

    g = np.random.default_rng(0).normal(size=(3, 2, 3, 4))
    for concept in ("ce", "cce"):
        assert constraint_matrix(g, concept).nnz == resources.constraint_entries((2, 3, 4),
                                                                                 concept)


def _cli(monkeypatch, limit, *args):
    if limit is None:
        monkeypatch.delenv(resources.ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(resources.ENV_VAR, limit)
    return CliRunner().invoke(cli, list(args))


def _assert_refused(result, *parts):
    assert result.exit_code == 1, result.output
    err = result.stderr if hasattr(result, "stderr") else result.output
    line = [x for x in err.splitlines() if x.startswith("Error:")]
    assert len(line) == 1, err
    assert "internal error" not in err and "MemoryError" not in err
    for part in parts:
        assert part in line[0], line[0]


def test_random_game_refused_before_sampling(monkeypatch):
    r = _cli(monkeypatch, "10MiB", "show", "random_game(shape=1000x1000,seed=1)")
    _assert_refused(r, "random_game(shape=1000x1000)", "61.0 MiB", "10.0 MiB",
                    resources.ENV_VAR)
    with pytest.raises(GameTooLargeError):
        sp.load_game("random_game(shape=1000x1000,seed=1)")


def test_blotto_conversion_refused(monkeypatch):
    r = _cli(monkeypatch, "10MiB", "show", "blotto(coins=43,fields=3)")
    _assert_refused(r, "blotto(coins=43,fields=3)", "990 x 990", "59.8 MiB", "10.0 MiB")


def test_extensive_conversion_refused(monkeypatch):
    monkeypatch.setenv(resources.ENV_VAR, "10KiB")
    with pytest.raises(GameTooLargeError, match="converting its 64 x 64 normal form"):
        sp.load_game("kuhn_poker")


@pytest.mark.parametrize("solver", ["maxent", "welfare"])
def test_big_solve_refused_with_estimate(monkeypatch, solver):
    r = _cli(monkeypatch, "64MiB", "solve", "random_game(shape=300x300,seed=1)",
             "--solver", solver)
    # 300x300 CE: 2 * 300 * 299 * 300 = 53,820,000 entries, 3 copies of 12 bytes each
    _assert_refused(r, f"the {solver} CE solve", "53,820,000", "64.0 MiB")
    assert "1.8 GiB" in r.output


def test_default_limit_refuses_a_hopeless_solve(monkeypatch):
    avail = resources.available_memory()
    if avail is None or avail > 80 * 1024**3:
        pytest.skip("needs a known available memory below 80 GiB")
    r = _cli(monkeypatch, None, "solve", "random_game(shape=1000x1000,seed=1)")
    _assert_refused(r, "67.2 GiB", resources.ENV_VAR)


def test_constraint_matrix_checks_its_own_allocation(monkeypatch):
    from spielplatz.equilibria.constraints import constraint_matrix

    monkeypatch.setenv(resources.ENV_VAR, "1KiB")
    with pytest.raises(MemoryLimitError, match="CE constraint matrix"):
        constraint_matrix(np.zeros((2, 20, 20)), "ce")


def test_normal_games_pass_small_limits(monkeypatch):
    monkeypatch.setenv(resources.ENV_VAR, "200MiB")
    for args in (["solve", "chicken"], ["solve", "chicken", "--solver", "welfare"],
                 ["show", "kuhn_poker"], ["solve", "l2_invariant(shape=8x8,seed=0)"]):
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 0, r.output


def test_usable_cpus_follow_the_affinity_and_the_cgroup_quota(monkeypatch):
    import io
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    files = {"/sys/fs/cgroup/cpu.max": "150000 100000\n"}

    def fake_open(path, *args, **kwargs):
        if path in files:
            return io.StringIO(files[path])
        raise FileNotFoundError(path)

    monkeypatch.setattr(resources, "open", fake_open, raising=False)
    assert resources.usable_cpus() == 2                  # 1.5 CPUs of quota: 2 threads
    files["/sys/fs/cgroup/cpu.max"] = "max 100000\n"
    assert resources.usable_cpus() == 8                  # no quota: the affinity mask
    del files["/sys/fs/cgroup/cpu.max"]                  # cgroup v1
    files.update({"/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "300000",
                  "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000"})
    assert resources.usable_cpus() == 3
