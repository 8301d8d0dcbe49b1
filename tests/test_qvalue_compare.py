"""``python -m qvalue.compare``: pairs by (env, seed) across run dirs; later dirs win."""

from __future__ import annotations

from pathlib import Path

from harness.records import EpisodeRecord
from harness.store import RunStore
from qvalue.compare import compare, main


def _rec(agent: str, seed: int, success: bool, reward: float) -> EpisodeRecord:
    return EpisodeRecord(
        "harness/KeyChest-v0", agent, seed, f"t{seed}", "test", success, reward, 3, 0, 0, 0, 0.1
    )


def test_compare_pairs_by_seed_and_later_dirs_win(tmp_path: Path) -> None:
    a, b = RunStore(tmp_path / "a"), RunStore(tmp_path / "b")
    a.open(resume=False), b.open(resume=False)
    for s in range(4):
        a.append(_rec("base", s, False, 0.0), [])
        a.append(_rec("q", s, s < 2, float(s < 2)), [])
    b.append(_rec("q", 3, True, 1.0), [])  # a rerun of seed 3 in a later dir
    table = compare([str(tmp_path / "a"), str(tmp_path / "b")], "base", "q")
    row = table.iloc[0]
    assert row["seeds"] == 4 and row["success_q"] == 0.75 and row["success_base"] == 0.0
    assert row["success_ci_low"] > 0 and row["success_diff"] == 0.75
    assert main([str(tmp_path / "nope"), "--base", "x", "--other", "y"]) == 2
