"""The text-env contract: info keys, text spaces, task selection and state restore.

Every env of this harness is a ``gymnasium.Env`` whose observations and actions are strings.
Everything an agent may use besides the observation travels in ``info`` under the constant
keys below; they are present after ``reset`` and after every ``step``.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# --- info keys (documented in README "Text-env contract") ---------------------------------
ADMISSIBLE_ACTIONS = "admissible_actions"  # list[str]; empty for free-text envs
TASK = "task"  # the instruction / goal text of the episode
WON = "won"  # bool: the task is solved
SCORE = "score"  # float: cumulative score so far (reward is per step)
INVALID_ACTION = "invalid_action"  # bool: the last action was not understood / not possible
TASK_ID = "task_id"  # str: stable id of the task within its split
SPLIT = "split"  # str: "train" | "valid" | "test"
EXPERT_ACTION = "expert_action"  # str | None: only when reset with options={"expert": True}
MAX_SCORE = "max_score"  # float: best reachable score, where the env knows it
TASK_TYPE = "task_type"  # str: the task's category, where the env has one (HotPotQA:
# "bridge" | "comparison-yesno" | "comparison-value"); results break down by it

REQUIRED_INFO_KEYS = (ADMISSIBLE_ACTIONS, TASK, WON, SCORE, INVALID_ACTION)
SPLITS = ("train", "valid", "test")
DEFAULT_SPLIT = "test"

MAX_TEXT = 1 << 20


class AnyText(spaces.Text):
    """A text space holding any string up to ``max_length`` characters (prose, unicode, empty).

    ``spaces.Text`` defaults to ``min_length=1`` and an alphanumeric charset and checks every
    character, so prose observations would fail ``check_env``; this space samples printable
    ASCII but contains every ``str`` of allowed length.
    """

    def __init__(self, max_length: int = MAX_TEXT, seed: int | None = None) -> None:
        super().__init__(max_length=max_length, min_length=0, charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        """Any ``str`` no longer than ``max_length``."""
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"AnyText(max_length={self.max_length})"


def split_of(options: dict[str, Any] | None) -> str:
    """The split named in reset options, validated (default: test)."""
    split = (options or {}).get("split", DEFAULT_SPLIT)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    return str(split)


def task_index(
    seed: int | None,
    n_tasks: int,
    rng: np.random.Generator,
    options: dict[str, Any] | None = None,
) -> int:
    """Deterministic task choice: ``options['task_index'] % n_tasks`` when given, else
    ``seed % n_tasks`` when seeded, else a draw from ``rng``."""
    if n_tasks <= 0:
        raise ValueError("the split has no tasks")
    if options and "task_index" in options:
        return int(options["task_index"]) % n_tasks
    if seed is not None:
        return int(seed) % n_tasks
    return int(rng.integers(n_tasks))


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (package versions, task data, generator settings)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def package_version(name: str) -> str:
    """Installed version of a distribution, or ``"absent"``."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


@dataclass(frozen=True)
class EnvSnapshot:
    """Enough to restore an episode state: how it was reset and the actions taken since.

    ``engine`` may hold an engine-level snapshot; envs that have none restore by replay.
    ``rng_state``: the env's ``np_random`` state right after reset, so that an unseeded
    reset picks the same task again on restore.
    """

    seed: int | None
    options: dict[str, Any]
    actions: tuple[str, ...]
    engine: Any = field(default=None, compare=False)
    rng_state: dict[str, Any] | None = None


class TextEnv(gym.Env[str, str]):
    """Base class of the harness's text envs.

    Subclasses implement ``_reset_task`` and ``_step_text``; this class fills the info keys,
    keeps the action history, and gives replay-based ``snapshot``/``restore`` (subclasses
    with engine snapshots override both). Any string is a legal action: subclasses report
    nonsense through ``invalid_action``, never by raising.
    """

    metadata = {"render_modes": ["ansi"]}  # noqa: RUF012 - gymnasium convention
    observation_space: AnyText
    action_space: AnyText

    def __init__(self, render_mode: str | None = None) -> None:
        self.observation_space = AnyText()
        self.action_space = AnyText()
        self.render_mode = render_mode
        self._actions: list[str] = []
        self._reset_seed: int | None = None
        self._reset_options: dict[str, Any] = {}
        self._reset_rng_state: dict[str, Any] | None = None
        self._score = 0.0
        self._won = False
        self._last_obs = ""
        self._want_expert = False
        self._task = ""
        self._task_id = ""
        self._split = DEFAULT_SPLIT
        self._max_score: Any = None

    # --- to implement -----------------------------------------------------------------------
    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Start a task of ``split``; return the first observation and info (task, task_id)."""
        raise NotImplementedError

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        """Apply one action; return observation, step reward, terminated, info."""
        raise NotImplementedError

    def expert_action(self) -> str | None:
        """The expert's next action in the current state, or None where the env has no expert."""
        return None

    def env_fingerprint(self) -> str:
        """Hash of what makes results comparable: package versions and task data."""
        return fingerprint(type(self).__qualname__, package_version("qharness"))

    # --- gymnasium API --------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Pick a task deterministically from ``options['split']`` (default test) by ``seed``."""
        super().reset(seed=seed)
        self._reset_rng_state = dict(self.np_random.bit_generator.state)
        options = dict(options or {})
        split = split_of(options)
        self._reset_seed, self._reset_options = seed, options
        self._want_expert = bool(options.get("expert", False))
        self._actions = []
        self._score, self._won = 0.0, False
        self._task, self._task_id = "", ""
        self._max_score = None
        obs, info = self._reset_task(seed, split, options)
        self._split = split
        info.setdefault(SPLIT, split)
        self._last_obs = obs
        return obs, self._complete(info, invalid=False)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """One text action; reward is the per-step reward, ``info['score']`` the cumulative one."""
        action = action if isinstance(action, str) else str(action)
        self._actions.append(action)
        obs, reward, terminated, info = self._step_text(action)
        self._score += float(reward)
        self._last_obs = obs
        return obs, float(reward), bool(terminated), False, self._complete(info, invalid=None)

    def render(self) -> str:
        """The last observation (ansi)."""
        return self._last_obs

    # --- state restore ----------------------------------------------------------------------
    def snapshot(self) -> EnvSnapshot:
        """Capture the current episode state (replay-based by default)."""
        return EnvSnapshot(
            self._reset_seed,
            dict(self._reset_options),
            tuple(self._actions),
            rng_state=self._reset_rng_state,
        )

    def restore(self, snap: EnvSnapshot) -> tuple[str, dict[str, Any]]:
        """Return to ``snap``: reset the same task and replay its actions. Cost: one reset
        plus ``len(snap.actions)`` steps."""
        if snap.seed is None and snap.rng_state is not None:
            self.np_random.bit_generator.state = snap.rng_state  # same draw as the original reset
        obs, info = self.reset(seed=snap.seed, options=snap.options)
        for a in snap.actions:
            obs, _, _, _, info = self.step(a)
        return obs, info

    @property
    def history(self) -> tuple[str, ...]:
        """Actions taken since reset."""
        return tuple(self._actions)

    # --- helpers ----------------------------------------------------------------------------
    def _complete(self, info: dict[str, Any], invalid: bool | None) -> dict[str, Any]:
        if WON in info:
            self._won = bool(info[WON])
        info[WON] = self._won
        info[SCORE] = self._score
        info.setdefault(ADMISSIBLE_ACTIONS, [])
        info.setdefault(INVALID_ACTION, bool(invalid))
        self._task = str(info.setdefault(TASK, self._task))
        self._task_id = str(info.setdefault(TASK_ID, self._task_id))
        info.setdefault(SPLIT, self._split)
        if MAX_SCORE in info:
            self._max_score = info[MAX_SCORE]
        elif self._max_score is not None:
            info[MAX_SCORE] = self._max_score
        if self._want_expert:
            info[EXPERT_ACTION] = self.expert_action()
        return info


def closest(name: str, choices: Sequence[str], n: int = 3) -> list[str]:
    """Names in ``choices`` close to ``name`` (for did-you-mean errors)."""
    import difflib

    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.4)
    return [lowered[h] for h in hits]
