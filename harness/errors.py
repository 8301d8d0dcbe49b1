"""The base class of user errors: a setting, file or directory that cannot be used as given.

Each layer raises its own subclass (``ConfigError``, ``BadInput``, ``RunDirError``,
``BackendError``); callers of ``harness.api`` catch ``InputError`` and show its message, which
says what to do, as one line.
"""

from __future__ import annotations


class InputError(Exception):
    """A user error (bad setting, path or run dir); its message says what to do."""


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())
