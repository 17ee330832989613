"""An example third-party Spielplatz plugin.

It registers

* a game, ``example_stag_hunt``: a 2x2 stag hunt (actions Stag, Hare), and
* a command, ``spielplatz example-hello``, which prints how many games are
  registered.

Registration is cheap: this module imports only ``spielplatz`` (itself cheap)
and ``click``; numpy is imported inside the game's loader, i.e. only when the
game is used.
"""

from __future__ import annotations

from spielplatz import hookimpl

__all__ = ["stag_hunt", "register_games", "register_commands"]


def stag_hunt(stag: float = 4.0, hare: float = 3.0):
    """The stag hunt: hunting stag together pays ``stag``, hare always pays ``hare``.

    Parameters
    ----------
    stag : float
        Payoff to each hunter when both hunt stag (must exceed ``hare``).
    hare : float
        Payoff for hunting hare, whatever the other does.

    Returns
    -------
    spielplatz.NormalFormGame
        Rows: player 1 (Stag, Hare); columns: player 2 (Stag, Hare); a lone
        stag hunter gets 0.
    """
    from spielplatz import NormalFormGame

    if not stag > hare > 0:
        raise ValueError(f"a stag hunt needs stag > hare > 0, got stag={stag}, hare={hare}")
    row = [[stag, 0.0], [hare, hare]]
    col = [[stag, hare], [0.0, hare]]
    return NormalFormGame.from_bimatrix(
        row, col, name="example_stag_hunt",
        player_names=("Hunter 1", "Hunter 2"),
        action_names=(("Stag", "Hare"), ("Stag", "Hare")),
        description="stag hunt from the example plugin")


@hookimpl
def register_games(register):
    # A "module:attr" string keeps registration import-free; a callable works too.
    register("example_stag_hunt", "spielplatz_example:stag_hunt",
             description="2x2 stag hunt (Stag, Hare) from the example plugin",
             parameters={"stag": 4.0, "hare": 3.0}, tags=("example", "matrix"))


@hookimpl
def register_commands(cli):
    import click

    @cli.command(name="example-hello")
    @click.option("--name", default="world", show_default=True, help="Whom to greet.")
    def example_hello(name: str) -> None:
        """Greet NAME and count the registered games (example plugin)."""
        from spielplatz import get_host

        count = len(get_host().registry("game"))
        click.echo(f"Hello, {name}! {count} games are registered.")
