"""Plug-in points of value guidance: a Proposer suggests candidate actions, a Scorer ranks them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from agents.base import Candidate, Step, Turn


@dataclass(frozen=True)
class State:
    """What a scorer sees of a decision point: task, past turns, current observation."""

    task: str
    history: tuple[Turn, ...]
    observation: str
    env_id: str = ""

    @classmethod
    def from_step(cls, step: Step) -> State:
        """The state of an agent step."""
        return cls(step.task, step.history, step.observation, step.env_id)


@runtime_checkable
class Proposer(Protocol):
    """Suggests up to ``k`` distinct candidate actions for a step, with logprobs where known."""

    def propose(self, step: Step, k: int) -> list[Candidate]:
        """Candidate actions for ``step``."""
        ...


@runtime_checkable
class Scorer(Protocol):
    """Scores candidate actions; batched over states (one list of actions per state)."""

    name: str

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """``result[i][j]`` scores ``actions[i][j]`` in ``states[i]`` (higher is better)."""
        ...
