"""The ``spielplatz`` command line (click): listing, solving, checking and
learning commands; plugins add theirs through ``register_commands``.
"""

from spielplatz.cli.main import cli, main

__all__ = ["cli", "main"]
