"""The Ray backend on a local Ray with 2 CPUs (one per module): same records as the local
backend, resume, and workers that die mid-episode (re-run, or recorded as an error)."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("ray") is None:  # not imported here: start_local_ray sets its env first
    pytest.skip("needs ray: pip install 'qharness[ray]'", allow_module_level=True)

from harness import api, run
from harness.backends import RayBackend, start_local_ray
from harness.config import RunConfig
from harness.runner import EpisodeJob, Limits, run_jobs
from tests.fakes_backends import deaths

pytestmark = pytest.mark.slow
ENV = "harness/KeyChest-v0"
DYING = "tests.fakes_backends:FakeDyingAgent"
TIMING = ("wall_s", "latency_s")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray with 2 CPUs for the whole module (startup is slow on 2 cores)."""
    import ray

    seconds = start_local_ray(num_cpus=2)
    print(f"\n[test] local Ray startup {seconds:.1f}s", file=sys.stderr)
    try:
        yield
    finally:
        ray.shutdown()


def _run(out: Path, *args: str) -> None:
    base = ["--envs", ENV, "--out", str(out), "--leaderboard", "", "--workers", "2"]
    assert run.main([*base, *args]) == 0


def _untimed(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _untimed(v) for k, v in obj.items() if k not in TIMING}
    if isinstance(obj, list):
        return [_untimed(v) for v in obj]
    return obj


def _records(out: Path) -> dict[str, Any]:
    """Episode records by key, with their trajectories, minus timing; keys must be unique."""
    lines = (out / "episodes.jsonl").read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    keys = [f"{r['env_id']}|{r['agent']}|{r['seed']}" for r in recs]
    assert len(keys) == len(set(keys)), "an episode was recorded twice"
    trajs = {p.name: p.read_text() for p in (out / "trajectories").glob("*.jsonl")}
    assert len(trajs) == len(recs)
    traj = {n: [json.loads(x) for x in t.splitlines()] for n, t in trajs.items()}
    return _untimed({"episodes": dict(zip(keys, recs, strict=True)), "trajectories": traj})


def test_ray_backend_matches_local_and_resumes(local_ray: None, tmp_path: Path) -> None:
    agents = ["--agents", "random", "expert"]
    _run(tmp_path / "local", *agents, "--episodes", "4")
    _run(tmp_path / "ray", *agents, "--episodes", "2", "--backend", "ray")
    _run(tmp_path / "ray", "--resume", "--extend", "--episodes", "4")  # stored: backend ray
    assert "ray" in (tmp_path / "ray" / "config.toml").read_text()
    local, ray_ = _records(tmp_path / "local"), _records(tmp_path / "ray")
    assert len(local["episodes"]) == 8
    assert ray_ == local


def test_worker_killed_mid_episode_is_rerun(local_ray: None, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    marker.mkdir()
    opts = ["--agents", DYING, "--agent-opt", f"{DYING}.marker_dir={marker}", "--episodes", "3"]
    t0 = time.perf_counter()
    _run(tmp_path / "ray", *opts, "--backend", "ray")
    print(f"\n[test] run with one worker death: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    assert deaths(marker) == 1
    ray_ = _records(tmp_path / "ray")
    assert [r["error"] for r in ray_["episodes"].values()] == ["", "", ""]
    # The marker is spent, so the same agent now plays through: the re-run episode matches.
    _run(tmp_path / "local", *opts)
    assert deaths(marker) == 1
    assert ray_ == _records(tmp_path / "local")


def test_worker_that_keeps_dying_is_recorded_as_error(local_ray: None, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    marker.mkdir()
    cfg = RunConfig(envs=(ENV,), agent_options={DYING: {"marker_dir": str(marker), "times": 9}})
    jobs = [EpisodeJob(ENV, DYING, s) for s in range(3)]
    results = list(
        run_jobs(
            jobs,
            2,
            "test",
            50,
            Limits(60.0, 600.0),
            partial(api.make_env, cfg),
            partial(api.build_agent, cfg),
            RayBackend(2, max_retries=1),
        )
    )
    assert sorted(r.record.seed for r in results) == [0, 1, 2]
    by_seed = {r.record.seed: r.record for r in results}
    assert deaths(marker) == 2  # the first try and its one retry
    assert "died" in by_seed[1].error.lower(), by_seed[1].error
    assert by_seed[1].steps == 0 and not by_seed[1].success
    assert by_seed[0].error == by_seed[2].error == ""


@pytest.mark.slow
def test_collect_on_ray_matches_local(local_ray: None, tmp_path: Path) -> None:
    """``qvalue.collect --backend ray`` writes the same trees as the local backend."""
    from qvalue.collect import main as collect_main
    from scoring.q.trees import load_trees

    args = ["--env", "harness/KeyChest-v0", "--iterations", "15", "--k", "3", "--depth", "8"]
    args += ["--proposer", "admissible"]  # no LLM in the workers
    trees = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        argv = [*args, "--tasks", "2", "--workers", "2", "--out", str(out), "--backend", backend]
        assert collect_main(argv) == 0
        nodes = load_trees(out)
        trees[backend] = sorted(json.dumps(n, sort_keys=True) for n in nodes)
    assert trees["local"] == trees["ray"] and trees["local"]
