"""Pictures of solutions: joint heatmaps, support bar charts, solver comparisons.

matplotlib (Agg backend) is imported only when a plot is drawn. Files are
written atomically; the format follows the suffix (``.png``, ``.pdf``, ``.svg``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .figures import pyplot, save_figure

__all__ = ["plot_solution", "plot_comparison"]

#: Okabe-Ito colours (colour-blind safe), as in the MaxEnt CE tutorial's figure.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#000000"]


def _profile_labels(action_names: Sequence[Sequence[str]], shape: Sequence[int]) -> list[str]:
    return ["(" + ",".join(action_names[p][i] for p, i in enumerate(idx)) + ")"
            for idx in np.ndindex(*shape)]


def plot_solution(solution: Any, path: str | Path, max_bars: int = 40) -> Path:
    """Heatmap of the joint for two players, bar chart of its support otherwise."""
    plt = pyplot()
    joint = np.asarray(solution.joint)
    title = (f"{solution.game}: {solution.concept.upper()} by "
             f"{getattr(solution, 'solver', '') or 'given joint'} "
             f"(gap {solution.gap:.1e}, H = {solution.entropy:.3f} nats)")
    if joint.ndim == 2 and max(joint.shape) <= 24:
        fig, ax = plt.subplots(figsize=(1.2 + 0.7 * joint.shape[1], 1.0 + 0.6 * joint.shape[0]))
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
        flat = joint.reshape(-1)
        labels = _profile_labels(solution.action_names, joint.shape)
        order = [i for i in np.argsort(-flat) if flat[i] > 1e-12][:max_bars]
        fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(order) + 1.5), 3.5))
        ax.bar(range(len(order)), flat[order], color=OKABE_ITO[4])
        ax.set_xticks(range(len(order)), [labels[i] for i in order], rotation=60, ha="right",
                      fontsize=8)
        ax.set_ylabel("probability")
        ax.set_xlabel("joint action (support, largest first)")
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def plot_comparison(solutions: Sequence[Any], labels: Sequence[str], path: str | Path,
                    max_profiles: int = 32) -> Path:
    """Probability of each action profile, one bar per criterion (the tutorial's figure).

    Profiles are every joint action for small games, else those with the most
    probability under any of the solutions.
    """
    plt = pyplot()
    first = solutions[0]
    joints = np.stack([np.asarray(s.joint).reshape(-1) for s in solutions])
    names = _profile_labels(first.action_names, np.asarray(first.joint).shape)
    if joints.shape[1] <= max_profiles:
        profiles = list(range(joints.shape[1]))
    else:
        profiles = sorted(np.argsort(-joints.max(axis=0))[:max_profiles])
    k = len(solutions)
    width = 0.8 / k
    longest = max(len(names[i]) for i in profiles)
    fig_width = min(18.0, max(5.0, 0.45 * len(profiles) * max(k, 2) / 2 + 2,
                              0.085 * longest * len(profiles) + 1.5))
    # Labels stay level when they fit side by side, else they are slanted.
    level = 0.085 * longest * len(profiles) + 1.5 <= fig_width and len(profiles) <= 8
    fig, ax = plt.subplots(figsize=(fig_width, 3.8))
    x = np.arange(len(profiles))
    for s, label in enumerate(labels):
        ax.bar(x - 0.4 + width * (s + 0.5), joints[s, profiles], width=width, label=label,
               color=OKABE_ITO[s % len(OKABE_ITO)], alpha=0.85)
    ax.set_xticks(x, [names[i] for i in profiles], rotation=0 if level else 40,
                  ha="center" if level else "right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.set_xlabel("action profile")
    ax.legend(title="criterion", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"{first.game}: {first.concept.upper()} by criterion", fontsize=10)
    return save_figure(fig, path)
