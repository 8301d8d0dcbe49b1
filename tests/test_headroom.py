"""The headroom table (harness.analysis.headroom) from run dirs laid out as headroom.sh writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness.analysis.headroom import COLUMNS, adapter_name, main
from harness.archive import pack

HEADER = "env_id,agent,seed,success,total_reward,error\n"


def _run(path: Path, rows: list[tuple[int, bool, float, str]], policy: str = "") -> None:
    path.mkdir(parents=True)
    lines = [f"harness/X-v0,react,{s},{w},{r},{e}" for s, w, r, e in rows]
    (path / "episodes.csv").write_text(HEADER + "\n".join(lines) + "\n")
    if policy:
        (path / "trajectories").mkdir()
        step = {"t": 0, "meta": {"policy": policy}}
        (path / "trajectories" / "a.jsonl").write_text(json.dumps(step) + "\n")


def test_headroom_row_over_the_seeds_every_run_finished(tmp_path, capsys):
    env = tmp_path / "runs" / "X-v0"
    _run(env / "adapter", [(1, True, 1.0, ""), (2, False, 0.0, ""), (3, True, 1.0, "")], "a@1")
    _run(env / "base", [(1, False, 0.0, ""), (2, False, 0.0, ""), (3, False, 0.0, "boom")])
    _run(env / "passk" / "sample0", [(1, False, 0.5, ""), (2, True, 1.0, ""), (3, True, 1.0, "")])
    _run(env / "passk" / "sample1", [(1, True, 1.0, ""), (2, False, 0.2, ""), (3, True, 1.0, "")])
    out = tmp_path / "h.csv"
    assert main([str(tmp_path / "runs"), "--out", str(out)]) == 0
    row = pd.read_csv(out).iloc[0]
    assert list(pd.read_csv(out).columns) == list(COLUMNS)
    assert row["adapter"] == "a@1" and row["seeds"] == 2 and row["k"] == 2  # seed 3 errored
    assert row["greedy_success"] == pytest.approx(0.5)
    assert row["pass_at_k"] == pytest.approx(1.0)
    assert row["best_of_k_reward"] == pytest.approx(1.0)
    assert row["base_greedy_success"] == pytest.approx(0.0)
    pack(env / "adapter")  # a packed run dir names its adapter the same
    assert not (env / "adapter" / "trajectories").exists()
    assert adapter_name(env / "adapter") == "a@1"


def test_headroom_without_runs_is_one_line_exit_2(tmp_path, capsys):
    assert main([str(tmp_path), "--out", str(tmp_path / "h.csv")]) == 2
    assert "no env folder" in capsys.readouterr().err
