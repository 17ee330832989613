"""The D3C figure of ``spielplatz learn --plot``, in the style of the paper's Figures 3,
5, 6 and 7 (the ``runs_figure`` the ``d3c``, ``gd`` and ``coop`` learners declare).

:func:`runs_figure` imports matplotlib (Agg backend) when called and draws one
figure with the host's :mod:`spielplatz.display.plots` helpers; the host's
:func:`spielplatz.display.plots.plot_runs` saves it (atomically):

* one row of panels for one or more
  :class:`~spielplatz.Run` objects on the same game: performance over
  training (ratio to optimal, else total loss / return; median line, mean
  +-1 std shaded, as in Figures 2b, 3, 5 and 7 left), each agent's loss or
  return, and the relative reward attention ``ln(A_ii / A_ij)`` (Figures 6
  left and 7 right).
"""

from __future__ import annotations

from typing import Any, Sequence

from spielplatz.display.plots import band as _band
from spielplatz.display.plots import legend_below as _legend_below

__all__ = ["runs_figure"]


#: Okabe-Ito colours (colour-blind safe): one per agent in the per-agent panels.
AGENT_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
                "#F0E442"]
#: One line style per learner in the per-agent panels.
LEARNER_STYLES = ["-", "--", ":", "-."]
#: At most this many agents get a curve of their own in the per-agent panels.
MAX_AGENTS = 8


def _performance(run: Any) -> tuple[str, Any]:
    m = run.metrics
    for key, label in (("ratio_to_optimal", "ratio to optimal (total / optimal total)"),
                       ("total_loss", "total loss"), ("total_return", "total return"),
                       ("total_reward", "total reward per step (Figure 8a)")):
        if key in m:
            return label, m[key]
    raise ValueError(f"run of {run.learner!r} has no performance metric")


def runs_figure(runs: Sequence[Any], *, title: str | None = None,
                optimum: float | None = None) -> Any:
    """The matplotlib Figure of :func:`plot_runs` (not saved)."""
    import numpy as np

    from spielplatz.display.figures import pyplot

    runs = list(runs)
    if not runs:
        raise ValueError("nothing to plot: no runs")
    plt = pyplot()
    with_attention = [r for r in runs if "attention" in r.metrics]
    with_coins = [r for r in runs if "own_coin_rate" in r.metrics]
    panels = 2 + bool(with_attention) + bool(with_coins)
    fig, axes = plt.subplots(1, panels, figsize=(5.0 * panels, 4.4), squeeze=False)
    axes = axes[0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    many = len(runs) > 1
    styles = LEARNER_STYLES

    def agent_label(run: Any, i: int) -> str:
        return f"{run.learner}: agent {i}" if many else f"agent {i}"

    # (a) performance, as in Figures 2b/3/5/7-left: one colour per learner
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
    _legend_below(ax, ncol=min(len(runs), 4))

    # (b) each agent's loss / return (median over runs), as in Figure 6-right:
    # one colour per agent, one line style per learner
    ax = axes[1]
    key = next((k for k in ("losses", "returns", "return") if k in runs[-1].metrics),
               "returns")
    for k, run in enumerate(runs):
        if key not in run.metrics:
            continue
        per_agent = np.median(np.asarray(run.metrics[key], dtype=float), axis=0)  # [R, n]
        n = per_agent.shape[1]
        for i in range(min(n, MAX_AGENTS)):
            ax.plot(run.steps, per_agent[:, i], color=AGENT_COLORS[i % len(AGENT_COLORS)],
                    ls=styles[k % len(styles)], lw=1.3, label=agent_label(run, i))
    ax.set_xlabel("training step")
    ax.set_ylabel(f"each agent's {'loss' if key == 'losses' else 'return'} (median)")
    ax.set_title("median over runs" + (" (first 8 agents)" if any(
        np.asarray(r.metrics.get(key, np.zeros((1, 1, 0)))).shape[-1] > MAX_AGENTS
        for r in runs) else ""), fontsize=9)
    _legend_below(ax, ncol=4)

    # (c) relative reward attention ln(A_ii / A_ij), as in Figures 6-left / 7-right;
    # one colour per agent, bands edged and light so that overlapping ones stay apart
    if with_attention:
        ax = axes[2]
        for run in with_attention:
            att = np.asarray(run.metrics["attention"], dtype=float)      # [S, R, n, n]
            n = att.shape[-1]
            off = ~np.eye(n, dtype=bool)
            per_agent = att[..., off].reshape(att.shape[:2] + (n, n - 1)).mean(-1)  # [S,R,n]
            ls = styles[runs.index(run) % len(styles)]
            shown = min(n, MAX_AGENTS)
            for i in range(shown):
                _band(ax, run.steps, per_agent[:, :, i], agent_label(run, i),
                      AGENT_COLORS[i % len(AGENT_COLORS)], ls=ls,
                      alpha=max(0.06, 0.2 / max(shown, 1) ** 0.5))
        ax.axhline(0.0, color="0.4", ls="--", lw=1)
        ax.set_xlabel("training step")
        ax.set_ylabel("relative reward attention ln(A_ii / A_ij)")
        ax.set_title("median, mean ±1 std; > 0 selfish, < 0 other-regarding", fontsize=9)
        _legend_below(ax, ncol=4)

    # (d) the share of coins taken that were the taker's own colour (Figure 8d)
    if with_coins:
        ax = axes[-1]
        for k, run in enumerate(with_coins):
            share = np.array(run.metrics["own_coin_rate"], dtype=float)          # [S, R]
            for row in share:                 # windows without an episode end: carry on
                for r in range(1, len(row)):
                    if np.isnan(row[r]):
                        row[r] = row[r - 1]
            _band(ax, run.steps, share, run.learner, colors[runs.index(run) % len(colors)])
        ax.axhline(0.5, color="0.4", ls="--", lw=1)
        ax.set_xlabel("training step")
        ax.set_ylabel("own-colour share of coins taken (Figure 8d)")
        ax.set_title("median, mean ±1 std over runs", fontsize=9)
        _legend_below(ax, ncol=min(len(with_coins), 4))

    seeds = len(runs[0].seeds)
    fig.suptitle(title or f"{runs[0].game}: {seeds} run{'s' if seeds != 1 else ''}",
                 fontsize=11)
    fig.tight_layout()
    return fig
