"""Versioned result records: one per episode, one per step of its trajectory."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class StepRecord:
    """One step of a trajectory: what the agent saw, thought and did, and what it cost."""

    t: int
    observation: str
    action: str
    reward: float
    thought: str | None = None
    invalid_action: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    candidates: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class EpisodeRecord:
    """The outcome of one episode (env x agent x seed). ``error`` is empty when it ran cleanly."""

    env_id: str
    agent: str
    seed: int
    task_id: str
    split: str
    success: bool
    total_reward: float
    steps: int
    invalid_actions: int
    input_tokens: int
    output_tokens: int
    wall_s: float
    error: str = ""
    truncated: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def key(self) -> str:
        """Identity of the episode within a run."""
        return episode_key(self.env_id, self.agent, self.seed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodeRecord:
        """Inverse of ``to_dict``; unknown keys (newer schema) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def episode_key(env_id: str, agent: str, seed: int) -> str:
    """The identity of an episode: env, agent and seed."""
    return f"{env_id}|{agent}|{seed}"
