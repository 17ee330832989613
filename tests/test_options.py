"""Bad options and game strings get one clear line (the reliability issue, class 7).

The shared checks live in :mod:`spielplatz.validation` and :mod:`spielplatz.games.gamestring`;
every solver, learner and command uses them, so each case is tested once at the root
and once through the command line.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from click.testing import CliRunner

import spielplatz as sp
from spielplatz.cli import cli
from spielplatz.errors import GameError, OptionError, SpielplatzError
from spielplatz.games.gamestring import parse_game_string
from spielplatz.validation import (SEED_MAX, as_bool, as_choice, as_float, as_int, as_seed,
                                   as_seeds, as_shape, check_option_names)


@pytest.fixture()
def runner():
    return CliRunner()


def _one_line_error(result, fragment, exit_code=1):
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.output
    assert fragment in lines[0], lines[0]


# -- the shared helpers ---------------------------------------------------------------------

def test_as_int():
    assert as_int(3, "k") == 3 and as_int(np.int64(3), "k") == 3 and as_int(1e3, "k") == 1000
    for bad in (2.5, True, "3", None, math.nan, math.inf):
        with pytest.raises(OptionError, match="^k must be an integer"):
            as_int(bad, "k")
    with pytest.raises(OptionError, match=r"max_iter must be an integer >= 1, got 0$"):
        as_int(0, "max_iter", minimum=1)
    with pytest.raises(OptionError, match="between 2 and 100, got 101"):
        as_int(101, "n", minimum=2, maximum=100)


def test_as_float():
    assert as_float(2, "lr") == 2.0
    for bad in (math.nan, math.inf, -math.inf, "0.1", None, False):
        with pytest.raises(OptionError, match="lr must be a finite number"):
            as_float(bad, "lr")
    with pytest.raises(OptionError, match="lr must be a finite number > 0, got 0"):
        as_float(0, "lr", positive=True)
    with pytest.raises(OptionError, match="between 0 and 1"):
        as_float(1.5, "p", minimum=0, maximum=1)


def test_as_bool_and_as_choice():
    assert as_bool("Yes", "b") is True and as_bool(0, "b") is False and as_bool(True, "b")
    for bad in ("maybe", 2, 0.5, None):
        with pytest.raises(OptionError, match="b must be true or false"):
            as_bool(bad, "b")
    assert as_choice("CE", "concept", ["ce", "cce"]) == "ce"
    with pytest.raises(OptionError, match="one of ce, cce, got 'cc'; did you mean 'cce'"):
        as_choice("cc", "concept", ["ce", "cce"])


def test_as_shape():
    assert as_shape("8x8") == (8, 8) and as_shape("3X2x4") == (3, 2, 4) and as_shape(5) == (5, 5)
    assert as_shape([2, 3]) == (2, 3)
    for bad in ("3xx3", "3x", "x3", "", "3x-1", "3x2.5", "axb", [2, 2.5]):
        with pytest.raises(OptionError, match="form 8x8 or 3x3x3"):
            as_shape(bad)
    with pytest.raises(OptionError, match="at least one action"):
        as_shape("3x0")
    with pytest.raises(OptionError, match="at least 2 players"):
        as_shape("8", min_players=2)
    with pytest.raises(OptionError, match="too many joint actions"):
        as_shape("2000x2000")


def test_seeds():
    assert as_seed(SEED_MAX) == SEED_MAX and as_seeds(range(3)) == (0, 1, 2)
    assert as_seeds(7) == (7,)
    for bad in (-1, SEED_MAX + 1, 2 ** 64, 1.5):
        with pytest.raises(OptionError, match="between 0 and 4294967295"):
            as_seed(bad)
    with pytest.raises(OptionError, match="at least one seed"):
        as_seeds(())


@pytest.mark.parametrize("steps", [2.9, True, 0, 1e20, "10"])
def test_learn_steps_are_checked_by_the_host(steps):
    """A fractional step count is not truncated, and one too long for a scan is not the
    plugin's failure: one ``OptionError`` whatever the learner."""
    with pytest.raises(OptionError, match=r"steps must be an integer between 1 and "
                                          r"2147483647, got "):
        sp.learn("nash_paradox", "gd", steps=steps)
    assert list(sp.learn("nash_paradox", "gd", steps=3.0).steps) == [0, 1, 2, 3]


@pytest.mark.parametrize("given, fragment", [
    (dict(seeds=2.5), "seeds must be a seed or a sequence of seeds, got 2.5"),
    (dict(seeds="12"), "seeds must be a seed or a sequence of seeds, got '12'"),
    (dict(seeds=[1, 2], seed=5), "give seeds or seed, not both"),
    (dict(seeds=[0, 0]), "seeds: seed 0 is given twice; seeds must be distinct"),
])
def test_learn_seeds_are_checked_by_the_host(given, fragment):
    with pytest.raises(OptionError, match=re.escape(fragment)):
        sp.learn("nash_paradox", "gd", steps=2, **given)
    assert sp.learn("nash_paradox", "gd", steps=2, seeds=np.int64(4)).seeds == (4,)
    assert sp.learn("nash_paradox", "gd", steps=2, seed=7).seeds == (7,)


def test_check_option_names_suggests_close_matches():
    check_option_names({"mu": 1}, ["mu", "tol"], "the x solver")
    with pytest.raises(OptionError, match=r"unknown option 'nu' for the x solver; did you "
                                          r"mean 'mu'\? \(options: mu, tol\)"):
        check_option_names({"nu": 1}, ["mu", "tol"], "the x solver")
    assert issubclass(OptionError, SpielplatzError) and issubclass(OptionError, ValueError)


# -- game strings ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, fragment", [
    ("blotto(coins=4,,fields=3)", "empty parameter"),
    ("blotto(coins=4,)", "empty parameter"),
    ("blotto(,coins=4)", "empty parameter"),
    ("blotto(coins=)", "parameter 'coins' has an empty value"),
    ("blotto(coins=4,coins=5)", "parameter 'coins' is given twice"),
    ("blotto(coins)", "not of the form key=value"),
    ("blotto(=4)", "not of the form key=value"),
    ("blotto(co ins=4)", "invalid parameter name 'co ins'"),
    ("blotto(coins=4", "must end with ')'"),
    ("blotto(coins=4)x", "must end with ')'"),
    ("blotto(coins=4))", "unbalanced parentheses"),
    ("blotto((coins=4)", "unbalanced parentheses"),
    ("blotto(coins=4)(fields=3)", "unbalanced parentheses"),
    ("tbs(game=goofspiel(num_cards=3,,players=2))", "empty parameter"),
    ("(coins=4)", "invalid game name"),
])
def test_game_string_errors(text, fragment):
    with pytest.raises(GameError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_game_string(text)


def test_game_strings_still_parse():
    assert parse_game_string("blotto()") == ("blotto", {})
    assert parse_game_string(" blotto( coins = 4 , fields=3 ) ") == (
        "blotto", {"coins": 4, "fields": 3})
    assert parse_game_string("tbs(game=goofspiel(num_cards=3,players=2),x=true)") == (
        "tbs", {"game": "goofspiel(num_cards=3,players=2)", "x": True})


@pytest.mark.parametrize("spec, fragment", [
    ("random_game(shape=3xx3)", "shape must be of the form 8x8 or 3x3x3"),
    ("random_game(shape=3x3,seed=2.5)", "seed must be an integer between 0 and 4294967295"),
    ("random_game(shape=3x3,seed=true)", "seed must be a number, got True"),
    ("local_effect_game(shape=3x3,bidirectional=maybe)", "bidirectional must be true or false"),
    ("nplayer_pd(n=100000)", "n (players) must be an integer between 2 and 100, got 100000"),
    ("nplayer_pd(n=2.5)", "n (players) must be an integer"),
    ("nplayer_pd(c=nan)", "c must be a finite number > 0"),
    # checked by the host against the registered default's kind, before the loader
    ("nash_paradox(kappa=abc)", "kappa must be a number, got 'abc'"),
    ("nash_paradox(kappa=true)", "kappa must be a number, got True"),
    ("braess(shortcut=maybe)", "shortcut must be true or false, got 'maybe'"),
])
def test_game_parameter_values(spec, fragment):
    with pytest.raises(GameError) as info:
        sp.load_game(spec)
    assert fragment in str(info.value) and spec in str(info.value)


# -- solver options -------------------------------------------------------------------------

@pytest.mark.parametrize("solver, options, fragment", [
    ("maxent", {"max_iter": 2.5}, "max_iter must be an integer >= 1, got 2.5"),
    ("maxent", {"max_iter": "many"}, "max_iter must be an integer >= 1, got 'many'"),
    ("maxent", {"tol": 0}, "tol must be a finite number > 0, got 0"),
    ("maxent", {"nu": 1}, "unknown option 'nu' for the maxent solver; did you mean 'mu'?"),
    ("welfare", {"maxent_tiebreak": "maybe"}, "maxent_tiebreak must be true or false, "
                                              "got 'maybe'"),
    ("welfare", {"summary": 2}, "summary must be true or false, got 2"),
    ("welfare", {"nu": 1}, "unknown option 'nu' for the welfare solver (options: objective"),
    ("welfare", {"objective": "inequity_averse"}, "defined on trajectories"),
    ("nes", {"nu": 1}, "unknown option 'nu' for the nes solver (options: model"),
    ("nes", {"refine": 2.5}, "refine (a number of steps, or 'auto') must be an integer"),
    ("nes", {"tol": math.nan}, "tol must be a finite number > 0"),
])
def test_solver_options(solver, options, fragment):
    with pytest.raises(SpielplatzError) as info:
        sp.solve("chicken", solver=solver, **options)
    assert fragment in str(info.value)


def test_welfare_trajectory_objective_names_the_objectives_it_accepts():
    with pytest.raises(SpielplatzError) as info:
        sp.solve("chicken", solver="welfare", objective="inequity_averse")
    assert ("solvable objectives: egalitarian, kalai_smorodinsky, nash, utilitarian, "
            "weighted, worst") in str(info.value)


def test_maxent_batch_options():
    payoffs = np.asarray(sp.load_game("chicken").payoffs)[None]
    with pytest.raises(SpielplatzError, match="fallback must be true or false"):
        sp.solve_batch(payoffs, solver="maxent", fallback="maybe")
    with pytest.raises(SpielplatzError, match="chunk must be an integer >= 1, got 0"):
        sp.solve_batch(payoffs, solver="maxent", chunk=0)
    with pytest.raises(SpielplatzError, match="did you mean 'chunk'"):
        sp.solve_batch(payoffs, solver="maxent", chunks=4)


def test_unknown_welfare_points_to_the_listing_command():
    with pytest.raises(SpielplatzError, match=r"see `spielplatz welfare-functions`"):
        sp.get_welfare_function("qqqqqq")


# -- the command line ------------------------------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["show", "random_game(shape=3xx3)"], "shape must be of the form 8x8"),
    (["show", "blotto(coins=4,,fields=3)"], "empty parameter"),
    (["show", "blotto(coins=4,coins=5)"], "given twice"),
    (["learn", "nplayer_pd(n=100000)", "--steps", "1", "--seeds", "1"],
     "between 2 and 100, got 100000"),
    (["solve", "chicken", "-o", "max_iter=2.5"], "max_iter must be an integer >= 1, got 2.5"),
    (["solve", "chicken", "--solver", "welfare", "-o", "maxent_tiebreak=maybe"],
     "maxent_tiebreak must be true or false, got 'maybe'"),
    (["solve", "chicken", "-o", "nu=1"], "did you mean 'mu'?"),
    (["solve", "chicken", "--solver", "welfare", "-o", "objective=inequity_averse"],
     "solvable objectives: egalitarian, kalai_smorodinsky, nash, utilitarian, weighted"),
    (["solve", "chicken", "-o", "welfare=qqqqqq", "-o", "mu=1"],
     "see `spielplatz welfare-functions`"),
    (["compare", "chicken", "--solvers", "maxent,,welfare"], "empty entry"),
    (["learn", "braess", "--first-seed", "18446744073709551616", "--steps", "1"],
     "--first-seed must be an integer between 0 and 4294967295"),
    (["learn", "braess", "--first-seed", "-1", "--steps", "1"],
     "--first-seed must be an integer between 0 and 4294967295, got -1"),
    (["learn", "braess", "--first-seed", "4294967295", "--seeds", "2", "--steps", "1"],
     "goes past the largest seed 4294967295"),
    (["train-solver", "--architecture", "0/0/0"],
     "--architecture '0/0/0': expected PAYOFF,.../DUAL/DUAL,... with channel counts 1..4096"),
    (["train-solver", "--architecture", "32,32"], "--architecture '32,32': expected"),
    (["train-solver", "--steps", "0"], "--steps must be an integer >= 1, got 0"),
    (["train-solver", "--batch-size", "0"], "--batch-size must be an integer >= 1, got 0"),
    (["train-solver", "--learning-rate", "nan"], "--learning-rate must be a finite number > 0"),
    (["train-solver", "--learning-rate", "0"], "--learning-rate must be a finite number > 0"),
    (["train-solver", "--seed", "-1"], "--seed must be an integer between 0 and 4294967295"),
    (["train-solver", "--shape", "8xx8"], "--shape must be of the form 8x8"),
    (["evaluate-solver", "--games", "0"], "--games must be an integer >= 1, got 0"),
    (["learn", "braess", "--learner", "d3c", "--steps", "2", "-o", "logit_min=2", "-o",
      "logit_max=1"], "logit_min (2) must be below logit_max (1)"),
    (["evaluate-solver", "--classes", "random_game,"],
     "--classes 'random_game,' has an empty entry"),
    (["compare", "chicken", "--solvers", "maxent(mu=1"],
     "unbalanced parentheses in --solvers 'maxent(mu=1'"),
    (["compare", "chicken", "--solvers", "maxent(mu=1,,x=2)"],
     "in solver spec 'maxent(mu=1,,x=2)'"),
    # a model's own concept and shape are not silently replaced
    (["evaluate-solver", "--model", "me_cce_2x2", "--shape", "3x3"],
     "nes: model 'me_cce_2x2' solves 2x2 games, not 3x3; leave the shape out"),
    (["evaluate-solver", "--model", "me_cce_2x2", "--concept", "ce"],
     "nes: model 'me_cce_2x2' solves CCE, not CE"),
])
def test_cli_errors_are_one_line(runner, tmp_path, args, fragment):
    if args[0] == "train-solver":
        args = args + ["--out", str(tmp_path / "out")]
    result = runner.invoke(cli, args)
    _one_line_error(result, fragment)
    assert not (tmp_path / "out").exists()          # refused before anything was written


@pytest.mark.parametrize("option, fragment", [
    ("mu=", "'mu=' has an empty value"),
    ("prior=1;;2", "has an empty value"),
    ("=1", "is not of the form key=value"),
])
def test_malformed_options_are_usage_errors(runner, option, fragment):
    result = runner.invoke(cli, ["solve", "chicken", "-o", option])
    assert result.exit_code == 2 and fragment in result.stderr


def test_duplicate_option_is_a_usage_error(runner):
    result = runner.invoke(cli, ["solve", "chicken", "-o", "mu=1", "-o", "mu=2"])
    assert result.exit_code == 2 and "option 'mu' is given twice" in result.stderr


def test_zero_seeds_is_a_usage_error(runner):
    result = runner.invoke(cli, ["learn", "braess", "--seeds", "0", "--steps", "1"])
    assert result.exit_code == 2 and "Invalid value for '--seeds'" in result.stderr
