"""Helpers for the foundation tests: a slow plug-in agent, a failing agent, fake env ids, and
run-directory readers that drop timing fields. Fakes here are for unit tests only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

from agents.base import Decision, Step
from agents.baselines import RandomAgent

ROOT = Path(__file__).resolve().parent.parent
TIMING_RECORD = ("wall_s",)
TIMING_STEP = ("latency_s",)

# Fake env ids (FakeCountEnv from tests/fakes.py), outside the harness/ namespace on purpose.
RAISE_ID = "harness-test/Raise-v0"  # raises on the 3rd "next"
HANG_ID = "harness-test/Hang-v0"  # sleeps for an hour on its 2nd step
LONG_ID = "harness-test/Long-v0"  # needs 10,000 "next": never won within a test's max steps


def register_fake_envs() -> None:
    """Register the fake env ids with Gymnasium (idempotent)."""
    rows = {
        RAISE_ID: {"n": 5, "raise_at": 2},
        HANG_ID: {"n": 5, "hang_at": 1},
        LONG_ID: {"n": 10_000},
    }
    for env_id, kwargs in rows.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="tests.fakes:FakeCountEnv", kwargs=kwargs)


class SlowRandomAgent(RandomAgent):
    """The random baseline, sleeping ``delay_s`` before each action (gives a run duration)."""

    def __init__(self, delay_s: float = 0.03) -> None:
        super().__init__()
        self.delay_s = float(delay_s)

    def act(self, step: Step) -> Decision:
        """Sleep, then a uniformly drawn admissible action."""
        time.sleep(self.delay_s)
        return super().act(step)


def slow_agent(delay_s: float = 0.03) -> SlowRandomAgent:
    """Factory for ``--agents tests.foundation_helpers:slow_agent``."""
    return SlowRandomAgent(delay_s)


class FakeRaisingAgent:
    """Fake agent whose ``act`` fails on its second step (a provider error, say)."""

    def reset(self, task: str, seed: int) -> None:
        """Nothing to reset."""

    def act(self, step: Step) -> Decision:
        """``next``, then a RuntimeError."""
        if step.t >= 1:
            raise RuntimeError("fake agent failure")
        return Decision("next")


def run_cli(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120):
    """``python -m harness.run ARGS`` in a subprocess from the repo root.

    Runs must name ``--leaderboard`` (``''`` or a temp path): the default would write the
    repo's results/leaderboard.csv."""
    argv = list(map(str, args))
    guarded = ("--leaderboard", "--list", "--resume", "--config", "--check-env", "--dry-run")
    assert any(flag in argv for flag in guarded), argv
    return subprocess.run(
        [sys.executable, "-m", "harness.run", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def episode_lines(run_dir: Path) -> list[dict[str, Any]]:
    """Every line of ``episodes.jsonl`` parsed (fails on a corrupt or unterminated line)."""
    raw = (run_dir / "episodes.jsonl").read_text(encoding="utf-8")
    assert raw.endswith("\n"), "episodes.jsonl ends with a partial line"
    return [json.loads(line) for line in raw.splitlines()]


def records(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Episode records by key (env|agent|seed), timing fields removed."""
    out = {}
    for rec in episode_lines(run_dir):
        key = f"{rec['env_id']}|{rec['agent']}|{rec['seed']}"
        out[key] = {k: v for k, v in rec.items() if k not in TIMING_RECORD}
    return out


def trajectories(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every trajectory file by name, timing fields removed from each step."""
    out = {}
    for path in sorted((run_dir / "trajectories").glob("*.jsonl")):
        steps = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        out[path.name] = [{k: v for k, v in s.items() if k not in TIMING_STEP} for s in steps]
    return out
