"""The fidelity measurements: ReAct's fuzzy reward and strict action parser, and re-scoring
recorded trajectories by question type and pages read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envs.hotpotqa.data import QATask
from envs.hotpotqa.env import HotPotQASynthEnv
from envs.hotpotqa.fidelity import oracle_actions, react_accepts, react_reward, recorded

pytest.importorskip("rapidfuzz")
pytest.importorskip("bm25s")


def test_react_reward_is_fuzzy_where_exact_match_is_not() -> None:
    assert react_reward("The Krecund", "krecund") == 1
    assert react_reward("Krecunt", "Krecund") == 1  # one letter off: ReAct rewards it
    assert react_reward("Paris", "Nile") == 0
    assert react_reward("", "yes") == 0


@pytest.mark.parametrize(
    ("action", "ok"),
    [
        ("search[X]", True),
        ("Search[X]", True),  # the notebook lower-cases the first letter
        ("  finish[yes] ", True),
        ("search[X", False),
        ("Action 1: search[X]", False),
        ("SEARCH[X]", False),
        ("go north", False),
    ],
)
def test_react_accepts(action: str, ok: bool) -> None:
    assert react_accepts(action) == ok


def _write(path: Path, steps: list[tuple[str, str]]) -> Path:
    rows = [{"observation": o, "action": a} for o, a in steps]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_recorded_counts_wins_by_type_and_pages(tmp_path: Path) -> None:
    tasks = [
        QATask("test-0", "Are A and B of the same nationality?", "no", "comparison"),
        QATask("test-1", "Where was the director of F born?", "Vezoul", "bridge"),
    ]
    guess = _write(
        tmp_path / "a.jsonl",
        [
            ("Question: Are A and B of the same nationality?", "search[A]"),
            ("A is a Foo painter.", "finish[No]"),
            ("Episode finished, reward = 1", ""),
        ],
    )
    read = _write(
        tmp_path / "b.jsonl",
        [
            ("Question: Where was the director of F born?", "search[F]"),
            ("Could not find F. Similar: [].", "finish[Vezoux]"),
            ("Episode finished, reward = 0", ""),
        ],
    )
    c = recorded([guess, read], tasks)
    assert c["episodes"] == 2 and c["finished"] == 2 and c["em"] == 1
    assert c["em comparison-yesno"] == 1 and c["em yes/no, under 2 pages open"] == 1
    assert c["fuzzy_differs"] == 1  # "Vezoux" vs "Vezoul": fuzzy 1, exact match 0


def test_oracle_needs_at_most_react_budget_on_a_few_questions() -> None:
    env = HotPotQASynthEnv(n_questions=30)
    steps = oracle_actions(env)
    assert len(steps) == 30 and all(2 <= n <= 7 for n, _ in steps)
    assert any(ok for _, ok in steps)
