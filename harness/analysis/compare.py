"""``python -m harness.analysis.compare``: paired comparison of two agents across run dirs
(same seeds).

Reads every run dir given (``episodes.jsonl``, or the ``episodes.csv`` that ``results/`` keeps;
later dirs win on the same episode) and prints/writes, per env, the pipeline's comparison rows
(``compare_records``): both success rates and mean rewards with the paired-bootstrap
95% CI of the differences.

``DIR=NAME`` names the (single) agent of a run dir: several dirs given the same name are
independent samples of one agent (``harness.analysis.passk``'s ``sample<j>`` runs), and each seed's
success and reward are their mean over the samples, e.g. ``--base react-t1`` with
``passk/sample0=react-t1 passk/sample1=react-t1``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harness.analysis.stats import mcnemar_exact, paired_bootstrap
from harness.errors import InputError
from harness.leaderboard import check_csv_out, write_csv
from harness.store import RunStore


def compare_records(
    records: list[Any], base: str, q_agent: str, env_ids: list[str]
) -> list[dict[str, Any]]:
    """Per env: paired bootstrap (q - base) of success and reward over shared seeds, and the
    exact McNemar p-value of the success difference."""
    rows = []
    for env_id in env_ids:
        by = {(r.agent, r.seed): r for r in records if r.env_id == env_id}
        seeds = sorted(s for a, s in by if a == base and (q_agent, s) in by)
        row: dict[str, Any] = {
            "env_id": env_id,
            "base": base,
            "q_agent": q_agent,
            "seeds": len(seeds),
        }
        for metric in ("success", "total_reward"):
            a = [float(getattr(by[(q_agent, s)], metric)) for s in seeds]
            b = [float(getattr(by[(base, s)], metric)) for s in seeds]
            diff, low, high = paired_bootstrap(a, b)
            row.update({f"{metric}_q": _mean(a), f"{metric}_base": _mean(b)})
            row.update({f"{metric}_diff": diff, f"{metric}_ci_low": low, f"{metric}_ci_high": high})
        row["success_p_mcnemar"] = mcnemar_exact(
            [float(by[(q_agent, s)].success) for s in seeds],
            [float(by[(base, s)].success) for s in seeds],
        )
        row["errors"] = sum(1 for s in seeds for a in (base, q_agent) if by[(a, s)].error)
        rows.append(row)
    return rows


def _mean(x: list[float]) -> float:
    return sum(x) / len(x) if x else float("nan")


@dataclass(frozen=True)
class SeedMean:
    """One seed of an agent sampled several times: mean success and reward over the samples."""

    env_id: str
    agent: str
    seed: int
    success: float
    total_reward: float
    error: str = ""


def split_arg(arg: str) -> tuple[str, str]:
    """``DIR`` or ``DIR=NAME`` -> (dir, name or '')."""
    d, eq, name = arg.rpartition("=")
    return (d, name) if eq and d else (arg, "")


def missing_runs(runs: Sequence[str]) -> list[str]:
    """The dirs of ``runs`` (``DIR`` or ``DIR=NAME``) that hold no episodes."""
    return [
        d
        for d, _ in map(split_arg, runs)
        if not any((Path(d) / f).exists() for f in ("episodes.jsonl", "episodes.csv"))
    ]


def _episodes(run_dir: str) -> list[Any]:
    if (Path(run_dir) / "episodes.jsonl").exists():
        return list(RunStore(run_dir).load())
    frame = pd.read_csv(Path(run_dir) / "episodes.csv", keep_default_na=False)
    return [
        SeedMean(r.env_id, r.agent, int(r.seed), float(r.success), float(r.total_reward), r.error)
        for r in frame.itertuples()
    ]


def load(runs: Sequence[str]) -> list[Any]:
    """The records of ``runs`` (``DIR`` or ``DIR=NAME``), named samples averaged per seed."""
    plain: dict[tuple[str, str, int], Any] = {}
    named: dict[tuple[str, str, int], list[Any]] = {}
    for arg in runs:
        run_dir, name = split_arg(arg)
        episodes = _episodes(run_dir)
        agents = {r.agent for r in episodes}
        if name and len(agents) > 1:
            raise ValueError(
                f"{run_dir}={name}: the run holds {len(agents)} agents; name one-agent runs"
            )
        for r in episodes:
            if name:
                named.setdefault((r.env_id, name, r.seed), []).append(r)
            else:
                plain[(r.env_id, r.agent, r.seed)] = r
    for (env_id, name, seed), recs in named.items():
        n = len(recs)
        plain[(env_id, name, seed)] = SeedMean(
            env_id,
            name,
            seed,
            sum(float(r.success) for r in recs) / n,
            sum(float(r.total_reward) for r in recs) / n,
            "; ".join(r.error for r in recs if r.error),
        )
    return list(plain.values())


def compare(runs: Sequence[str], base: str, other: str) -> pd.DataFrame:
    """One row per env: paired seeds, rates, differences (``other`` - ``base``) and CIs."""
    recs = load(runs)
    envs = sorted({r.env_id for r in recs})
    return pd.DataFrame(compare_records(recs, base, other, envs))


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m harness.analysis.compare", description=__doc__)
    p.add_argument("runs", nargs="+", metavar="DIR[=NAME]", help="run dirs (episodes.jsonl/csv)")
    p.add_argument("--base", required=True)
    p.add_argument("--other", required=True)
    p.add_argument("--out", help="CSV to write")
    ns = p.parse_args(argv)
    if missing := missing_runs(ns.runs):
        print(f"error: no episodes in {', '.join(missing)}: pass run dirs", file=sys.stderr)
        return 2
    try:
        if ns.out:
            check_csv_out(ns.out)
        table = compare(ns.runs, ns.base, ns.other)
    except (ValueError, InputError) as exc:  # RunDirError (an InputError): a newer schema
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if table.empty or not table["seeds"].any():
        print(f"error: no seeds where both {ns.base!r} and {ns.other!r} ran", file=sys.stderr)
        return 2
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if ns.out:
        write_csv(table, ns.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
