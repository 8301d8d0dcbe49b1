"""The ReAct agent over a fake policy: prompts, choice modes, proposals, costs, prompt files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.base import Step, Turn
from agents.llm.base import Completion, LLMResult, Prompt
from agents.prompts import HERE, PromptFileError, prompt_for, read_prompt
from agents.react import ReActAgent
from agents.registry import make_agent
from scoring.base import Proposer
from tests.fakes_llm import FakeLLM

ADM = ["go north", "go east", "take key", "look", "inventory"]
INFO = {"task": "Find the key, unlock the chest and take the coin.", "admissible_actions": ADM}
ENV = "harness/KeyChest-v0"


def step(t: int = 0, history: tuple[Turn, ...] = (), info: dict | None = None) -> Step:
    return Step(t, "You are in the hall. Exits: north, east.", info or INFO, history, ENV)


def agent(llm: FakeLLM, **kw: object) -> ReActAgent:
    a = ReActAgent(llm=llm, **kw)  # type: ignore[arg-type]
    a.reset(INFO["task"], 0)
    return a


def user_text(call: dict) -> str:
    return str(call["prompt"][1]["content"])


def test_act_free_mode_parses_and_maps() -> None:
    llm = FakeLLM(["Thought: the key may be north.\nAction: Go North."])
    d = agent(llm).act(step())
    assert d.action == "go north"
    assert d.thought == "the key may be north."
    assert (d.input_tokens, d.output_tokens) == (100, 10)
    assert d.meta["mode"] == "free" and d.meta["mapped"] == "normalized"
    assert d.meta["llm_calls"] == 1


def test_unmappable_reply_is_kept_raw() -> None:
    d = agent(FakeLLM(["Thought: hmm\nAction: fly to the moon"])).act(step())
    assert d.action == "fly to the moon" and d.meta["mapped"] == "none"


def test_prompt_has_task_example_history_and_actions() -> None:
    llm = FakeLLM()
    hist = (Turn("You are in the cellar.", "go north"),)
    agent(llm).act(step(1, hist))
    call = llm.calls[0]
    system, user = call["prompt"][0]["content"], user_text(call)
    assert "text adventure" in system and "Thought:" in system
    assert user.index("Example:") < user.index("Task: Find the key")
    assert "Observation: You are in the cellar.\nAction: go north" in user
    assert user.rstrip().endswith("Valid actions: " + " | ".join(ADM))


def test_task_survives_a_tiny_history_budget() -> None:
    llm = FakeLLM()
    hist = tuple(Turn(f"room {i} " * 30, f"go north {i}") for i in range(30))
    a = agent(llm, history_tokens=50)
    a.act(step(30, hist))
    user = user_text(llm.calls[0])
    assert "Task: Find the key, unlock the chest and take the coin." in user
    assert "earlier steps left out" in user
    assert "go north 29" in user and "Observation: room 0 room 0" not in user


def test_grammar_mode_constrains_to_admissible() -> None:
    llm = FakeLLM([" the key\nAction: take key"], grammar=True, prefill=True)
    d = agent(llm).act(step())
    call = llm.calls[0]
    assert call["prompt"][-1] == {"role": "assistant", "content": "Thought:"}
    gram = call["grammar"]
    assert gram.startswith("root ::=") and '"\\nAction: " action' in gram
    assert 'action ::= "go north" | "go east" | "take key"' in gram
    assert d.action == "take key" and d.thought == "the key" and d.meta["mode"] == "grammar"


def test_grammar_uses_family_action_gbnf_for_free_text_envs() -> None:
    llm = FakeLLM([" search it\nAction: search[Paris]"], grammar=True, prefill=True)
    a = ReActAgent(llm=llm)
    s = Step(
        0, "Question: where?", {"task": "q", "admissible_actions": []}, (), "harness/HotPotQA-v0"
    )
    d = a.act(s)
    assert '"search["' in llm.calls[0]["grammar"]
    assert d.action == "search[Paris]" and d.meta["mapped"] == "free"


def test_no_grammar_for_unconstrained_env() -> None:
    llm = FakeLLM(["Thought: x\nAction: jump"], grammar=True)
    s = Step(0, "obs", {"task": "t", "admissible_actions": []}, (), "harness/Unknown-v0")
    d = ReActAgent(llm=llm).act(s)
    assert llm.calls[0]["grammar"] is None and d.meta["mode"] == "free" and d.action == "jump"


def test_score_mode_picks_the_best_scored_action() -> None:
    llm = FakeLLM(["go for the key"], scores={"take key": -1.0, "go east": -2.0})
    d = agent(llm, choice="score").act(step())
    assert d.action == "take key" and d.meta["mapped"] == "score"
    prompt, conts = llm.score_calls[0]
    assert conts == [" " + a for a in ADM]
    assert prompt[-1]["content"].endswith("\nAction:")
    assert list(prompt[:-1]) == llm.calls[0]["prompt"]  # the thought's prompt + the prefill
    assert d.meta["llm_calls"] == 1 + len(ADM)


def test_propose_by_score_returns_top_k_with_logprobs() -> None:
    llm = FakeLLM(["go for the key"], scores={"take key": -1.0, "go east": -2.0, "look": -3.0})
    a = agent(llm)
    assert isinstance(a, Proposer)
    cands = a.propose(step(), 3)
    assert [c.action for c in cands] == ["take key", "go east", "look"]
    assert [c.logprob for c in cands] == [-1.0, -2.0, -3.0]
    assert cands[0].details["source"] == "score"
    assert a.last_usage.calls == 1 + len(ADM)


def test_propose_by_sampling_dedupes_and_ranks_by_count() -> None:
    replies = [
        "Action: go east",
        "Action: take key",
        "Action: Go East.",
        "Action: fly",
        "Action: look",
    ]
    llm = FakeLLM(replies)
    cands = agent(llm, propose_mode="sample").propose(step(), 3)
    assert cands[0].details["count"] == 3  # 6 samples cycle the 5 replies
    assert [c.action for c in cands] == ["go east", "take key", "look"]  # "fly": inadmissible
    assert llm.calls[0]["n"] == 6 and llm.calls[0]["temperature"] == 1.0


def test_propose_by_sampling_ranks_a_zero_logprob_first() -> None:
    class LogprobLLM(FakeLLM):
        def generate(self, prompt: Prompt, **kw: Any) -> LLMResult:
            comps = (  # one sample each: the tie is broken by the action's logprob
                Completion("Action: look", ("Action: ", "look"), (-1.0, -1.0)),
                Completion("Action: take key", ("Action: ", "take key"), (-1.0, 0.0)),
            )
            return LLMResult(comps, 10, 10)

    cands = agent(LogprobLLM(), propose_mode="sample").propose(step(), 2)
    assert [(c.action, c.logprob) for c in cands] == [("take key", 0.0), ("look", -1.0)]


def test_samples_option_is_one_request_then_the_greedy_reply_on_the_same_prompt() -> None:
    llm = FakeLLM(["Action: take key", "Action: look"], grammar=True, prefill=True)
    cands = agent(llm, propose_mode="sample", samples=3).propose(step(), 5)
    first, greedy = llm.calls  # the samples in one request, then the greedy reply
    assert first["n"] == 3 and first["temperature"] == 1.0
    assert greedy.get("n", 1) == 1 and greedy["temperature"] == 0.0
    assert greedy["prompt"] == first["prompt"]  # the server finds it cached in the slot
    assert [c.action for c in cands] == ["take key", "look"]
    assert [c.details.get("greedy", False) for c in cands] == [False, True]
    with pytest.raises(ValueError, match="samples"):
        ReActAgent(samples=-1)


def test_decide_is_act_without_recording_the_thought() -> None:
    llm = FakeLLM(["Thought: first idea\nAction: go north", "Thought: b\nAction: look"])
    a = agent(llm)
    d = a.decide(step(0))
    assert (d.action, d.thought) == ("go north", "first idea")
    a.act(step(1, (Turn("obs0", "go north"),)))
    assert "first idea" not in user_text(llm.calls[1])  # a rollout step left no trace


def test_a_states_greedy_turn_is_asked_for_once_per_episode() -> None:
    llm = FakeLLM(["Thought: a\nAction: go north", "Thought: b\nAction: look"])
    a = agent(llm, propose_mode="sample", samples=2)
    first = a.decide(step(0))
    assert a.decide(step(0)).action == first.action == "go north" and len(llm.calls) == 1
    a.propose(step(0), 2)  # the samples; the greedy candidate is the turn above
    assert len(llm.calls) == 2 and llm.calls[1]["n"] == 2
    a.decide(step(1, (Turn("obs0", "go north"),)))  # another state: asked for
    assert len(llm.calls) == 3
    a.reset(INFO["task"], 1)
    a.decide(step(0))  # a new episode asks again
    assert len(llm.calls) == 4
    hot = agent(FakeLLM(["Thought: a\nAction: go north"]), temperature=0.7)
    hot.decide(step(0)), hot.decide(step(0))
    assert len(hot.llm.calls) == 2  # type: ignore[attr-defined]  # sampled turns are not kept
    off = agent(FakeLLM(["Thought: a\nAction: go north"]), reuse_greedy=False)
    off.decide(step(0)), off.decide(step(0))
    assert len(off.llm.calls) == 2  # type: ignore[attr-defined]


def test_history_thoughts_option() -> None:
    llm = FakeLLM(["Thought: first idea\nAction: go north", "Thought: b\nAction: look"])
    a = agent(llm)
    a.act(step(0))
    a.act(step(1, (Turn("obs0", "go north"),)))
    assert "Thought: first idea" in user_text(llm.calls[1])
    llm2 = FakeLLM(["Thought: first idea\nAction: go north"])
    b = agent(llm2, history_thoughts=False)
    b.act(step(0))
    b.act(step(1, (Turn("obs0", "go north"),)))
    assert "first idea" not in user_text(llm2.calls[1])


def test_reset_clears_thoughts() -> None:
    llm = FakeLLM(["Thought: old\nAction: look"])
    a = agent(llm)
    a.act(step(0))
    a.reset("new task", 1)
    a.act(step(1, (Turn("o", "look"),)))
    assert "Thought: old" not in user_text(llm.calls[1])


def test_seeds_differ_by_episode_and_step() -> None:
    llm = FakeLLM()
    a = agent(llm)
    a.act(step(0))
    a.act(step(1))
    a.reset("t", 7)
    a.act(step(0))
    seeds = [c["seed"] for c in llm.calls]
    assert len(set(seeds)) == 3


def test_sample_seed_changes_seeds_and_zero_keeps_them() -> None:
    def seeds(**kw: object) -> list[int]:
        llm = FakeLLM()
        a = agent(llm, **kw)
        a.act(step(0))
        a.act(step(1))
        return [c["seed"] for c in llm.calls]

    assert seeds() == seeds(sample_seed=0)
    assert not set(seeds()) & set(seeds(sample_seed=1))
    assert seeds(sample_seed=1) != seeds(sample_seed=2)


def test_bad_options_fail_clearly() -> None:
    with pytest.raises(ValueError, match="choice"):
        ReActAgent(choice="maybe")
    with pytest.raises(ValueError, match="propose_mode"):
        ReActAgent(propose_mode="x")


def test_registered_and_lazy() -> None:
    a = make_agent("react", {"policy": "openai:m@http://127.0.0.1:9/v1", "temperature": 0.5})
    assert isinstance(a, ReActAgent) and a.temperature == 0.5 and a._llm is None


def test_every_prompt_file_parses() -> None:
    files = sorted(HERE.glob("*.toml"))
    assert {f.stem for f in files} >= {
        "default",
        "keychest",
        "textworld",
        "alfworld",
        "webshop",
        "hotpotqa",
    }
    for f in files:
        ps = read_prompt(f)
        assert ps.instructions
        if f.stem != "default":
            assert "Action:" in ps.example and "Thought:" in ps.example


@pytest.mark.parametrize(
    ("env_id", "name"),
    [
        ("harness/KeyChest-v0", "keychest"),
        ("harness/TextWorld-Cooking-v0", "textworld"),
        ("harness/ALFWorldGen-v0", "alfworld"),
        ("harness/WebShop-v0", "webshop"),
        ("harness/HotPotQASynth-v1", "hotpotqa"),
        ("CartPole-v1", "default"),  # registered elsewhere, declares no family
        ("harness/HotPotQA-Synth-v0", "default"),  # not registered: no family, not a guess
    ],
)
def test_prompt_file_by_declared_family(env_id: str, name: str) -> None:
    assert prompt_for(env_id).name == name


def test_a_plug_in_env_class_declares_its_family(monkeypatch: pytest.MonkeyPatch) -> None:
    """An env registered outside the table names its family with ``env_family``; the prompt
    and rubric templates follow it, whatever its id says."""
    import gymnasium as gym

    from envs.registration import env_family
    from scoring.rubric.templates import family_of
    from tests.fakes import FakeCountEnv

    class ShopLike(FakeCountEnv):
        env_family = "webshop"

    monkeypatch.setitem(
        gym.registry,
        "test/Plain-v0",
        gym.envs.registration.EnvSpec("test/Plain-v0", entry_point=ShopLike),
    )
    assert (
        env_family("test/Plain-v0") == "webshop" and prompt_for("test/Plain-v0").name == "webshop"
    )
    assert family_of("test/Plain-v0") == "webshop"


def test_user_prompt_file(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text('instructions = "Be brief."\nexample = ""\n')
    llm = FakeLLM()
    agent(llm, prompt_file=str(f)).act(step())
    assert llm.calls[0]["prompt"][0]["content"].startswith("Be brief.")
    bad = tmp_path / "bad.toml"
    bad.write_text("instructions = [")
    with pytest.raises(PromptFileError, match="not valid TOML"):
        read_prompt(bad)


def test_auto_mode_prefers_grammar_then_score_then_free() -> None:
    assert agent(FakeLLM(grammar=True, scores={})).act(step()).meta["mode"] == "grammar"
    assert agent(FakeLLM(scores={"look": 0.0})).act(step()).meta["mode"] == "score"
    assert agent(FakeLLM()).act(step()).meta["mode"] == "free"


def test_valid_actions_listed_only_in_free_mode_by_default() -> None:
    g = FakeLLM([" x\nAction: look"], grammar=True, prefill=True)
    agent(g).act(step())
    assert "Valid actions:" not in user_text(g.calls[0])
    g2 = FakeLLM([" x\nAction: look"], grammar=True, prefill=True)
    agent(g2, show_actions=True).act(step())
    assert "Valid actions:" in user_text(g2.calls[0])


ALF_ROOM = (
    "You are in the middle of a room. Looking quickly around you, you see a cabinet 2, "
    "a cabinet 1, a countertop 1, and a sinkbasin 1."
)
ALF_HIST = (
    Turn(ALF_ROOM, "go to cabinet 2"),
    Turn("You arrive at cabinet 2. The cabinet 2 is closed.", "open cabinet 2"),
    Turn(
        "You open the cabinet 2. The cabinet 2 is open. In it, you see nothing.", "go to cabinet 1"
    ),
    Turn(
        "You arrive at cabinet 1. On the cabinet 1, you see a plate 2, and a cup 1.",
        "take plate 2 from cabinet 1",
    ),
)
ALF_NOW = "You pick up the plate 2 from the cabinet 1."


def alf_step(history: tuple[Turn, ...] = ALF_HIST, obs: str = ALF_NOW) -> Step:
    info = {"task": "Your task is to: put a plate in sinkbasin.", "admissible_actions": ["look"]}
    return Step(len(history), obs, info, history, "harness/ALFWorldGen-v0")


def test_alfworld_note_sums_up_the_transcript_only() -> None:
    from agents.notes import alfworld_note

    note = alfworld_note("Your task is to: put a plate in sinkbasin.", ALF_HIST, ALF_NOW)
    assert note == (
        "Notes: goal: put a plate in sinkbasin. holding plate 2. searched: cabinet 2 "
        "(nothing); cabinet 1 (cup 1). not searched: countertop 1, sinkbasin 1."
    )
    assert alfworld_note("", (), ALF_ROOM) == (
        "Notes: not searched: cabinet 2, cabinet 1, countertop 1, sinkbasin 1."
    )
    assert alfworld_note("t", (), "Nothing happens.") == "Notes: goal: t."
    assert alfworld_note("", (), "Nothing happens.") == ""  # nothing known yet


def test_notes_line_sits_before_the_current_observation_for_adapter_policies() -> None:
    llm = FakeLLM()
    adapted = ReActAgent(llm=llm, policy="local?adapter=x")
    adapted.reset("t", 0)
    adapted.act(alf_step())
    user = user_text(llm.calls[0])
    assert "\nNotes: goal: put a plate in sinkbasin. holding plate 2." in user
    assert user.index("Notes: goal") < user.index(f"Observation: {ALF_NOW}")
    assert user.index("Action: take plate 2 from cabinet 1") < user.index("Notes: goal")
    # the note survives a history window too small for any old step
    tiny = FakeLLM()
    a = ReActAgent(llm=tiny, policy="local?adapter=x", history_tokens=5)
    a.reset("t", 0)
    a.act(alf_step())
    assert "not searched: countertop 1, sinkbasin 1." in user_text(tiny.calls[0])
    assert "earlier steps left out" in user_text(tiny.calls[0])
    # the base model's prompt has no note unless asked; notes=no drops it for an adapter
    for kw in ({}, {"policy": "local?adapter=x", "notes": "no"}):
        plain = FakeLLM()
        b = ReActAgent(llm=plain, **kw)  # type: ignore[arg-type]
        b.reset("t", 0)
        b.act(alf_step())
        assert "Notes:" not in user_text(plain.calls[0])
    forced = FakeLLM()
    ReActAgent(llm=forced, notes="yes").act(alf_step())
    assert "holding plate 2." in user_text(forced.calls[0])
    # families without a note maker never get one
    other = FakeLLM()
    ReActAgent(llm=other, notes="yes").act(step())
    assert "Notes:" not in user_text(other.calls[0])


def test_bad_notes_option_and_unknown_note_maker_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="notes must be auto, yes or no"):
        ReActAgent(notes="sometimes")
    f = tmp_path / "mine.toml"
    f.write_text('instructions = "x"\nnotes = "webshop"\n', encoding="utf-8")
    with pytest.raises(PromptFileError, match="notes 'webshop' is not one of alfworld"):
        read_prompt(f)


def test_alfworld_goal_text_is_shared_by_searcher_and_note() -> None:
    from agents.demonstrators.alfworld import goal_text, parse_goal

    assert goal_text("-= Welcome =-\n\nYour task is to: put a plate in sinkbasin.") == (
        "put a plate in sinkbasin"
    )
    assert goal_text("your task is to: Put a plate in sinkbasin.") == "Put a plate in sinkbasin"
    assert goal_text("heat some egg and put it in fridge") == "heat some egg and put it in fridge"
    assert parse_goal("Your task is to: Put a plate in sinkbasin.") == parse_goal(
        "put a plate in sinkbasin"
    )
