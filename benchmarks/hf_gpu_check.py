"""Check the ``hf`` policy on a GPU: CUDA + bf16, batched generation, continuation scoring.

Loads a model through ``agents.llm.hf`` (default: a random Llama built locally, no
download; or ``--model DIR`` / ``--model file.gguf`` / a hub id), then
1. generates for ``--batch`` prompts one after another and from concurrent threads (the
   batching queue groups them), printing tokens/s of each and the speed-up;
2. scores continuations and checks the scores are finite and deterministic;
3. prints ``cuda ok`` when all of it ran on CUDA in bf16 (exit 1 otherwise with
   ``--require-cuda``).

    python benchmarks/hf_gpu_check.py [--model PATH] [--batch 8] [--require-cuda]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.llm.hf import HFBackend
from agents.llm.tiny import build_tiny_lm


def timed_generate(b: HFBackend, prompts: list[str], concurrent: bool, max_tokens: int) -> float:
    """Output tokens per second over all prompts (sequential or from one thread each)."""
    outs: dict[int, int] = {}

    def one(i: int) -> None:
        outs[i] = b.generate(
            prompts[i], max_tokens=max_tokens, temperature=0.7, seed=i
        ).output_tokens

    t0 = time.perf_counter()
    if concurrent:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for i in range(len(prompts)):
            one(i)
    wall = time.perf_counter() - t0
    return sum(outs.values()) / wall


def main() -> int:
    """Run the checks; return the exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default="", help="model dir, .gguf file or hub id (default: tiny)")
    p.add_argument("--hidden", type=int, default=256, help="hidden size of the random model")
    p.add_argument("--layers", type=int, default=4, help="layers of the random model")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--device", default="auto")
    p.add_argument("--require-cuda", action="store_true")
    args = p.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="qharness-gpu-")
    model = args.model or str(build_tiny_lm(Path(tmp.name) / "lm", args.hidden, args.layers))
    t0 = time.perf_counter()
    b = HFBackend(model, device=args.device, max_batch=args.batch, wait_ms=20)
    print(f"loaded {model} on {b.device} as {b.dtype} in {time.perf_counter() - t0:.1f}s")

    prompts = [
        f"Task {i}: find the key.\nObservation: room {i}.\nAction:" for i in range(args.batch)
    ]
    b.generate(prompts[0], max_tokens=4)  # warm-up (CUDA kernels, allocator)
    seq = timed_generate(b, prompts, False, args.max_tokens)
    before = len(b.batch_sizes)
    con = timed_generate(b, prompts, True, args.max_tokens)
    sizes = b.batch_sizes[before:]
    print(
        f"generation: sequential {seq:.1f} tok/s, concurrent {con:.1f} tok/s "
        f"({con / seq:.2f}x; batch sizes {sizes})"
    )

    conts = [f" action number {i}" for i in range(16)]
    t0 = time.perf_counter()
    s1 = b.score_continuations(prompts[0], conts)
    dt = time.perf_counter() - t0
    s2 = b.score_continuations(prompts[0], conts)
    ok_scores = all(math.isfinite(x) for x in s1) and all(
        abs(x - y) < 1e-2 * max(1.0, abs(x)) for x, y in zip(s1, s2, strict=True)
    )
    print(
        f"scoring: {len(conts)} continuations in {dt * 1000:.0f} ms; "
        f"finite and repeatable: {ok_scores}"
    )
    b.close()

    import torch

    on_cuda = b.device.startswith("cuda") and b.dtype == torch.bfloat16
    batched = max(sizes, default=1) > 1
    if on_cuda and ok_scores and batched:
        print(f"cuda ok ({torch.cuda.get_device_name(0)})")
        return 0
    why = "no CUDA" if not b.device.startswith("cuda") else f"dtype {b.dtype}"
    print(f"not a CUDA bf16 run ({why}); scores ok: {ok_scores}; batched: {batched}")
    return 1 if args.require_cuda or not (ok_scores and batched) else 0


if __name__ == "__main__":
    sys.exit(main())
