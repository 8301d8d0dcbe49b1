"""Demonstrators and the SFT demonstration writer (agents.demonstrators, agents.demos)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gymnasium as gym
import pytest

from agents.base import Step, Turn
from agents.baselines import TEMPLATE, fill_template
from agents.demonstrators import DemonstratorAgent, demonstrator_for
from agents.demonstrators.alfworld import Goal, next_decision, parse_goal, replay
from agents.demonstrators.webshop import option_groups, results
from agents.demos import (
    PROFILE,
    _Counter,
    clean_thought,
    demonstrate,
    read_demos,
    summarize,
    write_demos,
)
from agents.react import ReActAgent
from agents.react_text import parse_reply
from envs.registration import register_all

register_all()


def _replay(env_id: str, demo: dict) -> float:
    """Play a demonstration's replies through a fresh env; return the total reward."""
    env = gym.make(env_id)
    try:
        _, info = env.reset(seed=demo["seed"], options={"split": demo["split"]})
        total = 0.0
        for s in demo["samples"]:
            action = parse_reply(s["completion"]).action
            if TEMPLATE.search(action):
                action = fill_template(action, info["task"])
            _, reward, term, trunc, info = env.step(action)
            total += float(reward)
            if term or trunc:
                break
        return total
    finally:
        env.close()


def _check_demo_shape(demo: dict) -> None:
    react = ReActAgent(policy="local?adapter=sft")
    for s in demo["samples"]:
        assert [m["role"] for m in s["prompt"]] == ["system", "user"]
        assert "Example:" not in s["prompt"][1]["content"]
        parsed = parse_reply(s["completion"])
        thought = s["completion"].split("\n", 1)[0].removeprefix("Thought: ")
        # the shape the agent's grammar produces: one sentence, no inner period, <= limit
        limit = react.thought_chars
        assert re.fullmatch(r"[^\n.]{1,%s}\." % limit, thought), thought  # noqa: UP031
        assert parsed.action and parsed.labelled


@pytest.mark.parametrize(
    "env_id", ["harness/KeyChest-v0", "harness/WebShopSynth-v0", "harness/HotPotQASynth-v1"]
)
def test_a_written_transcript_replays_to_the_demonstrators_reward(env_id, tmp_path):
    out = tmp_path / "demos.jsonl"
    stats = write_demos(env_id, out, tasks=4, first_seed=0)
    demos = list(read_demos(out))
    assert stats["episodes"] == 4 == len(demos)
    for demo in demos:
        _check_demo_shape(demo)
        assert _replay(env_id, demo) == pytest.approx(demo["reward"])
    assert any(d["usable"] for d in demos)


def test_writing_is_resumable_and_deterministic(tmp_path):
    out = tmp_path / "d.jsonl"
    write_demos("harness/KeyChest-v0", out, tasks=2)
    first = out.read_text()
    write_demos("harness/KeyChest-v0", out, tasks=3)  # only seed 2 is new
    lines = out.read_text().splitlines()
    assert out.read_text().startswith(first) and len(lines) == 3
    again = tmp_path / "again.jsonl"
    write_demos("harness/KeyChest-v0", again, tasks=3)
    assert again.read_text() == out.read_text()
    assert summarize(out)["episodes"] == 3


def test_prompts_are_the_agents_own_messages():
    demo = demonstrate("harness/KeyChest-v0", seed=1)
    react = ReActAgent(policy=PROFILE, llm=_Counter())  # type: ignore[arg-type]
    assert react.shows_example() is False
    assert ReActAgent().shows_example() is True
    assert ReActAgent(policy="local?adapter=auto").shows_example() is False
    # the system prompt ends with the agent's answer format, the user message with the obs
    assert demo.samples[0]["prompt"][0]["content"].endswith(
        react.messages(Step(0, "x", {"task": "t"}, (), "harness/KeyChest-v0"))[0]["content"][-60:]
    )
    assert demo.samples[0]["prompt"][1]["content"].startswith("Task: ")


def test_clean_thought_fits_the_grammar():
    assert clean_thought("I go. Then I look.\nok", 100) == "I go Then I look ok"
    assert len(clean_thought("a" * 300, 100)) == 100
    assert clean_thought("", 100) == "I continue"


def test_unknown_family_is_named():
    with pytest.raises(KeyError, match="families"):
        demonstrator_for("nosuch")
    assert DemonstratorAgent("alfworld").wants_expert is False
    assert DemonstratorAgent("hotpotqa").wants_expert is True


# --- ALFWorld searcher, on canned observations ----------------------------------------------
ROOM = (
    "-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly "
    "around you, you see a cabinet 1, a countertop 1, a fridge 1, and a microwave 1.\n\n"
    "Your task is to: put a hot egg in countertop."
)


LOOK = Goal("book", "desklamp", look=True)


@pytest.mark.parametrize(
    ("task", "goal"),
    [
        ("Your task is to: put a hot egg in countertop.", Goal("egg", "countertop", "heat")),
        (
            "Your task is to: cool some apple and put it in diningtable.",
            Goal("apple", "diningtable", "cool"),
        ),
        ("Your task is to: find two pen and put them in drawer.", Goal("pen", "drawer", count=2)),
        (
            "Your task is to: examine the book with the desklamp.",
            Goal("book", "desklamp", look=True),
        ),
        ("Your task is to: put some plate on shelf.", Goal("plate", "shelf")),
        ("Your task is to: dance.", None),
    ],
)
def test_goal_parsing(task, goal):
    assert parse_goal(task) == goal


def test_searcher_opens_closed_receptacles_and_never_walks_to_unseen_objects():
    goal = Goal("egg", "countertop", "heat")
    acts = ["go to cabinet 1", "go to countertop 1", "go to fridge 1", "go to microwave 1", "look"]
    first = next_decision(goal, replay((), ROOM), acts)
    assert first.action.startswith("go to ") and "." not in (first.thought or "")
    hist = (Turn(ROOM, "go to fridge 1"),)
    closed = "You arrive at fridge 1. The fridge 1 is closed."
    d = next_decision(goal, replay(hist, closed), ["open fridge 1", *acts])
    assert d.action == "open fridge 1"
    hist = (*hist, Turn(closed, "open fridge 1"))
    opened = "You open the fridge 1. The fridge 1 is open. In it, you see a egg 1, and a tomato 1."
    mem = replay(hist, opened)
    assert mem.contents["fridge 1"] == ["egg 1", "tomato 1"]
    d = next_decision(goal, mem, ["take egg 1 from fridge 1", *acts])
    assert d.action == "take egg 1 from fridge 1"
    hist = (*hist, Turn(opened, "take egg 1 from fridge 1"))
    took = "You pick up the egg 1 from the fridge 1."
    d = next_decision(goal, replay(hist, took), acts)
    assert d.action == "go to microwave 1"  # heat before placing


def test_webshop_page_parsing():
    page = (
        "Instruction: [SEP] red shoes [SEP] Back to Search [SEP] Page 1 (Total results: 2) "
        "[SEP] B000000001 [SEP] Red Shoes [SEP] $10.00 [SEP] B000000002 [SEP] Blue Hat [SEP] $5.00"
    )
    assert results(page) == [("B000000001", "Red Shoes", 10.0), ("B000000002", "Blue Hat", 5.0)]
    item = (
        "Instruction: [SEP] x [SEP] Back to Search [SEP] < Prev [SEP] color [SEP] red [SEP] blue "
        "[SEP] size [SEP] 9 [SEP] 10 [SEP] Red Shoes [SEP] Price: $10.00 [SEP] Rating: N.A. "
        "[SEP] Description [SEP] Features [SEP] Reviews [SEP] Buy Now"
    )
    assert option_groups(item, ["red", "blue", "9", "10"]) == [["red", "blue"], ["9", "10"]]


@pytest.mark.engine
def test_alfworld_transcript_replays_to_the_searchers_reward(tmp_path):
    pytest.importorskip("alfworld")
    out: Path = tmp_path / "alf.jsonl"
    write_demos("harness/ALFWorldGen-v0", out, tasks=2, first_seed=0)
    demos = list(read_demos(out))
    assert [d["won"] for d in demos] == [True, True]  # the searcher solves these two
    for demo in demos:
        _check_demo_shape(demo)
        assert _replay("harness/ALFWorldGen-v0", demo) == pytest.approx(demo["reward"])
        assert json.dumps(demo).count("expert_action") == 0


def test_adapter_policies_get_the_sft_prompt_profile(monkeypatch):
    from agents import react as react_mod
    from agents.llm import adapters

    assert ReActAgent(policy="local?adapter=x").history_budget() == 400
    assert ReActAgent(policy="local").history_budget() == 800
    assert ReActAgent(policy="local?adapter=x", history_tokens=123).history_budget() == 123
    # adapter=auto on a family without a bundled adapter runs the base model with its prompt
    monkeypatch.setattr(adapters, "adapter_for_env", lambda env_id: "")
    auto = ReActAgent(policy="local?adapter=auto")
    assert not auto.uses_adapter("harness/KeyChest-v0")
    assert auto.shows_example("harness/KeyChest-v0")
    assert auto.history_budget("harness/KeyChest-v0") == react_mod.HISTORY_TOKENS
    monkeypatch.setattr(adapters, "adapter_for_env", lambda env_id: "keychest-sft")
    fresh = ReActAgent(policy="local?adapter=auto")
    assert fresh.uses_adapter("harness/KeyChest-v0") and not fresh.shows_example(
        "harness/KeyChest-v0"
    )


class FakeLookingLearner(ReActAgent):
    """Unit-test fake learner: always ``look`` with a fixed thought (no model)."""

    def __init__(self) -> None:
        super().__init__(policy="local?adapter=fake-learner", llm=_Counter())  # type: ignore[arg-type]

    def decide(self, step: Step):  # type: ignore[override]
        from agents.base import Decision

        return Decision("look", "I look around")


def test_dagger_with_beta_one_is_the_plain_demonstration():
    pytest.importorskip("alfworld")
    plain = demonstrate("harness/ALFWorldGen-v0", seed=0)
    mixed = demonstrate("harness/ALFWorldGen-v0", seed=0, learner=FakeLookingLearner(), beta=1.0)
    assert mixed.samples == plain.samples and mixed.reward == plain.reward
    assert (mixed.driver, mixed.beta) == ("local?adapter=fake-learner", 1.0)
    assert plain.driver == "demonstrator"
    assert mixed.actions == [parse_reply(s["completion"]).action for s in plain.samples]


def test_dagger_labels_the_learners_own_states_with_the_searcher(tmp_path):
    pytest.importorskip("alfworld")
    from agents.demonstrators.alfworld import ALFWorldSearcher

    env_id = "harness/ALFWorldGen-v0"
    demo = demonstrate(env_id, seed=0, max_steps=5, learner=FakeLookingLearner(), beta=0.0)
    assert demo.actions == ["look"] * 5 and demo.beta == 0.0 and not demo.won
    assert demo.usable and len(demo.samples) == 5  # labels are usable though the learner lost
    env = gym.make(env_id)
    try:
        obs, info = env.reset(seed=0, options={"split": "train"})
        history: list[Turn] = []
        for t, sample in enumerate(demo.samples):
            want = ALFWorldSearcher().act(Step(t, obs, info, tuple(history), env_id))
            assert parse_reply(sample["completion"]).action == want.action
            # the prompt carries the learner's own thoughts, not the searcher's
            assert sample["prompt"][1]["content"].count("Thought: I look around") == t
            history.append(Turn(obs, "look"))
            obs, _, _, _, info = env.step("look")
    finally:
        env.close()
    out = tmp_path / "dagger.jsonl"
    fake = FakeLookingLearner()
    stats = write_demos(env_id, out, tasks=1, max_steps=5, learner=fake, beta=0.0)
    looks = sum(parse_reply(s["completion"]).action == "look" for s in demo.samples)
    assert stats["executed_is_label"] == looks / 5 and next(iter(read_demos(out)))["seed"] == 0
    assert "executed_is_label" not in summarize(out.with_name("none.jsonl"))
    # the seeded coin makes a mixed rollout reproducible
    again = [
        demonstrate(env_id, seed=0, max_steps=6, learner=FakeLookingLearner(), beta=0.5).actions
        for _ in range(2)
    ]
    assert again[0] == again[1] and "look" in again[0] and set(again[0]) != {"look"}


def test_dagger_refuses_a_privileged_demonstrator_and_a_bad_beta(tmp_path, capsys):
    from agents.demos import main

    with pytest.raises(ValueError, match="hidden state"):
        demonstrate("harness/KeyChest-v0", seed=0, learner=FakeLookingLearner())
    out = tmp_path / "d.jsonl"
    assert main(["--env", "harness/KeyChest-v0", "--out", str(out), "--beta", "2"]) == 2
    assert "--beta" in capsys.readouterr().err and not out.exists()
    rc = main(["--env", "harness/KeyChest-v0", "--out", str(out), "--learner", "local"])
    assert rc == 2 and "hidden state" in capsys.readouterr().err
