"""Units of the LLM layer: the batching queue and the retry/backoff policy."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence

import numpy as np
import pytest

from agents.llm.batching import BatchQueue
from agents.llm.retry import Backoff, Retrier, Retryable


def test_batch_queue_groups_by_key_and_keeps_order() -> None:
    seen: list[tuple[Hashable, list[int]]] = []

    def process(key: Hashable, items: Sequence[int]) -> list[int]:
        seen.append((key, list(items)))
        return [x * 10 for x in items]

    q: BatchQueue[int, int] = BatchQueue(process, max_batch=16, wait_s=0.2)
    out: dict[int, int] = {}
    barrier = threading.Barrier(8)

    def call(i: int) -> None:
        barrier.wait()
        out[i] = q.submit(i % 2, i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q.close()
    assert out == {i: i * 10 for i in range(8)}
    assert all(len({x % 2 for x in items}) == 1 and key == items[0] % 2 for key, items in seen)
    assert max(q.batches) > 1


def test_batch_queue_error_fails_only_its_batch() -> None:
    def process(key: Hashable, items: Sequence[int]) -> list[int]:
        if key == "bad":
            raise ValueError("boom")
        return list(items)

    q: BatchQueue[int, int] = BatchQueue(process, wait_s=0.0)
    with pytest.raises(ValueError, match="boom"):
        q.submit("bad", 1)
    assert q.submit("good", 2) == 2
    q.close()
    with pytest.raises(RuntimeError, match="closed"):
        q.submit("good", 3)


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    b = Backoff(retries=5, base_s=1.0, max_s=4.0)
    rng = np.random.default_rng(0)
    delays = [b.delay(i, rng, None) for i in range(5)]
    assert all(0.5 * min(4.0, 2**i) <= d <= min(4.0, 2**i) for i, d in enumerate(delays))
    assert b.delay(0, rng, 2.5) == 2.5
    assert b.delay(0, rng, 100.0) <= 1.0  # an unreasonable Retry-After falls back to backoff


def test_retrier_retries_then_gives_up() -> None:
    slept: list[float] = []
    r = Retrier(Backoff(retries=2, base_s=0.1), sleep=slept.append)
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise Retryable("transient")
        return "ok"

    assert r.call(flaky, lambda e, n: RuntimeError(f"{n}: {e}")) == "ok"
    assert len(slept) == 2 and r.retried == 2

    def always() -> str:
        raise Retryable("down")

    with pytest.raises(RuntimeError, match="3: down"):
        r.call(always, lambda e, n: RuntimeError(f"{n}: {e}"))


def test_chat_template_skeleton_fills_in_process_only_when_it_matches_the_server() -> None:
    from agents.llm.llamacpp import LlamaCppExtras

    class Fake(LlamaCppExtras):
        def __init__(self, trim: bool) -> None:
            super().__init__("http://x", {}, 1.0)
            self.trim, self.calls = trim, 0

        def _post(self, path: str, body: dict) -> dict:
            self.calls += 1
            out = "".join(
                f"<|im_start|>{m['role']}\n{m['content'].upper() if self.trim else m['content']}"
                "<|im_end|>\n"
                for m in body["messages"]
            )
            return {"prompt": out + "<|im_start|>assistant\n"}

    def msgs(user: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": user}]

    ex = Fake(trim=False)
    first = ex.apply_template(msgs("Task: a"))
    assert ex.calls == 2  # the real rendering and the skeleton
    assert ex.apply_template(msgs("Task: b\nObs: {x} 0 1")) == Fake(False)._render(
        msgs("Task: b\nObs: {x} 0 1")
    )
    assert ex.calls == 2 and first.startswith("<|im_start|>system\nBe brief.")
    ex.apply_template(msgs("ends with a space "))  # could be trimmed: the server renders it
    assert ex.calls == 3
    odd = Fake(trim=True)  # a template that changes contents: never filled in process
    for u in ("a", "b", "c"):
        assert odd.apply_template(msgs(u)) == Fake(True)._render(msgs(u))
    assert odd.calls == 4
