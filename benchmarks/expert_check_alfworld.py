"""Expert success on generated ALFWorld games, per task type (``harness/ALFWorldGen-v0``).

Generates (or reads from the cache) ``--per-type`` games of each of ALFWorld's six task types and
plays each with ALFWorld's planner expert re-planning at every step (``expert_replan=True``,
as ``AlfredExpert(PLANNER)``), up to ``--max-steps``. Prints per type: games won, mean steps,
mean generation time per game (including the solvability check; cached games report the time
recorded when they were generated) and wall time.

    python benchmarks/expert_check_alfworld.py --per-type 50 --split test
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs.alfworld.env import ALFWorldGenEnv
from envs.alfworld.gen import TASK_TYPES
from envs.base import EXPERT_ACTION, WON


def check_type(env: ALFWorldGenEnv, task_type: str, n: int, split: str, max_steps: int) -> dict:
    """Play ``n`` games of ``task_type`` with the re-planning expert; return the tallies."""
    k = len(env.task_types)
    col = env.task_types.index(task_type)
    wins, steps, gen_s, new = 0, [], [], 0
    t0 = time.perf_counter()
    for j in range(n):
        seed = j * k + col
        new += int(env.store.cached(split, task_type, j) is None)
        _, info = env.reset(seed=seed, options={"split": split, "expert": True})
        gen_s.append(env.store.get(split, task_type, j).gen_s)
        t = 0
        while not info[WON] and t < max_steps:
            _, _, _, _, info = env.step(str(info[EXPERT_ACTION] or "look"))
            t += 1
        wins += int(info[WON])
        steps.append(t)
    return {
        "task_type": task_type,
        "games": n,
        "won": wins,
        "mean_steps": sum(steps) / n,
        "mean_gen_s": sum(gen_s) / n,
        "generated_now": new,
        "wall_s": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-type", type=int, default=50)
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--max-steps", type=int, default=50)
    p.add_argument("--max-receptacles", type=int, default=8)
    p.add_argument("--max-objects", type=int, default=10)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--types", nargs="+", default=list(TASK_TYPES), choices=TASK_TYPES)
    p.add_argument("--out", help="write the results as JSON here")
    a = p.parse_args(argv)
    env = ALFWorldGenEnv(
        max_receptacles=a.max_receptacles,
        max_objects=a.max_objects,
        cache_dir=a.cache_dir,
        expert_replan=True,
    )
    rows = []
    for tt in a.types:
        row = check_type(env, tt, a.per_type, a.split, a.max_steps)
        rows.append(row)
        print(
            f"{tt:<32} won {row['won']}/{row['games']}  mean steps {row['mean_steps']:.1f}  "
            f"gen {row['mean_gen_s']:.2f}s/game ({row['generated_now']} generated now)  "
            f"wall {row['wall_s']:.0f}s",
            flush=True,
        )
    env.close()
    won, games = sum(r["won"] for r in rows), sum(r["games"] for r in rows)
    print(f"expert_success={won / games:.4f} ({won}/{games})")
    if a.out:
        Path(a.out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
