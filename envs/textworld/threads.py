"""TextWorld's grammar parsers, one per thread, so games load in several threads at once.

TextWorld parses game logic, text grammars and PDDL with TatSu parsers kept in module (or
class) globals. A TatSu parser holds the state of the parse in progress on itself (rule stack,
memo table, current node), so two threads loading games at once corrupt each other's parse:
``IndexError: pop from empty list`` or ``TypeError: 'NoneType' object is not iterable`` inside
``tatsu/contexts.py``, or a ``FailedToken`` on valid logic. ``per_thread_parsers()`` swaps each
shared parser for a proxy that hands every thread its own parser (built like the original):
nothing is serialised, so loading keeps its speed with several workers.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

# (module, attribute path): the TatSu parsers TextWorld 1.x shares between callers.
SHARED_PARSERS = (
    ("textworld.logic", "_PARSER"),
    ("textworld.textgen", "TextGrammar._PARSER"),
    ("textworld.envs.pddl.logic", "_PARSER"),
    ("textworld.envs.pddl.textgen", "_PARSER"),
)
_LOCK = threading.Lock()


class PerThreadParser:
    """Stands in for a shared TatSu parser: each thread parses with its own copy."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._local = threading.local()

    def _parser(self) -> Any:
        parser = getattr(self._local, "parser", None)
        if parser is None:
            parser = self._local.parser = self._make()
        return parser

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        """Parse with this thread's parser."""
        return self._parser().parse(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser(), name)


def _twin(parser: Any) -> Callable[[], Any]:
    """A factory of parsers built like ``parser`` (same class, fresh semantics of its class)."""
    cls, semantics = type(parser), type(parser.config.semantics)
    return lambda: cls(semantics=semantics(), parseinfo=True)


def per_thread_parsers() -> int:
    """Give every thread its own TextWorld parser (idempotent, process-wide); how many shared
    parsers were replaced. Modules that are not installed are skipped."""
    replaced = 0
    with _LOCK:
        for module_name, path in SHARED_PARSERS:
            try:
                owner: Any = importlib.import_module(module_name)
            except ImportError:
                continue
            *parents, attr = path.split(".")
            for name in parents:
                owner = getattr(owner, name)
            shared = getattr(owner, attr, None)
            if shared is None or isinstance(shared, PerThreadParser):
                continue
            setattr(owner, attr, PerThreadParser(_twin(shared)))
            replaced += 1
    return replaced
