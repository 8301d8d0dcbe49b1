"""How hard the generated WebShop set is: ``python benchmarks/webshop_calibration.py [N]``.

Success rate and mean reward (test split, seeds 0..N-1) of simple reference policies: the
oracle; uniform random over admissible actions (its only search is the literal
``search[<query>]`` template); random clicks after one search with the instruction text; and
"search the instruction, open the first result, pick the options the instruction names, buy".
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs.webshop.env import WebShopSynthEnv
from envs.webshop.oracle import instruction_query

Policy = Callable[[WebShopSynthEnv, dict[str, Any], np.random.Generator], str]
ASIN = re.compile(r"click\[B0[0-9A-Z]{8}\]")


def oracle(env: WebShopSynthEnv, info: dict[str, Any], rng: np.random.Generator) -> str:
    """The env's expert."""
    return env.expert_action() or ""


def random_admissible(env: WebShopSynthEnv, info: dict[str, Any], rng: np.random.Generator) -> str:
    """Uniform over admissible actions (what the registry's random agent does)."""
    acts = info["admissible_actions"]
    return str(acts[int(rng.integers(len(acts)))])


def random_after_search(
    env: WebShopSynthEnv, info: dict[str, Any], rng: np.random.Generator
) -> str:
    """Search the instruction on the search page, random clicks elsewhere."""
    if info["admissible_actions"] == ["search[<query>]"]:
        return f"search[{info['task']}]"
    return random_admissible(env, info, rng)


def first_result(env: WebShopSynthEnv, info: dict[str, Any], rng: np.random.Generator) -> str:
    """Search the instruction, open the first result, click the named options, buy."""
    acts = info["admissible_actions"]
    if acts == ["search[<query>]"]:
        return f"search[{instruction_query(env.goal)}]" if env.goal else "search[x]"
    hits = [a for a in acts if ASIN.fullmatch(a)]
    if hits:
        return hits[0]
    task, chosen = info["task"], set(env.session.options.values())
    for a in acts:
        value = a[len("click[") : -1]
        named = value.lower() in task and value not in ("Buy Now", "Back to Search")
        if named and value not in chosen:
            return a
    return "click[Buy Now]"


def evaluate(env: WebShopSynthEnv, policy: Policy, n: int, max_steps: int) -> tuple[float, float]:
    """Success rate and mean final reward over test seeds ``0..n-1``."""
    rng = np.random.default_rng(0)
    wins, rewards = 0, []
    for seed in range(n):
        _, info = env.reset(seed=seed)
        reward, done = 0.0, False
        for _ in range(max_steps):
            _, reward, done, _, info = env.step(policy(env, info, rng))
            if done:
                break
        wins += bool(info["won"])
        rewards.append(reward if done else 0.0)
    return wins / n, float(np.mean(rewards))


def main() -> None:
    """Print one row per reference policy."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    env = WebShopSynthEnv()
    policies: list[tuple[str, Policy]] = [
        ("oracle", oracle),
        ("random over admissible", random_admissible),
        ("random after instruction search", random_after_search),
        ("first result + named options", first_result),
    ]
    title = f"policy (test split, {n} goals)"
    print(f"{title:40s} {'steps':>5s} {'success':>8s} {'reward':>7s}")
    for name, policy in policies:
        for max_steps in (15, 50):
            success, reward = evaluate(env, policy, n, max_steps)
            print(f"{name:40s} {max_steps:5d} {success:8.3f} {reward:7.3f}")


if __name__ == "__main__":
    main()
