"""Speed of MCTS collection with the local policy: the path before vs the fast path, one run.

Both paths search the same KeyChest train tasks with the same MCTS settings (ReAct proposer
on the real ``local`` SmolLM2 policy, policy rollouts, ``--iterations``, ``--k``, ``--depth``):

- ``old``: each expansion scores every admissible action after a thought (one request per
  action) plus a greedy call; each rollout step is a whole ``propose``; every greedy turn is
  asked for anew; nodes are restored by reset + replay; one worker; the policy's default 4
  slots (what ``qvalue.collect`` did);
- ``new-1``: the fast path with one worker: one sampled request of k replies per expansion
  (one prompt evaluation shared by k slots) and the greedy reply from the cached prompt, one
  ``decide`` call per rollout step, a state's greedy turn asked for once per task (a node's
  greedy candidate was its rollout's first step; the greedy child's rollout repeats its
  parent's), env snapshots;
- ``new``: the fast path with ``--workers`` worker processes (each its own llama.cpp).

Prints tasks/hour, CPU seconds (this process with llama.cpp's threads, plus the worker
processes) and policy-free figures (nodes, env steps) side by side; the last line is
``ratio=<new tasks/hour / old tasks/hour>``. Timings on a shared machine vary: read the
ratio of one run, not the absolute figures; where other jobs hold the cores, more workers
add CPU time but no speed (``cpu_ratio`` compares CPU seconds per task, which they do not
change). Under 5 minutes on 2 cores with the defaults.

    python benchmarks/collect_speed.py [--tasks 4] [--iterations 4] [--k 3] [--depth 6]
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.llm.spec import close_policies
from qvalue.collect import collect, parse_args, settings_from_args


def path_flags(name: str, k: int, workers: int) -> list[str]:
    """The ``qvalue.collect`` flags of one path."""
    if name == "old":
        return [
            *("--expand", "score", "--rollout-step", "propose", "--restore", "replay"),
            *("--proposer-opt", "reuse_greedy=false", "--policy", "local", "--workers", "1"),
        ]
    n = 1 if name == "new-1" else workers
    return ["--policy", f"local?parallel={k}", "--workers", str(n)]


def cpu_s() -> float:
    """CPU seconds of this process (llama.cpp's threads included) and its reaped children
    (worker processes)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def run_path(name: str, ns: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Collect the tasks along one path; its wall time and totals."""
    argv = ["--env", "harness/KeyChest-v0", "--tasks", str(ns.tasks), "--seed", str(ns.seed)]
    argv += ["--iterations", str(ns.iterations), "--k", str(ns.k), "--depth", str(ns.depth)]
    argv += ["--proposer", "react", "--rollout", "policy", "--out", str(root / name)]
    cli = parse_args([*argv, *path_flags(name, ns.k, ns.workers)])
    settings = settings_from_args(cli)
    t0, c0 = time.perf_counter(), cpu_s()
    res = collect(settings, cli.out, cli.workers)
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    close_policies()  # the next path starts its own server
    failed = [r for r in res if "error" in r]
    if failed:
        raise SystemExit(f"{name}: {len(failed)} task(s) failed: {failed[0]['error']}")
    return {
        "path": name,
        "workers": cli.workers,
        "wall_s": wall,
        "tasks_per_hour": len(res) * 3600 / wall,
        "cpu_s": cpu,
        "nodes": sum(r["nodes"] for r in res),
        "env_steps": sum(r["env_steps"] for r in res),
    }


def main() -> int:
    """Run the paths, print the table and ``ratio=``."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tasks", type=int, default=4)
    p.add_argument("--iterations", type=int, default=4)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--workers", type=int, default=2, help="worker processes of the new path")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-new-1", action="store_true", help="skip the one-worker fast path")
    ns = p.parse_args()
    logging.getLogger("qharness").setLevel(logging.ERROR)
    paths = ["old", "new"] if ns.skip_new_1 else ["old", "new-1", "new"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="collect-speed-") as tmp:
        for name in paths:
            row = run_path(name, ns, Path(tmp))
            rows.append(row)
            print(
                f"{row['path']:>6}: {row['workers']} worker(s), {ns.tasks} tasks in "
                f"{row['wall_s']:6.1f}s = {row['tasks_per_hour']:7.1f} tasks/hour, "
                f"{row['cpu_s']:6.1f} CPU s ({row['nodes']} nodes, {row['env_steps']} env steps)",
                flush=True,
            )
    print(
        f"settings: KeyChest train seeds {ns.seed}..{ns.seed + ns.tasks - 1}, "
        f"{ns.iterations} iterations, k={ns.k}, depth {ns.depth}, policy rollouts"
    )
    old, new = rows[0]["tasks_per_hour"], rows[-1]["tasks_per_hour"]
    if len(rows) == 3:
        print(f"ratio_one_worker={rows[1]['tasks_per_hour'] / old:.2f}")
    print(f"cpu_ratio={rows[0]['cpu_s'] / max(rows[-1]['cpu_s'], 1e-9):.2f}")
    print(f"ratio={new / old:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
