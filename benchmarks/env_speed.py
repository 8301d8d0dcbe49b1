"""Steps/s through the harness wrappers vs the raw engines: same games, same actions, one run.

    python benchmarks/env_speed.py [--engine textworld] [--games 2] [--steps 150] [--rounds 5]

Each engine has a measure function (``MEASURES``) that times its raw engine and the harness
env side by side, episode by episode in alternating order, on identical action sequences
(resets included), and returns steps per CPU second of this process from each episode's
fastest round (wall-clock figures are printed too; both keep other load out of the ratio).
The last line is ``ratio=<wrapper steps/s / raw steps/s>``, the minimum over the engines
measured; the target is >= 0.9 (the wrapper costs < 10%).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

Episode = list[str]


@dataclass
class Result:
    """Steps per CPU second of the wrapper and of the raw engine, plus extra report lines."""

    wrapper_sps: float
    raw_sps: float
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Wrapper steps/s over raw steps/s."""
        return self.wrapper_sps / self.raw_sps


def measure_textworld(args: argparse.Namespace) -> Result:
    """TextWorld: ``TextWorldGenEnv`` vs ``textworld.start`` with the same requested infos."""
    import textworld

    from envs.textworld.engine import ENGINE_SEED
    from envs.textworld.env import TextWorldGenEnv
    from envs.textworld.families import FAMILIES

    infos = textworld.EnvInfos(
        admissible_commands=True, objective=True, max_score=True, won=True, lost=True
    )
    runs = []  # (wrapper env, task index, raw engine, episodes)
    for name in FAMILIES:
        for i in range(args.games):
            env = TextWorldGenEnv(name, cache_dir=args.cache_dir)
            path = env.game_path("test", i)
            raw = textworld.start(path, infos)
            raw.seed(ENGINE_SEED)
            eps = _textworld_actions(raw, args.steps, np.random.default_rng(i))
            env.reset(options={"task_index": i})  # start the engine outside the timing
            runs.append((env, i, raw, eps))

    def raw_episode(run: tuple, ep: Episode) -> None:
        raw = run[2]
        raw.reset()
        for a in ep:
            raw.step(a)

    def wrapper_episode(run: tuple, ep: Episode) -> None:
        env, i = run[0], run[1]
        env.reset(options={"task_index": i})
        for a in ep:
            env.step(a)

    episodes = [(run, ep) for run in runs for ep in run[3]]
    wrapper, raw = _interleave(episodes, wrapper_episode, raw_episode, args.rounds)
    notes = [f"textworld: {len(runs)} games ({args.games} per family), {args.steps} steps each"]
    notes += _textworld_restore_cost(runs)
    for env, *_ in runs:
        env.close()
    notes.append(
        f"textworld wall clock: wrapper {wrapper['wall']:.1f} steps/s, "
        f"raw {raw['wall']:.1f} steps/s"
    )
    return Result(wrapper["cpu"], raw["cpu"], notes)


def _textworld_actions(raw: object, steps: int, rng: np.random.Generator) -> list[Episode]:
    """Episodes of random admissible actions (every 7th a nonsense one) from the raw engine."""
    eps: list[Episode] = []
    total = 0
    while total < steps:
        ep: Episode = []
        st, done = raw.reset(), False  # type: ignore[attr-defined]
        while not done and len(ep) < 50 and total < steps:
            adm = st["admissible_commands"]
            a = "dance wildly" if len(ep) % 7 == 6 else adm[int(rng.integers(len(adm)))]
            st, _, done = raw.step(a)  # type: ignore[attr-defined]
            ep.append(a)
            total += 1
        eps.append(ep)
    return eps


def _textworld_restore_cost(runs: list) -> list[str]:
    """Cost of one restore, engine snapshot vs replay from reset, per family (CPU ms, the
    fastest of 5), at depth <= 20 (each game's longest episode)."""
    rows: dict[str, list[tuple[float, float, float, int]]] = {}
    for env, i, _, eps in runs:
        ep = max(eps, key=len)[:20]
        env.reset(options={"task_index": i})
        for a in ep:
            env.step(a)
        c0 = time.process_time()
        snap = env.snapshot()
        snap_ms = 1e3 * (time.process_time() - c0)
        plain = type(snap)(snap.seed, snap.options, snap.actions)  # no engine state: replay
        cost = []
        for target in (snap, plain):
            best = float("inf")
            for _ in range(5):
                env.step("look")
                c0 = time.process_time()
                env.restore(target)
                best = min(best, time.process_time() - c0)
            cost.append(1e3 * best)
        rows.setdefault(env.family.name, []).append((cost[0], cost[1], snap_ms, len(ep)))
    return [
        f"restore[{name}]: engine snapshot {statistics.median(r[0] for r in rs):.2f} ms, "
        f"replay {statistics.median(r[1] for r in rs):.1f} ms at depth "
        f"{statistics.median(r[3] for r in rs):.0f}; snapshot "
        f"{statistics.median(r[2] for r in rs):.2f} ms (CPU, median of {len(rs)} games)"
        for name, rs in rows.items()
    ]


def _interleave(
    episodes: list[tuple[Any, Episode]],
    wrapper: Callable[[Any, Episode], None],
    raw: Callable[[Any, Episode], None],
    rounds: int,
) -> tuple[dict[str, float], dict[str, float]]:
    """Steps per CPU second and per wall second of each side.

    Each episode is timed ``rounds`` times per side, the sides alternating, and its fastest
    time counts (as ``timeit`` does); the ratio uses this process's CPU time. Both keep other
    load on a shared machine out of the comparison.
    """
    steps = sum(len(ep) for _, ep in episodes)
    inf = float("inf")
    best = {
        (side, k, clock): inf
        for side in ("wrapper", "raw")
        for k in range(len(episodes))
        for clock in ("cpu", "wall")
    }
    for r in range(rounds):
        for k, (run, ep) in enumerate(episodes):
            order = [("wrapper", wrapper), ("raw", raw)]
            for name, fn in order if (r + k) % 2 == 0 else order[::-1]:
                c0, t0 = time.process_time(), time.perf_counter()
                fn(run, ep)
                cpu, wall = time.process_time() - c0, time.perf_counter() - t0
                best[name, k, "cpu"] = min(best[name, k, "cpu"], cpu)
                best[name, k, "wall"] = min(best[name, k, "wall"], wall)
    rate = {
        side: {
            clock: steps / sum(best[side, k, clock] for k in range(len(episodes)))
            for clock in ("cpu", "wall")
        }
        for side in ("wrapper", "raw")
    }
    return rate["wrapper"], rate["raw"]


def measure_alfworld(args: argparse.Namespace) -> Result:
    """ALFWorldGen games: our wrapper vs ALFWorld's raw TextWorld-PDDL engine (wall clock)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from env_speed_alfworld import measure

    wrap, raw = measure(n_steps=args.steps * args.games, cache_dir=args.cache_dir)
    return Result(wrap, raw, ["alfworld: same generated games and action sequences, best of 3"])


MEASURES: dict[str, Callable[[argparse.Namespace], Result]] = {
    "textworld": measure_textworld,
    "alfworld": measure_alfworld,
}


def main() -> int:
    """Measure each engine, print its steps/s and ratio; last line ``ratio=<min>``."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--engine", nargs="+", choices=sorted(MEASURES), default=sorted(MEASURES))
    p.add_argument("--games", type=int, default=2, help="games per family / task type")
    p.add_argument("--steps", type=int, default=150, help="actions per game")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--cache-dir", help="game cache root (default: the harness cache)")
    args = p.parse_args()
    ratios = []
    for name in args.engine:
        res = MEASURES[name](args)
        for line in res.notes:
            print(line)
        print(
            f"{name}: wrapper {res.wrapper_sps:.1f} steps/s, raw {res.raw_sps:.1f} steps/s (CPU), "
            f"ratio {res.ratio:.3f}"
        )
        ratios.append(res.ratio)
    print(f"ratio={min(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
