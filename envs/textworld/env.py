"""Gymnasium envs on TextWorld's engine: generated challenge games and user-supplied game files.

Reward is the per-step score delta (TextWorld reports the cumulative score); ``won``, ``lost``,
``score``, ``max_score`` and the engine's admissible commands are in ``info``. Any string is a
legal action: it is cleaned to one printable line; one that is not admissible and changes
nothing is reported with ``invalid_action=True`` and the engine's reply (for game files
without TextWorld's ``.json``: a reply that is one of Inform's parser errors). Inform meta commands
(save, restore, restart, undo, quit, ...) and TextWorld's ``tw-`` debug commands are refused
without reaching the interpreter, since they would desynchronise TextWorld's state tracking.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from envs.base import (
    ADMISSIBLE_ACTIONS,
    INVALID_ACTION,
    MAX_SCORE,
    SPLIT,
    TASK,
    TASK_ID,
    WON,
    EnvSnapshot,
    TextEnv,
    fingerprint,
    package_version,
    split_of,
    task_index,
)
from envs.textworld.engine import (
    Engine,
    EngineState,
    clean_command,
    clean_feedback,
    is_parser_error,
    is_refused,
)
from envs.textworld.families import (
    DEFAULT_TASKS_PER_SPLIT,
    MAX_TASKS_PER_SPLIT,
    SPLIT_OFFSETS,
    Difficulty,
)
from envs.textworld.families import family as get_family
from envs.textworld.generate import GEN_VERSION, ensure_game

LOST = "lost"  # bool: the game is lost (TextWorld's fail conditions, e.g. eating the ingredient)
GAMES_ENV = "TEXTWORLD_GAMES"  # folder (or os.pathsep-separated files/folders) for TextWorld-v0
REFUSED = "[harness] The command {!r} is disabled in this environment."
MAX_LOADED = 8  # games kept started per env (starting one costs ~0.5 s)


@dataclass(frozen=True)
class _Saved:
    """Everything a restore needs besides the action history (kept in ``EnvSnapshot.engine``)."""

    path: str
    engine: EngineState
    obs: str
    admissible: tuple[str, ...]
    won: bool
    lost: bool
    invalid: bool
    score: float
    engine_score: float
    policy: tuple[str, ...]
    max_score: float | None
    task: str
    task_id: str


class TextWorldEnv(TextEnv):
    """Shared engine handling: start/cache games, step, expert, engine-level snapshots."""

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._eng: Engine | None = None
        self._adm: list[str] = []
        self._lost = False
        self._invalid = False
        self._engine_score = 0.0
        self._max_score: float | None = None
        self._policy: list[str] = []

    # --- playing ----------------------------------------------------------------------------
    def _play(self, path: str, task_id: str) -> tuple[str, dict[str, Any]]:
        """Start ``path`` from its beginning; the first observation and info."""
        eng = self._engine(path)
        st = eng.reset(self._want_expert)
        self._eng = eng
        self._adm = list(st.get("admissible_commands") or [])
        self._engine_score = float(st.get("score") or 0)
        max_score = st.get("max_score")
        self._max_score = None if max_score is None else float(max_score)
        self._policy = list(st.get("policy_commands") or [])
        self._lost = self._invalid = False
        task = str(st.get("objective") or "")
        return clean_feedback(st.get("feedback") or ""), {
            **self._info(False),
            TASK: task,
            TASK_ID: task_id,
        }

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        eng = self._eng
        if eng is None:
            raise RuntimeError("call reset() before step()")
        cmd = clean_command(action)
        if is_refused(cmd):
            self._invalid = True
            return REFUSED.format(cmd.split(" ", 1)[0]), 0.0, False, self._info(True)
        moves = eng.moves()
        st = eng.step(cmd)
        obs = clean_feedback(st.get("feedback") or "")
        if moves is None:  # no game data: judge by the parser's reply
            invalid = is_parser_error(obs)
        else:  # not admissible and no state-changing action detected
            invalid = cmd.lower() not in self._adm and eng.moves() == moves
        self._adm = st.get("admissible_commands") or []
        score = float(st.get("score") or 0)
        reward, self._engine_score = score - self._engine_score, score
        if eng.expert:
            self._policy = st.get("policy_commands") or []
        won, self._lost, self._invalid = bool(st.get("won")), bool(st.get("lost")), invalid
        info = self._info(invalid)
        info[WON] = won
        done = won or self._lost or bool(st.get("done"))
        return obs, reward, done, info

    def _info(self, invalid: bool) -> dict[str, Any]:
        info = {ADMISSIBLE_ACTIONS: list(self._adm), LOST: self._lost, INVALID_ACTION: invalid}
        if self._max_score is not None:
            info[MAX_SCORE] = self._max_score
        return info

    def _engine(self, path: str) -> Engine:
        """The started engine of ``path`` (least recently used ones are closed)."""
        eng = self._engines.pop(path, None) or Engine(path)
        self._engines[path] = eng
        while len(self._engines) > MAX_LOADED:
            _, old = self._engines.popitem(last=False)
            if old is not self._eng:
                old.close()
        return eng

    # --- expert -----------------------------------------------------------------------------
    def expert_action(self) -> str | None:
        """TextWorld's policy command for the current state (None once won, lost or untracked).

        Quest tracking is requested only for expert episodes (reset with
        ``options={"expert": True}``); asked mid-episode otherwise, the episode is replayed
        once with tracking on and stays tracked.
        """
        eng = self._eng
        if eng is None or not eng.tracked:
            return None
        if not eng.expert:
            st = eng.reset(True)
            for a in self._actions:
                cmd = clean_command(a)
                if not is_refused(cmd):
                    st = eng.step(cmd)
            self._policy = list(st.get("policy_commands") or [])
        return self._policy[0] if self._policy else None

    # --- state restore ----------------------------------------------------------------------
    def snapshot(self) -> EnvSnapshot:
        """The current state with an engine capture (restore costs no replay)."""
        base = super().snapshot()
        eng = self._eng
        if eng is None:
            return base
        saved = _Saved(
            eng.path,
            eng.capture(),
            self._last_obs,
            tuple(self._adm),
            self._won,
            self._lost,
            self._invalid,
            self._score,
            self._engine_score,
            tuple(self._policy),
            self._max_score,
            self._task,
            self._task_id,
        )
        return replace(base, engine=saved)

    def restore(self, snap: EnvSnapshot) -> tuple[str, dict[str, Any]]:
        """Return to ``snap``: set the engine state back (replay only for engine-less snaps)."""
        saved = snap.engine
        if not isinstance(saved, _Saved):
            return super().restore(snap)
        eng = self._engine(saved.path)
        eng.apply(saved.engine)
        self._eng = eng
        self._reset_seed, self._reset_options = snap.seed, dict(snap.options)
        self._want_expert = bool(snap.options.get("expert", False))
        self._actions = list(snap.actions)
        self._adm, self._policy = list(saved.admissible), list(saved.policy)
        self._won, self._lost, self._invalid = saved.won, saved.lost, saved.invalid
        self._score, self._engine_score = saved.score, saved.engine_score
        self._max_score = saved.max_score
        self._task, self._task_id, self._last_obs = saved.task, saved.task_id, saved.obs
        info = self._info(saved.invalid)
        if not snap.actions:
            info[SPLIT] = split_of(snap.options)
        return saved.obs, self._complete(info, invalid=None)

    def close(self) -> None:
        """Stop every started interpreter."""
        for eng in self._engines.values():
            eng.close()
        self._engines.clear()
        self._eng = None


class TextWorldGenEnv(TextWorldEnv):
    """Games generated by one of TextWorld's challenges, by (family, difficulty, split, index).

    ``reset(seed)`` plays game ``seed % tasks_per_split`` of the split (or
    ``options["task_index"]``), generating and caching it on first use.
    """

    def __init__(
        self,
        family: str,
        difficulty: Difficulty | None = None,
        tasks_per_split: int = DEFAULT_TASKS_PER_SPLIT,
        cache_dir: str | os.PathLike[str] | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(render_mode=render_mode)
        self.family = get_family(family)
        self.difficulty = difficulty
        self.label, _ = self.family.settings(difficulty, "test")  # validates early
        if not 1 <= int(tasks_per_split) <= MAX_TASKS_PER_SPLIT:
            raise ValueError(f"tasks_per_split must be in 1..{MAX_TASKS_PER_SPLIT}")
        self.tasks_per_split = int(tasks_per_split)
        self.cache_dir = cache_dir
        self._paths: dict[tuple[str, int], str] = {}

    def env_fingerprint(self) -> str:
        """Generator identity: family, difficulty, split layout and TextWorld version."""
        return fingerprint(
            "TextWorldGen",
            GEN_VERSION,
            self.family.name,
            self.label,
            self.tasks_per_split,
            SPLIT_OFFSETS,
            package_version("textworld"),
        )

    def game_path(self, split: str, index: int) -> str:
        """The cached, verified ``.z8`` of game ``index`` of ``split`` (generated if needed)."""
        ref = ensure_game(
            self.family, self.difficulty, split, index, self.tasks_per_split, self.cache_dir
        )
        self._paths[(split, index)] = ref.path
        return ref.path

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        index = task_index(seed, self.tasks_per_split, self.np_random, options)
        path = self._paths.get((split, index))
        if path is None or path not in self._engines:
            path = self.game_path(split, index)
        return self._play(path, f"{self.family.name}-{split}-{index}")


class TextWorldFilesEnv(TextWorldEnv):
    """User-supplied game files (TextWorld ``.z8`` with its ``.json``, or any Inform ``.z*``).

    Every split plays the same list; ``reset(seed)`` picks game ``seed % len(games)``.
    Without the ``.json`` there are no admissible or expert commands (Jericho only).
    """

    def __init__(
        self, games: str | Sequence[str] | None = None, render_mode: str | None = None
    ) -> None:
        super().__init__(render_mode=render_mode)
        self.games = resolve_games(games)

    def env_fingerprint(self) -> str:
        """Hash of the game files' contents."""
        digests = []
        for g in self.games:
            side = Path(g).with_suffix(".json")
            for p in (Path(g), side) if side.is_file() else (Path(g),):
                digests.append(hashlib.sha256(p.read_bytes()).hexdigest()[:16])
        return fingerprint("TextWorldFiles", package_version("textworld"), digests)

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        index = task_index(seed, len(self.games), self.np_random, options)
        return self._play(self.games[index], f"{index}-{Path(self.games[index]).stem}")


def resolve_games(games: str | Sequence[str] | None) -> list[str]:
    """Game files from ``games`` (files or folders) or ``$TEXTWORLD_GAMES``; one-line errors."""
    if games is None and os.environ.get(GAMES_ENV):
        games = os.environ[GAMES_ENV].split(os.pathsep)
    items = [games] if isinstance(games, str | os.PathLike) else list(games or [])
    out: list[str] = []
    for item in items:
        p = Path(item).expanduser()
        if p.is_dir():
            out += sorted(str(f) for f in p.rglob("*.z[1-8]"))
        elif not p.is_file():
            raise FileNotFoundError(f"TextWorld game file not found: {p}")
        elif p.suffix not in {f".z{i}" for i in range(1, 9)}:
            raise ValueError(f"unsupported game file {p}: expected a .z1-.z8 Inform/TextWorld game")
        else:
            out.append(str(p))
    if not out:
        raise ValueError(
            "harness/TextWorld-v0 needs game files: gym.make('harness/TextWorld-v0', "
            f"games=['path/to/game.z8']) or set {GAMES_ENV} to a folder of .z8 games"
        )
    return out
