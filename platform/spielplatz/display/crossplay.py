"""Figures of a cross-play: payoff profiles over the feasible set and the family heatmap.

Normative disagreement, Figures 4, 5 and 8: each cell's average payoffs as a point over
the feasible payoffs (the convex hull of the pure profiles, shaded), self-play and the
two kinds of cross-play marked, the welfare optima as stars; next to it the mean
NormalizedScore of each pair of families (row: seat 1, column: seat 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spielplatz.display.figures import pyplot, save_figure
from spielplatz.equilibria.regions import convex_hull

__all__ = ["crossplay_figure", "plot_crossplay"]

_STYLE = {"self-play": ("o", "tab:blue"), "same welfare": ("s", "tab:green"),
          "different welfare": ("x", "tab:red")}


def crossplay_figure(result: Any, payoffs: Any, *, jitter: float = 0.0, seed: int = 0) -> Any:
    """The two-panel figure of a :class:`~spielplatz.learning.crossplay.CrossPlay`
    (``payoffs`` None for an environment: the hull of the observed profiles is shaded)."""
    plt = pyplot()
    fig, (ax, heat) = plt.subplots(1, 2, figsize=(11.5, 4.8),
                                   gridspec_kw={"width_ratios": [1.1, 1]})
    if payoffs is not None:
        points = np.asarray(payoffs, dtype=float).reshape(2, -1).T
        label = "feasible"
    else:                   # an environment: the hull of what was observed, so labelled
        points = np.array([c["values"] for c in result.cells] + [result.disagreement])
        label = "hull of observed profiles"
    hull = convex_hull(points)
    if len(hull) >= 3:
        ax.fill(hull[:, 0], hull[:, 1], color="tab:purple", alpha=0.15, label=label)
    if payoffs is not None:
        ax.scatter(points[:, 0], points[:, 1], color="tab:purple", s=14, zorder=2)
    rng = np.random.default_rng(seed)
    span = float(np.ptp(points)) or 1.0
    for kind, (marker, color) in _STYLE.items():
        cells = [c for c in result.cells if c["kind"] == kind and c.get("scored", True)]
        if not cells:
            continue
        v = np.array([c["values"] for c in cells])
        v = v + jitter * span * rng.standard_normal(v.shape)
        ax.scatter(v[:, 0], v[:, 1], marker=marker, color=color, alpha=0.6, zorder=3,
                   label=f"{kind} ({len(cells)})")
    for name, opt in result.optima.items():
        ax.scatter(*opt["value"], marker="*", s=160, edgecolor="k", zorder=4,
                   label=f"max {name}")
    ax.scatter(*result.disagreement, marker="D", color="k", s=30, zorder=4,
               label="disagreement")
    ax.set_xlabel("player 1 average reward per step")
    ax.set_ylabel("player 2 average reward per step")
    ax.set_title(f"{result.game}: payoff profiles")
    ax.legend(fontsize=7, loc="best")
    score = np.asarray(result.table["score"], dtype=float)
    labels = result.table["families"]
    image = heat.imshow(score, vmin=0.0, vmax=1.0, cmap="viridis")
    heat.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
    heat.set_yticks(range(len(labels)), labels, fontsize=7)
    heat.set_xlabel("seat 2")
    heat.set_ylabel("seat 1")
    for (r, c), value in np.ndenumerate(score):
        heat.text(c, r, "-" if np.isnan(value) else f"{value:.2f}", ha="center",
                  va="center", color="w" if value < 0.6 else "k", fontsize=8)
    heat.set_title("mean NormalizedScore")
    fig.colorbar(image, ax=heat, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_crossplay(result: Any, payoffs: Any, path: str | Path, **kwargs: Any) -> Path:
    """Save :func:`crossplay_figure` to ``path`` (format from the suffix)."""
    return save_figure(crossplay_figure(result, payoffs, **kwargs), path)
