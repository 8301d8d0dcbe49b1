"""Fault injection on the write path (``tests/fault_driver.py``): SIGKILL at chosen points,
disk full, read-only, no permission. After each fault and one ``--resume``: finished
episodes lost 0, duplicated 0, records and trajectories equal an uninterrupted run, no temp
file left; storage faults exit 2 with one ``error:`` line."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fault_driver import KILLS, KINDS
from tests.foundation_helpers import ROOT, records, run_cli, trajectories

pytestmark = pytest.mark.faults

EPISODES = 8
ARGS = (
    *("--envs", "harness/KeyChest-v0", "--agents", "random", "--episodes", str(EPISODES)),
    *("--seed", "11", "--max-steps", "8", "--leaderboard", ""),
)
ONCE = ("kill-csv-rewrite", "enospc-csv", "erofs-config")  # one such write per run
ERRNO_NAME = {"enospc": "ENOSPC", "eacces": "EACCES", "erofs": "EROFS"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted run."""
    out = tmp_path_factory.mktemp("ref")
    done = run_cli(*ARGS, "--out", out)
    assert done.returncode == 0, done.stderr
    return out


def faulted_run(kind: str, n: int, out: Path) -> subprocess.CompletedProcess[str]:
    """``harness.run`` into ``out`` with fault ``kind`` at the ``n``-th targeted write."""
    cmd = [sys.executable, "-m", "tests.fault_driver", kind, str(n), "--", *ARGS]
    return subprocess.run(
        [*cmd, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def lines_of(out: Path) -> list[bytes]:
    """The episode log's complete lines."""
    path = out / "episodes.jsonl"
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


@pytest.mark.parametrize("kind", KINDS)
def test_fault_then_resume_loses_and_doubles_nothing(
    kind: str, reference: Path, tmp_path: Path
) -> None:
    n = 1 if kind in ONCE else random.Random(kind).randint(1, EPISODES)
    proc = faulted_run(kind, n, tmp_path)
    finished = [line for line in lines_of(tmp_path) if line.endswith(b"\n")]
    if kind in KILLS:
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    else:
        assert proc.returncode == 2, proc.stderr
        errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert ERRNO_NAME[kind.split("-")[0]] in errors[0] and "--resume" in errors[0]
        assert not list(tmp_path.rglob("*.tmp")), "a temp file was left behind"
        assert not finished or (tmp_path / "episodes.jsonl").read_bytes().endswith(b"\n")
    if kind not in ("kill-csv-rewrite", "enospc-csv", "erofs-config"):
        assert len(finished) == n - 1  # the fault hit the n-th episode's write

    resumed = run_cli(*ARGS, "--out", tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert lines_of(tmp_path)[: len(finished)] == finished  # every record before the fault
    got, want = records(tmp_path), records(reference)
    keys = [line.split(b'"seed": ')[1].split(b",")[0] for line in lines_of(tmp_path)]
    assert len(keys) == len(set(keys)) == EPISODES, "an episode was lost or doubled"
    assert got == want
    assert trajectories(tmp_path) == trajectories(reference)
    assert not list(tmp_path.rglob("*.tmp"))
    assert len((tmp_path / "episodes.csv").read_text().splitlines()) == 1 + EPISODES


def test_enospc_mid_append_leaves_no_partial_line(tmp_path: Path) -> None:
    proc = faulted_run("enospc-append", 3, tmp_path)
    assert proc.returncode == 2, proc.stderr
    raw = (tmp_path / "episodes.jsonl").read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 2  # the half line was truncated away
