"""``python -m harness.analysis.passk OUT --envs ID ... --agent react --k 4``: oracle headroom.

Plays every test seed ``k`` times with the same agent, each time with a different
``sample_seed`` (agents that sample take that option: ``react`` with ``temperature`` > 0
and ``random`` give ``k`` independent episodes of the same task), through ``harness.api``
into ``OUT/sample<j>`` (each resumable). Per env it reports pass@k (any of the ``k``
episodes succeeds), best-of-k reward (mean over seeds of the largest reward), and the
single-sample means, in ``OUT/passk.csv``.

This is the headroom a perfect reranker of whole episodes would have: how much of it
Q-guidance captures is the react-q row against these numbers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.analysis.stats import pass_at_k
from harness.api import INPUT_ERRORS, log_to_stderr
from harness.config import key_values

ERRORS: tuple[type[Exception], ...] = (ValueError, *INPUT_ERRORS)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """CLI flags."""
    p = argparse.ArgumentParser(prog="python -m harness.analysis.passk", description=__doc__)
    p.add_argument("out", metavar="OUT", help="run dir (one harness run per sample)")
    p.add_argument("--envs", nargs="+", required=True, metavar="ID")
    p.add_argument("--agent", default="react")
    p.add_argument("--k", type=int, default=4, help="episodes per test seed")
    p.add_argument("--episodes", type=int, default=20, help="test seeds per env")
    p.add_argument("--seed", type=int, default=0, help="first test seed")
    p.add_argument("--max-steps", type=int, default=30)
    p.add_argument("--policy", default="", help="policy spec (e.g. local)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--agent-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="extra agent option, e.g. --agent-opt max_tokens=64")  # fmt: skip
    return p.parse_args(argv)


def run_samples(ns: argparse.Namespace) -> list[list[Any]]:
    """``k`` harness runs (sample_seed 0..k-1); their records, one list per sample."""
    from agents.registry import accepts
    from harness.api import evaluate
    from harness.config import RunConfig

    if not accepts(ns.agent, "sample_seed"):
        raise ValueError(
            f"agent {ns.agent!r} takes no sample_seed option, so its k episodes of a seed "
            "would be identical; pass@k needs an agent that samples (react, random)"
        )
    opts = key_values(ns.agent_opt, "--agent-opt")
    if accepts(ns.agent, "temperature"):  # random samples without one
        opts["temperature"] = ns.temperature
    samples = []
    for j in range(ns.k):
        out = Path(ns.out) / f"sample{j}"
        done = finished(out, ns)
        if done is not None:  # e.g. a copied run of more seeds: read, never re-plan it
            samples.append(done)
            continue
        cfg = RunConfig(
            envs=tuple(ns.envs),
            agents=(ns.agent,),
            episodes=ns.episodes,
            seed=ns.seed,
            max_steps=ns.max_steps,
            split="test",
            out=str(out),
            resume=(out / "episodes.jsonl").exists(),
            workers=ns.workers,
            policy=ns.policy,
            leaderboard="",
            agent_options={ns.agent: {**opts, "sample_seed": j}},
        ).validate()
        samples.append(list(evaluate(cfg).records))
    return samples


def finished(out: Path, ns: argparse.Namespace) -> list[Any] | None:
    """The records of ``out`` when it holds an error-free episode of ``ns.agent`` for every
    requested env and seed and also seeds beyond them: a run dir copied in as a sample (as
    ``confirm.sh`` copies its react-t1 run) is read, since ``--resume`` refuses it as a
    different plan; None otherwise."""
    if not (out / "episodes.jsonl").is_file():
        return None
    from harness.store import RunStore

    records = RunStore(out).load()
    seeds = set(range(ns.seed, ns.seed + ns.episodes))
    have = {(r.env_id, r.seed) for r in records if r.agent == ns.agent and not r.error}
    more = {s for _, s in have} - seeds
    if not more or not all((e, s) in have for e in ns.envs for s in seeds):
        return None  # the same plan (or unfinished): --resume continues it as usual
    return [r for r in records if r.seed in seeds]


def headroom(samples: list[list[Any]], agent: str, env_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Per env over the seeds every sample has: pass@k, best-of-k reward, single means."""
    rows = []
    for env_id in env_ids:
        runs = [
            {r.seed: r for r in recs if r.env_id == env_id and r.agent == agent} for recs in samples
        ]
        seeds = sorted(set.intersection(*(set(r) for r in runs))) if runs else []
        wins = [[bool(run[s].success) for run in runs] for s in seeds]
        rewards = [[float(run[s].total_reward) for run in runs] for s in seeds]
        n = max(len(seeds), 1)
        rows.append(
            {
                "env_id": env_id,
                "agent": agent,
                "k": len(runs),
                "seeds": len(seeds),
                "success_mean": sum(map(sum, wins)) / (n * max(len(runs), 1)),
                f"pass_at_{len(runs)}": pass_at_k(wins),
                "reward_mean": sum(map(sum, rewards)) / (n * max(len(runs), 1)),
                f"best_of_{len(runs)}_reward": sum(map(max, rewards)) / n if seeds else 0.0,
                "errors": sum(1 for run in runs for s in seeds if run[s].error),
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    log_to_stderr()
    import pandas as pd

    from harness.leaderboard import write_csv

    ns = parse_args(argv)
    if ns.k < 1 or ns.episodes < 1:
        print("error: --k and --episodes must be at least 1", file=sys.stderr)
        return 2
    try:
        samples = run_samples(ns)
    except ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    frame = pd.DataFrame(headroom(samples, ns.agent, ns.envs))
    write_csv(frame, Path(ns.out) / "passk.csv")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
