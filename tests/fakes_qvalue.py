"""Fakes for the qvalue unit tests only: a scripted env with known Q values, table scorers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envs.base import ADMISSIBLE_ACTIONS, TASK, TASK_ID, WON, TextEnv
from scoring.base import State
from scoring.proposers import AdmissibleProposer
from scoring.rerank import QRerankAgent

# state -> action -> (next state, reward, terminal)
CHAIN: dict[str, dict[str, tuple[str, float, bool]]] = {
    "start": {"win": ("end", 1.0, True), "lose": ("end", 0.0, True), "deeper": ("mid", 0.0, False)},
    "mid": {"half": ("end", 0.5, True)},
    "end": {},
}


class FakeChainEnv(TextEnv):
    """Fake env with a known tree: from ``start``, ``win`` pays 1, ``lose`` 0, and ``deeper``
    leads to ``mid`` where ``half`` pays 0.5. Q(start, .) = 1, 0, 0.5 (times gamma for deeper)."""

    def __init__(self, table: Mapping[str, Mapping[str, tuple[str, float, bool]]] = CHAIN) -> None:
        super().__init__()
        self.table = table
        self.state = "start"

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        self.state = "start"
        info = {TASK: "reach the end rich", TASK_ID: f"{split}-{seed}"}
        return "at start", {**info, ADMISSIBLE_ACTIONS: list(self.table["start"]), WON: False}

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        moves = self.table[self.state]
        if action not in moves:
            info = {ADMISSIBLE_ACTIONS: list(moves), "invalid_action": True}
            return "nothing happens", 0.0, False, info
        self.state, reward, done = moves[action]
        info = {ADMISSIBLE_ACTIONS: list(self.table[self.state]), WON: done and reward >= 1.0}
        return f"at {self.state}", reward, done, info


class FakeTableScorer:
    """Fake scorer: a fixed score per action word (unknown actions score ``default``)."""

    def __init__(self, table: Mapping[str, float], name: str = "fake", default: float = 0.0):
        self.table, self.name, self.default = dict(table), name, default
        self.calls = 0
        self.env_ids: set[str] = set()

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """Table lookups, one call per batch."""
        self.calls += 1
        self.env_ids.update(s.env_id for s in states)
        return [[self.table.get(a, self.default) for a in acts] for acts in actions]


KEYCHEST_PREFS = {
    "take coin": 5.0,
    "open chest": 4.0,
    "unlock chest with key": 3.0,
    "take key": 2.0,
    "look": -1.0,
    "inventory": -1.0,
}


def make_fake_q_agent(k: int = 8, reverse: bool = False) -> QRerankAgent:
    """Fake-scorer reranking agent for KeyChest (``reverse`` flips the preferences)."""
    sign = -1.0 if reverse else 1.0
    table = {a: sign * v for a, v in KEYCHEST_PREFS.items()}
    return QRerankAgent(AdmissibleProposer(), FakeTableScorer(table, "fake"), k=k)


class FakeProposingAgent:
    """Fake LLM-policy agent exposing ``propose`` (the ReAct agent's integration surface):
    candidates carry token counts and a thought in ``details``."""

    def __init__(self, policy: str = "") -> None:
        self.policy = policy
        self.resets: list[int] = []

    def reset(self, task: str, seed: int) -> None:
        self.resets.append(seed)

    def propose(self, step: Any, k: int) -> list[Any]:
        from agents.base import Candidate

        acts = list(step.admissible_actions)[:k]
        details = {"input_tokens": 10, "output_tokens": 2, "thought": "think"}
        return [Candidate(a, logprob=-1.0 - i, details=details) for i, a in enumerate(acts)]

    def act(self, step: Any) -> Any:
        from agents.base import Decision

        return Decision(self.propose(step, 1)[0].action)
