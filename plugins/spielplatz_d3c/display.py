"""What ``spielplatz learn`` shows for the ``d3c``, ``gd`` and ``coop`` learners.

:class:`LearnDisplay` holds the members a learner declares for the host's
``learn`` command (see "What `learn` shows" in ``docs/plugins.md``): the
headline metrics, the self-attention column, the final mixing matrix (table
and ``--json``), the divergence criterion and the D3C figure
(:mod:`spielplatz_d3c.plots`).
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["LearnDisplay"]

ATTENTION = "self-attention ln(A_ii/A_ij)"


def _kept(run: Any) -> Any:
    import numpy as np

    return ~np.asarray(run.diverged_mask, dtype=bool)


def _final_mixing(run: Any) -> Any:
    """Mean final mixing matrix over the seeds that did not diverge (``None`` if none)."""
    import numpy as np

    mixing = run.metrics.get("mixing")
    kept = _kept(run)
    if mixing is None or not kept.any():
        return None
    return np.asarray(mixing)[kept, -1].mean(axis=0)


class LearnDisplay:
    """Mixin of the D3C family's learner classes: what ``learn`` prints and draws."""

    #: The ``learn`` table's metric columns (those a run recorded); the D3C figure's
    #: performance panel draws the first of the first three that is present.
    headline_metrics = ("ratio_to_optimal", "total_loss", "total_return", "strategy_error")

    def table_columns(self, run: Any) -> dict[str, str]:
        """The mean final off-diagonal ``ln(A_ii / A_ij)`` over non-diverged seeds."""
        import numpy as np

        att = run.metrics.get("attention")
        if att is None:
            return {ATTENTION: "-"}
        a = np.asarray(att)[_kept(run), -1]
        n = a.shape[-1]
        off = a[:, ~np.eye(n, dtype=bool)]
        return {ATTENTION: f"{off.mean():.3g}" if off.size else "-"}

    def report_lines(self, run: Any) -> list[str]:
        """The mean final mixing matrix of a ``d3c`` run (the baselines' is fixed)."""
        mixing = _final_mixing(run)
        if mixing is None or run.config.get("mode") != "d3c":
            return []
        rows = "\n".join("  [" + "  ".join(f"{x:.3f}" for x in row) + "]" for row in mixing)
        over = "seeds" if _kept(run).all() else "seeds that did not diverge"
        return [f"{run.learner}: final mixing matrix A (mean over {over}):\n{rows}"]

    def json_summary(self, run: Any) -> dict[str, Any]:
        """``{"mixing": mean final mixing matrix (or None)}`` for ``learn --json``."""
        mixing = _final_mixing(run)
        return {"mixing": None if mixing is None else mixing.tolist()}

    def divergence_criterion(self, run: Any) -> str:
        """When a seed counts as diverged (option ``divergence``)."""
        config = run.config
        if "divergence" not in config:
            return "not checked"
        bound = config["divergence"]
        if bound is None:
            return "a non-finite loss or return"
        return f"a non-finite loss or |f_i| > {bound:g} x max(1, max_j |f_j| at step 0)"

    def runs_figure(self, runs: Sequence[Any], *, title: str | None = None) -> Any:
        """The D3C figure (:func:`spielplatz_d3c.plots.runs_figure`)."""
        from .plots import runs_figure

        return runs_figure(runs, title=title)
