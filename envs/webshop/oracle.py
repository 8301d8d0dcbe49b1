"""The WebShop oracle: finds the goal's target product and buys it with the goal's options.

It works from any state (so it can take over mid-episode): search with the instruction (the
budget clause dropped), or the target's title when that query misses the target; page to the
target, open it, pick each goal option, buy.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from envs.webshop.catalog import Goal, Product
from envs.webshop.pages import (
    BACK_TO_SEARCH,
    BUY_NOW,
    NEXT_PAGE,
    PREV_PAGE,
    PRODUCT_WINDOW,
    Session,
)
from envs.webshop.reward import FUZZY_THRESHOLD, fuzzy

_BUDGET = re.compile(r",? and price lower than [\d.]+ dollars\s*$")


def instruction_query(goal: Goal) -> str:
    """The instruction without its budget clause, lowercased."""
    return _BUDGET.sub("", goal.instruction.lower()).strip(" .")


def wanted_options(goal: Goal, target: Product) -> dict[str, str]:
    """Option name -> value to pick on the target (names inferred for human goals)."""
    if goal.goal_options:
        return {k: v for k, v in goal.goal_options.items() if k in target.options}
    out: dict[str, str] = {}
    for want in goal.option_values:
        best: tuple[int, str, str] | None = None
        for name, values in target.options.items():
            if name in out:
                continue
            for v in values:
                score = 101 if v.lower() == want.lower() else fuzzy(want, v)
                if score > FUZZY_THRESHOLD and (best is None or score > best[0]):
                    best = (score, name, v)
        if best is not None:
            out[best[1]] = best[2]
    return out


def oracle_action(
    s: Session, goal: Goal, target: Product | None, search: Callable[[str], tuple[str, ...]]
) -> str | None:
    """The oracle's next action in state ``s`` (None when done or the target is unknown)."""
    if s.page == "done" or target is None:
        return None
    if s.page == "search":
        query = instruction_query(goal)
        if target.asin not in search(query):
            query = target.title.lower()
        return f"search[{query}]"
    if s.page == "results":
        if target.asin not in s.results:
            return f"click[{BACK_TO_SEARCH}]"
        want_page = s.results.index(target.asin) // PRODUCT_WINDOW + 1
        if want_page > s.page_no:
            return f"click[{NEXT_PAGE}]"
        if want_page < s.page_no:
            return f"click[{PREV_PAGE}]"
        return f"click[{target.asin}]"
    if s.page == "sub" or s.asin != target.asin:
        return f"click[{PREV_PAGE}]"
    for name, value in wanted_options(goal, target).items():
        if s.options.get(name) != value:
            return f"click[{value}]"
    return f"click[{BUY_NOW}]"
