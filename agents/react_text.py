"""Text handling of the ReAct agent: reply parsing, the action-mapping rule, history budget.

Mapping rule (when the env lists admissible actions), first match wins:

1. ``exact``: the parsed action is one of the admissible actions;
2. ``normalized``: equal after lower-casing, collapsing spaces, and stripping quotes and
   trailing punctuation;
3. ``contained``: admissible actions that occur in the parsed action as whole words; the one
   starting earliest wins (ties: the longest);
4. ``fuzzy``: the admissible action with the highest similarity ratio (difflib, 0..1) if it
   is at least ``threshold`` (default 0.8; ties: the first listed);
5. ``none``: the parsed action is kept as is and the env judges it (usually invalid).

Without admissible actions the parsed action is used as is (rule ``free``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agents.base import Turn

_LABEL = r"[\s>*#`_-]*(?:\d+[.)]\s*)?\**\s*{name}\s*\d*\s*\**\s*[:：]"
ACTION_LINE = re.compile(r"(?im)^" + _LABEL.format(name="action") + r"[ \t*]*(.*)$")
ACTION_INLINE = re.compile(r"(?i)\baction\s*\d*\s*\**\s*[:：][ \t*]*([^\n]*)")
THOUGHT = re.compile(
    r"(?is)\bthought\s*\d*\s*\**\s*[:：][\s*]*(.*?)(?=\n" + _LABEL.format(name="action") + r"|\Z)"
)
THOUGHT_LINE = re.compile(r"(?im)^\s*\**\s*thought\s*\d*\s*\**\s*[:：][\s*]*(.*)$")
STOP_LABELS = re.compile(r"(?i)\b(observation|thought|obs)\s*\d*\s*[:：]")
QUOTES = "\"'`*“”‘’"
TRAILING = ".,;:!?"


@dataclass(frozen=True)
class Parsed:
    """A reply split into thought and action; ``labelled``: it had an ``Action:`` label."""

    thought: str
    action: str
    labelled: bool


def clean_action(raw: str) -> str:
    """One action from raw text: first line, no labels, quotes or trailing punctuation."""
    text = raw.strip().split("\n", 1)[0] if raw.strip() else ""
    m = STOP_LABELS.search(text)
    if m:
        text = text[: m.start()]
    text = re.sub(r"^[\s>*#-]*(?:\d+[.)]\s+)?", "", text).strip()
    text = re.sub(r"(?i)^action\s*\d*\s*[:：]\s*", "", text)
    if "[" in text and "]" in text[text.index("[") :]:
        text = text[: text.index("]", text.index("[")) + 1]
    prev = None
    while prev != text:
        prev = text
        text = text.strip()
        if len(text) >= 2 and text[0] in QUOTES and text[-1] in QUOTES:
            text = text[1:-1]
        text = text.rstrip(TRAILING).lstrip(QUOTES).rstrip(QUOTES)
    return " ".join(text.split())


def parse_reply(reply: str) -> Parsed:
    """Thought and action of a model reply, robust to missing labels, extra text and lists."""
    text = reply.replace("\r", "").replace("```", "\n").strip()
    tm = THOUGHT.search(text)
    thought = tm.group(1).strip() if tm else ""
    for m in ACTION_LINE.finditer(text):
        if clean_action(m.group(1)):
            if not tm:
                thought = text[: m.start()].strip()
            return Parsed(_short(thought), clean_action(m.group(1)), True)
    m2 = ACTION_INLINE.search(text)
    if m2 and clean_action(m2.group(1)):
        return Parsed(
            _short(thought or text[: m2.start()].strip()), clean_action(m2.group(1)), True
        )
    tl = THOUGHT_LINE.search(text)
    thought = tl.group(1).strip() if tl else ""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    prompt_lines = [ln for ln in lines if ln.lstrip().startswith(">")]
    if prompt_lines:
        return Parsed(_short(thought), clean_action(prompt_lines[0].lstrip()[1:]), False)
    rest = [ln for ln in lines if not re.match(r"(?i)^\s*\**\s*thought\s*\d*\s*[:：]", ln)]
    if rest:
        return Parsed(_short(thought), clean_action(rest[-1]), False)
    return Parsed(_short(thought), clean_action(thought), False)


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalize(text: str) -> str:
    """Lower-case, single spaces, no surrounding quotes or trailing punctuation."""
    return clean_action(text).lower()


@dataclass(frozen=True)
class Mapped:
    """The action sent to the env, the rule that produced it and its similarity (0..1)."""

    action: str
    rule: str
    similarity: float = 1.0


def map_action(action: str, admissible: Sequence[str], threshold: float = 0.8) -> Mapped:
    """Apply the mapping rule of this module's docstring."""
    if not admissible:
        return Mapped(action, "free")
    if action in admissible:
        return Mapped(action, "exact")
    norm = normalize(action)
    for a in admissible:
        if normalize(a) == norm:
            return Mapped(a, "normalized")
    hits = []
    for i, a in enumerate(admissible):
        na = normalize(a)
        m = re.search(r"(?<!\w)" + re.escape(na) + r"(?!\w)", norm) if na else None
        if m:
            hits.append((m.start(), -len(na), i))
    if hits:
        _, _, i = min(hits)
        return Mapped(admissible[i], "contained")
    best, best_i = -1.0, -1
    for i, a in enumerate(admissible):
        r = difflib.SequenceMatcher(None, norm, normalize(a)).ratio()
        if r > best:
            best, best_i = r, i
    if best >= threshold:
        return Mapped(admissible[best_i], "fuzzy", round(best, 4))
    return Mapped(action, "none", round(max(best, 0.0), 4))


@dataclass(frozen=True)
class Transcript:
    """The rendered episode so far and how many old steps were left out."""

    text: str
    dropped: int


def render_history(
    history: Sequence[Turn],
    observation: str,
    thoughts: Sequence[str | None],
    budget: int,
    count: Callable[[str], int],
    max_obs_chars: int = 1500,
    drop_chunk: int = 8,
    notes: str = "",
) -> Transcript:
    """``Observation/Thought/Action`` lines of the newest steps that fit in ``budget`` tokens,
    then ``notes`` (a note maker's line, if any) and the current observation (both always
    kept, like the task, which the caller places before this; neither counts against
    ``budget``). Older steps are replaced by one line listing their actions.

    Steps are dropped in multiples of ``drop_chunk`` (at most half the steps that fit) so
    the start of the transcript stays
    the same for several steps: servers that cache prompt prefixes (llama.cpp) then
    re-read only the newest lines instead of the whole window at every step.
    """
    current = f"Observation: {_clip(observation, max_obs_chars)}"
    used = count(current)
    blocks: list[str] = []
    for i in range(len(history) - 1, -1, -1):
        turn = history[i]
        lines = [f"Observation: {_clip(turn.observation, max_obs_chars)}"]
        thought = thoughts[i] if i < len(thoughts) else None
        if thought:
            lines.append(f"Thought: {thought}")
        lines.append(f"Action: {turn.action}")
        block = "\n".join(lines)
        cost = count(block)
        if used + cost > budget:
            break
        blocks.append(block)
        used += cost
    dropped = len(history) - len(blocks)
    if dropped:  # never give up more than half of the steps that fit
        chunk = max(1, min(drop_chunk, len(blocks) // 2))
        dropped = min(len(history), -(-dropped // chunk) * chunk)
        blocks = blocks[: len(history) - dropped]
    parts = []
    if dropped:
        acts = [t.action for t in history[:dropped]][-12:]
        parts.append(f"[{dropped} earlier steps left out; their last actions: {', '.join(acts)}]")
    parts += list(reversed(blocks))
    if notes:
        parts.append(notes)
    parts.append(current)
    return Transcript("\n".join(parts), dropped)


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 5] + " ..."
