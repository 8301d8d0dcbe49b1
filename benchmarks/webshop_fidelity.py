"""The measured rows of the WebShop fidelity sheet: ``python benchmarks/webshop_fidelity.py``.

All on ``harness/WebShopSynth-v0`` (generated catalog, seed 0), test split (500 goals):

1. ``rules``: how often ``reward="finer-options"`` (WebShop commit 6ba9969) and
   ``reward="webshop"`` (``master``) give a different reward for the same purchase. Purchase
   sets: (a) each test goal's target bought with every option assignment (each option group
   left unchosen or set to one of its values), at its price; (b) the same for each of the first
   10 results of searching the goal's instruction (budget clause removed).
2. ``scorer``: the same purchases as (a)+(b) scored by ``master``'s rule with thefuzz 0.22's
   processing (rapidfuzz) instead of 0.19's: how often the reward changes.
3. ``order``: for each test goal, the first results page (10) of searching its instruction
   (budget clause removed) with bm25s, and the ``master`` reward of buying each of those
   products at its price with no options; counts the queries whose bm25s order is not
   reward-sorted (some lower-ranked result earns strictly more), the queries whose first
   result earns less than the page's best, and the mean Kendall tau-b between rank and reward.
4. ``shortcut``: seeds 0-499 (test goals 0-499): search the instruction text (the task as
   shown, budget included), click the first result, Buy Now; mean reward and success (reward
   1) under both rules, and how often the first result is the goal's target.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs.webshop import reward as rw
from envs.webshop.catalog import Goal, Product
from envs.webshop.env import WebShopSynthEnv
from envs.webshop.oracle import instruction_query

PAGE = 10


def assignments(product: Product) -> Iterator[dict[str, str]]:
    """Every option assignment: each group unchosen or one of its values."""
    groups = [[None, *values] for values in product.options.values()]
    for combo in itertools.product(*groups):
        yield {k: v for k, v in zip(product.options, combo, strict=True) if v is not None}


def purchases(env: WebShopSynthEnv, results: bool) -> Iterator[tuple[Product, Goal]]:
    """(product, goal): the targets, or the first results page of each instruction search."""
    for goal in env.catalog.goals("test"):
        if not results:
            yield env.catalog.products[goal.asin], goal
            continue
        for asin in env.index.search(instruction_query(goal))[:PAGE]:
            yield env.catalog.products[asin], goal


def rules(env: WebShopSynthEnv) -> None:
    """Finer-options vs master on purchase sets (a) and (b)."""
    for name, results in (("(a) targets", False), ("(b) first 10 results", True)):
        n = differ = 0
        up = down = 0
        for product, goal in purchases(env, results):
            for chosen in assignments(product):
                new = rw.get_reward(product, goal, product.price, chosen, "webshop").reward
                old = rw.get_reward(product, goal, product.price, chosen, "finer-options").reward
                n += 1
                differ += new != old
                up += new > old
                down += new < old
        print(
            f"rules {name}: {n} purchases, reward differs on {differ} ({differ / n:.2%}); "
            f"master higher on {up}, lower on {down}"
        )


def _fuzzy_022(a: object, b: object) -> int:
    """thefuzz 0.22's token_set_ratio (rapidfuzz processing: underscores split)."""
    from rapidfuzz import fuzz, utils

    tr = {i: None for i in range(128, 256)}
    pa, pb = (utils.default_process(str(x).translate(tr)) for x in (a, b))
    return round(fuzz.token_set_ratio(pa, pb))


def scorer(env: WebShopSynthEnv) -> None:
    """master with thefuzz 0.19 vs 0.22 processing on purchase sets (a)+(b)."""
    items = [(p, g, c) for r in (False, True) for p, g in purchases(env, r) for c in assignments(p)]
    base = [rw.get_reward(p, g, p.price, c).reward for p, g, c in items]
    keep = rw.fuzzy
    rw.fuzzy = _fuzzy_022  # type: ignore[assignment]
    try:
        alt = [rw.get_reward(p, g, p.price, c).reward for p, g, c in items]
    finally:
        rw.fuzzy = keep
    differ = sum(a != b for a, b in zip(base, alt, strict=True))
    print(f"scorer: {len(items)} purchases, thefuzz 0.19 vs 0.22 reward differs on {differ}")


def _tau_b(x: list[float], y: list[float]) -> float | None:
    """Kendall tau-b (None when either side is constant)."""
    conc = disc = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tx += 1
        elif dy == 0:
            ty += 1
        elif dx == dy:
            conc += 1
        else:
            disc += 1
    denom = np.sqrt((conc + disc + tx) * (conc + disc + ty))
    return None if denom == 0 else float((conc - disc) / denom)


def order(env: WebShopSynthEnv) -> None:
    """bm25s result order vs master's reward order on the first results page."""
    n = unsorted = top_worse = 0
    taus: list[float] = []
    for goal in env.catalog.goals("test"):
        page = env.index.search(instruction_query(goal))[:PAGE]
        rewards = [
            rw.get_reward(p, goal, p.price, {}).reward
            for p in (env.catalog.products[a] for a in page)
        ]
        n += 1
        unsorted += any(
            rewards[j] > rewards[i] for i, j in itertools.combinations(range(len(page)), 2)
        )
        top_worse += rewards[0] < max(rewards)
        tau = _tau_b([-float(i) for i in range(len(page))], rewards)
        if tau is not None:
            taus.append(tau)
    print(
        f"order: {n} queries; bm25s order not reward-sorted on {unsorted} ({unsorted / n:.1%}); "
        f"first result below the page's best on {top_worse} ({top_worse / n:.1%}); "
        f"mean Kendall tau-b (rank vs reward) {np.mean(taus):.3f} over the {len(taus)} queries "
        "whose page rewards are not all equal"
    )


def shortcut(n: int = 500) -> None:
    """Search the instruction, buy the first result with no options."""
    for rule in ("webshop", "finer-options"):
        env = WebShopSynthEnv(reward=rule)
        rewards, wins, on_target = [], 0, 0
        for seed in range(n):
            _, info = env.reset(seed=seed)
            _, _, _, _, info = env.step(f"search[{info['task']}]")
            first = env.session.results[0]
            on_target += env.goal is not None and first == env.goal.asin
            env.step(f"click[{first}]")
            _, reward, done, _, info = env.step("click[Buy Now]")
            assert done
            rewards.append(reward)
            wins += bool(info["won"])
        print(
            f"shortcut ({rule}): seeds 0-{n - 1}, mean reward {np.mean(rewards):.3f}, "
            f"success {wins / n:.3f}, first result is the target {on_target / n:.3f}"
        )


def main() -> None:
    """Print every measured row (``--shortcut N``: only the shortcut, on seeds 0..N-1)."""
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--shortcut", type=int, metavar="N", help="only the shortcut, seeds 0..N-1")
    ns = p.parse_args()
    if ns.shortcut:
        shortcut(ns.shortcut)
        return
    env = WebShopSynthEnv()
    rules(env)
    scorer(env)
    order(env)
    shortcut()


if __name__ == "__main__":
    main()
