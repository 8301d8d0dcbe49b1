"""Policy spec strings and the shared per-process policy table."""

from __future__ import annotations

import threading

import pytest

from agents.llm.base import (
    Completion,
    as_messages,
    redact,
    render_plain,
    split_prefill,
    truncate_at_stop,
)
from agents.llm.openai_backend import OpenAIBackend
from agents.llm.spec import PolicySpec, PolicySpecError, close_policies, get_policy, parse_spec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("local", PolicySpec("local")),
        ("", PolicySpec("local")),
        ("local:/m/x.gguf", PolicySpec("local", "/m/x.gguf")),
        (
            "local?parallel=8&threads=1",
            PolicySpec("local", "", None, (("parallel", 8), ("threads", 1))),
        ),
        ("openai:gpt-4o-mini", PolicySpec("openai", "gpt-4o-mini")),
        (
            "openai:llama@http://host:8000/v1",
            PolicySpec("openai", "llama", "http://host:8000/v1"),
        ),
        (
            "openai:m@https://host/v1?timeout=5&mode=completion",
            PolicySpec(
                "openai", "m", "https://host/v1", (("timeout_s", 5.0), ("mode", "completion"))
            ),
        ),
        ("hf:/models/tiny", PolicySpec("hf", "/models/tiny")),
        (
            "hf:org/model?device=cpu&dtype=fp32",
            PolicySpec("hf", "org/model", None, (("device", "cpu"), ("dtype", "fp32"))),
        ),
    ],
)
def test_parse_spec(text: str, expected: PolicySpec) -> None:
    assert parse_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpt4", "unknown policy"),
        ("openai:", "names no model"),
        ("hf:", "names no model"),
        ("local?bogus=1", "unknown option 'bogus'"),
        ("openai:m?timeout=fast", "not a float"),
    ],
)
def test_parse_spec_errors(text: str, message: str) -> None:
    with pytest.raises(PolicySpecError, match=message):
        parse_spec(text)


def test_credentials_in_a_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(PolicySpecError, match="key_env") as err:
        parse_spec("openai:m@http://user:s3cr3t-pass@host:8000/v1?bogus=1")
    assert "s3cr3t" not in str(err.value) and "***@host" in str(err.value)


def test_shared_instance_per_spec_across_threads() -> None:
    spec = "openai:m@http://127.0.0.1:9/v1?retries=0"
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(get_policy(spec))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len({id(p) for p in got}) == 1 and isinstance(got[0], OpenAIBackend)
        assert get_policy(spec + "&timeout=3") is not got[0]
    finally:
        close_policies()


def test_prompt_helpers() -> None:
    msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Thought:"}]
    body, prefill = split_prefill(msgs)
    assert prefill == "Thought:" and list(body) == msgs[:1]
    assert split_prefill("text") == ("text", "")
    assert as_messages("x") == [{"role": "user", "content": "x"}]
    assert render_plain(msgs).endswith("Assistant: Thought:")
    assert truncate_at_stop("a\nObservation: b", ["\nObservation"]) == ("a", True)
    assert truncate_at_stop("abc", ["zz"]) == ("abc", False)


def test_span_logprob() -> None:
    c = Completion("go north", ("go", " north"), (-1.0, -2.0))
    assert c.logprob == -3.0
    assert c.span_logprob(3, 8) == -2.0
    assert Completion("x").span_logprob(0, 1) is None
    assert Completion("ab", ("a",), (-1.0,)).span_logprob(0, 1) is None  # tokens do not spell it


def test_redact() -> None:
    assert redact("key sk-secret-1 and http://user:pw@h/v1", ["sk-secret-1"]) == (
        "key *** and http://***@h/v1"
    )


def test_policy_backends_come_from_a_registry_open_to_plug_ins(monkeypatch) -> None:
    """A backend registered under a new prefix (as a ``harness.policies`` entry point would)
    gets its spec with the model and its options as strings; unknown prefixes get a
    did-you-mean."""
    from agents.llm import spec as spec_mod

    made = []

    def fake_factory(s: spec_mod.PolicySpec) -> str:
        made.append(s)
        return "fake-policy"

    entries = dict(spec_mod.POLICIES._entries)
    monkeypatch.setattr(spec_mod.POLICIES, "_entries", entries)
    spec_mod.POLICIES.register("mine", fake_factory, "test plug-in")
    parsed = spec_mod.parse_spec("mine:model-x?temp=0.5&n=2")
    assert parsed == spec_mod.PolicySpec("mine", "model-x", None, (("temp", "0.5"), ("n", "2")))
    assert spec_mod.build_policy(parsed) == "fake-policy" and made == [parsed]
    with pytest.raises(spec_mod.PolicySpecError, match="did you mean mine"):
        spec_mod.parse_spec("mien:model-x")
