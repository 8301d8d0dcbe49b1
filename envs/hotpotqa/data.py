"""Real HotPotQA files: the official JSON question format, a fullwiki corpus file, and splits.

Split mapping (documented in the README):
- ``split_files={"train": PATH, ...}`` names a file per split explicitly (wins over the rest);
- a directory: test = ``hotpot_dev_distractor_v1.json`` (or ``hotpot_dev_fullwiki_v1.json``,
  preferred when a corpus is given), train = ``hotpot_train_v1.1.json`` minus the 1/20 of its
  questions (by SHA-256 of ``_id``) that form valid; the official test file hides its answers;
- a single file: it is the test split; with ``partition=True`` its questions are divided by
  SHA-256 of ``_id`` instead: 80% train, 10% valid, 10% test.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs.hotpotqa.corpus import Page, split_sentences
from envs.hotpotqa.metrics import normalize_answer

DATA_ENV = "HOTPOTQA_DATA"
DIR_FILES = {
    "train": ("hotpot_train_v1.1.json", "hotpot_train_v1.json"),
    "test": ("hotpot_dev_distractor_v1.json", "hotpot_dev_fullwiki_v1.json"),
}
YES_NO = ("yes", "no")
COMPARISON_YESNO, COMPARISON_VALUE = "comparison-yesno", "comparison-value"
VALID_OF_TRAIN = 20  # a directory's valid split: 1 in 20 train questions by _id hash
HOW = (
    f"set {DATA_ENV} or pass data=PATH (hotpot_dev_distractor_v1.json or the directory "
    "holding the official HotPotQA JSON files)"
)


class DataError(ValueError):
    """Unusable or missing data; the message says what to do."""


@dataclass(frozen=True)
class QATask:
    """One question: gold answer, supporting facts ``(title, sentence index)`` and, in the
    distractor setting, its own context pages (empty when a shared corpus serves all).

    Generated sets also name the ``template`` that wrote the question and its ``outcome``:
    the yes/no answer, or which of the two compared entities wins ("first" / "second" as
    named in the question) for a value comparison; both are empty for real data.
    """

    qid: str
    question: str
    answer: str
    qtype: str = ""
    level: str = ""
    supporting: tuple[tuple[str, int], ...] = ()
    context: tuple[Page, ...] = ()
    template: str = ""
    outcome: str = ""


def question_type(task: QATask) -> str:
    """``bridge``, ``comparison-yesno`` or ``comparison-value`` (HotPotQA's ``type`` with
    comparisons split by a yes/no answer); ``""`` when the task has no type."""
    if task.qtype != "comparison":
        return task.qtype
    yes_no = normalize_answer(task.answer) in YES_NO
    return COMPARISON_YESNO if yes_no else COMPARISON_VALUE


def bucket(qid: str, n: int) -> int:
    """Deterministic bucket of a question id in ``range(n)`` (SHA-256)."""
    return int(hashlib.sha256(qid.encode()).hexdigest()[:8], 16) % n


def parse_question(item: Any, where: str) -> QATask:
    """One record of the official format; DataError naming the record when malformed."""
    if not isinstance(item, dict) or "question" not in item:
        raise DataError(f"{where}: not a HotPotQA question record (needs _id, question, answer)")
    if "answer" not in item:
        raise DataError(
            f"{where}: has no 'answer' (the official test file hides answers): use the dev file"
        )
    try:
        context = tuple(
            Page(str(title), tuple(str(s).strip() for s in sents))
            for title, sents in item.get("context", [])
        )
        support = tuple((str(t), int(i)) for t, i in item.get("supporting_facts", []))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: malformed context or supporting_facts ({exc})") from None
    return QATask(
        qid=str(item.get("_id", where)),
        question=str(item["question"]),
        answer=str(item["answer"]),
        qtype=str(item.get("type", "")),
        level=str(item.get("level", "")),
        supporting=support,
        context=context,
    )


def load_questions(path: str | os.PathLike[str]) -> list[QATask]:
    """All questions of an official HotPotQA JSON file (a list of records)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as fh:
            items = json.load(fh)
    except OSError as exc:
        raise DataError(f"cannot read HotPotQA file {path}: {exc.strerror}; {HOW}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(items, list):
        raise DataError(f"{path}: expected a JSON list of question records")
    return [parse_question(item, f"{path.name}[{i}]") for i, item in enumerate(items)]


def load_corpus(path: str | os.PathLike[str]) -> list[Page]:
    """Pages of a corpus file: JSON lines (or a JSON list) of ``{title, text | paragraph |
    sentences}``; ``text`` may be a string or a list of sentences (or of lists of them)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read corpus file {path}: {exc.strerror}") from None
    try:
        if raw.lstrip().startswith("["):
            records = json.loads(raw)
        else:
            records = [json.loads(line) for line in raw.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not JSON lines of {{title, text}} ({exc.msg})") from None
    return [_corpus_page(r, f"{path.name}[{i}]") for i, r in enumerate(records)]


def _corpus_page(rec: Any, where: str) -> Page:
    body = None
    if isinstance(rec, dict):
        body = next((rec[k] for k in ("sentences", "text", "paragraph") if k in rec), None)
    if body is None or "title" not in rec:
        raise DataError(f"{where}: a corpus record needs 'title' and 'text' (or 'paragraph')")
    if isinstance(body, str):
        sentences = split_sentences(body)
    else:
        flat = [s for part in body for s in ([part] if isinstance(part, str) else part)]
        sentences = [str(s).strip() for s in flat if str(s).strip()]
    return Page(str(rec["title"]), tuple(sentences))


class OfficialData:
    """Resolves which file serves each split and loads (and keeps) its questions."""

    def __init__(
        self,
        data: str | os.PathLike[str] | None = None,
        split_files: dict[str, str] | None = None,
        partition: bool = False,
        prefer_fullwiki: bool = False,
    ) -> None:
        data = data if data is not None else os.environ.get(DATA_ENV) or None
        self.split_files = {k: Path(v) for k, v in (split_files or {}).items()}
        self.root = Path(data).expanduser() if data else None
        self.partition = partition
        if self.root is None and not self.split_files:
            raise DataError(f"HotPotQA data not given: {HOW}")
        if self.root is not None and not self.root.exists():
            raise DataError(f"HotPotQA data not found at {self.root}: {HOW}")
        self.prefer_fullwiki = prefer_fullwiki
        self._cache: dict[str, list[QATask]] = {}

    def source(self, split: str) -> tuple[Path, str]:
        """The file serving ``split`` and which part of it: "all", "dir:<split>" (train file
        minus / only its valid share) or "part:<split>" (a partitioned single file)."""
        if split in self.split_files:
            return self.split_files[split], "all"
        root = self.root
        if root is None:
            raise DataError(f"no file for split {split!r}: add it to split_files")
        if root.is_file():
            if self.partition:
                return root, f"part:{split}"
            if split == "test":
                return root, "all"
            raise DataError(
                f"one file ({root.name}) serves only the test split; for {split!r} pass a "
                "directory with hotpot_train_v1.1.json, split_files={...} or partition=True"
            )
        names = DIR_FILES["train" if split in ("train", "valid") else "test"]
        if split == "test" and self.prefer_fullwiki:
            names = names[::-1]
        found = next((root / n for n in names if (root / n).is_file()), None)
        if found is None:
            raise DataError(f"no {' or '.join(names)} in {root} for split {split!r}")
        return found, ("all" if split == "test" else f"dir:{split}")

    def tasks(self, split: str) -> list[QATask]:
        """The questions of ``split`` (loaded once)."""
        if split not in self._cache:
            path, part = self.source(split)
            questions = load_questions(path)
            self._cache[split] = [q for q in questions if in_part(q.qid, part)]
            if not self._cache[split]:
                raise DataError(f"split {split!r} of {path} holds no questions")
        return self._cache[split]

    def describe(self) -> list[str]:
        """File names and sizes (for the env fingerprint)."""
        paths = list(self.split_files.values()) + ([self.root] if self.root else [])
        out = []
        for p in paths:
            files = sorted(p.glob("*.json")) if p.is_dir() else [p]
            out += [f"{f.name}:{f.stat().st_size}" for f in files if f.is_file()]
        return out


def in_part(qid: str, part: str) -> bool:
    """Whether question ``qid`` belongs to ``part`` (see ``OfficialData.source``)."""
    kind, _, split = part.partition(":")
    if kind == "dir":  # a directory's train file: valid is 1 in 20 of its questions
        return (bucket(qid, VALID_OF_TRAIN) == 0) == (split == "valid")
    if kind == "part":  # one partitioned file: 80/10/10
        b = bucket(qid, 10)
        return {"valid": b == 0, "test": b == 1}.get(split, b >= 2)
    return True
