"""A tiny plug-in agent (test package): always the first admissible action."""

from __future__ import annotations

from agents.base import Decision, Step


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
