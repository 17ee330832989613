"""The nes plugin's commands: ``train-solver`` and ``evaluate-solver``.

Registered through the ``register_commands(cli)`` hook (:mod:`spielplatz_nes`),
like any third-party plugin's commands. They work with any registered solver
that offers ``train(...)`` and ``evaluate(...)`` methods (``nes`` does).
Importing this module is cheap (click only): jax, flax and matplotlib are
imported inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from spielplatz.errors import SpielplatzError
from spielplatz.games.gamestring import split_top_level

__all__ = ["train_solver", "evaluate_solver", "register"]

CONCEPT = click.Choice(["ce", "cce"], case_sensitive=False)


def _trainable(name: str, method: str) -> Any:
    from spielplatz import get_solver

    impl = get_solver(name)
    if not hasattr(impl, method):
        verb = "trained" if method == "train" else "evaluated"
        raise SpielplatzError(f"solver {name!r} cannot be {verb} (it has no {method}() method)")
    return impl


#: What ``--architecture`` expects, for its error messages.
_ARCH_EXPECTED = ("PAYOFF,.../DUAL/DUAL,... with channel counts 1..4096, such as "
                  "32,32,32,32,32/64/32,32 (Section D.1)")


def _architecture(text: str | None) -> dict | None:
    """``"32,32,32/32/32"`` -> payoff channels, dual channels, dual layers."""
    from spielplatz.validation import as_int

    if text is None:
        return None
    parts = text.split("/")
    if len(parts) != 3:
        raise SpielplatzError(f"--architecture {text!r}: expected {_ARCH_EXPECTED}")
    lists = [p.split(",") if p.strip() else [] for p in parts]
    if not lists[0] or len(lists[1]) != 1:
        raise SpielplatzError(f"--architecture {text!r}: expected {_ARCH_EXPECTED}")
    try:
        counts = [[as_int(int(x) if x.strip().isdigit() else x, "channel count",
                          minimum=1, maximum=4096) for x in group] for group in lists]
    except SpielplatzError:
        raise SpielplatzError(f"--architecture {text!r}: expected {_ARCH_EXPECTED}") from None
    return {"payoff_channels": counts[0], "dual_channels": counts[1][0],
            "dual_layers": counts[2]}


def _check_training_arguments(shape: str, steps: int, batch_size: int, learning_rate: float,
                              seed: int, rho: float | None, time_limit: float | None) -> None:
    """Refuse bad ``train-solver`` numbers before anything is imported or written."""
    from spielplatz.validation import as_float, as_int, as_seed, as_shape

    as_shape(shape, "--shape", min_players=2, max_joint=None)
    as_int(steps, "--steps", minimum=1)
    as_int(batch_size, "--batch-size", minimum=1)
    as_float(learning_rate, "--learning-rate", positive=True)
    as_seed(seed, "--seed")
    if rho is not None:
        as_float(rho, "--rho", positive=True)
    if time_limit is not None:
        as_float(time_limit, "--time-limit", positive=True)


@click.command(name="train-solver")
@click.option("--solver", default="nes", show_default=True, help="A trainable solver.")
@click.option("--concept", type=CONCEPT, default="cce", show_default=True)
@click.option("--shape", default="8x8", show_default=True,
              help="Action counts: 8x8 (two players), 3x3x3 (three players), ...")
@click.option("--parameterization", default="ME", show_default=True,
              help="Table 3 row: ME, MT, MU, MWME, MRE, MS, eps-ME, eps-MWME, eps-MRE.")
@click.option("--steps", type=int, default=2000, show_default=True, help="Training steps.")
@click.option("--batch-size", type=int, default=256, show_default=True,
              help="Games per step (a multiple of the number of JAX devices).")
@click.option("--learning-rate", type=float, default=4e-4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--rho", type=float, default=None,
              help="Weight of the distance to the target epsilon (Theorem 1) [default: the "
                   "parameterization's, 1000].")
@click.option("--time-limit", type=float, default=None, metavar="SECONDS",
              help="Stop after this long at a resumable checkpoint and export the model of "
                   "that step (for leased machines); run again to continue.")
@click.option("--architecture", default=None,
              help="PAYOFF,.../DUAL/DUAL,...; default 32,32,32,32,32/64/32,32 (Section D.1).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Folder for checkpoint, metrics, plot and model [default: nes-CONCEPT-SHAPE]"
                   ", created if missing (its parent must exist). A checkpoint there is "
                   "resumed.")
@click.option("--plot/--no-plot", default=True, show_default=True,
              help="Write OUT/training.png (loss and gap).")
@click.option("--json", "as_json", is_flag=True, help="Print the final metrics as JSON.")
def train_solver(solver: str, concept: str, shape: str, parameterization: str, steps: int,
                 batch_size: int, learning_rate: float, seed: int, rho: float | None,
                 time_limit: float | None, architecture: str | None,
                 out: str | None, plot: bool, as_json: bool) -> None:
    """Train a neural (C)CE solver without labels and save it to OUT.

    Shows a progress bar with the loss and the mean gap; writes
    OUT/metrics.json, OUT/training.png and OUT/model.msgpack (use it with
    `spielplatz solve GAME --solver nes -o model=OUT`).
    """
    _check_training_arguments(shape, steps, batch_size, learning_rate, seed, rho, time_limit)
    arch = _architecture(architecture)
    impl = _trainable(solver, "train")
    out = f"nes-{concept.lower()}-{shape}" if out is None else out
    from spielplatz.system.outputs import check_output_folder

    check_output_folder(out, "--out")           # before training: its parent must exist
    options = dict(concept=concept.lower(), shape=shape, parameterization=parameterization,
                   steps=steps, batch_size=batch_size, out=out, learning_rate=learning_rate,
                   seed=seed, architecture=arch, **({"rho": rho} if rho is not None else {}),
                   **({"time_limit": time_limit} if time_limit is not None else {}))
    if hasattr(impl, "check_train"):    # every argument checked before the progress bar
        impl.check_train(**options)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, \
        TimeElapsedColumn, TimeRemainingColumn

    progress = Progress(TextColumn("[bold]training[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("loss {task.fields[loss]:>9.4f}  gap {task.fields[gap]:.4f}"),
                        TimeElapsedColumn(),
                        *([] if time_limit is not None else [TimeRemainingColumn()]),
                        disable=as_json, transient=False, console=_progress_console())
    with progress:
        task = progress.add_task("train", total=steps, loss=float("nan"), gap=float("nan"))

        def callback(step: int, metrics: dict) -> None:
            progress.update(task, completed=step, loss=metrics["loss"], gap=metrics["gap"])

        result = impl.train(callback=callback, **options)
        reached = result.get("step", steps)
        progress.update(task, completed=reached)
    history = result["history"]
    plot_path = None
    if plot and history:
        from .plots import plot_training

        plot_path = plot_training(history, Path(out) / "training.png",
                                  f"{solver} {concept.upper()} {shape} {parameterization}")
    final = history[-1] if history else {}
    stopped = time_limit is not None and reached < steps
    summary = {"out": str(out), "model": result["model"], "steps": steps, "step": reached,
               "stopped_at_time_limit": stopped,
               "resumed_from": result["resumed_from"], "final": final,
               "plot": str(plot_path) if plot_path else None}
    if as_json:
        from spielplatz.results import to_json

        click.echo(to_json(summary))
        return
    if result["resumed_from"] is not None:
        click.echo(f"resumed from step {result['resumed_from']}")
    if stopped:
        click.echo(f"stopped at the time limit after step {reached} of {steps}; the same "
                   f"command continues from the checkpoint")
    if final:
        click.echo(f"step {final['step']}: loss {final['loss']:.5g}, mean gap {final['gap']:.4g} "
                   f"(uniform joint {final['uniform_gap']:.4g})")
    click.echo(f"model: {result['model']}\nmetrics: {Path(out) / 'metrics.json'}"
               + (f"\nplot: {plot_path}" if plot_path else ""))


def _progress_console() -> Any:
    """Progress bars go to stderr (stdout carries only the results)."""
    from rich.console import Console

    return Console(stderr=True, width=None if sys.stderr.isatty() else 120)


@click.command(name="evaluate-solver")
@click.option("--solver", default="nes", show_default=True, help="A trained solver.")
@click.option("--model", default=None,
              help="Shipped model name or training folder [default: shipped model of "
                   "--concept and --shape].")
@click.option("--concept", type=CONCEPT, default=None,
              help="cce or ce [default: cce, or --model's].")
@click.option("--shape", default=None, help="Game shape [default: 8x8, or --model's].")
@click.option("--classes", default=None,
              help="Comma-separated game classes (registered names with parameters, "
                   "e.g. l2_invariant,polymatrix_game(graph=road)) [default: 14 Table 4 classes].")
@click.option("--games", "num_games", type=int, default=200, show_default=True,
              help="Games per class.")
@click.option("--seed", type=int, default=12345, show_default=True)
@click.option("--exact/--no-exact", default=True, show_default=True,
              help="Compare with the exact batched maxent solver (solver gap, throughput).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate_solver(solver: str, model: str | None, concept: str | None, shape: str | None,
                    classes: str | None, num_games: int, seed: int, exact: bool,
                    as_json: bool) -> None:
    """Evaluate a trained solver per game class.

    Mean and 95th-percentile (C)CE gap (games scaled to unit variance, eq. 16a)
    against the uniform joint's, the solver gap (half the L1 distance to the
    exact maxent answer) and throughput in games per second of both solvers.
    """
    from spielplatz.validation import as_int, as_seed, as_shape

    as_int(num_games, "--games", minimum=1)
    as_seed(seed, "--seed")
    if shape is not None:
        as_shape(shape, "--shape", min_players=2, max_joint=None)
    impl = _trainable(solver, "evaluate")
    class_list = None
    if classes:
        class_list = split_top_level(classes, "--classes")
    result = impl.evaluate(model, concept=concept and concept.lower(), shape=shape,
                           classes=class_list,
                           num_games=num_games, seed=seed, exact=exact,
                           progress=None if as_json else
                           (lambda spec: click.echo(f"evaluating {spec} ...", err=True)))
    if as_json:
        from spielplatz.results import to_json

        click.echo(to_json(result))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['model']}: {result['concept'].upper()} {result['shape']} "
                        f"{result['parameterization']}, {result['num_games']} games per class")
    cols = ["class", "gap mean", "gap p95", "uniform gap", "ratio"]
    if exact:
        cols += ["solver gap mean", "solver gap p95", "nes games/s", "maxent games/s"]
    else:
        cols += ["nes games/s"]
    for c in cols:
        table.add_column(c, justify="left" if c == "class" else "right")
    for spec, row in result["classes"].items():
        cells = [spec, f"{row['gap']['mean']:.4f}", f"{row['gap']['p95']:.4f}",
                 f"{row['uniform_gap']['mean']:.4f}", f"{row['gap_ratio']:.1f}x"]
        if exact:
            cells += [f"{row['solver_gap']['mean']:.4f}", f"{row['solver_gap']['p95']:.4f}",
                      f"{row['nes_games_per_s']:.0f}", f"{row['maxent_games_per_s']:.0f}"]
        else:
            cells += [f"{row['nes_games_per_s']:.0f}"]
        table.add_row(*cells)
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def register(cli: Any) -> None:
    """Add ``train-solver`` and ``evaluate-solver`` to ``cli`` (the hook's group)."""
    cli.add_command(train_solver)
    cli.add_command(evaluate_solver)
