"""Pictures of solutions: joint heatmaps, support bar charts, solver comparisons.

matplotlib (Agg backend) is imported only when a plot is drawn. Files are
written atomically; the format follows the suffix (``.png``, ``.pdf``, ``.svg``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from spielplatz.display.figures import pyplot, save_figure

__all__ = ["plot_solution", "plot_comparison", "solution_figure", "comparison_figure",
           "MIN_PROBABILITY"]

#: Okabe-Ito colours (colour-blind safe), as in the MaxEnt CE tutorial's figure.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"]


#: Probabilities below this are not drawn as bars of their own; their total is one
#: "rest" bar when it reaches the threshold, else only counted in the axis label.
MIN_PROBABILITY = 1e-3


def _profile_labels(action_names: Sequence[Sequence[str]], shape: Sequence[int]) -> list[str]:
    """``"(A, x, L)"``: each player's action name, in player order."""
    return ["(" + ", ".join(str(action_names[p][i]) for p, i in enumerate(idx)) + ")"
            for idx in np.ndindex(*shape)]


def _players_line(player_names: Sequence[str]) -> str:
    """``"players: P1, P2, P3"``: the order of the names in each bar's label."""
    return "players: " + ", ".join(map(str, player_names))


def _rest_note(count: int, mass: str, threshold: float, shown_rest: bool,
               noun: str = "joint action") -> str:
    """What the bars leave out: ``mass`` is the rest's probability, formatted."""
    if not count:
        return ""
    which = noun + ("s" if count != 1 else "")
    if shown_rest:
        return f"rest: {count} more {which} (p < {threshold:g} or beyond the bars shown)"
    return f"not shown: {count} more {which}, together p = {mass}"


def _annotate(ax: Any, bars: Any, values: Sequence[float], threshold: float) -> None:
    """Each bar's probability just past its end (bars under ``threshold`` stay blank)."""
    for bar, value in zip(bars, values):
        if value >= threshold:
            ax.annotate(f"{value:.3g}", (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        xytext=(2, 0), textcoords="offset points", va="center", fontsize=7)


def solution_figure(solution: Any, max_bars: int = 40,
                    threshold: float = MIN_PROBABILITY) -> Any:
    """The matplotlib Figure of :func:`plot_solution` (not saved)."""
    plt = pyplot()
    joint = np.asarray(solution.joint)
    title = (f"{solution.game}: {solution.concept.upper()} by "
             f"{getattr(solution, 'solver', '') or 'given joint'} "
             f"(gap {solution.gap:.1e}, H = {solution.entropy:.3f} nats)")
    if joint.ndim == 2 and max(joint.shape) <= 24:
        fig, ax = plt.subplots(figsize=(max(4.0, 1.6 + 0.8 * joint.shape[1]),
                                        max(3.0, 1.2 + 0.6 * joint.shape[0])))
        im = ax.imshow(joint, cmap="viridis", vmin=0, vmax=max(joint.max(), 1e-12))
        ax.set_xticks(range(joint.shape[1]), solution.action_names[1], rotation=45, ha="right")
        ax.set_yticks(range(joint.shape[0]), solution.action_names[0])
        ax.set_xlabel(solution.player_names[1])
        ax.set_ylabel(solution.player_names[0])
        for (i, j), p in np.ndenumerate(joint):
            if joint.size <= 144:
                ax.text(j, i, f"{p:.3f}", ha="center", va="center",
                        color="white" if p < 0.6 * joint.max() else "black", fontsize=8)
        fig.colorbar(im, ax=ax, label="probability")
    else:
        # Horizontal bars, largest on top: long joint-action names stay level and apart.
        flat = joint.reshape(-1)
        labels = _profile_labels(solution.action_names, joint.shape)
        order = [int(i) for i in np.argsort(-flat, kind="stable") if flat[i] >= threshold]
        order = order[:max_bars]
        rest_count = flat.size - len(order)
        rest_mass = float(max(flat.sum() - flat[order].sum(), 0.0))
        # A rest bar larger than the bars shown would squash them: then it is a note.
        show_rest = rest_count > 0 and threshold <= rest_mass <= flat[order].max(initial=1.0)
        values = [float(flat[i]) for i in order] + ([rest_mass] if show_rest else [])
        names = [labels[i] for i in order] + ([f"rest ({rest_count})"] if show_rest else [])
        rows = max(len(values), 1)
        longest = max((len(n) for n in names), default=4)
        fig, ax = plt.subplots(figsize=(min(14.0, 4.5 + 0.065 * longest),
                                        max(2.6, 1.6 + 0.26 * rows)))
        colors = [OKABE_ITO[4]] * len(order) + ([OKABE_ITO[7]] if show_rest else [])
        y = np.arange(len(values))
        bars = ax.barh(y, values, color=colors, height=0.7)
        ax.set_yticks(y, names, fontsize=8)
        ax.set_ylim(len(values) - 0.5, -0.5)                 # largest first, on top
        top = max(values, default=1.0)
        ax.set_xlim(0, top * 1.15)                           # autoscaled, room for the numbers
        _annotate(ax, bars, values, threshold)
        ax.set_xlabel("probability")
        ax.set_ylabel("joint action")
        note = _rest_note(rest_count, f"{rest_mass:.3g}", threshold, show_rest)
        ax.set_title(_players_line(solution.player_names) + (f"\n{note}" if note else ""),
                     fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_solution(solution: Any, path: str | Path, max_bars: int = 40,
                  threshold: float = MIN_PROBABILITY) -> Path:
    """Heatmap of the joint for two players, bar chart of its support otherwise.

    Support bars are labelled with each player's action name in player order
    (``"(A, x, L)"``; the axis label lists the players); joint actions under
    ``threshold`` are summed in one "rest" bar (or, when that is below the
    threshold too, only counted in the title). See :func:`solution_figure`.
    """
    return save_figure(solution_figure(solution, max_bars, threshold), path)


def comparison_figure(solutions: Sequence[Any], labels: Sequence[str],
                      max_profiles: int = 32, threshold: float = MIN_PROBABILITY) -> Any:
    """The matplotlib Figure of :func:`plot_comparison` (not saved)."""
    plt = pyplot()
    first = solutions[0]
    joints = np.stack([np.asarray(s.joint).reshape(-1) for s in solutions])
    names = _profile_labels(first.action_names, np.asarray(first.joint).shape)
    peak = joints.max(axis=0)
    profiles = [int(i) for i in np.argsort(-peak, kind="stable") if peak[i] >= threshold]
    profiles = profiles[:max_profiles]
    if joints.shape[1] <= 8:
        profiles = sorted(profiles)                          # small games: the table's order
    rest_count = joints.shape[1] - len(profiles)
    rest = np.clip(joints.sum(axis=1) - joints[:, profiles].sum(axis=1), 0.0, None)
    shown_top = float(joints[:, profiles].max(initial=0.0))
    show_rest = rest_count > 0 and threshold <= rest.max() <= max(shown_top, threshold)
    rows = [joints[:, i] for i in profiles] + ([rest] if show_rest else [])
    row_names = [names[i] for i in profiles] + ([f"rest ({rest_count})"] if show_rest else [])
    values = np.array(rows).reshape(len(rows), len(solutions))   # [profile, solver]
    k = len(solutions)
    height = 0.8 / k
    longest = max((len(n) for n in row_names), default=4)
    fig, ax = plt.subplots(figsize=(min(16.0, 5.5 + 0.065 * longest),
                                    max(2.8, 1.6 + 0.15 * len(rows) * max(k, 2))))
    y = np.arange(len(rows))
    for s, label in enumerate(labels):
        bars = ax.barh(y - 0.4 + height * (s + 0.5), values[:, s], height=height, label=label,
                       color=OKABE_ITO[s % len(OKABE_ITO)], alpha=0.9)
        if len(rows) * k <= 80:
            _annotate(ax, bars, values[:, s], threshold)
    ax.set_yticks(y, row_names, fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    top = float(values.max()) if values.size else 1.0
    ax.set_xlim(0, max(top, 1e-12) * 1.15)                 # autoscaled, not fixed to [0, 1]
    ax.set_xlabel("probability")
    ax.set_ylabel("action profile")
    ax.legend(title="solver", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    note = _rest_note(rest_count, ", ".join(f"{lab} {r:.3g}" for lab, r in zip(labels, rest)),
                      threshold, show_rest, "profile")
    ax.set_title(f"{first.game}: {first.concept.upper()} by solver\n"
                 + _players_line(first.player_names) + (f"\n{note}" if note else ""),
                 fontsize=9)
    fig.tight_layout()
    return fig


def plot_comparison(solutions: Sequence[Any], labels: Sequence[str], path: str | Path,
                    max_profiles: int = 32, threshold: float = MIN_PROBABILITY) -> Path:
    """Probability of each action profile, one bar per solver (the tutorial's figure).

    Profiles are those any solution gives at least ``threshold``, largest first
    (every such profile, in table order, for games of at most 8 profiles); the
    rest of the mass is one "rest" bar per solver. The probability axis is
    autoscaled. See :func:`comparison_figure`.
    """
    return save_figure(comparison_figure(solutions, labels, max_profiles, threshold), path)
