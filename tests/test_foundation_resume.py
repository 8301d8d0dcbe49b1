"""Kill-and-resume: a run SIGKILLed at random moments and resumed ends with exactly the
episodes of an uninterrupted run; a torn last line of the episode log is cut and rerun."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.run import main
from harness.store import RunStore
from tests.foundation_helpers import ROOT, episode_lines, records, run_cli, trajectories

SLOW = "tests.foundation_helpers:slow_agent"
EPISODES = 24
ARGS = (
    *("--envs", "harness/KeyChest-v0", "--agents", SLOW),
    *("--episodes", str(EPISODES), "--max-steps", "6", "--seed", "5"),
    *("--leaderboard", ""),
)


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen[bytes], limit_s: float) -> None:
    end = time.monotonic() + limit_s
    while _lines(path) < n and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)


def test_sigkill_and_resume_equals_uninterrupted(tmp_path: Path) -> None:
    """Kill -9 at random moments (startup included, and just after episodes land), resume
    each time, finish with --resume: same episode set, no duplicate, no corrupt line, same
    records and trajectories as an uninterrupted run (timing fields aside)."""
    ref, out = tmp_path / "ref", tmp_path / "killed"
    # The uninterrupted run, without the agent's sleep (it changes timing only).
    done = run_cli(*ARGS, "--out", ref, "--agent-opt", f"{SLOW}.delay_s=0")
    assert done.returncode == 0, done.stderr
    log = out / "episodes.jsonl"
    rng = random.Random(20240601)
    kills, partial = 0, 0
    for round_ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness.run", *ARGS, "--out", str(out), "--resume"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if round_ % 2 == 0:
            time.sleep(rng.uniform(0.05, 1.3))  # any moment, startup included
        else:
            _wait_for_lines(log, _lines(log) + 1, proc, limit_s=30)
            time.sleep(rng.uniform(0.0, 0.12))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        partial += 0 < _lines(log) < EPISODES
    assert kills >= 3, "the run finished before it could be killed: make episodes slower"
    assert partial >= 1, "no kill landed mid-run"
    finish = run_cli(*ARGS, "--out", out, "--resume")
    assert finish.returncode == 0, finish.stderr

    lines = episode_lines(out)  # every line parses, the file ends with a newline
    keys = [f"{r['env_id']}|{r['agent']}|{r['seed']}" for r in lines]
    assert len(keys) == len(set(keys)) == EPISODES, "duplicate or missing episode lines"
    assert records(out) == records(ref)
    assert trajectories(out) == trajectories(ref)
    csv_rows = (out / "episodes.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + EPISODES


def test_torn_last_line_is_cut_and_rerun(tmp_path: Path) -> None:
    args = ["--envs", "harness/KeyChest-v0", "--agents", "random", "--episodes", "4"]
    args += ["--seed", "9", "--out", str(tmp_path), "--leaderboard", ""]
    assert main(args) == 0
    before = records(tmp_path)
    log = tmp_path / "episodes.jsonl"
    raw = log.read_bytes()
    last = raw.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    torn = raw[: len(raw) - len(last) - 1] + last[: len(last) // 2]  # partial JSON, no newline
    log.write_bytes(torn)
    torn_key = "{env_id}|{agent}|{seed}".format(**json.loads(last))

    assert len(RunStore(tmp_path).load()) == 3  # reading alone skips the torn tail
    assert log.read_bytes() == torn  # ...and does not repair it
    assert main(["--out", str(tmp_path), "--resume", "--leaderboard", ""]) == 0
    lines = episode_lines(tmp_path)
    assert len(lines) == 4
    after = records(tmp_path)
    assert after == before and torn_key in after
    assert log.read_bytes().startswith(torn[: len(raw) - len(last) - 1])


def test_resume_of_a_finished_run_runs_nothing(tmp_path: Path) -> None:
    args = ["--envs", "harness/KeyChest-v0", "--agents", "expert", "--episodes", "3"]
    args += ["--out", str(tmp_path), "--leaderboard", ""]
    assert main(args) == 0
    raw = (tmp_path / "episodes.jsonl").read_bytes()
    assert main([*args, "--resume"]) == 0
    assert (tmp_path / "episodes.jsonl").read_bytes() == raw
