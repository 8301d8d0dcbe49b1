"""Find the real ALFWorld game files (``$ALFWORLD_DATA/json_2.1.1/<split>/<task>/<trial>/``).

Collects games as ALFWorld's ``AlfredTWEnv.collect_game_files`` does: a trial folder with
``traj_data.json`` and ``game.tw-pddl``, not a movable-receptacle or sliced task, marked
``"solvable": true``; filtered by task type (taken from the task folder name, which starts
with the ``traj_data`` task type).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from envs.alfworld.engine import DATA_ENV
from envs.alfworld.gen import TASK_TYPES
from envs.alfworld.store import ALF_SPLITS, DATA_DIR, GAME, TRAJ

ALFWORLD_DEFAULT = Path("~/.cache/alfworld")  # where alfworld-download writes by default
OUR_SPLIT = {"train": "train", "valid_seen": "valid", "valid_unseen": "test"}


def missing_data_message(where: Path | None) -> str:
    """The one-line error for absent game files: where they go and how to get them."""
    at = f"{where}/{DATA_DIR}" if where else f"$ALFWORLD_DATA/{DATA_DIR}"
    return (
        f"ALFWorld game files not found (looked for {at}/{{train,valid_seen,valid_unseen}}/"
        "<task>/<trial>/game.tw-pddl): on a machine with internet run `pip install alfworld "
        "&& alfworld-download` (it writes ~/.cache/alfworld), copy that folder here and set "
        f"{DATA_ENV}=<folder> or pass data_dir=<folder>"
    )


def resolve_root(data_dir: str | os.PathLike[str] | None) -> Path:
    """The data root: ``data_dir``, else ``$ALFWORLD_DATA``, else alfworld's default folder if it
    holds the games; raises FileNotFoundError with the one-line message otherwise."""
    if data_dir:
        candidates = [Path(data_dir).expanduser()]
    elif os.environ.get(DATA_ENV):
        candidates = [Path(os.environ[DATA_ENV]).expanduser()]
    else:
        candidates = [ALFWORLD_DEFAULT.expanduser()]
    root = candidates[0]
    if not _has_any_game(root / DATA_DIR):
        shown = root if (data_dir or os.environ.get(DATA_ENV)) else None
        raise FileNotFoundError(missing_data_message(shown))
    return root


def _has_any_game(base: Path) -> bool:
    if not base.is_dir():
        return False
    for folder in ALF_SPLITS.values():
        for _ in (base / folder).glob(f"*/*/{GAME}"):
            return True
    return False


def _solvable(game_file: Path) -> bool:
    """The game's ``solvable`` flag (read from the file's tail; full parse as a fallback)."""
    with open(game_file, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 64))
        tail = "".join(f.read().decode("utf-8", "replace").split())
    if '"solvable":true' in tail:
        return True
    if '"solvable":false' in tail:
        return False
    try:
        return bool(json.loads(game_file.read_text()).get("solvable", False))
    except (OSError, ValueError):
        return False


def collect_games(root: Path, folder: str, task_types: Sequence[str]) -> list[Path]:
    """Sorted trial folders of ``folder`` (e.g. ``valid_unseen``) playable by ALFWorld."""
    base = root / DATA_DIR / folder
    out: list[Path] = []
    if not base.is_dir():
        return out
    for task in sorted(p for p in base.iterdir() if p.is_dir()):
        if "movable" in task.name or "Sliced" in task.name:
            continue
        if not any(task.name.startswith(t + "-") for t in task_types):
            continue
        for trial in sorted(p for p in task.iterdir() if p.is_dir()):
            game = trial / GAME
            if (trial / TRAJ).is_file() and game.is_file() and _solvable(game):
                out.append(trial)
    return out


def listing(root: Path) -> list[str]:
    """Relative paths of every trial folder under the root (for the data fingerprint)."""
    out: list[str] = []
    for folder in ALF_SPLITS.values():
        base = root / DATA_DIR / folder
        if base.is_dir():
            out += sorted(str(p.relative_to(root)) for p in base.glob(f"*/*/{GAME}"))
    return out


def check_task_types(task_types: Sequence[str] | str | None) -> tuple[str, ...]:
    """Validated task types (default: all six), in ALFWorld's order."""
    if task_types is None:
        return TASK_TYPES
    wanted = [task_types] if isinstance(task_types, str) else list(task_types)
    bad = [t for t in wanted if t not in TASK_TYPES]
    if bad or not wanted:
        raise ValueError(f"unknown task types {bad}: use some of {', '.join(TASK_TYPES)}")
    return tuple(t for t in TASK_TYPES if t in wanted)
