"""``python -m qvalue.pipeline`` end to end on KeyChest with a tiny budget (real MiniLM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qvalue.pipeline import main


@pytest.mark.model
@pytest.mark.slow
def test_pipeline_end_to_end_and_resume(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pipe"
    argv = ["--env", "harness/KeyChest-v0", "--out", str(out), "--tasks", "4"]
    argv += ["--iterations", "100", "--k", "3", "--depth", "25", "--min-visits", "1"]
    argv += ["--q-agent", "admissible-q", "--episodes", "2", "--max-steps", "4", "--passk", "2"]
    argv += ["--leaderboard", "", "--train-arg=--max-steps=2", "--train-arg=--max-length=32"]
    argv += ["--train-arg=--train-layers=0", "--train-arg=--batch-size=4"]
    assert main(argv) == 0
    summary = json.loads((out / "comparison.json").read_text())
    (row,) = summary["rows"]
    assert row["base"] == "random" and row["q_agent"] == "admissible-q" and row["seeds"] == 2
    assert row["success_ci_low"] <= row["success_diff"] <= row["success_ci_high"]
    assert 0.0 <= row["base_pass_at_2"] <= 1.0
    assert summary["model"]["pair_data"]["hash"] == summary["pairs"]["hash"]
    assert (out / "eval" / "leaderboard.csv").exists() and (out / "comparison.csv").exists()
    episodes = [json.loads(x) for x in (out / "eval" / "episodes.jsonl").read_text().splitlines()]
    assert {e["split"] for e in episodes} == {"test"}
    assert sorted(e["seed"] for e in episodes if e["agent"] == "random") == [0, 1]
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    assert "reusing" in capsys.readouterr().err
