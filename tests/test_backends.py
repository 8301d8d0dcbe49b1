"""Backends without Ray running: the local thread backend, the episode task spec, CLI and
config handling of --backend / --ray-address."""

from __future__ import annotations

import os
import pickle
import sys
import threading
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

from harness import api, run
from harness.backends import (
    BackendError,
    LocalBackend,
    ProcessBackend,
    RayBackend,
    make_backend,
)
from harness.config import ConfigError, RunConfig, load_toml, to_toml
from harness.runner import EpisodeJob, EpisodeTask, Limits
from tests.fakes_backends import FakeDyingSpec, deaths


@dataclass
class _Runner:
    """Fake runner: job 0 waits for ``release`` (set by the test); negative jobs raise."""

    log: list[str]
    active: list[int]
    release: threading.Event
    closed: bool = False

    def run(self, job: int) -> tuple[int, str]:
        self.active.append(1)
        try:
            if job < 0:
                raise ValueError("negative job")
            if job == 0:
                return job, "released" if self.release.wait(30) else "never released"
            return job, threading.current_thread().name
        finally:
            self.log.append(f"max{len(self.active)}")
            self.active.pop()

    def close(self) -> None:
        self.closed = True


@dataclass
class _Spec:
    """Fake TaskSpec recording the runners it starts."""

    runners: list[_Runner] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    active: list[int] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> _Runner:
        r = _Runner(self.log, self.active, self.release)
        self.runners.append(r)
        return r

    def lost(self, job: int, error: str) -> tuple[int, str]:
        return job, f"lost: {error}"


def test_local_backend_streams_one_result_per_job_in_completion_order() -> None:
    spec = _Spec()
    results = []
    for res in LocalBackend(2).map(spec, [0, 1, 1, 1, -1, 2]):
        results.append(res)
        if len(results) == 5:  # the others streamed past the blocked job: let it finish
            spec.release.set()
    assert results[-1] == (0, "released")
    assert sorted(j for j, _ in results) == [-1, 0, 1, 1, 1, 2]
    assert dict(results)[-1].startswith("lost: ValueError: negative job")
    assert 1 <= len(spec.runners) <= 2 and all(r.closed for r in spec.runners)
    assert max(int(x[3:]) for x in spec.log) <= 2


def test_process_backend_reruns_a_job_whose_process_died(tmp_path: Path) -> None:
    spec = FakeDyingSpec(str(tmp_path), os.getpid(), die_job=2, times=1)
    listed = list(ProcessBackend(2).map(spec, [1, 2, 3, -1]))
    assert deaths(tmp_path) == 1
    assert sorted(j for j, _ in listed) == [-1, 1, 2, 3]  # each job once
    results = dict(listed)
    assert all(results[j].isdigit() for j in (1, 2, 3)) and results[2] != str(os.getpid())
    assert results[-1].startswith("lost: ValueError: negative job")


def test_process_backend_reports_a_job_that_keeps_killing_its_process(tmp_path: Path) -> None:
    spec = FakeDyingSpec(str(tmp_path), os.getpid(), die_job=2, times=99)
    results = list(ProcessBackend(1, max_retries=1).map(spec, [1, 2, 3]))
    assert sorted(j for j, _ in results) == [1, 2, 3]
    assert deaths(tmp_path) == 2  # the first try and its one retry
    assert dict(results)[2].startswith("lost: worker process died")
    assert dict(results)[3].isdigit()


def test_episode_task_pickles_and_lost_episode_is_an_error_record() -> None:
    cfg = RunConfig(envs=("harness/KeyChest-v0",), agents=("random",))
    task = EpisodeTask(
        partial(api.make_env, cfg), partial(api.build_agent, cfg), "test", 5, Limits(1.0, 9.0)
    )
    clone = pickle.loads(pickle.dumps(task))
    runner = clone.start()
    try:
        res = runner.run(EpisodeJob("harness/KeyChest-v0", "random", 3))
        capped = runner.run(EpisodeJob("harness/KeyChest-v0", "random", 3, max_steps=2))
    finally:
        runner.close()
    assert res.record.error == "" and res.record.steps == 5
    assert capped.record.steps == 2 and capped.record.truncated  # the job's own step cap
    lost = task.lost(EpisodeJob("harness/KeyChest-v0", "random", 4), "WorkerCrashedError: x")
    assert lost.record.error == "WorkerCrashedError: x" and lost.record.seed == 4
    assert lost.steps == []


def test_ray_address_round_trips_and_backend_is_checked(tmp_path: Path) -> None:
    cfg = RunConfig(backend="ray", ray_address="ray://head:10001", ray_gpus=0.25)
    (tmp_path / "c.toml").write_text(to_toml(cfg))
    assert RunConfig(**load_toml(tmp_path / "c.toml")) == cfg
    with pytest.raises(ConfigError, match="ray_gpus"):
        RunConfig(ray_gpus=-1.0).validate()
    with pytest.raises(ConfigError, match="backend"):
        RunConfig(backend="dask").validate()
    with pytest.raises(BackendError, match="unknown backend"):
        make_backend("dask", 1)


def test_ray_address_without_ray_backend_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--envs", "harness/KeyChest-v0", "--out", str(tmp_path / "r"), "--ray-address", "auto"]
    assert run.main(argv) == run.EXIT_BAD_INPUT
    assert "--ray-address and --ray-gpus need --backend ray" in capsys.readouterr().err


def test_missing_ray_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(BackendError, match=r"qharness\[ray\]"):
        list(RayBackend(1).map(_Spec(), [1]))
    argv = ["--envs", "harness/KeyChest-v0", "--episodes", "1", "--backend", "ray"]
    argv += ["--out", str(tmp_path / "r"), "--leaderboard", ""]
    assert run.main(argv) == run.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == "error: --backend ray needs ray: pip install 'qharness[ray]'"
