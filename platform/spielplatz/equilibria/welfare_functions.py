"""Welfare functions the host provides (registered like any plugin's).

Each maps per-player values ``[..., N]`` (numpy or jax) to welfare ``[...]``.
"""

from __future__ import annotations

from spielplatz.plugins.hookspecs import hookimpl


def utilitarian(values):
    """Sum of the players' values."""
    return values.sum(axis=-1)


def egalitarian(values):
    """Value of the worst-off player (Rawlsian max-min welfare)."""
    return values.min(axis=-1)


def nash(values):
    """Product of the players' values (Nash welfare; meaningful for positive values)."""
    return values.prod(axis=-1)


@hookimpl
def register_welfare_functions(register):
    register("utilitarian", utilitarian, description="sum of the players' values")
    register("egalitarian", egalitarian, description="value of the worst-off player")
    register("nash", nash, description="product of the players' values (positive values)")
