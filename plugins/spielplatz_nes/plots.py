"""Figures of ``spielplatz train-solver``: loss and gap against the training step.

matplotlib loads (Agg backend, through :func:`spielplatz.display.figures.pyplot`) only when
a figure is drawn; files are written atomically by :func:`spielplatz.display.figures.save_figure`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_training", "training_figure"]


def _plain_log_ticks(ax: Any, values: Any) -> None:
    """Log-axis tick labels as plain numbers (``2.5``, not ``2.5 x 10^0``) over short spans."""
    import numpy as np
    from matplotlib.ticker import FuncFormatter, NullFormatter

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and v.max() / v.min() < 100:
        plain = FuncFormatter(lambda y, _: f"{y:.3g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain if v.max() / v.min() < 10 else NullFormatter())


def training_figure(history: list[dict], title: str = "") -> Any:
    """The matplotlib Figure of :func:`plot_training` (not saved)."""
    import numpy as np

    from spielplatz.display.figures import pyplot

    plt = pyplot()
    steps = [h["step"] for h in history]
    loss = np.asarray([h["loss"] for h in history], dtype=float)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(steps, loss, color="C0")
    finite = loss[np.isfinite(loss)]
    if finite.size and (finite > 0).all():
        ax1.set_yscale("log")                     # the loss falls by orders of magnitude
        _plain_log_ticks(ax1, finite)
    elif finite.size:                             # a loss at or below zero: log away from 0
        ax1.set_yscale("symlog", linthresh=max(float(np.abs(finite).min()), 1e-8))
    ax1.set_xlabel("step")
    ax1.set_ylabel("dual loss (Theorems 1-2)")
    ax1.set_title("loss")
    ax2.plot(steps, [h["gap"] for h in history], color="C1", label="network")
    ax2.plot(steps, [h["uniform_gap"] for h in history], color="C7", ls="--", label="uniform joint")
    ax2.set_yscale("log")
    _plain_log_ticks(ax2, [h[k] for h in history for k in ("gap", "uniform_gap")])
    ax2.set_xlabel("step")
    ax2.set_ylabel("mean gap (L2-scaled games)")
    ax2.set_title("gap")
    ax2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_training(history: list[dict], path: str | Path, title: str = "") -> Path:
    """Loss (log scale) and gap (with the uniform joint's gap) against the training step,
    to ``path``; :func:`training_figure` returns the Figure without saving it."""
    from spielplatz.display.figures import save_figure

    return save_figure(training_figure(history, title), path, dpi=110)
