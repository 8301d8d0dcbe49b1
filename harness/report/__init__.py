"""``python -m harness.report [RUN_DIR ... | results/]``: report.md and self-contained report.html.

A directory holding ``episodes.jsonl`` is a run; any other directory means every run below it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from envs.files import atomic_write
from harness.report import plots
from harness.report.data import (
    ReportData,
    ReportInputError,
    build,
    calibration_summary,
    cost_table,
    find_runs,
    lift_rows,
    load_runs,
    paired_comparisons,
    rerank_analysis,
    steps_to_success,
)
from harness.report.html import esc, page, table, trajectories_html
from harness.report.views import (
    calibration_view,
    cost_view,
    errors_view,
    leaderboard_view,
    markdown_table,
    pairs_view,
    rerank_view,
    runs_view,
    steps_view,
)
from harness.store import RunDirError

DEFAULT_TRAJECTORIES = 20
SECTIONS = [
    ("lift", "Q guidance"),
    ("leaderboard", "Leaderboard"),
    ("paired", "Paired comparisons"),
    ("cost", "Cost vs success"),
    ("steps", "Steps to success"),
    ("rerank", "Reranking"),
    ("trajectories", "Trajectories"),
    ("runs", "Runs"),
]
PAIRED_TEXT = (
    "Entries of one env and env fingerprint that played the same seeds (same split). "
    "Differences are A − B, averaged over the shared seeds; the interval is a paired "
    "percentile bootstrap (2,000 resamples of seeds). Episodes that ended in an error "
    "count as failures, as in the leaderboard."
)
LIFT_TEXT = (
    "react-q − react on the seeds both played, per env (the same paired bootstrap and "
    "McNemar test as below; A = react-q). Read the interval, not the point: with a few "
    "seeds it is wide."
)
RERANK_TEXT = (
    "Steps whose record lists candidate actions. 'differs from top' counts steps where the "
    "action taken is not the policy's top candidate (highest logprob). Calibration pairs the "
    "chosen action's score with the return realised from that step to the episode's end "
    "(undiscounted; equal to the episode's return when reward only comes at the end)."
)


@dataclass
class Tables:
    """All computed tables of a report."""

    pairs: pd.DataFrame
    cost: pd.DataFrame
    steps: pd.DataFrame
    steps_raw: dict[tuple[str, str], list[int]]
    rerank: pd.DataFrame
    points: pd.DataFrame
    calibration: pd.DataFrame


def compute(data: ReportData) -> Tables:
    """Compute every table from the loaded runs."""
    steps, raw = steps_to_success(data)
    rerank, points = rerank_analysis(data)
    return Tables(
        paired_comparisons(data),
        cost_table(data),
        steps,
        raw,
        rerank,
        points,
        calibration_summary(points),
    )


def _env_rows(df: pd.DataFrame, env_id: str) -> pd.DataFrame:
    return df[df["env_id"] == env_id]


def markdown(data: ReportData, t: Tables, generated: str) -> str:
    """The report as Markdown tables (charts and trajectories are in report.html)."""
    out = [
        "# qharness report",
        "",
        f"Generated {generated}; charts and trajectories: report.html.",
        "",
    ]
    lift = lift_rows(t.pairs)
    out += ["## Q guidance: react-q − react", "", LIFT_TEXT, ""]
    if lift.empty:
        out += ["No env where react and react-q played the same seeds.", ""]
    for env_id in sorted(set(lift["env_id"])):
        out += [f"### {env_id}", "", markdown_table(pairs_view(_env_rows(lift, env_id))), ""]
    out += ["## Runs", "", markdown_table(runs_view(data)), ""]
    out += ["## Leaderboard", ""]
    if data.board.empty:
        out += ["No finished episodes.", ""]
    for env_id in data.env_ids:
        b = _env_rows(data.board, env_id)
        out += [f"### {env_id}", ""]
        if (b["note"] != "").any():
            out += [
                "> ⚠ env fingerprints differ or are unknown: rows compare only within one "
                "fingerprint.",
                "",
            ]
        out += [markdown_table(leaderboard_view(b)), ""]
    sections: list[tuple[str, pd.DataFrame, Callable[[pd.DataFrame], pd.DataFrame], str]] = [
        ("Paired comparisons", t.pairs, pairs_view, PAIRED_TEXT),
        ("Cost vs success", t.cost, cost_view, ""),
        ("Steps to success", t.steps, steps_view, ""),
        ("Reranking", t.rerank, rerank_view, RERANK_TEXT),
        ("Calibration", t.calibration, calibration_view, ""),
    ]
    for title, df, view, text in sections:
        out += [f"## {title}", ""] + ([text, ""] if text else [])
        if df.empty:
            out += ["None.", ""]
        for env_id in sorted(set(df["env_id"])) if not df.empty else []:
            out += [f"### {env_id}", "", markdown_table(view(_env_rows(df, env_id))), ""]
    errs = errors_view(data)
    if not errs.empty:
        out += ["## Episodes with errors", "", markdown_table(errs), ""]
    return "\n".join(out)


def _chart(fn: Callable[..., str], *args: Any) -> str:
    if not plots.available():
        return f'<p class="muted">{esc(plots.NO_MATPLOTLIB)}</p>'
    try:
        return fn(*args)
    except Exception as exc:  # a chart must not sink the report
        return f'<p class="error">chart failed: {esc(type(exc).__name__)}: {esc(exc)}</p>'


def _leaderboard_html(data: ReportData) -> list[str]:
    out = []
    if data.board.empty:
        return ['<p class="muted">No finished episodes.</p>']
    for env_id in data.env_ids:
        b = _env_rows(data.board, env_id)
        out.append(f"<h3>{esc(env_id)}</h3>")
        if (b["note"] != "").any():
            out.append(
                '<p class="warn">⚠ Env fingerprints differ between runs (or are unknown): '
                "highlighted rows come from different env versions, data or options and "
                "compare only within one fingerprint.</p>"
            )
        flags = ["flag" if n else "" for n in b["note"]]
        out.append(table(leaderboard_view(b), flags, cls="leaderboard"))
        out.append(_chart(plots.success_chart, b, env_id))
    return out


def _per_env(
    df: pd.DataFrame,
    view: Callable[[pd.DataFrame], pd.DataFrame],
    chart: Callable[[str, pd.DataFrame], str] | None,
) -> list[str]:
    if df.empty:
        return ['<p class="muted">None.</p>']
    out = []
    for env_id in sorted(set(df["env_id"])):
        rows = _env_rows(df, env_id)
        out += [f"<h3>{esc(env_id)}</h3>", table(view(rows))]
        if chart is not None:
            out.append(_chart(chart, env_id, rows))
    return out


def _rerank_html(data: ReportData, t: Tables) -> list[str]:
    out = [f"<p>{esc(RERANK_TEXT)}</p>"]
    if t.rerank.empty:
        return [*out, '<p class="muted">No step in these runs lists candidates.</p>']
    out += _per_env(t.rerank, rerank_view, None)
    out.append("<h3>Calibration</h3>")
    if t.calibration.empty:
        return [*out, '<p class="muted">No chosen action carries a score.</p>']
    out.append(table(calibration_view(t.calibration)))
    for (env_id, entry), g in t.points.groupby(["env_id", "entry"], sort=True):
        out.append(_chart(plots.calibration_chart, g, f"{env_id} · {entry}"))
    return out


def html_report(data: ReportData, t: Tables, generated: str, limit: int) -> str:
    """The self-contained HTML report."""
    board = data.board
    body = [
        "<h1>qharness report</h1>",
        f'<p class="muted">Generated {esc(generated)} from {len(data.runs)} run(s), '
        f"{len(data.episodes)} episodes.</p>",
    ]
    if not plots.available():
        body.append(f'<p class="warn">{esc(plots.NO_MATPLOTLIB)}</p>')
    lift = lift_rows(t.pairs)
    body += ['<section id="lift"><h2>Q guidance: react-q − react</h2>', f"<p>{esc(LIFT_TEXT)}</p>"]
    if lift.empty:
        body.append('<p class="muted">No env where react and react-q played the same seeds.</p>')
    else:
        body += _per_env(lift, pairs_view, None)
    body += ["</section>"]
    body += ['<section id="leaderboard"><h2>Leaderboard</h2>', *_leaderboard_html(data)]
    body += ["</section>", '<section id="paired"><h2>Paired comparisons</h2>']
    body += [f"<p>{esc(PAIRED_TEXT)}</p>"]
    body += _per_env(t.pairs, pairs_view, lambda e, rows: plots.paired_chart(rows, e))
    body += ["</section>", '<section id="cost"><h2>Cost vs success</h2>']
    body += _per_env(
        t.cost, cost_view, lambda e, rows: plots.cost_chart(rows, _env_rows(board, e), e)
    )
    body += ["</section>", '<section id="steps"><h2>Steps to success</h2>']

    def steps_chart(env_id: str, rows: pd.DataFrame) -> str:
        raw = {n: s for (e, n), s in t.steps_raw.items() if e == env_id}
        return plots.steps_chart(raw, env_id)

    body += _per_env(t.steps, steps_view, steps_chart)
    body += ["</section>", '<section id="rerank"><h2>Reranking</h2>', *_rerank_html(data, t)]
    body += ["</section>", '<section id="trajectories"><h2>Trajectories</h2>']
    body += [trajectories_html(data, limit), "</section>"]
    body += ['<section id="runs"><h2>Runs</h2>', table(runs_view(data))]
    errs = errors_view(data)
    if not errs.empty:
        body += ["<h3>Episodes with errors</h3>", table(errs)]
    body.append("</section>")
    return page("qharness report", SECTIONS, body)


def write_report(
    run_dirs: Sequence[str | Path], out_dir: str | Path, trajectories: int = DEFAULT_TRAJECTORIES
) -> Path:
    """Write ``report.md`` and ``report.html`` for the runs in (or below) ``run_dirs``;
    return the HTML path."""
    runs = load_runs(find_runs(run_dirs))
    data = build(runs)
    tables = compute(data)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "report.md", markdown(data, tables, generated))
    html_path = out / "report.html"
    atomic_write(html_path, html_report(data, tables, generated, trajectories))
    return html_path


def default_out(paths: Sequence[str]) -> Path:
    """The run dir itself when one run dir is given, else ``results/report``."""
    if len(paths) == 1 and (Path(paths[0]) / "episodes.jsonl").exists():
        return Path(paths[0])
    return Path("results/report")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    p = argparse.ArgumentParser(prog="python -m harness.report", description=__doc__)
    p.add_argument("paths", nargs="*", default=["results"], metavar="DIR", help="runs or results/")
    p.add_argument("--out", metavar="DIR", help="where report.md/html go (see above)")
    p.add_argument(
        "--trajectories",
        type=int,
        default=DEFAULT_TRAJECTORIES,
        metavar="N",
        help=f"episodes per env and agent in the viewer (default {DEFAULT_TRAJECTORIES})",
    )
    ns = p.parse_args(argv)
    if ns.trajectories < 0:
        print("error: --trajectories must be >= 0", file=sys.stderr)
        return 2
    out = Path(ns.out) if ns.out else default_out(ns.paths)
    if out.exists() and not out.is_dir():
        print(
            f"error: --out {str(out)!r} is a file: give a directory for the report", file=sys.stderr
        )
        return 2
    try:
        path = write_report(ns.paths, out, ns.trajectories)
    except (ReportInputError, RunDirError, OSError) as exc:  # RunDirError: a newer schema
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"[report] wrote {path.with_name('report.md')} and {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
