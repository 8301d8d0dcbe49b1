"""Reports built from fixture runs: content, self-containment, escaping, edge cases, CLI."""

from __future__ import annotations

import re
import sys
from html import escape as html_escape
from pathlib import Path

import pytest

from harness.report import main as report_main
from harness.report import plots as report_plots
from harness.report import write_report
from harness.report.data import build, find_runs, load_runs, rerank_analysis
from harness.run import main as run_main
from tests.report_fixtures import (
    FAKE_RERANKER,
    HAND_ENV,
    HOSTILE,
    KEYCHEST,
    empty_run,
    hand_run,
    real_run,
)

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
OUTSIDE_URL = re.compile(r"""url\(\s*["']?\s*(?!#)""", re.I)  # CSS url() other than #id


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """results/runs/{main,bigger,hand,empty}: two real runs with different fingerprints."""
    root = tmp_path_factory.mktemp("results") / "runs"
    real_run(root / "main", ["random", "expert", FAKE_RERANKER], 6)
    real_run(root / "bigger", ["random"], 3, "--env-opt", f"{KEYCHEST}.n_rooms=5")
    hand_run(root / "hand")
    empty_run(root / "empty")
    return root


@pytest.fixture(scope="module")
def single(runs: Path) -> Path:
    """The report of the main run alone, written into the run dir."""
    return write_report([runs / "main"], runs / "main")


@pytest.fixture(scope="module")
def combined(runs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of every run under results/runs."""
    return write_report([runs], tmp_path_factory.mktemp("report"))


def test_single_run_markdown_has_leaderboard(single: Path) -> None:
    md = single.with_name("report.md").read_text()
    assert md.index("## Q guidance: react-q − react") < md.index("## Leaderboard")
    md = (single.parent / "report.md").read_text()
    assert "## Leaderboard" in md and f"### {KEYCHEST}" in md
    # Wilson interval of 6 wins of 6
    assert re.search(r"^\| expert \| 6 \| 1\.000 \| \[0\.610, 1\.000\] \|", md, re.M)
    assert re.search(r"^\| random \| 6 \| ", md, re.M)
    assert re.search(rf"^\| {re.escape(FAKE_RERANKER)} \| 6 \| ", md, re.M)
    assert "## Paired comparisons" in md and "| expert | random | 6 |" in md


def test_html_is_self_contained(single: Path, combined: Path) -> None:
    for path in (single, combined):
        html = path.read_text()
        assert not EXTERNAL.search(html), EXTERNAL.search(html)
        assert "<script" not in html and "@import" not in html
        assert not OUTSIDE_URL.search(html)
        assert '<table class="leaderboard">' in html
        assert "chart failed" not in html


def test_single_run_has_every_chart(single: Path) -> None:
    html = single.read_text()
    # success, paired, cost, steps-to-success and one calibration chart
    assert html.count('<svg class="chart"') == 5
    assert "Calibration" in html and "makes progress" in html


def test_combined_flags_fingerprints_and_keeps_pairs_apart(combined: Path) -> None:
    md = (combined.parent / "report.md").read_text()
    assert "⚠ fingerprint differs |" in md
    assert "| random [bigger] | 3 |" in md and "| random [main] | 6 |" in md
    # runs with different KeyChest fingerprints are never paired
    assert "[bigger] | random [main]" not in md and "[main] | random [bigger]" not in md
    assert "| expert [main] | random [main] | 6 |" in md
    assert "| Δ success | 95% CI | McNemar p |" in md
    assert "no finished episodes" in md  # the empty run is listed with its problem


def test_hostile_text_is_escaped(combined: Path) -> None:
    html = combined.read_text()
    assert HOSTILE not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "provider &lt;down&gt; &amp; out" in html


def test_errors_and_missing_trajectories_are_shown(combined: Path) -> None:
    html = combined.read_text()
    md = (combined.parent / "report.md").read_text()
    assert "## Episodes with errors" in md and "provider <down> & out" in md
    assert "trajectory file missing or unreadable" in html
    assert "no steps recorded" in html  # the error episode's empty trajectory


def test_rerank_statistics_of_hand_written_steps(runs: Path) -> None:
    data = build(load_runs(find_runs([runs / "hand"])))
    summary, points = rerank_analysis(data)
    row = summary.set_index("entry").loc["hand-reranker"]
    assert (row.episodes, row.reranked_steps, row.steps_with_logprobs) == (1, 4, 3)
    assert (row.differs_from_top, row.chosen_not_in_candidates) == (2, 1)
    assert row.scorers == "q"
    got = sorted(zip(points["t"], points["score"], points["return"], strict=True))
    assert got == [(0, 0.9, 1.0), (1, 0.5, 1.0), (3, 0.7, 0.5)]
    assert set(points["env_id"]) == {HAND_ENV}


def test_fake_reranker_differs_from_top_sometimes(runs: Path) -> None:
    data = build(load_runs(find_runs([runs / "main"])))
    summary, points = rerank_analysis(data)
    assert list(summary["entry"]) == [FAKE_RERANKER]
    assert 0.0 < summary["differs_rate"].iloc[0] < 1.0
    assert set(points["scorer"]) == {"q", "rubric"}


def test_empty_run_alone_gives_a_report(runs: Path, tmp_path: Path) -> None:
    path = write_report([runs / "empty"], tmp_path)
    assert "No finished episodes" in path.read_text()
    assert "No finished episodes." in (tmp_path / "report.md").read_text()


def test_without_matplotlib_tables_remain(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert not report_plots.available()
    html = write_report([runs / "main"], tmp_path).read_text()
    assert "<svg" not in html and html_escape(report_plots.NO_MATPLOTLIB) in html
    assert '<table class="leaderboard">' in html


def test_cli_defaults_and_bad_input(
    runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert report_main([str(runs), "--trajectories", "1"]) == 0
    assert (tmp_path / "results" / "report" / "report.html").exists()
    assert "report.html" in capsys.readouterr().out
    assert report_main([str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    (tmp_path / "bare").mkdir()
    assert report_main([str(tmp_path / "bare")]) == 2
    assert "no run under" in capsys.readouterr().err


def test_run_cli_prints_report_path_or_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--envs", KEYCHEST, "--agents", "expert", "--episodes", "2", "--leaderboard", ""]
    assert run_main([*base, "--out", str(tmp_path / "a"), "--report"]) == 0
    err = capsys.readouterr().err
    assert f"[run] report: {tmp_path / 'a' / 'report.html'}" in err
    assert (tmp_path / "a" / "report.md").exists()
    assert run_main([*base, "--out", str(tmp_path / "b")]) == 0
    assert f"python -m harness.report {tmp_path / 'b'}" in capsys.readouterr().err
