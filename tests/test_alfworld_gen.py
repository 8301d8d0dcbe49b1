"""ALFWorldGen-v0: generated games of all six task types on ALFWorld's real engine."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("alfworld") is None, reason="needs the alfworld extra"
)

ENV_ID = "harness/ALFWorldGen-v0"
ROOT = Path(__file__).resolve().parent.parent
SIX = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)
OBJ = r"[a-z]+ \d+"
ALFWORLD_COMMAND = re.compile(
    rf"^(go to {OBJ}|open {OBJ}|close {OBJ}|take {OBJ} from {OBJ}|move {OBJ} to {OBJ}"
    rf"|use {OBJ}|heat {OBJ} with microwave \d+|cool {OBJ} with fridge \d+"
    rf"|clean {OBJ} with (sinkbasin|bathtubbasin) \d+|examine {OBJ}|look|inventory|help)$"
)
TYPE_STEP = {
    "look_at_obj_in_light": r"^use (desklamp|floorlamp) \d+$",
    "pick_clean_then_place_in_recep": r"^clean .+ with sinkbasin \d+$",
    "pick_heat_then_place_in_recep": r"^heat .+ with microwave \d+$",
    "pick_cool_then_place_in_recep": r"^cool .+ with fridge \d+$",
}


def make(cache: Path, **kw: Any) -> Any:
    """A fresh ALFWorldGen env with its cache under ``cache``."""
    import envs  # noqa: F401 - registers the ids

    return gym.make(ENV_ID, cache_dir=str(cache), **kw).unwrapped


@pytest.fixture(scope="session")
def gen_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding test-split games 0..5 (one of each task type), generated once."""
    root = tmp_path_factory.mktemp("alfgen")
    env = make(root)
    for seed in range(6):
        env.reset(seed=seed)
    env.close()
    return root


def play_expert(env: Any, seed: int, split: str = "test") -> tuple[list[str], dict[str, Any], str]:
    """Follow the expert from reset; return the commands, the last info and the first obs."""
    obs, info = env.reset(seed=seed, options={"split": split, "expert": True})
    first, commands = obs, []
    for _ in range(60):
        if info["won"]:
            break
        commands.append(info["expert_action"])
        _, reward, terminated, _, info = env.step(commands[-1])
        assert reward == (1.0 if info["won"] else 0.0)
        assert terminated == info["won"]
    return commands, info, first


@pytest.mark.engine
def test_expert_wins_every_task_type(gen_cache: Path) -> None:
    env = make(gen_cache)
    seen = set()
    for seed in range(6):
        commands, info, first = play_expert(env, seed)
        task_type = info["task_type"]
        seen.add(task_type)
        assert info["won"] and info["score"] == 1.0, (task_type, commands)
        assert first.startswith("-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of")
        assert "Looking quickly around you, you see a " in first
        assert re.fullmatch(r"Your task is to: [a-z ]+\.", info["task"]), info["task"]
        assert first.endswith(info["task"])
        assert all(ALFWORLD_COMMAND.match(c) for c in commands), commands
        if task_type in TYPE_STEP:
            assert any(re.match(TYPE_STEP[task_type], c) for c in commands), commands
        if task_type == "pick_two_obj_and_place":
            assert sum(c.startswith("move ") for c in commands) == 2, commands
    assert seen == set(SIX)
    env.close()


@pytest.mark.engine
def test_replanning_expert_also_wins(gen_cache: Path) -> None:
    env = make(gen_cache, expert_replan=True)
    commands, info, _ = play_expert(env, seed=3)
    assert info["won"], commands
    env.close()


@pytest.mark.engine
def test_bad_commands_say_nothing_happens(gen_cache: Path) -> None:
    env = make(gen_cache)
    _, info = env.reset(seed=0)
    assert info["invalid_action"] is False
    before = info["admissible_actions"]
    for bad in ("", "dance wildly", "go to the moon", "  ", "GO TO " + before[0][6:]):
        obs, reward, terminated, truncated, info = env.step(bad)
        assert obs == "Nothing happens."
        assert info["invalid_action"] is True and reward == 0.0
        assert not terminated and not truncated
        assert info["admissible_actions"] == before
    obs, _, _, _, info = env.step(before[0])
    assert info["invalid_action"] is False and obs != "Nothing happens."
    env.close()


@pytest.mark.engine
def test_same_seed_same_game_in_a_fresh_process(gen_cache: Path, tmp_path: Path) -> None:
    """Another process, another hash seed, an empty cache: the same game file, byte for byte."""
    env = make(gen_cache)
    _, info = env.reset(seed=4, options={"split": "test"})
    game = env.store.root / "json_2.1.1" / info["task_id"] / "game.tw-pddl"
    code = (
        "import sys, gymnasium as gym, envs; "
        "e = gym.make('harness/ALFWorldGen-v0', cache_dir=sys.argv[1]).unwrapped; "
        "_, info = e.reset(seed=4, options={'split': 'test'}); "
        "print(e.store.root / 'json_2.1.1' / info['task_id'] / 'game.tw-pddl')"
    )
    env_vars = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        env=env_vars,
        capture_output=True,
        text=True,
        check=True,
    )
    other = Path(out.stdout.strip().splitlines()[-1])
    assert other != game and other.read_bytes() == game.read_bytes()
    env.close()


@pytest.mark.engine
def test_splits_are_disjoint(gen_cache: Path) -> None:
    from envs.alfworld.gen import TASK_TYPES, load_layout, scenes_for

    env = make(gen_cache, task_types=["pick_and_place_simple"])
    problems: dict[str, set[str]] = {}
    for split in ("train", "valid", "test"):
        problems[split] = set()
        for seed in range(2):
            _, info = env.reset(seed=seed, options={"split": split})
            folder = {"train": "train", "valid": "valid_seen", "test": "valid_unseen"}[split]
            assert info["split"] == split and info["task_id"].startswith(folder + "/")
            game = env.store.root / "json_2.1.1" / info["task_id"] / "game.tw-pddl"
            problems[split].add(json.loads(game.read_text())["pddl_problem"])
    assert not problems["train"] & problems["valid"]
    assert not problems["train"] & problems["test"]
    assert not problems["valid"] & problems["test"]
    for tt in TASK_TYPES:  # test games use rooms that train/valid games never use
        assert not set(scenes_for(tt, unseen=True)) & set(scenes_for(tt, unseen=False))
        assert all(load_layout(s).receptacles for s in scenes_for(tt, unseen=True))
    env.close()


@pytest.mark.engine
def test_alfworld_split_names_in_options(gen_cache: Path) -> None:
    env = make(gen_cache)
    obs, info = env.reset(seed=0, options={"split": "valid_unseen"})
    assert info["split"] == "test"
    assert env.reset(seed=0, options={"split": "test"})[0] == obs
    with pytest.raises(ValueError, match="unknown split"):
        env.reset(seed=0, options={"split": "valid_nowhere"})
    env.close()


@pytest.mark.engine
def test_restore_returns_to_the_same_state(gen_cache: Path) -> None:
    import numpy as np

    env = make(gen_cache)
    rng = np.random.default_rng(7)
    _, info = env.reset(seed=2, options={"expert": True})
    for _ in range(4):
        acts = info["admissible_actions"]
        obs, _, _, _, info = env.step(acts[int(rng.integers(len(acts)))])
    snap = env.snapshot()
    at_snap = (obs, info["admissible_actions"], info["expert_action"], info["won"])
    later = []
    for _ in range(3):
        acts = info["admissible_actions"]
        later.append(acts[int(rng.integers(len(acts)))])
        env.step(later[-1])
    obs, info = env.restore(snap)
    assert (obs, info["admissible_actions"], info["expert_action"], info["won"]) == at_snap
    assert env.history == snap.actions
    for _ in range(30):  # the expert still wins from the restored state
        if info["won"]:
            break
        obs, _, _, _, info = env.step(info["expert_action"])
    assert info["won"]
    env.close()


@pytest.mark.engine
def test_corrupt_cache_entry_is_rebuilt(gen_cache: Path, tmp_path: Path) -> None:
    import shutil

    from envs.alfworld.store import read_entry

    root = tmp_path / "copy"
    shutil.copytree(gen_cache, root)
    env = make(root)
    obs, info = env.reset(seed=1)
    trial = env.store.root / "json_2.1.1" / info["task_id"]
    game = trial / "game.tw-pddl"
    good = game.read_bytes()
    game.write_bytes(good[: len(good) // 2])  # a torn write
    assert read_entry(trial) is None
    fresh = make(root)
    assert fresh.reset(seed=1)[0] == obs
    assert game.read_bytes() == good
    (trial / "traj_data.json").write_text("{}")  # parses, but no record of the game
    assert make(root).reset(seed=1)[0] == obs
    env.close()
    fresh.close()


@pytest.mark.engine
def test_check_env_passes(gen_cache: Path) -> None:
    from gymnasium.utils.env_checker import check_env

    env = make(gen_cache)
    check_env(env, skip_render_check=True)
    env.close()


@pytest.mark.engine
def test_unsolvable_draw_moves_to_the_next_sub_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envs.alfworld import gen
    from envs.alfworld.store import GenStore

    real, calls = gen.check_solvable, []

    def first_fails(engine: Any, path: str) -> list[str] | None:
        calls.append(path)
        return None if len(calls) == 1 else real(engine, path)

    monkeypatch.setattr(gen, "check_solvable", first_fails)
    entry = GenStore(tmp_path, gen.GenConfig()).get("test", "pick_and_place_simple", 0)
    traj = json.loads((entry.path / "traj_data.json").read_text())
    assert len(calls) == 2 and traj["qharness"]["attempts"] == 2 and entry.plan
