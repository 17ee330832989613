"""Listing commands: ``plugins``, ``games``, ``solvers``, ``learners``,
``welfare-functions`` and ``show``. They import neither numpy nor jax (except
``show``, which loads a game), so they start fast."""

from __future__ import annotations

from typing import Any

import click

from spielplatz.cli.common import echo_json, make_console
from spielplatz.errors import SpielplatzError
from spielplatz.plugins.host import get_host


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List loaded plugins, what each registered, and plugins that failed."""
    host = get_host()
    if as_json:
        echo_json(host.to_dict())
        return
    from spielplatz.display.tables import listing_table

    rows = []
    for info in host.plugins.values():
        registered = "; ".join(f"{k}: {', '.join(sorted(v))}"
                               for k, v in sorted(info.registered.items()) if v)
        rows.append((info.name, info.version or "", info.distribution or "(host)",
                     registered or "-"))
    console = make_console()
    console.print(listing_table("plugins", ["name", "version", "distribution", "registered"],
                                rows))
    if host.failures:
        console.print(listing_table("failed plugins (skipped)",
                                    ["name", "distribution", "stage", "error"],
                                    [(f.name, f.distribution or "", f.stage, f.error)
                                     for f in host.failures]))


@click.command()
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
        echo_json(data)
        return
    from spielplatz.display.tables import listing_table

    console = make_console()
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
        echo_json([e.to_dict() for e in registry.entries()])
        return
    if not len(registry):
        click.echo(f"no {kind}s installed")
        return
    from spielplatz.display.tables import listing_table

    def cell(value: Any) -> str:
        if isinstance(value, (list, tuple, dict)):
            return ", ".join(map(str, value))   # a dict shows its keys
        return "" if value is None else str(value)

    rows = [(e.name, e.plugin, *(cell(e.meta.get(k)) for k in meta_keys), e.description)
            for e in registry.entries()]
    make_console().print(listing_table(f"{kind}s", ["name", "plugin", *columns, "description"], rows))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def solvers(as_json: bool) -> None:
    """List installed (C)CE solvers."""
    _listing("solver", as_json, ("concepts", "exact", "options (-o KEY=VALUE)"),
             ("concepts", "exact", "options"))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def learners(as_json: bool) -> None:
    """List installed learners."""
    _listing("learner", as_json, ("games",), ("game_kinds",))


@click.command(name="welfare-functions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def welfare_functions(as_json: bool) -> None:
    """List installed welfare functions (what each is defined on, whether it is
    impartial, which reference points besides the disagreement values it needs)."""
    _listing("welfare", as_json, ("defined on", "impartial", "needs"),
             ("defined_on", "impartial", "needs"))


# -- games ----------------------------------------------------------------------

@click.command()
@click.argument("game")
@click.option("--all", "show_all", is_flag=True, help="Show every row, column and slice.")
@click.option("--json", "as_json", is_flag=True, help="Print the game as JSON.")
@click.option("--nfg", "as_nfg", is_flag=True, help="Print the game as Gambit .nfg text.")
def show(game: str, show_all: bool, as_json: bool, as_nfg: bool) -> None:
    """Print the payoff table of GAME, or the rules of a learner game (Coin Games,
    iterated and differentiable games, environments)."""
    if as_json and as_nfg:
        raise click.UsageError("--json and --nfg are two output formats; give one")
    from spielplatz.api.game_card import describe_game
    from spielplatz.api.games import load_game
    from spielplatz.games.normal_form import NormalFormGame

    g = load_game(game)
    if not isinstance(g, NormalFormGame):
        if as_nfg:
            raise SpielplatzError(f"--nfg needs a normal-form game; {game!r} is a "
                                  f"{type(g).__name__} (spielplatz show {game} prints its rules)")
        card = describe_game(game, g)
        if as_json:
            echo_json(card)
        else:
            _print_card(card, game)
        return
    if as_json:
        echo_json(g.to_dict())
        return
    if as_nfg:
        click.echo(g.to_nfg(), nl=False)
        return
    from spielplatz.display.tables import payoff_table

    console = make_console()
    sizes = " x ".join(str(a) for a in g.shape)
    console.print(f"[bold]{g.name}[/]: {g.num_players}-player normal form, {sizes} pure strategies"
                  + (f" - {g.description}" if g.description and g.description != g.name else ""))
    console.print(payoff_table(g, max_actions=None if show_all else 12, width=console.width))
    if not show_all and max(g.shape) > 12:
        console.print("[dim](large game truncated; --all shows everything, --json the "
                      "full payoffs)[/]")


def _print_card(card: dict, spec: str) -> None:
    """A learner game's rules (:func:`spielplatz.api.game_card.describe_game`) as tables."""
    from rich.markup import escape

    from spielplatz.display.tables import listing_table, payoff_table
    from spielplatz.games.normal_form import NormalFormGame

    console = make_console()
    facts = dict(card.get("facts", {}))
    stage = facts.pop("payoffs", None)
    players = facts.get("num_players")
    head = f"[bold]{escape(card['name'])}[/]: {card['kind']}"
    head += f", {players} players" if players else ""
    if card.get("description"):
        head += f" - {escape(card['description'])}"
    console.print(head)

    def cell(value: Any) -> str:
        if isinstance(value, list):                 # per player: "C, D; C, D"
            sep = "; " if any(isinstance(v, list) for v in value) else ", "
            return sep.join(cell(v) for v in value)
        return f"{value:.6g}" if isinstance(value, float) else str(value)

    parameters = card.get("parameters", {})
    rows = [(k, cell(v)) for k, v in facts.items()
            if k != "num_players" and parameters.get(k, object()) != v]
    rows += [(f"parameter {k}", cell(v)) for k, v in parameters.items()]
    if rows:
        console.print(listing_table("rules", ["", "value"], rows))
    if stage is not None:
        names = facts.get("action_names")
        stage_game = NormalFormGame.from_array(
            stage, name="stage game", **({"action_names": names} if names else {}))
        console.print("stage game (payoffs per round):")
        console.print(payoff_table(stage_game, width=console.width))
    learner = card.get("default_learner")
    console.print(f"[dim]not a payoff table: spielplatz learn {escape(spec)} trains on it"
                  + (f" (default learner: {learner})" if learner else "") + "[/]")


COMMANDS = (plugins, games, solvers, learners, welfare_functions, show,)
