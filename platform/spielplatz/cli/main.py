"""The ``spielplatz`` command line (click).

The group, its error handling and the entry point are here; the built-in
commands live in :mod:`spielplatz.cli.listing`, :mod:`spielplatz.cli.solving` and
:mod:`spielplatz.cli.learn`; plugins add theirs through the
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

from spielplatz import __version__
from spielplatz.errors import SpielplatzError
from spielplatz.cli import crossplay, learn, listing, play, region, solving
from spielplatz.plugins.host import get_host

def _show_warning(message: Any, category: Any, filename: str, lineno: int,
                  file: Any = None, line: Any = None) -> None:
    """Spielplatz's own warnings as one stderr line; others as Python prints them."""
    from spielplatz.errors import SolverWarning

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
        except KeyboardInterrupt:
            click.echo("Aborted (interrupted).", err=True)
            ctx.exit(INTERRUPTED)
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


#: Exit status of a command stopped by Ctrl-C (128 + SIGINT, the shell's convention).
INTERRUPTED = 130


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="spielplatz")
    except SystemExit as exc:
        if exc.code == INTERRUPTED:
            # Leave at once: interpreter finalisation with JAX/XLA threads stopped in the
            # middle of a compilation can crash (a segmentation fault instead of 130).
            # Files are already safe: atomic writes were abandoned while the interrupt
            # unwound; only complete files were renamed into place.
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (AttributeError, OSError, ValueError):    # closed or broken
                    pass
            os._exit(INTERRUPTED)
        raise


for _command in (*listing.COMMANDS, *solving.COMMANDS, learn.learn_command, play.play_command,
                 crossplay.crossplay_command, region.region_command):
    cli.add_command(_command)

# Plugins add their commands last, so that a name clash with a built-in command
# is detected (and reported) instead of silently replacing it.
get_host().add_commands(cli)
