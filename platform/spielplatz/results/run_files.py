"""A learner's run on disk: ``save_run`` writes what ``spielplatz learn --out`` writes
(``<prefix>_run.json``, read back by :func:`spielplatz.load_run`, and two CSV tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["save_run", "kept_seeds"]


def kept_seeds(run: Any) -> Any:
    """Boolean mask of the seeds that did not diverge (``Run.diverged``)."""
    import numpy as np

    mask = getattr(run, "diverged_mask", None)
    return np.ones(len(run.seeds), dtype=bool) if mask is None else ~np.asarray(mask)


def _columns(name: str, shape: tuple[int, ...]) -> list[str]:
    import itertools

    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]"
            for idx in itertools.product(*(range(s) for s in shape))]


def save_run(run: Any, folder: str | Path, prefix: str | None = None) -> list[Path]:
    """Write ``run`` into ``folder`` as JSON and CSV (atomically).

    Files: ``<prefix>_run.json`` (everything, :meth:`Run.to_dict`),
    ``<prefix>_metrics.csv`` (one row per seed and record, array metrics
    flattened to columns such as ``mixing[0,1]``) and ``<prefix>_summary.csv``
    (one row per record: mean, median and std over the seeds that did not
    diverge of each scalar metric); the metrics CSV's last column ``diverged``
    is 1 for the rows of a diverged seed. ``prefix`` defaults to the learner's name.
    ``folder`` is created if missing; its parent must exist.

    Returns
    -------
    list of Path
    """
    import csv

    import numpy as np

    from spielplatz.system.outputs import atomic_write
    from spielplatz.results import to_json

    folder = Path(folder)
    prefix = prefix or run.learner
    written = []
    path = folder / f"{prefix}_run.json"
    with atomic_write(path, make_folder=True) as handle:
        handle.write(to_json(run.to_dict(), indent=None))    # strict JSON
    written.append(path)

    names = sorted(run.metrics)
    arrays = {k: np.asarray(run.metrics[k], dtype=float) for k in names}
    header = ["seed", "step"]
    for k in names:
        header += _columns(k, arrays[k].shape[2:])
    header.append("diverged")
    kept = kept_seeds(run)
    path = folder / f"{prefix}_metrics.csv"
    with atomic_write(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for s, seed in enumerate(run.seeds):
            for r, step in enumerate(run.steps):
                row: list[Any] = [seed, int(step)]
                for k in names:
                    row += [f"{x:.9g}" for x in np.ravel(arrays[k][s, r])]
                row.append(0 if kept[s] else 1)
                writer.writerow(row)
    written.append(path)

    scalars = [k for k in names if arrays[k].ndim == 2]
    path = folder / f"{prefix}_summary.csv"
    with atomic_write(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["step"] + [f"{k}_{stat}" for k in scalars
                                    for stat in ("mean", "median", "std")])
        for r, step in enumerate(run.steps):
            row = [int(step)]
            for k in scalars:       # (as Run.summary: seeds where the metric is defined)
                col = arrays[k][kept, r]
                col = col[~np.isnan(col)]
                row += ([f"{col.mean():.9g}", f"{np.median(col):.9g}", f"{col.std():.9g}"]
                        if col.size else ["", "", ""])
            writer.writerow(row)
    written.append(path)
    return written


