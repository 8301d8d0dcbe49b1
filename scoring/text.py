"""How a decision state is written as text for Q models (one format for training and scoring)."""

from __future__ import annotations

from collections.abc import Sequence

from agents.base import Turn
from scoring.base import State

DEFAULT_MAX_TURNS = 4
MAX_FIELD_CHARS = 2000


def _clip(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else "..." + text[-limit:]


def state_text(state: State, max_turns: int = DEFAULT_MAX_TURNS) -> str:
    """Task, the last ``max_turns`` turns and the current observation (older turns dropped)."""
    lines = [f"Task: {_clip(state.task)}"]
    turns = state.history[-max_turns:] if max_turns > 0 else ()
    for turn in turns:
        lines.append(f"Observation: {_clip(turn.observation)}")
        lines.append(f"Action: {_clip(turn.action)}")
    lines.append(f"Observation: {_clip(state.observation)}")
    return "\n".join(lines)


def lm_prompt(state: State, max_turns: int = DEFAULT_MAX_TURNS) -> str:
    """The causal-LM prompt of a state; the action follows as ``" " + action``."""
    return state_text(state, max_turns) + "\nAction:"


def lm_completion(action: str) -> str:
    """The completion text of an action for the causal LM."""
    return " " + " ".join(action.split())


def state_from_record(task: str, history: Sequence[Sequence[str]], observation: str) -> State:
    """A State from JSON fields: task, ``[[observation, action], ...]`` and observation."""
    return State(task, tuple(Turn(str(o), str(a)) for o, a in history), observation)
