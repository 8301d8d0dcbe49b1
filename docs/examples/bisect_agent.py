"""A plug-in agent: bisects the guess env's range using its "higher"/"lower" hints."""

from __future__ import annotations

from agents.base import Decision, Step


class BisectAgent:
    """Guesses the middle of what is still possible."""

    def reset(self, task: str, seed: int) -> None:
        """New episode: everything from 1 to 9 is possible."""
        self.low, self.high, self.last = 1, 9, 0

    def act(self, step: Step) -> Decision:
        """Narrow the range by the last hint, then guess its middle."""
        if step.observation.startswith("Higher"):
            self.low = self.last + 1
        elif step.observation.startswith("Lower"):
            self.high = self.last - 1
        self.last = (self.low + self.high) // 2
        return Decision(f"guess {self.last}", thought=f"between {self.low} and {self.high}")


def make_agent() -> BisectAgent:
    """The factory the harness calls (``--agents bisect_agent:make_agent``)."""
    return BisectAgent()
