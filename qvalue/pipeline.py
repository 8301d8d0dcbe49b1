"""``python -m qvalue.pipeline --env ID ...``: collect -> pairs -> train -> evaluate -> compare.

1. MCTS trees on the TRAIN split of each env (``<out>/collect/<env>``, resumable);
2. step-level pairs from all trees (``<out>/pairs.jsonl``, held out by task);
3. a Q model (``<out>/model``; skipped when its card already has this pair-data hash);
4. base agent vs Q-guided agent on the TEST split with the same seeds, through harness.api's
   functions (``<out>/eval``: episodes, leaderboard; merged into ``--leaderboard``);
5. a paired bootstrap over shared seeds of the success and reward differences, and optional
   pass@k / best-of-k reward of the base agent sampled at ``--passk-temperature`` (oracle
   headroom, ``harness.analysis.passk`` into ``<out>/passk``), in ``<out>/comparison.json``
   / ``.csv``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.analysis.compare import compare_records
from harness.analysis.passk import parse_args as passk_args
from harness.api import INPUT_ERRORS, log_to_stderr
from qvalue.collect import CollectError, collect, settings_from_args
from qvalue.collect import parse_args as collect_args
from scoring.models import KINDS
from scoring.q.mcts import ROLLOUTS
from scoring.q.pairs import RULES

# bad input of any stage: one line on stderr, exit code 2
ERRORS: tuple[type[Exception], ...] = (
    CollectError,
    ValueError,
    FileNotFoundError,
    ImportError,
    *INPUT_ERRORS,
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """CLI flags."""
    p = argparse.ArgumentParser(prog="python -m qvalue.pipeline", description=__doc__)
    p.add_argument("--env", nargs="+", required=True, metavar="ID")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--resume", action="store_true", help="reuse finished stages in --out")
    g = p.add_argument_group("collection (train split)")
    g.add_argument("--tasks", type=int, default=20)
    g.add_argument("--iterations", type=int, default=30)
    g.add_argument("--k", type=int, default=5, help="children per node, and eval candidates")
    g.add_argument("--depth", type=int, default=15)
    g.add_argument("--c-uct", type=float, default=1.0)
    g.add_argument("--rollout", default="policy", choices=ROLLOUTS)
    g.add_argument("--gamma", type=float, default=0.95, help="discount of the MCTS returns")
    g.add_argument("--proposer", default="admissible", help="'admissible' or an agent (react)")
    g.add_argument("--policy", default="", help="policy spec for LLM proposers (e.g. local)")
    g.add_argument(
        "--eval-proposer",
        default="",
        help="candidates of the Q agent at eval (default: --proposer); react = the policy's",
    )
    g.add_argument("--workers", type=int, default=1)
    g = p.add_argument_group("pairs and training")
    g.add_argument("--margin", type=float, default=0.1)
    g.add_argument("--min-visits", type=int, default=2)
    g.add_argument("--heldout", type=float, default=0.2)
    g.add_argument("--rule", default=RULES[0], choices=RULES, help="pair rule (qvalue.pairs)")
    g.add_argument("--train-tasks", type=int, default=0, help="first N train tasks (0: all)")
    g.add_argument("--kind", default="encoder", choices=KINDS)
    g.add_argument("--train-arg", action="append", default=[], metavar="--FLAG=VALUE",
                   help="extra qvalue.train flag, e.g. --train-arg=--epochs=2")  # fmt: skip
    g = p.add_argument_group("evaluation (test split)")
    g.add_argument("--episodes", type=int, default=20)
    g.add_argument("--eval-seed", type=int, default=0)
    g.add_argument("--max-steps", type=int, default=30)
    g.add_argument("--base-agent", default="", help="default: react for react, else random")
    g.add_argument("--q-agent", default="react-q")
    g.add_argument("--eval-k", type=int, default=0, help="candidates at eval (default: --k)")
    g.add_argument("--passk", type=int, default=0, help="base-agent pass@k episodes per seed")
    g.add_argument("--passk-temperature", type=float, default=1.0,
                   help="sampling temperature of the pass@k episodes")  # fmt: skip
    g.add_argument("--leaderboard", default="results/leaderboard.csv")
    return p.parse_args(argv)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def stage_collect(ns: argparse.Namespace, out: Path) -> list[Path]:
    """MCTS collection per env; returns the collection dirs."""
    dirs = []
    for env_id in ns.env:
        d = out / "collect" / _safe(env_id)
        argv = [
            *("--env", env_id, "--tasks", str(ns.tasks), "--iterations", str(ns.iterations)),
            *("--k", str(ns.k), "--depth", str(ns.depth), "--c-uct", str(ns.c_uct)),
            *("--rollout", ns.rollout, "--proposer", ns.proposer, "--policy", ns.policy),
            *("--gamma", str(ns.gamma)),
            *("--workers", str(ns.workers), "--out", str(d)),
        ]
        settings = settings_from_args(collect_args(argv))
        collect(settings, d, ns.workers, resume=True)
        dirs.append(d)
    return dirs


def stage_pairs(ns: argparse.Namespace, dirs: list[Path], out: Path) -> dict[str, Any]:
    """Pairs from all trees; returns the pairs meta."""
    from scoring.q.pairs import main as pairs_main
    from scoring.q.pairs import meta_path

    path = out / "pairs.jsonl"
    argv = [*map(str, dirs), "--out", str(path), "--margin", str(ns.margin)]
    argv += ["--min-visits", str(ns.min_visits), "--heldout", str(ns.heldout)]
    argv += ["--rule", ns.rule, "--train-tasks", str(ns.train_tasks)]
    if pairs_main(argv) != 0:
        raise CollectError("building pairs failed")
    return dict(json.loads(meta_path(path).read_text()))


def stage_train(ns: argparse.Namespace, out: Path, pair_hash: str) -> dict[str, Any]:
    """Train the Q model unless ``<out>/model`` already holds one for these pairs."""
    from qvalue.train import parse_args as train_args
    from qvalue.train import train_model
    from scoring.models import CARD

    model = out / "model"
    if ns.resume and (model / CARD).exists():
        card = json.loads((model / CARD).read_text())
        if card.get("pair_data", {}).get("hash") == pair_hash:
            logging.getLogger("qharness").info("[pipeline] reusing %s (same pair data)", model)
            return dict(card)
    argv = ["--pairs", str(out / "pairs.jsonl"), "--kind", ns.kind, "--out", str(model)]
    return train_model(train_args(argv + list(ns.train_arg)))


def stage_eval(ns: argparse.Namespace, out: Path) -> tuple[str, str, list[Any]]:
    """Base vs Q agent on the test split (same seeds) via ``harness.api``; the records."""
    from agents.registry import accepts
    from harness.api import evaluate
    from harness.config import RunConfig

    base = ns.base_agent or ("react" if ns.proposer == "react" else "random")
    proposer = ns.eval_proposer or ns.proposer
    q_opts = {"scorer": str(out / "model"), "proposer": proposer, "k": ns.eval_k or ns.k}
    if not accepts(ns.q_agent, "proposer"):  # admissible-q: its proposer is fixed
        del q_opts["proposer"]
    run_dir = out / "eval"
    cfg = RunConfig(
        envs=tuple(ns.env),
        agents=(base, ns.q_agent),
        episodes=ns.episodes,
        seed=ns.eval_seed,
        max_steps=ns.max_steps,
        split="test",
        out=str(run_dir),
        resume=ns.resume and (run_dir / "episodes.jsonl").exists(),
        policy=ns.policy,
        leaderboard=ns.leaderboard,
        agent_options={ns.q_agent: q_opts},
    ).validate()
    return base, ns.q_agent, list(evaluate(cfg).records)


def passk(ns: argparse.Namespace, out: Path, base: str, k: int) -> dict[str, dict[str, Any]]:
    """Oracle headroom of the base agent per env (``harness.analysis.passk``, ``<out>/passk``)."""
    from harness.analysis.passk import headroom, run_samples

    argv = [str(out / "passk"), "--envs", *ns.env, "--agent", base, "--k", str(k)]
    argv += ["--episodes", str(ns.episodes), "--seed", str(ns.eval_seed)]
    argv += ["--max-steps", str(ns.max_steps), "--policy", ns.policy, "--workers", str(ns.workers)]
    argv += ["--temperature", str(ns.passk_temperature)]
    pk = passk_args(argv)
    return {row["env_id"]: row for row in headroom(run_samples(pk), base, ns.env)}


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    log_to_stderr()
    ns = parse_args(argv)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    try:
        t = time.perf_counter()
        dirs = stage_collect(ns, out)
        times["collect_s"] = time.perf_counter() - t
        t = time.perf_counter()
        meta = stage_pairs(ns, dirs, out)
        times["pairs_s"] = time.perf_counter() - t
        t = time.perf_counter()
        card = stage_train(ns, out, meta["hash"])
        times["train_s"] = time.perf_counter() - t
        t = time.perf_counter()
        base, q_agent, records = stage_eval(ns, out)
        times["eval_s"] = time.perf_counter() - t
        rows = compare_records(records, base, q_agent, list(ns.env))
        if ns.passk > 0:
            t = time.perf_counter()
            heads = passk(ns, out, base, ns.passk)
            for row in rows:
                head = heads[row["env_id"]]
                row[f"base_pass_at_{ns.passk}"] = head[f"pass_at_{ns.passk}"]
                row[f"base_best_of_{ns.passk}_reward"] = head[f"best_of_{ns.passk}_reward"]
            times["passk_s"] = time.perf_counter() - t
    except ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    extra = {"argv": list(argv or sys.argv[1:]), "settings": vars(ns), "times_s": times}
    frame = write_comparison(out, rows, {**extra, "pairs": meta, "model_card": card})
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def write_comparison(out: Path, rows: list[dict[str, Any]], extra: dict[str, Any]) -> Any:
    """``comparison.json`` (rows + run info) and ``comparison.csv``; the rows as a frame."""
    import pandas as pd

    from harness.leaderboard import write_csv

    card = extra.get("model_card", {})
    summary = {
        "rows": rows,
        **{k: v for k, v in extra.items() if k != "model_card"},
        "model": {
            k: card.get(k) for k in ("kind", "heldout_accuracy", "train_time_s", "pair_data")
        },
    }
    (out / "comparison.json").write_text(json.dumps(summary, indent=2, default=str))
    frame = pd.DataFrame(rows)
    write_csv(frame, out / "comparison.csv")
    return frame


if __name__ == "__main__":
    sys.exit(main())
