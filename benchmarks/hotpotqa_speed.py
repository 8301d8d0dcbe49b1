"""HotPotQASynth speed: env steps/s (random over suggested actions, and the oracle), reset
and build cost, and snapshot/restore against replay, measured side by side in one run.

    python benchmarks/hotpotqa_speed.py [--episodes 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs.base import EnvSnapshot
from envs.hotpotqa.env import HotPotQASynthEnv


def play(env: HotPotQASynthEnv, episodes: int, expert: bool, max_steps: int = 15) -> dict:
    """Steps/s and success of the oracle or of uniform choice over suggested actions."""
    rng = np.random.default_rng(0)
    steps = wins = 0
    t0 = time.perf_counter()
    for seed in range(episodes):
        _, info = env.reset(seed=seed, options={"expert": expert})
        for _ in range(max_steps):
            acts = info["admissible_actions"]
            action = info["expert_action"] if expert else acts[int(rng.integers(len(acts)))]
            _, _, done, _, info = env.step(action)
            steps += 1
            if done:
                break
        wins += int(info["won"])
    dt = time.perf_counter() - t0
    return {"steps_per_s": steps / dt, "success": wins / episodes, "steps": steps}


def restore_cost(env: HotPotQASynthEnv, episodes: int) -> tuple[float, float, float]:
    """Mean seconds of snapshot(), restore() from the state, and restore() by replay."""
    snaps = []
    snap_t = 0.0
    for seed in range(episodes):
        _, info = env.reset(seed=seed, options={"expert": True})
        for _ in range(3):  # mid-episode states
            env.step(info["expert_action"] if info["expert_action"] else "think[x]")
            _, _, _, _, info = env.step("lookup[was]")
        t = time.perf_counter()
        snaps.append(env.snapshot())
        snap_t += time.perf_counter() - t
    t = time.perf_counter()
    for s in snaps:
        env.restore(s)
    fast = (time.perf_counter() - t) / len(snaps)
    t = time.perf_counter()
    for s in snaps:
        env.restore(EnvSnapshot(s.seed, s.options, s.actions))
    slow = (time.perf_counter() - t) / len(snaps)
    return snap_t / len(snaps), fast, slow


def main() -> None:
    """Print the measurements."""
    p = argparse.ArgumentParser()
    p.add_argument("--episodes", type=int, default=300)
    n = p.parse_args().episodes
    t = time.perf_counter()
    env = HotPotQASynthEnv()
    env.reset(seed=0)
    print(f"build (3 splits x 600 questions): {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    for seed in range(n):
        env.reset(seed=seed)
    print(f"reset: {(time.perf_counter() - t) / n * 1e6:.0f} us")
    for name, expert in (("random over suggestions", False), ("oracle", True)):
        r = play(env, n, expert)
        print(
            f"{name:<24} {r['steps_per_s']:8.0f} steps/s  success {r['success']:.3f} "
            f"({n} episodes, {r['steps']} steps)"
        )
    bare = HotPotQASynthEnv(suggest_actions=False)
    bare.reset(seed=0)  # build its world outside the timing
    r = play(bare, n, True)
    print(
        f"{'oracle, no suggestions':<24} {r['steps_per_s']:8.0f} steps/s  "
        f"success {r['success']:.3f}"
    )
    snap, fast, slow = restore_cost(env, n)
    print(
        f"snapshot {snap * 1e6:.1f} us, restore {fast * 1e6:.1f} us, replay {slow * 1e6:.1f} us "
        f"(6-step prefix): restore is {slow / fast:.1f}x faster than replay"
    )


if __name__ == "__main__":
    main()
