"""The TextWorld envs on the real engine: expert wins, determinism, splits, restore, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401 - registers the ids
from tests.textworld_helpers import TW_IDS, play_expert, session_cache

pytestmark = pytest.mark.engine


@pytest.fixture
def tw_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's shared game cache."""
    return session_cache(tmp_path_factory)


def make(family: str, cache: Path, tasks: int = 1) -> Any:
    """An unwrapped generated env with ``tasks`` games per split (tests share game 0)."""
    return gym.make(TW_IDS[family], cache_dir=str(cache), tasks_per_split=tasks).unwrapped


@pytest.mark.parametrize("family", sorted(TW_IDS))
def test_expert_wins_a_generated_game_of_every_family(family: str, tw_cache: Path) -> None:
    env = make(family, tw_cache)
    _, info = env.reset(seed=0, options={"expert": True})
    assert info["task_id"] == f"{family}-test-0" and info["admissible_actions"]
    assert not info["invalid_action"] and info["score"] == 0.0
    info, total, steps = play_expert(env, info)
    assert info["won"] and not info["lost"], f"{family}: expert lost after {steps} steps"
    assert total == info["score"] == info["max_score"] > 0  # rewards are score deltas
    env.close()


@pytest.mark.parametrize("env_id", [*sorted(TW_IDS.values()), "harness/TextWorld-v0"])
def test_check_env(env_id: str, tw_cache: Path) -> None:
    if env_id == "harness/TextWorld-v0":
        path = make("coin_collector", tw_cache).game_path("test", 0)
        env = gym.make(env_id, games=[path]).unwrapped
    else:
        env = gym.make(env_id, cache_dir=str(tw_cache), tasks_per_split=1).unwrapped
    check_env(env, skip_render_check=True)
    env.close()


def test_same_seed_same_game_and_observations(tw_cache: Path, tmp_path: Path) -> None:
    """Generated from scratch in another cache: the same game, the same play."""
    a, b = make("coin_collector", tw_cache), make("coin_collector", tmp_path)
    ka = Path(a.game_path("test", 0)).parent / "manifest.json"
    kb = Path(b.game_path("test", 0)).parent / "manifest.json"
    assert _key(ka) == _key(kb)
    (oa, ia), (ob, ib) = a.reset(seed=0), b.reset(seed=0)
    assert oa == ob and ia == ib
    for action in [*ia["admissible_actions"][:3], "xyzzy", "look"]:
        assert a.step(action) == b.step(action)
    a.close()
    b.close()


def _key(manifest: Path) -> str:
    return str(json.loads(manifest.read_text())["content_key"])


def test_splits_share_no_game(tw_cache: Path) -> None:
    env = make("coin_collector", tw_cache)
    splits = ("train", "valid", "test")
    keys = {_key(Path(env.game_path(split, 0)).parent / "manifest.json") for split in splits}
    assert len(keys) == 3
    obs = {env.reset(seed=0, options={"split": split})[0] for split in splits}
    assert len(obs) == 3
    env.close()


def test_restore_matches_the_original_and_the_replay(tw_cache: Path) -> None:
    env = make("cooking", tw_cache, tasks=2)
    _, info = env.reset(seed=0)
    prefix = ["look", info["admissible_actions"][0], "xyzzy"]
    for a in prefix:
        obs, _, _, _, info = env.step(a)
    snap = env.snapshot()
    assert snap.engine is not None and snap.actions == tuple(prefix)
    at_snap = (obs, dict(info))
    tail = [*info["admissible_actions"][:2], "inventory", "eat meal"]
    original = [env.step(a) for a in tail]
    env.reset(seed=1)  # another game in between: restore must load the right one
    assert env.restore(snap) == at_snap
    assert [env.step(a) for a in tail] == original
    replay_snap = type(snap)(snap.seed, snap.options, snap.actions)  # no engine: replay
    assert env.restore(replay_snap) == at_snap
    assert [env.step(a) for a in tail] == original
    assert env.restore(snap) == at_snap  # a snapshot can be restored again
    env.close()
    other = make("cooking", tw_cache)  # a fresh env (engine never started) restores it too
    assert other.restore(snap) == at_snap
    assert [other.step(a) for a in tail] == original
    other.close()


def test_restore_keeps_the_expert(tw_cache: Path) -> None:
    env = make("simple", tw_cache)
    _, info = env.reset(seed=0, options={"expert": True})
    _, _, _, _, info = env.step(info["expert_action"])
    snap = env.snapshot()
    env.step("xyzzy")
    _, info2 = env.restore(snap)
    assert info2["expert_action"] == info["expert_action"]
    info, _, _ = play_expert(env, info2)
    assert info["won"]
    env.close()


def test_any_string_is_a_legal_action(tw_cache: Path) -> None:
    env = make("coin_collector", tw_cache)
    _, info = env.reset(seed=0)
    go = next(a for a in info["admissible_actions"] if a.startswith("go "))
    cases = {
        "xyzzy": True,
        "": True,
        "restart": True,  # meta commands are refused before the interpreter
        "save": True,
        "tw-trace-actions": True,
        "look\ninventory": True,  # one line: "look inventory" is not understood
        "\\help": True,  # Frotz would wait forever for more input after "\"
        "\x00\t é ünïcode": True,
        "x" * 5000: True,
        "look": False,
        go.removeprefix("go ").upper(): False,  # not listed, but it moves the player
    }
    for action, invalid in cases.items():
        obs, reward, _, _, info = env.step(action)
        assert isinstance(obs, str) and reward == 0.0
        assert info["invalid_action"] is invalid, (action, obs)
    env.close()


def test_expert_on_demand_without_expert_reset(tw_cache: Path) -> None:
    env = make("treasure_hunter", tw_cache)
    _, info = env.reset(seed=0)
    assert "expert_action" not in info
    env.step("look")
    for _ in range(30):
        action = env.expert_action()  # replays once with quest tracking, then tracks
        assert action
        _, _, done, _, info = env.step(action)
        if done:
            break
    assert info["won"] and "expert_action" not in info
    env.close()


def test_game_files_env(tw_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = Path(make("cooking", tw_cache).game_path("test", 0))
    for suffix in (".z8", ".json"):
        shutil.copy(src.with_suffix(suffix), tmp_path / f"mine{suffix}")
    env = gym.make("harness/TextWorld-v0", games=[str(tmp_path)]).unwrapped
    _, info = env.reset(seed=5, options={"expert": True})
    assert info["task_id"] == "0-mine" and info["admissible_actions"]
    info, _, _ = play_expert(env, info)
    assert info["won"]
    env.close()
    monkeypatch.delenv("TEXTWORLD_GAMES", raising=False)
    with pytest.raises(ValueError, match="needs game files"):
        gym.make("harness/TextWorld-v0")
    with pytest.raises(FileNotFoundError, match="not found"):
        gym.make("harness/TextWorld-v0", games=[str(tmp_path / "nope.z8")])
    with pytest.raises(ValueError, match="unsupported game file"):
        gym.make("harness/TextWorld-v0", games=[str(tmp_path / "mine.json")])
    monkeypatch.setenv("TEXTWORLD_GAMES", str(tmp_path))
    assert gym.make("harness/TextWorld-v0").unwrapped.games == [str(tmp_path / "mine.z8")]


def test_inform_game_without_textworld_data(tw_cache: Path, tmp_path: Path) -> None:
    """A bare .z8 plays on Jericho alone: no admissible commands, parser errors are invalid."""
    src = Path(make("coin_collector", tw_cache).game_path("test", 0))
    shutil.copy(src, tmp_path / "bare.z8")
    env = gym.make("harness/TextWorld-v0", games=[str(tmp_path / "bare.z8")]).unwrapped
    obs, info = env.reset(seed=0)
    assert obs and info["admissible_actions"] == [] and env.expert_action() is None
    assert env.step("xyzzy")[4]["invalid_action"]
    assert not env.step("look")[4]["invalid_action"]
    env.close()
