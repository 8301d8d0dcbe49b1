"""The candidate pool of a reranking agent (``react-q`` and its controls ``react-rank`` and
``finish-first``, which share it so that they stay paired).

From a proposer's candidates, best first: one per action after ``react_text.normalize`` (the
first kept); the action that left the observation unchanged last step left out unless
nothing else is; the policy's greedy action always in (if it fell outside the first ``k``,
it takes the last place), except where it is that unchanged-observation action and another
candidate exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from agents.base import Candidate, Step
from agents.react_text import normalize

GREEDY = "greedy"  # details key marking the policy's greedy action in a pool


def stuck_action(step: Step) -> str | None:
    """The previous action, normalised, when it left the observation unchanged; else None."""
    if not step.history:
        return None
    last = step.history[-1]
    same = " ".join(last.observation.split()) == " ".join(step.observation.split())
    return normalize(last.action) if same else None


def unique(cands: Sequence[Candidate]) -> list[Candidate]:
    """One candidate per normalised action (the first of each), in order."""
    seen: set[str] = set()
    out = []
    for c in cands:
        key = normalize(c.action)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def candidate_pool(
    ranked: Sequence[Candidate],
    step: Step,
    k: int | None = None,
    greedy: Candidate | None = None,
) -> list[Candidate]:
    """Up to ``k`` (None: all) of ``ranked`` under this module's rules; the greedy action
    (``ranked``'s own candidate for it when there is one, else ``greedy``) is marked
    ``details["greedy"]``."""
    cands = unique([*ranked, greedy] if greedy is not None else ranked)
    if greedy is not None:
        key = normalize(greedy.action)
        cands = [_marked(c) if normalize(c.action) == key else c for c in cands]
    stuck = stuck_action(step)
    cands = [c for c in cands if normalize(c.action) != stuck] or cands
    if k is None or len(cands) <= k:
        return cands
    late = next((c for c in cands[k:] if c.details.get(GREEDY)), None)
    return cands[:k] if late is None else [*cands[: k - 1], late]


def _marked(c: Candidate) -> Candidate:
    return replace(c, details={**dict(c.details), GREEDY: True})
