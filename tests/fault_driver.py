"""Fault injection for tests and ``benchmarks/faults.py``: runs ``harness.run`` with one fault
planted in the write path. Test-only (a fake OS layer), never imported by the harness.

``python -m tests.fault_driver KIND N -- HARNESS_RUN_ARGS...``: the ``N``-th write that KIND
targets (1-based) fails. Kinds (``KINDS``), by target and fault:

- ``kill-before-append``: SIGKILL after the trajectory rename, before the episode line;
- ``kill-mid-append``: half of the episode line written, then SIGKILL;
- ``kill-mid-trajectory``: the trajectory's temp file written, SIGKILL before its rename;
- ``kill-csv-rewrite``: SIGKILL while ``episodes.csv`` is rewritten (temp written, no rename);
- ``enospc-append``: half of the episode line written, then ENOSPC;
- ``enospc-trajectory`` / ``eacces-trajectory`` / ``erofs-trajectory``: the trajectory's fsync
  or rename fails;
- ``erofs-config``: the rename of ``config.toml`` fails (before any episode);
- ``enospc-csv``: the fsync of ``episodes.csv``'s temp file fails.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

KINDS = (
    "kill-before-append",
    "kill-mid-append",
    "kill-mid-trajectory",
    "kill-csv-rewrite",
    "enospc-append",
    "enospc-trajectory",
    "eacces-trajectory",
    "erofs-trajectory",
    "erofs-config",
    "enospc-csv",
)
KILLS = tuple(k for k in KINDS if k.startswith("kill"))
ONCE = ("kill-csv-rewrite", "enospc-csv", "erofs-config")
"""Faults on a write that happens once per run: they are planted at its first occurrence."""
ERRNO = {"enospc": errno.ENOSPC, "eacces": errno.EACCES, "erofs": errno.EROFS}


def _path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def _fail(kind: str) -> None:
    if kind.startswith("kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    code = ERRNO[kind.split("-")[0]]
    raise OSError(code, os.strerror(code))


class FaultyOS:
    """Wraps ``os.write``, ``os.fsync`` and ``os.replace``; the ``n``-th targeted call fails."""

    def __init__(self, kind: str, n: int) -> None:
        self.kind, self.n, self.seen = kind, n, 0
        self.write, self.fsync, self.replace = os.write, os.fsync, os.replace

    def _hit(self) -> bool:
        self.seen += 1
        return self.seen == self.n

    def on_write(self, fd: int, data: Any) -> int:
        """Episode-line appends: write half, then fail."""
        if self.kind.endswith("append") and _path(fd).endswith("episodes.jsonl"):
            if self.kind == "kill-before-append" and self._hit():
                _fail(self.kind)
            if self.kind != "kill-before-append" and self._hit():
                self.write(fd, bytes(data)[: len(data) // 2])
                _fail(self.kind)
        return self.write(fd, data)

    def on_fsync(self, fd: int) -> None:
        """Temp files: fail their fsync (disk full) or die before their rename."""
        path = _path(fd)
        if path.endswith(".tmp") and self._targets(path) and self._hit():
            _fail(self.kind)
        self.fsync(fd)

    def on_replace(self, src: Any, dst: Any, **kw: Any) -> None:
        """Renames of config.toml and trajectories (read-only, no permission)."""
        renames = ("erofs-config", "eacces-trajectory", "erofs-trajectory")
        if self.kind in renames and self._targets(str(dst)) and self._hit():
            _fail(self.kind)
        self.replace(src, dst, **kw)

    def _targets(self, path: str) -> bool:
        name = os.path.basename(path)
        if "trajectory" in self.kind:
            return "/trajectories/" in path
        if "csv" in self.kind:
            return name.startswith("episodes.csv")
        if "config" in self.kind:
            return name.startswith("config.toml")
        return False


def install(kind: str, n: int) -> FaultyOS:
    """Patch the ``os`` functions the store uses (process-wide, this process only)."""
    if kind not in KINDS:
        raise SystemExit(f"unknown fault {kind!r}: use one of {', '.join(KINDS)}")
    faulty = FaultyOS(kind, n)
    hooks: dict[str, Callable[..., Any]] = {
        "write": faulty.on_write,
        "replace": faulty.on_replace,
    }
    if not kind.endswith(("config", "eacces-trajectory", "erofs-trajectory")):
        hooks["fsync"] = faulty.on_fsync
    for name, fn in hooks.items():
        setattr(os, name, fn)
    return faulty


def main(argv: list[str]) -> int:
    """``KIND N -- ARGS``: install the fault, then run ``harness.run`` with ARGS."""
    kind, n, sep, *args = argv
    assert sep == "--", "usage: KIND N -- HARNESS_RUN_ARGS..."
    install(kind, int(n))
    from harness.run import main as run_main

    return run_main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
