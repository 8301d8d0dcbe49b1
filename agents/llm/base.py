"""One LLM protocol for every policy backend: prompts, results, errors and secret redaction.

A prompt is either plain text (completion) or a list of chat messages. A list that ends with
an ``assistant`` message asks the backend to *continue* that message (a prefill); backends
that cannot continue a message say so with ``supports_prefill = False``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

Message = Mapping[str, str]
Prompt = str | Sequence[Message]


class LLMError(RuntimeError):
    """A policy call failed for good (after retries); the message is safe to record."""


class ScoringUnsupported(LLMError):
    """The backend cannot score continuations by log-probability."""


@dataclass(frozen=True)
class Completion:
    """One sampled continuation, with per-token log-probabilities when the backend gives them."""

    text: str
    tokens: tuple[str, ...] = ()
    token_logprobs: tuple[float, ...] = ()
    finish_reason: str = ""

    @property
    def logprob(self) -> float | None:
        """Sum of the token log-probabilities, or None when unknown."""
        return float(sum(self.token_logprobs)) if self.token_logprobs else None

    def span_logprob(self, start: int, end: int) -> float | None:
        """Summed log-probability of the tokens overlapping ``text[start:end]`` (None if unknown).

        Token texts are laid end to end from offset 0; if they do not spell ``text`` exactly
        (a server that trims), the answer is None rather than a guess.
        """
        if not self.token_logprobs or "".join(self.tokens) != self.text:
            return None
        pos, total, hit = 0, 0.0, False
        for tok, lp in zip(self.tokens, self.token_logprobs, strict=False):
            lo, hi = pos, pos + len(tok)
            pos = hi
            if hi > start and lo < end:
                total, hit = total + lp, True
        return total if hit else None


@dataclass(frozen=True)
class LLMResult:
    """The answer to one ``generate`` call: ``n`` completions and what the call cost."""

    completions: tuple[Completion, ...]
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    model: str = ""
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The first completion's text."""
        return self.completions[0].text if self.completions else ""


@runtime_checkable
class LLM(Protocol):
    """A text policy: sample completions, and score given continuations by log-probability.

    ``generate``: ``n`` completions of ``prompt`` at ``temperature`` (0 = greedy), at most
    ``max_tokens`` each, cut at the first of ``stop``; ``logprobs`` asks for token
    log-probabilities (given when the backend can); ``grammar`` (GBNF, only where
    ``supports_grammar``) constrains the text; ``seed`` makes sampling reproducible where the
    backend honours it. ``score_continuations`` returns, for each continuation, the summed
    log-probability of its tokens after ``prompt`` (raises ScoringUnsupported otherwise).
    Implementations are thread-safe: one instance serves every worker of a run.
    """

    name: str

    @property
    def supports_scoring(self) -> bool:
        """Whether ``score_continuations`` works."""
        ...

    @property
    def supports_grammar(self) -> bool:
        """Whether ``generate`` honours ``grammar``."""
        ...

    @property
    def supports_prefill(self) -> bool:
        """Whether a trailing assistant message is continued rather than answered."""
        ...

    def generate(
        self,
        prompt: Prompt,
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 128,
        stop: Sequence[str] = (),
        logprobs: bool = False,
        grammar: str | None = None,
        seed: int | None = None,
    ) -> LLMResult:
        """Sample ``n`` completions."""
        ...

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """Summed token log-probability of each continuation after ``prompt``."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` (exact where the backend has its tokenizer, else estimated)."""
        ...

    def close(self) -> None:
        """Release servers, threads and memory."""
        ...


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate: about 4 characters per token (English text)."""
    return (len(text) + 3) // 4


def as_messages(prompt: Prompt) -> list[dict[str, str]]:
    """The prompt as chat messages (plain text becomes one user message)."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in prompt]


def split_prefill(prompt: Prompt) -> tuple[Prompt, str]:
    """``(prompt without a trailing assistant message, that message's text)``."""
    if isinstance(prompt, str) or not prompt or prompt[-1].get("role") != "assistant":
        return prompt, ""
    return list(prompt[:-1]), str(prompt[-1]["content"])


def render_plain(prompt: Prompt) -> str:
    """A template-free text rendering of chat messages (for completion-only endpoints)."""
    if isinstance(prompt, str):
        return prompt
    body, prefill = split_prefill(prompt)
    parts = [f"{m['role'].capitalize()}: {m['content']}" for m in as_messages(body)]
    return "\n\n".join([*parts, f"Assistant: {prefill}"])


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` cut before the first stop sequence, and whether one was found."""
    cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def cut_completion(
    text: str, toks: Sequence[str], lps: Sequence[float], finish: str, stop: Sequence[str]
) -> Completion:
    """A Completion cut before the first stop sequence, keeping the tokens that reach the cut
    (tokens without log-probabilities are dropped)."""
    toks = toks[: len(lps)]
    cut, found = truncate_at_stop(text, stop)
    if found:
        keep, pos = 0, 0
        while keep < len(toks) and pos < len(cut):
            pos, keep = pos + len(toks[keep]), keep + 1
        toks, lps, text, finish = toks[:keep], lps[:keep], cut, "stop"
    return Completion(text, tuple(toks), tuple(lps), finish)


_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def redact(text: str, secrets: Sequence[str | None]) -> str:
    """``text`` with each secret (and any ``user:pass@`` of a URL) replaced by ``***``."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return _URL_USERINFO.sub("***@", text)
