"""A small batching queue: calls from many threads are grouped and run as one batch.

Each ``submit(key, item)`` blocks until its result is ready. A single worker thread takes the
first waiting request, waits up to ``wait_s`` for more (or until ``max_batch``), then runs
``process(key, items)`` once per distinct key among them. Requests with equal keys share a
batch (e.g. equal sampling settings); an exception fails that batch's requests only.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass
class _Req(Generic[In, Out]):
    key: Hashable
    item: In
    future: Future[Out] = field(default_factory=Future)


class BatchQueue(Generic[In, Out]):
    """Groups concurrent requests into batches for ``process(key, items) -> outputs``."""

    def __init__(
        self,
        process: Callable[[Hashable, Sequence[In]], Sequence[Out]],
        max_batch: int = 8,
        wait_s: float = 0.005,
        name: str = "batcher",
    ) -> None:
        self.process, self.max_batch, self.wait_s = process, max(1, max_batch), wait_s
        self._q: queue.Queue[_Req[In, Out] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        self.batches: list[int] = []  # sizes of the batches run (for tests and benchmarks)

    def submit(self, key: Hashable, item: In) -> Out:
        """Queue ``item`` and wait for its output."""
        if not self._thread.is_alive():
            raise RuntimeError("the batch queue is closed")
        req: _Req[In, Out] = _Req(key, item)
        self._q.put(req)
        return req.future.result()

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        self._q.put(None)
        self._thread.join(timeout=30)

    def _collect(self, first: _Req[In, Out]) -> tuple[list[_Req[In, Out]], bool]:
        reqs, stop = [first], False
        deadline = time.monotonic() + self.wait_s
        while len(reqs) < self.max_batch:
            left = deadline - time.monotonic()
            try:
                nxt = self._q.get(timeout=left) if left > 0 else self._q.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                stop = True
                break
            reqs.append(nxt)
        return reqs, stop

    def _loop(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            reqs, stop = self._collect(first)
            groups: dict[Hashable, list[_Req[In, Out]]] = {}
            for r in reqs:
                groups.setdefault(r.key, []).append(r)
            for key, group in groups.items():
                self._run(key, group)
            if stop:
                return

    def _run(self, key: Hashable, group: list[_Req[In, Out]]) -> None:
        self.batches.append(len(group))
        try:
            outs: Sequence[Any] = self.process(key, [r.item for r in group])
            if len(outs) != len(group):
                raise RuntimeError(f"batch returned {len(outs)} outputs for {len(group)} inputs")
        except BaseException as exc:
            for r in group:
                r.future.set_exception(exc)
            return
        for r, out in zip(group, outs, strict=True):
            r.future.set_result(out)
