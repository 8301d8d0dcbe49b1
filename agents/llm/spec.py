"""Policy spec strings, the registry of policy backends, and the shared policy instances.

``local`` | ``local:/path/model.gguf`` | ``local:owner/repo/file.gguf`` (hub, needs network) |
``openai:MODEL`` | ``openai:MODEL@http://host:8000/v1`` | ``hf:/path/or/hub-id``, each
optionally followed by ``?key=value&...`` backend options (e.g. ``?mode=completion&timeout=30``;
``local?adapter=NAME|PATH|auto`` serves a LoRA adapter with the model, see
``agents.llm.adapters``).
The part before the first ``:`` names a backend in ``POLICIES``; installed packages add
backends through the ``harness.policies`` entry-point group (a factory taking a
``PolicySpec``; its options arrive as strings, for the factory to check). The same spec string
always gives the same instance within a process (thread-safe).
"""

from __future__ import annotations

import atexit
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from agents.llm.base import LLM, redact
from envs.base import closest
from envs.registry import Registry

KINDS = ("local", "openai", "hf")
USAGE = "use local, local:PATH.gguf, openai:MODEL[@BASE_URL], or hf:PATH_OR_ID"

POLICIES: Registry[Callable[..., LLM]] = Registry("policy", "harness.policies")
"""Backend kind (the spec's prefix) -> factory taking a ``PolicySpec``."""
POLICIES.register("local", "agents.llm.spec:build_local", "llama.cpp in this process (GGUF)")
POLICIES.register("openai", "agents.llm.spec:build_openai", "any OpenAI-compatible endpoint")
POLICIES.register("hf", "agents.llm.spec:build_hf", "transformers in this process")

# option name in the spec -> (constructor argument, type), per kind
OPTIONS: dict[str, dict[str, tuple[str, Callable[[str], Any]]]] = {
    "local": {
        "mode": ("mode", str),
        "parallel": ("parallel", int),
        "ctx": ("ctx", int),
        "threads": ("threads", int),
        "timeout": ("timeout_s", float),
        "adapter": ("adapter", str),
        "adapter_scale": ("adapter_scale", float),
    },
    "openai": {
        "mode": ("mode", str),
        "timeout": ("timeout_s", float),
        "retries": ("retries", int),
        "backoff": ("backoff_base_s", float),
        "backoff_max": ("backoff_max_s", float),
        "scoring": ("scoring", str),
        "score_workers": ("score_workers", int),
        "key_env": ("api_key_env", str),
    },
    "hf": {
        "device": ("device", str),
        "dtype": ("dtype", str),
        "batch": ("max_batch", int),
        "wait_ms": ("wait_ms", float),
        "seed": ("seed", int),
    },
}


# allowed values of options with a fixed set of choices, and the least value of numbers
CHOICES: dict[str, tuple[str, ...]] = {
    "mode": ("chat", "completion"),
    "scoring": ("auto", "llamacpp", "echo", "none"),
}
MINIMUM: dict[str, float] = {
    "parallel": 1,
    "ctx": 1,
    "threads": 1,
    "timeout": 1e-9,
    "retries": 0,
    "backoff": 0,
    "backoff_max": 0,
    "score_workers": 1,
    "batch": 1,
    "wait_ms": 0,
}


class PolicySpecError(ValueError):
    """A policy spec that cannot be parsed; the message says what is expected."""


@dataclass(frozen=True)
class PolicySpec:
    """A parsed spec: backend kind, model (path, id or name), base URL, backend options."""

    kind: str
    model: str = ""
    base_url: str | None = None
    options: tuple[tuple[str, Any], ...] = ()

    def kwargs(self) -> dict[str, Any]:
        """Constructor arguments from the options."""
        return dict(self.options)


_OPENAI = re.compile(r"^(?P<model>[^@]+?)(?:@(?P<url>https?://.+))?$")


def parse_spec(text: str) -> PolicySpec:
    """Parse a policy spec string (see the module docstring); raises PolicySpecError."""
    text = (text or "local").strip()
    if redact(text, []) != text:
        raise PolicySpecError(
            f"policy {redact(text, [])!r}: credentials in a URL would be stored with the run; "
            "put the key in an environment variable and name it with ?key_env=VAR"
        )
    head, query = text, ""
    if "?" in text:
        head, _, query = text.rpartition("?")
    kind, _, rest = head.partition(":")
    kind = kind.strip().lower()
    if kind not in POLICIES.names():
        near = closest(kind, POLICIES.names())
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise PolicySpecError(
            f"unknown policy {text!r}{hint}: {USAGE}, or a harness.policies plug-in"
        )
    if kind not in KINDS:  # a plug-in backend: its factory checks its options (as strings)
        return PolicySpec(kind, rest.strip(), None, tuple(parse_qsl(query, keep_blank_values=True)))
    options = _parse_options(kind, query, text)
    if kind == "openai":
        m = _OPENAI.match(rest.strip())
        if not m:
            raise PolicySpecError(f"policy {text!r} names no model: {USAGE}")
        return PolicySpec(kind, m["model"].strip(), m["url"], options)
    if kind == "hf" and not rest.strip():
        raise PolicySpecError(f"policy {text!r} names no model: use hf:/path/to/model or hf:ID")
    return PolicySpec(kind, rest.strip(), None, options)


def _parse_options(kind: str, query: str, text: str) -> tuple[tuple[str, Any], ...]:
    known = OPTIONS[kind]
    out = []
    for key, raw in parse_qsl(query, keep_blank_values=True):
        if key not in known:
            near = closest(key, list(known), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise PolicySpecError(
                f"policy {text!r}: unknown option {key!r} for {kind}{hint} "
                f"(known: {', '.join(sorted(known))})"
            )
        arg, typ = known[key]
        try:
            value = typ(raw)
        except ValueError:
            raise PolicySpecError(
                f"policy {text!r}: option {key}={raw!r} is not a {typ.__name__}"
            ) from None
        _check_value(key, value, text)
        out.append((arg, value))
    return tuple(out)


def _check_value(key: str, value: Any, text: str) -> None:
    """Raise PolicySpecError for a value outside an option's choices or range."""
    if key in CHOICES and value not in CHOICES[key]:
        raise PolicySpecError(
            f"policy {text!r}: option {key}={value!r} must be one of {', '.join(CHOICES[key])}"
        )
    if key in MINIMUM and not value >= MINIMUM[key]:
        least = "> 0" if MINIMUM[key] < 1e-6 and MINIMUM[key] > 0 else f">= {MINIMUM[key]:g}"
        raise PolicySpecError(f"policy {text!r}: option {key}={value!r} must be {least}")


def build_policy(spec: PolicySpec) -> LLM:
    """A new policy instance for ``spec``, from its backend's factory in ``POLICIES``."""
    return POLICIES.get(spec.kind)(spec)


def build_local(spec: PolicySpec) -> LLM:
    """The ``local`` backend: a GGUF under llama.cpp's server in this process."""
    from agents.llm.local import LocalBackend

    return LocalBackend(spec.model, name=_display(spec), **spec.kwargs())


def build_openai(spec: PolicySpec) -> LLM:
    """The ``openai`` backend: any OpenAI-compatible endpoint."""
    from agents.llm.openai_backend import OpenAIBackend

    return OpenAIBackend(spec.model, spec.base_url, name=_display(spec), **spec.kwargs())


def build_hf(spec: PolicySpec) -> LLM:
    """The ``hf`` backend: transformers in this process."""
    from agents.llm.hf import HFBackend

    return HFBackend(spec.model, name=_display(spec), **spec.kwargs())


def _display(spec: PolicySpec) -> str:
    url = f"@{redact(spec.base_url, [])}" if spec.base_url else ""
    return f"{spec.kind}:{spec.model}{url}" if spec.model else spec.kind


_POLICIES: dict[PolicySpec, LLM] = {}
_LOCK = threading.Lock()


def get_policy(text: str) -> LLM:
    """The process-wide shared policy for spec ``text`` (built on first request)."""
    spec = parse_spec(text)
    with _LOCK:
        policy = _POLICIES.get(spec)
        if policy is None:
            policy = build_policy(spec)
            _POLICIES[spec] = policy
        return policy


def close_policies() -> None:
    """Close and forget every shared policy (also run at interpreter exit)."""
    with _LOCK:
        policies = list(_POLICIES.values())
        _POLICIES.clear()
    for p in policies:
        p.close()


atexit.register(close_policies)
