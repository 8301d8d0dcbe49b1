"""A run directory: resolved config, append-only episode log, one trajectory file per episode.

Crash safety: a trajectory is written to a temp file and renamed before its episode line is
appended; the episode line is one ``write`` on an O_APPEND descriptor followed by fsync. A
SIGKILL can leave at most a torn last line, which ``open`` cuts off; that episode reruns.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.config import RunConfig, to_toml
from harness.records import EpisodeRecord, StepRecord

EPISODES = "episodes.jsonl"
CONFIG = "config.toml"
TRAJECTORIES = "trajectories"


def atomic_write(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temp file (named per process and
    thread, so concurrent writers of one path never share it), fsync, then one rename."""
    p = Path(path)
    tmp = p.with_name(f"{p.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, p)


class RunDirError(RuntimeError):
    """The run directory cannot be used as asked (exists without --resume, unwritable)."""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "x"


def trajectory_name(env_id: str, agent: str, seed: int) -> str:
    """File name of an episode's trajectory inside ``trajectories/``."""
    return f"{_safe(env_id)}__{_safe(agent)}__{seed}.jsonl"


class RunStore:
    """Reads and writes one run directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.episodes_path = self.root / EPISODES
        self.traj_dir = self.root / TRAJECTORIES

    def open(self, resume: bool) -> list[EpisodeRecord]:
        """Create the dir or, with ``resume``, load finished episodes (cutting a torn tail)."""
        if self.episodes_path.exists() and not resume:
            raise RunDirError(
                f"run directory {str(self.root)!r} already holds results: pass --resume to "
                "continue it, or choose another --out"
            )
        try:
            self.traj_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(
                f"cannot create run directory {str(self.root)!r}: {exc}; choose another --out"
            ) from None
        return self.load(repair=True)

    def load(self, repair: bool = False) -> list[EpisodeRecord]:
        """Episode records in the log; with ``repair``, truncate a partial last line."""
        if not self.episodes_path.exists():
            return []
        raw = self.episodes_path.read_bytes()
        records, good_end = [], 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                records.append(EpisodeRecord.from_dict(json.loads(line)))
            except (ValueError, TypeError):
                break
            good_end += len(line)
        if repair and good_end < len(raw):
            with open(self.episodes_path, "r+b") as fh:
                fh.truncate(good_end)
                fh.flush()
                os.fsync(fh.fileno())
        return records

    def write_config(self, cfg: RunConfig, extra: dict[str, Any] | None = None) -> None:
        """Write the resolved config (``config.toml``, readable by ``--config``) and run info."""
        atomic_write(self.root / CONFIG, to_toml(cfg))
        if extra is not None:
            atomic_write(self.root / "run.json", json.dumps(extra, indent=2, sort_keys=True))

    def append(self, record: EpisodeRecord, steps: Iterable[StepRecord | dict[str, Any]]) -> None:
        """Persist one finished episode: trajectory first, then its episode line."""
        lines = [json.dumps(s.to_dict() if isinstance(s, StepRecord) else s) for s in steps]
        name = trajectory_name(record.env_id, record.agent, record.seed)
        atomic_write(self.traj_dir / name, "".join(line + "\n" for line in lines))
        data = (json.dumps(record.to_dict()) + "\n").encode()
        fd = os.open(self.episodes_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def trajectory(self, env_id: str, agent: str, seed: int) -> list[dict[str, Any]]:
        """The stored steps of one episode."""
        path = self.traj_dir / trajectory_name(env_id, agent, seed)
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
