"""Built-in baseline agents: random over admissible actions, the env's expert, a scripted list."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from agents.base import Decision, Step
from envs.base import EXPERT_ACTION

TEMPLATE = re.compile(r"<[a-z_ ]+>")


def fill_template(action: str, task: str) -> str:
    """Fill an admissible-action template such as ``search[<query>]`` with the task text."""
    return TEMPLATE.sub(lambda _: task.strip(), action)


class RandomAgent:
    """Uniform over the admissible actions (or ``fallback`` when the env lists none).

    Templates among them (``search[<query>]``) are filled with the task text. Each
    ``sample_seed`` gives an independent stream for the same episode seed (0: the default).
    """

    def __init__(self, fallback: str = "look", sample_seed: int = 0) -> None:
        self.fallback = fallback
        self.sample_seed = int(sample_seed)
        self._rng = np.random.default_rng(0)

    def reset(self, task: str, seed: int) -> None:
        """Seed the agent's own generator from the episode seed (and ``sample_seed``)."""
        extra = [self.sample_seed] if self.sample_seed else []
        self._rng = np.random.default_rng([seed, 0x5EED, *extra])

    def act(self, step: Step) -> Decision:
        """A uniformly drawn admissible action."""
        acts = step.admissible_actions
        if not acts:
            return Decision(self.fallback)
        return Decision(fill_template(acts[int(self._rng.integers(len(acts)))], step.task))


class ExpertAgent:
    """Plays the env's expert action (walkthrough, planner, oracle): the upper bound row."""

    wants_expert = True

    def __init__(self, fallback: str = "look") -> None:
        self.fallback = fallback

    def reset(self, task: str, seed: int) -> None:
        """Nothing to reset."""

    def act(self, step: Step) -> Decision:
        """The expert action from ``info``; ``fallback`` if the env offers none."""
        action = step.info.get(EXPERT_ACTION)
        return Decision(str(action) if action else self.fallback, thought="expert")


class ScriptedAgent:
    """Plays a fixed list of actions, then repeats the last (for tests)."""

    def __init__(self, actions: Sequence[str] = ("look",)) -> None:
        if not actions:
            raise ValueError("ScriptedAgent needs at least one action")
        self.actions = list(actions)

    def reset(self, task: str, seed: int) -> None:
        """Nothing to reset."""

    def act(self, step: Step) -> Decision:
        """The ``t``-th scripted action."""
        return Decision(self.actions[min(step.t, len(self.actions) - 1)])
