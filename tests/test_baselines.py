"""Baseline agents: template filling and determinism of the random agent."""

from __future__ import annotations

from agents.base import Step
from agents.baselines import RandomAgent, fill_template
from envs.base import ADMISSIBLE_ACTIONS, TASK


def test_fill_template_uses_task_text() -> None:
    assert fill_template("search[<query>]", " red shoes ") == "search[red shoes]"
    assert fill_template("click[Buy Now]", "x") == "click[Buy Now]"


def test_random_agent_fills_templates_and_is_seeded() -> None:
    info = {ADMISSIBLE_ACTIONS: ["search[<query>]"], TASK: "i need a lamp"}
    agent = RandomAgent()
    agent.reset("i need a lamp", seed=1)
    assert agent.act(Step(0, "page", info)).action == "search[i need a lamp]"
    many = {ADMISSIBLE_ACTIONS: [f"a{i}" for i in range(50)], TASK: "t"}
    runs = []
    for _ in range(2):
        agent.reset("t", seed=7)
        runs.append([agent.act(Step(t, "o", many)).action for t in range(10)])
    assert runs[0] == runs[1] and len(set(runs[0])) > 1
