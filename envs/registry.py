"""A small typed registry with did-you-mean errors, plus lazy ``module:attr`` loading."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Generic, TypeVar

from envs.base import closest

T = TypeVar("T")


class UnknownName(LookupError):
    """A name that is not in a registry; the message lists close names."""

    def __init__(self, kind: str, name: str, choices: list[str]) -> None:
        near = closest(name, choices)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        known = f" Known: {', '.join(sorted(choices))}." if choices else ""
        super().__init__(f"unknown {kind} {name!r}{hint}{known}")
        self.kind, self.name, self.choices = kind, name, choices


def load_object(path: str) -> Any:
    """Import ``package.module:attr`` (attr may be dotted) and return the object."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{path!r} is not of the form 'package.module:attribute'")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import {module_name!r} for {path!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ImportError(f"{module_name!r} has no attribute {attr!r}") from exc
    return obj


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered object, given directly or as a lazy ``module:attr`` path."""

    name: str
    target: str | T
    description: str = ""

    def load(self) -> T:
        """The object itself (importing it on first use when given as a path)."""
        if isinstance(self.target, str):
            return load_object(self.target)
        return self.target


class Registry(Generic[T]):
    """Names to objects; lookups fall back to an entry-point group and ``module:attr`` specs."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.group = entry_point_group
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, target: str | T, description: str = "") -> None:
        """Add ``name``; registering the same name twice is an error."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, target, description)

    def _plugins(self) -> dict[str, Entry[T]]:
        if not self.group:
            return {}
        found: dict[str, Entry[T]] = {}
        for ep in metadata.entry_points(group=self.group):
            if ep.name not in self._entries:
                found[ep.name] = Entry(
                    ep.name, ep.value, f"plug-in from {ep.dist.name if ep.dist else '?'}"
                )
        return found

    def entries(self) -> dict[str, Entry[T]]:
        """Built-in and plug-in entries by name."""
        return {**self._plugins(), **self._entries}

    def names(self) -> list[str]:
        """All known names."""
        return sorted(self.entries())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self.entries() or ":" in name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        """The object for ``name``, an entry-point plug-in, or a ``module:attr`` spec."""
        entries = self.entries()
        if name in entries:
            return entries[name].load()
        if ":" in name:
            return load_object(name)
        raise UnknownName(self.kind, name, list(entries))

    def check(self, name: str) -> None:
        """Raise ``UnknownName`` unless ``name`` resolves (without importing heavy modules)."""
        if name not in self.entries() and ":" not in name:
            raise UnknownName(self.kind, name, list(self.entries()))


Factory = Callable[..., Any]
