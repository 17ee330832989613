"""Plots of learner runs: ``spielplatz learn --plot`` and :func:`plot_runs`.

A learner may draw its own figure (its ``runs_figure(runs, *, title=None)``
method, see ``docs/plugins.md``); otherwise the host draws the generic
learning curves of :func:`runs_figure`: one panel per headline metric, the
median over runs as a line and mean ±1 std shaded, one colour per learner.

Each function imports matplotlib (Agg backend) when called; files are written
atomically (:func:`spielplatz.display.figures.save_figure`). :func:`band` and
:func:`legend_below` are the building blocks, for learners' own figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

__all__ = ["plot_runs", "runs_figure", "band", "legend_below", "headline_metrics",
           "learner_figure", "PLOT_FORMATS", "MAX_PANELS"]

#: The usual formats; any format of :func:`spielplatz.display.figures.plot_formats` is written.
PLOT_FORMATS = ("png", "pdf", "svg")

#: The generic figure draws at most this many metrics (the first headline metrics).
MAX_PANELS = 6


def band(ax: Any, x: Any, values: Any, label: str | None, color: Any, ls: str = "-",
         alpha: float = 0.2) -> None:
    """Median line and mean ±1 std shading (edged in the line's colour) of ``values``
    ``[runs, len(x)]`` over runs (axis 0), on the matplotlib axes ``ax``."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    median = np.median(values, axis=0)
    mean, std = values.mean(axis=0), values.std(axis=0)
    ax.plot(x, median, color=color, label=label, lw=1.6, ls=ls)
    if values.shape[0] > 1:
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=alpha, lw=0)
        for edge in (mean - std, mean + std):                # where each band ends
            ax.plot(x, edge, color=color, lw=0.6, alpha=0.6, ls=ls)


def legend_below(ax: Any, ncol: int = 2) -> None:
    """The legend of ``ax`` under the panel, outside the data area (if it has labels)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, ncol=ncol, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  frameon=False)


def _scalar_metrics(run: Any) -> list[str]:
    import numpy as np

    return sorted(k for k, v in run.metrics.items() if np.ndim(v) == 2)


def headline_metrics(runs: Sequence[Any], declared: Sequence[Any] = ()) -> list[str]:
    """The metrics to show for ``runs``: each learner's declared ``headline_metrics``
    (``declared[i]`` for ``runs[i]``, ``None`` or missing: not declared) in order,
    without repeats, kept where some run recorded them; a run whose learner declares
    none contributes every scalar metric (``[seeds, records]``), sorted by name."""
    names: list[str] = []
    for i, run in enumerate(runs):
        wanted = declared[i] if i < len(declared) else None
        for key in (_scalar_metrics(run) if wanted is None else wanted):
            if key not in names and any(key in r.metrics for r in runs):
                names.append(key)
    return names


def runs_figure(runs: Sequence[Any], *, title: str | None = None,
                metrics: Sequence[str] | None = None) -> Any:
    """The generic figure of ``runs`` (one game, any learners), not saved.

    One panel per metric (``metrics``, default :func:`headline_metrics` of the runs;
    at most :data:`MAX_PANELS`) against the training step: per learner, the median
    over runs as a line and mean ±1 std shaded.
    """
    import numpy as np

    from spielplatz.display.figures import pyplot

    runs = list(runs)
    if not runs:
        raise ValueError("nothing to plot: no runs")
    names = list(metrics) if metrics is not None else headline_metrics(runs)
    names = [k for k in names if any(np.ndim(r.metrics.get(k)) == 2 for r in runs)]
    if not names:
        from spielplatz.errors import SpielplatzError

        class NothingToPlot(SpielplatzError, ValueError):
            pass

        learners = ", ".join(sorted({r.learner for r in runs}))
        raise NothingToPlot(f"nothing to plot: the runs of {learners} record no scalar "
                            f"metric (an array [seeds, records]) and the learner draws no "
                            f"figure of its own")
    names = names[:MAX_PANELS]
    plt = pyplot()
    cols = min(len(names), 3)
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.0 * cols, 4.4 * rows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, key in zip(axes.flat, names):
        for k, run in enumerate(runs):
            if np.ndim(run.metrics.get(key)) == 2:
                band(ax, run.steps, run.metrics[key], run.learner, colors[k % len(colors)])
        ax.set_xlabel("training step")
        ax.set_ylabel(key.replace("_", " "))
        ax.set_title("median, mean ±1 std over runs", fontsize=9)
        legend_below(ax, ncol=min(len(runs), 4))
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    seeds = len(runs[0].seeds)
    fig.suptitle(title or f"{runs[0].game}: {seeds} run{'s' if seeds != 1 else ''}",
                 fontsize=11)
    fig.tight_layout()
    return fig


def learner_figure(learners: Sequence[Any]) -> Any:
    """The ``runs_figure`` method the learner objects share, or ``None`` (none declared,
    or different learners declare different ones: then the generic figure is drawn)."""
    found = [getattr(obj, "runs_figure", None) for obj in learners]
    if not found or any(f is None or not callable(f) for f in found):
        return None
    if len({getattr(f, "__func__", f) for f in found}) != 1:
        return None
    return found[0]


def plot_runs(runs: Sequence[Any], path: str | Path, *, title: str | None = None,
              learners: Sequence[Any] | None = None) -> Path:
    """Draw ``runs`` (one game) and save the figure to ``path``.

    Parameters
    ----------
    runs : sequence of spielplatz.Run
        E.g. the runs of two learners on one game, over the same seeds.
    path : str or Path
        A format matplotlib writes (``.png``, ``.pdf``, ``.svg``, ...); the folder must exist.
    title : str, optional
        Defaults to the game's name and the number of seeds.
    learners : sequence of learner objects, optional
        The learners that made ``runs``; default: looked up by ``run.learner``.
        When they share a ``runs_figure`` method, it draws the figure; otherwise
        the generic :func:`runs_figure` does, with their declared
        ``headline_metrics``.

    Returns
    -------
    Path
        The file written.
    """
    from spielplatz.display.figures import check_plot_path, save_figure

    path = check_plot_path(path, "plot file")
    runs = list(runs)
    if learners is None:
        learners = _lookup(runs)
    own = learner_figure(learners) if learners else None
    if own is not None:
        fig = own(runs, title=title)
    else:
        declared = [getattr(obj, "headline_metrics", None) for obj in learners or ()]
        fig = runs_figure(runs, title=title, metrics=headline_metrics(runs, declared))
    return save_figure(fig, path, dpi=120)


def _lookup(runs: Sequence[Any]) -> list[Any]:
    """The registered learner object of each run (empty if one is not installed)."""
    from spielplatz.api import get_learner
    from spielplatz.errors import SpielplatzError

    try:
        return [get_learner(r.learner) for r in runs]
    except SpielplatzError:
        return []
