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
