"""The ``spielplatz`` command line (click).

Built-in commands are defined here; plugins add theirs through the
``register_commands(cli)`` hook, called at the end of this module. Errors that
are the user's to fix print one line on stderr and exit with status 1;
``--debug`` shows the traceback instead.

Listing commands (``--help``, ``plugins``, ``games``, ``solvers``,
``learners``) import neither numpy nor jax, so they start fast.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import click

from . import __version__
from .errors import SpielplatzError
from .plugins import get_host

CONCEPT_CHOICE = click.Choice(["ce", "cce"], case_sensitive=False)


def _console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 120)


def _echo_json(data: Any) -> None:
    """Print strict JSON (non-finite numbers as ``null``, :func:`~spielplatz.results.to_json`)."""
    from .results import to_json

    click.echo(to_json(data))


def _show_warning(message: Any, category: Any, filename: str, lineno: int,
                  file: Any = None, line: Any = None) -> None:
    """Spielplatz's own warnings as one stderr line; others as Python prints them."""
    from .errors import SolverWarning

    if issubclass(category, SolverWarning):
        click.echo(f"spielplatz: warning: {message}", err=True)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


def _warn_plugin_problems() -> None:
    for line in get_host().warnings():
        click.echo(f"spielplatz: warning: {line}", err=True)


class SpielplatzGroup(click.Group):
    """A click group that turns :class:`SpielplatzError` into one line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place errors become messages
            debug_env = os.environ.get("SPIELPLATZ_DEBUG", "").strip().lower()
            if ctx.params.get("debug") or debug_env not in ("", "0", "false", "no", "off"):
                raise
            if isinstance(exc, SpielplatzError):
                message = str(exc)
            elif isinstance(exc, OSError):
                message = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
            else:
                message = (f"internal error: {type(exc).__name__}: {exc} "
                           f"(rerun with --debug for the traceback)")
            click.echo(f"Error: {message.splitlines()[0] if message else type(exc).__name__}",
                       err=True)
            ctx.exit(1)


@click.group(cls=SpielplatzGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="spielplatz")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Spielplatz: (coarse) correlated equilibria and multi-agent learning on OpenSpiel.

    GAME is a registered name with optional OpenSpiel-style parameters
    (chicken, blotto(coins=4,fields=3), kuhn_poker) or a .nfg/.json file.
    """
    warnings.showwarning = _show_warning
    _warn_plugin_problems()


# -- listings -----------------------------------------------------------------

@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List loaded plugins, what each registered, and plugins that failed."""
    host = get_host()
    if as_json:
        _echo_json(host.to_dict())
        return
    from .display import listing_table

    rows = []
    for info in host.plugins.values():
        registered = "; ".join(f"{k}: {', '.join(sorted(v))}"
                               for k, v in sorted(info.registered.items()) if v)
        rows.append((info.name, info.version or "", info.distribution or "(host)",
                     registered or "-"))
    console = _console()
    console.print(listing_table("plugins", ["name", "version", "distribution", "registered"],
                                rows))
    if host.failures:
        console.print(listing_table("failed plugins (skipped)",
                                    ["name", "distribution", "stage", "error"],
                                    [(f.name, f.distribution or "", f.stage, f.error)
                                     for f in host.failures]))


@cli.command()
@click.option("--all", "show_all", is_flag=True,
              help="Also list every name of catalogs such as the pyspiel games.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def games(show_all: bool, as_json: bool) -> None:
    """List registered games (and, with --all, every pyspiel game)."""
    registry = get_host().registry("game")
    catalogs = registry.catalogs()
    if as_json:
        data = {"games": [e.to_dict() for e in registry.entries()],
                "catalogs": [dict(c.to_dict(), **({"names": c.list_names()} if show_all else {}))
                             for c in catalogs]}
        _echo_json(data)
        return
    from .display import listing_table

    console = _console()
    rows = [(e.name, e.plugin, e.description) for e in registry.entries()]
    console.print(listing_table("games", ["name", "plugin", "description"], rows))
    for c in catalogs:
        if show_all:
            names = c.list_names()
            console.print(f"[bold]{c.name}[/] ({c.plugin}): {c.description}; {len(names)} games:")
            console.print(", ".join(names), soft_wrap=False)
        else:
            console.print(f"[bold]{c.name}[/] ({c.plugin}): {c.description} "
                          f"(spielplatz games --all lists them)")


def _listing(kind: str, as_json: bool, columns: tuple[str, ...], meta_keys: tuple[str, ...]) -> None:
    registry = get_host().registry(kind)
    if as_json:
        _echo_json([e.to_dict() for e in registry.entries()])
        return
    if not len(registry):
        click.echo(f"no {kind}s installed")
        return
    from .display import listing_table

    def cell(value: Any) -> str:
        if isinstance(value, (list, tuple, dict)):
            return ", ".join(map(str, value))   # a dict shows its keys
        return "" if value is None else str(value)

    rows = [(e.name, e.plugin, *(cell(e.meta.get(k)) for k in meta_keys), e.description)
            for e in registry.entries()]
    _console().print(listing_table(f"{kind}s", ["name", "plugin", *columns, "description"], rows))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def solvers(as_json: bool) -> None:
    """List installed (C)CE solvers."""
    _listing("solver", as_json, ("concepts", "exact", "options (-o KEY=VALUE)"),
             ("concepts", "exact", "options"))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def learners(as_json: bool) -> None:
    """List installed learners."""
    _listing("learner", as_json, ("games",), ("game_kinds",))


@cli.command(name="welfare-functions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def welfare_functions(as_json: bool) -> None:
    """List installed welfare functions."""
    _listing("welfare", as_json, (), ())


# -- games ----------------------------------------------------------------------

def _load_normal_form(spec: str) -> Any:
    from .validation import normal_form_game

    return normal_form_game(spec, "this command")


@cli.command()
@click.argument("game")
@click.option("--all", "show_all", is_flag=True, help="Show every row, column and slice.")
@click.option("--json", "as_json", is_flag=True, help="Print the game as JSON.")
@click.option("--nfg", "as_nfg", is_flag=True, help="Print the game as Gambit .nfg text.")
def show(game: str, show_all: bool, as_json: bool, as_nfg: bool) -> None:
    """Print the payoff table of GAME."""
    g = _load_normal_form(game)
    if as_json:
        _echo_json(g.to_dict())
        return
    if as_nfg:
        click.echo(g.to_nfg(), nl=False)
        return
    from .display import payoff_table

    console = _console()
    sizes = " x ".join(str(a) for a in g.shape)
    console.print(f"[bold]{g.name}[/]: {g.num_players}-player normal form, {sizes} pure strategies"
                  + (f" - {g.description}" if g.description and g.description != g.name else ""))
    console.print(payoff_table(g, max_actions=None if show_all else 12, width=console.width))
    if not show_all and max(g.shape) > 12:
        console.print("[dim](large game truncated; --all shows everything, --json the "
                      "full payoffs)[/]")


@cli.command()
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
    from .files import read_joint_file
    from .results import evaluate

    from .certificate import certify

    g = _load_normal_form(game)
    joint = read_joint_file(file, g)
    concepts = ["ce", "cce"] if concept == "both" else [concept.lower()]
    evaluations = [evaluate(g, joint, c) for c in concepts]
    certificates = [certify(g.payoffs, joint, c) for c in concepts]
    if as_json:
        dicts = [dict(e.to_dict(), certificate=c.to_dict())
                 for e, c in zip(evaluations, certificates)]
        _echo_json(dicts[0] if len(dicts) == 1 else dict(zip(concepts, dicts)))
        return
    from .display import evaluation_summary, joint_table

    console = _console()
    console.print(f"[bold]{g.name}[/]: joint distribution from {file}")
    console.print(joint_table(joint, g.player_names, g.action_names))
    for ev, cert in zip(evaluations, certificates):
        # the same rigorous test as the solvers' "optimal": gap within 1e-8 of the range
        verdict = ("[green]is an exact " if cert.certified else "[yellow]is not an exact ") \
            + ev.concept.upper() + "[/]" + f" (gap tolerance {cert.tolerance:.3g})"
        console.print(f"{ev.concept.upper()}: {verdict}")
        console.print(evaluation_summary(ev))

# -- solving --------------------------------------------------------------------

def parse_options(items: tuple[str, ...]) -> dict[str, Any]:
    """``-o key=value`` pairs of any command; values typed like game-string parameters
    (numbers, booleans, ``a;b`` lists). A malformed pair, an empty value (``mu=``,
    ``a;;b``) or a key given twice is a usage error (exit 2). Each solver or learner
    checks the names and types of its options (:mod:`spielplatz.validation`)."""
    from .gamestring import _value

    hint = "'-o' / '--option'"
    options: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key, value = key.strip().replace("-", "_"), value.strip()
        if not eq or not key:
            raise click.BadParameter(f"{item!r} is not of the form key=value", param_hint=hint)
        parts = [v.strip() for v in value.split(";")]
        if not all(parts):
            raise click.BadParameter(f"{item!r} has an empty value", param_hint=hint)
        if key in options:
            raise click.BadParameter(f"option {key!r} is given twice", param_hint=hint)
        options[key] = [_value(v) for v in parts] if len(parts) > 1 else _value(value)
    return options


def _solver_specs(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``"maxent,welfare(objective=egalitarian)"`` -> [(label, name, options), ...]."""
    from .gamestring import _split_top_level, parse_game_string

    specs = []
    for part in _split_top_level(text, text, keep_empty=True) if text.strip() else []:
        if not part:
            raise SpielplatzError(f"--solvers {text!r} has an empty entry (two commas, or a "
                                  f"comma at the start or end)")
        name, options = parse_game_string(part)
        specs.append((part, name, options))
    if not specs:
        raise SpielplatzError("no solvers given; e.g. --solvers maxent,welfare")
    return specs


def _print_solution(console: Any, sol: Any) -> None:
    from .display import evaluation_summary, joint_table

    approx = "" if sol.status == "optimal" else f"  [yellow]({sol.status})[/]"
    console.print(f"[bold]{sol.game}[/]: {sol.concept.upper()} by {sol.solver}{approx}")
    console.print(joint_table(sol.joint, sol.player_names, sol.action_names, threshold=1e-12))
    console.print(evaluation_summary(sol))


@cli.command()
@click.argument("game")
@click.option("--solver", default="maxent", show_default=True,
              help="A registered solver (see `spielplatz solvers`).")
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
    from .api import solve as api_solve

    if plot:
        from .figures import check_plot_path

        check_plot_path(plot)                   # folder and format checked before the solve
    g = _load_normal_form(game)
    sol = api_solve(g, solver=solver, concept=concept.lower(), **parse_options(options))
    if plot:
        from .solution_plots import plot_solution

        plot_solution(sol, plot)
    if as_json:
        _echo_json(sol.to_dict())
    else:
        console = _console()
        _print_solution(console, sol)
        if plot:
            console.print(f"[dim]plot written to {plot}[/]")
    _exit_if_failed([sol])


@cli.command()
@click.argument("game")
@click.option("--solvers", "solvers_text", default="maxent,welfare", show_default=True,
              help="Comma-separated solvers, each with optional options: "
                   "maxent,welfare(objective=egalitarian).")
@click.option("--concept", type=CONCEPT_CHOICE, default="ce", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Write the probability of each action profile, one bar per solver.")
def compare(game: str, solvers_text: str, concept: str, as_json: bool, plot: str | None) -> None:
    """Solve GAME with several solvers and show the answers side by side."""
    from .api import solve as api_solve

    if plot:
        from .figures import check_plot_path

        check_plot_path(plot)                   # folder and format checked before the solves
    g = _load_normal_form(game)
    specs = _solver_specs(solvers_text)
    solutions = [api_solve(g, solver=name, concept=concept.lower(), **opts)
                 for _, name, opts in specs]
    labels = _unique_labels([label for label, _, _ in specs])
    if plot:
        from .solution_plots import plot_comparison

        plot_comparison(solutions, labels, plot)
    if as_json:
        _echo_json({label: s.to_dict() for label, s in zip(labels, solutions)})
    else:
        from .display import comparison_table

        console = _console()
        console.print(comparison_table(solutions, labels))
        if plot:
            console.print(f"[dim]plot written to {plot}[/]")
    _exit_if_failed(solutions)


def _unique_labels(labels: list[str]) -> list[str]:
    """``maxent,maxent`` -> ``maxent``, ``maxent #2`` (JSON keys and table columns stay distinct)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def _exit_if_failed(solutions: list) -> None:
    """A ``failed`` answer is printed (it says what went wrong) and exits with status 1."""
    failed = [s for s in solutions if s.status == "failed"]
    for s in failed:
        why = s.extra.get("message") or "no answer within tolerance"
        click.echo(f"Error: solver {s.solver!r} failed on {s.game}: {why}", err=True)
    if failed:
        raise click.exceptions.Exit(1)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="spielplatz")


from .cli_learn import learn_command  # noqa: E402  (cheap: jax loads inside the command)

cli.add_command(learn_command)

# Plugins add their commands last, so that a name clash with a built-in command
# is detected (and reported) instead of silently replacing it.
get_host().add_commands(cli)
