"""Agents by name: built-ins, plug-ins from the ``harness.agents`` entry-point group, or
``module.path:factory`` specs. A factory is any callable returning an Agent. The reranking
agents (``react-q``, ...) are registered by the ``scoring`` package, which builds on this one."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Mapping
from typing import Any

from agents.base import Agent
from envs.registry import Registry

ENTRY_POINT_GROUP = "harness.agents"

AGENTS: Registry[Any] = Registry("agent", ENTRY_POINT_GROUP)
AGENTS.register("random", "agents.baselines:RandomAgent", "uniform over admissible actions")
AGENTS.register("expert", "agents.baselines:ExpertAgent", "the env's expert / oracle (upper bound)")
AGENTS.register("scripted", "agents.baselines:ScriptedAgent", "fixed action list (tests)")
AGENTS.register(
    "demonstrator",
    "agents.demonstrators:DemonstratorAgent",
    "the family's demonstrator for SFT (observable searcher / shop heuristic / walkthrough)",
)
AGENTS.register(
    "react", "agents.react:ReActAgent", "ReAct (Thought/Action) over an LLM policy (--policy)"
)


class UnknownOption(ValueError):
    """An option that an agent's factory does not take; the message suggests close names."""


def option_names(factory: Any) -> list[str] | None:
    """The keyword options ``factory`` takes (None: any, it has ``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [n for n, p in params.items() if p.kind in keyword]


def accepts(name: str, option: str) -> bool:
    """Whether agent ``name``'s factory takes ``option``."""
    names = option_names(AGENTS.get(name))
    return names is None or option in names


def check_options(name: str, options: Mapping[str, Any]) -> None:
    """Raise UnknownOption for an option agent ``name`` does not take (with did-you-mean)."""
    names = option_names(AGENTS.get(name))
    for key in options:
        if names is None or key in names:
            continue
        raise UnknownOption(f"agent {name!r} has no option {key!r}{_suggest(name, key, names)}")


def _suggest(name: str, key: str, names: list[str]) -> str:
    from envs.base import closest

    near = closest(key, names)
    if near:
        return f"; did you mean {near[0]!r}? (its options: {', '.join(names) or 'none'})"
    others: dict[str, list[str]] = {}
    for agent in AGENTS.entries():
        with contextlib.suppress(Exception):
            for opt in option_names(AGENTS.get(agent)) or []:
                others.setdefault(opt, []).append(agent)
    near = closest(key, list(others), n=1)
    hint = ""
    if key in others:
        hint = f"; {key!r} is an option of {', '.join(others[key])}"
    elif near:
        hint = f"; did you mean {near[0]!r} (an option of {', '.join(others[near[0]])})?"
    return f"{hint} (options of {name}: {', '.join(names) or 'none'})"


def make_agent(name: str, options: Mapping[str, Any] | None = None) -> Agent:
    """Build agent ``name`` with ``options``; one its factory does not take is UnknownOption."""
    factory = AGENTS.get(name)
    check_options(name, options or {})
    agent = factory(**dict(options or {}))
    if not callable(getattr(agent, "act", None)) or not callable(getattr(agent, "reset", None)):
        raise TypeError(
            f"agent {name!r}: factory returned {type(agent).__name__}, which lacks reset/act"
        )
    return agent
