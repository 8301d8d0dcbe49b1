"""Note makers: one line that sums up what the agent has observed so far in an episode.

A prompt file names one (``notes = "alfworld"``); the ``react`` agent then shows its line just
before the current observation, so the summary survives when old steps fall out of the history
window. A note maker sees only the task, the transcript and the current observation (never the
env's hidden state), so a note says nothing the agent could not have read itself.

- ``alfworld``: the goal again (a 135M policy reads what is near the end of its prompt best),
  what the agent holds, which receptacles it has searched and what each showed, and the
  room's receptacles it has not searched yet (in the order the room listed them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agents.base import Turn

NoteMaker = Callable[[str, Sequence[Turn], str], str]
"""``(task, history, observation) -> note`` (empty when there is nothing to say)."""


def alfworld_note(task: str, history: Sequence[Turn], observation: str) -> str:
    """The goal, holding, searched receptacles with what they showed, those not searched yet."""
    from agents.demonstrators.alfworld import goal_text, replay

    mem = replay(history, observation)
    goal = goal_text(task)
    parts = [f"goal: {goal}"] if goal else []
    if mem.holding:
        parts.append(f"holding {mem.holding}")
    searched = [f"{r} ({', '.join(items) or 'nothing'})" for r, items in mem.contents.items()]
    if searched:
        parts.append("searched: " + "; ".join(searched))
    rest = [r for r in mem.receptacles if r not in mem.contents]
    if rest:
        parts.append("not searched: " + ", ".join(rest))
    return "Notes: " + ". ".join(parts) + "." if parts else ""


NOTE_MAKERS: dict[str, NoteMaker] = {"alfworld": alfworld_note}
"""Note makers by the name a prompt file gives."""
