"""``spielplatz crossplay``: agent families against each other, NormalizedScore, game of norms."""

from __future__ import annotations

from typing import Any

import click

from spielplatz.cli.common import CONCEPT_CHOICE, echo_json, make_console, parse_options

__all__ = ["crossplay_command"]


def _floats(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return [float(x) for x in text.replace(";", ",").split(",")]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a list of numbers", param_hint=what) from None


@click.command("crossplay")
@click.argument("game")
@click.option("--agents", "specs", multiple=True, required=True, metavar="SPEC",
              help="An agent family: a learner with options, NAME(option=value,...) (see "
                   "`spielplatz learners`), or a saved run (learn --out folder or "
                   "*_run.json). Repeat for each family.")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Seeds per learner spec (saved runs keep theirs).")
@click.option("--first-seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--steps", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Training steps of each learner spec (as its learner reads them).")
@click.option("--episodes", type=click.IntRange(min=1), default=32, show_default=True,
              help="Sampled episodes per pair of agents.")
@click.option("--horizon", type=click.IntRange(min=1), default=100, show_default=True,
              help="Stages per episode (an environment such as coins plays its own length).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the sampled episodes and the bootstrap.")
@click.option("--welfare", default=None, metavar="W",
              help="The score's welfare set, e.g. util+ia (default: the agents' own).")
@click.option("--disagreement", default=None, metavar="D1,D2",
              help="Disagreement profile (default: each player's pure security level; "
                   "(0,0) on the Coin Games, Appendix B.2).")
@click.option("--solve", "solver", default=None, metavar="SOLVER",
              help="Solve the family table as a game between principals (the meta-game of "
                   "norms) with this solver.")
@click.option("--concept", type=CONCEPT_CHOICE, default="ce", show_default=True)
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Option of the --solve solver.")
@click.option("--min-selfplay", type=float, default=None, metavar="SCORE",
              help="Discard (and list) the seeds whose self-play NormalizedScore is below "
                   "SCORE.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--plot", "plot", default=None, metavar="FILE",
              help="Payoff profiles over the feasible set and the score heatmap.")
def crossplay_command(game: str, specs: tuple, seeds: int, first_seed: int, steps: int,
                      episodes: int, horizon: int, seed: int, welfare: str | None,
                      disagreement: str | None, solver: str | None, concept: str,
                      options: tuple, min_selfplay: float | None, as_json: bool,
                      plot: str | None) -> None:
    """Cross-play of agent families on GAME (normative disagreement, Section 4.2).

    Every seed's player-1 agent meets every seed's player-2 agent of every family (both
    seat orders); cells are grouped into self-play, cross-play with the same welfare
    functions and with different ones, each with its mean NormalizedScore and a bootstrap
    confidence interval.
    """
    import spielplatz as sp
    from spielplatz.validation import MAX_SEEDS, as_int

    as_int(seeds, "--seeds", minimum=1, maximum=MAX_SEEDS)
    if plot is not None:
        from spielplatz.display.figures import check_plot_path

        check_plot_path(plot)
    solver_options = parse_options(options)
    if solver_options and solver is None:
        raise click.BadParameter("solver options need --solve SOLVER", param_hint="'-o'")
    result = sp.crossplay(game, list(specs), seeds=seeds, first_seed=first_seed, steps=steps,
                          episodes=episodes, horizon=horizon, seed=seed, welfare=welfare,
                          disagreement=_floats(disagreement, "'--disagreement'"),
                          solve=solver, concept=concept.lower(),
                          min_selfplay=min_selfplay, **solver_options)
    if plot:
        from spielplatz.display.crossplay import plot_crossplay

        plot_crossplay(result, getattr(sp.load_game(game), "payoffs", None), plot,
                       jitter=0.01, seed=seed)
    if as_json:
        echo_json(result.to_dict())
        return
    _print(result, plot)


def _ci(ci: list) -> str:
    return "-" if ci[0] is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _ci_short(ci: list) -> str:
    return "-" if ci[0] is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def _print(result: Any, plot: str | None) -> None:
    from rich.table import Table

    console = make_console()
    d = ", ".join(f"{x:.4g}" for x in result.disagreement)
    console.print(f"[bold]{result.game}[/]: {len(result.cells)} cells; score W = "
                  f"{{{', '.join(result.welfare)}}}, disagreement ({d})")
    for fam in result.families:
        if fam["discarded_seeds"]:
            console.print(f"  {fam['label']}: discarded diverged seeds "
                          f"{fam['discarded_seeds']}")
        if fam.get("discarded_selfplay"):
            listed = ", ".join(f"seed {d['seed']} ({d['score']:.3f})"
                               for d in fam["discarded_selfplay"])
            console.print(f"  {fam['label']}: discarded below self-play score "
                          f"{result.settings['min_selfplay']:g}: {listed}")
    table = Table(title="NormalizedScore by kind of pair")
    for col in ("kind", "cells", "score", f"{result.settings['confidence']:.0%} CI",
                "values", "below frontier"):
        table.add_column(col)
    for kind, g in result.groups.items():
        table.add_row(kind, str(g["cells"]), f"{g['score']:.3f}", _ci(g["score_ci"]),
                      f"{g['values'][0]:.3f}, {g['values'][1]:.3f}",
                      "-" if g["below_frontier"] is None else str(g["below_frontier"]))
    console.print(table)
    if result.settings.get("max_welfare") == "best observed":
        console.print("  max w: the best profile observed in this cross-play (the game's "
                      "optimum is not known in closed form)")
    level = f"{result.settings['confidence']:.0%}"
    fams = Table(title=f"mean values (score [{level} CI]; row: seat 1, column: seat 2; "
                       "independent agents)")
    fams.add_column("seat 1 \\ seat 2")
    labels = result.table["families"]
    for label in labels:
        fams.add_column(label)
    for r, label in enumerate(labels):
        fams.add_row(label, *(f"{result.table['values'][0][r][c]:.3f}, "
                              f"{result.table['values'][1][r][c]:.3f} "
                              f"({result.table['score'][r][c]:.2f} "
                              f"{_ci_short(result.table['score_ci'][r][c])})"
                              for c in range(len(labels))))
    console.print(fams)
    b = result.bound
    if b["checked"]:
        console.print(f"Appendix E bound (1): held in {b['held']} of {b['checked']} cells")
    if result.meta:
        sol = result.meta["solution"]
        console.print(f"meta-game of norms ({result.meta['solver']}, "
                      f"{result.meta['concept']}): status {sol['status']}, values "
                      f"{sol['values'][0]:.3f}, {sol['values'][1]:.3f}")
        for p, marg in enumerate(sol["marginals"]):
            shown = ", ".join(f"{labels[k]} {m:.3f}" for k, m in enumerate(marg) if m > 1e-9)
            console.print(f"  principal {p + 1} deploys: {shown}")
    if plot:
        console.print(f"plot: {plot}")
