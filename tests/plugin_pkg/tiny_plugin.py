"""A tiny plug-in package (tests): an agent that plays the first admissible action and an env
(``tiny/Echo-v0``) registered through the ``harness.envs`` entry-point group."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from agents.base import Decision, Step
from envs.base import ADMISSIBLE_ACTIONS, INVALID_ACTION, TASK, TASK_ID, WON, TextEnv


class FirstActionAgent:
    """Plays the first admissible action (``look`` when the env lists none)."""

    def reset(self, task: str, seed: int) -> None:
        """Nothing to reset."""

    def act(self, step: Step) -> Decision:
        """The first admissible action."""
        acts = step.admissible_actions
        return Decision(acts[0] if acts else "look", thought="tiny plug-in")


def make_agent() -> FirstActionAgent:
    """Entry-point factory of the ``tiny-plugin`` agent."""
    return FirstActionAgent()


WORDS = ["apple", "pear", "plum"]


class EchoEnv(TextEnv):
    """A plug-in env: say the task's word back to win."""

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        self.word = WORDS[(seed or 0) % len(WORDS)]
        info = {TASK: f"say {self.word}", TASK_ID: f"{split}-{self.word}"}
        return f"Say {self.word}.", {**info, ADMISSIBLE_ACTIONS: WORDS}

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        won = action.strip() == self.word
        info = {WON: won, INVALID_ACTION: action.strip() not in WORDS}
        return ("Yes!" if won else "No."), float(won), won, {**info, ADMISSIBLE_ACTIONS: WORDS}


def register_envs() -> None:
    """Entry point of the ``harness.envs`` group: registers ``tiny/Echo-v0``."""
    if "tiny/Echo-v0" not in gym.registry:
        gym.register("tiny/Echo-v0", entry_point="tiny_plugin:EchoEnv", max_episode_steps=5)


register_envs()  # importing the module registers too: Gymnasium's ``tiny_plugin:tiny/Echo-v0``


class ShortestScorer:
    """A plug-in scorer (``harness.scorers``): shorter actions score higher."""

    name = "shortest"

    def score(self, states: list[Any], actions: list[list[str]]) -> list[list[float]]:
        """Minus the length of each action."""
        return [[-float(len(a)) for a in acts] for acts in actions]


def make_scorer() -> ShortestScorer:
    """Entry point of the ``harness.scorers`` group."""
    return ShortestScorer()
