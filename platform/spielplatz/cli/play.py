"""``spielplatz play``: saved agents against each other (cross-play of two runs)."""

from __future__ import annotations

import click

from spielplatz.cli.common import echo_json, make_console

__all__ = ["play_command"]


@click.command("play")
@click.argument("game")
@click.argument("first", type=click.Path(exists=False))
@click.argument("second", type=click.Path(exists=False))
@click.option("--seed-first", type=click.IntRange(min=0), default=None,
              help="Seed index (0-based) of FIRST's agent: it meets every seed of SECOND "
                   "(with --seed-second, one pair).")
@click.option("--seed-second", type=click.IntRange(min=0), default=None,
              help="Seed index (0-based) of SECOND's agent: it meets every seed of FIRST.")
@click.option("--episodes", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also sample this many episodes per pair (0: exact values only; "
                   "agents without closed-form values sample 32).")
@click.option("--horizon", type=click.IntRange(min=1), default=100, show_default=True,
              help="Stages per sampled episode.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def play_command(game: str, first: str, second: str, seed_first: int | None,
                 seed_second: int | None, episodes: int, horizon: int, as_json: bool) -> None:
    """Play player 1 of the run saved in FIRST against player 2 of SECOND on GAME.

    FIRST and SECOND are `learn --out` folders or their *_run.json files. Without seed
    indices every seed of FIRST meets every seed of SECOND (the cross-play matrix); one
    index picks its row or column, two one pair. The average reward per step per player
    is reported, exact where the game allows.
    """
    import numpy as np

    import spielplatz as sp

    runs = [sp.load_run(first), sp.load_run(second)]
    loaded = sp.load_game(game)                     # once, not once per pair
    # a seed index given picks its row (or column) of the cross-play matrix
    rows = range(len(runs[0].seeds)) if seed_first is None else [seed_first]
    cols = range(len(runs[1].seeds)) if seed_second is None else [seed_second]
    pairs = [(i, j) for i in rows for j in cols]
    results = []
    for i, j in pairs:
        out = sp.play(loaded, runs[0], runs[1], seed_first=i, seed_second=j,
                      episodes=episodes, horizon=horizon, seed=i * 7919 + j)
        value = out["exact"] if out["exact"] is not None else out["sampled"]["mean"]
        results.append({"first_seed": runs[0].seeds[i], "second_seed": runs[1].seeds[j],
                        "rewards": np.asarray(value, dtype=float).tolist(),
                        "exact": out["exact"] is not None, "sampled": out["sampled"]})
    rewards = np.array([r["rewards"] for r in results])
    summary = {"pairs": len(results), "mean": rewards.mean(axis=0).tolist(),
               "median": np.median(rewards, axis=0).tolist()}
    if as_json:
        echo_json({"game": game, "first": {"learner": runs[0].learner, "path": first},
                   "second": {"learner": runs[1].learner, "path": second},
                   "summary": summary, "pairs": results})
        return
    console = make_console()
    console.print(f"[bold]{game}[/]: player 1 of {runs[0].learner} ({first}) against player 2 "
                  f"of {runs[1].learner} ({second}), {len(results)} pair(s)")
    if len(results) <= 12:
        for r in results:
            console.print(f"  seeds {r['first_seed']} vs {r['second_seed']}: average reward "
                          f"per step {r['rewards'][0]:.4g}, {r['rewards'][1]:.4g}")
    console.print(f"mean {summary['mean'][0]:.4g}, {summary['mean'][1]:.4g}; median "
                  f"{summary['median'][0]:.4g}, {summary['median'][1]:.4g}")
