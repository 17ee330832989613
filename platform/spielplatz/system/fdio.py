"""File-descriptor-level redirections: keep stdout for what the user asked for.

C and C++ libraries write to file descriptors 1 and 2 directly, past Python's
``sys.stdout``/``sys.stderr``: HiGHS prints a banner on stdout when a ``Highs``
object is created, OpenSpiel prints ``OpenSpiel exception: ...`` on stderr
before raising. Plugins may ``print`` at import. These context managers
redirect at both levels (the Python stream is flushed first and the descriptor
restored in ``finally``). They are not thread-safe: descriptors are process-wide.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

__all__ = ["stdout_to_devnull", "stdout_to_stderr", "captured_stderr"]


def _flush(stream) -> None:
    try:
        if stream is not None:
            stream.flush()
    except (OSError, ValueError):  # closed or broken stream: nothing to flush
        pass


@contextlib.contextmanager
def _redirect_fd(fd: int, target_fd: int) -> Iterator[bool]:
    """Point ``fd`` at ``target_fd`` for the duration; yields whether it was done."""
    try:
        saved = os.dup(fd)
    except OSError:  # fd not open (daemon, pythonw): nothing to protect
        yield False
        return
    try:
        os.dup2(target_fd, fd)
    except OSError:
        os.close(saved)
        yield False
        return
    try:
        yield True
    finally:
        os.dup2(saved, fd)
        os.close(saved)


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Discard whatever C code writes to file descriptor 1 (e.g. HiGHS' banner)."""
    _flush(sys.stdout)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        with _redirect_fd(1, devnull):
            yield
    finally:
        os.close(devnull)


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send Python-level and fd-level stdout to stderr (e.g. while plugins import)."""
    _flush(sys.stdout)
    saved_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        with _redirect_fd(1, 2):
            try:
                yield
            finally:
                _flush(sys.stderr)
                _flush(sys.stdout)
    finally:
        sys.stdout = saved_stdout


@contextlib.contextmanager
def captured_stderr(drop_prefix: str) -> Iterator[None]:
    """Capture fd 2; replay it afterwards without the lines starting with ``drop_prefix``.

    Used around pyspiel calls that can throw: OpenSpiel prints
    ``OpenSpiel exception: ...`` (sometimes over several lines) on fd 2 before
    the Python exception carries the same text, so the user would read the
    error twice. Everything else written meanwhile is written back to stderr.
    """
    import tempfile

    _flush(sys.stderr)
    try:
        capture = tempfile.TemporaryFile()
    except OSError:
        yield
        return
    with capture:
        try:
            with _redirect_fd(2, capture.fileno()):
                yield
        finally:
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
            if text:
                _replay(text, drop_prefix)


def _replay(text: str, drop_prefix: str) -> None:
    lines = text.splitlines(keepends=True)
    # OpenSpiel's message runs from the prefixed line to the end of what it wrote
    # (a failed check prints the location, then the values on the next line).
    for i, line in enumerate(lines):
        if line.startswith(drop_prefix):
            lines = lines[:i]
            break
    rest = "".join(lines)
    if rest:
        try:
            sys.stderr.write(rest)
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass
