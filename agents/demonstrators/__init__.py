"""Demonstrators: scripted agents whose transcripts teach the ReAct policy (SFT).

One per env family. A policy cloned from a privileged expert cannot know what that expert
knew (ALFWorld's planner walks straight to a hidden object), so where the env's expert sees
hidden state the demonstrator is a searcher that acts only on what the agent observes; where
the expert's choice can be read off the observations it is used, and every demonstration is
still checked action by action (``agents.demos``: each action must be one the policy can
produce under its grammar, and the episode must be won).

| family | demonstrator | privileged? |
|---|---|---|
| alfworld | ``ALFWorldSearcher``: visits and opens receptacles until the target is seen | no |
| webshop | ``WebShopShopper``: searches, opens the best-matching result, names options | no |
| textworld | the walkthrough: TextWorld-Simple's objective spells out every step | no (Simple) |
| hotpotqa | the oracle's searches and lookups; its answer must have been shown | lookups |
| keychest | the env's expert (a toy) | yes |
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.base import Agent, Decision, Step
from agents.baselines import ExpertAgent


@dataclass(frozen=True)
class DemonstratorSpec:
    """How a family is demonstrated: the factory, whether it reads the env's expert, a note."""

    factory: str
    wants_expert: bool
    note: str


DEMONSTRATORS: dict[str, DemonstratorSpec] = {
    "alfworld": DemonstratorSpec(
        "agents.demonstrators.alfworld:ALFWorldSearcher",
        False,
        "scripted searcher on observations (no planner)",
    ),
    "webshop": DemonstratorSpec(
        "agents.demonstrators.webshop:WebShopShopper",
        False,
        "shop heuristic on the pages (no target product)",
    ),
    "textworld": DemonstratorSpec(
        "agents.demonstrators:NarratedExpert",
        True,
        "walkthrough; the Simple objective lists each step",
    ),
    "hotpotqa": DemonstratorSpec(
        "agents.demonstrators:NarratedExpert", True, "oracle searches/lookups; answer must be shown"
    ),
    "keychest": DemonstratorSpec("agents.demonstrators:NarratedExpert", True, "the toy's expert"),
}


def demonstrator_for(family: str) -> Agent:
    """A new demonstrator of ``family``; KeyError names the families that have one."""
    if family not in DEMONSTRATORS:
        raise KeyError(
            f"no demonstrator for family {family!r}; families: {', '.join(sorted(DEMONSTRATORS))}"
        )
    module, _, name = DEMONSTRATORS[family].factory.partition(":")
    import importlib

    agent: Agent = getattr(importlib.import_module(module), name)()
    return agent


_SAY = (
    (re.compile(r"^search\[(.+)\]$"), "I search {0} to read about it"),
    (re.compile(r"^lookup\[(.+)\]$"), "I look up {0} on this page"),
    (re.compile(r"^finish\[(.+)\]$"), "What I read gives the answer {0}"),
    (re.compile(r"^go (\w+)$"), "The task says to go {0} next"),
    (re.compile(r"^(.+)$"), "The task says to {0} next"),
)


class NarratedExpert(ExpertAgent):
    """The env's expert with a short thought that restates its action's sub-goal (the
    expert's own thought is just ``expert``)."""

    def act(self, step: Step) -> Decision:
        """The expert's action and a one-sentence thought about it."""
        d = super().act(step)
        for pattern, say in _SAY:
            m = pattern.match(d.action)
            if m:
                return Decision(d.action, say.format(*m.groups()))
        return d


class DemonstratorAgent:
    """The family's demonstrator as a harness agent (``--agents demonstrator``).

    ``family``: which demonstrator to play; empty: the env's family, looked up at the first
    step (then the env's expert is requested for every family, which slows ALFWorld's
    planner-backed envs; name the family to avoid it)."""

    def __init__(self, family: str = "") -> None:
        self.family = family
        self._agent: Agent | None = demonstrator_for(family) if family else None
        self.wants_expert = DEMONSTRATORS[family].wants_expert if family else True
        self._task, self._seed = "", 0

    def reset(self, task: str, seed: int) -> None:
        """Start an episode."""
        self._task, self._seed = task, seed
        if self._agent is not None:
            self._agent.reset(task, seed)
        if not self.family:
            self._agent = None

    def act(self, step: Step) -> Decision:
        """The demonstrator's decision."""
        if self._agent is None:
            from envs.registration import env_family

            self._agent = demonstrator_for(env_family(step.env_id))
            self._agent.reset(self._task, self._seed)
        return self._agent.act(step)


__all__ = ["DEMONSTRATORS", "DemonstratorAgent", "DemonstratorSpec", "NarratedExpert"]
