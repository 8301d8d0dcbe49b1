"""Fakes for the backend tests only: a task spec and an agent that kill their worker process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agents.base import Decision, Step
from agents.baselines import RandomAgent


class FakeDyingAgent(RandomAgent):
    """Fake agent: plays like ``random``, but on ``die_seed`` at step ``die_at`` it kills its
    Ray worker process (``os._exit``), the first ``times`` times only (counted by marker files
    in ``marker_dir``). Outside a Ray worker it raises instead of killing the process."""

    def __init__(self, marker_dir: str, die_seed: int = 1, die_at: int = 2, times: int = 1) -> None:
        super().__init__()
        self.marker_dir, self.die_seed, self.die_at, self.times = (
            Path(marker_dir),
            die_seed,
            die_at,
            times,
        )
        self.seed = -1

    def reset(self, task: str, seed: int) -> None:
        """Remember the seed; seed the random play."""
        super().reset(task, seed)
        self.seed = seed

    def act(self, step: Step) -> Decision:
        """A random action, or death of the worker process."""
        if self.seed == self.die_seed and step.t == self.die_at:
            deaths = len(list(self.marker_dir.glob("death-*")))
            if deaths < self.times:
                if not _in_ray_worker():
                    raise RuntimeError("FakeDyingAgent only kills Ray worker processes")
                (self.marker_dir / f"death-{deaths}").write_text(str(os.getpid()))
                os._exit(1)
        return super().act(step)


def _in_ray_worker() -> bool:
    import ray

    return bool(ray.is_initialized() and ray.get_runtime_context().worker.mode == ray.WORKER_MODE)


def deaths(marker_dir: str | Path) -> int:
    """How many times the agent killed its worker."""
    return len(list(Path(marker_dir).glob("death-*")))


@dataclass(frozen=True)
class FakeDyingSpec:
    """Fake TaskSpec of ``harness.backends``: a job ``n`` returns ``(n, pid)``; job ``die_job``
    kills its process the first ``times`` times (marker files in ``marker_dir``); negative
    jobs raise. It never kills ``driver_pid`` (the test process)."""

    marker_dir: str
    driver_pid: int
    die_job: int = -99
    times: int = 1

    def start(self) -> FakeDyingSpec:
        """The spec is its own runner (it holds no state)."""
        return self

    def run(self, job: int) -> tuple[int, str]:
        """``(job, pid)``, or death of the process, or ValueError for a negative job."""
        if job == self.die_job and deaths(self.marker_dir) < self.times:
            if os.getpid() == self.driver_pid:
                raise RuntimeError("FakeDyingSpec only kills worker processes")
            (Path(self.marker_dir) / f"death-{deaths(self.marker_dir)}").write_text("")
            os._exit(1)
        if job < 0:
            raise ValueError("negative job")
        return job, str(os.getpid())

    def close(self) -> None:
        """Nothing to close."""

    def lost(self, job: int, error: str) -> tuple[int, str]:
        """``(job, "lost: <error>")``."""
        return job, f"lost: {error}"
