"""``python -m qvalue.train --pairs F --kind encoder|lm-dpo --out DIR``: train a Q model.

Trains on the pairs marked ``train``, reports accuracy on the held-out pairs (tasks never seen
in training), and writes safetensors weights plus ``card.json`` (pair-data hash, envs,
policy, hyperparameters, held-out pair accuracy, loss curve, training time).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from harness.api import log_to_stderr
from scoring.models import KINDS, write_card
from scoring.q.pairs import HELDOUT, TRAIN, Pair, read_pairs


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """CLI flags (encoder and lm-dpo share the common ones)."""
    p = argparse.ArgumentParser(prog="python -m qvalue.train", description=__doc__)
    p.add_argument("--pairs", required=True, metavar="FILE.jsonl")
    p.add_argument("--kind", choices=KINDS, default="encoder")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--max-steps", type=int, default=0, help="cap on optimizer steps (0: none)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=None, help="default: 1e-4 encoder, 5e-5 lm-dpo")
    p.add_argument("--max-length", type=int, default=None, help="tokens (128 / 512)")
    p.add_argument("--max-turns", type=int, default=4, help="past turns shown to the model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda")
    g = p.add_argument_group("encoder")
    g.add_argument("--train-layers", type=int, default=2, help="top layers trained (-1: all)")
    g.add_argument("--head-lr", type=float, default=1e-3)
    g.add_argument("--save-dtype", choices=["float32", "float16"], default="float32")
    g = p.add_argument_group("lm-dpo")
    g.add_argument(
        "--base",
        default="",
        help="the frozen reference: a causal-LM dir, a .gguf file, or 'local' (the local "
        "policy's SmolLM2-135M-Instruct GGUF; needs the gguf package)",
    )
    g.add_argument("--beta", type=float, default=0.1)
    g.add_argument("--lora", action="store_true", help="train a LoRA adapter (peft)")
    g.add_argument("--lora-r", type=int, default=8)
    g.add_argument("--reduction", choices=["mean", "sum"], default="mean")
    return p.parse_args(argv)


def _split(pairs: Sequence[Pair]) -> tuple[list[Pair], list[Pair]]:
    return [p for p in pairs if p.split == TRAIN], [p for p in pairs if p.split == HELDOUT]


def _base_spec(base: str) -> str:
    """The base as the card should name it: ``local`` as given (resolved where the model
    loads), every file or dir path absolute (also in ``local:PATH``), so the card works from
    any directory."""
    from scoring.q.lm import LOCAL_BASE

    kind, _, rest = base.partition(":")
    local_file = kind == LOCAL_BASE and bool(rest) and Path(rest).expanduser().is_file()
    if base in ("", LOCAL_BASE) or (kind == LOCAL_BASE and not local_file):
        return base
    if local_file:
        return f"{LOCAL_BASE}:{Path(rest).expanduser().resolve()}"
    return str(Path(base).expanduser().resolve())


def accuracy_by_task(
    accuracy: Callable[[Sequence[Pair]], float | None], pairs: Sequence[Pair]
) -> dict[str, tuple[float | None, int]]:
    """Held-out pair accuracy and pair count per task (pairs of two tasks never share a
    state, so scoring task by task costs what one call over all of them does)."""
    tasks: dict[str, list[Pair]] = {}
    for p in pairs:
        tasks.setdefault(p.task_id, []).append(p)
    return {t: (accuracy(ps), len(ps)) for t, ps in sorted(tasks.items())}


def overall_accuracy(
    by_task: dict[str, tuple[float | None, int]], pairs: Sequence[Pair]
) -> float | None:
    """The accuracy over all pairs, from the per-task figures."""
    if not pairs:
        return None
    return sum(float(a or 0.0) * n for a, n in by_task.values()) / len(pairs)


def check_args(ns: argparse.Namespace) -> None:
    """Settings that cannot work, before anything is read or written (ValueError)."""
    checks = [
        ("--epochs", ns.epochs >= 1, ">= 1"),
        ("--batch-size", ns.batch_size >= 1, ">= 1"),
        ("--max-steps", ns.max_steps >= 0, ">= 0"),
        ("--max-turns", ns.max_turns >= 0, ">= 0"),
        ("--lr", ns.lr is None or ns.lr > 0, "> 0"),
        ("--max-length", ns.max_length is None or ns.max_length >= 8, ">= 8"),
    ]
    for flag, ok, want in checks:
        if not ok:
            raise ValueError(f"{flag} must be {want}")
    out = Path(ns.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {ns.out!r} is a file: give a directory for the model")


def train_model(ns: argparse.Namespace) -> dict[str, Any]:
    """Train, evaluate on held-out pairs, save weights and card; return the card."""
    check_args(ns)
    pairs, meta = read_pairs(ns.pairs)
    train, heldout = _split(pairs)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    log = logging.getLogger("qharness").info
    if ns.kind == "encoder":
        from scoring.q import encoder

        cfg = encoder.EncoderConfig(
            epochs=ns.epochs,
            max_steps=ns.max_steps,
            batch_size=ns.batch_size,
            lr=ns.lr or 1e-4,
            head_lr=ns.head_lr,
            max_length=ns.max_length or 128,
            max_turns=ns.max_turns,
            train_layers=ns.train_layers,
            save_dtype=ns.save_dtype,
            seed=ns.seed,
        )
        from scoring.q.lm import pick_device

        dev = pick_device(ns.device)
        trained, stats = encoder.train(train, cfg, device=dev, log=log)
        saved = encoder.save(trained, out)
        # score with the saved (possibly float16) weights, as users will
        enc = encoder.load(out, {"hyperparameters": encoder.config_dict(cfg)}, device=dev)
        by_task = accuracy_by_task(partial(encoder.pair_accuracy, enc), heldout)
        hyper = encoder.config_dict(cfg)
        from envs.base import package_version

        base = {"package": encoder.BASE_PACKAGE, "version": package_version(encoder.BASE_PACKAGE)}
        extra: dict[str, Any] = {"base": base, "saved_tensors": len(saved), "device": dev}
    else:
        from scoring.q import lm

        dpo = lm.DPOSettings(
            base=_base_spec(ns.base),
            beta=ns.beta,
            lr=ns.lr or 5e-5,
            epochs=ns.epochs,
            max_steps=ns.max_steps,
            batch_size=ns.batch_size,
            max_length=ns.max_length or 512,
            max_turns=ns.max_turns,
            lora=ns.lora,
            lora_r=ns.lora_r,
            reduction=ns.reduction,
            seed=ns.seed,
        )
        stats, dpo_scorer = lm.train(train, dpo, out, device=ns.device, log=log)
        hyper = lm.settings_dict(dpo)
        t_eval = time.perf_counter()
        by_task = accuracy_by_task(partial(lm.pair_accuracy, dpo_scorer), heldout)
        eval_s = round(time.perf_counter() - t_eval, 2)
        base_card = {"spec": dpo.base, "path": lm.base_path(dpo.base)}
        extra = {"base": base_card, "device": stats["device"], "bf16": stats["bf16"],
                 "base_load_time_s": stats["load_time_s"], "heldout_eval_s": eval_s}  # fmt: skip
        extra["saved_mb"] = round(
            sum(f.stat().st_size for f in out.iterdir() if f.is_file()) / 2**20, 2
        )
    losses = stats["losses"]
    window = max(1, min(10, len(losses) // 4))  # loss_first / loss_last: means over this many steps
    card = write_card(
        out,
        {
            "kind": ns.kind,
            "pair_data": {
                "path": str(ns.pairs),
                "hash": meta["hash"],
                "train_pairs": len(train),
                "heldout_pairs": len(heldout),
            },
            "envs": sorted({p.env_id for p in pairs}),
            "policy": meta.get("sources", []),
            "gamma": collection_gamma(meta.get("sources", [])),
            "hyperparameters": hyper,
            "heldout_accuracy": overall_accuracy(by_task, heldout),
            "heldout_accuracy_by_task": {t: a for t, (a, _) in by_task.items()},
            "heldout_pairs_by_task": {t: n for t, (_, n) in by_task.items()},
            "train_steps": stats["steps"],
            "train_time_s": stats["train_time_s"],
            "total_time_s": round(time.perf_counter() - t0, 2),
            "loss_window": window,
            "loss_first": sum(losses[:window]) / window if losses else None,
            "loss_last": sum(losses[-window:]) / window if losses else None,
            "loss_curve": [round(x, 5) for x in losses],
            **extra,
        },
    )
    return card


def collection_gamma(sources: list[Any]) -> float | list[float] | None:
    """The discount of the collections' MCTS returns (one value, or one per differing run;
    None for pairs from runs that did not record it)."""
    found = sorted(
        {float(s["mcts"]["gamma"]) for s in sources if isinstance(s, dict) and "mcts" in s}
    )
    return found[0] if len(found) == 1 else (found or None)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    log_to_stderr()
    ns = parse_args(argv)
    try:
        card = train_model(ns)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: no model was saved in {ns.out}; train again", file=sys.stderr)
        return 130
    acc = card["heldout_accuracy"]
    print(
        f"[train] {card['kind']} -> {ns.out}: {card['train_steps']} steps in "
        f"{card['train_time_s']}s, held-out pair accuracy "
        f"{'n/a' if acc is None else f'{acc:.3f}'} on {card['pair_data']['heldout_pairs']} pairs",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
