"""report.html rendered in headless Chromium: loads offline, no console errors, shows tables
and charts, and the trajectory viewer opens."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.report import write_report
from tests.chromium import CHROMIUM, Browser
from tests.report_fixtures import FAKE_RERANKER, hand_run, real_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is absent: apt-get install -y chromium (as .ci/run does)",
    ),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report over a real KeyChest run and a hand-written reranking run."""
    root = tmp_path_factory.mktemp("runs")
    real_run(root / "main", ["random", "expert", FAKE_RERANKER], 4)
    hand_run(root / "hand")
    return write_report([root], root / "report")


def test_report_renders_in_chromium(report: Path) -> None:
    with Browser() as b:
        b.open(report)
        assert b.errors() == []
        outside = [u for u in b.requested_urls() if not u.startswith(("file:", "data:"))]
        assert outside == []
        assert b.evaluate("document.querySelectorAll('table.leaderboard').length") == 2
        assert b.evaluate("document.querySelectorAll('table.leaderboard tbody tr').length") == 4
        charts = b.evaluate(
            "[...document.querySelectorAll('svg.chart')].map(s => {"
            "const r = s.getBoundingClientRect(); return [r.width, r.height]; })"
        )
        # 2 success bars, 1 paired, 2 cost, 2 steps-to-success, 2 calibration charts
        assert len(charts) == 9
        assert all(w > 100 and h > 80 for w, h in charts), charts
        section_ids = b.evaluate("[...document.querySelectorAll('section')].map(s => s.id)")
        assert section_ids == [
            "lift",
            "leaderboard",
            "paired",
            "cost",
            "steps",
            "rerank",
            "trajectories",
            "runs",
        ]


def test_trajectory_viewer_expands(report: Path) -> None:
    with Browser() as b:
        b.open(report)
        visible = "document.querySelector('details.episode table').checkVisibility()"
        assert b.evaluate(visible) is False  # candidate tables start inside collapsed details
        b.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert b.evaluate(visible) is True
        text = b.evaluate("document.body.innerText")
        assert "makes progress" in text and "✓ chosen" in text and "★ top" in text
        assert '<script>alert("x")</script>' in text  # shown as text, never run
        if os.environ.get("QH_REPORT_SCREENSHOT"):
            b.screenshot(Path(os.environ["QH_REPORT_SCREENSHOT"]))
        assert b.errors() == []


def test_browser_helper_sees_errors_and_requests(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><body><img src="missing.png"><script>console.error("boom");'
        "not_defined();</script></body></html>"
    )
    with Browser() as b:
        b.open(page)
        errors = b.errors()
        assert len(errors) == 3, errors  # the failed load, console.error and the exception
        assert any(u.endswith("/missing.png") for u in b.requested_urls())
