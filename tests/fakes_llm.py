"""A scriptable fake LLM for unit tests of agents (no model, no server)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from agents.llm.base import Completion, LLMResult, Prompt, ScoringUnsupported, approx_tokens


class FakeLLM:
    """Fake policy: replies come from ``replies`` (cycled) or ``reply_fn(prompt, kw)``;
    ``scores`` maps a continuation to its fake log-probability. Records every call."""

    def __init__(
        self,
        replies: Sequence[str] = ("Thought: fake.\nAction: look",),
        reply_fn: Callable[[Prompt, dict[str, Any]], str] | None = None,
        scores: dict[str, float] | None = None,
        grammar: bool = False,
        prefill: bool = False,
    ) -> None:
        self.name = "fake"
        self.replies, self.reply_fn = list(replies), reply_fn
        self.scores = scores
        self._grammar, self._prefill = grammar, prefill
        self.calls: list[dict[str, Any]] = []
        self.score_calls: list[tuple[Prompt, list[str]]] = []
        self._lock = threading.Lock()
        self._i = 0

    @property
    def supports_scoring(self) -> bool:
        return self.scores is not None

    @property
    def supports_grammar(self) -> bool:
        return self._grammar

    @property
    def supports_prefill(self) -> bool:
        return self._prefill

    def generate(self, prompt: Prompt, **kw: Any) -> LLMResult:
        with self._lock:
            self.calls.append({"prompt": prompt, **kw})
            comps = []
            for _ in range(int(kw.get("n", 1))):
                if self.reply_fn is not None:
                    text = self.reply_fn(prompt, kw)
                else:
                    text = self.replies[self._i % len(self.replies)]
                    self._i += 1
                comps.append(Completion(text))
        return LLMResult(tuple(comps), 100, 10 * len(comps), 0.01, "fake")

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        if self.scores is None:
            raise ScoringUnsupported("fake without scores")
        self.score_calls.append((prompt, list(continuations)))
        return [self.scores.get(c.strip(), -10.0) for c in continuations]

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    def close(self) -> None:
        pass
