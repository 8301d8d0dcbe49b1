"""Action parsing (ReAct's ``search[...]``, ``lookup[...]``, ``finish[...]``, ``think[...]``) and
the suggested candidate actions listed in ``admissible_actions``."""

from __future__ import annotations

import re

from envs.hotpotqa.corpus import Page, words

VERBS = ("search", "lookup", "finish", "think")
HELP = "Valid actions: search[entity], lookup[keyword], finish[answer] (and think[thought])."
MAX_SEARCH, MAX_LOOKUP, MAX_FINISH = 8, 3, 4

_ACTION = re.compile(r"^(?:action\s*\d*\s*:\s*)?(search|lookup|finish|think)\s*\[(.*)$", re.I)
_SPAN = re.compile(r"[A-Z][\w'’-]*(?:(?:\s+(?:of|and|the|de|von|van|du|la|le))*\s+[A-Z][\w'’-]*)*")
_YEAR = re.compile(r"\b\d{4}\b")
_SIMILAR = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
_QUESTION_WORDS = frozenset(
    words(
        "in what which who whom whose where when how why are were is was do does did has have "
        "had can could the a an it its he she his her they their this that there these those "
        "of and or for on at by to from question"
    )
)
_STOP = _QUESTION_WORDS | frozenset(
    words(
        "both same with into than then also about after before between other more most less "
        "year city born"
    )
)
_NOT_PAGE = ("Could not find ", "Invalid action:", "Question:", "Episode finished")
_YES_NO = frozenset(words("are were is was do does did has have had can could will would"))


def parse_action(text: str) -> tuple[str, str] | None:
    """``(verb, argument)`` of the first line that is an action, tolerant of case, spaces, an
    "Action N:" prefix, text after the closing bracket and a missing closing bracket; None when
    no line is one of the four verbs."""
    for line in text.strip().splitlines():
        m = _ACTION.match(line.strip())
        if m:
            rest = m.group(2)
            end = rest.rfind("]")
            arg = (rest[:end] if end >= 0 else rest.rstrip().rstrip(".")).strip()
            if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
                arg = arg[1:-1].strip()
            return m.group(1).lower(), arg
    return None


def entity_spans(text: str) -> list[str]:
    """Capitalised name-like spans of ``text`` (leading question words dropped; spans joined
    by "and" are also given in parts)."""
    out: list[str] = []
    for m in _SPAN.finditer(text):
        words = m.group(0).split()
        while words and words[0].lower() in _QUESTION_WORDS and words[0] != "The":
            words.pop(0)
        if words and words[0] == "The" and len(words) == 1:
            words = []
        span = " ".join(words).strip("'’-")
        if not span:
            continue
        parts = [span]
        if " and " in span:  # "A and B" is two names; "The X and the Y" may be one title
            parts = parts[: int(" and the " in span)] + [p.strip() for p in span.split(" and ")]
        out += [p for p in parts if p and p.lower() not in _QUESTION_WORDS]
    return _dedupe(out)


def similar_titles(observation: str) -> list[str]:
    """The titles listed in a "Could not find X. Similar: [...]" observation."""
    _, sep, listing = observation.partition("Similar: [")
    if not sep:
        return []
    return [a or b for a, b in _SIMILAR.findall(listing)]


def page_text(observation: str) -> str:
    """The page text an observation shows (a search result or a lookup hit), else ""."""
    if observation.startswith("(Result "):
        return observation.partition(") ")[2]
    if observation.startswith(_NOT_PAGE) or observation in ("No more results.", "Nice thought."):
        return ""
    return observation


def candidates(question: str, observation: str, page: Page | None) -> list[str]:
    """Suggested concrete actions: searches for names in the question and the observation
    (and listed similar titles), lookups of question words found on the open page, and
    finishes with yes/no (for yes/no questions) or names and years seen in the observation."""
    content = page_text(observation)
    spans = entity_spans(content)
    searches = similar_titles(observation) + entity_spans(question) + spans
    acts = [f"search[{s}]" for s in _dedupe(searches)[:MAX_SEARCH]]
    if page is not None:
        text = " ".join(page.sentences).casefold()
        words = [w for w in re.findall(r"[a-z]+", question.lower()) if len(w) >= 4]
        words = [w for w in _dedupe(words) if w not in _STOP and w in text]
        acts += [f"lookup[{w}]" for w in words[:MAX_LOOKUP]]
    first = question.split()[:1]
    answers = ["yes", "no"] if first and first[0].lower() in _YES_NO else []
    seen_q = question.casefold()
    found = spans + _YEAR.findall(content)
    answers += _dedupe([a for a in found if a.casefold() not in seen_q])[:MAX_FINISH]
    acts += [f"finish[{a}]" for a in answers]
    return _dedupe(acts)


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for it in items:
        key = it.casefold()
        if key not in seen:
            seen.add(key)
            out.append(it)
    return out
