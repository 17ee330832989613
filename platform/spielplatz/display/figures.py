"""matplotlib, loaded on demand with the Agg backend, and atomic figure files.

Every plotting module of the host draws through :func:`pyplot` and writes with
:func:`save_figure`, so no command imports matplotlib before it draws and no
failed save leaves a half-written file. Commands check a ``--plot`` path with
:func:`check_plot_path` before any work: its folder must exist and be writable
(it is never created) and its suffix must name a format matplotlib writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spielplatz.errors import OutputPathError
from spielplatz.system.outputs import atomic_write, check_output_file

__all__ = ["pyplot", "save_figure", "plot_formats", "check_plot_path"]

#: Formats left out of :func:`plot_formats`: ``pgf`` needs a LaTeX installation.
_UNSUPPORTED = ("pgf",)


def plot_formats() -> tuple[str, ...]:
    """File suffixes (no dot) matplotlib's Agg canvas writes: png, pdf, svg, jpg, ..."""
    from matplotlib.backend_bases import FigureCanvasBase

    return tuple(sorted(f for f in FigureCanvasBase.get_supported_filetypes()
                        if f not in _UNSUPPORTED))


def check_plot_path(path: str | Path, what: str = "--plot") -> Path:
    """Check a plot file before any work: folder exists and is writable, suffix is a
    format of :func:`plot_formats`.

    Raises
    ------
    OutputPathError
        One line naming ``what`` (the option) and the problem.
    """
    if not str(path).strip():
        raise OutputPathError(f"{what}: the file name is empty")
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    formats = plot_formats()
    if fmt not in formats:
        shown = ", ".join("." + f for f in formats)
        found = f"suffix {path.suffix!r}" if fmt else "no suffix"
        raise OutputPathError(f"{what}: {str(path)!r} has {found}; use one of {shown}")
    return check_output_file(path, what)


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, *, dpi: int = 150,
                bbox_inches: str | None = "tight") -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix) and close it.

    Raises
    ------
    OutputPathError
        Unsupported suffix, missing or read-only folder (see :func:`check_plot_path`).
    """
    plt = pyplot()
    try:
        path = check_plot_path(path, "plot file")
        fmt = path.suffix.lstrip(".").lower()
        with atomic_write(path, "wb") as handle:
            fig.savefig(handle, format=fmt, bbox_inches=bbox_inches, dpi=dpi)
    finally:
        plt.close(fig)
    return path
