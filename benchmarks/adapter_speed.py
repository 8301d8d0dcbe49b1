"""Cost of serving a LoRA adapter with the ``local`` policy: ReAct step time with and without.

The adapter is a bundled one (``--adapter NAME``) or, by default, a random LoRA of rank
``--rank`` on all seven projections of SmolLM2, exported by ``agents.llm.lora_gguf`` (f16).
Its ``lora_B`` entries are tiny (std 1e-4), so the adapted model acts like the base: both runs
take the same greedy steps and the ratio measures llama.cpp's extra work, not a different
trajectory (the generated tokens per step are printed to check). Base and adapter alternate
episode by episode (``--rounds`` x ``--episodes`` KeyChest episodes of ``--steps`` steps
each, the same seeds, one worker) after one untimed warm-up episode each, so a change in
the machine's load hits both.
Also: prompt and generation tokens/s of plain completions, both ways.

Last line: ``ratio=<adapter step time / base step time>`` over all steps (goal <= 1.15).

    python benchmarks/adapter_speed.py [--rank 16] [--rounds 2] [--episodes 2] [--steps 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.llm.local import default_model_path, default_threads
from agents.llm.lora_gguf import export_lora, random_lora
from agents.llm.spec import close_policies, get_policy
from benchmarks.concurrency import run


def raw_tokens_per_s(spec: str, tokens: int = 64) -> tuple[float, float]:
    """Median prompt and generation tokens/s of three plain completions (llama.cpp's own)."""
    client = get_policy(spec).api()._client  # type: ignore[attr-defined]
    prompt = "Once upon a time, in a small village by the sea, " * 8
    pp, gen = [], []
    for i in range(3):
        r = client.completions.create(
            model="x",
            prompt=prompt + f"({i})",
            max_tokens=tokens,
            temperature=0.0,
            extra_body={"ignore_eos": True, "cache_prompt": False},
        )
        tm = (r.model_extra or {}).get("timings", {})
        pp.append(float(tm.get("prompt_per_second", 0.0)))
        gen.append(float(tm.get("predicted_per_second", 0.0)))
    return statistics.median(pp), statistics.median(gen)


def main() -> None:
    """Measure base and adapter side by side; print per-step times and the ratio."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--adapter", default="", help="a bundled adapter or path (default: random)")
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--episodes", type=int, default=2)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="adapter-speed-") as tmp:
        adapter = args.adapter
        if not adapter:
            peft = random_lora(Path(tmp) / "peft", default_model_path(), r=args.rank, std=1e-4)
            done = export_lora(peft, Path(tmp) / "random.gguf")
            adapter = str(done.path)
            print(
                f"random adapter: r={done.r}, {len(done.targets)} targets, {done.size / 1e6:.1f} MB"
            )
        specs = {"base": "local", "adapter": f"local?adapter={adapter}"}
        print(
            f"policies: {get_policy(specs['adapter']).name} vs local, {default_threads()} thread(s)"
        )
        for label, spec in specs.items():
            pp, gen = raw_tokens_per_s(spec)
            print(f"raw {label:<8} prompt {pp:6.0f} tok/s  generation {gen:6.1f} tok/s")
            run(spec, 1, 1, 2, seed0=1000)  # warm-up: server start, prompt cache
        totals = {k: [0.0, 0.0, 0.0] for k in specs}  # wall, steps, output tokens
        pairs = []  # per episode: adapter ms/step over base ms/step
        for i in range(args.rounds * args.episodes):
            step_s = {}
            for label, spec in specs.items():
                m = run(spec, 1, 1, args.steps, seed0=500 + i)
                t = totals[label]
                t[0], t[1] = t[0] + m["wall_s"], t[1] + m["steps"]
                t[2] += m["out_tokens_per_s"] * m["wall_s"]
                step_s[label] = m["wall_s"] / max(1.0, m["steps"])
            pairs.append(step_s["adapter"] / step_s["base"])
            print(
                f"episode {i}: base {1000 * step_s['base']:7.1f} ms/step, adapter "
                f"{1000 * step_s['adapter']:7.1f} ms/step",
                flush=True,
            )
        close_policies()
    per_step = {k: t[0] / max(1.0, t[1]) for k, t in totals.items()}
    for k, t in totals.items():
        print(
            f"{k:<8} {1000 * per_step[k]:7.1f} ms/step, {t[2] / max(1.0, t[1]):5.1f} generated "
            f"tokens/step over {t[1]:.0f} steps"
        )
    print(f"median of the per-episode ratios {statistics.median(pairs):.3f}")
    print(f"ratio={per_step['adapter'] / per_step['base']:.3f}")


if __name__ == "__main__":
    main()
