"""Episodes per minute, local threads vs Ray tasks on a local Ray, same cheap agent and jobs.

``python benchmarks/backends.py [--episodes N] [--workers W]``: the ``random`` agent on
harness/KeyChest-v0; each backend is warmed up (workers built, modules imported) with W
episodes, then timed over the same N seeds. Ray's startup is printed apart, not counted.
The last line is ``ratio=<local episodes/minute over ray's>``: the cost of Ray per episode.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import run
from harness.backends import Backend, LocalBackend, RayBackend, start_local_ray
from harness.config import RunConfig
from harness.runner import EpisodeJob, Limits, run_jobs

ENV, AGENT = "harness/KeyChest-v0", "random"


def _play(backend: Backend, cfg: RunConfig, seeds: range) -> tuple[float, int]:
    """Seconds to run one episode per seed; and the number of successes."""
    jobs = [EpisodeJob(ENV, AGENT, s) for s in seeds]
    t0 = time.perf_counter()
    results = list(
        run_jobs(
            jobs,
            backend.workers,
            cfg.split,
            cfg.max_steps,
            Limits(cfg.step_timeout_s, cfg.episode_timeout_s),
            partial(run.make_env, cfg),
            partial(run.build_agent, cfg),
            backend,
        )
    )
    seconds = time.perf_counter() - t0
    assert len(results) == len(jobs) and not any(r.record.error for r in results)
    return seconds, sum(r.record.success for r in results)


def _measure(backend: Backend, cfg: RunConfig, episodes: int) -> tuple[float, int]:
    _play(backend, cfg, range(10_000, 10_000 + backend.workers))  # warm-up, other seeds
    seconds, wins = _play(backend, cfg, range(episodes))
    return episodes / seconds * 60, wins


def main() -> None:
    """Measure both backends side by side and print the ratio."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--episodes", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--max-steps", type=int, default=50)
    a = p.parse_args()
    cfg = RunConfig(envs=(ENV,), agents=(AGENT,), max_steps=a.max_steps)

    local_epm, local_wins = _measure(LocalBackend(a.workers), cfg, a.episodes)
    print(f"local: {local_epm:.0f} episodes/min ({a.workers} threads)")
    startup = start_local_ray(a.workers)
    print(f"ray startup (local Ray, {a.workers} CPUs): {startup:.1f}s (not counted)")
    backend = RayBackend(a.workers)
    try:
        ray_epm, ray_wins = _measure(backend, cfg, a.episodes)
    finally:
        import ray

        ray.shutdown()
    print(f"ray:   {ray_epm:.0f} episodes/min ({a.workers} tasks in flight)")
    assert ray_wins == local_wins, "the backends played different episodes"
    overhead_ms = (60 / ray_epm - 60 / local_epm) * 1000 * a.workers
    print(
        f"{a.episodes} episodes each, {local_wins} won on both; ray costs "
        f"~{overhead_ms:.1f} ms more per episode per worker"
    )
    print(f"ratio={local_epm / ray_epm:.2f}")


if __name__ == "__main__":
    main()
