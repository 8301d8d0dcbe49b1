"""LoRA adapters for the ``local`` policy: bundled ones, their cards, and resolving ``adapter=``.

A bundled adapter is a dir ``agents/llm/adapters/<family>-sft/`` holding ``adapter.gguf``
(llama.cpp's LoRA format, written by ``agents.llm.lora_gguf.export_lora``) and ``card.json``
(how it was trained; see ``AdapterCard``). The ``local`` policy's ``adapter=`` option takes a
``.gguf`` file, a dir holding ``adapter.gguf`` (and a ``card.json``), the name of a bundled
adapter, or ``auto``: the bundled adapter of the env's family, resolved per env by the ReAct
agent (``resolve_auto``); a family with no bundled adapter runs the base model. A resolved
adapter is named ``<name>@<first 12 hex of its sha256>`` in the policy's name, so every record
says which weights acted.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from agents.llm.base import LLMError

ADAPTERS = Path(__file__).resolve().parent
ADAPTER_FILE = "adapter.gguf"
CARD = "card.json"
CARD_FORMAT = "qharness-policy-adapter"
AUTO = "auto"
NONE = ("", "none")
SUFFIX = "-sft"


@dataclass(frozen=True)
class AdapterCard:
    """``card.json`` of an adapter dir; every field optional (unknown keys land in ``extra``).

    name, family, base_sha256 (the GGUF it was trained on), lora_r, lora_alpha, targets,
    demos (demonstration steps trained on), demo_hash (sha256 of the demonstration file),
    train_time_s, heldout_token_accuracy (next-token accuracy on held-out demonstrations),
    epochs, recipe (the command and flags that built it)."""

    name: str = ""
    family: str = ""
    base_sha256: str = ""
    lora_r: int | None = None
    lora_alpha: float | None = None
    targets: tuple[str, ...] = ()
    demos: int | None = None
    demo_hash: str = ""
    train_time_s: float | None = None
    heldout_token_accuracy: float | None = None
    epochs: float | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdapterCard:
        """A card from parsed JSON (missing fields default, unknown ones go to ``extra``)."""
        known = {f.name for f in fields(cls)} - {"extra"}
        kw: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if "targets" in kw:
            kw["targets"] = tuple(kw["targets"] or ())
        extra = {k: v for k, v in data.items() if k not in known and k != "format"}
        return cls(**kw, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data (format marker first, ``extra`` merged back)."""
        out: dict[str, Any] = {"format": CARD_FORMAT}
        for f in fields(self):
            if f.name != "extra":
                val = getattr(self, f.name)
                out[f.name] = list(val) if isinstance(val, tuple) else val
        return {**out, **self.extra}


def read_card(path: str | Path) -> AdapterCard:
    """The card of an adapter dir (an empty card when it has none)."""
    p = Path(path) / CARD
    if not p.is_file():
        return AdapterCard()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise LLMError(f"{p}: not JSON ({exc})") from None
    return AdapterCard.from_dict(data if isinstance(data, dict) else {})


def bundled_name(family: str) -> str:
    """The bundled adapter of an env family: ``<family>-sft``."""
    return f"{family}{SUFFIX}"


def bundled_adapters() -> list[str]:
    """Names of the bundled adapter dirs (those holding ``adapter.gguf``)."""
    return sorted(p.parent.name for p in ADAPTERS.glob(f"*/{ADAPTER_FILE}"))


@dataclass(frozen=True)
class Adapter:
    """A resolved adapter: its GGUF, its name, the file's sha256 and its card."""

    path: Path
    name: str
    sha256: str
    card: AdapterCard = field(default_factory=AdapterCard)

    @property
    def label(self) -> str:
        """``<name>@<sha256[:12]>``: what the policy's name and the records show."""
        return f"{self.name}@{self.sha256[:12]}"


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    from agents.llm.local import sha256_of

    return sha256_of(Path(path))


def file_sha256(path: Path) -> str:
    """sha256 of a file, hashed once per (path, size, mtime)."""
    st = path.stat()
    return _sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)


def resolve_adapter(arg: str) -> Adapter | None:
    """The adapter ``adapter=arg`` names: None for ``''``/``none``; a ``.gguf`` file; a dir with
    ``adapter.gguf``; a bundled name. LLMError (saying what exists) otherwise, and for
    ``auto``, which only an env-aware caller can resolve (``resolve_auto``)."""
    arg = arg.strip()
    if arg.lower() in NONE:
        return None
    if arg == AUTO:
        raise LLMError(
            "adapter=auto picks the bundled adapter of each env's family and is resolved per "
            "env by the react agent; elsewhere name the adapter (adapter=NAME or a path)"
        )
    path = Path(arg).expanduser()
    if path.is_file():
        card = read_card(path.parent) if path.name == ADAPTER_FILE else AdapterCard()
        name = card.name or (path.parent.name if path.name == ADAPTER_FILE else path.stem)
        return Adapter(path, name, file_sha256(path), card)
    if path.is_dir() or (ADAPTERS / arg).is_dir():
        folder = path if path.is_dir() else ADAPTERS / arg
        gguf = folder / ADAPTER_FILE
        if not gguf.is_file():
            raise LLMError(
                f"adapter dir {str(folder)!r} has no {ADAPTER_FILE}: export the peft adapter "
                "with python -m agents.llm.lora_gguf PEFT_DIR DIR/adapter.gguf"
            )
        card = read_card(folder)
        return Adapter(gguf, card.name or folder.name, file_sha256(gguf), card)
    have = ", ".join(bundled_adapters()) or "none"
    raise LLMError(
        f"adapter {arg!r} not found: give a .gguf file, a dir with {ADAPTER_FILE}, a bundled "
        f"name (bundled: {have}) or auto"
    )


def adapter_for_env(env_id: str) -> str:
    """The bundled adapter of ``env_id``'s family, or ``''`` when that family has none."""
    from envs.registration import env_family

    name = bundled_name(env_family(env_id))
    return name if (ADAPTERS / name / ADAPTER_FILE).is_file() else ""


def resolve_auto(spec: str, env_id: str) -> str:
    """Policy spec ``spec`` with ``adapter=auto`` replaced by ``adapter=<bundled name>`` of
    ``env_id``'s family, or dropped (the base model) when that family has none; other specs
    unchanged."""
    head, sep, query = spec.partition("?")
    if not sep:
        return spec
    pairs = [kv.partition("=") for kv in query.split("&") if kv]
    if not any(k == "adapter" and v == AUTO for k, _, v in pairs):
        return spec
    name = adapter_for_env(env_id)
    kept = [
        f"{k}={name}" if k == "adapter" and v == AUTO else f"{k}{eq}{v}"
        for k, eq, v in pairs
        if name or not (k == "adapter" and v == AUTO)
    ]
    return head + ("?" + "&".join(kept) if kept else "")


def adapter_label(spec: str, env_id: str) -> str:
    """``name@sha256[:12]`` of the adapter policy ``spec`` runs with on ``env_id`` (``auto``
    resolved for its family), or ``''`` when it runs none."""
    from agents.llm.spec import parse_spec

    arg = str(parse_spec(resolve_auto(spec, env_id)).kwargs().get("adapter", ""))
    found = resolve_adapter(arg)
    return found.label if found else ""


def check_base(adapter: Adapter, model: Path, model_sha256: str = "") -> None:
    """LLMError when the adapter records a base model (its card, or the GGUF's
    ``qharness.adapter.base_sha256``) other than ``model`` (whose sha256 is given, or hashed)."""
    want = adapter.card.base_sha256 or _gguf_base_sha(adapter.path)
    if not want:
        return
    have = model_sha256 or file_sha256(model)
    if have != want:
        raise LLMError(
            f"adapter {adapter.label} was trained on a base model with sha256 {want[:12]}, "
            f"not on {model.name} ({have[:12]}): serve it with its own base (local:PATH.gguf)"
        )


def _gguf_base_sha(path: Path) -> str:
    from agents.llm.lora_gguf import KEY_BASE_SHA, AdapterExportError, read_header

    try:
        return str(read_header(path)[0].get(KEY_BASE_SHA, ""))
    except AdapterExportError as exc:
        raise LLMError(f"adapter {path}: {exc}") from None


def write_bundle(
    peft_dir: str | Path, dest: str | Path, card: dict[str, Any] | None = None, **export: Any
) -> AdapterCard:
    """Export the peft LoRA in ``peft_dir`` to ``dest/adapter.gguf`` and write ``dest/card.json``:
    ``card`` (training facts) plus what the export knows (base sha256, r, alpha, targets,
    file sha256 and size). ``export``: ``export_lora``'s keyword arguments (base, dtype)."""
    from agents.llm.lora_gguf import export_lora
    from envs.files import atomic_write

    out, card = Path(dest), dict(card or {})
    name = str(card.get("name") or out.name)
    done = export_lora(peft_dir, out / ADAPTER_FILE, name=name, **export)
    facts = {
        "name": name,
        "base_sha256": done.base_sha256,
        "lora_r": done.r,
        "lora_alpha": done.alpha,
        "targets": list(done.targets),
        "adapter_sha256": done.sha256,
        "adapter_bytes": done.size,
        "adapter_dtype": done.dtype,
    }
    full = AdapterCard.from_dict({**card, **facts})
    atomic_write(out / CARD, json.dumps(full.to_dict(), indent=2, sort_keys=True) + "\n")
    return full


def card_rows() -> list[str]:
    """One Markdown row per bundled adapter (for ``python -m qvalue.bundle --list``)."""
    rows = [
        "| adapter | kind | family | demos | held-out token accuracy | training time | size |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in bundled_adapters():
        card = read_card(ADAPTERS / name)
        size = (ADAPTERS / name / ADAPTER_FILE).stat().st_size / 1e6
        acc = card.heldout_token_accuracy
        secs = card.train_time_s
        rows.append(
            f"| {name} | policy-adapter | {card.family or '?'} | "
            f"{card.demos if card.demos is not None else '?'} | "
            f"{f'{acc:.3f}' if acc is not None else '?'} | "
            f"{f'{secs:.0f} s' if secs is not None else '?'} | {size:.1f} MB |"
        )
    return rows
