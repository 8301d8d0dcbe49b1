"""``python -m harness.analysis.compare``: pairs by (env, seed) across run dirs; later dirs
win; named sample runs are averaged per seed; committed ``episodes.csv`` copies are read too."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.analysis.compare import compare, main
from harness.records import EpisodeRecord
from harness.store import RunStore


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
    assert row["success_p_mcnemar"] == 2 / 2**3  # three discordant seeds, all won by q
    assert main([str(tmp_path / "nope"), "--base", "x", "--other", "y"]) == 2


def test_named_samples_are_averaged_per_seed_and_csv_copies_read(tmp_path: Path, capsys) -> None:
    runs = []
    for j, wins in enumerate([(True, False), (False, False), (True, True), (False, False)]):
        store = RunStore(tmp_path / f"sample{j}")
        store.open(resume=False)
        for s, won in enumerate(wins):
            store.append(_rec("react", s, won, float(won)), [])
        runs.append(f"{tmp_path / f'sample{j}'}=react-t1")
    both = RunStore(tmp_path / "both")
    both.open(resume=False)
    for s in range(2):
        both.append(_rec("react", s, False, 0.0), [])
        both.append(_rec("react-q", s, True, 1.0), [])
    assert main([str(tmp_path / "both"), "--base", "react", "--other", "react-q"]) == 0
    (tmp_path / "both" / "episodes.jsonl").rename(tmp_path / "both" / "gone.jsonl")
    pd.DataFrame(  # the csv copy alone (results/ keeps only episodes.csv)
        [
            {"env_id": "harness/KeyChest-v0", "agent": a, "seed": s, "success": a == "react-q",
             "total_reward": float(a == "react-q"), "error": ""}
            for a in ("react", "react-q") for s in range(2)
        ]
    ).to_csv(tmp_path / "both" / "episodes.csv", index=False)  # fmt: skip
    row = compare([str(tmp_path / "both"), *runs], "react-t1", "react-q").iloc[0]
    assert row["seeds"] == 2
    assert row["success_base"] == (2 / 4 + 1 / 4) / 2  # seed 0 won in 2 of 4, seed 1 in 1
    assert row["success_q"] == 1.0
    capsys.readouterr()
    assert main([f"{tmp_path / 'both'}=x", "--base", "x", "--other", "react-q"]) == 2
    assert "holds 2 agents" in capsys.readouterr().err
    assert main([str(tmp_path / "both"), "--base", "nobody", "--other", "react-q"]) == 2
