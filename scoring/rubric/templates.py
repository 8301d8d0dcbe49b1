"""Per-env template rubrics with programmatic checks (deterministic verdicts, no model).

A check reads the state (task, past turns, current observation) and one candidate action and
returns True (the criterion is met), False (violated) or None (does not apply to this action).
Families: ``webshop``, ``hotpotqa``, ``textgame`` (KeyChest, TextWorld, ALFWorld, and the
fallback for any other env id).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from scoring.base import State

Check = Callable[[State, str], bool | None]

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "is",
        "are",
        "be",
        "it",
        "its",
        "this",
        "that",
        "i",
        "im",
        "i'm",
        "you",
        "your",
        "me",
        "my",
        "we",
        "our",
        "need",
        "want",
        "looking",
        "look",
        "find",
        "get",
        "buy",
        "some",
        "any",
        "then",
        "into",
        "under",
        "lower",
        "than",
        "price",
        "dollars",
        "dollar",
        "size",
        "color",
        "flavor",
        "name",
        "pack",
        "count",
        "which",
        "what",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "how",
        "was",
        "were",
        "did",
        "does",
        "do",
    ]
)
_BRACKET = re.compile(r"^\s*(\w+)\s*\[(.*)\]\s*$", re.S)


def family_of(env_id: str) -> str:
    """The template family of an env: its declared family for WebShop and HotPotQA, else the
    text-game templates."""
    from envs.registration import env_family

    family = env_family(env_id)
    return family if family in ("webshop", "hotpotqa") else "textgame"


def verb_arg(action: str) -> tuple[str, str]:
    """``('search', 'x')`` for ``search[x]``; ``('', action)`` when not bracketed."""
    m = _BRACKET.match(action)
    return (m[1].lower(), m[2].strip()) if m else ("", action.strip())


def words(text: str) -> list[str]:
    """Lower-cased content words (stop words and 1-letter tokens dropped)."""
    toks = re.findall(r"[a-z0-9][a-z0-9'\-]*", text.lower())
    return [t for t in toks if len(t) > 1 and t not in STOPWORDS]


def _visited(s: State) -> str:
    """Every page text the agent has seen (past observations and the current one)."""
    return "\n".join([*(t.observation for t in s.history), s.observation]).lower()


def _same_word(a: str, b: str) -> bool:
    a, b = a.rstrip("s"), b.rstrip("s")
    return a == b or (len(a) > 3 and (a.startswith(b) or b.startswith(a)))


# --- WebShop --------------------------------------------------------------------------------
_HEAD = re.compile(
    r"(?:looking for|need|want|buy|find|get)\s+(.*?)(?:,| with | in size | and price|$)"
)
_BUDGET = re.compile(r"price lower than\s*\$?\s*([0-9]+(?:\.[0-9]+)?)")
_NAV = {"buy now", "back to search", "< prev", "next >", "description", "features", "reviews"}


def product_type(task: str) -> str:
    """The product type a WebShop instruction asks for: the last word of its head phrase."""
    head = head_words(task)
    return head[-1] if head else ""


def budget(task: str) -> float | None:
    """The price limit of a WebShop instruction, if it names one."""
    m = _BUDGET.search(task.lower())
    return float(m[1]) if m else None


def _fields(obs: str) -> list[str]:
    return [f.strip() for f in obs.split("[SEP]")]


_ASIN = re.compile(r"^[A-Z0-9]{10}$")


def _result_of(obs: str, asin: str) -> tuple[str, float | None] | None:
    """(title, price) of product ``asin`` on a results page, if listed."""
    if not _ASIN.match(asin.strip()):
        return None
    f = _fields(obs)
    for i, x in enumerate(f):
        if x.lower() == asin.lower() and i + 1 < len(f):
            price = re.search(r"\$\s*([0-9]+(?:\.[0-9]+)?)", f[i + 2] if i + 2 < len(f) else "")
            return f[i + 1], (float(price[1]) if price else None)
    return None


def _in_task(phrase: str, task: str) -> bool:
    """``phrase`` occurs in ``task`` as a whole phrase (``x-large`` is not in ``xx-large``)."""
    rx = r"(?<![\w-])" + re.escape(phrase.lower()) + r"(?![\w-])"
    return re.search(rx, task.lower()) is not None


def head_words(task: str) -> list[str]:
    """Content words of the product phrase of a WebShop instruction."""
    m = _HEAD.search(task.lower())
    return words(m[1] if m else task)


def _on_product_page(obs: str) -> bool:
    return "buy now" in obs.lower()


def ws_search_type(s: State, a: str) -> bool | None:
    verb, arg = verb_arg(a)
    if verb != "search":
        return None
    kind = product_type(s.task)
    return bool(kind) and any(_same_word(w, kind) for w in words(arg))


def ws_click_type(s: State, a: str) -> bool | None:
    verb, arg = verb_arg(a)
    hit = _result_of(s.observation, arg) if verb == "click" else None
    if hit is None:
        return None
    head = head_words(s.task)
    return any(_same_word(w, h) for w in words(hit[0]) for h in head)


def ws_price(s: State, a: str) -> bool | None:
    verb, arg = verb_arg(a)
    hit = _result_of(s.observation, arg) if verb == "click" else None
    limit = budget(s.task)
    if hit is None or hit[1] is None or limit is None:
        return None
    return hit[1] < limit


def ws_option(s: State, a: str) -> bool | None:
    verb, arg = verb_arg(a)
    if verb != "click" or arg.lower() in _NAV or not _on_product_page(s.observation):
        return None
    return _in_task(arg, s.task)


def ws_on_page(s: State, a: str) -> bool | None:
    """search only on the search page; click only what the page shows."""
    verb, arg = verb_arg(a)
    fields = [f.lower() for f in _fields(s.observation)]
    if verb == "search":
        return "search" in fields
    if verb == "click":
        return arg.strip().lower() in fields
    return None


def ws_buy_after_options(s: State, a: str) -> bool | None:
    verb, arg = verb_arg(a)
    if verb != "click" or arg.lower() != "buy now":
        return None
    if not _on_product_page(s.observation):
        return False
    page = [x.lower() for x in _fields(s.observation)]
    wanted = {x for x in page if x and x not in _NAV and len(x) < 40 and _in_task(x, s.task)}
    wanted -= {"size", "color"}
    clicked = {verb_arg(t.action)[1].lower() for t in s.history}
    return wanted <= clicked


# --- HotPotQA -------------------------------------------------------------------------------
def hq_search_grounded(s: State, a: str) -> bool | None:
    verb, arg = verb_arg(a)
    if verb != "search":
        return None
    return bool(arg) and (arg.lower() in s.task.lower() or arg.lower() in _visited(s))


def hq_no_repeat_search(s: State, a: str) -> bool | None:
    verb, arg = verb_arg(a)
    if verb != "search":
        return None
    return all(verb_arg(t.action) != ("search", arg) for t in s.history)


def hq_finish_grounded(s: State, a: str) -> bool | None:
    verb, arg = verb_arg(a)
    if verb != "finish":
        return None
    pages = "\n".join([*(t.observation for t in s.history[1:]), s.observation if s.history else ""])
    return bool(arg) and arg.lower() in pages.lower()


def hq_no_early_finish(s: State, a: str) -> bool | None:
    verb, _ = verb_arg(a)
    if verb != "finish":
        return None
    return any(verb_arg(t.action)[0] == "search" for t in s.history)


# --- text games -----------------------------------------------------------------------------
_FAIL = re.compile(
    r"(?i)\b(nothing happens|can't|cannot|don't|not see|no such|isn't|aren't|locked|"
    r"you need|not possible|nothing to|that's not|invalid)\b"
)
_MOVES = re.compile(r"^(go\s+\w+|north|south|east|west|up|down|n|s|e|w)$", re.I)
_ROUTINE = {"look", "inventory", "l", "i"}


def tg_mentions_task(s: State, a: str) -> bool | None:
    task = set(words(s.task))
    hit = any(_same_word(w, t) for w in words(a) for t in task)
    return True if hit else None


def _after(s: State, i: int) -> str:
    return s.history[i + 1].observation if i + 1 < len(s.history) else s.observation


def tg_no_repeat_failed(s: State, a: str) -> bool | None:
    a_low = a.strip().lower()
    for i, t in enumerate(s.history):
        if t.action.strip().lower() == a_low:
            after = _after(s, i)
            if _FAIL.search(after) or after.strip() == t.observation.strip():
                return False
    return None


_PLACE = re.compile(r"(?i)(?:you are in|you arrive at|you're now in|-=)\s*([^.\n=]+)")


def place(obs: str) -> str:
    """The location an observation names (``You are in the X``), else the whole text."""
    m = _PLACE.search(obs)
    return (m[1] if m else obs).strip().lower()


def tg_explores(s: State, a: str) -> bool | None:
    if not _MOVES.match(a.strip()):
        return None
    here, act = place(s.observation), a.strip().lower()
    return not any(
        place(t.observation) == here and t.action.strip().lower() == act for t in s.history
    )


def tg_no_routine_loop(s: State, a: str) -> bool | None:
    """look/inventory: violated when one was already done at this place (never a plus)."""
    if a.strip().lower() not in _ROUTINE:
        return None
    here = place(s.observation)
    done = any(
        t.action.strip().lower() in _ROUTINE and place(t.observation) == here for t in s.history
    )
    return False if done else None


# family -> [(id, text, weight, check)]
TEMPLATES: dict[str, list[tuple[str, str, float, Check]]] = {
    "webshop": [
        (
            "on_page",
            "Search only on the search page; click only a button the page shows.",
            1.0,
            ws_on_page,
        ),
        ("search_type", "The search query names the requested product type.", 1.0, ws_search_type),
        ("options_match", "A chosen option is one the instruction asks for.", 1.0, ws_option),
        ("price_ok", "The clicked product's price is under the budget.", 1.0, ws_price),
        (
            "click_type",
            "The clicked product's title shares words with the requested product.",
            1.0,
            ws_click_type,
        ),
        (
            "buy_after_options",
            "Buy only after choosing every requested option the page offers.",
            1.0,
            ws_buy_after_options,
        ),
    ],
    "hotpotqa": [
        (
            "search_grounded",
            "The search names an entity from the question or a visited page.",
            1.0,
            hq_search_grounded,
        ),
        ("no_repeat_search", "The search was not made before.", 1.0, hq_no_repeat_search),
        (
            "finish_grounded",
            "Finish only with an answer seen on a visited page.",
            1.0,
            hq_finish_grounded,
        ),
        ("no_early_finish", "Do not finish before any search.", 0.5, hq_no_early_finish),
    ],
    "textgame": [
        (
            "mentions_task",
            "The action mentions an object or receptacle named in the task.",
            1.0,
            tg_mentions_task,
        ),
        (
            "no_repeat_failed",
            "The action does not repeat a failed action.",
            1.0,
            tg_no_repeat_failed,
        ),
        (
            "explores",
            "A move does not repeat a move already made from the same place.",
            0.5,
            tg_explores,
        ),
        (
            "no_routine_loop",
            "Do not look or take inventory again where it was already done.",
            0.5,
            tg_no_routine_loop,
        ),
    ],
}


def check_for(family: str, criterion_id: str) -> Check | None:
    """The programmatic check of a template criterion (None for free-text criteria)."""
    for cid, _, _, fn in TEMPLATES.get(family, []):
        if cid == criterion_id:
            return fn
    return None
