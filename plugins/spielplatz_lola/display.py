"""What ``spielplatz learn`` shows for the LOLA family: the average reward per step of
each player, each memory-one state's probability of the first action (cooperation in
the IPD), and the figure (learning curves, final payoff profiles over the feasible set)."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["LolaDisplay"]


def _kept(run: Any) -> Any:
    import numpy as np

    return ~np.asarray(run.diverged_mask, dtype=bool)


def state_policies(run: Any, statistic: str = "median") -> dict:
    """``{"states": [...], "players": [[P(first action | state) ...], ...]}`` at the end,
    the median (or mean) over the seeds that did not diverge."""
    import numpy as np

    keep = _kept(run)
    out = []
    if "policy_1" not in run.metrics:           # network policies (an environment)
        return {"states": [], "players": []}
    for key in ("policy_1", "policy_2"):
        probs = np.asarray(run.metrics[key])[keep, -1, :, 0]          # [seeds, S]
        if not probs.size:
            out.append([None] * np.asarray(run.metrics[key]).shape[2])
            continue
        out.append((np.median(probs, axis=0) if statistic == "median"
                    else probs.mean(axis=0)).tolist())
    return {"states": list(run.final.get("states", [])), "players": out}


class LolaDisplay:
    """Mixin of the LOLA family's learners: what ``learn`` prints, saves and draws."""

    headline_metrics = ("reward_1", "reward_2", "own_coin_rate")

    def table_columns(self, run: Any) -> dict[str, str]:
        """Who played which seat (``lola / naive`` when paired with a naive opponent)."""
        return {"players": " / ".join(run.config.get("players", [run.learner] * 2))}

    def report_lines(self, run: Any) -> list[str]:
        """Each state's probability of the first action per player (median over seeds)."""
        table = state_policies(run)
        states = table["states"]
        if not states:
            return []
        width = max(len(s) for s in states) + 2
        lines = [f"{run.learner}: P(first action | state), median over seeds"]
        lines.append("  " + "state".ljust(width) + "player 1  player 2")
        for i, s in enumerate(states):
            cells = ["   -    " if p[i] is None else f"{p[i]:8.3f}" for p in table["players"]]
            lines.append("  " + s.ljust(width) + "  ".join(cells))
        return ["\n".join(lines)]

    def json_summary(self, run: Any) -> dict[str, Any]:
        return {"state_policies": state_policies(run)}

    def divergence_criterion(self, run: Any) -> str:
        return "a non-finite reward or policy"

    def runs_figure(self, runs: Sequence[Any], *, title: str | None = None) -> Any:
        if any("policy_1" not in r.metrics for r in runs):     # an environment's run
            from spielplatz.display.plots import runs_figure as learning_curves

            return learning_curves(runs, title=title)
        from .plots import runs_figure

        return runs_figure(runs, title=title)
