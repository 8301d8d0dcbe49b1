"""Episodes per minute with 1 and 8 workers through the real runner and openai client.

Part 1 (the target): a local OpenAI-compatible test server that adds a fixed latency (300 ms
by default) to every call; the ReAct agent talks to it through the ``openai`` backend.
Episodes are latency-bound, so 8 workers should reach >= 6x the episodes per minute of one.
Part 2: the same with the embedded ``local`` policy (SmolLM2 under llama.cpp); this one is
compute-bound on a small CPU, so its ratio says how much llama.cpp's slot batching gains.
One untimed warm-up run precedes each part (imports, clients; the local server's slots
fill their prompt caches).
Part 3 (a real engine): the random agent on TextWorld-CoinCollector with 1, 2 and 4 workers,
each worker thread loading its own games with its own grammar parsers
(``envs/textworld/threads.py``); the rows give episodes per minute, errors and whether the
records equal the 1-worker run's. ``--tw-lock`` adds a row with one process-wide lock around
every game load instead (the alternative fix), to compare their speed.
Last line: ``ratio=<8 workers over 1, latency-bound endpoint>``.

    python benchmarks/concurrency.py [--latency 0.3] [--skip-local] [--skip-textworld]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymnasium as gym

import envs  # noqa: F401
from agents.llm.fake_server import FakeOpenAIServer
from agents.llm.spec import close_policies
from agents.registry import make_agent
from harness.runner import EpisodeJob, Limits, run_jobs

ENV = "harness/KeyChest-v0"
TEXTWORLD = "harness/TextWorld-CoinCollector-v0"


def run(policy: str, workers: int, episodes: int, steps: int, seed0: int = 0) -> dict[str, float]:
    """Run ``episodes`` react episodes of ``steps`` steps; wall time and totals."""
    jobs = [EpisodeJob(ENV, "react", seed0 + i) for i in range(episodes)]
    t0 = time.perf_counter()
    recs = [
        r.record
        for r in run_jobs(
            jobs,
            workers,
            "test",
            steps,
            Limits(600.0, 3600.0),
            lambda e: gym.make(e),
            lambda a: make_agent(a, {"policy": policy}),
        )
    ]
    wall = time.perf_counter() - t0
    errors = [r.error for r in recs if r.error]
    if errors:
        raise SystemExit(f"episodes failed: {errors[0]}")
    n_steps = sum(r.steps for r in recs)
    return {
        "wall_s": wall,
        "episodes_per_min": 60 * len(recs) / wall,
        "steps_per_s": n_steps / wall,
        "out_tokens_per_s": sum(r.output_tokens for r in recs) / wall,
        "in_tokens_per_s": sum(r.input_tokens for r in recs) / wall,
        "steps": n_steps,
    }


def textworld(workers: int, episodes: int, steps: int) -> tuple[float, int, list[dict[str, Any]]]:
    """Random-agent episodes on TextWorld: wall time, errors, records (timing dropped)."""
    jobs = [EpisodeJob(TEXTWORLD, "random", i) for i in range(episodes)]
    t0 = time.perf_counter()
    results = list(
        run_jobs(
            jobs,
            workers,
            "test",
            steps,
            Limits(600.0, 3600.0),
            lambda e: gym.make(e),
            lambda a: make_agent(a, {}),
        )
    )
    wall = time.perf_counter() - t0
    recs = sorted((r.record.to_dict() for r in results), key=lambda r: r["seed"])
    recs = [{k: v for k, v in r.items() if k != "wall_s"} for r in recs]
    return wall, sum(bool(r["error"]) for r in recs), recs


def locked_loads() -> None:
    """The alternative fix: one process-wide lock around every TextWorld game load."""
    import threading

    from envs.textworld import engine

    lock, start = threading.Lock(), engine.Engine.__init__

    def init(self: engine.Engine, path: str) -> None:
        with lock:
            start(self, path)

    engine.Engine.__init__ = init  # type: ignore[method-assign]


def textworld_part(episodes: int, steps: int, with_lock: bool) -> None:
    """Rows for 1, 2 and 4 workers (and a locked 4-worker row)."""
    textworld(1, episodes, 1)  # warm-up: imports, every game generated (cached on disk)
    rows = [(f"textworld, {w} worker(s)", w) for w in (1, 2, 4)]
    one: list[dict[str, Any]] = []
    base = 0.0
    for i, (label, w) in enumerate([*rows, *([("textworld, 4, lock on load", 4)] * with_lock)]):
        if i == len(rows):
            locked_loads()
        wall, errors, recs = textworld(w, episodes, steps)
        one, base = (recs, wall) if w == 1 else (one, base)
        print(
            f"{label:<28} {60 * episodes / wall:8.1f} episodes/min  {base / wall:5.2f}x  "
            f"errors={errors}  records equal to 1 worker: {recs == one}",
            flush=True,
        )


def show(label: str, m: dict[str, float]) -> None:
    """One result line."""
    print(
        f"{label:<28} {m['episodes_per_min']:8.1f} episodes/min  {m['steps_per_s']:6.2f} steps/s  "
        f"{m['out_tokens_per_s']:7.1f} output tok/s  {m['in_tokens_per_s']:8.1f} prompt tok/s  "
        f"({m['steps']:.0f} steps in {m['wall_s']:.1f}s)",
        flush=True,
    )


def main() -> None:
    """Measure both parts and print the ratios."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--latency", type=float, default=0.3, help="seconds added per call")
    p.add_argument("--steps", type=int, default=5, help="steps per episode (latency part)")
    p.add_argument("--skip-local", action="store_true", help="only the latency-bound part")
    p.add_argument("--skip-textworld", action="store_true", help="no real-engine part")
    p.add_argument("--tw-episodes", type=int, default=16, help="TextWorld episodes per row")
    p.add_argument("--tw-lock", action="store_true", help="also time a lock around loads")
    args = p.parse_args()
    if not args.skip_textworld:
        textworld_part(args.tw_episodes, 30, args.tw_lock)

    with FakeOpenAIServer("Thought: I look around.\nAction: look", latency_s=args.latency) as srv:
        spec = f"openai:fake@{srv.base_url}?retries=0"
        run(spec, 1, 1, 1, seed0=1000)  # warm-up: imports, client, prompt files
        one = run(spec, 1, 4, args.steps)
        show("latency endpoint, 1 worker", one)
        eight = run(spec, 8, 32, args.steps, seed0=100)
        show("latency endpoint, 8 workers", eight)
    close_policies()
    ratio = eight["episodes_per_min"] / one["episodes_per_min"]
    print(
        f"latency-bound endpoint ({args.latency * 1000:.0f} ms/call): 8 workers / 1 = {ratio:.2f}x"
    )

    if not args.skip_local:
        spec = "local?parallel=8&ctx=2048"
        run(spec, 8, 8, 1, seed0=1000)  # warm-up: every slot caches the shared prompt prefix
        l1 = run(spec, 1, 2, 3, seed0=200)
        show("local (SmolLM2), 1 worker", l1)
        l8 = run(spec, 8, 8, 3, seed0=300)
        show("local (SmolLM2), 8 workers", l8)
        close_policies()
        local_ratio = l8["episodes_per_min"] / l1["episodes_per_min"]
        print(f"embedded local server: 8 workers / 1 = {local_ratio:.2f}x")
    print(f"ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
