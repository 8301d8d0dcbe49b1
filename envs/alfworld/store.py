"""On-disk cache of generated ALFWorld games, laid out exactly like ALFWorld's data.

``<root>/json_2.1.1/<train|valid_seen|valid_unseen>/<task dir>/trial_G<type>_<index>/`` holds
``game.tw-pddl`` and ``traj_data.json``; the second also records a hash of the first and the
checked plan under ``"qharness"``. Entries are written to a temporary folder and renamed into
place (atomic); an entry whose files do not parse or whose hash does not match is deleted and
generated again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from envs.alfworld import gen
from envs.alfworld.engine import AlfredEngine

DATA_DIR = "json_2.1.1"
ALF_SPLITS = {"train": "train", "valid": "valid_seen", "test": "valid_unseen"}
SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}
GAME, TRAJ = "game.tw-pddl", "traj_data.json"


@dataclass(frozen=True)
class Entry:
    """A cached game: its trial folder, task type, the checked plan and generation time."""

    path: Path
    task_type: str
    plan: tuple[str, ...]
    gen_s: float

    @property
    def game_file(self) -> Path:
        """The ``game.tw-pddl`` file."""
        return self.path / GAME


def trial_name(task_type: str, index: int) -> str:
    """The trial folder name of generated game ``index`` of ``task_type``."""
    return f"trial_G{gen.TASK_TYPES.index(task_type) + 1}_{index:06d}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_entry(path: Path) -> Entry | None:
    """The entry in ``path`` if both files parse and the game matches its recorded hash."""
    try:
        data = (path / GAME).read_bytes()
        traj = json.loads((path / TRAJ).read_text())
        meta = traj["qharness"]
        json.loads(data)
        if meta["sha256"] != _sha(data):
            return None
        return Entry(path, str(traj["task_type"]), tuple(meta["plan"]), float(meta["gen_s"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class GenStore:
    """Generated games under ``root`` for one generator config; generates on first use."""

    def __init__(self, root: Path, cfg: gen.GenConfig) -> None:
        self.root, self.cfg = Path(root), cfg
        self._index: dict[tuple[str, str], Path] = {}
        self._sound: dict[Path, Entry] = {}  # entries checked by this process
        self._scanned: set[str] = set()
        self._engine: AlfredEngine | None = None

    def split_dir(self, split: str) -> Path:
        """``<root>/json_2.1.1/<ALFWorld split folder>``."""
        return self.root / DATA_DIR / ALF_SPLITS[split]

    def _scan(self, split: str) -> None:
        if split in self._scanned:
            return
        self._scanned.add(split)
        base = self.split_dir(split)
        if base.is_dir():
            for trial in base.glob("*/trial_G*"):
                self._index[(split, trial.name)] = trial

    def cached(self, split: str, task_type: str, index: int) -> Entry | None:
        """The sound cached entry of this game, or None (a corrupt entry is deleted). Each entry
        is checked once per store."""
        self._scan(split)
        path = self._index.get((split, trial_name(task_type, index)))
        if path is None:
            return None
        entry = self._sound.get(path) or read_entry(path)
        if entry is None:
            shutil.rmtree(path, ignore_errors=True)
            self._index.pop((split, path.name), None)
        else:
            self._sound[path] = entry
        return entry

    def get(self, split: str, task_type: str, index: int) -> Entry:
        """Game ``index`` of ``task_type`` in ``split``, generated and cached if needed."""
        entry = self.cached(split, task_type, index)
        if entry is None:
            entry = self._generate(split, task_type, index)
            self._index[(split, entry.path.name)] = entry.path
        return entry

    def _generate(self, split: str, task_type: str, index: int) -> Entry:
        t0 = time.perf_counter()
        self._engine = self._engine or AlfredEngine()
        base = self.split_dir(split)
        base.mkdir(parents=True, exist_ok=True)
        name = trial_name(task_type, index)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)  # outside json_2.1.1
        tmp = Path(tempfile.mkdtemp(dir=self.root / "tmp"))
        try:
            room, game, traj, plan, attempts = self._solvable_game(
                split, task_type, index, tmp, name
            )
            gen_s = time.perf_counter() - t0
            data = json.dumps(game).encode()
            traj["qharness"] = {
                "generator": "qharness ALFWorldGen (NOT the published ALFWorld data)",
                "gen_version": gen.GEN_VERSION,
                "config": asdict(self.cfg),
                "sha256": _sha(data),
                "plan": plan,
                "attempts": attempts,
                "gen_s": round(gen_s, 4),
            }
            (tmp / GAME).write_bytes(data)
            (tmp / TRAJ).write_text(json.dumps(traj, indent=1))
            final = base / gen.task_dir_name(room) / name
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(tmp, final)
            except OSError:  # another process wrote it first: keep theirs if it is sound
                if read_entry(final) is None:
                    shutil.rmtree(final, ignore_errors=True)
                    os.rename(tmp, final)
            entry = read_entry(final)
            if entry is None:
                raise RuntimeError(f"generated game at {final} does not read back")
            return entry
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _solvable_game(
        self, split: str, task_type: str, index: int, tmp: Path, name: str
    ) -> tuple[Any, dict[str, Any], dict[str, Any], list[str], int]:
        """Sample with sub-seeds 0, 1, ... until the planner's plan wins the game."""
        scenes = gen.scenes_for(task_type, unseen=split == "test")
        code = gen.TASK_TYPES.index(task_type)
        assert self._engine is not None
        for attempt in range(gen.MAX_ATTEMPTS):
            rng = np.random.default_rng([gen.GEN_VERSION, SPLIT_CODES[split], code, index, attempt])
            layout = gen.load_layout(scenes[int(rng.integers(len(scenes)))])
            room = gen.sample_room(layout, task_type, self.cfg, rng)
            if room is None:
                continue
            game, traj = gen.game_files(room, name, rng)
            game["solvable"] = True
            (tmp / GAME).write_text(json.dumps(game))
            plan = gen.check_solvable(self._engine, str(tmp / GAME))
            self._engine.close()
            if plan:
                return room, game, traj, plan, attempt + 1
        raise RuntimeError(
            f"no solvable {task_type} game for {split} index {index} in "
            f"{gen.MAX_ATTEMPTS} attempts (max_receptacles={self.cfg.max_receptacles})"
        )

    def close(self) -> None:
        """Release the checking engine."""
        if self._engine is not None:
            self._engine.close()


def write_sample_data(
    root: Path, task_types: tuple[str, ...] = gen.TASK_TYPES, per_type: int = 1, split: str = "test"
) -> Path:
    """Generate small games into ``root`` in ALFWorld's data layout and return ``root``, ready
    as ``data_dir`` of ``harness/ALFWorld-v0`` (for tests and demos; not real ALFWorld data)."""
    store = GenStore(Path(root), gen.GenConfig())
    for task_type in task_types:
        for index in range(per_type):
            store.get(split, task_type, index)
    store.close()
    return Path(root)
