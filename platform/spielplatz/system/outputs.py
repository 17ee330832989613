"""Output files: paths checked before any work, and atomic writes.

Every file is written to a temporary file in the same folder, then renamed, so a
failure never leaves a half-written file; it gets the umask's mode (``0644``
under umask ``022``); output paths are checked before any work
(:func:`check_output_file`, :func:`check_output_folder`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from spielplatz.errors import OutputPathError

__all__ = ["atomic_write", "check_output_file", "check_output_folder", "current_umask"]


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's file-mode creation mask (``os.umask`` read and put back)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _missing_folder(folder: Path, what: str) -> OutputPathError:
    return OutputPathError(f"{what}: folder {str(folder)!r} does not exist (create it first)")


def check_output_file(path: str | Path, what: str = "output file") -> Path:
    """Check, before any work, that ``path`` can be written: its folder exists and is
    writable and ``path`` is not a folder. ``what`` names the option in errors.

    Raises
    ------
    OutputPathError
    """
    if not str(path).strip():
        raise OutputPathError(f"{what}: the file name is empty")
    path = Path(path)
    folder = path.parent
    if str(path) in ("", ".") or path.name in ("", ".", ".."):
        raise OutputPathError(f"{what}: {str(path)!r} is not a file name")
    if path.is_dir():
        raise OutputPathError(f"{what}: {str(path)!r} is a folder, not a file")
    if not folder.exists():
        raise _missing_folder(folder, what)
    if not folder.is_dir():
        raise OutputPathError(f"{what}: {str(folder)!r} is not a folder")
    if not _can_create(folder, file=True):
        raise OutputPathError(f"{what}: folder {str(folder)!r} is not writable")
    return path


def _can_create(folder: Path, *, file: bool) -> bool:
    """Whether a file (or a folder) can really be created in ``folder``: a probe that is
    removed at once (``os.access`` says yes to root on read-only or virtual file systems
    such as ``/proc``, where the write after the work would then fail)."""
    try:
        if file:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".spielplatz-probe-"):
                pass
        else:
            os.rmdir(tempfile.mkdtemp(dir=folder, prefix=".spielplatz-probe-"))
    except OSError:
        return False
    return True


def check_output_folder(folder: str | Path, what: str = "output folder") -> Path:
    """Check, before any work, that ``folder`` can receive files: it is a writable
    folder, or it does not exist and its parent is a writable folder (then the
    first write creates it; parents are never created).

    Raises
    ------
    OutputPathError
    """
    if not str(folder).strip():
        raise OutputPathError(f"{what}: the folder name is empty")
    folder = Path(folder)
    if folder.exists():
        if not folder.is_dir():
            raise OutputPathError(f"{what}: {str(folder)!r} exists and is not a folder")
        if not _can_create(folder, file=True):
            raise OutputPathError(f"{what}: folder {str(folder)!r} is not writable")
        return folder
    parent = folder.parent
    if not parent.is_dir():
        raise OutputPathError(f"{what}: cannot create {str(folder)!r}: its parent folder "
                              f"{str(parent)!r} does not exist")
    if not _can_create(parent, file=False):
        raise OutputPathError(f"{what}: cannot create {str(folder)!r}: folder "
                              f"{str(parent)!r} is not writable")
    return folder


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", *,
                 make_folder: bool = False) -> Iterator[Any]:
    """Open a temporary file beside ``path``; rename it onto ``path`` on success.

    The file gets the mode a plain ``open`` would give it (``0o666`` less the
    umask: ``0644`` under umask ``022``), not ``mkstemp``'s ``0600``. With
    ``make_folder`` the folder of ``path`` is created if missing (its parent
    must exist); without it a missing folder is an error.

    Raises
    ------
    OutputPathError
        The folder is missing or not writable.
    """
    path = Path(path)
    folder = path.parent
    if make_folder and not folder.is_dir():
        check_output_folder(folder, str(path))
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputPathError(f"{path}: cannot create folder {str(folder)!r} "
                                  f"({exc.strerror or exc})") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except FileNotFoundError:
        raise _missing_folder(folder, str(path)) from None
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write in {str(folder)!r} "
                              f"({exc.strerror or exc})") from None
    try:
        if hasattr(os, "fchmod"):                     # POSIX: mkstemp's 0600 -> umask's mode
            os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
