"""Report tables as string cells, shared by the Markdown and HTML renderers."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harness.report.data import ReportData

DASH = "—"


def f3(v: Any) -> str:
    """A number with three decimals (a dash for missing)."""
    return DASH if _missing(v) else f"{float(v):.3f}"


def g4(v: Any) -> str:
    """A number with four significant digits (a dash for missing)."""
    return DASH if _missing(v) else f"{float(v):.4g}"


def ci(low: Any, high: Any) -> str:
    """An interval as ``[low, high]``."""
    return DASH if _missing(low) or _missing(high) else f"[{float(low):.3f}, {float(high):.3f}]"


def _missing(v: Any) -> bool:
    try:
        return v is None or math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def _view(rows: list[list[str]], headers: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=headers, dtype=object)


def leaderboard_view(board: pd.DataFrame) -> pd.DataFrame:
    """Leaderboard rows of one env."""
    headers = ["agent", "episodes", "success", "95% CI", "mean reward", "mean steps"]
    headers += ["invalid rate", "tokens in / out", "s / episode", "errors"]
    headers += ["env fingerprint", "note"]
    rows = [
        [
            str(r.entry),
            str(r.episodes),
            f3(r.success_rate),
            ci(r.success_ci_low, r.success_ci_high),
            g4(r.mean_reward),
            g4(r.mean_steps),
            f3(r.invalid_action_rate),
            f"{g4(r.mean_input_tokens)} / {g4(r.mean_output_tokens)}",
            g4(r.mean_wall_s),
            str(r.errors),
            str(r.env_fingerprint),
            "⚠ " + r.note if r.note else "",
        ]
        for r in board.itertuples()
    ]
    return _view(rows, headers)


def pairs_view(pairs: pd.DataFrame) -> pd.DataFrame:
    """Paired comparisons of one env."""
    headers = ["A", "B", "shared seeds", "success A", "success B", "Δ success", "95% CI"]
    headers += ["McNemar p", "Δ reward", "95% CI (reward)"]
    rows = [
        [
            str(r.a),
            str(r.b),
            str(r.shared_seeds),
            f3(r.success_a),
            f3(r.success_b),
            f3(r.success_diff),
            ci(r.success_low, r.success_high),
            f3(r.success_p_mcnemar),
            g4(r.reward_diff),
            ci(r.reward_low, r.reward_high),
        ]
        for r in pairs.itertuples()
    ]
    return _view(rows, headers)


def cost_view(cost: pd.DataFrame) -> pd.DataFrame:
    """Cost against success of one env."""
    headers = ["agent", "episodes", "successes", "success", "tokens / episode", "s / episode"]
    headers += ["tokens / success", "s / success"]
    rows = [
        [
            str(r.entry),
            str(r.episodes),
            str(r.successes),
            f3(r.success_rate),
            g4(r.tokens_per_episode),
            g4(r.seconds_per_episode),
            g4(r.tokens_per_success),
            g4(r.seconds_per_success),
        ]
        for r in cost.itertuples()
    ]
    return _view(rows, headers)


def steps_view(steps: pd.DataFrame) -> pd.DataFrame:
    """Steps-to-success summary of one env."""
    headers = ["agent", "successes", "min", "median", "mean", "max"]
    rows = [
        [str(r.entry), str(r.successes), g4(r.min), g4(r.median), g4(r.mean), g4(r.max)]
        for r in steps.itertuples()
    ]
    return _view(rows, headers)


def rerank_view(rerank: pd.DataFrame) -> pd.DataFrame:
    """Reranking summary of one env."""
    headers = ["agent", "episodes", "reranked steps", "steps with logprobs"]
    headers += ["differs from top", "rate", "chosen not among candidates", "scorers"]
    rows = [
        [
            str(r.entry),
            str(r.episodes),
            str(r.reranked_steps),
            str(r.steps_with_logprobs),
            str(r.differs_from_top),
            f3(r.differs_rate),
            str(r.chosen_not_in_candidates),
            str(r.scorers),
        ]
        for r in rerank.itertuples()
    ]
    return _view(rows, headers)


def calibration_view(calib: pd.DataFrame) -> pd.DataFrame:
    """Calibration summary (all envs)."""
    headers = ["env", "agent", "scorer", "points", "mean score", "mean return", "Pearson r"]
    rows = [
        [
            str(r.env_id),
            str(r.entry),
            str(r.scorer),
            str(r.points),
            g4(r.mean_score),
            g4(r.mean_return),
            f3(r.pearson_r),
        ]
        for r in calib.itertuples()
    ]
    return _view(rows, headers)


def runs_view(data: ReportData) -> pd.DataFrame:
    """One row per run dir."""
    headers = ["run", "path", "episodes", "harness", "git commit", "problems"]
    rows = [
        [
            r.label,
            str(r.path),
            str(len(r.records)),
            str(r.info.get("harness_version", DASH)),
            r.commit,
            "; ".join(r.problems),
        ]
        for r in data.runs
    ]
    return _view(rows, headers)


def errors_view(data: ReportData, width: int = 200) -> pd.DataFrame:
    """Episodes that ended with an error (message cut to ``width`` characters)."""
    headers = ["env", "agent", "seed", "error"]
    ep = data.episodes
    if ep.empty:
        return _view([], headers)
    bad = ep[ep["error"].astype(str) != ""]
    rows = [
        [str(r.env_id), str(r.entry), str(r.seed), str(r.error)[:width]] for r in bad.itertuples()
    ]
    return _view(rows, headers)


def markdown_table(view: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of string cells (pipes and newlines escaped)."""

    def cell(v: Any) -> str:
        return str(v).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in view.columns) + " |"
    rule = "|" + "|".join("---" for _ in view.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in view.itertuples(index=False)]
    return "\n".join([head, rule, *body]) if body else "(none)"
