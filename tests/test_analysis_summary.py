"""The Q-guidance summary table: paired rows per (env, agent, baseline, metric), task types with
wins without reading, and calibration of the chosen action's Q, from hand-written runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.base import Candidate
from harness.analysis.summary import COLUMNS, main
from harness.records import EpisodeRecord, StepRecord
from harness.store import RunStore

ENV = "harness-test/QA-v0"


def _run(out: Path, agent: str, wins: dict[int, str]) -> Path:
    """Seeds 0-3; ``wins`` maps a won seed to its one action (e.g. ``finish[yes]``); a lost
    seed searches then answers wrong. Each step's chosen candidate carries a Q score."""
    store = RunStore(out)
    store.open(resume=False)
    for seed in range(4):
        won = seed in wins
        acts = [wins[seed]] if won else ["search[x]", "finish[no]"]
        steps = [
            StepRecord(
                t,
                "obs",
                a,
                1.0 if won and t == len(acts) - 1 else 0.0,
                candidates=[Candidate(a, None, {"q:m": 2.0 if won else -1.0}).to_dict()],
            )
            for t, a in enumerate(acts)
        ]
        kind = "bridge" if seed % 2 else "comparison"
        rec = EpisodeRecord(
            ENV, agent, seed, f"t{seed}", "test", won, float(won), len(acts), 0, 0, 0, 0.1,
            task_type=kind,
        )  # fmt: skip
        store.append(rec, steps)
    store.close()
    return out


def test_summary_by_type_and_calibration(tmp_path: Path) -> None:
    base = _run(tmp_path / "base", "react", {1: "lookup[y] then finish"})
    guided = _run(tmp_path / "q", "react-q", {0: "finish[yes]", 1: "search[a]", 2: "finish[no]"})
    other = _run(tmp_path / "lm", "react-q", {0: "finish[yes]"})
    out, types, cal = tmp_path / "s.csv", tmp_path / "t.csv", tmp_path / "c.csv"
    argv = [str(base), str(guided), f"{other}=react-q-lm", "--agents", "react-q", "react-q-lm"]
    argv += ["--baselines", "react", "--out", str(out), "--by-type", str(types)]
    assert main([*argv, "--calibration", str(cal)]) == 0
    import pandas as pd

    s = pd.read_csv(out)
    assert list(s.columns) == COLUMNS
    row = s[(s.agent == "react-q") & (s.metric == "success")].iloc[0]
    assert (row.seeds, row.agent_mean, row.baseline_mean, row["diff"]) == (4, 0.75, 0.25, 0.5)
    assert row.ci_low <= 0.5 <= row.ci_high
    lm = s[(s.agent == "react-q-lm") & (s.metric == "reward")].iloc[0]
    assert (lm.agent_mean, lm["diff"]) == (0.25, 0.0)
    t = pd.read_csv(types).set_index(["agent", "task_type"])
    # react-q won seeds 0 and 2 (comparison) by answering at once, seed 1 (bridge) by reading
    assert t.loc[("react-q", "comparison"), "wins"] == 2
    assert t.loc[("react-q", "comparison"), "wins_without_reading"] == 1.0
    assert t.loc[("react-q", "bridge"), "wins_without_reading"] == 0.0
    assert t.loc[("react", "bridge"), "wins_without_reading"] == 0.0  # lookup[ reads
    c = pd.read_csv(cal).set_index("agent")
    assert c.loc["react-q", "points"] == 3 + 2  # 3 one-step wins, one two-step loss
    assert c.loc["react-q", "pearson_r"] == pytest.approx(1.0)  # Q 2 -> return 1, -1 -> 0
    assert "react-q-lm" in c.index


def test_summary_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--agents", "react-q", "--baselines", "react", "--out", str(tmp_path / "s.csv")]
    assert main([str(tmp_path / "nowhere"), *argv]) == 2
    assert "no episodes" in capsys.readouterr().err
    lone = _run(tmp_path / "lone", "react", {})
    assert main([str(lone), *argv]) == 2
    assert "no seeds" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()


def test_a_retried_episode_counts_once(tmp_path: Path) -> None:
    from harness.analysis.summary import by_type, calibration

    run = _run(tmp_path / "q", "react-q", {0: "finish[yes]"})
    store = RunStore(run)
    store.open(resume=True)
    retry = EpisodeRecord(
        ENV, "react-q", 1, "t1", "test", True, 1.0, 1, 0, 0, 0, 0.1, task_type="bridge"
    )  # seed 1 again, now won: the latest record is the one that counts
    cand = Candidate("finish[a]", None, {"q:m": 3.0}).to_dict()
    win = [StepRecord(0, "obs", "finish[a]", 1.0, candidates=[cand])]
    store.append(retry, win)
    store.close()
    t = by_type([str(run)]).set_index("task_type")
    assert t.loc["bridge", "episodes"] == 2 and t.loc["bridge", "success"] == 0.5  # seeds 1, 3
    assert calibration([str(run)]).iloc[0]["points"] == 1 + 1 + 2 + 2  # seed 1 once, won


def test_costs_count_loops_and_caps(tmp_path: Path) -> None:
    from harness.analysis.summary import costs

    run = _run(tmp_path / "q", "react-q", {0: "finish[yes]"})
    store = RunStore(run)
    store.open(resume=True)
    loop = [StepRecord(t, "obs", "click[x]", 0.0) for t in range(4)]
    capped = EpisodeRecord(
        ENV, "react-q", 9, "t9", "test", False, 0.0, 4, 0, 100, 10, 2.5, truncated=True
    )  # the same click four times, cut at the cap
    store.append(capped, loop)
    store.close()
    row = costs([str(run)]).iloc[0]
    assert (row.episodes, row.mean_steps, row.capped) == (5, (1 + 2 + 2 + 2 + 4) / 5, 0.2)
    assert row.repeated_actions == pytest.approx(3 / 11)  # 3 repeats over 1+2+2+2+4 steps
    assert row.mean_wall_s == pytest.approx((4 * 0.1 + 2.5) / 5)
    assert (row.mean_input_tokens, row.mean_output_tokens) == (20.0, 2.0)
