"""Cancelling an episode thread's policy calls (agents.llm.cancel): a request blocked on a
paused server is aborted (the server sees the client leave), the thread makes no retried or
later calls, and other threads (new ones included) are unaffected."""

from __future__ import annotations

import threading
import time

from agents.llm.cancel import CallCancelled, cancel_thread, check_cancelled
from agents.llm.fake_server import FakeOpenAIServer
from agents.llm.openai_backend import OpenAIBackend


def _wait_until(cond: object, limit_s: float = 20) -> None:
    end = time.monotonic() + limit_s
    while not cond() and time.monotonic() < end:  # type: ignore[operator]
        time.sleep(0.01)


def test_a_blocked_request_is_aborted_and_never_retried() -> None:
    with FakeOpenAIServer(reply="Action: look") as server:
        llm = OpenAIBackend("fake", server.base_url, timeout_s=120, retries=5)
        server.pause()
        box: dict[str, object] = {}

        def call() -> None:
            try:
                box["out"] = llm.generate("hi", max_tokens=4)
            except BaseException as exc:
                box["out"] = exc

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        _wait_until(lambda: len(server.requests) == 1)
        assert cancel_thread(worker) == 1  # one request was in flight
        worker.join(10)
        assert not worker.is_alive() and isinstance(box["out"], CallCancelled), box
        _wait_until(lambda: server.disconnects == 1)
        assert server.disconnects == 1 and len(server.requests) == 1  # no retry went out
        server.resume()
        assert llm.generate("hi", max_tokens=4).completions[0].text == "Action: look"
        llm.close()


def test_cancellation_belongs_to_the_thread_not_its_id() -> None:
    seen: list[str] = []

    def probe() -> None:
        try:
            check_cancelled()
            seen.append("ok")
        except CallCancelled:
            seen.append("cancelled")

    gate = threading.Event()
    first = threading.Thread(target=lambda: (gate.wait(10), probe()))
    first.start()
    cancel_thread(first)
    gate.set()
    first.join()
    for _ in range(5):  # fresh threads (the OS may reuse the first one's id) run normally
        t = threading.Thread(target=probe)
        t.start()
        t.join()
    assert seen == ["cancelled"] + ["ok"] * 5
    check_cancelled()  # this thread was never cancelled
