"""A collection run's files: the task log, one tree file per searched task, the settings.

Written by ``python -m qvalue.collect``; read by pair building (``scoring.q.pairs``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TASKS_FILE = "tasks.jsonl"
SETTINGS_FILE = "collect.json"
TREES = "trees"


class CollectError(RuntimeError):
    """Bad input for a collection run (printed as one line, exit code 2)."""


def task_file(seed: int) -> str:
    """Tree file name of the task searched from ``seed``."""
    return f"seed-{seed}.jsonl"


def done_seeds(out: Path) -> set[int]:
    """Seeds of the tasks already finished in ``out`` (a torn last line is ignored)."""
    path = out / TASKS_FILE
    if not path.exists():
        return set()
    seeds = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            seeds.add(int(json.loads(line)["seed"]))
        except (ValueError, KeyError, TypeError):
            continue
    return seeds


def load_trees(run_dir: str | Path) -> list[dict[str, Any]]:
    """All node records of the finished tasks of a collection run."""
    run = Path(run_dir)
    if not (run / TASKS_FILE).exists():
        raise CollectError(f"{str(run)!r} is not a collection run (no {TASKS_FILE})")
    nodes: list[dict[str, Any]] = []
    for seed in sorted(done_seeds(run)):
        text = (run / TREES / task_file(seed)).read_text(encoding="utf-8")
        nodes.extend(json.loads(line) for line in text.splitlines() if line)
    return nodes
