"""``python -m harness.analysis.headroom DIR --out headroom.csv``: a policy's headroom table.

``DIR`` holds one folder per env (as ``results/policies/headroom.sh`` writes them) with three
runs of the same test seeds: ``adapter`` (greedy react, adapter policy), ``base`` (greedy
react, base policy) and ``passk/sample<j>`` (react at temperature 1, ``sample_seed`` j). Per
env, over the seeds that all runs finished without error, it writes greedy success and reward
with and without the adapter, pass@k and best-of-k reward of the samples, and the adapter's
name as its records give it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COLUMNS = (
    "env_id",
    "adapter",
    "seeds",
    "k",
    "greedy_success",
    "greedy_reward",
    "pass_at_k",
    "best_of_k_reward",
    "base_greedy_success",
    "base_greedy_reward",
)


def _episodes(run: Path) -> Any:
    import pandas as pd

    path = run / "episodes.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run results/policies/headroom.sh first")
    frame = pd.read_csv(path, dtype={"error": str})
    return frame[frame["error"].isna() | (frame["error"] == "")]


def adapter_name(run: Path) -> str:
    """The policy name the adapter run recorded (first step's ``policy`` meta), else ''."""
    from harness.store import RunStore

    store = RunStore(run)
    try:
        for name in store.trajectory_names()[:1]:
            steps = store.steps(name)
            return str(steps[0].get("meta", {}).get("policy", "")) if steps else ""
    except (OSError, ValueError):
        return ""
    finally:
        store.close_archive()
    return ""


def env_row(env_dir: Path) -> dict[str, Any]:
    """The table row of one env folder."""
    greedy, base = _episodes(env_dir / "adapter"), _episodes(env_dir / "base")
    samples = [_episodes(p) for p in sorted((env_dir / "passk").glob("sample*"))]
    seeds = set(greedy["seed"]) & set(base["seed"])
    for s in samples:
        seeds &= set(s["seed"])
    seeds_l = sorted(seeds)

    def by_seed(frame: Any, col: str) -> list[float]:
        values = frame.set_index("seed").loc[seeds_l, col]
        return [float(v) for v in values]

    n = max(len(seeds_l), 1)
    wins = [by_seed(s, "success") for s in samples]
    rewards = [by_seed(s, "total_reward") for s in samples]
    return {
        "env_id": str(greedy["env_id"].iloc[0]) if len(greedy) else env_dir.name,
        "adapter": adapter_name(env_dir / "adapter"),
        "seeds": len(seeds_l),
        "k": len(samples),
        "greedy_success": sum(by_seed(greedy, "success")) / n,
        "greedy_reward": sum(by_seed(greedy, "total_reward")) / n,
        "pass_at_k": sum(any(w[i] for w in wins) for i in range(len(seeds_l))) / n,
        "best_of_k_reward": sum(max(r[i] for r in rewards) for i in range(len(seeds_l))) / n
        if samples
        else 0.0,
        "base_greedy_success": sum(by_seed(base, "success")) / n,
        "base_greedy_reward": sum(by_seed(base, "total_reward")) / n,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    import pandas as pd

    p = argparse.ArgumentParser(prog="python -m harness.analysis.headroom", description=__doc__)
    p.add_argument("dir", type=Path, help="folder with one sub-folder per env")
    p.add_argument("--out", type=Path, required=True, help="CSV to write")
    ns = p.parse_args(argv)
    envs = sorted(d for d in ns.dir.glob("*") if (d / "adapter").is_dir())
    if not envs:
        print(f"error: {ns.dir} holds no env folder with an adapter run", file=sys.stderr)
        return 2
    try:
        frame = pd.DataFrame([env_row(d) for d in envs], columns=list(COLUMNS))
    except (FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    frame.to_csv(ns.out, index=False, float_format="%.4f")
    print(frame.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
