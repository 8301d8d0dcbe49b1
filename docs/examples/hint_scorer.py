"""A plug-in scorer: ranks the guess env's candidate guesses by the hints seen so far."""

from __future__ import annotations

from collections.abc import Sequence

from scoring.base import State


class HintScorer:
    """Scores ``guess N`` by how close N is to the middle of the range the hints leave open."""

    name = "hint"

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """One list of scores per state, higher is better (batched, as the protocol asks)."""
        return [[self._one(s, a) for a in acts] for s, acts in zip(states, actions, strict=True)]

    def _one(self, state: State, action: str) -> float:
        low, high = 1, 9
        # each past turn: the observation the agent saw, then the action it took
        replies = [t.observation for t in state.history[1:]] + [state.observation]
        for turn, reply in zip(state.history, replies, strict=False):
            n = int(turn.action.split()[-1])
            if reply.startswith("Higher"):
                low = max(low, n + 1)
            elif reply.startswith("Lower"):
                high = min(high, n - 1)
        n = int(action.split()[-1])
        return -abs(n - (low + high) / 2) if low <= n <= high else -100.0


def make_scorer() -> HintScorer:
    """The factory the harness calls (``scorer=hint_scorer:make_scorer``)."""
    return HintScorer()
