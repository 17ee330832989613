"""Solving commands: ``solve``, ``compare`` and ``check``."""

from __future__ import annotations

from typing import Any

import click

from spielplatz.cli.common import (CONCEPT_CHOICE, echo_json, load_normal_form, make_console,
                                   option_value, parse_options)
from spielplatz.errors import SpielplatzError


@click.command()
@click.argument("game")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--concept", type=click.Choice(["ce", "cce", "both"], case_sensitive=False),
              default="both", show_default=True, help="Equilibrium concept to check.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(game: str, file: str, concept: str, as_json: bool) -> None:
    """Measure the joint distribution in FILE (JSON or CSV) on GAME.

    Prints its CE/CCE gaps, per-player values, welfare, entropy and
    mutual information / total correlation.
    """
    from spielplatz.games.joint_files import read_joint_file
    from spielplatz.results import evaluate

    from spielplatz.equilibria.certificate import certify

    g = load_normal_form(game)
    joint = read_joint_file(file, g)
    concepts = ["ce", "cce"] if concept == "both" else [concept.lower()]
    evaluations = [evaluate(g, joint, c) for c in concepts]
    certificates = [certify(g.payoffs, joint, c) for c in concepts]
    if as_json:
        dicts = [dict(e.to_dict(), certificate=c.to_dict())
                 for e, c in zip(evaluations, certificates)]
        echo_json(dicts[0] if len(dicts) == 1 else dict(zip(concepts, dicts)))
        return
    from spielplatz.display.tables import evaluation_summary, joint_table

    console = make_console()
    console.print(f"[bold]{g.name}[/]: joint distribution from {file}")
    console.print(joint_table(joint, g.player_names, g.action_names))
    for ev, cert in zip(evaluations, certificates):
        # the same rigorous test as the solvers' "optimal": gap within 1e-8 of the range
        verdict = ("[green]is an exact " if cert.certified else "[yellow]is not an exact ") \
            + ev.concept.upper() + "[/]" + f" (gap tolerance {cert.tolerance:.3g})"
        console.print(f"{ev.concept.upper()}: {verdict}")
        console.print(evaluation_summary(ev))


def _solver_specs(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``"a,b(key=value)"`` -> [(label, name, options), ...]."""
    from spielplatz.games.gamestring import _split_top_level, parse_game_string

    specs = []
    for part in _split_top_level(text, text, keep_empty=True, what="--solvers") \
            if text.strip() else []:
        if not part:
            raise SpielplatzError(f"--solvers {text!r} has an empty entry (two commas, or a "
                                  f"comma at the start or end)")
        name, options = parse_game_string(part, what="solver spec")
        for key, value in options.items():        # per-player lists, as in -o weights=1;2
            if isinstance(value, str) and ";" in value and "(" not in value:
                options[key] = option_value(value)
                if options[key] is None:
                    raise SpielplatzError(f"--solvers: option {key}={value!r} of {name} has "
                                          f"an empty value")
        specs.append((part, name, options))
    if not specs:
        raise SpielplatzError("no solvers given; `spielplatz solvers` lists them")
    return specs


def _print_solution(console: Any, sol: Any) -> None:
    from spielplatz.display.tables import evaluation_summary, joint_table

    approx = "" if sol.status == "optimal" else f"  [yellow]({sol.status})[/]"
    console.print(f"[bold]{sol.game}[/]: {sol.concept.upper()} by {sol.solver}{approx}")
    console.print(joint_table(sol.joint, sol.player_names, sol.action_names, threshold=1e-12))
    console.print(evaluation_summary(sol))


@click.command()
@click.argument("game")
@click.option("--solver", default=None,
              help="A registered solver (see `spielplatz solvers`); by default the "
                   "installed default solver.")
@click.option("--concept", type=CONCEPT_CHOICE, default="ce", show_default=True,
              help="Correlated (ce) or coarse correlated (cce) equilibrium.")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Solver option, repeatable (e.g. -o objective=egalitarian, "
                   "-o weights=1;2). `spielplatz solvers` lists each solver's options.")
@click.option("--json", "as_json", is_flag=True, help="Print the solution as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write a picture of the joint (heatmap for 2 players, else its support).")
def solve(game: str, solver: str, concept: str, options: tuple[str, ...], as_json: bool,
          plot: str | None) -> None:
    """Solve GAME for a (coarse) correlated equilibrium."""
    from spielplatz.api import solve as api_solve

    if plot is not None:
        from spielplatz.display.figures import check_plot_path

        check_plot_path(plot)                   # folder and format checked before the solve
    g = load_normal_form(game)
    sol = api_solve(g, solver=solver, concept=concept.lower(), **parse_options(options))
    if plot:
        from spielplatz.display.solution_plots import plot_solution

        plot_solution(sol, plot)
    if as_json:
        echo_json(sol.to_dict())
    else:
        console = make_console()
        _print_solution(console, sol)
        if plot:
            console.print(f"[dim]plot written to {plot}[/]")
    _exit_if_failed([sol])


@click.command()
@click.argument("game")
@click.option("--solvers", "solvers_text", default=None,
              help="Comma-separated solvers, each with optional options, e.g. "
                   "'a,b(key=value)', per-player lists as 'weights=1;2'; by default every "
                   "installed exact solver.")
@click.option("--concept", type=CONCEPT_CHOICE, default="ce", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write the probability of each action profile, one bar per solver.")
def compare(game: str, solvers_text: str, concept: str, as_json: bool, plot: str | None) -> None:
    """Solve GAME with several solvers and show the answers side by side."""
    from spielplatz.api import solve as api_solve

    if plot is not None:
        from spielplatz.display.figures import check_plot_path

        check_plot_path(plot)                   # folder and format checked before the solves
    g = load_normal_form(game)
    if solvers_text is None:
        from spielplatz.api import exact_solvers

        solvers_text = ",".join(exact_solvers())
    specs = _solver_specs(solvers_text)
    solutions = [api_solve(g, solver=name, concept=concept.lower(), **opts)
                 for _, name, opts in specs]
    labels = _unique_labels([label for label, _, _ in specs])
    if plot:
        from spielplatz.display.solution_plots import plot_comparison

        plot_comparison(solutions, labels, plot)
    if as_json:
        echo_json({label: s.to_dict() for label, s in zip(labels, solutions)})
    else:
        from spielplatz.display.tables import comparison_table

        console = make_console()
        console.print(comparison_table(solutions, labels))
        if plot:
            console.print(f"[dim]plot written to {plot}[/]")
    _exit_if_failed(solutions)


def _unique_labels(labels: list[str]) -> list[str]:
    """``a,a`` -> ``a``, ``a #2`` (JSON keys and table columns stay distinct)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def _exit_if_failed(solutions: list) -> None:
    """A ``failed`` or ``infeasible`` answer is printed (it says what went wrong), its
    reason goes to stderr as one line, and the command exits with status 1."""
    failed = [s for s in solutions if s.status in ("failed", "infeasible")]
    for s in failed:
        why = s.extra.get("message") or "no answer within tolerance"
        verb = "failed" if s.status == "failed" else "found the problem infeasible"
        click.echo(f"Error: solver {s.solver!r} {verb} on {s.game}: {why}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


COMMANDS = (solve, compare, check,)
