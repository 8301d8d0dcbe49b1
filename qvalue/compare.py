"""``python -m qvalue.compare``: paired comparison of two agents across run dirs (same seeds).

Reads ``episodes.jsonl`` of every run dir given (later dirs win on the same episode) and
prints/writes, per env, the pipeline's comparison rows (``qvalue.pipeline.compare``): both
success rates and mean rewards with the paired-bootstrap 95% CI of the differences.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from harness.leaderboard import write_csv
from harness.store import RunStore
from qvalue.pipeline import compare as compare_records


def compare(run_dirs: Sequence[str], base: str, other: str) -> pd.DataFrame:
    """One row per env: paired seeds, rates, differences (``other`` - ``base``) and CIs."""
    recs = list({r.key: r for d in run_dirs for r in RunStore(d).load()}.values())
    envs = sorted({r.env_id for r in recs})
    return pd.DataFrame(compare_records(recs, base, other, envs))


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
        print(f"error: no episodes.jsonl in {', '.join(missing)}: pass run dirs", file=sys.stderr)
        return 2
    table = compare(ns.runs, ns.base, ns.other)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if ns.out:
        write_csv(table, ns.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
