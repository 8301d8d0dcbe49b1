"""``harness.analysis.passk``: pass@k / best-of-k over k sampled runs of each test seed."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

from agents.base import Step
from agents.baselines import RandomAgent
from harness.analysis.passk import headroom, main


def rec(seed: int, success: bool, reward: float, env: str = "E", agent: str = "a") -> object:
    return SimpleNamespace(
        env_id=env, agent=agent, seed=seed, success=success, total_reward=reward, error=""
    )


def test_headroom_counts_any_success_and_best_reward() -> None:
    samples = [
        [rec(0, False, 0.2), rec(1, False, 0.0), rec(2, True, 1.0)],
        [rec(0, True, 1.0), rec(1, False, 0.5), rec(2, True, 1.0), rec(0, True, 1.0, env="F")],
    ]
    (row,) = headroom(samples, "a", ["E"])
    assert (row["k"], row["seeds"]) == (2, 3)
    assert row["pass_at_2"] == 2 / 3
    assert row["success_mean"] == 3 / 6
    assert row["best_of_2_reward"] == (1.0 + 0.5 + 1.0) / 3
    assert abs(row["reward_mean"] - 3.7 / 6) < 1e-12


def test_headroom_uses_only_seeds_every_sample_has() -> None:
    samples = [[rec(0, True, 1.0), rec(1, True, 1.0)], [rec(0, False, 0.0)]]
    (row,) = headroom(samples, "a", ["E"])
    assert row["seeds"] == 1 and row["pass_at_2"] == 1.0


def test_random_sample_seed_gives_independent_streams() -> None:
    adm = [f"act {i}" for i in range(50)]
    st = Step(0, "obs", {"admissible_actions": adm, "task": "t"}, (), "E")

    def actions(sample_seed: int) -> list[str]:
        a = RandomAgent(sample_seed=sample_seed)
        a.reset("t", 3)
        return [a.act(st).action for _ in range(8)]

    assert actions(0) == actions(0)
    assert actions(1) != actions(0) and actions(1) != actions(2)


def actions(run_dir: Path) -> tuple[str, ...]:
    """Every action of every episode of a run, in file order."""
    out: list[str] = []
    for path in sorted((run_dir / "trajectories").glob("*.jsonl")):
        out += [json.loads(line)["action"] for line in path.read_text().splitlines()]
    return tuple(out)


def test_cli_on_keychest_writes_headroom_and_resumes(tmp_path: Path, capsys) -> None:
    argv = [str(tmp_path / "pk"), "--envs", "harness/KeyChest-v0", "--agent", "random"]
    argv += ["--k", "3", "--episodes", "6", "--max-steps", "40"]
    assert main(argv) == 0
    (row,) = list(csv.DictReader((tmp_path / "pk" / "passk.csv").open()))
    assert row["k"] == "3" and row["seeds"] == "6"
    assert float(row["success_mean"]) <= float(row["pass_at_3"]) <= 1.0
    runs = {actions(tmp_path / "pk" / f"sample{j}") for j in range(3)}
    assert len(runs) == 3  # three independent samples, not three copies
    capsys.readouterr()
    assert main(argv) == 0
    assert "0 episodes to run (6 already done)" in capsys.readouterr().err


def test_agent_without_sample_seed_is_refused(tmp_path: Path, capsys) -> None:
    argv = [str(tmp_path / "pk"), "--envs", "harness/KeyChest-v0", "--agent", "expert"]
    assert main(argv) == 2
    assert "sample_seed" in capsys.readouterr().err
    assert not (tmp_path / "pk").exists()


def test_a_copied_run_of_more_seeds_is_read_as_a_sample(tmp_path: Path, capsys) -> None:
    import shutil

    base = [str(tmp_path / "big"), "--envs", "harness/KeyChest-v0", "--agent", "random"]
    assert main([*base, "--k", "1", "--episodes", "5", "--max-steps", "40"]) == 0
    shutil.copytree(tmp_path / "big" / "sample0", tmp_path / "pk" / "sample0")
    argv = [str(tmp_path / "pk"), "--envs", "harness/KeyChest-v0", "--agent", "random"]
    assert main([*argv, "--k", "2", "--episodes", "3", "--max-steps", "40"]) == 0
    (row,) = list(csv.DictReader((tmp_path / "pk" / "passk.csv").open()))
    assert row["seeds"] == "3" and row["k"] == "2"
