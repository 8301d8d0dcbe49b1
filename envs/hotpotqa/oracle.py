"""The oracle: search each supporting page, look up the supporting sentences not yet shown,
then finish with the gold answer. It works from any state, so it can label any tree node."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from envs.hotpotqa.corpus import SHOWN_SENTENCES, Page, words
from envs.hotpotqa.data import QATask
from envs.hotpotqa.metrics import normalize_answer

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_STOP = frozenset(words("the and was his her its with from that this which into also has have had"))


def lookup_keyword(page: Page, index: int, answer: str, question: str) -> tuple[str, int]:
    """A keyword whose lookup reaches sentence ``index`` soonest, and how many results precede
    it; words of the answer are avoided, words of the question preferred."""
    answer_words = set(normalize_answer(answer).split())
    q = question.casefold()
    best: tuple[tuple[int, int, int], str, int] | None = None
    for pos, word in enumerate(_WORD.findall(page.sentences[index])):
        low = word.lower()
        if low in _STOP or low in answer_words:
            continue
        rank = page.lookup(word).index(index)
        key = (rank, 0 if low in q else 1, pos)
        if best is None or key < best[0]:
            best = (key, word, rank)
    if best is None:  # nothing but stop words and the answer: use the sentence's first words
        word = " ".join(page.sentences[index].split()[:3])
        return word, page.lookup(word).index(index)
    return best[1], best[2]


def expert_step(
    task: QATask,
    get_page: Callable[[str], Page | None],
    current: Page | None,
    seen: Collection[tuple[str, int]],
    lookup_state: tuple[str | None, int],
) -> str:
    """The oracle's next action given the open page, the (title, sentence) pairs already
    shown, and the lookup keyword and count in progress."""
    for title, idx in task.supporting:
        page = get_page(title)
        if page is None or not 0 <= idx < len(page.sentences) or (page.title, idx) in seen:
            continue
        if current is None or current.title != page.title:
            return f"search[{page.title}]"
        word, rank = lookup_keyword(page, idx, task.answer, task.question)
        kw, count = lookup_state
        if kw == word and count > rank:  # already past it: searching again resets the lookup
            return f"search[{page.title}]"
        return f"lookup[{word}]"
    return f"finish[{task.answer}]"


def intro_facts(page: Page) -> list[tuple[str, int]]:
    """The (title, sentence) pairs a search shows."""
    return [(page.title, i) for i in range(min(SHOWN_SENTENCES, len(page.sentences)))]
