"""Retries with exponential backoff and jitter for provider calls (429, 5xx, time-outs, drops)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")


class Retryable(Exception):
    """A failure worth retrying; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Backoff:
    """``retries`` extra attempts; delay ``base_s * 2**i`` (capped at ``max_s``) times a jitter
    in [0.5, 1], or the server's Retry-After when it is given and not longer than ``max_s``."""

    retries: int = 4
    base_s: float = 0.5
    max_s: float = 20.0

    def delay(self, attempt: int, rng: np.random.Generator, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None and 0 <= retry_after <= self.max_s:
            return float(retry_after)
        return min(self.max_s, self.base_s * 2**attempt) * float(rng.uniform(0.5, 1.0))


class Retrier:
    """Calls a function, retrying on ``Retryable`` under a ``Backoff``; thread-safe."""

    def __init__(
        self,
        backoff: Backoff,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backoff = backoff
        self._rng = np.random.default_rng([seed, 0xBAC0FF])
        self._lock = threading.Lock()
        self._sleep = sleep
        self.retried = 0

    def call(self, fn: Callable[[], T], describe: Callable[[Retryable, int], Exception]) -> T:
        """``fn()``; after the last failed attempt raise ``describe(last_error, attempts)``."""
        attempt = 0
        while True:
            try:
                return fn()
            except Retryable as exc:
                if attempt >= self.backoff.retries:
                    raise describe(exc, attempt + 1) from None
                with self._lock:
                    wait = self.backoff.delay(attempt, self._rng, exc.retry_after)
                    self.retried += 1
                self._sleep(wait)
                attempt += 1
