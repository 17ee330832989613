"""The ``region`` command: payoff regions of 2-player games."""

from __future__ import annotations

import click

from spielplatz.cli.common import echo_json, load_normal_form, make_console

__all__ = ["region_command"]


@click.command("region")
@click.argument("game")
@click.option("--concept", type=click.Choice(["feasible", "ce", "cce"], case_sensitive=False),
              default="feasible", show_default=True,
              help="Also compute the payoff region of the correlated (ce) or coarse "
                   "correlated (cce) equilibria; the feasible set is always shown.")
@click.option("--json", "as_json", is_flag=True, help="Print the regions as JSON.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Draw the feasible set, the equilibrium region, their Pareto "
                   "frontiers and the pure profiles.")
def region_command(game: str, concept: str, as_json: bool, plot: str | None) -> None:
    """Payoff regions of a 2-player GAME: feasible set, CE/CCE region, Pareto frontiers.

    The feasible set is the convex hull of the pure profiles' payoffs; the CE/CCE
    region is the set of payoff pairs of the (coarse) correlated equilibria, with
    exact vertices (LPs along the outward normal of every edge), each attained by
    the joint distribution shown.
    """
    from spielplatz.equilibria.regions import equilibrium_region, feasible_region

    concept = concept.lower()
    if plot is not None:
        from spielplatz.display.figures import check_plot_path

        check_plot_path(plot)                   # folder and format checked before the LPs
    g = load_normal_form(game)
    regions = [feasible_region(g)]
    if concept != "feasible":
        regions.append(equilibrium_region(g, concept))
    if plot:
        from spielplatz.display.regions import plot_regions

        plot_regions(g, regions[0], regions[1] if len(regions) > 1 else None, plot)
    if as_json:
        echo_json({"game": g.name, "players": list(g.player_names),
                   "regions": {r.concept: r.to_dict() for r in regions}})
        return
    from spielplatz.display.regions import region_table

    console = make_console()
    for r in regions:
        console.print(region_table(r))
    if plot:
        console.print(f"[dim]plot written to {plot}[/]")
