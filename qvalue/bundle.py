"""``python -m qvalue.bundle``: rebuild the bundled Q model ``qvalue/artifacts/keychest-minilm``.

One command, fixed recipe: MCTS on the KeyChest TRAIN split (admissible proposer, random
rollouts), step-level pairs held out by task, and the MiniLM cross-encoder trained with the
Bradley-Terry loss, saving only the top encoder layer and the head in float16 (a few MB). The
default suite's ``admissible-q`` row uses it. Work files go to ``--work`` (default
``results/cache/keychest-bundle``); the artifact dir gets ``model.safetensors``,
``card.json`` and ``pairs.meta.json``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from qvalue.models import ARTIFACTS

NAME = "keychest-minilm"
ENV = "harness/KeyChest-v0"
COLLECT = ["--tasks", "60", "--iterations", "400", "--k", "8", "--depth", "25"]
PAIRS = ["--margin", "0.1", "--min-visits", "5", "--heldout", "0.2", "--seed", "0"]
TRAIN = [
    *("--kind", "encoder", "--epochs", "2", "--batch-size", "16", "--lr", "3e-4"),
    *("--head-lr", "3e-3", "--max-length", "96", "--max-turns", "2"),
    *("--train-layers", "1", "--save-dtype", "float16", "--seed", "0", "--device", "cpu"),
]


def main(argv: Sequence[str] | None = None) -> int:
    """Collect, pair, train; copy the model into ``qvalue/artifacts/<name>``."""
    p = argparse.ArgumentParser(prog="python -m qvalue.bundle", description=__doc__)
    p.add_argument("--work", default="results/cache/keychest-bundle", metavar="DIR")
    p.add_argument("--dest", default=str(ARTIFACTS / NAME), metavar="DIR")
    p.add_argument("--workers", type=int, default=1)
    ns = p.parse_args(argv)
    from qvalue import collect, pairs, train

    work = Path(ns.work)
    steps = [
        lambda: collect.main(
            ["--env", ENV, *COLLECT, "--workers", str(ns.workers), "--out", str(work / "collect")]
            + (["--resume"] if (work / "collect" / collect.SETTINGS_FILE).exists() else [])
        ),
        lambda: pairs.main([str(work / "collect"), "--out", str(work / "pairs.jsonl"), *PAIRS]),
        lambda: train.main(
            ["--pairs", str(work / "pairs.jsonl"), "--out", str(work / "model"), *TRAIN]
        ),
    ]
    for step in steps:
        if step() != 0:
            return 2
    dest = Path(ns.dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "card.json"):
        shutil.copy2(work / "model" / name, dest / name)
    shutil.copy2(pairs.meta_path(work / "pairs.jsonl"), dest / "pairs.meta.json")
    print(f"[bundle] wrote {dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
