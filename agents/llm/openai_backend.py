"""The ``openai`` backend: any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server).

Base URL: the spec, else ``$OPENAI_BASE_URL``, else OpenAI's. Key: the constructor, else the
environment variable ``api_key_env`` (default ``OPENAI_API_KEY``); a placeholder is sent to
servers that need none. The key is never part of a repr, a log line, a record or an error
message: every message leaving this module is passed through ``redact``.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from agents.llm.base import (
    Completion,
    LLMError,
    LLMResult,
    Prompt,
    ScoringUnsupported,
    approx_tokens,
    as_messages,
    cut_completion,
    redact,
    render_plain,
    split_prefill,
)
from agents.llm.cancel import cancellable_http_client, check_cancelled
from agents.llm.llamacpp import LlamaCppError, LlamaCppExtras, choice_logprobs, token_grammar
from agents.llm.retry import Backoff, Retrier, Retryable

T = TypeVar("T")
OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "sk-no-key-needed"
MAX_STOP = 4
SCORING_MODES = ("auto", "llamacpp", "echo", "none")


class OpenAIBackend:
    """An OpenAI-compatible endpoint through the official client; thread-safe, retrying."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        mode: str = "chat",
        timeout_s: float = 60.0,
        retries: int = 4,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 20.0,
        scoring: str = "auto",
        score_workers: int = 8,
        api_key_env: str = "OPENAI_API_KEY",
        name: str = "",
    ) -> None:
        import openai

        if mode not in ("chat", "completion"):
            raise ValueError(f"openai mode must be 'chat' or 'completion', got {mode!r}")
        if scoring not in SCORING_MODES:
            raise ValueError(f"scoring must be one of {', '.join(SCORING_MODES)}, got {scoring!r}")
        self.model, self.mode, self.timeout_s = model, mode, float(timeout_s)
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")
        key = api_key or os.environ.get(api_key_env) or ""
        if not key and self.base_url.startswith(OPENAI_URL):
            raise LLMError(f"no API key for {OPENAI_URL}: set {api_key_env} in the environment")
        self.__key = key or NO_KEY
        self.name = name or f"openai:{model}@{redact(self.base_url, [])}"
        self._client = openai.OpenAI(
            api_key=self.__key,
            base_url=self.base_url,
            timeout=self.timeout_s,
            max_retries=0,
            http_client=cancellable_http_client(self.timeout_s),  # see agents.llm.cancel
        )
        self._openai = openai
        self._retrier = Retrier(Backoff(int(retries), float(backoff_base_s), float(backoff_max_s)))
        root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        headers = {"Authorization": f"Bearer {self.__key}"}
        self._extras = LlamaCppExtras(root, headers, self.timeout_s)
        self._scoring_pref = scoring
        self._probe_lock = threading.Lock()
        self._llamacpp: bool | None = None
        self._score_workers = max(1, int(score_workers))
        self._pool = ThreadPoolExecutor(max_workers=self._score_workers, thread_name_prefix="llm")

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_url={redact(self.base_url, [])!r})"

    # --- capabilities ---------------------------------------------------------------------
    def _is_llamacpp(self) -> bool:
        """Whether the endpoint is a llama.cpp server (probed once, never for OpenAI's URL)."""
        with self._probe_lock:
            if self._llamacpp is None:
                self._llamacpp = not self.base_url.startswith(OPENAI_URL) and self._extras.probe()
            return self._llamacpp

    @property
    def supports_grammar(self) -> bool:
        """llama.cpp servers take GBNF grammars."""
        return self._is_llamacpp()

    @property
    def supports_prefill(self) -> bool:
        """Completion mode renders the prefill itself; with llama.cpp, chat prompts with a
        prefill go through its chat template and the completions endpoint."""
        return self.mode == "completion" or self._is_llamacpp()

    @property
    def supports_scoring(self) -> bool:
        """llama.cpp (token grammars) or an endpoint with prompt logprobs (``scoring=echo``)."""
        if self._scoring_pref == "none":
            return False
        if self._scoring_pref == "echo":
            return True
        return self._is_llamacpp()

    # --- errors and retries -----------------------------------------------------------------
    def _safe(self, text: str) -> str:
        return redact(text, [self.__key])

    def _classify(self, exc: Exception) -> Exception:
        """A Retryable for transient failures, an LLMError (redacted) for the rest."""
        o = self._openai
        status = getattr(exc, "status_code", None)
        if isinstance(exc, o.APITimeoutError):
            return Retryable(f"timed out after {self.timeout_s:g}s")
        if isinstance(exc, o.APIConnectionError):
            return Retryable(f"connection failed ({type(exc.__cause__ or exc).__name__})")
        if isinstance(exc, o.APIStatusError) and status is not None:
            body = self._safe(str(getattr(exc, "message", "") or ""))[:300]
            if status == 429 or status == 408 or status >= 500:
                return Retryable(f"HTTP {status}: {body}", _retry_after(exc))
            if status in (401, 403):
                return LLMError(
                    f"HTTP {status} from {self.name}: the API key was refused; "
                    "set OPENAI_API_KEY (or the variable named by api_key_env)"
                )
            if status == 404:
                return LLMError(f"HTTP 404 from {self.name}: check the model name and base URL")
            return LLMError(f"HTTP {status} from {self.name}: {body}")
        invalid = o.APIResponseValidationError | ValueError | TypeError | KeyError
        if isinstance(exc, invalid | AttributeError | IndexError):
            return Retryable(f"invalid response ({type(exc).__name__})")
        return LLMError(self._safe(f"{type(exc).__name__}: {exc}")[:500])

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        def attempt() -> T:
            check_cancelled()
            try:
                return fn()
            except Exception as exc:
                check_cancelled()  # the runner abandoned this call: never retried
                err = self._classify(exc)
                raise err from None

        def fail(last: Retryable, n: int) -> Exception:
            return LLMError(self._safe(f"{what} to {self.name} failed after {n} attempts: {last}"))

        return self._retrier.call(attempt, fail)

    # --- generation -------------------------------------------------------------------------
    def _text_prompt(self, prompt: Prompt) -> str:
        if isinstance(prompt, str):
            return prompt
        if self._is_llamacpp():
            body, prefill = split_prefill(prompt)
            try:
                return self._extras.apply_template(as_messages(body)) + prefill
            except LlamaCppError:
                pass
        return render_plain(prompt)

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
        """``n`` completions (extra calls fill in when a server returns fewer).

        Chat mode sends messages to ``/chat/completions``; completion mode renders them
        (llama.cpp's chat template, else plain text) for ``/completions``. On llama.cpp
        servers a plain-text prompt, or messages ending in a prefill, always go through
        ``/completions``, so that generation and ``score_continuations`` see the same text.
        """
        t0 = time.perf_counter()
        comps: list[Completion] = []
        tin = tout = 0
        while len(comps) < n:
            got, i_tok, o_tok = self._generate_once(
                prompt, n - len(comps), temperature, max_tokens, stop, logprobs, grammar, seed
            )
            if not got:
                raise LLMError(f"{self.name} returned no choices")
            comps += got
            tin, tout = tin + i_tok, tout + o_tok
            seed = None if seed is None else seed + 1
        lat = time.perf_counter() - t0
        return LLMResult(tuple(comps[:n]), tin, tout, lat, self.model)

    def _generate_once(
        self,
        prompt: Prompt,
        n: int,
        temperature: float,
        max_tokens: int,
        stop: Sequence[str],
        logprobs: bool,
        grammar: str | None,
        seed: int | None,
    ) -> tuple[list[Completion], int, int]:
        kw: dict[str, Any] = {"model": self.model, "max_tokens": int(max_tokens), "n": int(n)}
        kw["temperature"] = float(temperature)
        if stop:
            kw["stop"] = list(stop)[:MAX_STOP]
        if seed is not None:
            kw["seed"] = int(seed)
        if grammar and self.supports_grammar:
            kw["extra_body"] = {"grammar": grammar}
        _, prefill = split_prefill(prompt)
        raw_text = isinstance(prompt, str) or bool(prefill)
        if self.mode == "chat" and not (raw_text and self._is_llamacpp()):
            messages = as_messages(prompt)
            if prefill:  # no server-side continuation here: ask afresh
                messages = messages[:-1]
            if logprobs:
                kw["logprobs"] = True
            resp = self._call(
                "chat completion",
                lambda: _checked(
                    self._client.chat.completions.create(messages=messages, **kw)  # type: ignore[arg-type]
                ),
            )
            comps = [self._chat_choice(c, stop) for c in resp.choices]
        else:
            text = self._text_prompt(prompt)
            if logprobs:
                kw["logprobs"] = 1
            resp = self._call(
                "completion",
                lambda: _checked(self._client.completions.create(prompt=text, **kw)),
            )
            comps = [self._text_choice(c, stop) for c in resp.choices]
        usage = getattr(resp, "usage", None)
        tin = int(getattr(usage, "prompt_tokens", 0) or 0) or approx_tokens(render_plain(prompt))
        tout = int(getattr(usage, "completion_tokens", 0) or 0) or sum(
            approx_tokens(c.text) for c in comps
        )
        return comps, tin, tout

    @staticmethod
    def _chat_choice(choice: Any, stop: Sequence[str]) -> Completion:
        text = str(choice.message.content or "")
        toks, lps, _ = choice_logprobs(choice)
        return cut_completion(text, toks, lps, str(choice.finish_reason or ""), stop)

    @staticmethod
    def _text_choice(choice: Any, stop: Sequence[str]) -> Completion:
        toks, lps, _ = choice_logprobs(choice)
        text = str(choice.text or "")
        return cut_completion(text, toks, lps, str(choice.finish_reason or ""), stop)

    # --- scoring ----------------------------------------------------------------------------
    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """Summed log-probability of each continuation (llama.cpp token grammar, or echo)."""
        if not continuations:
            return []
        if not self.supports_scoring:
            raise ScoringUnsupported(
                f"{self.name} gives no prompt log-probabilities (use a llama.cpp or vLLM server, "
                "or scoring=echo for servers that support echo)"
            )
        text = self._text_prompt(prompt)
        one: Callable[[str], float]
        if self._scoring_pref == "echo" or not self._is_llamacpp():
            one = functools.partial(self._score_echo, text)
        else:  # the prompt is tokenized once, not once per continuation
            p_ids = self._call("tokenize", lambda: self._extras.tokenize(text))
            one = functools.partial(self._score_llamacpp, text, p_ids)
        if self._score_workers == 1:  # in the caller's thread, one after another
            return [one(c) for c in continuations]
        return list(self._pool.map(one, continuations))

    def _score_llamacpp(self, text: str, p_ids: list[int], continuation: str) -> float:
        if not continuation:
            return 0.0
        c_ids = self._call(
            "tokenize", lambda: self._extras.continuation_ids(text, p_ids, continuation)
        )
        resp = self._call(
            "scoring",
            lambda: _checked(
                self._client.completions.create(
                    model=self.model,
                    prompt=p_ids,
                    max_tokens=len(c_ids),
                    temperature=0.0,
                    logprobs=1,
                    extra_body={"grammar": token_grammar(c_ids)},
                )
            ),
        )
        _, lps, ids = choice_logprobs(resp.choices[0])
        if len(lps) < len(c_ids) or any(
            i is not None and i != c for i, c in zip(ids, c_ids, strict=False)
        ):
            raise LLMError(f"{self.name}: scoring returned other tokens than asked for")
        return float(sum(lps[: len(c_ids)]))

    def _score_echo(self, text: str, continuation: str) -> float:
        resp = self._call(
            "scoring",
            lambda: _checked(
                self._client.completions.create(
                    model=self.model,
                    prompt=text + continuation,
                    max_tokens=1,
                    temperature=0.0,
                    logprobs=0,
                    echo=True,
                )
            ),
        )
        lp = resp.choices[0].logprobs
        offsets = list(getattr(lp, "text_offset", None) or [])
        values = list(getattr(lp, "token_logprobs", None) or [])
        if not offsets or len(offsets) != len(values):
            raise ScoringUnsupported(f"{self.name} returned no prompt logprobs for echo")
        end = len(text) + len(continuation)
        return float(
            sum(v for o, v in zip(offsets, values, strict=True) if len(text) <= o < end and v)
        )

    def count_tokens(self, text: str) -> int:
        """Estimated (no tokenizer round trip per call)."""
        return approx_tokens(text)

    def close(self) -> None:
        """Close the HTTP client and the scoring pool."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
        self._extras.close()


def _checked(resp: Any) -> Any:
    """The response if it has choices; raises ValueError (retryable) if not."""
    if isinstance(resp, str | bytes) or not getattr(resp, "choices", None):
        raise ValueError("response without choices")
    return resp


def _retry_after(exc: Exception) -> float | None:
    resp = getattr(exc, "response", None)
    raw = getattr(resp, "headers", {}).get("retry-after") if resp is not None else None
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
