"""ReAct reply parsing, the action-mapping rule and the history budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.base import Turn
from agents.llm.base import approx_tokens
from agents.react_text import clean_action, map_action, normalize, parse_reply, render_history

MESSY = [
    ("Thought: I need the key.\nAction: take key", "I need the key.", "take key", True),
    ("Thought: go on\nAction: go north.", "go on", "go north", True),
    ('Thought: hmm\nAction: "open chest"', "hmm", "open chest", True),
    ("Thought: x\nAction: `take coin`!", "x", "take coin", True),
    ("Thought: a\nAction: go west\nAction: go east", "a", "go west", True),
    ("Thought: a\nAction: go west\nObservation: You are in the hall.", "a", "go west", True),
    ("Thought: a\nAction: go west Observation: hall", "a", "go west", True),
    ("**Thought:** think\n**Action:** take key", "think", "take key", True),
    ("Thought 3: t\nAction 3: search[Paris]", "t", "search[Paris]", True),
    ("Thought: t\nAction: finish[yes].", "t", "finish[yes]", True),
    (
        "Thought: t\nAction: search[Arthur's Magazine] and then more",
        "t",
        "search[Arthur's Magazine]",
        True,
    ),
    ("I think I should go north. Action: go north", "I think I should go north.", "go north", True),
    ("action: GO NORTH", "", "GO NORTH", True),
    ("  Action:   take   key  ", "", "take key", True),
    ("Thought: just thinking\nAction:\nAction: look", "just thinking", "look", True),
    ("go north", "", "go north", False),
    ("> open fridge", "", "open fridge", False),
    ("Thought: the key is here\ntake key", "the key is here", "take key", False),
    ("Sure! Here is my answer:\n\n1. take key", "", "take key", False),
    ("```\nThought: t\nAction: open chest\n```", "t", "open chest", True),
    ("Thought: only a thought", "only a thought", "only a thought", False),
    ("", "", "", False),
]


@pytest.mark.parametrize(("reply", "thought", "action", "labelled"), MESSY)
def test_parse_messy_replies(reply: str, thought: str, action: str, labelled: bool) -> None:
    p = parse_reply(reply)
    assert p.action == action
    assert p.labelled == labelled
    if thought:
        assert p.thought == thought


def test_clean_action_strips_decoration() -> None:
    assert clean_action("'go north'.") == "go north"
    assert clean_action("*take key*") == "take key"
    assert clean_action("“open chest”") == "open chest"
    assert clean_action("Action: look\nmore") == "look"
    assert normalize("  Take   KEY. ") == "take key"


ADM = ["go north", "go east", "take key", "unlock chest with key", "look", "inventory"]


@pytest.mark.parametrize(
    ("action", "expected", "rule"),
    [
        ("take key", "take key", "exact"),
        ("Take Key.", "take key", "normalized"),
        ('"GO  north"', "go north", "normalized"),
        ("I will go north now", "go north", "contained"),
        ("go east and then go north", "go east", "contained"),
        ("unlock chest with key please", "unlock chest with key", "contained"),
        ("unlock the chest with key", "unlock chest with key", "fuzzy"),
        ("go nort", "go north", "fuzzy"),
        ("dance wildly", "dance wildly", "none"),
        ("", "", "none"),
    ],
)
def test_mapping_rule(action: str, expected: str, rule: str) -> None:
    m = map_action(action, ADM)
    assert (m.action, m.rule) == (expected, rule)


def test_mapping_contained_needs_whole_words() -> None:
    assert map_action("lookout", ["look"]).rule != "contained"


def test_mapping_threshold_is_respected() -> None:
    assert map_action("go nort", ADM, threshold=0.99).rule == "none"
    assert map_action("xyz", ADM, threshold=0.0).rule == "fuzzy"


def test_free_text_env_keeps_action() -> None:
    assert map_action("search[Paris]", []).rule == "free"


@given(st.text(max_size=60), st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=8))
def test_mapping_is_admissible_or_raw(action: str, adm: list[str]) -> None:
    m = map_action(action, adm)
    if m.rule == "none":
        assert m.action == action
    else:
        assert m.action in adm


@given(st.text(max_size=200))
def test_parse_never_fails(reply: str) -> None:
    p = parse_reply(reply)
    assert "\n" not in p.action


def _history(n: int) -> list[Turn]:
    return [Turn(f"You are in room {i}. " * 5, f"go north {i}") for i in range(n)]


def test_history_keeps_newest_within_budget() -> None:
    hist = _history(40)
    tr = render_history(hist, "current obs", [], budget=200, count=approx_tokens)
    assert tr.dropped > 0
    assert approx_tokens(tr.text.split("\n", 1)[1]) <= 200
    assert "go north 39" in tr.text
    summary = tr.text.split("\n")[0]
    assert summary.startswith(f"[{tr.dropped} earlier steps left out")
    assert summary.endswith(f"go north {tr.dropped - 1}]")  # names the latest dropped actions
    assert tr.text.endswith("Observation: current obs")


def test_history_tiny_budget_keeps_current_observation() -> None:
    tr = render_history(_history(5), "now here", [], budget=1, count=approx_tokens)
    assert tr.dropped == 5
    assert tr.text.endswith("Observation: now here")


def test_history_includes_thoughts_when_given() -> None:
    hist = _history(2)
    tr = render_history(hist, "o", ["t0", None], budget=10_000, count=approx_tokens)
    assert "Thought: t0" in tr.text
    assert tr.text.count("Thought:") == 1
    assert tr.dropped == 0


def test_history_drops_in_chunks_so_the_prefix_is_stable() -> None:
    starts = []
    for n in range(40, 60):
        tr = render_history(_history(n), "now", [], budget=800, count=approx_tokens, drop_chunk=8)
        assert tr.dropped % 8 == 0 and tr.dropped > 0
        assert approx_tokens(tr.text.split("\n", 1)[1]) <= 800 + tr.text.count("\n")  # joins
        assert tr.text.count("Action:") >= 8
        starts.append(tr.text.split("\n", 1)[0])
    assert len(set(starts)) <= 4  # the first line changes once per chunk, not every step
