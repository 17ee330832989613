"""Payoff regions for people: the table of ``spielplatz region`` and its ``--plot``.

The picture shows the feasible set (light fill), the CE / CCE region (darker
fill), their Pareto frontiers (lines) and the pure profiles as labelled points.
matplotlib (Agg backend) is imported only when a plot is drawn; files are written
atomically (:func:`spielplatz.display.figures.save_figure`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spielplatz.display.figures import pyplot, save_figure
from spielplatz.display.solution_plots import OKABE_ITO
from spielplatz.display.tables import format_number

__all__ = ["region_table", "regions_figure", "plot_regions", "MAX_LABELS"]

#: Pure-profile points beyond this many are drawn without labels.
MAX_LABELS = 24


def _title(region: Any) -> str:
    if region.concept == "feasible":
        return "Feasible set"
    return f"{region.concept.upper()} region"


def _point(p: Any) -> str:
    return f"({format_number(p[0])}, {format_number(p[1])})"


def _support_text(joint: np.ndarray, action_names: Any, limit: int = 4) -> str:
    """``"(Swerve, Straight) 0.25, ..."``: the joint's largest entries."""
    flat = joint.reshape(-1)
    order = [i for i in np.argsort(-flat, kind="stable") if flat[i] > 1e-12]
    parts = []
    for i in order[:limit]:
        idx = np.unravel_index(i, joint.shape)
        names = ", ".join(str(action_names[p][a]) for p, a in enumerate(idx))
        parts.append(f"({names}) {format_number(flat[i], 4)}")
    if len(order) > limit:
        parts.append(f"… +{len(order) - limit}")
    return ", ".join(parts)


def region_table(region: Any) -> Any:
    """A rich Table of the region's vertices (counter-clockwise), marking the Pareto ones."""
    from rich.table import Table

    shape = {"point": "a point", "segment": "a segment",
             "polygon": f"{len(region.vertices)} vertices"}[region.kind]
    table = Table(title=f"{_title(region)} of {region.game}: {shape}"
                        + (f", area {format_number(region.area)}" if region.kind == "polygon"
                           else ""), title_justify="left")
    for column in ("#", *region.player_names, "Pareto", "attained by"):
        table.add_column(column, justify="right" if column != "attained by" else "left")
    pareto = {tuple(p) for p in region.pareto.tolist()}
    for k, vertex in enumerate(region.vertices):
        joint = "" if region.joints is None else _support_text(region.joints[k],
                                                               region.action_names)
        table.add_row(str(k + 1), format_number(vertex[0]), format_number(vertex[1]),
                      "yes" if tuple(vertex.tolist()) in pareto else "", joint)
    table.caption = "Pareto frontier: " + " – ".join(_point(p) for p in region.pareto)
    table.caption_justify = "left"
    return table


def _draw(ax: Any, region: Any, color: str, alpha: float, label: str) -> None:
    """A region as a filled polygon, a thick segment or a dot."""
    v = region.vertices
    if region.kind == "polygon":
        ax.fill(v[:, 0], v[:, 1], color=color, alpha=alpha, lw=0, label=label)
        closed = np.vstack([v, v[:1]])
        ax.plot(closed[:, 0], closed[:, 1], color=color, lw=1.0)
    elif region.kind == "segment":
        ax.plot(v[:, 0], v[:, 1], color=color, alpha=max(alpha, 0.6), lw=5,
                solid_capstyle="round", label=label)
    else:
        ax.plot(v[:, 0], v[:, 1], "o", color=color, ms=11, alpha=max(alpha, 0.6), label=label)


def _profile_labels(game: Any) -> dict[tuple[float, float], list[str]]:
    """Payoff point -> labels ``"(a_1, a_2)"`` of the pure profiles that give it."""
    groups: dict[tuple[float, float], list[str]] = {}
    for idx in np.ndindex(*game.shape):
        point = (float(game.payoffs[(0, *idx)]), float(game.payoffs[(1, *idx)]))
        names = ", ".join(str(game.action_names[p][a]) for p, a in enumerate(idx))
        groups.setdefault(point, []).append(f"({names})")
    return groups


def regions_figure(game: Any, feasible: Any, equilibrium: Any = None,
                   max_labels: int = MAX_LABELS) -> Any:
    """The matplotlib Figure of :func:`plot_regions` (not saved)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 5.0))
    _draw(ax, feasible, "#9E9E9E", 0.25, "feasible set")
    ax.plot(feasible.pareto[:, 0], feasible.pareto[:, 1], color=OKABE_ITO[5], lw=4.5,
            alpha=0.7, zorder=3, marker="o" if len(feasible.pareto) == 1 else None,
            label="Pareto frontier (feasible)")       # wide: a frontier drawn on it shows
    if equilibrium is not None:
        name = equilibrium.concept.upper()
        _draw(ax, equilibrium, OKABE_ITO[4], 0.55, f"{name} region")
        ax.plot(equilibrium.pareto[:, 0], equilibrium.pareto[:, 1], color=OKABE_ITO[7],
                lw=1.6, ls="--", zorder=4, marker="o" if len(equilibrium.pareto) == 1 else None,
                label=f"Pareto frontier ({name})")
    groups = _profile_labels(game)
    points = np.array(list(groups))
    ax.plot(points[:, 0], points[:, 1], "o", color=OKABE_ITO[7], ms=4, zorder=5,
            label="pure profiles")
    if len(groups) <= max_labels:
        for (x, y), labels in groups.items():
            text = "\n".join(labels[:3]) + (f"\n+{len(labels) - 3} more" if len(labels) > 3
                                             else "")
            ax.annotate(text, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7,
                        va="bottom")
    ax.set_xlabel(f"{game.player_names[0]} payoff")
    ax.set_ylabel(f"{game.player_names[1]} payoff")
    ax.margins(0.12)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"{game.name}: payoff regions", fontsize=9)
    fig.tight_layout()
    return fig


def plot_regions(game: Any, feasible: Any, equilibrium: Any, path: str | Path,
                 max_labels: int = MAX_LABELS) -> Path:
    """Draw the feasible set, an optional CE / CCE region (``None``: none), their Pareto
    frontiers and the pure profiles (labelled when at most ``max_labels`` distinct
    points) to ``path``; see :func:`regions_figure`."""
    return save_figure(regions_figure(game, feasible, equilibrium, max_labels), path)
