"""The agent contract: what an agent sees (Step), what it returns (Decision), and the protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from envs.base import ADMISSIBLE_ACTIONS, TASK


@dataclass(frozen=True)
class Turn:
    """One past step: the observation the agent saw and the action it took."""

    observation: str
    action: str


@dataclass(frozen=True)
class Step:
    """What an agent sees at step ``t``: the current observation, the env info and the history."""

    t: int
    observation: str
    info: Mapping[str, Any]
    history: tuple[Turn, ...] = ()
    env_id: str = ""

    @property
    def task(self) -> str:
        """The episode's instruction / goal text."""
        return str(self.info.get(TASK, ""))

    @property
    def admissible_actions(self) -> list[str]:
        """Actions the env lists as possible now (empty for free-text envs)."""
        return list(self.info.get(ADMISSIBLE_ACTIONS) or [])


@dataclass(frozen=True)
class Candidate:
    """A candidate action of a reranking agent with the policy's logprob and each scorer's score.

    ``details`` holds explanations, e.g. a rubric criterion's verdicts.
    """

    action: str
    logprob: float | None = None
    scores: Mapping[str, float] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Decision:
    """An agent's choice and its cost; reranking agents add every candidate with its scores."""

    action: str
    thought: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    candidates: tuple[Candidate, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Agent(Protocol):
    """An agent: reset with the episode's task and seed, then act on each step."""

    def reset(self, task: str, seed: int) -> None:
        """Start a new episode."""

    def act(self, step: Step) -> Decision:
        """Choose the next action."""
        ...


def wants_expert(agent: object) -> bool:
    """Whether an agent asks the env for ``info['expert_action']`` (attribute ``wants_expert``)."""
    return bool(getattr(agent, "wants_expert", False))
