"""BM25 product search with ``bm25s`` (WebShop used Lucene through pyserini; no Java here).

Documents are WebShop's index text (title, description, first bullet point, options),
lowercased, English stop words removed and Snowball-stemmed; BM25 with Lucene's idf and
pyserini's default ``k1=0.9, b=0.4``. A search returns up to 50 asins, best first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

SEARCH_RETURN_N = 50
K1, B = 0.9, 0.4


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class ProductSearch:
    """A BM25 index over product texts, with a small LRU cache of query results."""

    def __init__(self, asins: Sequence[str], texts: Sequence[str], cache_size: int = 4096) -> None:
        import bm25s

        if len(asins) != len(texts):
            raise ValueError("asins and texts differ in length")
        self.asins = list(asins)
        self._bm25s = bm25s
        self._stem = _stemmer()
        tokens = bm25s.tokenize(
            list(texts), stopwords="en", stemmer=self._stem, show_progress=False
        )
        self._retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
        self._retriever.index(tokens, show_progress=False)
        self._cache: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the asins and the BM25 matrices only (stemmer, lock and cache are rebuilt)."""
        return {"asins": self.asins, "retriever": self._retriever, "cache_size": self._cache_size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        import bm25s

        self.asins, self._retriever = state["asins"], state["retriever"]
        self._bm25s, self._stem = bm25s, _stemmer()
        self._cache, self._cache_size = OrderedDict(), state["cache_size"]
        self._lock = threading.Lock()

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> tuple[str, ...]:
        """Asins of the top ``k`` products for ``query`` (fewer when few documents match)."""
        key = f"{k}\x00{' '.join(query.lower().split())}"
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        hits = self._search(key.split("\x00", 1)[1], k)
        with self._lock:
            self._cache[key] = hits
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return hits

    def _search(self, query: str, k: int) -> tuple[str, ...]:
        tokens = self._bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stem, show_progress=False, return_ids=False
        )
        if not tokens or not tokens[0]:
            return ()
        vocab = self._retriever.vocab_dict
        ids = [vocab[t] for t in tokens[0] if t in vocab]
        if not ids:
            return ()
        scores = self._retriever.get_scores_from_ids(ids)
        n = min(k, int(np.count_nonzero(scores > 0)))
        if n == 0:
            return ()
        top = np.argpartition(-scores, n - 1)[:n]
        order = top[np.lexsort((top, -scores[top]))]
        return tuple(self.asins[int(i)] for i in order)
