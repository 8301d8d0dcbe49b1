"""WebShop env speed, measured side by side: ``python benchmarks/webshop_speed.py``.

Prints catalog build vs cached load, steps/s under random, random-after-an-instruction-search
and oracle policies (random alone only ever searches the literal template), the cost
of a Buy Now, and snapshot restore vs replay restore (ratios in the last column).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs.base import EnvSnapshot
from envs.webshop.env import WebShopSynthEnv
from envs.webshop.store import load_or_build


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Mean seconds per call of ``fn``."""
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def steps_per_s(env: WebShopSynthEnv, policy: str, episodes: int, max_steps: int = 30) -> float:
    """Env steps per second (policy time included: the oracle asks the env for its action)."""
    rng = np.random.default_rng(0)
    steps, t0 = 0, time.perf_counter()
    for seed in range(episodes):
        _, info = env.reset(seed=seed, options={"expert": policy == "oracle"})
        for _ in range(max_steps):
            acts = info["admissible_actions"]
            if policy == "oracle":
                action = info["expert_action"]
            elif policy == "search+random" and acts == ["search[<query>]"]:
                action = f"search[{info['task']}]"
            else:
                action = acts[int(rng.integers(len(acts)))]
            _, _, done, _, info = env.step(action)
            steps += 1
            if done:
                break
    return steps / (time.perf_counter() - t0)


def main() -> None:
    """Run every measurement and print one table."""
    import os

    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["QHARNESS_CACHE"] = cache
        build = timed(lambda: load_or_build(0, 1200, use_cache=True))  # builds, writes
        load = timed(lambda: load_or_build(0, 1200, use_cache=True), repeat=3)
        env = WebShopSynthEnv()
    rows += [
        ("catalog+index build (s)", build, ""),
        ("cached load (s)", load, f"{build / load:.1f}x"),
    ]
    rows.append(("first Buy Now, loads spaCy (s)", buy_seconds(env, 0), ""))
    buy = float(np.mean([buy_seconds(env, seed) for seed in range(1, 41)]))
    rows.append(("Buy Now, warm (ms)", buy * 1e3, ""))
    rows.append(("steps/s, random policy", steps_per_s(env, "random", 200), ""))
    rows.append(
        ("steps/s, instruction search + random", steps_per_s(env, "search+random", 200), "")
    )
    rows.append(("steps/s, oracle policy", steps_per_s(env, "oracle", 200), ""))
    env.reset(seed=3, options={"expert": True})
    for _ in range(4):
        env.step(env.expert_action() or "")
    snap = env.snapshot()
    direct = timed(lambda: env.restore(snap), repeat=200)
    replay = timed(lambda: env.restore(EnvSnapshot(snap.seed, snap.options, snap.actions)), 200)
    rows.append(("restore from snapshot (us)", direct * 1e6, ""))
    rows.append(("restore by replay, 4 steps (us)", replay * 1e6, f"{replay / direct:.1f}x"))
    rows.append(("snapshot (us)", timed(env.snapshot, repeat=1000) * 1e6, ""))
    for name, value, ratio in rows:
        print(f"{name:36s} {value:12.3f} {ratio}")


def buy_seconds(env: WebShopSynthEnv, seed: int) -> float:
    """Seconds of the Buy Now step of an oracle episode (the reward computation)."""
    env.reset(seed=seed)
    while (action := env.expert_action()) != "click[Buy Now]":
        env.step(action or "")
    t0 = time.perf_counter()
    env.step(action)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
