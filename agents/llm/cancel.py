"""Cancelling the policy calls of an episode thread that the runner abandoned.

When a step times out, the runner calls ``cancel_thread(thread)``: the HTTP request that
thread is blocked in has its connection shut down (a llama.cpp server then aborts the slot
that was generating for it), and any later call from that thread raises ``CallCancelled``
at once, so an abandoned episode neither keeps a slot busy nor retries in the background.
``CancellableBackend`` is the httpcore network backend that makes requests cancellable.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any


class CallCancelled(RuntimeError):
    """A policy call made by an episode thread that the runner has cancelled."""


class Cancellation:
    """Which threads are cancelled, and how to abort what each is blocked in (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._aborts: weakref.WeakKeyDictionary[threading.Thread, list[Callable[[], None]]] = (
            weakref.WeakKeyDictionary()
        )

    def check(self) -> None:
        """Raise CallCancelled if the calling thread was cancelled."""
        if threading.current_thread() in self._cancelled:
            raise CallCancelled("the episode this call belongs to was cancelled (timed out)")

    @contextlib.contextmanager
    def blocking(self, abort: Callable[[], None]) -> Iterator[None]:
        """While the body runs, ``cancel`` of this thread calls ``abort`` to unblock it."""
        me = threading.current_thread()
        with self._lock:
            self._aborts.setdefault(me, []).append(abort)
        try:
            self.check()
            yield
        finally:
            with self._lock:
                fns = self._aborts.get(me, [])
                if abort in fns:
                    fns.remove(abort)

    def cancel(self, thread: threading.Thread) -> int:
        """Cancel ``thread``'s calls, now and later; returns how many were in flight."""
        with self._lock:
            self._cancelled.add(thread)
            fns = list(self._aborts.pop(thread, []))
        for fn in fns:
            with contextlib.suppress(Exception):
                fn()
        return len(fns)


CANCELLATION = Cancellation()
"""The process's table of cancelled episode threads (policies are shared per process)."""


def cancel_thread(thread: threading.Thread) -> int:
    """Cancel the policy calls of ``thread`` (see the module docstring)."""
    return CANCELLATION.cancel(thread)


def check_cancelled() -> None:
    """Raise CallCancelled if the calling thread's calls were cancelled."""
    CANCELLATION.check()


class CancellableStream:
    """An httpcore network stream whose blocking reads and writes a cancel can interrupt."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _shutdown(self) -> None:
        sock = self._stream.get_extra_info("socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv; the server sees EOF

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """``read`` of the wrapped stream, abortable by ``cancel_thread``."""
        with CANCELLATION.blocking(self._shutdown):
            data: bytes = self._stream.read(max_bytes, timeout)
        CANCELLATION.check()
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """``write`` of the wrapped stream, abortable by ``cancel_thread``."""
        with CANCELLATION.blocking(self._shutdown):
            self._stream.write(buffer, timeout)

    def start_tls(self, *args: Any, **kw: Any) -> CancellableStream:
        """TLS over the wrapped stream, still cancellable."""
        return CancellableStream(self._stream.start_tls(*args, **kw))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class CancellableBackend:
    """An httpcore network backend whose streams are ``CancellableStream``s."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def connect_tcp(self, *args: Any, **kw: Any) -> CancellableStream:
        """A TCP connection (cancellable once connected)."""
        check_cancelled()
        return CancellableStream(self._backend.connect_tcp(*args, **kw))

    def connect_unix_socket(self, *args: Any, **kw: Any) -> CancellableStream:
        """A Unix socket connection."""
        check_cancelled()
        return CancellableStream(self._backend.connect_unix_socket(*args, **kw))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def cancellable_http_client(timeout: float) -> Any:
    """An ``httpx.Client`` whose requests ``cancel_thread`` can abort."""
    import httpx

    transport = httpx.HTTPTransport()
    pool = transport._pool  # httpcore.ConnectionPool: the one place its backend can be set
    pool._network_backend = CancellableBackend(pool._network_backend)  # type: ignore[assignment]
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=True)
