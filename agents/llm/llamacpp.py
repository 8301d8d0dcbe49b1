"""Extras of llama.cpp's server beyond the OpenAI API: tokenize, chat template, exact scoring.

llama.cpp gives no prompt log-probabilities, so a continuation is scored by *generating* it
under a grammar made of its exact token ids (``root ::= <[id1]> <[id2]> ...``): the reported
log-probabilities are those of the raw logits (before the grammar sampler), i.e. the model's
own log-probability of the canonical tokenization of the continuation after the prompt.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agents.llm.cancel import cancellable_http_client, check_cancelled


class LlamaCppError(RuntimeError):
    """A llama.cpp extra endpoint failed (message safe to record)."""


class LlamaCppExtras:
    """Calls ``/tokenize``, ``/apply-template`` and ``/props`` of a llama.cpp server."""

    def __init__(self, root_url: str, headers: dict[str, str], timeout_s: float) -> None:
        self.root = root_url.rstrip("/")
        self._headers = headers
        self.timeout_s = timeout_s
        self._http = cancellable_http_client(timeout_s)  # a timed-out step can abort a call
        self._skeletons: dict[tuple[str, ...], str] = {}  # roles -> template ("" = don't fill)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        try:
            resp = self._http.post(self.root + path, json=body, headers=self._headers)
            resp.raise_for_status()
            data = json.loads(resp.content.decode("utf-8"))
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise LlamaCppError(f"{path} failed: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise LlamaCppError(f"{path}: unexpected answer")
        return data

    def probe(self) -> bool:
        """Whether the server answers ``/tokenize`` like llama.cpp does."""
        try:
            toks = self._post("/tokenize", {"content": "a"}).get("tokens")
        except LlamaCppError:
            check_cancelled()  # a cancelled probe says nothing about the server
            return False
        return isinstance(toks, list)

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        """Token ids of ``text`` (``special``: add BOS where the model wants it, parse
        special-token text such as ``<|im_start|>``)."""
        data = self._post(
            "/tokenize", {"content": text, "add_special": special, "parse_special": special}
        )
        return [int(t["id"]) if isinstance(t, dict) else int(t) for t in data.get("tokens", [])]

    def apply_template(self, messages: Sequence[dict[str, str]]) -> str:
        """The model's chat template applied to ``messages``, ending with the assistant header.

        Once per sequence of roles the server renders placeholder contents; later calls fill
        that skeleton in this process (one HTTP round trip less per ReAct step). The skeleton
        is used only after it reproduced the server's own rendering of a real call, and never
        for contents that hold a placeholder or start or end with whitespace (templates that
        trim would differ there); otherwise the server renders every call."""
        roles = tuple(str(m.get("role", "")) for m in messages)
        contents = [str(m.get("content", "")) for m in messages]
        skeleton = self._skeletons.get(roles)
        fillable = all(c == c.strip() and _HOLE not in c for c in contents)
        if fillable and skeleton:
            return _fill(skeleton, contents)
        prompt = self._render(messages)
        if fillable and skeleton is None:
            holes = [{"role": r, "content": f"{_HOLE}{i}{_HOLE}"} for i, r in enumerate(roles)]
            made = self._render(holes)
            ok = made.count(_HOLE) == 2 * len(roles) and all(
                made.count(f"{_HOLE}{i}{_HOLE}") == 1 for i in range(len(roles))
            )
            self._skeletons[roles] = made if ok and _fill(made, contents) == prompt else ""
        return prompt

    def _render(self, messages: Sequence[dict[str, str]]) -> str:
        prompt = self._post("/apply-template", {"messages": list(messages)}).get("prompt")
        if not isinstance(prompt, str):
            raise LlamaCppError("/apply-template: no prompt in the answer")
        return prompt

    def continuation_ids(self, prompt: str, p_ids: Sequence[int], continuation: str) -> list[int]:
        """Ids of ``continuation`` after ``prompt`` (whose ids are ``p_ids``): the canonical
        split of ``prompt + continuation`` when ``p_ids`` are a prefix of it, else the
        continuation tokenized alone."""
        full = self.tokenize(prompt + continuation)
        if full[: len(p_ids)] == list(p_ids):
            return full[len(p_ids) :]
        return self.tokenize(continuation, special=False)


_HOLE = "\x00"


def _fill(skeleton: str, contents: Sequence[str]) -> str:
    """``skeleton`` with placeholder ``i`` replaced by ``contents[i]`` (one pass, so contents
    are never searched for placeholders)."""
    parts = skeleton.split(_HOLE)  # text, index, text, index, ..., text
    return "".join(contents[int(x)] if i % 2 else x for i, x in enumerate(parts))


def token_grammar(ids: Sequence[int]) -> str:
    """A GBNF grammar matching exactly the token sequence ``ids``."""
    return "root ::= " + " ".join(f"<[{int(i)}]>" for i in ids)


def choice_logprobs(choice: Any) -> tuple[list[str], list[float], list[int | None]]:
    """Token texts, log-probabilities and ids of a completion choice, in either logprob shape
    (OpenAI legacy ``tokens``/``token_logprobs`` or llama.cpp's ``content`` list)."""
    lp = getattr(choice, "logprobs", None)
    if lp is None:
        return [], [], []
    content = getattr(lp, "content", None)
    if content is None and isinstance(lp, dict):
        content = lp.get("content")
    if content:
        toks, lps, ids = [], [], []
        for d in content:
            get = d.get if isinstance(d, dict) else lambda k, _d=d: getattr(_d, k, None)
            toks.append(str(get("token") or ""))
            lps.append(float(get("logprob") or 0.0))
            tid = get("id")
            ids.append(int(tid) if tid is not None else None)
        return toks, lps, ids
    tokens = list(getattr(lp, "tokens", None) or [])
    values = [float(x) if x is not None else 0.0 for x in getattr(lp, "token_logprobs", None) or []]
    return [str(t) for t in tokens], values, [None] * len(values)
