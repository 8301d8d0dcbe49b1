"""A scripted searcher for ALFWorld that acts only on what the agent observes.

It reads the goal from the task text, remembers what each visited receptacle showed, and
visits receptacles that can hold the target (ALFRED's own ``VAL_RECEPTACLE_OBJECTS`` table,
world knowledge, not the room's hidden state) in the order the room lists them, then the rest;
it opens what is closed, takes the target once seen, heats / cools / cleans it with the
microwave / fridge / sink basin, and puts it in the goal receptacle (twice for "two" goals);
"look at X under the lamp" goals take X and use the first lamp seen. Unlike ALFWorld's planner
it never walks straight to a hidden object. Every decision is a pure function of the task,
the history and the current observation and admissible actions, so it can label any state
(a learner's own, for DAgger).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.base import Decision, Step, Turn

TRANSFORMS = {"hot": "heat", "heat": "heat", "cool": "cool", "clean": "clean"}
APPLIANCE = {"heat": "microwave", "cool": "fridge", "clean": "sinkbasin"}
LAMPS = ("desklamp", "floorlamp")
_NAME = r"[a-z]+(?: [a-z]+)*? \d+"
_SEE = re.compile(r"(?:you see|In it, you see) (.*?)(?:\.\s*$|\.\s*\n|$)", re.S)
_ITEM = re.compile(r"(?:an?|some) ([a-z]+ \d+)")
_ARRIVE = re.compile(r"You arrive at (" + _NAME + r")\.")
_OPENED = re.compile(r"You open the (" + _NAME + r")\.")


@dataclass(frozen=True)
class Goal:
    """What an ALFWorld task text asks: object type, receptacle or lamp, transform, count."""

    obj: str
    recep: str = ""
    transform: str = ""
    count: int = 1
    look: bool = False


def goal_text(task: str) -> str:
    """The goal sentence of an ALFWorld task text (what follows "Your task is to:"), without
    its final period."""
    at = task.lower().rfind("your task is to:")
    return (task if at < 0 else task[at + len("your task is to:") :]).strip().rstrip(".")


def parse_goal(task: str) -> Goal | None:
    """The goal of ALFWorld's goal-library sentences (the six task types), or None."""
    text = goal_text(task).lower()
    m = re.match(r"(?:look at|examine the) (\w+) (?:under|with) the (\w+)$", text)
    if m:
        return Goal(m[1], m[2], look=True)
    m = re.match(r"(?:put|find) two (\w+) (?:in|and put them in) (\w+)$", text)
    if m:
        return Goal(m[1], m[2], count=2)
    m = re.match(r"put an? (hot|cool|clean) (\w+) in (\w+)$", text)
    if m:
        return Goal(m[2], m[3], TRANSFORMS[m[1]])
    m = re.match(r"(heat|cool|clean) some (\w+) and put it in (\w+)$", text)
    if m:
        return Goal(m[2], m[3], TRANSFORMS[m[1]])
    m = re.match(r"put (?:an?|some) (\w+) (?:in|on) (\w+)$", text)
    if m:
        return Goal(m[1], m[2])
    return None


def kind(name: str) -> str:
    """``countertop 1`` -> ``countertop``."""
    return name.rsplit(" ", 1)[0]


@functools.cache
def _fits_table() -> dict[str, frozenset[str]]:
    """Lower-case receptacle type -> lower-case object types it can hold (ALFRED's table)."""
    import alfworld.gen.constants as c

    return {
        r.lower(): frozenset(o.lower() for o in objs)
        for r, objs in c.VAL_RECEPTACLE_OBJECTS.items()
    }


def can_hold(recep: str, obj: str) -> bool:
    """Whether receptacle type ``recep`` can hold object type ``obj`` (True if unknown)."""
    table = _fits_table()
    return obj in table[recep] if recep in table else True


@dataclass
class Memory:
    """What the agent has seen so far, replayed from the transcript."""

    receptacles: list[str] = field(default_factory=list)
    contents: dict[str, list[str]] = field(default_factory=dict)
    at: str = ""
    holding: str = ""
    placed: list[str] = field(default_factory=list)
    transformed: bool = False

    def see(self, obs: str) -> None:
        """Update from one observation."""
        if not self.receptacles and "you see" in obs and "Looking quickly" in obs:
            listed = _SEE.search(obs.split("Looking quickly around you,", 1)[-1])
            if listed:
                self.receptacles = _ITEM.findall(listed.group(1))
        m = _ARRIVE.search(obs) or _OPENED.search(obs)
        if m:
            self.at = m.group(1)
            if "is closed" in obs and self.at not in self.contents:
                return
            items = _SEE.search(obs.split(".", 1)[1] if "." in obs else obs)
            found = _ITEM.findall(items.group(1)) if items else []
            self.contents[self.at] = [] if "see nothing" in obs else found

    def did(self, action: str, obs: str) -> None:
        """Update from an action and the observation it produced."""
        m = re.match(r"take (.+?) from (.+)$", action)
        if m and obs.startswith("You pick up"):
            self.holding = m[1]
            self.contents[m[2]] = [o for o in self.contents.get(m[2], []) if o != m[1]]
        m = re.match(r"(?:move|put) (.+?) (?:to|in/on) (.+)$", action)
        if m and obs.startswith(("You move", "You put")):
            self.placed.append(m[1])
            self.contents.setdefault(m[2], []).append(m[1])
            self.holding, self.transformed = "", False
        if re.match(r"(heat|cool|clean) ", action) and obs.startswith("You "):
            self.transformed = True
        m = re.match(r"go to (.+)$", action)
        if m:
            self.at = m[1]
        self.see(obs)


def replay(history: Sequence[Turn], observation: str) -> Memory:
    """Memory after the transcript: ``history[i].observation`` then its action, whose result
    is the next observation (the current one for the last turn)."""
    mem = Memory()
    if history:
        mem.see(history[0].observation)
    for i, turn in enumerate(history):
        after = history[i + 1].observation if i + 1 < len(history) else observation
        mem.did(turn.action, after)
    if not history:
        mem.see(observation)
    return mem


def _go(target: str, why: str, acts: Sequence[str]) -> Decision | None:
    action = f"go to {target}"
    return Decision(action, why) if action in acts else None


def next_decision(goal: Goal, mem: Memory, acts: Sequence[str]) -> Decision:
    """The searcher's next action and a one-sentence thought (no hidden state used)."""
    acts = list(acts)
    here = mem.at
    if mem.holding and kind(mem.holding) == goal.obj:
        return _with_object(goal, mem, acts)
    # find an object of the goal type that is not placed yet
    for recep, items in mem.contents.items():
        for obj in items:
            if kind(obj) != goal.obj or obj in mem.placed or kind(recep) == goal.recep:
                continue
            take = f"take {obj} from {recep}"
            if take in acts:
                return Decision(take, f"I take the {obj} I found")
            hop = _go(recep, f"I saw a {obj} in {recep} so I go back there", acts)
            if hop:
                return hop
    if here and here not in mem.contents and f"open {here}" in acts:
        return Decision(f"open {here}", f"The {here} is closed so I open it")
    for recep in _search_order(goal, mem):
        hop = _go(recep, f"I look for a {goal.obj} in {recep}", acts)
        if hop:
            return hop
    return Decision("look", f"I have searched everywhere for a {goal.obj}")


def _search_order(goal: Goal, mem: Memory) -> list[str]:
    unvisited = [r for r in mem.receptacles if r not in mem.contents and r != mem.at]
    likely = [r for r in unvisited if can_hold(kind(r), goal.obj) and kind(r) != goal.recep]
    return likely + [r for r in unvisited if r not in likely]


def _with_object(goal: Goal, mem: Memory, acts: list[str]) -> Decision:
    obj = mem.holding
    if goal.look:
        for a in acts:
            if a.startswith("use ") and kind(a[4:]) in LAMPS:
                return Decision(a, f"I turn on the {a[4:]} to look at the {obj}")
        for recep, items in mem.contents.items():
            if any(kind(i) in LAMPS for i in items):
                hop = _go(recep, f"The lamp is at {recep} so I go there", acts)
                if hop:
                    return hop
        for recep in [r for r in mem.receptacles if r not in mem.contents and r != mem.at]:
            hop = _go(recep, f"I look for a lamp at {recep}", acts)
            if hop:
                return hop
        return Decision("look", "I cannot find a lamp")
    if goal.transform and not mem.transformed:
        verb, device = goal.transform, APPLIANCE[goal.transform]
        for a in acts:
            if a.startswith(f"{verb} {obj} with "):
                return Decision(a, f"I {verb} the {obj} with the {device}")
        for recep in mem.receptacles:
            if kind(recep) == device and recep != mem.at:
                hop = _go(recep, f"I need the {device} to {verb} the {obj}", acts)
                if hop:
                    return hop
    for a in acts:
        m = re.match(r"(?:move|put) (.+?) (?:to|in/on) (.+)$", a)
        if m and m[1] == obj and kind(m[2]) == goal.recep:
            return Decision(a, f"I put the {obj} in the {m[2]}")
    if kind(mem.at) == goal.recep and f"open {mem.at}" in acts:
        return Decision(f"open {mem.at}", f"The {mem.at} is closed so I open it")
    targets = [r for r in mem.receptacles if kind(r) == goal.recep]
    for recep in sorted(targets, key=lambda r: r in mem.contents):
        hop = _go(recep, f"Now I bring the {obj} to {recep}", acts)
        if hop:
            return hop
    return Decision("look", f"I cannot reach a {goal.recep}")


class ALFWorldSearcher:
    """The searcher as an agent (``reset``/``act``); see the module docstring."""

    def reset(self, task: str, seed: int) -> None:
        """Nothing to reset: every decision is replayed from the step's transcript."""

    def act(self, step: Step) -> Decision:
        """The next action from the task, history, observation and admissible actions."""
        goal = parse_goal(step.task)
        if goal is None:
            return Decision("look", "I do not understand the task")
        mem = replay(step.history, step.observation)
        return next_decision(goal, mem, step.admissible_actions)
