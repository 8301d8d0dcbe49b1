"""A shop heuristic for WebShop pages that acts only on what the page shows.

Search with the instruction (the ``search[<query>]`` template the ReAct agent fills with the
task), open the result whose title shares the most words with the instruction among those
within its budget (the first such on ties), click every option value that the instruction
names (one per option group, the longest match), then Buy Now. It never looks at the goal's
target product, which only WebShop's oracle knows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agents.base import Decision, Step, Turn
from envs.webshop.pages import BACK_TO_SEARCH, BUY_NOW, NEXT_PAGE, PREV_PAGE, SEP, SUB_PAGES

_BUDGET = re.compile(r"price lower than ([\d.]+) dollars")
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
_PRICE = re.compile(r"\$([\d.]+)")
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and the for of in on with to i am is it me my need want looking find buy "
        "price lower than dollars that this be are",
    )
)
NAV = frozenset({BACK_TO_SEARCH, NEXT_PAGE, PREV_PAGE, BUY_NOW, *SUB_PAGES})


def words(text: str) -> set[str]:
    """Content words, lower-cased."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


def budget(task: str) -> float | None:
    """The instruction's price limit, if it names one."""
    m = _BUDGET.search(task)
    return float(m.group(1).rstrip(".")) if m else None


def results(obs: str) -> list[tuple[str, str, float | None]]:
    """(asin, title, price) of each result on a results page."""
    parts = [p.strip() for p in obs.split(SEP.strip())]
    out = []
    for i, part in enumerate(parts):
        if _ASIN.match(part) and i + 2 < len(parts):
            m = _PRICE.search(parts[i + 2])
            out.append((part, parts[i + 1], float(m.group(1)) if m else None))
    return out


def option_groups(obs: str, values: Sequence[str]) -> list[list[str]]:
    """Option values of an item page grouped under their names: a page text that is not
    clickable and is followed by a value names a group; the first other text (the title)
    ends the options."""
    parts = [p.strip() for p in obs.split(SEP.strip())]
    start = parts.index(PREV_PAGE) + 1 if PREV_PAGE in parts else len(parts)
    groups: list[list[str]] = []
    for i in range(start, len(parts)):
        if parts[i] in values:
            if groups:
                groups[-1].append(parts[i])
        elif i + 1 < len(parts) and parts[i + 1] in values:
            groups.append([])
        else:
            break
    return [g for g in groups if g]


def _mentioned(value: str, task: str) -> bool:
    pattern = r"(?<![a-z0-9])" + re.escape(value.lower()) + r"(?![a-z0-9])"
    return re.search(pattern, task.lower()) is not None


def _since_item(history: Sequence[Turn]) -> list[str]:
    """Actions taken on the current item page (since the last product click)."""
    out: list[str] = []
    for turn in reversed(history):
        m = re.match(r"click\[(.+)\]$", turn.action)
        if m and _ASIN.match(m.group(1)):
            break
        out.append(turn.action)
    return out


def shop(step: Step) -> Decision:
    """The heuristic's next action for one page."""
    acts = step.admissible_actions
    task = step.task
    if any(a.startswith("search[") for a in acts):
        return Decision("search[<query>]", "I search for the product the instruction describes")
    clickable = [a[6:-1] for a in acts if a.startswith("click[")]
    if any(_ASIN.match(c) for c in clickable):
        limit, want = budget(task), words(task)
        shown = [r for r in results(step.observation) if r[0] in clickable]
        fits = [r for r in shown if limit is None or r[2] is None or r[2] < limit] or shown
        if not fits:
            return Decision(f"click[{NEXT_PAGE}]", "No result fits so I look at the next page")
        best = max(fits, key=lambda r: (len(want & words(r[1])), -fits.index(r)))
        return Decision(f"click[{best[0]}]", f"{best[1][:60]} matches best within the budget")
    if BUY_NOW in clickable:
        values = [c for c in clickable if c not in NAV]
        done = _since_item(step.history)
        for group in option_groups(step.observation, values):
            named = [v for v in group if _mentioned(v, task)]
            if not named:
                continue
            pick = max(named, key=len)
            if not any(d == f"click[{v}]" for v in group for d in done):
                return Decision(f"click[{pick}]", f"The instruction asks for {pick}")
        return Decision(f"click[{BUY_NOW}]", "The product and options match so I buy it")
    if BACK_TO_SEARCH in clickable:
        back = PREV_PAGE if PREV_PAGE in clickable else BACK_TO_SEARCH
        return Decision(f"click[{back}]", "I go back to the product")
    return Decision(acts[0] if acts else "click[Buy Now]", "I continue")


class WebShopShopper:
    """The shop heuristic as an agent; see the module docstring."""

    def reset(self, task: str, seed: int) -> None:
        """Nothing to reset: every decision reads the page and the transcript."""

    def act(self, step: Step) -> Decision:
        """The next click or search."""
        return shop(step)
