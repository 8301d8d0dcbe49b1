"""Fakes for unit tests only: scripted envs that raise or hang, and a hanging agent."""

from __future__ import annotations

import time
from typing import Any

from agents.base import Decision, Step
from envs.base import ADMISSIBLE_ACTIONS, TASK, TASK_ID, WON, TextEnv


class FakeCountEnv(TextEnv):
    """Fake env: say "next" ``n`` times to win; ``raise_at``/``hang_at`` inject failures."""

    def __init__(self, n: int = 3, raise_at: int = -1, hang_at: int = -1) -> None:
        super().__init__()
        self.n, self.raise_at, self.hang_at = n, raise_at, hang_at
        self.count = 0

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        self.count = 0
        info = {TASK: f"say next {self.n} times", TASK_ID: f"{split}-{seed}"}
        return "count: 0", {**info, ADMISSIBLE_ACTIONS: ["next", "wait"], WON: False}

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        if self.count == self.raise_at:
            raise RuntimeError("fake env failure")
        if self.count == self.hang_at:
            time.sleep(3600)
        invalid = action not in ("next", "wait")
        self.count += action == "next"
        won = self.count >= self.n
        info = {ADMISSIBLE_ACTIONS: ["next", "wait"], WON: won, "invalid_action": invalid}
        return f"count: {self.count}", float(won), won, info

    def expert_action(self) -> str | None:
        return "next"


class FakeHangingAgent:
    """Fake agent whose ``act`` never returns in time."""

    def reset(self, task: str, seed: int) -> None:
        pass

    def act(self, step: Step) -> Decision:
        time.sleep(3600)
        return Decision("next")
