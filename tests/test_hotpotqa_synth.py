"""The generated HotPotQASynth set, both generators (-v0, -v1): size, determinism, disjoint
splits, answers not in the questions, supporting facts that hold the answer, and the oracle's
success rate."""

from __future__ import annotations

import collections

import pytest

from envs.hotpotqa.corpus import Corpus
from envs.hotpotqa.env import HotPotQASynthEnv
from envs.hotpotqa.metrics import answer_in_text, normalize_answer
from envs.hotpotqa.synth import build_synth

pytest.importorskip("bm25s")

SPLITS = ("train", "valid", "test")


@pytest.fixture(scope="module", params=[1, 2], ids=["gen1-v0", "gen2-v1"])
def generator(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture(scope="module")
def synth(generator: int) -> dict:
    return build_synth(seed=0, generator=generator)


def test_at_least_500_questions_per_split_of_both_types(synth: dict) -> None:
    for split in SPLITS:
        pages, tasks = synth[split]
        assert len(tasks) >= 500 and len(pages) >= 300
        types = collections.Counter(t.qtype for t in tasks)
        assert types["bridge"] >= 150 and types["comparison"] >= 150
        answers = collections.Counter(t.answer for t in tasks)
        assert answers["yes"] >= 30 and answers["no"] >= 30  # yes/no comparisons, both ways
        assert len({t.question for t in tasks}) == len(tasks)


def test_deterministic_by_seed(synth: dict, generator: int) -> None:
    again = build_synth(seed=0, generator=generator)
    assert again == synth
    other = build_synth(seed=1, generator=generator)
    assert [t.question for t in other["test"][1]] != [t.question for t in synth["test"][1]]


def test_splits_are_disjoint(synth: dict) -> None:
    titles = {s: {p.title for p in synth[s][0]} for s in SPLITS}
    questions = {s: {t.question for t in synth[s][1]} for s in SPLITS}
    for a, b in (("train", "valid"), ("train", "test"), ("valid", "test")):
        assert not titles[a] & titles[b]
        assert not questions[a] & questions[b]


def test_answer_never_in_question_and_found_in_support(synth: dict) -> None:
    for split in SPLITS:
        pages, tasks = synth[split]
        corpus = Corpus(pages)
        for t in tasks:
            assert not answer_in_text(t.answer, t.question), t
            assert len({title for title, _ in t.supporting}) >= 2  # multi-hop: two pages
            support = " ".join(corpus.get(title).sentences[i] for title, i in t.supporting)
            if normalize_answer(t.answer) not in ("yes", "no"):
                assert answer_in_text(t.answer, support), t


def test_comparison_and_bridge_shapes(synth: dict) -> None:
    tasks = synth["test"][1]
    bridge = next(t for t in tasks if t.question.startswith("In which city was the director"))
    assert bridge.qtype == "bridge"
    comp = next(t for t in tasks if " the same " in t.question)
    assert comp.qtype == "comparison" and comp.answer in ("yes", "no")


@pytest.mark.parametrize("generator", [1, 2])
def test_oracle_reaches_reward_1_on_at_least_95_percent(generator: int) -> None:
    env = HotPotQASynthEnv(generator=generator)
    for split in SPLITS:
        wins, n = 0, 150
        for seed in range(n):
            _, info = env.reset(seed=seed * 4, options={"split": split, "expert": True})
            for _ in range(20):
                _, reward, done, _, info = env.step(info["expert_action"])
                if done:
                    break
            wins += int(reward == 1.0 and info["won"])
        assert wins / n >= 0.95, (split, wins)
