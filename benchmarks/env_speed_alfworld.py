"""Steps/s of ``harness/ALFWorldGen-v0`` through our wrapper vs the raw engine, side by side.

Raw = the TextWorld environment our env drives (``textworld.start`` on the game file with
ALFWorld's ``AlfredDemangler``), stepped directly. Wrapper = ``gym.make("harness/ALFWorldGen-v0")``
(Gymnasium's wrappers + our env + info keys). Same games, same action sequence (random admissible
actions that never end the game); one raw and one wrapper step in turn, each going first every
other step; each side keeps its fastest of 3 plays per game; only steps are timed. Also prints
the cost of ``restore`` (replay from reset) at a few depths. The last line is
``ratio=<wrapper steps/s over raw>``.

    python benchmarks/env_speed_alfworld.py --steps 300
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GAMES = 6  # test-split games 0..5: one of each task type


def _env(cache_dir: str | None) -> Any:
    import gymnasium as gym

    import envs  # noqa: F401 - registers the ids

    return gym.make("harness/ALFWorldGen-v0", cache_dir=cache_dir)


def _actions(env: Any, seed: int, n: int) -> list[str]:
    """A fixed sequence of ``n`` admissible actions for game ``seed`` (drawn once, seeded) that
    never wins, so that neither side resets inside the timed loop."""
    rng = np.random.default_rng([seed, 1234])
    _, info = env.reset(seed=seed)
    out: list[str] = []
    while len(out) < n:
        acts = info["admissible_actions"]
        for _ in range(20):
            a = acts[int(rng.integers(len(acts)))]
            snap = env.unwrapped.snapshot()
            _, _, term, _, info = env.step(a)
            if not term:
                out.append(a)
                break
            _, info = env.unwrapped.restore(snap)
        else:
            break
    return out


def _play_pair(env: Any, tw: Any, seed: int, actions: list[str]) -> tuple[float, float]:
    """(raw seconds, wrapper seconds) for ``actions`` from reset, one step of each in turn."""
    clock = time.perf_counter
    env.reset(seed=seed)
    tw.reset()
    t_raw = t_wrap = 0.0
    for i, a in enumerate(actions):  # each side goes first every other step
        if i % 2:
            t0 = clock()
            tw.step(a)
            t1 = clock()
            env.step(a)
            t2 = clock()
            t_raw, t_wrap = t_raw + t1 - t0, t_wrap + t2 - t1
        else:
            t0 = clock()
            env.step(a)
            t1 = clock()
            tw.step(a)
            t2 = clock()
            t_wrap, t_raw = t_wrap + t1 - t0, t_raw + t2 - t1
    return t_raw, t_wrap


def measure(
    n_steps: int = 300, cache_dir: str | None = None, repeats: int = 3
) -> tuple[float, float]:
    """(wrapper steps/s, raw steps/s) over ``n_steps`` steps spread over the games; each game's
    sequence is played ``repeats`` times and each side keeps its fastest (as ``timeit`` does)."""
    from envs.alfworld.engine import AlfredEngine

    env = _env(cache_dir)
    per_game = max(1, n_steps // GAMES)
    plans = {seed: _actions(env, seed, per_game) for seed in range(GAMES)}
    raw = AlfredEngine()
    t_wrap = t_raw = 0.0
    n = 0
    for seed, actions in plans.items():
        _, info = env.reset(seed=seed)
        raw.load(env.unwrapped.store.root / "json_2.1.1" / info["task_id"] / "game.tw-pddl")
        runs = [_play_pair(env, raw.raw, seed, actions) for _ in range(repeats)]
        t_raw += min(r for r, _ in runs)
        t_wrap += min(w for _, w in runs)
        n += len(actions)
    env.close()
    raw.close()
    return n / t_wrap, n / t_raw


def restore_cost(depths: tuple[int, ...] = (0, 5, 10, 20), cache_dir: str | None = None) -> dict:
    """Mean seconds per ``restore`` of a snapshot taken ``d`` actions after reset."""
    env = _env(cache_dir).unwrapped
    out = {}
    for d in depths:
        times = []
        for seed in range(GAMES):
            env.reset(seed=seed)
            for a in _actions(env, seed, d):
                env.step(a)
            snap = env.snapshot()
            env.step("look")
            t0 = time.perf_counter()
            env.restore(snap)
            times.append(time.perf_counter() - t0)
        out[d] = sum(times) / len(times)
    env.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--cache-dir", default=None)
    a = p.parse_args(argv)
    for d, s in restore_cost(cache_dir=a.cache_dir).items():
        print(f"restore after {d:>2} actions: {s * 1000:.0f} ms")
    wrap, raw = measure(a.steps, a.cache_dir)
    print(f"wrapper {wrap:.1f} steps/s, raw engine {raw:.1f} steps/s")
    print(f"ratio={wrap / raw:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
