"""Speed of the embedded ``local`` policy on this machine: tokens/s and ReAct steps/s.

1. raw generation: one greedy completion of ``--tokens`` tokens (EOS ignored), three times;
   prompt-processing and generation tokens/s as llama.cpp reports them;
2. ReAct on KeyChest through the runner with one worker: steps/s and tokens/s per step.

    python benchmarks/local_speed.py [--tokens 128] [--steps 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.llm.local import LocalBackend, default_threads


def raw_speed(b: LocalBackend, tokens: int) -> None:
    """Prompt and generation tokens/s of plain completions."""
    client = b.api()._client
    prompt = "Once upon a time, in a small village by the sea, " * 8
    gen, pp = [], []
    for i in range(3):
        t0 = time.perf_counter()
        r = client.completions.create(
            model="x",
            prompt=prompt + f"({i})",
            max_tokens=tokens,
            temperature=0.0,
            extra_body={"ignore_eos": True, "cache_prompt": False},
        )
        wall = time.perf_counter() - t0
        tm = (r.model_extra or {}).get("timings", {})
        n_in, n_out = (r.usage.prompt_tokens, r.usage.completion_tokens) if r.usage else (0, 0)
        gen.append(float(tm.get("predicted_per_second", 0.0)))
        pp.append(float(tm.get("prompt_per_second", 0.0)))
        print(
            f"  run {i}: {n_in} prompt + {n_out} generated tokens in {wall:.2f}s",
            flush=True,
        )
    print(
        f"raw: prompt {statistics.median(pp):.0f} tok/s, generation {statistics.median(gen):.0f} "
        f"tok/s (median of 3, {b.api().model}, {default_threads()} thread(s))"
    )


def main() -> None:
    """Run both measurements."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    b = LocalBackend(parallel=1)
    raw_speed(b, args.tokens)
    b.close()

    from benchmarks.concurrency import run, show

    m = run("local", 1, 1, args.steps)
    show("react on KeyChest, 1 worker", m)
    from agents.llm.spec import close_policies

    close_policies()


if __name__ == "__main__":
    main()
