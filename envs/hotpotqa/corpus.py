"""A local encyclopedia: pages as sentence lists, exact-title lookup, BM25 "similar" titles."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SHOWN_SENTENCES = 5  # ReAct's search shows the first five sentences of a page
SIMILAR_TITLES = 5  # ...and at most five similar titles when there is no exact page
TITLE_WEIGHT = 3  # title tokens are repeated in the index so title matches rank first

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


def words(text: str) -> list[str]:
    """The whitespace-separated words of ``text`` (for word lists written as one string)."""
    return text.split()


def title_key(title: str) -> str:
    """Case-, space- and underscore-insensitive form of a title (how search matches pages)."""
    return " ".join(title.replace("_", " ").split()).casefold()


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences (paragraph breaks, then sentence-final punctuation)."""
    out: list[str] = []
    for para in text.split("\n"):
        out += [s.strip() for s in _SENTENCE_END.split(para.strip()) if s.strip()]
    return out


@dataclass(frozen=True)
class Page:
    """One encyclopedia page: a title and its sentences."""

    title: str
    sentences: tuple[str, ...]

    def intro(self, n: int = SHOWN_SENTENCES) -> str:
        """What ``search`` shows: the first ``n`` sentences."""
        return " ".join(s.strip() for s in self.sentences[:n])

    def lookup(self, keyword: str) -> list[int]:
        """Indices of the sentences that contain ``keyword`` (case-insensitive substring)."""
        kw = keyword.casefold()
        return [i for i, s in enumerate(self.sentences) if kw in s.casefold()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"title": self.title, "sentences": list(self.sentences)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Page:
        """Inverse of ``to_dict``."""
        return cls(str(d["title"]), tuple(str(s) for s in d["sentences"]))


class Corpus:
    """Pages by title, with BM25 search (``bm25s``) for similar titles, built on first use."""

    def __init__(self, pages: Iterable[Page]) -> None:
        self.pages: dict[str, Page] = {}
        for p in pages:
            self.pages.setdefault(title_key(p.title), p)
        self._order = list(self.pages.values())
        self._index: Any = None

    def __len__(self) -> int:
        return len(self.pages)

    def __contains__(self, title: object) -> bool:
        return isinstance(title, str) and title_key(title) in self.pages

    def get(self, title: str) -> Page | None:
        """The page whose title matches ``title`` (case/space-insensitive), or None."""
        return self.pages.get(title_key(title))

    def titles(self) -> list[str]:
        """All page titles, in insertion order."""
        return [p.title for p in self._order]

    def similar(self, query: str, k: int = SIMILAR_TITLES) -> list[str]:
        """Up to ``k`` titles of pages most relevant to ``query`` by BM25 (score > 0)."""
        import bm25s

        if not self._order or k <= 0:
            return []
        if self._index is None:
            self._index = self._build()
        tokens = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)
        if not tokens[0]:
            return []
        n = min(len(self._order), 2 * k)
        docs, scores = self._index.retrieve(tokens, k=n, show_progress=False)
        ranked = sorted(
            (-float(s), int(d)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0
        )
        return [self._order[d].title for _, d in ranked[:k]]

    def _build(self) -> Any:
        import bm25s

        texts = [
            " ".join([p.title] * TITLE_WEIGHT + [p.intro(len(p.sentences))]) for p in self._order
        ]
        index = bm25s.BM25()
        index.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        return index
