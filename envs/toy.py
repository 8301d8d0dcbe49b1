"""KeyChest: a tiny built-in text adventure generated from a seed (tests and smoke runs).

Rooms on a small grid; a key lies in one room, a locked chest with a coin in another. The task
is to take the coin. It has admissible actions, an expert (shortest plan) and disjoint splits,
and needs nothing beyond numpy. It is a toy, not a benchmark.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from envs.base import (
    ADMISSIBLE_ACTIONS,
    MAX_SCORE,
    TASK,
    TASK_ID,
    WON,
    EnvSnapshot,
    TextEnv,
    fingerprint,
    task_index,
)

SPLIT_OFFSETS = {"train": 0, "valid": 100_000, "test": 200_000}
TASKS_PER_SPLIT = 1000
DIRS = {"north": (0, -1), "south": (0, 1), "east": (1, 0), "west": (-1, 0)}
ROOM_NAMES = ("kitchen", "hall", "cellar", "library", "garden", "attic", "study", "pantry", "porch")
TASK_TEXT = "Find the key, unlock the chest and take the coin."


@dataclass(frozen=True)
class Layout:
    """Rooms (grid cells with names), key room and chest room of one game."""

    rooms: dict[tuple[int, int], str]
    start: tuple[int, int]
    key_at: tuple[int, int]
    chest_at: tuple[int, int]


def make_layout(game_seed: int, n_rooms: int = 4) -> Layout:
    """Grow a connected set of grid rooms deterministically from ``game_seed``."""
    rng = np.random.default_rng(game_seed)
    cells = [(0, 0)]
    while len(cells) < n_rooms:
        x, y = cells[int(rng.integers(len(cells)))]
        dx, dy = list(DIRS.values())[int(rng.integers(4))]
        if (x + dx, y + dy) not in cells:
            cells.append((x + dx, y + dy))
    names = rng.permutation(len(ROOM_NAMES))[:n_rooms]
    rooms = {c: ROOM_NAMES[int(i)] for c, i in zip(cells, names, strict=True)}
    order = rng.permutation(n_rooms)
    return Layout(rooms, cells[int(order[0])], cells[int(order[1])], cells[int(order[2])])


@dataclass
class _State:
    at: tuple[int, int]
    has_key: bool = False
    key_taken: bool = False
    unlocked: bool = False
    opened: bool = False
    coin: bool = False


@dataclass(frozen=True)
class _Saved:
    """A KeyChest episode state (the player state is copied again on restore)."""

    layout: Layout
    player: _State
    task_id: str
    split: str
    score: float
    won: bool
    obs: str
    invalid: bool


class KeyChestEnv(TextEnv):
    """The KeyChest toy env: reward 1 when the coin is taken."""

    def __init__(self, n_rooms: int = 4, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        if not 3 <= n_rooms <= len(ROOM_NAMES):
            raise ValueError(f"n_rooms must be in 3..{len(ROOM_NAMES)}, got {n_rooms}")
        self.n_rooms = n_rooms
        self._layout = make_layout(0, n_rooms)
        self._s = _State(at=(0, 0))
        self._invalid = False  # whether the last action was invalid (kept by snapshots)

    def env_fingerprint(self) -> str:
        """Generator identity and size."""
        return fingerprint("KeyChest", 1, self.n_rooms, TASKS_PER_SPLIT, SPLIT_OFFSETS)

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        index = task_index(seed, TASKS_PER_SPLIT, self.np_random, options)
        self._layout = make_layout(SPLIT_OFFSETS[split] + index, self.n_rooms)
        self._s = _State(at=self._layout.start)
        self._invalid = False
        info = {TASK: TASK_TEXT, TASK_ID: f"{split}-{index}", MAX_SCORE: 1.0}
        return f"{TASK_TEXT}\n{self._describe()}", self._info(info)

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        obs, reward, done, info = self._play(action)
        self._invalid = bool(info.get("invalid_action", False))
        return obs, reward, done, info

    def _play(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        cmd = " ".join(action.lower().split())
        if cmd in ("look", "l"):
            return self._describe(), 0.0, False, self._info({})
        if cmd in ("inventory", "i"):
            return (
                f"You carry: {'a key' if self._s.has_key else 'nothing'}.",
                0.0,
                False,
                self._info({}),
            )
        if cmd not in self.admissible():
            msg = "That is not possible here." if cmd else "Say something."
            return msg, 0.0, False, self._info({"invalid_action": True})
        obs, reward = self._apply(cmd)
        return obs, reward, self._s.coin, self._info({})

    def _apply(self, cmd: str) -> tuple[str, float]:
        s = self._s
        if cmd.startswith("go "):
            dx, dy = DIRS[cmd[3:]]
            s.at = (s.at[0] + dx, s.at[1] + dy)
            return self._describe(), 0.0
        if cmd == "take key":
            s.has_key = s.key_taken = True
            return "You take the key.", 0.0
        if cmd == "unlock chest with key":
            s.unlocked = True
            return "You unlock the chest.", 0.0
        if cmd == "open chest":
            s.opened = True
            return "You open the chest. A gold coin glints inside.", 0.0
        s.coin = True  # take coin
        return "You take the coin. You won!", 1.0

    def admissible(self) -> list[str]:
        """Commands that do something in the current state (look/inventory always work)."""
        s, lay = self._s, self._layout
        acts = [
            f"go {d}" for d, (dx, dy) in DIRS.items() if (s.at[0] + dx, s.at[1] + dy) in lay.rooms
        ]
        if s.at == lay.key_at and not s.key_taken:
            acts.append("take key")
        if s.at == lay.chest_at:
            if s.has_key and not s.unlocked:
                acts.append("unlock chest with key")
            if s.unlocked and not s.opened:
                acts.append("open chest")
            if s.opened and not s.coin:
                acts.append("take coin")
        return [*acts, "look", "inventory"]

    def expert_action(self) -> str | None:
        """Shortest next step: fetch the key, walk to the chest, unlock, open, take."""
        s, lay = self._s, self._layout
        if s.coin:
            return None
        target = lay.key_at if not s.has_key else lay.chest_at
        if s.at != target:
            return self._first_move(s.at, target)
        for a in ("take key", "unlock chest with key", "open chest", "take coin"):
            if a in self.admissible():
                return a
        return None

    def _first_move(self, src: tuple[int, int], dst: tuple[int, int]) -> str:
        prev: dict[tuple[int, int], tuple[tuple[int, int], str]] = {}
        queue, seen = deque([src]), {src}
        while queue:
            cur = queue.popleft()
            for d, (dx, dy) in DIRS.items():
                nxt = (cur[0] + dx, cur[1] + dy)
                if nxt in self._layout.rooms and nxt not in seen:
                    seen.add(nxt)
                    prev[nxt] = (cur, d)
                    queue.append(nxt)
        node, move = dst, ""
        while node != src:
            node, move = prev[node]
        return f"go {move}"

    # --- state restore ----------------------------------------------------------------------
    def snapshot(self) -> EnvSnapshot:
        """The episode state itself (layout, player state, score): restore costs no replay."""
        state = _Saved(
            self._layout,
            replace(self._s),
            self._task_id,
            self._split,
            self._score,
            self._won,
            self._last_obs,
            self._invalid,
        )
        return replace(super().snapshot(), engine=state)

    def restore(self, snap: EnvSnapshot) -> tuple[str, dict[str, Any]]:
        """Return to ``snap`` directly from its state (replay for snapshots without one)."""
        st = snap.engine
        if not isinstance(st, _Saved):
            return super().restore(snap)
        self._reset_seed, self._reset_options = snap.seed, dict(snap.options)
        self._reset_rng_state = snap.rng_state
        self._want_expert = bool(snap.options.get("expert", False))
        self._actions = list(snap.actions)
        self._layout, self._s = st.layout, replace(st.player)
        self._task, self._task_id, self._split = TASK_TEXT, st.task_id, st.split
        self._score, self._won, self._last_obs = st.score, st.won, st.obs
        self._max_score = 1.0
        self._invalid = st.invalid
        info = self._info({TASK: TASK_TEXT, TASK_ID: st.task_id, MAX_SCORE: 1.0})
        return st.obs, self._complete(info, invalid=st.invalid)

    def _describe(self) -> str:
        s, lay = self._s, self._layout
        parts = [f"You are in the {lay.rooms[s.at]}."]
        if s.at == lay.key_at and not s.key_taken:
            parts.append("A small key lies on the floor.")
        if s.at == lay.chest_at:
            state = "open" if s.opened else ("unlocked" if s.unlocked else "locked")
            parts.append(f"There is a {state} chest here.")
        exits = [d for d, (dx, dy) in DIRS.items() if (s.at[0] + dx, s.at[1] + dy) in lay.rooms]
        parts.append(f"Exits: {', '.join(exits)}.")
        return " ".join(parts)

    def _info(self, extra: dict[str, Any]) -> dict[str, Any]:
        return {ADMISSIBLE_ACTIONS: self.admissible(), WON: self._s.coin, **extra}
