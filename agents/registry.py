"""Agents by name: built-ins, plug-ins from the ``harness.agents`` entry-point group, or
``module.path:factory`` specs. A factory is any callable returning an Agent."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from agents.base import Agent
from harness.registry import Registry

ENTRY_POINT_GROUP = "harness.agents"

AGENTS: Registry[Any] = Registry("agent", ENTRY_POINT_GROUP)
AGENTS.register("random", "agents.baselines:RandomAgent", "uniform over admissible actions")
AGENTS.register("expert", "agents.baselines:ExpertAgent", "the env's expert / oracle (upper bound)")
AGENTS.register("scripted", "agents.baselines:ScriptedAgent", "fixed action list (tests)")
AGENTS.register(
    "react", "agents.react:ReActAgent", "ReAct (Thought/Action) over an LLM policy (--policy)"
)
AGENTS.register(
    "react-q",
    "qvalue.rerank:make_react_q",
    "k candidates from a proposer (default: ReAct) reranked by a Q model (option scorer=DIR)",
)
AGENTS.register(
    "admissible-q",
    "qvalue.rerank:make_admissible_q",
    "k admissible actions reranked by a Q model (default: the bundled KeyChest MiniLM)",
)
AGENTS.register(
    "react-rubric",
    "qvalue.rubric_agent:make_react_rubric",
    "ReAct proposer + rubric scorer (template checks, or generator/judge models), argmax",
)
AGENTS.register(
    "react-q-rubric",
    "qvalue.rubric_agent:make_react_q_rubric",
    "ReAct proposer + Q scorer + rubric scorer, z-normalised weighted sum, argmax",
)

# Agents of the default suite (python -m harness.run with no arguments), in order.
DEFAULT_AGENTS: tuple[str, ...] = ("random", "expert", "react", "admissible-q")
# In the default suite these agents run only on these envs (time budget: the embedded LLM
# takes 1-4 s a step on 2 cores, ~80 s a WebShop episode; the bundled Q model was trained on
# KeyChest only).
SUITE_AGENT_ENVS: dict[str, tuple[str, ...]] = {
    "react": ("harness/KeyChest-v0", "harness/HotPotQASynth-v1"),
    "admissible-q": ("harness/KeyChest-v0",),
}
SUITE_MAX_STEPS = 20


def accepted_kwargs(factory: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of ``options`` that ``factory`` accepts (all, if it takes ``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return dict(options)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(options)
    return {k: v for k, v in options.items() if k in params}


def make_agent(name: str, options: Mapping[str, Any] | None = None) -> Agent:
    """Build agent ``name`` with the options its factory accepts."""
    factory = AGENTS.get(name)
    agent = factory(**accepted_kwargs(factory, options or {}))
    if not callable(getattr(agent, "act", None)) or not callable(getattr(agent, "reset", None)):
        raise TypeError(
            f"agent {name!r}: factory returned {type(agent).__name__}, which lacks reset/act"
        )
    return agent
