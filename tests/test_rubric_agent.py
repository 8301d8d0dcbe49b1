"""Rubric caching, the judge (fake and real local model), and the react-rubric agent."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import envs.registration  # noqa: F401 - registers the harness/* ids
from agents.base import Candidate, Step, Turn
from agents.registry import AGENTS
from envs.base import fingerprint
from scoring.base import State
from scoring.compose import ComposedScorer
from scoring.rubric.agent import ComposedRerankAgent, make_react_q_rubric
from scoring.rubric.rubrics import RubricStore, template_rubric
from scoring.rubric.scorer import RubricScorer, judge_one
from tests.fakes_llm import FakeLLM

RUBRIC_REPLY = "Rubric:\n1. Takes the key first (weight: 0.6)\n2. Opens the chest (weight: 0.4)"
ENV = "harness/KeyChest-v0"
TASK = "Find the key, unlock the chest and take the coin."


def test_cache_hits_on_second_call_and_misses_on_new_task(tmp_path: Path) -> None:
    llm = FakeLLM(replies=[RUBRIC_REPLY])
    store = RubricStore("fake-gen", root=tmp_path, llm=llm)
    r1 = store.get(ENV, TASK)
    assert [c.text for c in r1.criteria] == ["Takes the key first", "Opens the chest"]
    assert r1.source == "fake-gen" and (store.hits, store.misses) == (0, 1)
    assert store.get(ENV, TASK) == r1 and (store.hits, store.misses) == (1, 1)
    assert len(llm.calls) == 1
    fresh = RubricStore("fake-gen", root=tmp_path, llm=llm)  # a new process: from disk
    assert fresh.get(ENV, TASK) == r1 and (fresh.hits, fresh.misses) == (1, 0)
    assert len(llm.calls) == 1
    fresh.get(ENV, "Take the coin only.")
    assert fresh.misses == 1 and len(llm.calls) == 2
    other = RubricStore("other-gen", root=tmp_path, llm=llm)
    assert other.key(ENV, TASK) != store.key(ENV, TASK)
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_cache_key_follows_the_generation_settings(tmp_path: Path) -> None:
    llm = FakeLLM(replies=[RUBRIC_REPLY])
    few = RubricStore("fake-gen", root=tmp_path, llm=llm, max_criteria=2)
    assert few.key(ENV, TASK) != RubricStore("fake-gen", root=tmp_path, llm=llm).key(ENV, TASK)


def test_free_text_criteria_without_a_judge_fail_clearly(tmp_path: Path) -> None:
    scorer = RubricScorer(cache_root=str(tmp_path), generator_llm=FakeLLM(replies=[RUBRIC_REPLY]))
    s = State(TASK, (), "You are in the pantry.", ENV)
    with pytest.raises(ValueError, match="needs a judge model: pass judge=SPEC"):
        scorer.score([s], [["take key"]])


def test_unparseable_generation_falls_back_to_template(tmp_path: Path) -> None:
    store = RubricStore("fake-gen", root=tmp_path, llm=FakeLLM(replies=["ok"]))
    assert store.get(ENV, TASK) == template_rubric(ENV)
    assert RubricStore().get(ENV, TASK) == template_rubric(ENV)  # no generator: template


def test_judge_p_yes_from_scores() -> None:
    llm = FakeLLM(scores={"yes": math.log(0.6), "no": math.log(0.2)})
    p = judge_one(llm, State(TASK, (), "garden", ENV), "take key", "Takes the key")
    assert p == pytest.approx(0.75)
    assert all(c == [" yes", " no"] for _, c in llm.score_calls)


def _judge_reply(prompt: Any, kw: dict[str, Any]) -> str:
    user = prompt[1]["content"]
    return "Yes" if "Proposed next action: take key" in user else "no, it does not"


def test_judge_scorer_by_generation_batches_all_pairs(tmp_path: Path) -> None:
    judge = FakeLLM(reply_fn=_judge_reply)
    scorer = RubricScorer(
        "fake-gen",
        cache_root=str(tmp_path),
        judge_llm=judge,
        generator_llm=FakeLLM(replies=[RUBRIC_REPLY]),
    )
    s = State(TASK, (), "You are in the pantry. A small key lies here.", ENV)
    scores, details = scorer.score_details([s, s], [["go west", "take key"], ["look"]])
    assert scores[0] == pytest.approx([-1.0, 1.0]) and scores[1] == pytest.approx([-1.0])
    assert details[0][1]["verdicts"] == {"g1": 1.0, "g2": 1.0}
    assert len(judge.calls) == 6 == scorer.judge_calls  # 3 candidates x 2 criteria
    assert (scorer.store.misses, scorer.store.hits) == (1, 1)  # one look-up per state


class FakeListProposer:
    """Fake proposer: the admissible actions in reverse order, with fake logprobs."""

    def __init__(self) -> None:
        self.resets: list[tuple[str, int]] = []

    def reset(self, task: str, seed: int) -> None:
        self.resets.append((task, seed))

    def propose(self, step: Step, k: int) -> list[Candidate]:
        acts = list(reversed(step.admissible_actions))[:k]
        return [Candidate(a, -float(i), details={"thought": "fake"}) for i, a in enumerate(acts)]


def test_react_rubric_agent_picks_argmax_and_records_verdicts() -> None:
    env = gym.make(ENV).unwrapped
    agent = ComposedRerankAgent(FakeListProposer(), ComposedScorer([(RubricScorer(), 1.0)]), k=8)
    obs, info = env.reset(seed=0)
    agent.reset(info["task"], 0)
    history: list[Turn] = []
    chosen = []
    for t in range(6):
        d = agent.act(Step(t, obs, info, tuple(history), ENV))
        combined = [c.scores["combined"] for c in d.candidates]
        best = max(range(len(combined)), key=lambda i: (combined[i], -i))
        assert d.action == d.candidates[best].action
        for c in d.candidates:
            assert set(c.details["verdicts"]) == {x.id for x in template_rubric(ENV).criteria}
            assert "rubric" in c.scores
        json.dumps([c.to_dict() for c in d.candidates])
        if t == 0:
            assert d.meta["rubric"] == template_rubric(ENV).to_dict() and d.meta["task"] == TASK
        else:
            assert d.meta["rubric_digest"] == fingerprint(template_rubric(ENV).to_dict())
        chosen.append(d.action)
        history.append(Turn(obs, d.action))
        obs, _, term, _, info = env.step(d.action)
        if term:
            break
    assert "take key" in chosen  # mentions_task lifts it over the reversed proposer order


def test_registered_and_q_seam() -> None:
    assert "react-rubric" in AGENTS.names() and "react-q-rubric" in AGENTS.names()
    agent = make_react_q_rubric(
        scorer="tests.test_rubric_agent:fake_q_factory", q_weight=2.0, rubric_weight=0.5, k=3
    )
    assert agent.scorer.weights == {"q:fake": 2.0, "rubric": 0.5} and agent.k == 3
    q = agent.scorer.parts[0][0]
    assert q.score([State("t", (), "o")], [["a", "bb"]]) == [[1.0, 2.0]]
    assert agent.proposer.k == 3  # type: ignore[attr-defined]  # the ReAct proposer's k


class FakeLengthQ:
    """Fake Q scorer: the action's length."""

    name = "q:fake"

    def score(self, states: Any, actions: Any) -> list[list[float]]:
        return [[float(len(a)) for a in acts] for acts in actions]


def fake_q_factory() -> FakeLengthQ:
    """Factory of the fake Q scorer (module:factory spec)."""
    return FakeLengthQ()


@pytest.mark.model
def test_real_local_judge_gives_probabilities() -> None:
    from agents.llm.spec import get_policy

    llm = get_policy("local")
    s = State(TASK, (), "You are in the pantry. A small key lies on the floor.", ENV)
    ps = [judge_one(llm, s, a, "The action picks up the key.") for a in ("take key", "go west")]
    assert all(p is not None and 0.0 < p < 1.0 for p in ps)
    assert ps[0] != ps[1]
