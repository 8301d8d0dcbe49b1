"""Baseline scorers for the controls of a Q-guidance comparison (same proposer, same k
candidates as ``react-q``, no model):

- ``proposer-order``: every candidate scores 0, so the reranking agent's first-on-ties argmax
  takes the proposer's own top candidate (ReAct's: most frequent sampled action, then the
  highest log-probability). What the Q model adds is what ``react-q`` gains over this.
- ``finish-first``: a terminal candidate (``finish[...]``, ``click[Buy Now]``) scores 1, any
  other 0: the agent stops as soon as its proposer offers to, else takes the proposer's top.
  A gain from merely stopping early is not credited to Q when ``react-q`` is compared with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scoring.base import State

TERMINAL_PREFIXES = ("finish[",)
TERMINAL_ACTIONS = ("click[buy now]",)


def is_terminal(action: str) -> bool:
    """Whether ``action`` ends an episode by answering or buying (case and spaces ignored)."""
    a = re.sub(r"\s*([\[\]])\s*", r"\1", " ".join(action.lower().split()))
    return a.startswith(TERMINAL_PREFIXES) or a in TERMINAL_ACTIONS


class ProposerOrder:
    """Scores every candidate 0: the reranking agent keeps the proposer's order."""

    name = "proposer-order"

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """Zeros, one per candidate."""
        return [[0.0] * len(acts) for acts in actions]


class FinishFirst:
    """Scores terminal candidates 1 and the rest 0."""

    name = "finish-first"

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """1.0 for ``finish[...]`` / ``click[Buy Now]``, else 0.0."""
        return [[float(is_terminal(a)) for a in acts] for acts in actions]
