"""``python -m harness.analysis.summary``: the Q-guidance result table of a set of run dirs.

For every env, every guided agent and every baseline, on the seeds both played: the mean of
each metric (``success``, ``reward``) for both, the paired difference agent − baseline and its
paired-bootstrap 95% interval. Written as CSV with the columns
``env_id,agent,baseline,metric,seeds,agent_mean,baseline_mean,diff,ci_low,ci_high``. Run dirs
are given as ``DIR`` or ``DIR=NAME`` (``NAME`` renames a one-agent run, e.g. react-q with the
lm-dpo scorer as ``react-q-lm``), as for ``harness.analysis.compare``.

``--by-type FILE`` adds, per env, agent and task type (``info["task_type"]`` at reset, e.g.
HotPotQA's bridge / comparison questions): episodes, success rate, mean reward, wins, and the
share of wins whose episode never searched or looked anything up (an answer given without
reading). ``--calibration FILE``: per env and agent, the chosen action's Q score against the
return realised from that step (points, means, Pearson r). ``--costs FILE``: per env and
agent, what an episode cost and how it ended: mean steps, the share of episodes cut at the step
cap, the share of steps that repeat the step before's action (a loop), mean seconds and tokens.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.analysis.compare import load, missing_runs, split_arg
from harness.analysis.stats import paired_bootstrap, pearson, returns_to_go
from harness.errors import InputError
from harness.leaderboard import check_csv_out, write_csv
from harness.records import latest_per_episode
from harness.store import RunStore

COLUMNS = [
    *("env_id", "agent", "baseline", "metric", "seeds"),
    *("agent_mean", "baseline_mean", "diff", "ci_low", "ci_high"),
]
METRICS = {"success": "success", "reward": "total_reward"}
READING = ("search[", "lookup[")
"""Actions that read: an episode with none of them answered without looking anything up."""


def summary(
    records: Sequence[Any], agents: Sequence[str], baselines: Sequence[str]
) -> pd.DataFrame:
    """One row per (env, agent, baseline, metric) with shared seeds."""
    by = {(r.env_id, r.agent, r.seed): r for r in records}
    rows = []
    for env_id in sorted({r.env_id for r in records}):
        for agent in agents:
            for base in baselines:
                seeds = sorted(
                    s for e, a, s in by if e == env_id and a == agent and (e, base, s) in by
                )
                if not seeds or agent == base:
                    continue
                for metric, field in METRICS.items():
                    a = [float(getattr(by[(env_id, agent, s)], field)) for s in seeds]
                    b = [float(getattr(by[(env_id, base, s)], field)) for s in seeds]
                    diff, low, high = paired_bootstrap(a, b)
                    means = [float(np.mean(a)), float(np.mean(b))]
                    rows.append([env_id, agent, base, metric, len(seeds), *means, diff, low, high])
    return pd.DataFrame(rows, columns=COLUMNS)


def _runs(args: Sequence[str]) -> Iterable[tuple[RunStore, str, Any]]:
    """``(store, name, record)`` of every episode of ``DIR[=NAME]`` runs with a log (the
    store reads trajectories, loose or packed)."""
    for arg in args:
        run_dir, name = split_arg(arg)
        if not (Path(run_dir) / "episodes.jsonl").exists():
            continue
        store = RunStore(run_dir)
        for r in latest_per_episode(store.load()):
            yield store, name or r.agent, r
        store.close_archive()


def _actions(store: RunStore, rec: Any) -> list[str]:
    steps = store.trajectory(rec.env_id, rec.agent, rec.seed)
    return [str(s.get("action", "")) for s in steps if "action" in s]


def by_type(args: Sequence[str]) -> pd.DataFrame:
    """Per env, agent and task type: episodes, success, reward, wins, wins without reading."""
    rows: dict[tuple[str, str, str], list[float]] = {}
    for store, name, r in _runs(args):
        key = (r.env_id, name, r.task_type or "-")
        row = rows.setdefault(key, [0, 0.0, 0.0, 0, 0])
        row[0] += 1
        row[1] += float(r.success)
        row[2] += float(r.total_reward)
        if r.success:
            row[3] += 1
            acts = _actions(store, r)
            row[4] += not any(a.strip().lower().startswith(READING) for a in acts)
    cols = ["env_id", "agent", "task_type", "episodes", "success", "mean_reward", "wins"]
    cols.append("wins_without_reading")
    out = [
        [*k, int(n), s / n, rw / n, int(w), (nr / w) if w else float("nan")]
        for k, (n, s, rw, w, nr) in sorted(rows.items())
    ]
    return pd.DataFrame(out, columns=cols)


def calibration(args: Sequence[str]) -> pd.DataFrame:
    """Per env, agent and Q scorer: the chosen action's score vs the return from that step."""
    points: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for store, name, r in _runs(args):
        steps = [s for s in store.trajectory(r.env_id, r.agent, r.seed) if "action" in s]
        rtg = returns_to_go(steps)
        for i, s in enumerate(steps):
            chosen = next(
                (c for c in s.get("candidates") or [] if c.get("action") == s["action"]), None
            )
            for scorer, value in dict((chosen or {}).get("scores") or {}).items():
                if str(scorer).startswith("q:") and value is not None:
                    points.setdefault((r.env_id, name, scorer), []).append((float(value), rtg[i]))
    cols = ["env_id", "agent", "scorer", "points", "mean_q", "mean_return", "pearson_r"]
    rows = []
    for (env_id, agent, scorer), pts in sorted(points.items()):
        q, ret = [p[0] for p in pts], [p[1] for p in pts]
        rows.append([env_id, agent, scorer, len(pts), np.mean(q), np.mean(ret), pearson(q, ret)])
    return pd.DataFrame(rows, columns=cols)


def costs(args: Sequence[str]) -> pd.DataFrame:
    """Per env and agent: episodes, mean steps, share capped, share of repeated actions,
    mean wall seconds and tokens."""
    rows: dict[tuple[str, str], list[float]] = {}
    for store, name, r in _runs(args):
        row = rows.setdefault((r.env_id, name), [0.0] * 8)
        acts = _actions(store, r)
        again = sum(1 for a, b in pairwise(acts) if a == b)
        add = (1, r.steps, r.truncated, again, len(acts), r.wall_s, r.input_tokens, r.output_tokens)
        row[:] = [total + float(v) for total, v in zip(row, add, strict=True)]
    cols = ["env_id", "agent", "episodes", "mean_steps", "capped", "repeated_actions"]
    cols += ["mean_wall_s", "mean_input_tokens", "mean_output_tokens"]
    out = [
        [*k, int(n), st / n, cap / n, (ag / na) if na else 0.0, w / n, ti / n, to / n]
        for k, (n, st, cap, ag, na, w, ti, to) in sorted(rows.items())
    ]
    return pd.DataFrame(out, columns=cols)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m harness.analysis.summary", description=__doc__)
    p.add_argument("runs", nargs="+", metavar="DIR[=NAME]")
    p.add_argument("--agents", nargs="+", required=True, help="guided agents (rows)")
    p.add_argument("--baselines", nargs="+", required=True)
    p.add_argument("--out", required=True, metavar="FILE.csv")
    p.add_argument("--by-type", metavar="FILE.csv", help="per task type, with wins w/o reading")
    p.add_argument("--calibration", metavar="FILE.csv", help="chosen-action Q vs return")
    p.add_argument("--costs", metavar="FILE.csv", help="steps, loops, seconds, tokens")
    ns = p.parse_args(argv)
    if missing := missing_runs(ns.runs):
        print(f"error: no episodes in {', '.join(missing)}: pass run dirs", file=sys.stderr)
        return 2
    try:
        for flag in ("out", "by_type", "calibration", "costs"):
            if getattr(ns, flag):
                check_csv_out(getattr(ns, flag), "--" + flag.replace("_", "-"))
        table = summary(load(ns.runs), ns.agents, ns.baselines)
        extra = {
            ns.by_type: by_type(ns.runs) if ns.by_type else None,
            ns.calibration: calibration(ns.runs) if ns.calibration else None,
            ns.costs: costs(ns.runs) if ns.costs else None,
        }
    except (ValueError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if table.empty:
        print("error: no seeds where an agent and a baseline both ran", file=sys.stderr)
        return 2
    write_csv(table, ns.out)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for path, frame in extra.items():
        if path and frame is not None:
            write_csv(frame, path)
            print(f"\n{path}:\n{frame.to_string(index=False, float_format=lambda v: f'{v:.3f}')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
