"""Crash-safe file writes shared by every layer: whole-file replace and one-line append."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path


def atomic_write(path: str | Path, text: str | bytes) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temp file (named per process and
    thread, so concurrent writers of one path never share it), fsync, then one rename. On
    failure the temp file is removed and ``path`` is as it was."""
    p = Path(path)
    tmp = p.with_name(f"{p.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def append_line(path: str | Path, data: bytes) -> None:
    """Append ``data`` (one line) with one O_APPEND write and fsync; on failure the file is
    truncated back to its old length, so a failed append never leaves a partial line."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)
