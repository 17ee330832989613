"""Rich renderings of games, distributions and listings for the terminal."""

from __future__ import annotations

import itertools
from typing import Any, Iterable, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

__all__ = ["payoff_table", "joint_table", "evaluation_summary", "listing_table",
           "comparison_table", "format_number"]


def format_number(x: float, digits: int = 6) -> str:
    """Compact number: integers without decimals, others with ``digits`` significant digits."""
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"


def distinguishing_digits(values: Any, digits: int = 4) -> int:
    """Significant digits for :func:`format_number` that show ``values`` to ``digits``
    digits of their range, not of their magnitude (at most 17): payoffs ``1e15 + 1`` and
    ``1e15 + 2`` need 16, where four digits would show both as ``1e+15``; payoffs of
    range about their size keep ``digits``."""
    import numpy as np            # (listing commands import this module without numpy)

    vals = np.asarray(values, dtype=float).ravel()
    vals = vals[np.isfinite(vals)]
    if vals.size < 2:
        return digits
    spread = float(vals.max() - vals.min())
    if spread <= 0:
        return digits
    need = digits + int(np.ceil(np.log10(float(np.abs(vals).max()) / spread)))
    return int(min(max(digits, need), 17))


def _truncate(n: int, limit: int | None) -> list[int | None]:
    """Indices to show, with ``None`` for an ellipsis, when ``n > limit``."""
    if limit is None or n <= limit:
        return list(range(n))
    head = (limit + 1) // 2
    tail = limit - head
    return list(range(head)) + [None] + list(range(n - tail, n))


def _short(label: str, width: int = 24) -> str:
    return label if len(label) <= width else label[:width - 1] + "…"


#: Action names longer than this are shown as ``s<index>`` with a legend.
LONG_NAME = 16


def _labels(names: Sequence[str]) -> tuple[list[str], bool]:
    if max(len(a) for a in names) <= LONG_NAME:
        return list(names), False
    return [f"s{i}" for i in range(len(names))], True


def _legend(player: str, names: Sequence[str], shown: Sequence[int | None]) -> Text:
    lines = [f"{player} s{i} = {names[i]}" for i in shown if i is not None]
    return Text("\n".join(lines), style="dim")


def _fit_columns(cols_idx: list, n_cols: int, cell_width: int, label_width: int,
                 width: int | None) -> list:
    """Fewer columns (keeping both ends) when the table would not fit ``width``."""
    if width is None:
        return cols_idx
    fit = max(2, (width - label_width - 4) // (cell_width + 3))
    return cols_idx if fit >= len(cols_idx) else _truncate(n_cols, fit - 1)


def payoff_table(game: Any, max_actions: int | None = 12, width: int | None = None) -> Group:
    """The game's payoffs: a bimatrix for 2 players, one bimatrix-like slice per
    joint action of players 3..N otherwise. Large games are truncated to
    ``max_actions`` rows/columns (``None``: show all). Long strategy names
    (extensive-form games) are shown as ``s<index>`` with a legend; with
    ``width``, columns are dropped until the table fits."""
    n = game.num_players
    rows_idx = _truncate(game.shape[0], max_actions)
    cols_idx = _truncate(game.shape[1] if n > 1 else 1, max_actions)
    renders = []
    if n == 1:
        table = Table(title=f"{game.name}: payoffs of {game.player_names[0]}")
        table.add_column(game.player_names[0])
        table.add_column("payoff", justify="right")
        for i in rows_idx:
            if i is None:
                table.add_row("…", "…")
            else:
                table.add_row(_short(game.action_names[0][i]), format_number(game.payoffs[0, i]))
        return Group(table)
    row_labels, row_legend = _labels(game.action_names[0])
    col_labels, col_legend = _labels(game.action_names[1])
    digits = max(distinguishing_digits(game.payoffs[p]) for p in range(n))
    if max_actions is not None:
        cell_width = max(len(", ".join(format_number(v, digits) for v in game.payoffs[(slice(None),) + idx]))
                         for idx in itertools.islice(itertools.product(
                             *(range(a) for a in game.shape)), 4096))
        cell_width = max([cell_width] + [len(col_labels[j]) for j in cols_idx if j is not None])
        label_width = max(len(row_labels[i]) for i in rows_idx if i is not None)
        label_width = max(label_width, len(game.player_names[0]) + len(game.player_names[1]) + 3)
        cols_idx = _fit_columns(cols_idx, game.shape[1], cell_width, label_width, width)
    slices = list(itertools.product(*(range(a) for a in game.shape[2:])))
    max_slices = 8 if max_actions is not None else None
    for k, rest in enumerate(slices):
        if max_slices is not None and k >= max_slices:
            renders.append(Text(f"… {len(slices) - max_slices} more slices "
                                f"(use --all to show every slice)", style="dim"))
            break
        title = ""
        if rest:
            title = ", ".join(f"{game.player_names[p + 2]}={game.action_names[p + 2][a]}"
                              for p, a in enumerate(rest))
        table = Table(title=title or None, show_lines=False)
        table.add_column(f"{game.player_names[0]} \\ {game.player_names[1]}", style="bold",
                         no_wrap=True)
        for j in cols_idx:
            table.add_column("…" if j is None else col_labels[j], justify="center", no_wrap=True)
        for i in rows_idx:
            if i is None:
                table.add_row("…", *["…"] * len(cols_idx))
                continue
            cells = []
            for j in cols_idx:
                if j is None:
                    cells.append("…")
                else:
                    cells.append(", ".join(format_number(game.payoffs[(p, i, j) + rest],
                                                         digits)
                                           for p in range(n)))
            table.add_row(row_labels[i], *cells)
        renders.append(table)
    if row_legend:
        renders.append(_legend(game.player_names[0], game.action_names[0], rows_idx))
    if col_legend:
        renders.append(_legend(game.player_names[1], game.action_names[1], cols_idx))
    return Group(*renders)


def joint_table(joint: Any, player_names: Sequence[str], action_names: Sequence[Sequence[str]],
                max_actions: int | None = 12, threshold: float = 0.0) -> Table:
    """A joint distribution: a matrix with marginals for 2 players, else its support."""
    import numpy as np

    joint = np.asarray(joint)
    if joint.ndim == 2:
        rows_idx = _truncate(joint.shape[0], max_actions)
        cols_idx = _truncate(joint.shape[1], max_actions)
        table = Table(title="joint distribution", show_footer=True)
        table.add_column(f"{player_names[0]} \\ {player_names[1]}", style="bold",
                         footer="marginal")
        col_marg = joint.sum(axis=0)
        for j in cols_idx:
            table.add_column("…" if j is None else _short(action_names[1][j]), justify="right",
                             footer="…" if j is None else f"{col_marg[j]:.4f}")
        table.add_column("marginal", justify="right", style="dim", footer="1")
        row_marg = joint.sum(axis=1)
        for i in rows_idx:
            if i is None:
                table.add_row("…", *["…"] * (len(cols_idx) + 1))
                continue
            cells = ["…" if j is None else _prob(joint[i, j]) for j in cols_idx]
            table.add_row(_short(action_names[0][i]), *cells, f"{row_marg[i]:.4f}")
        return table
    table = Table(title="joint distribution (support)")
    for p in player_names:
        table.add_column(p)
    table.add_column("probability", justify="right")
    flat = [(idx, joint[idx]) for idx in np.ndindex(*joint.shape) if joint[idx] > threshold]
    flat.sort(key=lambda t: -t[1])
    limit = max_actions * 4 if max_actions is not None else None
    for k, (idx, prob) in enumerate(flat):
        if limit is not None and k >= limit:
            table.add_row(*["…"] * len(player_names), f"{len(flat) - limit} more")
            break
        table.add_row(*[_short(action_names[p][a]) for p, a in enumerate(idx)], _prob(prob))
    return table


def _prob(p: float) -> str:
    return "0" if p == 0 else f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}"


def evaluation_summary(ev: Any) -> Table:
    """Values, welfare, entropy, correlation and gaps of an evaluation or solution."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    corr = "mutual information" if ev.joint.ndim == 2 else "total correlation"
    status = getattr(ev, "status", None)
    if status is not None:
        style = "green" if status == "optimal" else "yellow"
        table.add_row("solver", f"{ev.solver}  [{style}]{status}[/]  "
                      f"({ev.iterations} iterations, {ev.wall_time:.3g} s)")
    table.add_row(f"{ev.concept.upper()} gap", f"{ev.gap:.3e}")
    table.add_row("epsilon per player",
                  ", ".join(f"{p}: {e:.3e}" for p, e in zip(ev.player_names, ev.epsilons)))
    table.add_row("values", ", ".join(f"{p}: {format_number(v)}"
                                      for p, v in zip(ev.player_names, ev.values)))
    table.add_row("welfare", format_number(ev.welfare))
    table.add_row("entropy", f"{ev.entropy:.6g} nats ({ev.entropy_bits:.6g} bits)")
    table.add_row(corr, f"{ev.total_correlation:.6g} nats ({ev.total_correlation_bits:.6g} bits)")
    return table


def listing_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    """A plain listing (plugins, games, solvers, ...)."""
    table = Table(title=title)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*r)
    return table


def comparison_table(solutions: Sequence[Any], labels: Sequence[str],
                     max_profiles: int = 24) -> Table:
    """Solutions side by side: probability of each joint action, then their measures."""
    import numpy as np

    first = solutions[0]
    shape = np.asarray(first.joint).shape
    joints = np.stack([np.asarray(s.joint).reshape(-1) for s in solutions])
    table = Table(title=f"{first.game}: {first.concept.upper()} by solver")
    table.add_column("", style="bold")
    for label in labels:
        table.add_column(label, justify="right")
    profiles = [i for i in range(joints.shape[1]) if joints[:, i].max() > 1e-12]
    profiles = sorted(profiles, key=lambda i: -joints[:, i].max())[:max_profiles]
    for i in sorted(profiles):
        idx = np.unravel_index(i, shape)
        name = "(" + ",".join(first.action_names[p][a] for p, a in enumerate(idx)) + ")"
        table.add_row(name, *[_prob(joints[s, i]) for s in range(len(solutions))])
    table.add_section()
    rows = [
        ("welfare", [format_number(s.welfare) for s in solutions]),
        *[(f"value {p}", [format_number(s.values[k]) for s in solutions])
          for k, p in enumerate(first.player_names)],
        ("entropy (nats)", [f"{s.entropy:.6g}" for s in solutions]),
        ("mutual information (nats)" if len(shape) == 2 else "total correlation (nats)",
         [f"{s.total_correlation:.6g}" for s in solutions]),
        ("gap", [f"{s.gap:.2e}" for s in solutions]),
        ("status", [s.status for s in solutions]),
        ("time (s)", [f"{s.wall_time:.3g}" for s in solutions]),
    ]
    for name, cells in rows:
        table.add_row(name, *cells)
    return table
