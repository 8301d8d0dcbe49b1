"""Expert success and generation cost on generated TextWorld games.

    python benchmarks/expert_check.py --family cooking --n 50

Generates ``n`` games of each family (into a fresh temp cache unless ``--cache-dir`` is
given, so generation is measured), plays TextWorld's policy commands through the harness env
until the game ends, and prints per family: wins, mean expert steps, generation and compile
seconds per game (wall, measured inside the generator, from each game's manifest) and CPU
seconds per game (generator plus Inform compilers: what a game costs on an idle core).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs.textworld.env import TextWorldGenEnv
from envs.textworld.families import FAMILIES
from envs.textworld.generate import ensure_game


def check_family(name: str, n: int, split: str, cache: str, max_steps: int) -> bool:
    """Play the expert on ``n`` games of family ``name``; print one summary line."""
    env = TextWorldGenEnv(name, cache_dir=cache)
    wins, steps, gen, comp, cpu = 0, [], [], [], []
    t_play = 0.0
    for i in range(n):
        ref = ensure_game(env.family, None, split, i, env.tasks_per_split, cache)
        gen.append(float(ref.manifest["gen_s"]))
        comp.append(float(ref.manifest["compile_s"]))
        if "gen_cpu_s" in ref.manifest:
            cpu.append(float(ref.manifest["gen_cpu_s"]) + float(ref.manifest["compile_cpu_s"]))
        t0 = time.perf_counter()
        _, info = env.reset(options={"split": split, "task_index": i, "expert": True})
        k, done = 0, False
        while not done and k < max_steps:
            action = info.get("expert_action") or "look"
            _, _, done, _, info = env.step(action)
            k += 1
        t_play += time.perf_counter() - t0
        wins += bool(info["won"])
        steps.append(k)
        if not info["won"]:
            print(f"  {name} {split}-{i}: NOT won after {k} steps", flush=True)
    env.close()
    print(
        f"family={name} split={split} difficulty={env.label} n={n} won={wins} "
        f"success={wins / n:.3f} mean_expert_steps={statistics.mean(steps):.1f} "
        f"gen_s_mean={statistics.mean(gen):.2f} "
        f"gen_s_median={statistics.median(gen):.2f} "
        f"compile_s_mean={statistics.mean(comp):.2f} "
        f"cpu_s_per_game={statistics.mean(cpu) if cpu else float('nan'):.2f} "
        f"expert_steps_per_s={sum(steps) / t_play:.1f}",
        flush=True,
    )
    return wins == n


def main() -> int:
    """CLI entry point; exit 1 unless the expert won every game."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--family", nargs="+", default=["all"], choices=[*FAMILIES, "all"])
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--cache-dir", help="game cache root (default: a fresh temp dir)")
    p.add_argument("--max-steps", type=int, default=200)
    a = p.parse_args()
    names = list(FAMILIES) if "all" in a.family else a.family
    cache = a.cache_dir or tempfile.mkdtemp(prefix="tw_expert_check_")
    print(f"cache={cache}", flush=True)
    ok = all([check_family(f, a.n, a.split, cache, a.max_steps) for f in names])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
