"""ALFWorld-v0: the loader for real ALFWorld data, on game files written in ALFWorld's layout."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("alfworld") is None, reason="needs the alfworld extra"
)

ROOT = Path(__file__).resolve().parent.parent
TYPES = ("pick_and_place_simple", "look_at_obj_in_light", "pick_heat_then_place_in_recep")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``$ALFWORLD_DATA`` folder: generated games in ALFWorld's exact layout (3 valid_unseen,
    1 train), plus trials ALFWorld skips (movable, sliced, unsolvable)."""
    from envs.alfworld.store import write_sample_data

    root = write_sample_data(tmp_path_factory.mktemp("alfdata"), TYPES)
    write_sample_data(root, TYPES[:1], split="train")
    unseen = root / "json_2.1.1" / "valid_unseen"
    trial = next(unseen.glob("pick_and_place_simple-*/trial_*"))
    for skipped in ("pick_and_place_with_movable_recep-Apple-Bowl-Fridge-1", "X-Sliced-1"):
        shutil.copytree(trial, unseen / skipped / trial.name)
    bad = unseen / "pick_and_place_simple-Zzz-None-Zzz-1" / "trial_unsolvable"
    shutil.copytree(trial, bad)
    game = json.loads((bad / "game.tw-pddl").read_text())
    (bad / "game.tw-pddl").write_text(json.dumps({**game, "solvable": False}))
    return root


def make(**kw: Any) -> Any:
    import envs  # noqa: F401

    return gym.make("harness/ALFWorld-v0", **kw).unwrapped


@pytest.mark.engine
def test_loader_collects_like_alfworld_and_plays(data_root: Path) -> None:
    env = make(data_dir=str(data_root))
    games = env.games("test")
    assert len(games) == 3
    assert all(g.parent.parent.name == "valid_unseen" for g in games)
    assert len(env.games("train")) == 1
    for seed in range(3):
        _, info = env.reset(seed=seed, options={"expert": True})
        assert info["task_id"].startswith("valid_unseen/") and info["task_type"] in TYPES
        for _ in range(40):
            if info["won"]:
                break
            _, reward, _, _, info = env.step(info["expert_action"])
        assert info["won"] and reward == 1.0
    env.close()


@pytest.mark.engine
def test_task_type_filter_and_split_folders(data_root: Path) -> None:
    env = make(data_dir=str(data_root), task_types="pick_heat_then_place_in_recep")
    _, info = env.reset(seed=5, options={"split": "valid_unseen"})
    assert info["task_type"] == "pick_heat_then_place_in_recep" and info["split"] == "test"
    env = make(data_dir=str(data_root), split_folders={"test": "train"})
    _, info = env.reset(seed=0)
    assert info["task_id"].startswith("train/")
    with pytest.raises(ValueError, match="unknown task types"):
        make(data_dir=str(data_root), task_types=["pick_and_juggle"])


REFERENCE = """
import json, sys
from alfworld.agents.environment.alfred_tw_env import AlfredTWEnv
job = json.loads(sys.stdin.read())
config = {
    "env": {"goal_desc_human_anns_prob": 0, "task_types": [1, 2, 3, 4, 5, 6],
            "domain_randomization": False, "expert_type": "planner"},
    "dataset": {"eval_ood_data_path": job["folder"], "num_eval_games": -1},
    "general": {"training_method": "dqn"},
    "rl": {"training": {"max_nb_steps_per_episode": 50}},
}
alf = AlfredTWEnv(config, train_eval="eval_out_of_distribution")
out = {"collected": sorted(alf.game_files), "games": {}}
for game, actions in job["games"].items():
    alf.game_files = [game]
    env = alf.init_env(batch_size=1)
    obs, infos = env.reset()
    rows = [[obs[0], infos["admissible_commands"][0], bool(infos["won"][0])]]
    for a in actions:
        obs, _, _, infos = env.step([a])
        rows.append([obs[0], infos["admissible_commands"][0], bool(infos["won"][0])])
    env.close()
    out["games"][game] = rows
print("<<<" + json.dumps(out))
"""


@pytest.mark.engine
def test_same_text_as_alfworlds_own_env(data_root: Path, tmp_path: Path) -> None:
    """ALFWorld's own AlfredTWEnv, run in a fresh process (plain TextWorld, none of our speed-ups),
    collects the same games and gives the same observations, admissible commands and wins."""
    ours = make(data_dir=str(data_root))
    games, mine = {}, {}
    for seed, trial in enumerate(ours.games("test")):
        obs, info = ours.reset(seed=seed, options={"expert": True})
        rows, actions = [[obs, info["admissible_actions"], info["won"]]], []
        for t in range(40):
            if info["won"]:
                break
            detour = {1: "jump around", 2: info["admissible_actions"][-1]}  # invalid, off-plan
            actions.append(detour.get(t, info["expert_action"]))
            obs, _, _, _, info = ours.step(actions[-1])
            rows.append([obs, info["admissible_actions"], info["won"]])
        assert info["won"]
        game = str(trial / "game.tw-pddl")
        games[game], mine[game] = actions, rows
    ours.close()
    job = {"folder": str(data_root / "json_2.1.1" / "valid_unseen"), "games": games}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(ALFWORLD_DATA=str(data_root), HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", REFERENCE],
        input=json.dumps(job),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    ref = json.loads(out.stdout.split("<<<", 1)[1])
    assert ref["collected"] == sorted(games)
    assert ref["games"] == mine


def test_missing_data_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "nothing here"))
    with pytest.raises(FileNotFoundError) as err:
        make()
    msg = str(err.value)
    assert "\n" not in msg
    assert "alfworld-download" in msg and "ALFWORLD_DATA" in msg and "json_2.1.1" in msg
    assert str(tmp_path / "nothing here") in msg
    monkeypatch.delenv("ALFWORLD_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))  # alfworld's default folder is absent too
    with pytest.raises(FileNotFoundError, match=r"\$ALFWORLD_DATA/json_2.1.1"):
        make()
    with pytest.raises(FileNotFoundError, match="data_dir"):
        make(data_dir=str(tmp_path))


def test_importing_alfworld_leaves_alfworld_data_alone(tmp_path: Path) -> None:
    code = (
        "import os; from envs.alfworld.engine import import_alfworld; import_alfworld(); "
        "import alfworld.agents.environment.alfred_tw_env; "
        "print(os.environ.get('ALFWORLD_DATA'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "ALFWORLD_DATA"}
    env["HOME"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "None"
    assert not (tmp_path / ".cache" / "alfworld").exists()


@pytest.mark.engine
def test_check_text_env_passes_with_fixture_data(data_root: Path) -> None:
    from envs.checker import check_text_env

    check_text_env(lambda: make(data_dir=str(data_root)))


def test_harness_run_reports_missing_data_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.run import EXIT_BAD_INPUT, main

    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "empty"))
    argv = ["--envs", "harness/ALFWorld-v0", "--agents", "random", "--episodes", "1"]
    code = main([*argv, "--out", str(tmp_path / "run"), "--leaderboard", ""])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_BAD_INPUT
    assert err[-1].startswith("error: env 'harness/ALFWorld-v0'")
    assert "ALFWorld game files not found" in err[-1]
