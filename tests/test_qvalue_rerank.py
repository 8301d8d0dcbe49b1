"""Reranking picks the argmax and logs every candidate; rescoring reproduces logged choices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import envs  # noqa: F401
from agents.base import Candidate, Decision, Step
from agents.registry import AGENTS, make_agent
from harness.analysis.rescore import main as rescore_main
from harness.analysis.rescore import rescore_run
from harness.analysis.stats import paired_bootstrap, pass_at_k
from harness.archive import pack
from harness.run import main as run_main
from scoring.proposers import AdmissibleProposer, make_proposer
from scoring.rerank import QRerankAgent
from tests.fakes_qvalue import KEYCHEST_PREFS, FakeTableScorer

FAKE_AGENT = "tests.fakes_qvalue:make_fake_q_agent"


class ListProposer:
    """Fake proposer returning fixed candidates with logprobs."""

    def propose(self, step: Step, k: int) -> list[Candidate]:
        acts = ["look", "go north", "take key", "inventory"][:k]
        return [Candidate(a, logprob=-float(i)) for i, a in enumerate(acts)]


def _step() -> Step:
    return Step(0, "You are in the hall.", {"task": "find the coin"}, ())


def test_rerank_takes_the_argmax_and_logs_all_candidates() -> None:
    scorer = FakeTableScorer({"take key": 2.0, "go north": 1.0}, name="q")
    agent = QRerankAgent(ListProposer(), scorer, k=4)
    agent.reset("find the coin", 0)
    d = agent.act(_step())
    assert d.action == "take key"
    assert [c.action for c in d.candidates] == ["look", "go north", "take key", "inventory"]
    assert [c.scores["q"] for c in d.candidates] == [0.0, 1.0, 2.0, 0.0]
    assert [c.logprob for c in d.candidates] == [0.0, -1.0, -2.0, -3.0]
    assert d.meta["task"] == "find the coin" and d.meta["k"] == 4
    assert scorer.calls == 1  # one batched call for all candidates
    tie = QRerankAgent(ListProposer(), FakeTableScorer({}), k=3).act(_step())
    assert tie.action == "look"  # ties: the proposer's first


def test_admissible_proposer_samples_up_to_k() -> None:
    acts = [f"a{i}" for i in range(6)]
    step = Step(0, "", {"admissible_actions": acts}, ())
    prop = AdmissibleProposer(seed=0)
    prop.reset("", 3)
    got = [c.action for c in prop.propose(step, 3)]
    assert len(got) == 3 and set(got) <= set(acts) and got == sorted(got, key=acts.index)
    assert [c.action for c in prop.propose(step, 10)] == acts
    assert all(c.logprob is None for c in prop.propose(step, 0))


def test_unknown_proposer_and_missing_scorer_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="admissible"):
        make_proposer("no-such-agent")
    with pytest.raises(ValueError, match="propose"):
        make_proposer("random")  # an agent without propose()
    with pytest.raises(ValueError, match=r"qvalue\.train"):
        make_agent("react-q", {"proposer": "admissible", "scorer": ""})
    assert "react-q" in AGENTS and "admissible-q" in AGENTS


def test_rescoring_reproduces_logged_choices(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["--envs", "harness/KeyChest-v0", "--agents", FAKE_AGENT, "--episodes", "3"]
    assert run_main([*argv, "--max-steps", "15", "--out", str(out), "--leaderboard", ""]) == 0
    steps = [json.loads(x) for x in next((out / "trajectories").glob("*.jsonl")).open()]
    assert steps[0]["candidates"] and "fake" in steps[0]["candidates"][0]["scores"]
    seen = FakeTableScorer(KEYCHEST_PREFS, "fake")
    same = rescore_run(out, seen)
    assert seen.env_ids == {"harness/KeyChest-v0"}  # states carry their env (for scorer=auto)
    assert same["decisions"] >= 3 and same["differ"] == 0
    assert same["mean_q_rescored_choice"] == pytest.approx(same["mean_q_logged_choice"])
    flipped = rescore_run(out, FakeTableScorer({a: -v for a, v in KEYCHEST_PREFS.items()}))
    assert flipped["differ"] > 0
    assert flipped["mean_q_rescored_choice"] > flipped["mean_q_logged_choice"]
    assert rescore_main([str(out), "--scorer", str(tmp_path / "missing")]) == 2
    pack(out)  # a packed run dir rescores the same
    assert not (out / "trajectories").exists()
    assert rescore_run(out, FakeTableScorer(KEYCHEST_PREFS, "fake")) == same


def test_paired_bootstrap_and_pass_at_k() -> None:
    diff, low, high = paired_bootstrap([1, 1, 1, 0, 1, 1], [0, 0, 1, 0, 0, 0])
    assert diff == pytest.approx(4 / 6) and 0 < low <= diff <= high <= 1
    same = paired_bootstrap([0.5] * 5, [0.5] * 5)
    assert same == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        paired_bootstrap([1.0], [1.0, 0.0])
    assert pass_at_k([[False, True], [False, False]]) == 0.5


def test_react_q_takes_any_agent_with_propose_as_proposer() -> None:
    from scoring.proposers import reset_proposer

    prop = make_proposer("tests.fakes_qvalue:FakeProposingAgent", policy="local")
    assert prop.policy == "local"  # type: ignore[attr-defined]
    reset_proposer(prop, "task", 7)
    assert prop.resets == [7]  # type: ignore[attr-defined]
    agent = QRerankAgent(prop, FakeTableScorer({"b": 1.0}, "q"), k=3)
    d = agent.act(Step(0, "o", {"task": "t", "admissible_actions": ["a", "b", "c", "d"]}, ()))
    assert d.action == "b" and len(d.candidates) == 3
    assert (d.input_tokens, d.output_tokens, d.thought) == (30, 6, "think")


def test_mixed_proposer_adds_admissible_actions_the_policy_did_not_propose() -> None:
    from scoring.proposers import MixedProposer, reset_proposer

    prop = make_proposer("tests.fakes_qvalue:FakeProposingAgent", options={"admissible": 2}, seed=1)
    assert isinstance(prop, MixedProposer)
    reset_proposer(prop, "task", 7)
    assert prop.policy.resets == [7]  # type: ignore[attr-defined]
    acts = ["a", "b", "c", "d", "e"]
    got = prop.propose(Step(0, "o", {"task": "t", "admissible_actions": acts}, ()), 2)
    assert [c.action for c in got[:2]] == ["a", "b"]  # the policy's own first, in its order
    assert len(got) == 4 and {c.action for c in got[2:]} <= {"c", "d", "e"}
    assert [c.details.get("source") for c in got[2:]] == ["admissible", "admissible"]
    few = prop.propose(Step(0, "o", {"task": "t", "admissible_actions": ["a", "b"]}, ()), 2)
    assert [c.action for c in few] == ["a", "b"]  # nothing left to mix in
    free = prop.propose(Step(0, "o", {"task": "t"}, ()), 2)
    assert free == []  # a free-text env lists none: the policy's candidates only
    plain = make_proposer("tests.fakes_qvalue:FakeProposingAgent", options={"admissible": 0})
    assert not isinstance(plain, MixedProposer)  # admissible=0: the agent itself
    with pytest.raises(ValueError, match="admissible"):
        MixedProposer(prop, 0)


def test_react_q_counts_the_react_proposers_policy_tokens() -> None:
    from agents.react import ReActAgent
    from tests.fakes_llm import FakeLLM

    replies = ["Thought: a.\nAction: take key", "Thought: b.\nAction: look"]
    llm = FakeLLM(replies)
    react = ReActAgent(llm=llm, propose_mode="sample")  # type: ignore[arg-type]
    agent = QRerankAgent(react, FakeTableScorer({"look": 1.0}, "q"), k=2)
    agent.reset("Take the key.", 0)
    info = {"task": "Take the key.", "admissible_actions": ["take key", "look", "go north"]}
    d = agent.act(Step(0, "You see a key.", info, (), "harness/KeyChest-v0"))
    assert d.action == "look"
    # one sampling request of n replies and the greedy reply (the pool always holds it): the
    # fake bills 100 prompt and 10 tokens per reply
    sample, greedy = llm.calls
    assert (greedy.get("n", 1), greedy["temperature"]) == (1, 0.0)
    assert (d.input_tokens, d.output_tokens) == (200, 10 * sample["n"] + 10)


class _ThoughtPerAction:
    """Fake proposer (test-local): each candidate carries its own thought; none when the
    step lists no actions, and then ``act`` answers alone."""

    def propose(self, step: Step, k: int) -> list[Candidate]:
        acts = list(step.admissible_actions)[:k]
        return [Candidate(a, details={"thought": f"why {a}"}) for a in acts]

    def act(self, step: Step) -> Decision:
        return Decision("inventory", thought="alone")


def test_rerank_records_the_chosen_thought_and_falls_back_to_the_proposer() -> None:
    agent = QRerankAgent(_ThoughtPerAction(), FakeTableScorer({"c": 1.0}, "q"), k=3)
    d = agent.act(Step(0, "o", {"task": "t", "admissible_actions": ["a", "b", "c"]}, ()))
    assert (d.action, d.thought) == ("c", "why c")  # not the first candidate's thought
    d = agent.act(Step(1, "o", {"task": "t", "admissible_actions": []}, ()))
    assert (d.action, d.thought, d.meta["fallback"]) == ("inventory", "alone", "proposer.act")


@pytest.mark.parametrize(
    ("admissible", "rank", "finish"),
    [
        (["search[x]", "finish[yes]", "lookup[y]"], "search[x]", "finish[yes]"),
        (
            ["click[item]", "click[ Buy  Now ]", "click[back to search]"],
            "click[item]",
            "click[ Buy  Now ]",
        ),
        (["go north", "take key"], "go north", "go north"),  # no terminal offered: the top
    ],
)
def test_control_agents_keep_react_qs_candidates_and_choose_without_a_model(
    admissible: list[str], rank: str, finish: str
) -> None:
    """react-rank takes the proposer's top; finish-first a terminal candidate when offered,
    else the top; both see exactly the proposer's k candidates and record them."""
    from scoring.rerank import make_finish_first, make_react_rank

    fake = "tests.fakes_qvalue:FakeProposingAgent"
    step = Step(0, "o", {"task": "t", "admissible_actions": admissible}, ())
    for make, expected, scorer in (
        (make_react_rank, rank, "proposer-order"),
        (make_finish_first, finish, "finish-first"),
    ):
        d = make(proposer=fake, k=3).act(step)
        assert d.action == expected and [c.action for c in d.candidates] == admissible[:3]
        assert d.meta["scorer"] == scorer and all(scorer in c.scores for c in d.candidates)


def test_control_agents_refuse_a_model() -> None:
    from scoring.rerank import make_finish_first, make_react_rank

    for make in (make_react_rank, make_finish_first):
        with pytest.raises(ValueError, match="takes no 'scorer' option"):
            make(proposer="tests.fakes_qvalue:FakeProposingAgent", scorer="bundled:x")


def test_auto_scorer_uses_the_bundled_model_of_the_env_family(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from scoring import models
    from scoring.base import State
    from scoring.models import load_scorer

    shutil.copytree(models.ARTIFACTS / "keychest-minilm", tmp_path / "keychest-encoder")
    monkeypatch.setattr(models, "ARTIFACTS", tmp_path)
    auto = load_scorer("auto", device="cpu")
    assert auto.name == "q:auto-encoder"  # nothing resolved before the first state
    state = State("Open the chest.", (), "You see a key.", "harness/KeyChest-v0")
    acts = [["take key", "go north", "look"]]
    direct = load_scorer(str(tmp_path / "keychest-encoder"), device="cpu").score([state], acts)
    assert auto.score([state], acts) == direct
    assert auto.name == "q:keychest-encoder"
    alf = State("Put a plate in the sink.", (), "You are in a kitchen.", "harness/ALFWorldGen-v0")
    with pytest.raises(FileNotFoundError, match="--family alfworld --kind encoder"):
        auto.score([alf], [["look"]])
    with pytest.raises(ValueError, match="encoder, lm-dpo"):
        load_scorer("auto:bert")
