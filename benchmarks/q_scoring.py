"""lm-dpo Q scoring: shared-prefix batched vs one candidate at a time, on the same inputs.

``--model tiny`` (default) builds a random causal LM (policy) and another (reference) locally;
``--model local`` loads SmolLM2-135M-Instruct from the GGUF the ``local`` policy runs (needs
the ``gguf`` package) with a random LoRA adapter as the policy and the adapter switched off
as the reference (``--adapter DIR``: a trained one instead), the way ``--lora`` models score.
Writes a state prompt with history and scores k candidate actions both ways, alternating,
``--repeats`` times each. Checks the scores agree within 1e-4 and prints the median times; the
last line is ``ratio=<number>`` (one-at-a-time time / shared-prefix time).

    python benchmarks/q_scoring.py [--model tiny|local] [--k 8] [--history 6] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ACTIONS = [
    "go north",
    "go south",
    "go east",
    "go west",
    "take key",
    "unlock chest with key",
    "open chest",
    "take coin",
    "look",
    "inventory",
    "examine the small wooden table",
    "put the key in the chest",
]


def local_lora(adapter: str) -> tuple[object, None, object]:
    """SmolLM2 from the local policy's GGUF wrapped in a LoRA adapter (random, seeded, unless
    ``adapter`` names a trained one); the reference is the same model with it switched off."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model

    from scoring.q.lm import load_base

    model, tok = load_base("local", torch.float32)
    if adapter:
        return PeftModel.from_pretrained(model, adapter).eval(), None, tok
    torch.manual_seed(0)
    cfg = LoraConfig(r=8, lora_alpha=16, task_type="CAUSAL_LM", init_lora_weights=False)
    return get_peft_model(model, cfg).eval(), None, tok


def main() -> int:
    """Run the comparison and print ``ratio=...`` last."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--history", type=int, default=6, help="past turns in the prompt")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--model", choices=["tiny", "local"], default="tiny")
    p.add_argument("--adapter", default="", help="--model local: a trained LoRA adapter dir")
    ns = p.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agents.base import Turn
    from scoring.base import State
    from scoring.q.lm import DPOScorer, DPOSettings
    from scoring.q.tiny_lm import make_tiny_lm
    from scoring.text import lm_prompt

    torch.set_grad_enabled(False)
    if ns.model == "local":
        policy, ref, tok = local_lora(ns.adapter)
        policy = policy.to(ns.device)
        print("model=SmolLM2-135M-Instruct (GGUF, dequantised fp32) + LoRA, ref = adapter off")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            pol_dir = make_tiny_lm(Path(tmp) / "pol", ns.hidden, ns.layers, ns.heads, seed=1)
            ref_dir = make_tiny_lm(Path(tmp) / "ref", ns.hidden, ns.layers, ns.heads, seed=0)
            tok = AutoTokenizer.from_pretrained(str(pol_dir))
            policy = AutoModelForCausalLM.from_pretrained(str(pol_dir)).to(ns.device)
            ref = AutoModelForCausalLM.from_pretrained(str(ref_dir)).to(ns.device)
    cfg = DPOSettings(beta=0.1, max_length=4096, max_turns=ns.history)
    scorer = DPOScorer(policy, ref, tok, cfg, device=ns.device)
    room = "You are in the hall. A small key lies on the floor. There is a locked chest here."
    history = tuple(
        Turn(f"{room} Exits: north, south, east. (turn {i})", ACTIONS[i % 4])
        for i in range(ns.history)
    )
    state = State("Find the key, unlock the chest and take the coin.", history, room)
    prompt = lm_prompt(state, ns.history)
    actions = [
        ACTIONS[i % len(ACTIONS)] + ("" if i < len(ACTIONS) else f" {i}") for i in range(ns.k)
    ]
    n_prompt = len(tok(prompt)["input_ids"])

    def timed(fn: object) -> tuple[float, list[float]]:
        if ns.device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = fn(prompt, actions)  # type: ignore[operator]
        if ns.device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - t0, out

    timed(scorer.score_naive)  # warm-up
    timed(scorer.score_shared)
    naive_t, shared_t, diff = [], [], 0.0
    for _ in range(ns.repeats):
        tn, a = timed(scorer.score_naive)
        ts, b = timed(scorer.score_shared)
        naive_t.append(tn)
        shared_t.append(ts)
        diff = max(diff, max(abs(x - y) for x, y in zip(a, b, strict=True)))
    naive, shared = statistics.median(naive_t), statistics.median(shared_t)
    print(
        f"device={ns.device} model={ns.model} k={ns.k} prompt_tokens={n_prompt} "
        + (
            ""
            if ns.model == "local"
            else f"hidden={ns.hidden} layers={ns.layers} heads={ns.heads} "
        )
        + f"repeats={ns.repeats} "
        f"threads={torch.get_num_threads()}"
    )
    print(f"one-at-a-time: {naive * 1000:.1f} ms   shared-prefix batched: {shared * 1000:.1f} ms")
    print(f"max |score difference| = {diff:.2e} ({'OK' if diff <= 1e-4 else 'MISMATCH'} at 1e-4)")
    if diff > 1e-4:
        print("error: the two scoring paths disagree", file=sys.stderr)
        return 1
    print(f"ratio={naive / shared:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
