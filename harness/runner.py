"""The episode loop and its supervisor. Knows no env or agent by name.

Each episode runs in its own thread under a supervisor that enforces the per-step and
per-episode time limits; an episode that raises or hangs becomes a record with ``error`` set,
and the run goes on. A timed-out episode's policy calls are cancelled
(``agents.llm.cancel``): its request's connection is closed and it makes no further calls.
Workers reuse envs and agents across episodes, discarding any that were part of a failed
episode.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from agents.base import Agent, Decision, Step, Turn, wants_expert
from agents.llm.cancel import cancel_thread
from envs.base import INVALID_ACTION, SPLIT, TASK, TASK_ID, TASK_TYPE, WON
from harness.backends import Backend, LocalBackend, describe
from harness.records import EpisodeRecord, StepRecord

METRICS = "metrics"


@dataclass(frozen=True)
class EpisodeJob:
    """One planned episode."""

    env_id: str
    agent: str
    seed: int
    max_steps: int = 0  # 0: the run's step limit


@dataclass
class _Progress:
    """Shared between an episode thread and its supervisor."""

    started: float = field(default_factory=time.monotonic)
    step_started: float = field(default_factory=time.monotonic)
    t: int = 0
    cancelled: bool = False


@dataclass
class EpisodeResult:
    """A finished episode: its record and its trajectory."""

    record: EpisodeRecord
    steps: list[StepRecord]


class EpisodeTimeout(RuntimeError):
    """A step or the whole episode ran past its time limit."""


def play_episode(
    env: gym.Env[Any, Any],
    agent: Agent,
    job: EpisodeJob,
    split: str,
    max_steps: int,
    progress: _Progress | None = None,
) -> EpisodeResult:
    """Run one episode to the end (or ``max_steps``); exceptions propagate to the caller."""
    progress = progress or _Progress()
    t0 = time.perf_counter()
    obs, info = env.reset(seed=job.seed, options={"split": split, "expert": wants_expert(agent)})
    agent.reset(str(info.get(TASK, "")), job.seed)
    task_type = str(info.get(TASK_TYPE) or "")
    steps: list[StepRecord] = []
    history: list[Turn] = []
    total, terminated, truncated = 0.0, False, False
    for t in range(max_steps):
        if progress.cancelled:
            raise EpisodeTimeout("cancelled")
        progress.t, progress.step_started = t, time.monotonic()
        a0 = time.perf_counter()
        decision = agent.act(Step(t, obs, info, tuple(history), job.env_id))
        if not isinstance(decision, Decision):
            raise TypeError(f"agent returned {type(decision).__name__}, not a Decision")
        latency = time.perf_counter() - a0
        next_obs, reward, terminated, truncated, info = env.step(decision.action)
        total += float(reward)
        steps.append(
            _step_record(t, obs, decision, float(reward), bool(info.get(INVALID_ACTION)), latency)
        )
        history.append(Turn(obs, decision.action))
        obs = next_obs
        if terminated or truncated:
            break
    steps_taken = len(steps)
    truncated = truncated or (not terminated and steps_taken >= max_steps)
    record = EpisodeRecord(
        env_id=job.env_id,
        agent=job.agent,
        seed=job.seed,
        task_id=str(info.get(TASK_ID, "")),
        split=str(info.get(SPLIT, split)),
        success=bool(info.get(WON, False)),
        total_reward=total,
        steps=steps_taken,
        invalid_actions=sum(s.invalid_action for s in steps),
        input_tokens=sum(s.input_tokens for s in steps),
        output_tokens=sum(s.output_tokens for s in steps),
        wall_s=time.perf_counter() - t0,
        truncated=truncated,
        metrics={k: float(v) for k, v in dict(info.get(METRICS) or {}).items()},
        task_type=task_type,
    )
    steps.append(StepRecord(steps_taken, obs, "", 0.0, meta={"terminal": True}))
    return EpisodeResult(record, steps)


def _step_record(
    t: int, obs: str, d: Decision, reward: float, invalid: bool, latency: float
) -> StepRecord:
    return StepRecord(
        t=t,
        observation=obs,
        action=d.action,
        reward=reward,
        thought=d.thought,
        invalid_action=invalid,
        input_tokens=d.input_tokens,
        output_tokens=d.output_tokens,
        latency_s=round(latency, 6),
        candidates=[c.to_dict() for c in d.candidates],
        meta=dict(d.meta),
    )


def error_record(job: EpisodeJob, split: str, error: str, wall_s: float) -> EpisodeRecord:
    """The record of an episode that failed before it could finish."""
    return EpisodeRecord(
        env_id=job.env_id,
        agent=job.agent,
        seed=job.seed,
        task_id="",
        split=split,
        success=False,
        total_reward=0.0,
        steps=0,
        invalid_actions=0,
        input_tokens=0,
        output_tokens=0,
        wall_s=wall_s,
        error=error[:2000],
    )


@dataclass(frozen=True)
class Limits:
    """Time limits of one episode, in seconds."""

    step_s: float
    episode_s: float
    poll_s: float = 0.05
    cancel_grace_s: float = 0.5  # how long a cancelled episode thread gets to unwind


class Worker:
    """Holds envs and agents for reuse across episodes; supervises each episode it runs."""

    def __init__(
        self, make_env: Callable[[str], gym.Env[Any, Any]], make_agent: Callable[[str], Agent]
    ) -> None:
        self.make_env, self.make_agent = make_env, make_agent
        self.envs: dict[str, gym.Env[Any, Any]] = {}
        self.agents: dict[str, Agent] = {}

    def run(self, job: EpisodeJob, split: str, max_steps: int, limits: Limits) -> EpisodeResult:
        """Run ``job``; any failure or time-out comes back as a record with ``error``."""
        t0 = time.perf_counter()
        box: dict[str, Any] = {}
        progress = _Progress()

        def body() -> None:
            try:
                env = self.envs.get(job.env_id) or self.make_env(job.env_id)
                self.envs[job.env_id] = env
                agent = self.agents.get(job.agent) or self.make_agent(job.agent)
                self.agents[job.agent] = agent
                box["result"] = play_episode(env, agent, job, split, max_steps, progress)
            except BaseException as exc:
                box["error"] = describe(exc)

        thread = threading.Thread(target=body, name=f"episode-{job.seed}", daemon=True)
        thread.start()
        error = self._supervise(thread, progress, limits)
        if error is None and "result" in box:
            return box["result"]
        stale = [self.envs.pop(job.env_id, None), self.agents.pop(job.agent, None)]
        if thread.is_alive():  # abort its policy request, so it frees the server and ends
            cancel_thread(thread)
            thread.join(limits.cancel_grace_s)
        if not thread.is_alive():  # a hung episode's thread may still be using them
            _close(stale)
        return EpisodeResult(
            error_record(
                job, split, error or box.get("error", "unknown"), time.perf_counter() - t0
            ),
            [],
        )

    @staticmethod
    def _supervise(thread: threading.Thread, p: _Progress, limits: Limits) -> str | None:
        while True:
            thread.join(limits.poll_s)
            if not thread.is_alive():
                return None
            now = time.monotonic()
            if now - p.started > limits.episode_s:
                p.cancelled = True
                return f"EpisodeTimeout: episode exceeded {limits.episode_s:g}s (at step {p.t})"
            if now - p.step_started > limits.step_s:
                p.cancelled = True
                return f"StepTimeout: step {p.t} exceeded {limits.step_s:g}s"

    def close(self) -> None:
        """Close envs and agents that have ``close``."""
        _close([*self.envs.values(), *self.agents.values()])


def _close(objs: Sequence[object]) -> None:
    for obj in objs:
        close = getattr(obj, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):
                close()


@dataclass(frozen=True)
class EpisodeTask:
    """Plays EpisodeJobs: the ``TaskSpec`` of ``harness.backends`` for episodes.

    Picklable (for Ray) when its factories are, e.g. ``functools.partial`` of module-level
    functions; each worker builds its envs and agents itself, so they need not pickle.
    """

    make_env: Callable[[str], gym.Env[Any, Any]]
    make_agent: Callable[[str], Agent]
    split: str
    max_steps: int
    limits: Limits

    def start(self) -> EpisodeRunner:
        """A fresh worker (its own env and agent caches)."""
        return EpisodeRunner(self, Worker(self.make_env, self.make_agent))

    def lost(self, job: EpisodeJob, error: str) -> EpisodeResult:
        """The record of an episode whose worker died (or whose runner raised)."""
        return EpisodeResult(error_record(job, self.split, error, 0.0), [])


@dataclass
class EpisodeRunner:
    """One worker's ``JobRunner``: plays each job with ``Worker.run``."""

    task: EpisodeTask
    worker: Worker

    def run(self, job: EpisodeJob) -> EpisodeResult:
        """Play ``job`` under the task's limits."""
        t = self.task
        return self.worker.run(job, t.split, job.max_steps or t.max_steps, t.limits)

    def close(self) -> None:
        """Close the worker's envs and agents."""
        self.worker.close()


def run_jobs(
    jobs: Sequence[EpisodeJob],
    workers: int,
    split: str,
    max_steps: int,
    limits: Limits,
    make_env: Callable[[str], gym.Env[Any, Any]],
    make_agent: Callable[[str], Agent],
    backend: Backend | None = None,
) -> Iterator[EpisodeResult]:
    """Run ``jobs`` on ``backend`` (default: ``workers`` threads); yield results as they finish."""
    task = EpisodeTask(make_env, make_agent, split, max_steps, limits)
    yield from (backend or LocalBackend(workers)).map(task, jobs)
