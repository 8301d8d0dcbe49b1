"""Rubrics: weighted, checkable criteria for good next steps of a task.

A rubric comes from a per-env template (criteria with programmatic checks, the default: no
model) or is written by an LLM from the task text (any policy spec; free-text criteria, judged
by a model). Model output is parsed leniently (``parse_rubric``): JSON, numbered or bulleted
lists, ``weight: 0.3`` / ``(30%)`` / ``[2]`` weights; missing weights become equal weights,
duplicates are dropped, and more than ``max_criteria`` keeps the heaviest. Weights are
normalised to sum to 1. Generated rubrics are cached on disk under ``cache_dir("rubrics")``,
keyed by a hash of (env family, task text, generator spec).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agents.llm.base import LLM
from envs.base import fingerprint
from envs.files import atomic_write
from scoring.rubric.templates import TEMPLATES, family_of

MAX_CRITERIA = 6
TEMPLATE = "template"


@dataclass(frozen=True)
class Criterion:
    """One criterion: id, text, weight, and ``check`` (``family.id`` of a template check, or
    ``''`` for a free-text criterion that a judge model rates)."""

    id: str
    text: str
    weight: float
    check: str = ""


@dataclass(frozen=True)
class Rubric:
    """The criteria of one task, where they came from (``template`` or a generator spec)."""

    family: str
    criteria: tuple[Criterion, ...]
    source: str = TEMPLATE

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (stored in decisions and the cache)."""
        return {
            "family": self.family,
            "source": self.source,
            "criteria": [asdict(c) for c in self.criteria],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rubric:
        """Inverse of ``to_dict``."""
        crits = tuple(Criterion(**c) for c in d["criteria"])
        return cls(str(d["family"]), crits, str(d.get("source", TEMPLATE)))

    @property
    def digest(self) -> str:
        """A short hash identifying this rubric."""
        return fingerprint(self.to_dict())


def template_rubric(env_id: str) -> Rubric:
    """The template rubric of an env's family (weights normalised)."""
    fam = family_of(env_id)
    rows = TEMPLATES[fam]
    total = sum(w for _, _, w, _ in rows)
    crits = tuple(Criterion(cid, text, w / total, f"{fam}.{cid}") for cid, text, w, _ in rows)
    return Rubric(fam, crits, TEMPLATE)


# --- parsing model output ---------------------------------------------------------------------
_WEIGHT = re.compile(
    r"[\(\[\{]?\s*\b(?:weight|importance|w)\b\s*[:=]?\s*(-?[0-9]*\.?[0-9]+)\s*(%?)\s*[\)\]\}]?",
    re.I,
)
_PCT = re.compile(r"[\(\[]\s*([0-9]*\.?[0-9]+)\s*%\s*[\)\]]")
_TRAIL_NUM = re.compile(r"(?:[\(\[]\s*([0-9]*\.?[0-9]+)\s*[\)\]]|[-–:|]\s*([0-9]*\.?[0-9]+))\s*$")
_BULLET = re.compile(
    r"^\s*(?:[-*•+>]+|\d+\s*[.):]|[a-z]\s*[.)]|(?:criterion|criteria|rule|item)\s*\d*\s*[:.)-])\s*",
    re.I,
)
_HEADER = re.compile(r"(?i)^(here (is|are)|rubric|criteria|sure|the following|below)\b")


def _num(raw: str, pct: str = "") -> float:
    return float(raw) / 100.0 if pct else float(raw)


def _split_weight(line: str) -> tuple[str, float | None]:
    """``(criterion text, weight or None)`` of one line."""
    for rx, pct_group in ((_WEIGHT, 2), (_PCT, 0)):
        m = rx.search(line)
        if m:
            pct = m[pct_group] if pct_group else "%"
            return (line[: m.start()] + line[m.end() :]).strip(), _num(m[1], pct)
    m = _TRAIL_NUM.search(line)
    if m and re.search(r"[a-z]", line[: m.start()], re.I):
        return line[: m.start()].strip(), float(m[1] or m[2])
    return line.strip(), None


def _clean(text: str) -> str:
    text = re.sub(r"[*_`#]+", "", text)
    text = re.sub(r"\s+", " ", text).strip(" \t-–:;,|\"'")
    return text


def _from_json(text: str) -> list[tuple[str, float | None]] | None:
    for opener, closer in (("[", "]"), ("{", "}")):
        i, j = text.find(opener), text.rfind(closer)
        if i < 0 or j <= i:
            continue
        try:
            data = json.loads(text[i : j + 1])
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            inner = next((data[k] for k in ("criteria", "rubric", "items") if k in data), None)
            if inner is None:
                if all(isinstance(v, int | float) for v in data.values()):
                    return [(str(k), float(v)) for k, v in data.items()]
                continue
            data = inner
        if isinstance(data, list):
            return [p for p in (_json_item(x) for x in data) if p is not None]
    return None


def _json_item(x: Any) -> tuple[str, float | None] | None:
    if isinstance(x, str):
        return _split_weight(x)
    if isinstance(x, dict):
        keys = ("criterion", "text", "description", "name", "rule")
        text = next((str(x[k]) for k in keys if x.get(k)), "")
        w = x.get("weight", x.get("importance"))
        try:
            return text, float(str(w).rstrip("%")) / (100 if str(w).endswith("%") else 1)
        except (TypeError, ValueError):
            return text, None
    return None


def _from_lines(text: str) -> list[tuple[str, float | None]]:
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _HEADER.match(_clean(line)) or (line.endswith(":") and len(line) < 60):
            continue
        body = _BULLET.sub("", line, count=1)
        out.append(_split_weight(body))
    return out


def parse_rubric(text: str, max_criteria: int = MAX_CRITERIA) -> list[tuple[str, float]]:
    """``[(criterion text, weight)]`` from messy model output, weights summing to 1."""
    items = _from_json(text)
    if not items:
        items = _from_lines(text)
    seen: list[tuple[str, float | None]] = []
    for t, w in items:
        t = _clean(t)
        if len(re.findall(r"[a-zA-Z]{2,}", t)) < 2 or (w is not None and w < 0):
            continue
        key = re.sub(r"[^a-z0-9]+", " ", t.lower()).strip()
        dup = any(
            difflib.SequenceMatcher(
                None, key, re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()
            ).ratio()
            > 0.95
            for s, _ in seen
        )
        if not dup:
            seen.append((t, w))
    given = [w for _, w in seen if w is not None and w > 0]
    fill = sum(given) / len(given) if given else 1.0
    weighted = [(t, w if w is not None and w > 0 else fill) for t, w in seen]
    if len(weighted) > max_criteria:
        order = sorted(range(len(weighted)), key=lambda i: (-weighted[i][1], i))[:max_criteria]
        weighted = [weighted[i] for i in sorted(order)]
    total = sum(w for _, w in weighted)
    return [(t, w / total) for t, w in weighted] if total > 0 else []


# --- generation and cache ---------------------------------------------------------------------
GEN_SYSTEM = (
    "You write short rubrics for judging the NEXT action of an agent working on a task. "
    "Each criterion is one checkable sentence about a good next action."
)
GEN_USER = (
    "Task: {task}\n\nWrite 3 to 5 criteria that a good next action in this task satisfies, "
    "one per line, each as:\n- <criterion> (weight: <number between 0 and 1>)"
)


def generation_prompt(task: str) -> list[dict[str, str]]:
    """The chat prompt asking a model for a rubric."""
    return [
        {"role": "system", "content": GEN_SYSTEM},
        {"role": "user", "content": GEN_USER.format(task=task)},
    ]


def generate_rubric(
    llm: LLM, env_id: str, task: str, source: str = "", max_criteria: int = MAX_CRITERIA
) -> Rubric:
    """A rubric written by ``llm`` for ``task``; the template rubric when nothing parses."""
    res = llm.generate(generation_prompt(task), temperature=0.0, max_tokens=200, seed=0)
    items = parse_rubric(res.text, max_criteria)
    if not items:
        return template_rubric(env_id)
    crits = tuple(Criterion(f"g{i + 1}", t, w) for i, (t, w) in enumerate(items))
    return Rubric(family_of(env_id), crits, source or getattr(llm, "name", "llm"))


class RubricStore:
    """Rubrics per task: template, or generated once and cached on disk (hits/misses counted)."""

    def __init__(
        self,
        generator: str = "",
        root: str | Path | None = None,
        llm: LLM | None = None,
        max_criteria: int = MAX_CRITERIA,
    ) -> None:
        self.generator, self._llm, self.max_criteria = generator, llm, int(max_criteria)
        self._root = Path(root) if root else None
        self.hits = self.misses = 0
        self._mem: dict[str, Rubric] = {}

    def _dir(self) -> Path:
        if self._root is None:
            from envs.cache import cache_dir

            self._root = cache_dir("rubrics")
        self._root.mkdir(parents=True, exist_ok=True)
        return self._root

    def key(self, env_id: str, task: str) -> str:
        """Cache key: hash of (env family, task text, generator spec, generation prompt,
        criteria cap): a changed prompt or cap writes new rubrics instead of serving old ones."""
        return fingerprint(family_of(env_id), task, self.generator, GEN_SYSTEM, self.max_criteria)

    def get(self, env_id: str, task: str) -> Rubric:
        """The task's rubric (template when no generator is set)."""
        if not self.generator and self._llm is None:
            return template_rubric(env_id)
        key = self.key(env_id, task)
        if key in self._mem:
            self.hits += 1
            return self._mem[key]
        path = self._dir() / f"{key}.json"
        if path.exists():
            self.hits += 1
            rubric = Rubric.from_dict(json.loads(path.read_text(encoding="utf-8")))
        else:
            self.misses += 1
            rubric = generate_rubric(self.llm, env_id, task, self.generator, self.max_criteria)
            atomic_write(path, json.dumps(rubric.to_dict(), indent=1))  # two workers may race
        self._mem[key] = rubric
        return rubric

    @property
    def llm(self) -> LLM:
        """The generator model (shared instance of the spec)."""
        if self._llm is None:
            from agents.llm.spec import get_policy

            self._llm = get_policy(self.generator)
        return self._llm
