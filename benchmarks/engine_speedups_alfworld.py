"""ALFWorld engine with and without ``speed_up_engine``: same transcripts? how much faster?

Plays the same seeded random walk (admissible actions plus an invalid one now and then, and a
reset halfway) on generated games in two fresh processes: plain TextWorld + ALFWorld's
``AlfredDemangler``, and the same with ``envs.alfworld.engine.speed_up_engine()``. Prints ms per
step and per reset for each, and whether the transcripts (observations, admissible commands,
wins) are identical. Last line: ``speedup=<plain ms/step over sped-up ms/step>``.

    python benchmarks/engine_speedups_alfworld.py --games 12 --steps 40
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WALK = """
import json, sys, time
import numpy as np
job = json.loads(sys.stdin.read())
from envs.alfworld.engine import AlfredEngine, import_alfworld, speed_up_engine
import_alfworld()
import textworld
from alfworld.agents.environment.alfred_tw_env import AlfredDemangler
if job["fast"]:
    speed_up_engine()
out, t_step, n_step, t_reset, n_reset = [], 0.0, 0, 0.0, 0
for path in job["games"]:
    env = textworld.start(path, textworld.EnvInfos(admissible_commands=True, won=True),
                          wrappers=[AlfredDemangler()])
    t0 = time.perf_counter(); gs = env.reset(); t_reset += time.perf_counter() - t0; n_reset += 1
    rows = [[gs.feedback, gs["admissible_commands"]]]
    rng = np.random.default_rng(0)
    for i in range(job["steps"]):
        acts = list(gs["admissible_commands"]) + ["jump around"]
        t0 = time.perf_counter(); gs, _, _ = env.step(acts[int(rng.integers(len(acts)))])
        t_step += time.perf_counter() - t0; n_step += 1
        rows.append([gs.feedback, gs["admissible_commands"], bool(gs["won"])])
        if i == job["steps"] // 2:
            t0 = time.perf_counter(); gs = env.reset(); t_reset += time.perf_counter() - t0
            n_reset += 1
            rows.append([gs.feedback])
    env.close()
    out.append(rows)
print("<<<" + json.dumps({"rows": out, "ms_step": 1000 * t_step / n_step,
                          "ms_reset": 1000 * t_reset / n_reset}))
"""


def walk(games: list[str], steps: int, fast: bool) -> dict:
    """Run the walk in a fresh interpreter; return its transcript and timings."""
    job = json.dumps({"games": games, "steps": steps, "fast": fast})
    out = subprocess.run(
        [sys.executable, "-c", WALK],
        input=job,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.split("<<<", 1)[1]))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--games", type=int, default=12)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--max-receptacles", type=int, default=8)
    p.add_argument("--max-objects", type=int, default=10)
    p.add_argument("--cache-dir", default=None)
    a = p.parse_args(argv)
    from envs.alfworld.env import ALFWorldGenEnv

    env = ALFWorldGenEnv(
        max_receptacles=a.max_receptacles, max_objects=a.max_objects, cache_dir=a.cache_dir
    )
    games = []
    for seed in range(a.games):
        _, info = env.reset(seed=seed)
        games.append(str(env.store.root / "json_2.1.1" / info["task_id"] / "game.tw-pddl"))
    env.close()
    plain, fast = walk(games, a.steps, False), walk(games, a.steps, True)
    same = plain["rows"] == fast["rows"]
    print(f"plain TextWorld: {plain['ms_step']:.1f} ms/step, {plain['ms_reset']:.0f} ms/reset")
    print(f"speed_up_engine: {fast['ms_step']:.1f} ms/step, {fast['ms_reset']:.0f} ms/reset")
    print(f"identical transcripts: {same} ({a.games} games x {a.steps} steps + 1 reset)")
    print(f"speedup={plain['ms_step'] / fast['ms_step']:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
