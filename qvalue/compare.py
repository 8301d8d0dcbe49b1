"""``python -m qvalue.compare``: paired comparison of two agents across run dirs (same seeds).

Reads ``episodes.jsonl`` of every run dir given (later dirs win on the same episode), pairs
``--base`` and ``--other`` episodes by (env, seed) and prints/writes, per env, both success
rates and mean rewards with the paired-bootstrap 95% CI of the differences.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from harness.leaderboard import write_csv
from harness.stats import paired_bootstrap
from harness.store import RunStore


def compare(run_dirs: Sequence[str], base: str, other: str) -> pd.DataFrame:
    """One row per env: n paired seeds, rates, differences and their CIs."""
    recs = {r.key: r for d in run_dirs for r in RunStore(d).load()}
    frame = pd.DataFrame([r.to_dict() for r in recs.values()])
    rows = []
    for env_id, g in frame.groupby("env_id", sort=True):
        a = g[g.agent == other].set_index("seed")
        b = g[g.agent == base].set_index("seed")
        seeds = sorted(set(a.index) & set(b.index))
        row: dict[str, object] = {
            "env_id": env_id,
            "base": base,
            "other": other,
            "seeds": len(seeds),
        }
        for col in ("success", "total_reward"):
            x, y = a.loc[seeds, col].astype(float), b.loc[seeds, col].astype(float)
            diff, low, high = paired_bootstrap(x.to_numpy(), y.to_numpy())
            row |= {
                f"{col}_other": x.mean(),
                f"{col}_base": y.mean(),
                f"{col}_diff": diff,
                f"{col}_ci_low": low,
                f"{col}_ci_high": high,
            }
        row["errors"] = int(
            (a.loc[seeds, "error"] != "").sum() + (b.loc[seeds, "error"] != "").sum()
        )
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m qvalue.compare", description=__doc__)
    p.add_argument("runs", nargs="+", help="run dirs holding episodes.jsonl")
    p.add_argument("--base", required=True)
    p.add_argument("--other", required=True)
    p.add_argument("--out", help="CSV to write")
    ns = p.parse_args(argv)
    missing = [d for d in ns.runs if not (Path(d) / "episodes.jsonl").exists()]
    if missing:
        print(f"error: no episodes.jsonl in {', '.join(missing)}", file=sys.stderr)
        return 2
    table = compare(ns.runs, ns.base, ns.other)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if ns.out:
        write_csv(table, ns.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
