"""Report charts as inline SVG strings (matplotlib, no pyplot state); optional dependency."""

from __future__ import annotations

import io
import itertools
from typing import Any

import numpy as np
import pandas as pd

NO_MATPLOTLIB = "charts need matplotlib: pip install 'qharness[report]'"
_salt = itertools.count()


def available() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, list[Any]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def to_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element (no XML prologue), ids unique within a page."""
    import matplotlib

    buf = io.StringIO()
    meta = {"Date": None, "Creator": None, "Format": None, "Type": None}
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"c{next(_salt)}"}):
        fig.savefig(buf, format="svg", metadata=meta)
    text = buf.getvalue()
    return text[text.index("<svg") :].replace("<svg ", '<svg class="chart" role="img" ', 1)


def _height(n: int) -> float:
    return 1.3 + 0.38 * max(n, 1)


def success_chart(board: pd.DataFrame, env_id: str) -> str:
    """Horizontal bars: success rate of each entry on one env, with 95% CI error bars."""
    b = board.iloc[::-1]
    fig, (ax,) = _figure(7.0, _height(len(b)))
    y = np.arange(len(b))
    rate = b["success_rate"].to_numpy(float)
    err = np.vstack([rate - b["success_ci_low"].to_numpy(float), b["success_ci_high"] - rate])
    ax.barh(y, rate, xerr=np.clip(err, 0, None), color="#4c78a8", capsize=4, height=0.6)
    ax.set_yticks(y, b["entry"].tolist())
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("success rate (95% bootstrap CI)")
    ax.set_title(env_id, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return to_svg(fig)


def paired_chart(pairs: pd.DataFrame, env_id: str) -> str:
    """Forest plot of A − B differences in success and in reward, with paired 95% CIs."""
    p = pairs.iloc[::-1]
    fig, axes = _figure(9.0, 1.0 + 0.6 * max(len(p), 1), ncols=2)
    y = np.arange(len(p))
    labels = [f"{a}\n− {b}" for a, b in zip(p["a"], p["b"], strict=True)]
    for ax, key, title in zip(
        axes, ("success", "reward"), ("success", "total reward"), strict=True
    ):
        mid = p[f"{key}_diff"].to_numpy(float)
        err = np.vstack([mid - p[f"{key}_low"].to_numpy(float), p[f"{key}_high"] - mid])
        ax.errorbar(mid, y, xerr=np.clip(err, 0, None), fmt="o", color="#e45756", capsize=4)
        ax.axvline(0, color="#888", lw=1)
        ax.set_yticks(y, labels if key == "success" else [""] * len(y), fontsize=8)
        ax.set_ylim(-0.6, len(p) - 0.4)
        ax.margins(x=0.1)
        ax.set_title(f"Δ {title}, A − B (paired 95% CI)", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(env_id, fontsize=10)
    return to_svg(fig)


def cost_chart(cost: pd.DataFrame, board: pd.DataFrame, env_id: str) -> str:
    """Success rate against seconds (and tokens, when any) per episode, one point per entry."""
    merged = cost.merge(board[["entry", "success_ci_low", "success_ci_high"]], on="entry")
    use_tokens = bool((merged["tokens_per_episode"] > 0).any())
    fig, axes = _figure(8.0 if use_tokens else 5.5, 3.4, ncols=2 if use_tokens else 1)
    xs = [("seconds_per_episode", "seconds per episode")]
    if use_tokens:
        xs.append(("tokens_per_episode", "tokens per episode"))
    rate = merged["success_rate"].to_numpy(float)
    err = np.vstack([rate - merged["success_ci_low"], merged["success_ci_high"] - rate])
    for ax, (col, label) in zip(axes, xs, strict=True):
        for i, row in enumerate(merged.itertuples()):
            ax.errorbar(
                getattr(row, col),
                rate[i],
                yerr=np.clip(err[:, i : i + 1], 0, None),
                fmt="o",
                capsize=3,
                label=row.entry,
            )
        x = merged[col].to_numpy(float)
        if (x > 0).all() and x.max() / x.min() >= 20:
            ax.set_xscale("log")
            ax.margins(x=0.15)
        else:
            right = max(float(x.max()) * 1.15, 1e-9)
            ax.set_xlim(-0.04 * right, right)
        ax.set_xlabel(label)
        ax.set_ylabel("success rate")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize=7, loc="best")
    fig.suptitle(env_id, fontsize=10)
    return to_svg(fig)


def steps_chart(raw: dict[str, list[int]], env_id: str) -> str:
    """Steps taken in won episodes: box plot and points per entry."""
    names = sorted(raw)[::-1]
    fig, (ax,) = _figure(7.0, _height(len(names)))
    data = [raw[n] for n in names]
    shown = [i for i, d in enumerate(data) if d]
    if shown:
        _hbox(ax, [data[i] for i in shown], shown)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data):
        ax.scatter(d, i + rng.uniform(-0.15, 0.15, len(d)), s=10, alpha=0.5, color="#54a24b")
    ax.set_yticks(range(len(names)), [f"{n} (n={len(raw[n])})" for n in names])
    ax.set_xlabel("steps in won episodes")
    ax.set_title(env_id, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return to_svg(fig)


def _hbox(ax: Any, data: list[list[int]], positions: list[int]) -> None:
    try:  # matplotlib >= 3.10
        ax.boxplot(data, positions=positions, orientation="horizontal")
    except TypeError:
        ax.boxplot(data, positions=positions, vert=False)


def calibration_chart(points: pd.DataFrame, title: str) -> str:
    """Chosen action's score against realised return: points and equal-count bin means."""
    scorers = sorted(set(points["scorer"]))
    fig, axes = _figure(3.6 * len(scorers) + 0.6, 3.4, ncols=len(scorers))
    for ax, scorer in zip(axes, scorers, strict=True):
        g = points[points["scorer"] == scorer].sort_values("score")
        ax.scatter(g["score"], g["return"], s=9, alpha=0.35, color="#4c78a8", label="steps")
        bins = np.array_split(np.arange(len(g)), min(10, len(g)))
        bx = [g["score"].iloc[b].mean() for b in bins if len(b)]
        by = [g["return"].iloc[b].mean() for b in bins if len(b)]
        ax.plot(bx, by, "o-", color="#e45756", label="bin means")
        lo, hi = min(g["score"].min(), g["return"].min()), max(g["score"].max(), g["return"].max())
        if lo >= 0 and hi <= 1:
            ax.plot([0, 1], [0, 1], ls="--", color="#888", lw=1, label="y = x")
        ax.set_xlabel(f"score of chosen action ({scorer})")
        ax.set_ylabel("realised return from that step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    return to_svg(fig)
