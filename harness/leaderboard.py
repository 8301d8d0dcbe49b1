"""Episode tables and leaderboards (pandas), with 95% Wilson intervals of success rates."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from envs.files import atomic_write
from harness import __version__
from harness.analysis.stats import wilson_interval
from harness.errors import InputError
from harness.records import EpisodeRecord

EPISODE_COLUMNS = [
    "env_id",
    "agent",
    "seed",
    "task_id",
    "split",
    "task_type",
    "success",
    "total_reward",
    "steps",
    "invalid_actions",
    "input_tokens",
    "output_tokens",
    "wall_s",
    "error",
    "truncated",
]
LEADERBOARD_COLUMNS = [
    "env_id",
    "agent",
    "episodes",
    "success_rate",
    "success_ci_low",
    "success_ci_high",
    "mean_reward",
    "mean_steps",
    "invalid_action_rate",
    "mean_input_tokens",
    "mean_output_tokens",
    "mean_wall_s",
    "errors",
    "env_fingerprint",
    "harness_version",
    "git_commit",
]
BOARD_KEYS = ("env_id", "agent", "episodes", "success_rate")
"""Columns every harness leaderboard has had (how a foreign CSV is told apart)."""
NUMERIC_COLUMNS = frozenset(LEADERBOARD_COLUMNS[2:13])


def episodes_frame(records: Sequence[EpisodeRecord]) -> pd.DataFrame:
    """One row per episode, fixed columns first, then ``metric_<name>`` columns."""
    rows = []
    for r in records:
        row = {c: getattr(r, c) for c in EPISODE_COLUMNS}
        row.update({f"metric_{k}": v for k, v in sorted(r.metrics.items())})
        rows.append(row)
    df = pd.DataFrame(rows, columns=None if rows else EPISODE_COLUMNS)
    if rows:
        df = df.sort_values(["env_id", "agent", "seed"], kind="stable").reset_index(drop=True)
    return df


def git_commit(path: str | Path | None = None) -> str:
    """The git commit of the harness source (``unknown`` outside a git checkout)."""
    where = Path(path) if path else Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def leaderboard(
    episodes: pd.DataFrame, fingerprints: Mapping[str, str], commit: str
) -> pd.DataFrame:
    """One row per (env, agent) with exactly ``LEADERBOARD_COLUMNS``."""
    rows = []
    if episodes.empty:
        return pd.DataFrame(columns=LEADERBOARD_COLUMNS)
    for (env_id, agent), g in episodes.groupby(["env_id", "agent"], sort=True):
        success = g["success"].astype(float).to_numpy()
        low, high = wilson_interval(int(success.sum()), len(success))
        steps = g["steps"].sum()
        rows.append(
            {
                "env_id": env_id,
                "agent": agent,
                "episodes": len(g),
                "success_rate": success.mean(),
                "success_ci_low": low,
                "success_ci_high": high,
                "mean_reward": g["total_reward"].mean(),
                "mean_steps": g["steps"].mean(),
                "invalid_action_rate": (g["invalid_actions"].sum() / steps) if steps else 0.0,
                "mean_input_tokens": g["input_tokens"].mean(),
                "mean_output_tokens": g["output_tokens"].mean(),
                "mean_wall_s": g["wall_s"].mean(),
                "errors": int((g["error"].astype(str) != "").sum()),
                "env_fingerprint": fingerprints.get(str(env_id), "unknown"),
                "harness_version": __version__,
                "git_commit": commit,
            }
        )
    return pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS)


def check_csv_out(path: str | Path, flag: str = "--out") -> None:
    """A CSV path that cannot be written as a file (a directory, or under a file): InputError
    before any work is done."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{flag} {str(p)!r} is a directory: give a CSV file path")
    parent = next((d for d in p.parents if d.exists()), Path("."))
    if not parent.is_dir():
        raise InputError(f"{flag} {str(p)!r}: {str(parent)!r} is a file, not a directory")


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a CSV atomically (temp file, then rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(p, df.to_csv(index=False, float_format="%.6g"))


class LeaderboardError(InputError):
    """A ``--leaderboard`` file that is not a harness leaderboard, or has a malformed row."""


def read_board(path: str | Path) -> pd.DataFrame | None:
    """The cross-run leaderboard at ``path`` (None when absent or empty); LeaderboardError when
    its header is not a harness leaderboard's or a row is malformed (naming file and line)."""
    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        return None
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LeaderboardError(f"--leaderboard {str(p)!r} cannot be read: {exc}") from None
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    if not set(BOARD_KEYS) <= set(header) or not set(header) <= set(LEADERBOARD_COLUMNS):
        raise LeaderboardError(
            f"--leaderboard {str(p)!r} is not a leaderboard of this harness (its header is "
            f"{','.join(header)[:80]!r}); it was left as it is: give a new file path, or '' "
            "to skip the cross-run leaderboard"
        )
    for row in rows:
        _check_row(p, rows.line_num, header, row)
    return pd.read_csv(p, dtype={"git_commit": str, "env_fingerprint": str})


def _check_row(p: Path, line: int, header: list[str], row: list[str]) -> None:
    bad = ""
    if len(row) != len(header):
        bad = f"has {len(row)} fields, the header {len(header)}"
    else:
        for name, value in zip(header, row, strict=True):
            if name in NUMERIC_COLUMNS and value and not _is_number(value):
                bad = f"has {value[:30]!r} in column {name!r}, not a number"
                break
    if bad:
        raise LeaderboardError(
            f"--leaderboard {str(p)!r} line {line} {bad}: fix or delete that line (nothing "
            "was run), or give another --leaderboard"
        )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def accumulate(board: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """Merge ``board`` into the cross-run leaderboard at ``path``: latest row per
    (env, agent, fingerprint) wins. LeaderboardError when ``path`` is not a leaderboard."""
    p = Path(path)
    old = read_board(p)
    if old is not None:
        old = old[[c for c in LEADERBOARD_COLUMNS if c in old.columns]]
        merged = pd.concat([old, board], ignore_index=True)
    else:
        merged = board.copy()
    merged = merged.drop_duplicates(["env_id", "agent", "env_fingerprint"], keep="last")
    merged = merged.sort_values(["env_id", "agent"], kind="stable").reset_index(drop=True)
    write_csv(merged[LEADERBOARD_COLUMNS], p)
    return merged


def format_table(board: pd.DataFrame) -> str:
    """A compact printable table of a leaderboard."""
    if board.empty:
        return "(no episodes)"
    cols = [
        "env_id",
        "agent",
        "episodes",
        "success_rate",
        "success_ci_low",
        "success_ci_high",
        "mean_reward",
        "mean_steps",
        "errors",
    ]
    return board[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")
