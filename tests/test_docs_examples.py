"""The plug-in examples of docs/plugins.md (docs/examples/*.py), run as a reader would run them:
the env passes --check-env, and the agent and the scorer play it through harness.run."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from tests.foundation_helpers import ROOT, run_cli

EXAMPLES = ROOT / "docs" / "examples"
ENV = "guess_env:guess/Number-v0"
PATH = {"PYTHONPATH": os.pathsep.join([str(EXAMPLES), str(ROOT)])}


def _board(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as fh:
        return {row["agent"]: row for row in csv.DictReader(fh)}


def test_the_example_env_passes_the_contract_check() -> None:
    proc = run_cli("--check-env", ENV, env=PATH)
    assert proc.returncode == 0, proc.stderr
    assert f"{ENV}: passes the text-env contract" in proc.stdout


def test_the_example_agent_and_scorer_beat_random_on_the_example_env(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = run_cli(
        *("--envs", ENV, "--agents", "bisect_agent:make_agent", "admissible-q", "random"),
        *("--agent-opt", "admissible-q.scorer=hint_scorer:make_scorer"),
        *("--agent-opt", "admissible-q.k=9", "--episodes", "12", "--out", out),
        *("--leaderboard", ""),
        env=PATH,
    )
    assert proc.returncode == 0, proc.stderr
    board = _board(out / "leaderboard.csv")
    # bisection over 1..9 needs at most four guesses, the env's step limit: every episode wins
    assert board["bisect_agent:make_agent"]["success_rate"] == "1"
    assert board["admissible-q"]["success_rate"] == "1"  # the hint scorer bisects too
    assert float(board["random"]["success_rate"]) < 1.0
    assert all(row["errors"] == "0" for row in board.values())
