"""The LOLA family's figure (normative disagreement, Figure 4 style).

Left: each player's average reward per step over training (median line, mean +-1 std),
one colour per learner. Right: the final payoff profile of every seed over the set of
feasible payoffs of the stage game (the convex hull of its pure payoff profiles, shaded),
with a little jitter so that seeds on the same point stay visible.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["runs_figure"]


def _feasible_hull(ax: Any, game: Any) -> None:
    import numpy as np
    from scipy.spatial import ConvexHull, QhullError

    points = np.asarray(game.payoffs, dtype=float).reshape(2, -1).T
    try:
        hull = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):                 # collinear or too few points
        hull = points
    ax.fill(hull[:, 0], hull[:, 1], color="#7e57c2", alpha=0.18, lw=0,
            label="feasible payoffs")
    ax.plot(points[:, 0], points[:, 1], "o", color="#7e57c2", ms=3, alpha=0.6)


def runs_figure(runs: Sequence[Any], *, title: str | None = None) -> Any:
    """The figure of ``runs`` of one iterated game (not saved)."""
    import numpy as np

    from spielplatz.display.figures import pyplot
    from spielplatz.display.plots import band, legend_below

    plt = pyplot()
    fig, (curves, profiles) = plt.subplots(1, 2, figsize=(10, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    game = None
    try:
        import spielplatz as sp

        game = sp.load_game(runs[0].game)
    except Exception:                                  # noqa: BLE001 - the hull is optional
        game = None
    rng = np.random.default_rng(0)
    for i, run in enumerate(runs):
        keep = ~np.asarray(run.diverged_mask, dtype=bool)
        color = colors[i % len(colors)]
        for player, ls in (("reward_1", "-"), ("reward_2", "--")):
            band(curves, run.steps, np.asarray(run.metrics[player])[keep],
                 f"{run.learner}, player {player[-1]}", color, ls=ls)
        final = np.stack([np.asarray(run.metrics["reward_1"])[keep, -1],
                          np.asarray(run.metrics["reward_2"])[keep, -1]], axis=1)
        spread = 0.01 * max(float(np.ptp(final)) if final.size else 0.0, 1.0)
        jitter = rng.normal(scale=spread, size=final.shape)
        profiles.scatter(final[:, 0] + jitter[:, 0], final[:, 1] + jitter[:, 1], s=14,
                         color=color, alpha=0.7, label=f"{run.learner} ({len(final)} seeds)")
    if game is not None and hasattr(game, "payoffs"):
        _feasible_hull(profiles, game)
    curves.set_xlabel("training step")
    curves.set_ylabel("average reward per step")
    profiles.set_xlabel("player 1 average reward per step")
    profiles.set_ylabel("player 2 average reward per step")
    profiles.set_title("final payoff profiles", fontsize=9)
    legend_below(curves)
    legend_below(profiles)
    fig.suptitle(title or runs[0].game)
    fig.tight_layout()
    return fig
