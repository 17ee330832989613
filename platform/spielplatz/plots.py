"""Plots of learner runs, in the style of the D3C paper's Figures 3, 5, 6 and 7.

Each function is self-contained: it imports matplotlib (Agg backend) when
called, draws one figure and writes it atomically (temporary file, then
rename). Nothing here is imported by the command line's listing commands.

* :func:`plot_runs` - one row of panels for one or more
  :class:`~spielplatz.Run` objects on the same game: performance over
  training (ratio to optimal, else total loss / return; median line, mean
  +-1 std shaded, as in Figures 2b, 3, 5 and 7 left), each agent's loss or
  return, and the relative reward attention ``ln(A_ii / A_ij)`` (Figures 6
  left and 7 right).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

__all__ = ["plot_runs", "PLOT_FORMATS"]

PLOT_FORMATS = ("png", "pdf", "svg")


def _band(ax: Any, x: Any, values: Any, label: str, color: Any) -> None:
    """Median line, mean +-1 std shading over seeds (axis 0)."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    median = np.median(values, axis=0)
    mean, std = values.mean(axis=0), values.std(axis=0)
    ax.plot(x, median, color=color, label=label, lw=1.6)
    if values.shape[0] > 1:
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, lw=0)


def _performance(run: Any) -> tuple[str, Any]:
    m = run.metrics
    for key, label in (("ratio_to_optimal", "ratio to optimal (total / optimal total)"),
                       ("total_loss", "total loss"), ("total_return", "total return")):
        if key in m:
            return label, m[key]
    raise ValueError(f"run of {run.learner!r} has no performance metric")


def plot_runs(runs: Sequence[Any], path: str | Path, *, title: str | None = None,
              optimum: float | None = None) -> Path:
    """Draw ``runs`` (same game) and save the figure to ``path``.

    Parameters
    ----------
    runs : sequence of spielplatz.Run
        E.g. the ``gd`` and ``d3c`` runs of one game, over the same seeds.
    path : str or Path
        ``.png``, ``.pdf`` or ``.svg``.
    title : str, optional
        Defaults to the game's name and the number of seeds.
    optimum : float, optional
        Draw a dashed reference line at this performance value (1 for ratios).

    Returns
    -------
    Path
        The file written.
    """
    import numpy as np

    from .figures import pyplot, save_figure

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise ValueError(f"plot file {str(path)!r} must end in "
                         + ", ".join("." + f for f in PLOT_FORMATS))
    runs = list(runs)
    if not runs:
        raise ValueError("nothing to plot: no runs")
    plt = pyplot()
    with_attention = [r for r in runs if "attention" in r.metrics]
    panels = 3 if with_attention else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.0 * panels, 3.8), squeeze=False)
    axes = axes[0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    # (a) performance, as in Figures 2b/3/5/7-left
    ax = axes[0]
    label = ""
    for k, run in enumerate(runs):
        label, values = _performance(run)
        _band(ax, run.steps, values, run.learner, colors[k % len(colors)])
    if optimum is None and label.startswith("ratio"):
        optimum = 1.0
    if optimum is not None:
        ax.axhline(optimum, color="0.4", ls="--", lw=1)
    ax.set_xlabel("training step")
    ax.set_ylabel(label)
    ax.set_title("median, mean ±1 std over runs", fontsize=9)
    ax.legend(fontsize=8)

    # (b) each agent's loss / return (median over runs), as in Figure 6-right
    ax = axes[1]
    key = "losses" if "losses" in runs[-1].metrics else "returns"
    styles = ["-", "--", ":", "-."]
    for k, run in enumerate(runs):
        if key not in run.metrics:
            continue
        per_agent = np.median(np.asarray(run.metrics[key], dtype=float), axis=0)  # [R, n]
        n = per_agent.shape[1]
        for i in range(n):
            ax.plot(run.steps, per_agent[:, i], color=colors[k % len(colors)],
                    ls=styles[i % len(styles)], lw=1.1,
                    label=f"{run.learner}: agent {i}" if n <= 4 or i == 0 else None)
    ax.set_xlabel("training step")
    ax.set_ylabel(f"each agent's {'loss' if key == 'losses' else 'return'} (median)")
    ax.legend(fontsize=7, ncol=2)

    # (c) relative reward attention ln(A_ii / A_ij), as in Figures 6-left / 7-right
    if with_attention:
        ax = axes[2]
        for k, run in enumerate(with_attention):
            att = np.asarray(run.metrics["attention"], dtype=float)      # [S, R, n, n]
            n = att.shape[-1]
            off = ~np.eye(n, dtype=bool)
            per_agent = att[..., off].reshape(att.shape[:2] + (n, n - 1)).mean(-1)  # [S,R,n]
            color = colors[runs.index(run) % len(colors)]
            for i in range(min(n, 4)):
                _band(ax, run.steps, per_agent[:, :, i],
                      f"{run.learner}: agent {i}" if n <= 4 or i == 0 else None, color)
                ax.lines[-1].set_linestyle(styles[i % len(styles)])
        ax.axhline(0.0, color="0.4", ls="--", lw=1)
        ax.set_xlabel("training step")
        ax.set_ylabel("relative reward attention ln(A_ii / A_ij)")
        ax.set_title("> 0 selfish, < 0 other-regarding", fontsize=9)
        ax.legend(fontsize=7)

    seeds = len(runs[0].seeds)
    fig.suptitle(title or f"{runs[0].game}: {seeds} run{'s' if seeds != 1 else ''}",
                 fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120, bbox_inches=None)
