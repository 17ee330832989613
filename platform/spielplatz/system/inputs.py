"""Bounded reads of input files: size, kind of file, UTF-8 text, strict JSON.

At most :data:`MAX_FILE_BYTES` bytes are read, from a regular file or a pipe
(devices are refused).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from spielplatz.errors import GameFileError

__all__ = ["read_text", "load_json", "type_name", "MAX_FILE_BYTES"]

#: Largest input file (bytes) that is read: 64 MiB.
MAX_FILE_BYTES = 64 * 2**20


def read_text(path: Path) -> str:
    """The text of ``path``, read with bounds (size, kind of file, UTF-8 with optional BOM)."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise GameFileError(f"{path}: is a folder, not a file")
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
            raise GameFileError(f"{path}: not a regular file (a device or socket cannot be "
                                f"read as a game or distribution)")
        if info.st_size > MAX_FILE_BYTES:
            raise GameFileError(f"{path}: file of {info.st_size:,} bytes is larger than the "
                                f"limit of {MAX_FILE_BYTES:,} bytes (64 MiB)")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise GameFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise GameFileError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise GameFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise GameFileError(f"{path}: more than the limit of {MAX_FILE_BYTES:,} bytes "
                            f"(64 MiB) to read")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GameFileError(f"{path}: not a text file (not UTF-8)") from None


def load_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GameFileError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise GameFileError(f"{path}: invalid JSON (nested too deeply)") from None
    except ValueError as exc:            # e.g. an integer beyond Python's digit limit
        if "digits" in str(exc):
            raise GameFileError(f"{path}: invalid JSON (a number has more than "
                                f"{sys.get_int_max_str_digits()} digits)") from None
        raise GameFileError(f"{path}: invalid JSON ({str(exc).splitlines()[0][:80]})") \
            from None


def type_name(value: Any) -> str:
    return {bool: "a boolean", str: "a string", dict: "an object", list: "a list",
            type(None): "null", int: "a number", float: "a number"}.get(type(value),
                                                                        type(value).__name__)
