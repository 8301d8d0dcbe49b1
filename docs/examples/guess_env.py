"""A plug-in env: guess a number from 1 to 9 in at most four tries ("higher"/"lower" hints).

Importing this module registers ``guess/Number-v0`` with Gymnasium, so the harness can run it
as ``--envs guess_env:guess/Number-v0`` (Gymnasium's own ``module:id`` form) or through the
``harness.envs`` entry-point group.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from envs.base import ADMISSIBLE_ACTIONS, TASK, TASK_ID, WON, TextEnv

OFFSETS = {"train": 0, "valid": 1000, "test": 2000}  # disjoint seed ranges per split


class GuessNumberEnv(TextEnv):
    """Say ``guess N``; the reply says higher or lower; reward 1 for the right number."""

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        index = seed if seed is not None else int(self.np_random.integers(1000))
        self.secret = 1 + (OFFSETS[split] + index) * 7 % 9
        task = "Guess the number from 1 to 9: say 'guess N'."
        info = {TASK: task, TASK_ID: f"{split}-{index}", ADMISSIBLE_ACTIONS: self._actions_now()}
        return task, info

    def _actions_now(self) -> list[str]:
        return [f"guess {n}" for n in range(1, 10)]

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        words = action.strip().lower().split()
        if len(words) != 2 or words[0] != "guess" or not words[1].isdigit():
            info = {"invalid_action": True, ADMISSIBLE_ACTIONS: self._actions_now()}
            return "Say 'guess N' with N from 1 to 9.", 0.0, False, info
        n = int(words[1])
        won = n == self.secret
        reply = "Right!" if won else ("Higher." if n < self.secret else "Lower.")
        return reply, float(won), won, {WON: won, ADMISSIBLE_ACTIONS: self._actions_now()}


if "guess/Number-v0" not in gym.registry:
    gym.register("guess/Number-v0", entry_point=GuessNumberEnv, max_episode_steps=4)
