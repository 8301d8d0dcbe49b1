"""The openai backend against a local fake endpoint: modes, retries, faults, key hygiene."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.llm.base import LLMError, ScoringUnsupported, approx_tokens
from agents.llm.fake_server import FakeOpenAIServer
from agents.llm.openai_backend import OpenAIBackend
from agents.llm.spec import close_policies
from harness.run import main

SENTINEL = "sk-SENTINEL-7f3a9c1e"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(hang_s=5) as s:
        yield s


def backend(server: FakeOpenAIServer, **kw: object) -> OpenAIBackend:
    opts: dict = {"api_key": SENTINEL, "retries": 3, "backoff_base_s": 0.01, "timeout_s": 2.0}
    opts.update(kw)
    return OpenAIBackend("fake", server.base_url, **opts)


def test_chat_generate_n_and_usage(server: FakeOpenAIServer) -> None:
    b = backend(server)
    r = b.generate(
        [{"role": "user", "content": "hi"}], n=3, temperature=0.5, stop=["\nObs"], seed=4
    )
    assert len(r.completions) == 3 and r.text.startswith("Thought:")
    assert r.input_tokens > 0 and r.output_tokens > 0 and r.latency_s > 0
    body = server.requests[0]
    assert body["n"] == 3 and body["seed"] == 4 and body["stop"] == ["\nObs"]
    assert server.auth_headers[0] == f"Bearer {SENTINEL}"


def test_token_counts_are_estimated_from_the_prompt_without_usage() -> None:
    with FakeOpenAIServer(reply="abcdefgh", usage=False) as s:
        r = backend(s).generate("x" * 400)
    assert (r.input_tokens, r.output_tokens) == (
        approx_tokens("x" * 400),
        approx_tokens("abcdefgh"),
    )


def test_completion_mode_renders_messages(server: FakeOpenAIServer) -> None:
    b = backend(server, mode="completion")
    msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Thought:"}]
    r = b.generate(msgs, logprobs=True)
    prompt = server.requests[-1]["prompt"]
    assert prompt.startswith("User: hi") and prompt.endswith("Assistant: Thought:")
    assert r.completions[0].token_logprobs and r.completions[0].logprob is not None


def test_chat_without_prefill_support_drops_the_prefill(server: FakeOpenAIServer) -> None:
    b = backend(server)
    assert not b.supports_prefill and not b.supports_grammar
    b.generate([{"role": "user", "content": "q"}, {"role": "assistant", "content": "Thought:"}])
    assert [m["role"] for m in server.requests[-1]["messages"]] == ["user"]


@pytest.mark.parametrize("fault", ["429", "500", "garbage", "close", "hang"])
def test_transient_faults_are_retried(server: FakeOpenAIServer, fault: str) -> None:
    server._faults = [fault, fault]
    b = backend(server, timeout_s=1.0)
    r = b.generate("hello")
    assert r.text.startswith("Thought:")
    assert len(server.requests) == 3


def test_persistent_failure_raises_a_clean_error(server: FakeOpenAIServer) -> None:
    server.fault_default = "500"
    b = backend(server, retries=2)
    with pytest.raises(LLMError, match="failed after 3 attempts: HTTP 500") as err:
        b.generate("hello")
    assert SENTINEL not in str(err.value) and err.value.__cause__ is None
    assert len(server.requests) == 3


def test_auth_error_is_not_retried_and_hides_the_key(server: FakeOpenAIServer) -> None:
    server.fault_default = "401"
    b = backend(server)
    with pytest.raises(LLMError, match="OPENAI_API_KEY") as err:
        b.generate("hello")
    assert SENTINEL not in str(err.value) and len(server.requests) == 1


def test_key_from_environment_and_never_in_repr(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", SENTINEL)
    b = OpenAIBackend("fake", server.base_url, api_key_env="MY_KEY")
    b.generate("x")
    assert server.auth_headers[-1] == f"Bearer {SENTINEL}"
    assert SENTINEL not in repr(b) and SENTINEL not in b.name


def test_openai_url_without_key_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(LLMError, match="set OPENAI_API_KEY"):
        OpenAIBackend("gpt-4o-mini")


def test_base_url_from_environment(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    b = OpenAIBackend("fake")
    assert b.base_url == server.base_url and b.generate("x").text


def test_echo_scoring(server: FakeOpenAIServer) -> None:
    b = backend(server, scoring="echo")
    server.reply = ""
    scores = b.score_continuations("Action:", [" go north", " go"])
    # the fake gives each space-led word -0.1 per character
    assert scores == pytest.approx([-0.3 - 0.6, -0.3])
    assert server.requests[0]["echo"] is True


def test_no_scoring_without_prompt_logprobs(server: FakeOpenAIServer) -> None:
    b = backend(server)
    assert not b.supports_scoring
    with pytest.raises(ScoringUnsupported):
        b.score_continuations("x", ["y"])


def _run(tmp: Path, url: str, name: str, workers: int = 2) -> tuple[int, list[dict], Path]:
    out = tmp / name
    spec = f"openai:fake@{url}?retries=2&backoff=0.01&timeout=1"
    code = main(
        [
            "--envs", "harness/KeyChest-v0", "--agents", "react", "--episodes", "4",
            "--max-steps", "3", "--workers", str(workers), "--out", str(out),
            "--leaderboard", "", "--policy", spec,
        ]
    )  # fmt: skip
    close_policies()
    lines = (out / "episodes.jsonl").read_text().splitlines()
    return code, [json.loads(x) for x in lines], out


def _grep(root: Path, secret: str) -> list[str]:
    return [
        str(p) for p in root.rglob("*") if p.is_file() and secret in p.read_text(errors="ignore")
    ]


def test_run_survives_faults_by_retrying(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    faults = ["429", "ok", "500", "ok", "garbage", "ok", "close", "ok", "hang", "ok"] * 3
    with FakeOpenAIServer(faults=faults, hang_s=3) as s:
        code, records, out = _run(tmp_path, s.base_url, "retry", workers=1)  # fixed fault order
        assert any(h == f"Bearer {SENTINEL}" for h in s.auth_headers)
    assert code == 0 and len(records) == 4
    assert all(r["error"] == "" and r["steps"] == 3 for r in records)
    assert _grep(out, SENTINEL) == []


def test_run_records_errors_and_finishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    with FakeOpenAIServer(fault_default="500") as s:
        code, records, out = _run(tmp_path, s.base_url, "fail")
    assert code == 3 and len(records) == 4  # the run finished; its episodes errored
    assert all("failed after 3 attempts: HTTP 500" in r["error"] for r in records)
    assert _grep(out, SENTINEL) == []
    assert (out / "leaderboard.csv").exists()
