"""Leaderboard: bootstrap interval properties, aggregation by hand, the cross-run merge, and a
golden small run whose episodes.csv is checked against tests/golden/."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.analysis.stats import bootstrap_ci
from harness.leaderboard import accumulate, episodes_frame, leaderboard
from harness.records import EpisodeRecord
from harness.run import main
from tests.foundation_helpers import ROOT

GOLDEN = ROOT / "tests" / "golden" / "keychest_episodes.csv"
GOLDEN_ARGS = [
    *("--envs", "harness/KeyChest-v0", "--agents", "random", "expert"),
    *("--episodes", "6", "--seed", "3", "--max-steps", "40", "--split", "test"),
]
VOLATILE = ("wall_s",)

BITS = st.lists(st.integers(0, 1), min_size=1, max_size=60)
UNIT = st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(values=BITS, seed=st.integers(0, 2**16))
def test_bootstrap_ci_brackets_the_mean_of_binary_data(values: list[int], seed: int) -> None:
    low, high = bootstrap_ci(values, seed=seed)
    mean = float(np.mean(values))
    assert 0.0 <= low <= mean <= high <= 1.0


@settings(max_examples=30, deadline=None)
@given(values=UNIT)
def test_bootstrap_ci_within_data_range(values: list[float]) -> None:
    low, high = bootstrap_ci(values)
    eps = 1e-12
    assert min(values) - eps <= low <= high <= max(values) + eps
    assert low - eps <= float(np.mean(values)) <= high + eps
    assert bootstrap_ci(values) == (low, high)  # seeded: the same input gives the same CI


@pytest.mark.parametrize("n", [1, 2, 17])
def test_bootstrap_ci_degenerate(n: int) -> None:
    assert bootstrap_ci([1] * n) == (1.0, 1.0)
    assert bootstrap_ci([0] * n) == (0.0, 0.0)


def test_bootstrap_ci_empty_is_nan_and_width_is_plausible() -> None:
    assert all(math.isnan(v) for v in bootstrap_ci([]))
    rng = np.random.default_rng(0)
    low, high = bootstrap_ci(rng.random(400) < 0.3)
    # normal approximation: +-1.96*sqrt(p(1-p)/n) ~ +-0.045 around ~0.3
    assert 0.06 < high - low < 0.12 and low < 0.3 < high


def _rec(agent: str, seed: int, **kw: object) -> EpisodeRecord:
    base: dict[str, object] = {
        "env_id": "harness/X-v0",
        "agent": agent,
        "seed": seed,
        "task_id": f"t{seed}",
        "split": "test",
        "success": False,
        "total_reward": 0.0,
        "steps": 10,
        "invalid_actions": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "wall_s": 1.0,
    }
    base.update(kw)
    return EpisodeRecord(**base)  # type: ignore[arg-type]


def test_leaderboard_aggregates_by_hand() -> None:
    recs = [
        _rec("a", 0, success=True, total_reward=1.0, steps=4, invalid_actions=1, input_tokens=10),
        _rec("a", 1, steps=6, invalid_actions=2, input_tokens=30, output_tokens=4),
        _rec("a", 2, error="StepTimeout: step 0 exceeded 1s", steps=0),
        _rec("b", 0, success=True, total_reward=0.5, steps=2, wall_s=3.0),
    ]
    board = leaderboard(episodes_frame(recs), {"harness/X-v0": "fp"}, "abc")
    a, b = (board[board.agent == n].iloc[0] for n in ("a", "b"))
    assert a.episodes == 3 and a.errors == 1
    assert a.success_rate == pytest.approx(1 / 3) and a.mean_reward == pytest.approx(1 / 3)
    assert a.mean_steps == pytest.approx(10 / 3)
    assert a.invalid_action_rate == pytest.approx(3 / 10)  # invalid actions / all steps
    assert a.mean_input_tokens == pytest.approx(40 / 3) and a.mean_output_tokens == 4 / 3
    assert (b.episodes, b.errors, b.success_rate, b.mean_wall_s) == (1, 0, 1.0, 3.0)
    # Wilson intervals: one win of one episode is far from certain (a bootstrap said [1, 1])
    assert (b.success_ci_low, b.success_ci_high) == pytest.approx((0.2065, 1.0), abs=1e-4)
    assert (a.success_ci_low, a.success_ci_high) == pytest.approx((0.0615, 0.7923), abs=1e-4)
    assert set(board.env_fingerprint) == {"fp"} and set(board.git_commit) == {"abc"}


def test_accumulate_keeps_other_rows_verbatim(tmp_path: Path) -> None:
    """Merging keeps earlier rows as written (no re-typing of versions or hashes)."""
    path = tmp_path / "board.csv"
    first = leaderboard(episodes_frame([_rec("a", 0)]), {"harness/X-v0": "000123456789"}, "1e5")
    first["harness_version"] = "1.0"
    accumulate(first, path)
    text_a = path.read_text().splitlines()[1]
    accumulate(leaderboard(episodes_frame([_rec("b", 0)]), {"harness/X-v0": "fp2"}, "c0"), path)
    rows = path.read_text().splitlines()
    assert text_a in rows and len(rows) == 3
    newer = leaderboard(
        episodes_frame([_rec("a", 0), _rec("a", 1)]), {"harness/X-v0": "000123456789"}, "d"
    )
    merged = accumulate(newer, path)
    assert len(merged) == 2
    with path.open(newline="") as fh:
        a_row = next(r for r in csv.DictReader(fh) if r["agent"] == "a")
    assert (a_row["episodes"], a_row["git_commit"], a_row["env_fingerprint"]) == (
        "2",
        "d",
        "000123456789",
    )


def _without(path: Path, drop: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(fh)]


def test_golden_small_run(tmp_path: Path) -> None:
    """KeyChest x (random, expert), seeds 3-8: episodes.csv minus wall_s equals the golden.

    Regenerate (after an intended change to KeyChest, the baselines or the CSV) with
    ``QHARNESS_REGEN_GOLDEN=1 python -m pytest tests/test_foundation_leaderboard.py -k golden``
    and review the diff of tests/golden/keychest_episodes.csv before committing it."""
    out = tmp_path / "run"
    assert main([*GOLDEN_ARGS, "--out", str(out), "--leaderboard", ""]) == 0
    got = _without(out / "episodes.csv", VOLATILE)
    if os.environ.get("QHARNESS_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        pd.read_csv(out / "episodes.csv", dtype=str, keep_default_na=False).drop(
            columns=list(VOLATILE)
        ).to_csv(GOLDEN, index=False)
    assert got == _without(GOLDEN, ())
    assert {r["agent"] for r in got} == {"random", "expert"} and len(got) == 12
