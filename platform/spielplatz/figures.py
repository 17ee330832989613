"""matplotlib, loaded on demand with the Agg backend, and atomic figure files.

Every plotting module of the host draws through :func:`pyplot` and writes with
:func:`save_figure`, so no command imports matplotlib before it draws and no
failed save leaves a half-written file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .files import atomic_write

__all__ = ["pyplot", "save_figure"]


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, *, dpi: int = 150,
                bbox_inches: str | None = "tight") -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix, PNG if none) and close it."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    plt = pyplot()
    try:
        with atomic_write(path, "wb") as handle:
            fig.savefig(handle, format=fmt, bbox_inches=bbox_inches, dpi=dpi)
    finally:
        plt.close(fig)
    return path
