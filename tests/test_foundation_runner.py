"""Runner: error isolation (env raises, env or agent hangs, agent fails, episode time limit)
and determinism (same seed, same trajectories; --workers 2 equals --workers 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run import EXIT_EPISODE_ERRORS, main
from harness.runner import EpisodeJob, Limits, Worker
from tests.fakes import FakeCountEnv
from tests.foundation_helpers import (
    HANG_ID,
    LONG_ID,
    RAISE_ID,
    FakeRaisingAgent,
    records,
    register_fake_envs,
    trajectories,
)

KEYCHEST = "harness/KeyChest-v0"
HANGING = "tests.fakes:FakeHangingAgent"
RAISING = "tests.foundation_helpers:FakeRaisingAgent"
SLOW = "tests.foundation_helpers:slow_agent"


@pytest.fixture(autouse=True)
def _fake_envs() -> None:
    register_fake_envs()


def _run(out: Path, *args: str) -> int:
    return main([*args, "--out", str(out), "--leaderboard", ""])


def test_failures_are_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    """An env that raises, an env that hangs, an agent that hangs and one that raises: each
    failed episode has ``error`` set, every other episode completes, the run finishes."""
    rc = _run(
        tmp_path,
        *("--envs", RAISE_ID, HANG_ID, KEYCHEST),
        *("--agents", "expert", HANGING, RAISING),
        *("--episodes", "2", "--max-steps", "20", "--step-timeout", "0.3"),
    )
    assert rc == EXIT_EPISODE_ERRORS  # the run went on, and says that episodes failed
    recs = records(tmp_path)
    assert len(recs) == 3 * 3 * 2

    def err(env: str, agent: str, seed: int) -> str:
        return str(recs[f"{env}|{agent}|{seed}"]["error"])

    for seed in (0, 1):
        assert "RuntimeError: fake env failure" in err(RAISE_ID, "expert", seed)
        assert err(HANG_ID, "expert", seed).startswith("StepTimeout")
        assert err(KEYCHEST, "expert", seed) == ""
        assert recs[f"{KEYCHEST}|expert|{seed}"]["success"] is True
        for env in (RAISE_ID, HANG_ID, KEYCHEST):
            assert err(env, HANGING, seed).startswith("StepTimeout: step 0 exceeded 0.3s")
        assert "RuntimeError: fake agent failure" in err(KEYCHEST, RAISING, seed)
        assert "RuntimeError: fake agent failure" in err(RAISE_ID, RAISING, seed)
    board = (tmp_path / "leaderboard.csv").read_text().splitlines()
    assert len(board) == 1 + 9
    episodes_csv = (tmp_path / "episodes.csv").read_text()
    assert episodes_csv.count("StepTimeout") == 2 * 4  # hanging agent x 3 envs + hanging env


def test_episode_time_limit(tmp_path: Path) -> None:
    """An episode running past --episode-timeout is cut and recorded; a fast one is not."""
    rc = _run(
        tmp_path,
        *("--envs", LONG_ID, "--agents", SLOW, "expert"),
        *("--episodes", "2", "--max-steps", "500"),
        *("--step-timeout", "30", "--episode-timeout", "0.4"),
        *("--agent-opt", f"{SLOW}.delay_s=0.02"),
    )
    assert rc == EXIT_EPISODE_ERRORS
    recs = records(tmp_path)
    for seed in (0, 1):
        assert str(recs[f"{LONG_ID}|{SLOW}|{seed}"]["error"]).startswith("EpisodeTimeout")
        fast = recs[f"{LONG_ID}|expert|{seed}"]
        assert fast["error"] == "" and fast["steps"] == 500 and fast["truncated"] is True


def test_same_seed_same_trajectories(tmp_path: Path) -> None:
    args = ("--envs", KEYCHEST, "--agents", "random", "expert", "--episodes", "4", "--seed", "11")
    assert _run(tmp_path / "a", *args) == 0
    assert _run(tmp_path / "b", *args) == 0
    assert records(tmp_path / "a") == records(tmp_path / "b")
    traj = trajectories(tmp_path / "a")
    assert len(traj) == 8 and all(len(steps) > 1 for steps in traj.values())
    assert traj == trajectories(tmp_path / "b")
    # and a different seed gives a different run (the comparison can fail)
    assert _run(tmp_path / "c", *args[:-1], "12") == 0
    assert trajectories(tmp_path / "c") != traj


def test_two_workers_match_one(tmp_path: Path) -> None:
    args = ("--envs", KEYCHEST, "--agents", "random", "expert", "--episodes", "6", "--seed", "3")
    assert _run(tmp_path / "w1", *args, "--workers", "1") == 0
    assert _run(tmp_path / "w2", *args, "--workers", "2") == 0
    assert records(tmp_path / "w1") == records(tmp_path / "w2")
    assert trajectories(tmp_path / "w1") == trajectories(tmp_path / "w2")


def test_a_failed_episode_closes_the_env_and_agent_it_discards() -> None:
    """The worker drops the env and agent of a failed episode and closes them (a hung one's
    are left open: its thread may still use them); the next episode gets fresh ones."""
    closed: list[str] = []

    class Env(FakeCountEnv):
        def close(self) -> None:
            closed.append("env")

    class Agent(FakeRaisingAgent):
        def close(self) -> None:
            closed.append("agent")

    worker = Worker(lambda _: Env(raise_at=0), lambda _: Agent())
    limits = Limits(step_s=30.0, episode_s=60.0)
    first = worker.run(EpisodeJob("fake", "raising", 0), "test", 5, limits)
    assert "fake env failure" in first.record.error
    assert sorted(closed) == ["agent", "env"] and not worker.envs and not worker.agents
    worker.make_env = lambda _: Env(n=1)
    second = worker.run(EpisodeJob("fake", "raising", 1), "test", 5, limits)
    assert second.record.error == "" and second.record.success
    worker.close()
    assert sorted(closed) == ["agent", "agent", "env", "env"]
