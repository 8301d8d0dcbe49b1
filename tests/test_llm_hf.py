"""The hf backend with a tiny random Llama and a byte-level tokenizer built locally."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from agents.base import Step
from agents.llm.spec import close_policies, get_policy
from agents.llm.tiny import build_tiny_lm
from agents.react import ReActAgent
from harness.run import main

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_lm(tmp_path_factory.mktemp("tiny") / "lm")


@pytest.fixture(scope="module")
def policy(tiny: Path):  # type: ignore[no-untyped-def]
    p = get_policy(f"hf:{tiny}?device=cpu&wait_ms=50")
    yield p
    close_policies()


def test_loads_on_cpu_fp32(policy) -> None:  # type: ignore[no-untyped-def]
    import torch

    assert policy.device == "cpu" and policy.dtype == torch.float32
    assert policy.supports_scoring and not policy.supports_grammar
    assert policy.count_tokens("abc") == 3  # one token per byte


def test_generate_samples_with_logprobs(policy) -> None:  # type: ignore[no-untyped-def]
    r = policy.generate("Task: x\nAction:", n=3, temperature=1.0, max_tokens=8, logprobs=True)
    assert len(r.completions) == 3
    assert r.input_tokens == len("Task: x\nAction:") and 0 < r.output_tokens <= 24
    for c in r.completions:
        assert c.token_logprobs and all(lp <= 0 for lp in c.token_logprobs)


def test_greedy_is_deterministic_and_stop_cuts(policy) -> None:  # type: ignore[no-untyped-def]
    a = policy.generate("hello", max_tokens=12).text
    b = policy.generate("hello", max_tokens=12).text
    assert a == b and len(a) > 3  # the fixed tiny model writes enough to cut
    cut = policy.generate("hello", max_tokens=12, stop=[a[2:4]])
    assert cut.text == a[: a.index(a[2:4])]


def test_scores_match_a_direct_forward_pass(policy) -> None:  # type: ignore[no-untyped-def]
    import torch

    prompt, conts = "Action:", [" go north", " take key", " look"]
    scores = policy.score_continuations(prompt, conts)
    tok, model = policy.tok, policy.model
    for c, s in zip(conts, scores, strict=True):
        ids = tok(prompt + c, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits.float(), -1)[0]
        n_p = len(tok(prompt)["input_ids"])
        direct = sum(float(logp[i - 1, ids[0, i]]) for i in range(n_p, ids.shape[1]))
        assert s == pytest.approx(direct, abs=1e-4)
    assert policy.score_continuations(prompt, conts[1:2]) == pytest.approx(scores[1:2], abs=1e-4)


def test_concurrent_calls_are_batched(policy) -> None:  # type: ignore[no-untyped-def]
    out: dict[int, str] = {}
    barrier = threading.Barrier(6)

    def call(i: int) -> None:
        barrier.wait()
        out[i] = policy.generate(f"prompt number {i}", max_tokens=4).text

    before = len(policy.batch_sizes)
    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 6
    assert max(policy.batch_sizes[before:]) > 1


def test_react_propose_scores_admissible(policy) -> None:  # type: ignore[no-untyped-def]
    agent = ReActAgent(llm=policy, max_tokens=8)
    agent.reset("t", 0)
    adm = ["go north", "take key", "look"]
    step = Step(0, "You are in the hall.", {"task": "t", "admissible_actions": adm}, (), "x")
    cands = agent.propose(step, 2)
    assert len(cands) == 2 and {c.action for c in cands} <= set(adm)
    assert cands[0].logprob is not None and cands[0].logprob >= cands[1].logprob  # type: ignore[operator]
    assert agent.last_usage.calls == 1 + len(adm)


def test_run_with_hf_policy(tiny: Path, tmp_path: Path, policy) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    argv = ["--envs", "harness/KeyChest-v0", "--agents", "react", "--episodes", "2"]
    argv += ["--max-steps", "2", "--workers", "2", "--out", str(out), "--leaderboard", ""]
    argv += ["--policy", f"hf:{tiny}?device=cpu&wait_ms=50", "--agent-opt", "react.max_tokens=8"]
    assert main(argv) == 0
    recs = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(recs) == 2 and all(r["error"] == "" for r in recs)
    assert all(r["input_tokens"] > 0 and r["output_tokens"] > 0 for r in recs)
