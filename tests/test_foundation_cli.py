"""``python -m harness.run`` as a user runs it: CSVs and their columns, bad input (exit 2,
one line, nothing written), --list, config read-back, the cross-run leaderboard, --out reuse."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.foundation_helpers import ROOT, records, run_cli, trajectories

KEYCHEST = "harness/KeyChest-v0"
# Written out here on purpose (not imported): the issue's leaderboard columns, in order.
LEADERBOARD_COLUMNS = [
    "env_id",
    "agent",
    "episodes",
    "success_rate",
    "success_ci_low",
    "success_ci_high",
    "mean_reward",
    "mean_steps",
    "invalid_action_rate",
    "mean_input_tokens",
    "mean_output_tokens",
    "mean_wall_s",
    "errors",
    "env_fingerprint",
    "harness_version",
    "git_commit",
]
EPISODE_COLUMNS = [
    "env_id",
    "agent",
    "seed",
    "task_id",
    "success",
    "total_reward",
    "steps",
    "invalid_actions",
    "input_tokens",
    "output_tokens",
    "wall_s",
    "error",
]


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_run_writes_both_csvs_with_the_issue_columns(tmp_path: Path) -> None:
    out = tmp_path / "run"
    board = tmp_path / "board.csv"
    proc = run_cli(
        *("--envs", KEYCHEST, "--agents", "random", "--episodes", "5", "--out", out),
        *("--leaderboard", board),
    )
    assert proc.returncode == 0, proc.stderr
    cols, rows = _csv(out / "leaderboard.csv")
    assert cols == LEADERBOARD_COLUMNS
    assert len(rows) == 1
    row = rows[0]
    assert (row["env_id"], row["agent"], row["episodes"], row["errors"]) == (
        KEYCHEST,
        "random",
        "5",
        "0",
    )
    low, rate, high = (float(row[k]) for k in ("success_ci_low", "success_rate", "success_ci_high"))
    assert 0.0 <= low <= rate <= high <= 1.0
    assert len(row["env_fingerprint"]) == 12 and row["harness_version"]
    cols, rows = _csv(out / "episodes.csv")
    assert [c for c in cols if c in EPISODE_COLUMNS] == EPISODE_COLUMNS
    assert sorted(int(r["seed"]) for r in rows) == [0, 1, 2, 3, 4]
    assert all(r["error"] == "" for r in rows)
    assert len(list((out / "trajectories").glob("*.jsonl"))) == 5
    assert (out / "config.toml").exists() and (out / "run.json").exists()
    assert "success_rate" in proc.stdout  # the leaderboard is printed as a table
    assert board.read_text() == (out / "leaderboard.csv").read_text()


BAD_TOML = 'envs = ["harness/KeyChest-v0"\n'
UNKNOWN_FIELD = 'envs = ["harness/KeyChest-v0"]\nepisodez = 3\n'
WRONG_TYPE = 'envs = ["harness/KeyChest-v0"]\nepisodes = "five"\n'
OUT_OF_RANGE = 'envs = ["harness/KeyChest-v0"]\nmax_steps = 0\n'
BAD_ENV_OPTION = (
    'envs = ["harness/KeyChest-v0"]\n[env_options."harness/KeyChest-v0"]\nn_rooms = 99\n'
)


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        (["--envs", "harness/KeyChst-v0", "--agents", "random"], None, [KEYCHEST]),
        (["--envs", KEYCHEST, "--agents", "randm"], None, ["'randm'", "random"]),
        (["--envs", KEYCHEST, "--agents", "nosuch.mod:factory"], None, ["nosuch.mod"]),
        (["--envs", KEYCHEST, "--env-opt", f"{KEYCHEST}.bogus=1"], None, ["bogus"]),
        (["--episodes", "0"], None, ["episodes"]),
        ([], BAD_TOML, ["{config}", "not valid TOML"]),
        ([], UNKNOWN_FIELD, ["{config}", "episodez", "did you mean 'episodes'"]),
        ([], WRONG_TYPE, ["{config}", "'episodes'", "wrong type", "expected an integer"]),
        ([], OUT_OF_RANGE, ["{config}", "'max_steps'"]),
        ([], BAD_ENV_OPTION, ["n_rooms", KEYCHEST]),
        (["--config", "{missing}"], None, ["{missing}", "does not exist"]),
    ],
    ids=[
        "unknown-env",
        "unknown-agent",
        "unloadable-factory",
        "bad-env-option-flag",
        "bad-episodes-flag",
        "invalid-toml",
        "unknown-field",
        "wrong-type",
        "out-of-range",
        "bad-env-option-config",
        "missing-config",
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], config: str | None, expected: list[str]
) -> None:
    cfg_path, missing = tmp_path / "bad.toml", tmp_path / "nope.toml"
    if config is not None:
        cfg_path.write_text(config)
        args = [*args, "--config", str(cfg_path)]
    args = [a.format(missing=missing) for a in args]
    out, board = tmp_path / "run", tmp_path / "board.csv"
    proc = run_cli(*args, "--out", out, "--leaderboard", board)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for want in expected:
        assert want.format(config=cfg_path, missing=missing) in lines[0]
    assert not out.exists() and not board.exists()


def test_resume_without_out_is_bad_input() -> None:
    proc = run_cli("--resume", "--envs", KEYCHEST, "--agents", "random", "--leaderboard", "")
    assert proc.returncode == 2 and "--out" in proc.stderr


def test_list_shows_envs_and_agents() -> None:
    proc = run_cli("--list")
    assert proc.returncode == 0
    envs_part, _, agents_part = proc.stdout.partition("agents:")
    assert KEYCHEST in envs_part and "generated" in envs_part
    assert {"random", "expert", "scripted"} <= set(agents_part.split())


def test_config_written_and_read_back(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    proc = run_cli(
        *("--envs", KEYCHEST, "--agents", "random", "expert", "--episodes", "3"),
        *("--seed", "21", "--max-steps", "15", "--split", "valid", "--out", first),
        *("--env-opt", f"{KEYCHEST}.n_rooms=5", "--leaderboard", ""),
    )
    assert proc.returncode == 0, proc.stderr
    text = (first / "config.toml").read_text()
    assert 'split = "valid"' in text and "max_steps = 15" in text and "n_rooms" in text
    shared_board = ROOT / "results" / "leaderboard.csv"
    before = shared_board.stat().st_mtime_ns if shared_board.exists() else None
    again = run_cli("--config", first / "config.toml", "--out", second)
    assert again.returncode == 0, again.stderr
    assert records(second) == records(first)
    assert trajectories(second) == trajectories(first)
    # the stored leaderboard = "" came back too: the repo's board was not touched
    assert (shared_board.stat().st_mtime_ns if shared_board.exists() else None) == before


def test_cross_run_leaderboard_keeps_latest_row_per_env_agent_fingerprint(
    tmp_path: Path,
) -> None:
    board = tmp_path / "board.csv"
    common = ("--envs", KEYCHEST, "--leaderboard", board)
    first = run_cli(*common, "--agents", "random", "--episodes", "3", "--out", tmp_path / "a")
    assert first.returncode == 0, first.stderr
    _, rows = _csv(board)
    assert [(r["agent"], r["episodes"]) for r in rows] == [("random", "3")]
    second = run_cli(
        *common, "--agents", "random", "expert", "--episodes", "4", "--out", tmp_path / "b"
    )
    assert second.returncode == 0, second.stderr
    other_fp = run_cli(
        *common,
        *("--agents", "random", "--episodes", "2", "--out", tmp_path / "c"),
        *("--env-opt", f"{KEYCHEST}.n_rooms=5"),
    )
    assert other_fp.returncode == 0, other_fp.stderr
    cols, rows = _csv(board)
    assert cols == LEADERBOARD_COLUMNS
    got = sorted((r["agent"], r["episodes"]) for r in rows)
    assert got == [("expert", "4"), ("random", "2"), ("random", "4")]
    assert len({r["env_fingerprint"] for r in rows}) == 2


def test_same_out_twice_without_resume_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ("--envs", KEYCHEST, "--agents", "random", "--episodes", "2", "--leaderboard", "")
    assert run_cli(*args, "--out", out).returncode == 0
    before = _snapshot(out)
    again = run_cli(*args, "--out", out)
    assert again.returncode == 2
    assert "--resume" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert _snapshot(out) == before


def test_all_win_run_reports_a_wilson_interval_not_a_point(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = run_cli(
        *("--envs", KEYCHEST, "--agents", "expert", "--episodes", "3", "--out", out),
        *("--leaderboard", ""),
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = _csv(out / "leaderboard.csv")[1]
    assert row["success_rate"] == "1"
    # 3 of 3 wins: the Wilson 95% interval, not a bootstrap's [1, 1]
    assert float(row["success_ci_low"]) == pytest.approx(0.4385, abs=1e-4)
    assert float(row["success_ci_high"]) == 1.0


def test_episode_records_carry_the_task_type(tmp_path: Path) -> None:
    """HotPotQA's question type (``info["task_type"]`` at reset) reaches episodes.csv."""
    out = tmp_path / "run"
    proc = run_cli(
        *("--envs", "harness/HotPotQASynth-v1", "--agents", "random", "--episodes", "6"),
        *("--max-steps", "2", "--out", out, "--leaderboard", ""),
    )
    assert proc.returncode == 0, proc.stderr
    types = {row["task_type"] for row in _csv(out / "episodes.csv")[1]}
    assert types and types <= {"bridge", "comparison-yesno", "comparison-value"}
    kc = tmp_path / "kc"
    assert (
        run_cli(
            "--envs",
            KEYCHEST,
            "--agents",
            "random",
            "--episodes",
            "1",
            "--out",
            kc,
            "--leaderboard",
            "",
        ).returncode
        == 0
    )
    assert {row["task_type"] for row in _csv(kc / "episodes.csv")[1]} == {""}


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = run_cli(
        *("--envs", KEYCHEST, "--agents", "random", "expert", "--episodes", "7"),
        *("--max-steps", "9", "--out", out, "--dry-run"),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{KEYCHEST}: random expert, 7 episodes, max 9 steps"
    assert not out.exists()
    bad = run_cli("--envs", KEYCHEST, "--agents", "random", "--episodes", "10000000", "--dry-run")
    assert bad.returncode == 2 and "episodes" in bad.stderr  # plan size is still checked


BROKEN_ENV = """
import gymnasium as gym
from tests.fakes import FakeCountEnv

class Broken(FakeCountEnv):
    def _step_text(self, action):
        if not action.strip():
            raise ValueError("empty action")
        return super()._step_text(action)

gym.register("broken/Env-v0", entry_point=Broken)
"""


def test_check_env_lists_contract_problems_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "broken_env.py").write_text(BROKEN_ENV)
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    proc = run_cli("--check-env", "broken_env:broken/Env-v0", KEYCHEST, env=env)
    assert proc.returncode == 1
    assert "broken_env:broken/Env-v0: FAILS the text-env contract" in proc.stderr
    assert "raised ValueError: empty action" in proc.stderr
    assert f"{KEYCHEST}: passes the text-env contract" in proc.stdout
    missing = run_cli("--check-env", "no_such_module:x/Y-v0", env=env)
    assert missing.returncode == 2 and "cannot import module 'no_such_module'" in missing.stderr
