"""The ALFWorld envs: real game files (``ALFWorld-v0``) and games generated here
(``ALFWorldGen-v0``), both played on ALFWorld's engine and read exactly as ALFWorld reads them.

Splits: ours ``train`` / ``valid`` / ``test`` are ALFWorld's ``train`` / ``valid_seen`` /
``valid_unseen``; ``options={"split": ...}`` also takes ALFWorld's names. Reward is 1 on the step
that reaches the goal, else 0. A command the engine cannot apply (or an empty one) gives
ALFWorld's "Nothing happens." and ``invalid_action=True``. The planner expert (reset with
``options={"expert": True}``) follows the planner's plan and re-plans whenever the played
action leaves it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envs.alfworld import data, gen
from envs.alfworld.engine import AlfredEngine, EngineState
from envs.alfworld.store import ALF_SPLITS, TRAJ, GenStore
from envs.base import (
    ADMISSIBLE_ACTIONS,
    INVALID_ACTION,
    MAX_SCORE,
    SPLITS,
    TASK,
    TASK_ID,
    WON,
    TextEnv,
    fingerprint,
    package_version,
    task_index,
)
from envs.cache import cache_dir

TASK_TYPE = "task_type"  # extra info key: the ALFWorld task type of the episode
TASKS_PER_SPLIT = 100_000  # index space of generated games per split (seed % this)
_TASK_RE = re.compile(r"Your task is to: [^\n]*")


def normalize_split(split: Any) -> Any:
    """ALFWorld split names as ours: ``valid_seen`` -> ``valid``, ``valid_unseen`` -> ``test``."""
    return data.OUR_SPLIT.get(split, split) if isinstance(split, str) else split


class _AlfredEnv(TextEnv):
    """Shared play loop: one engine, the planner expert, ALFWorld's split names.

    ``expert_replan=True`` makes the expert call the planner at every step (as ALFWorld's
    ``AlfredExpert(PLANNER)`` does) instead of following its plan while the agent does.
    """

    def __init__(self, expert_replan: bool = False, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        self.expert_replan = expert_replan
        self._engine = AlfredEngine()
        self._plan: list[str] | None = None
        self._task_type = ""

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """As ``TextEnv.reset``; ``options['split']`` may also be an ALFWorld split name."""
        options = dict(options or {})
        if "split" in options:
            options["split"] = normalize_split(options["split"])
        return super().reset(seed=seed, options=options)

    def _play(
        self, game_file: Path, plan: Sequence[str] | None, task_type: str, task_id: str
    ) -> tuple[str, dict[str, Any]]:
        self._engine.load(game_file)
        st = self._engine.reset()
        self._plan = list(plan) if plan else None
        self._task_type = task_type
        found = _TASK_RE.search(st.observation)
        info = {**self._info(st), INVALID_ACTION: False}
        info.update({TASK: found.group(0) if found else "", TASK_ID: task_id})
        info[MAX_SCORE] = 1.0
        return st.observation, info

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        st = self._engine.step(action)
        if st.applied:  # an inapplicable command changes nothing: the plan still holds
            if self._plan and action.strip() == self._plan[0]:
                self._plan.pop(0)
            else:
                self._plan = None
        reward = 1.0 if st.won and not self._won else 0.0
        return st.observation, reward, st.won, self._info(st)

    def _info(self, st: EngineState) -> dict[str, Any]:
        return {
            ADMISSIBLE_ACTIONS: st.admissible,
            WON: st.won,
            INVALID_ACTION: not st.applied,
            TASK_TYPE: self._task_type,
        }

    def expert_action(self) -> str | None:
        """ALFWorld's planner expert: the next command of an optimal plan from this state."""
        if self._won:
            return None
        if not self._plan or self.expert_replan:
            self._plan = self._engine.plan()
        return self._plan[0] if self._plan else None

    def close(self) -> None:
        """Release the engine."""
        self._engine.close()
        super().close()


class ALFWorldEnv(_AlfredEnv):
    """The real ALFWorld text games, from ``data_dir`` or ``$ALFWORLD_DATA``.

    ``task_types``: some of ALFWorld's six (default all); ``split_folders``: which ALFWorld folder
    each of our splits reads (default train/valid_seen/valid_unseen).
    """

    def __init__(
        self,
        data_dir: str | None = None,
        task_types: Sequence[str] | str | None = None,
        split_folders: Mapping[str, str] | None = None,
        expert_replan: bool = False,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(expert_replan=expert_replan, render_mode=render_mode)
        self.root = data.resolve_root(data_dir)
        self.task_types = data.check_task_types(task_types)
        self.split_folders = {**ALF_SPLITS, **dict(split_folders or {})}
        bad = set(self.split_folders) - set(SPLITS)
        if bad:
            raise ValueError(f"split_folders keys must be some of {SPLITS}, got {sorted(bad)}")
        self._games: dict[str, list[Path]] = {}
        self._types: dict[Path, str] = {}

    def games(self, split: str) -> list[Path]:
        """Trial folders of ``split`` (scanned once)."""
        if split not in self._games:
            folder = self.split_folders[split]
            found = data.collect_games(self.root, folder, self.task_types)
            if not found:
                raise FileNotFoundError(
                    f"no playable ALFWorld games of types {', '.join(self.task_types)} in "
                    f"{self.root / 'json_2.1.1' / folder}: check the folder or choose another split"
                )
            self._games[split] = found
        return self._games[split]

    def env_fingerprint(self) -> str:
        """alfworld/textworld versions, the task types and the list of game files."""
        return fingerprint(
            "ALFWorld",
            package_version("alfworld"),
            package_version("textworld"),
            self.task_types,
            self.split_folders,
            data.listing(self.root),
        )

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        games = self.games(split)
        index = task_index(seed, len(games), self.np_random, options)
        trial = games[index]
        if trial not in self._types:
            self._types[trial] = str(json.loads((trial / TRAJ).read_text()).get(TASK_TYPE, ""))
        task_type = self._types[trial]
        task_id = str(trial.relative_to(self.root / "json_2.1.1"))
        return self._play(trial / "game.tw-pddl", None, task_type, task_id)


class ALFWorldGenEnv(_AlfredEnv):
    """ALFWorld games generated on this machine (NOT the published ALFWorld test set).

    Game ``i`` of a split has task type ``task_types[i % k]``; rooms have at most
    ``max_receptacles`` receptacles and ``max_objects`` objects. Games are cached under
    ``cache_dir`` (default: the harness cache, ``alfworld/``).
    """

    def __init__(
        self,
        task_types: Sequence[str] | str | None = None,
        max_receptacles: int = 8,
        max_objects: int = 10,
        cache_dir: str | None = None,
        expert_replan: bool = False,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(expert_replan=expert_replan, render_mode=render_mode)
        self.task_types = data.check_task_types(task_types)
        self.cfg = gen.GenConfig(max_receptacles, max_objects)
        tag = f"gen-v{gen.GEN_VERSION}-r{max_receptacles}-o{max_objects}"
        self.store = GenStore(_cache(tag, cache_dir), self.cfg)

    def env_fingerprint(self) -> str:
        """Generator version and size, task types, alfworld/textworld versions."""
        return fingerprint(
            "ALFWorldGen",
            gen.GEN_VERSION,
            self.cfg,
            self.task_types,
            package_version("alfworld"),
            package_version("textworld"),
        )

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        index = task_index(seed, TASKS_PER_SPLIT, self.np_random, options)
        task_type = self.task_types[index % len(self.task_types)]
        entry = self.store.get(split, task_type, index // len(self.task_types))
        task_id = str(entry.path.relative_to(self.store.root / "json_2.1.1"))
        return self._play(entry.game_file, entry.plan, task_type, task_id)

    def close(self) -> None:
        """Release the engines."""
        self.store.close()
        super().close()


def _cache(tag: str, root: str | None) -> Path:
    return cache_dir("alfworld", tag, root=root)
