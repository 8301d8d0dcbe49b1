"""Speed of the embedded ``local`` policy on this machine: tokens/s and ReAct steps/s.

1. raw generation: one greedy completion of ``--tokens`` tokens (EOS ignored), three times;
   prompt-processing and generation tokens/s as llama.cpp reports them;
2. ReAct on KeyChest through the runner with one worker: steps/s and tokens/s per step;
3. where a ReAct step's time goes, per step: llama.cpp prompt processing and generation (the
   server's own timings), HTTP + client (request wall time minus the server's time), the
   chat-template request, and the rest (prompt building, parsing, grammar, runner, env);
4. the chat template of one ReAct prompt rendered by the server (``/apply-template``, as
   every step did before) and filled in process from the cached skeleton, alternating.

    python benchmarks/local_speed.py [--tokens 128] [--steps 20] [--skip-raw]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

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


class Timer:
    """Wraps the policy client's calls and adds up wall time and llama.cpp's timings."""

    def __init__(self, api: Any) -> None:
        self.totals: dict[str, float] = dict.fromkeys(
            ("request_s", "prompt_s", "gen_s", "template_s", "calls", "template_calls",
             "prompt_tokens", "cached_tokens", "gen_tokens"), 0.0)  # fmt: skip
        create = api._client.completions.create
        template = api._extras._render  # the server request (skeleton fills are not timed)

        def timed_create(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            r = create(*a, **kw)
            self.totals["request_s"] += time.perf_counter() - t0
            tm = (r.model_extra or {}).get("timings", {})
            self.totals["prompt_s"] += float(tm.get("prompt_ms", 0.0)) / 1000
            self.totals["gen_s"] += float(tm.get("predicted_ms", 0.0)) / 1000
            self.totals["prompt_tokens"] += float(tm.get("prompt_n", 0))
            self.totals["cached_tokens"] += float(tm.get("cache_n", 0))
            self.totals["gen_tokens"] += float(tm.get("predicted_n", 0))
            self.totals["calls"] += 1
            return r

        def timed_template(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            out = template(*a, **kw)
            self.totals["template_s"] += time.perf_counter() - t0
            self.totals["template_calls"] += 1
            return out

        api._client.completions.create = timed_create
        api._extras._render = timed_template


def breakdown(steps: int) -> dict[str, float]:
    """Run ReAct episodes on KeyChest with the client instrumented; print ms per step and
    return the run's measurements (steps/s and tokens, as ``concurrency.run`` gives them)."""
    from agents.llm.spec import get_policy
    from benchmarks.concurrency import run

    run("local", 1, 1, 2, seed0=1000)  # warm-up: server start, prompt cache
    timer = Timer(get_policy("local").api())  # type: ignore[attr-defined]
    m = run("local", 1, 1, steps, seed0=500)
    t, n = timer.totals, max(1.0, m["steps"])
    server = t["prompt_s"] + t["gen_s"]
    parts = {
        "llama.cpp prompt processing": t["prompt_s"],
        "llama.cpp generation": t["gen_s"],
        "HTTP + openai client": t["request_s"] - server,
        "chat-template request": t["template_s"],
        "rest (prompt, grammar, parsing, runner, env)": m["wall_s"]
        - t["request_s"]
        - t["template_s"],
    }
    print(
        f"per ReAct step ({m['steps']:.0f} steps, {t['calls']:.0f} completion calls, "
        f"{t['template_calls']:.0f} template requests; per step "
        f"{t['prompt_tokens'] / n:.0f} prompt tokens processed, "
        f"{t['cached_tokens'] / n:.0f} reused from cache, "
        f"{t['gen_tokens'] / n:.0f} generated):"
    )
    for k, v in parts.items():
        print(f"  {k:<46} {1000 * v / n:8.1f} ms  ({100 * v / m['wall_s']:4.1f}%)")
    print(f"  {'total':<46} {1000 * m['wall_s'] / n:8.1f} ms")
    return m


def template_cost(api: Any, repeats: int = 20) -> None:
    """Server rendering vs in-process skeleton of the same ReAct messages, side by side."""
    import gymnasium as gym

    import envs  # noqa: F401
    from agents.base import Step
    from agents.react import ReActAgent

    env = gym.make("harness/KeyChest-v0")
    obs, info = env.reset(seed=0)
    msgs = ReActAgent(policy="local").messages(Step(0, str(obs), info, (), "harness/KeyChest-v0"))
    ex = api._extras
    ex.apply_template(msgs)  # makes (and checks) the skeleton
    server, local = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a = ex._render(msgs)
        t1 = time.perf_counter()
        b = ex.apply_template(msgs)
        t2 = time.perf_counter()
        server.append(t1 - t0)
        local.append(t2 - t1)
        assert a == b, "skeleton and server disagree"
    print(
        f"chat template of one ReAct prompt: server {1000 * statistics.median(server):.2f} ms, "
        f"in process {1000 * statistics.median(local):.3f} ms (median of {repeats}, identical text)"
    )


def main() -> None:
    """Run both measurements."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--skip-raw", action="store_true", help="only the ReAct parts")
    args = p.parse_args()
    if not args.skip_raw:
        b = LocalBackend(parallel=1)
        raw_speed(b, args.tokens)
        b.close()

    from benchmarks.concurrency import show

    show("react on KeyChest, 1 worker", breakdown(args.steps))
    from agents.llm.spec import get_policy

    template_cost(get_policy("local").api())  # type: ignore[attr-defined]
    from agents.llm.spec import close_policies

    close_policies()


if __name__ == "__main__":
    main()
