"""The ``spielplatz learn`` command: train learners on a game over many seeds.

::

    spielplatz learn braess --learner a,b --seeds 100 --steps 2000 --out runs/ --plot braess.png

The command names no learner: it shows what each learner declares (its
``headline_metrics``, ``table_columns``, ``report_lines``, ``json_summary``,
``divergence_criterion`` and ``runs_figure``; see docs/plugins.md), with
generic defaults. Importing this module is cheap (click only); jax, numpy, rich and matplotlib
load when the command runs.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["learn_command", "save_run", "default_learner"]


def save_run(run: Any, folder: Any, prefix: str | None = None) -> list:
    """:func:`spielplatz.save_run` (imported when called: this module stays light)."""
    from spielplatz.results.run_files import save_run as save

    return save(run, folder, prefix)


def _kept(run: Any) -> Any:
    from spielplatz.results.run_files import kept_seeds

    return kept_seeds(run)


def _declared(learner: Any, member: str, run: Any, default: Any) -> Any:
    """``learner.<member>(run)`` if declared, else ``default``; guarded for a registered
    learner (:meth:`spielplatz.api.registry.CheckedLearner.declared`)."""
    if hasattr(learner, "declared"):
        return learner.declared(member, run, default)
    method = getattr(learner, member, None)
    return method(run) if callable(method) else default


def _divergence(run: Any, learner: Any = None) -> dict:
    """JSON-ready account of the diverged seeds of ``run``."""
    kept = _kept(run)
    steps = getattr(run, "diverged_step", ()) or (None,) * len(run.seeds)
    return {"count": int((~kept).sum()), "of": len(run.seeds),
            "seeds": [s for s, k in zip(run.seeds, kept) if not k],
            "steps": [st for st, k in zip(steps, kept) if not k],
            "criterion": _criterion(run, learner),
            "summarised_seeds": int(kept.sum())}


def _criterion(run: Any, learner: Any) -> str:
    """The learner's ``divergence_criterion(run)``, else a generic account."""
    declared = getattr(learner, "divergence_criterion", None)
    if callable(declared):
        return str(declared(run))
    return "the learner's own" if getattr(run, "diverged", ()) else "not checked"


def _scalar_summary(run: Any) -> dict[str, dict[str, float]]:
    """Mean, median and std over the non-diverged seeds of each scalar metric's last record."""
    import numpy as np

    if hasattr(run, "summary"):
        return run.summary()
    out = {}
    for key, value in run.final_metrics().items():
        v = np.asarray(value, dtype=float)
        if v.ndim == 1:
            out[key] = {"mean": float(v.mean()), "median": float(np.median(v)),
                        "std": float(v.std()), "min": float(v.min()), "max": float(v.max())}
    return out


def _train(learner_name: str, learner: Any, game: Any, steps: int, seeds: tuple,
           options: dict, show_progress: bool) -> Any:
    if not show_progress:
        return learner.learn(game, steps=steps, seeds=seeds, **options)
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn)

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(f"{learner_name} x {len(seeds)} seeds", total=steps)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done * steps // max(total, 1))

        return learner.learn(game, steps=steps, seeds=seeds, progress=progress, **options)


def default_learner(game: str) -> str:
    """The learner ``learn`` trains when ``--learner`` is not given: the game's
    registered ``default_learner`` (``register_games`` metadata), else the only
    installed learner.

    Raises
    ------
    SpielplatzError
        Neither applies; the message lists the installed learners.
    """
    from spielplatz.errors import SpielplatzError
    from spielplatz.games.gamestring import parse_game_string
    from spielplatz.plugins.host import get_host

    host = get_host()
    try:
        entry = host.registry("game").get(parse_game_string(game)[0])
    except SpielplatzError:
        entry = None                            # a file, a catalog game, an unknown name
    declared = getattr(entry, "meta", {}).get("default_learner")
    if declared:
        return str(declared)
    installed = list(host.registry("learner"))
    if len(installed) == 1:
        return installed[0]
    shown = ", ".join(installed) if installed else "none is installed"
    raise SpielplatzError(f"game {game!r} names no default learner; give --learner "
                          f"(installed learners: {shown})")


@click.command("learn")
@click.argument("game")
@click.option("--learner", "learners", default=None,
              help="Learner name (spielplatz learners), or a comma-separated list: each "
                   "trains on the same seeds and they are compared. [default: the game's "
                   "registered default learner, else the only installed learner]")
@click.option("--seeds", type=click.IntRange(min=1), default=8, show_default=True,
              help="Number of runs (seeds first-seed, first-seed+1, ...), trained at once "
                   "(at most 100000).")
@click.option("--first-seed", type=int, default=0, show_default=True,
              help="First seed (seeds are 0..4294967295).")
@click.option("--steps", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Gradient steps (differentiable games) or learner updates (RL games).")
@click.option("-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Learner hyper-parameter, e.g. -o lr=0.03 -o lr_mix=0.1 (repeatable).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder for <learner>_run.json, <learner>_metrics.csv, "
                   "<learner>_summary.csv (created if missing; its parent must exist).")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False), default=None,
              help="Save the learners' figure, or learning curves of their headline "
                   "metrics (.png, .pdf, .svg, ...; the folder must exist).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def learn_command(game: str, learners: str | None, seeds: int, first_seed: int, steps: int,
                  options: tuple[str, ...], out: str | None, plot_file: str | None,
                  as_json: bool) -> None:
    """Train LEARNER(s) on GAME over many seeds and report the final metrics.

    GAME is a learner game such as braess, random_braess, nplayer_pd(n=10,c=1),
    zero_sum_election or trust_your_brother, or any normal-form game (played
    with mixed strategies).
    """
    import sys

    from spielplatz.api import get_learner, load_game
    from spielplatz.cli.common import parse_options
    from spielplatz.plugins.host import get_host

    if learners is None:
        learners = default_learner(game)
    names = [n.strip() for n in learners.split(",")]
    if not any(names):
        raise click.BadParameter("give at least one learner", param_hint="'--learner'")
    if not all(names):
        raise click.BadParameter(f"{learners!r} has an empty entry (two commas, or a comma "
                                 f"at the start or end)", param_hint="'--learner'")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise click.BadParameter(f"{repeated[0]!r} is given twice (each learner writes its "
                                 f"own files)", param_hint="'--learner'")
    registry = get_host().registry("learner")
    for name in names:
        registry.get(name)                      # unknown names fail before training
    if plot_file is not None:                   # checked before any training
        from spielplatz.display.figures import check_plot_path

        check_plot_path(plot_file)
    if out is not None:
        from spielplatz.system.outputs import check_output_folder

        check_output_folder(out, "--out")
    from spielplatz.errors import SpielplatzError
    from spielplatz.validation import MAX_SEEDS, SEED_MAX, as_int

    as_int(seeds, "--seeds", minimum=1, maximum=MAX_SEEDS)
    as_int(first_seed, "--first-seed", minimum=0, maximum=SEED_MAX)
    if first_seed + seeds - 1 > SEED_MAX:
        raise SpielplatzError(f"--first-seed {first_seed} with --seeds {seeds} goes past the "
                              f"largest seed {SEED_MAX} (seeds are unsigned 32-bit integers)")
    opts = parse_options(options)
    loaded = load_game(game)
    seed_list = tuple(range(first_seed, first_seed + seeds))
    show_progress = not as_json and sys.stderr.isatty()
    objects = [get_learner(name) for name in names]
    runs = [_train(name, obj, loaded, steps, seed_list, opts, show_progress)
            for name, obj in zip(names, objects)]

    files: list[str] = []
    if out is not None:
        for run in runs:
            files += [str(p) for p in save_run(run, out)]
    if plot_file is not None:
        from spielplatz.display.plots import plot_runs

        pairs = [(r.without_diverged() if hasattr(r, "without_diverged") else r, obj)
                 for r, obj in zip(runs, objects)]
        pairs = [(r, obj) for r, obj in pairs if len(r.seeds)]   # all diverged: nothing to draw
        if pairs:
            left_out = sum(int((~_kept(r)).sum()) for r in runs)
            title = None if not left_out else (
                f"{runs[0].game}: {len(seed_list)} runs, diverged runs left out ("
                + ", ".join(f"{r.learner} {int((~_kept(r)).sum())}" for r in runs) + ")")
            files.append(str(plot_runs([r for r, _ in pairs], plot_file, title=title,
                                       learners=[obj for _, obj in pairs])))

    if as_json:
        from spielplatz.display.plots import headline_metrics

        entries = []
        for r, obj in zip(runs, objects):
            entry = {"learner": r.learner, "config": r.config, "wall_time": r.wall_time,
                     "diverged": _divergence(r, obj), "final": _scalar_summary(r),
                     "headline": headline_metrics([r], [getattr(obj, "headline_metrics",
                                                                None)])}
            extra = _declared(obj, "json_summary", r, {})
            entry.update({k: v for k, v in dict(extra).items() if k not in entry})
            entries.append(entry)
        data = {"game": runs[0].game, "steps": steps, "seeds": list(seed_list),
                "runs": entries, "files": files}
        from spielplatz.results import to_json

        click.echo(to_json(data))
        return
    _print_table(runs, objects, steps, files)


def _print_table(runs: list, learners: list, steps: int, files: list[str]) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    from spielplatz.display.plots import headline_metrics

    console = Console(width=None if sys.stdout.isatty() else 120)
    any_diverged = any((~_kept(r)).any() for r in runs)
    table = Table(title=f"{runs[0].game}: {len(runs[0].seeds)} seeds, {steps} steps "
                        f"(final record; mean ± std, median"
                        f"{' over the seeds that did not diverge' if any_diverged else ''})")
    present = headline_metrics(runs, [getattr(obj, "headline_metrics", None)
                                      for obj in learners])
    own = [dict(_declared(obj, "table_columns", run, {})) for run, obj in zip(runs, learners)]
    extra: list[str] = []
    for columns in own:
        extra += [c for c in columns if c not in extra]
    table.add_column("learner")
    for k in present:
        table.add_column(k.replace("_", " "), justify="right")
    for c in extra:
        table.add_column(str(c), justify="right")
    if any_diverged:
        table.add_column("diverged", justify="right")
    table.add_column("time", justify="right")
    for run, columns in zip(runs, own):
        summary = _scalar_summary(run)
        kept = int(_kept(run).sum())
        cells = []
        for k in present:
            s = summary.get(k)
            cells.append("-" if s is None or s["mean"] is None else
                         f"{s['mean']:.4g} ± {s['std']:.2g}, {s['median']:.4g}"
                         + ("" if s.get("count", kept) == kept else
                            f" ({s['count']} of {kept} seeds)"))
        cells += [str(columns.get(c, "-")) for c in extra]
        if any_diverged:
            cells.append(f"{len(run.seeds) - kept} of {len(run.seeds)}")
        table.add_row(run.learner, *cells, f"{run.wall_time:.3g} s")
    console.print(table)
    for run, obj in zip(runs, learners):
        info = _divergence(run, obj)
        if info["count"]:
            which = ", ".join(f"{s} (step {st})" for s, st in zip(info["seeds"], info["steps"]))
            console.print(f"{run.learner}: {info['count']} of {info['of']} seeds diverged "
                          f"(left out of the statistics above): {which}")
    for run, obj in zip(runs, learners):
        for line in _declared(obj, "report_lines", run, ()):
            console.print(line)
    for f in files:
        console.print(f"wrote {f}")
