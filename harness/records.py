"""Versioned result records: one per episode, one per step of its trajectory.

Schema history of ``EpisodeRecord`` (``schema_version``): 1, the first; 2 adds
``harness_version`` (the qharness that wrote the line); 3 adds ``task_type`` (the env's
``info["task_type"]`` at reset, e.g. HotPotQA's question type; empty where the env has none).
``parse_record`` migrates older versions and refuses newer ones.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 3


class NewerSchema(ValueError):
    """A record written by a newer harness than this one (its schema cannot be read here)."""


class BadRecord(ValueError):
    """A record line that is not a valid episode record."""


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
    harness_version: str = ""
    task_type: str = ""
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


_TYPES: dict[str, type | tuple[type, ...]] = {
    "env_id": str,
    "agent": str,
    "seed": int,
    "task_id": str,
    "split": str,
    "success": bool,
    "total_reward": (int, float),
    "steps": int,
    "invalid_actions": int,
    "input_tokens": int,
    "output_tokens": int,
    "wall_s": (int, float),
    "error": str,
    "truncated": bool,
    "metrics": dict,
    "harness_version": str,
    "task_type": str,
}
_OPTIONAL = {  # fields with a default may be absent from a line
    f.name
    for f in dataclasses.fields(EpisodeRecord)
    if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
}


def _migrate_1(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 -> 2: the writer's version was not recorded."""
    return {**data, "harness_version": "", "schema_version": 2}


def _migrate_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 -> 3: the task type was not recorded."""
    return {**data, "task_type": "", "schema_version": 3}


MIGRATIONS = {1: _migrate_1, 2: _migrate_2}
"""``MIGRATIONS[v]`` turns a version-``v`` record into a version ``v + 1`` one."""


def parse_record(data: Any) -> EpisodeRecord:
    """An EpisodeRecord from a decoded JSON line, migrated to ``SCHEMA_VERSION``.

    Raises NewerSchema for a version above ours, BadRecord for anything else unreadable."""
    if not isinstance(data, dict):
        raise BadRecord(f"not a JSON object but {type(data).__name__}")
    version = data.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BadRecord(f"schema_version {version!r} is not a version number")
    if version > SCHEMA_VERSION:
        writer = data.get("harness_version") or "unknown"
        raise NewerSchema(
            f"schema_version {version} (written by qharness {writer}) is newer than this "
            f"qharness reads ({SCHEMA_VERSION})"
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version = data["schema_version"]
    for name, kind in _TYPES.items():
        if name not in data:
            if name in _OPTIONAL:
                continue
            raise BadRecord(f"field {name!r} is missing")
        value = data[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise BadRecord(f"field {name!r} has the wrong type ({type(value).__name__})")
    return EpisodeRecord.from_dict(data)


def episode_key(env_id: str, agent: str, seed: int) -> str:
    """The identity of an episode: env, agent and seed."""
    return f"{env_id}|{agent}|{seed}"


def latest_per_episode(records: list[EpisodeRecord]) -> list[EpisodeRecord]:
    """The last record of each episode (a re-run error replaced by its retry), in first-seen
    order."""
    return list({r.key: r for r in records}.values())
