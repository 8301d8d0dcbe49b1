"""How a decision state is written as text for Q models (one format for training and scoring).

State format 2 (``STATE_FORMAT``): the ``Task:`` line, the last ``max_turns`` turns
(``Observation:`` / ``Action:`` lines) and the current observation, fitted to the model's
token budget by ``fit_state``. The task line is never cut; what does not fit is removed from
the oldest turns first (whole turns), then from the middle of the current observation (its
start and end kept, the cut marked ``" ... "``). Both Q kinds fit with their own tokenizer
(``scoring.q.encoder.fit_text``, ``scoring.q.lm.fit_prompt``), in training and in scoring.

State format 1 (``LEGACY_FORMAT``, models trained before format 2; their cards carry no
``state_format``): the same lines unfitted, which the model's tokenizer then cut from the
left, so a long state lost its task first. Kept only so such models score as they were
trained.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from agents.base import Turn
from scoring.base import State

DEFAULT_MAX_TURNS = 4
MAX_FIELD_CHARS = 2000
STATE_FORMAT = 2
LEGACY_FORMAT = 1
CUT = " ... "
LM_SUFFIX = "\nAction:"


def _flat(text: str) -> str:
    return " ".join(str(text).split())


def clip_middle(text: str, keep: int) -> str:
    """``text`` with its middle replaced by ``" ... "``, ``keep`` characters of it left (the
    first half from its start, the rest from its end); unchanged when it is short enough."""
    if len(text) <= keep:
        return text
    keep = max(keep, 0)
    head = (keep + 1) // 2
    end = text[len(text) - (keep - head) :] if keep > head else ""
    return (text[:head].rstrip() + CUT + end.lstrip()).strip()


def _field(text: str) -> str:
    return clip_middle(_flat(text), MAX_FIELD_CHARS)


def task_line(task: str) -> str:
    """The first line of every state text (never cut)."""
    return f"Task: {_flat(task)}"


def _render(task: str, turns: Sequence[tuple[str, str]], observation: str) -> str:
    lines = [task]
    for obs, action in turns:
        lines += [f"Observation: {obs}", f"Action: {action}"]
    lines.append(f"Observation: {observation}")
    return "\n".join(lines)


def _recent(state: State, max_turns: int) -> list[tuple[str, str]]:
    turns = state.history[-max_turns:] if max_turns > 0 else ()
    return [(_field(t.observation), _field(t.action)) for t in turns]


def state_text(state: State, max_turns: int = DEFAULT_MAX_TURNS) -> str:
    """Task, the last ``max_turns`` turns and the current observation, not fitted to a budget
    (each field over ``MAX_FIELD_CHARS`` characters cut in its middle)."""
    return _render(task_line(state.task), _recent(state, max_turns), _field(state.observation))


def fit_state(state: State, max_turns: int, count: Callable[[str], int], budget: int) -> str:
    """The state text, at most ``budget`` by ``count`` (the tokens a model input built from a
    state text takes): older turns dropped first, then the current observation cut in its
    middle. The task line is never cut: when it leaves no room, the text is the task and an
    observation reduced to ``...``, over ``budget`` (the caller's model then reads more than
    its ``max_length`` rather than lose the task)."""
    task, obs = task_line(state.task), _field(state.observation)
    turns = _recent(state, max_turns)
    while True:
        text = _render(task, turns, obs)
        if count(text) <= budget:
            return text
        if not turns:
            break
        turns = turns[1:]
    lo, hi = 0, len(obs) - 1  # the longest kept part that fits: lo fits (or is 0), hi+1 not
    if count(_render(task, [], clip_middle(obs, 0))) > budget:
        return _render(task, [], clip_middle(obs, 0))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(_render(task, [], clip_middle(obs, mid))) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return _render(task, [], clip_middle(obs, lo))


def legacy_state_text(state: State, max_turns: int = DEFAULT_MAX_TURNS) -> str:
    """State format 1, exactly as models trained on it saw it before their tokenizer cut it
    (fields over ``MAX_FIELD_CHARS`` kept their end)."""

    def clip(text: str) -> str:
        text = _flat(text)
        return text if len(text) <= MAX_FIELD_CHARS else "..." + text[-MAX_FIELD_CHARS:]

    turns = state.history[-max_turns:] if max_turns > 0 else ()
    pairs = [(clip(t.observation), clip(t.action)) for t in turns]
    return _render(f"Task: {clip(state.task)}", pairs, clip(state.observation))


def lm_prompt(state: State, max_turns: int = DEFAULT_MAX_TURNS) -> str:
    """The causal-LM prompt of an unfitted state; the action follows as ``" " + action``."""
    return state_text(state, max_turns) + LM_SUFFIX


def lm_completion(action: str) -> str:
    """The completion text of an action for the causal LM."""
    return " " + " ".join(action.split())


def state_from_record(task: str, history: Sequence[Sequence[str]], observation: str) -> State:
    """A State from JSON fields: task, ``[[observation, action], ...]`` and observation."""
    return State(task, tuple(Turn(str(o), str(a)) for o, a in history), observation)


class ShowsInput(Protocol):
    """A Q model that can show the token ids it reads (both bundled kinds do)."""

    def input_ids(self, state: State, actions: Sequence[str]) -> list[list[int]]:
        """The ids the model reads for each candidate, after any cut."""
        ...

    def text_ids(self, text: str) -> list[int]:
        """The ids of ``text`` alone (no special tokens)."""
        ...


def _contains(seq: Sequence[int], sub: Sequence[int]) -> bool:
    n = len(sub)
    return n == 0 or any(list(seq[i : i + n]) == list(sub) for i in range(len(seq) - n + 1))


def task_in_input(
    model: ShowsInput,
    states: Sequence[State],
    actions: Sequence[Sequence[str]] | None = None,
) -> float | None:
    """The share of ``states`` whose model input holds the whole task line, for every one of
    the state's candidate ``actions`` (default: one, ``look``); None for no states."""
    if not states:
        return None
    acts = actions if actions is not None else [["look"]] * len(states)
    hits = 0
    for state, cands in zip(states, acts, strict=True):
        task = model.text_ids(task_line(state.task))
        hits += all(_contains(ids, task) for ids in model.input_ids(state, cands))
    return hits / len(states)
