"""A peft LoRA adapter (safetensors) as a llama.cpp LoRA adapter GGUF, for the ``local`` policy.

llama.cpp adds ``scale * alpha / r * B @ (A @ x)`` to every adapted matrix product, where
``alpha`` is the file's ``adapter.lora.alpha``, ``r`` the rank of that tensor pair and
``scale`` the one given at load time (1 here). The file holds, per adapted base tensor
``<gguf name>`` (e.g. ``blk.3.attn_q.weight``), ``<gguf name>.lora_a`` = peft's ``lora_A``
(numpy shape ``(r, in)``, ggml ``ne = [in, r]``) and ``<gguf name>.lora_b`` = peft's
``lora_B`` (``(out, r)``, ``ne = [r, out]``), and the metadata llama.cpp checks:
``general.architecture`` (that of the base), ``general.type = adapter``,
``adapter.type = lora``, ``adapter.lora.alpha``.

Two conversions matter beyond names:

- llama.cpp's Llama GGUFs store ``attn_q`` / ``attn_k`` with their rows permuted (the rotary
  halves interleaved per head, as ``convert_hf_to_gguf.py`` writes them; transformers undoes
  it when it loads a GGUF). ``B @ A`` must be permuted the same way, i.e. the rows of
  ``lora_b`` of ``q_proj`` (over ``n_head`` heads) and ``k_proj`` (over ``n_head_kv``).
- peft's scale per module (``lora_alpha / r``, ``/ sqrt(r)`` with rsLoRA, per-module
  ``alpha_pattern`` / ``rank_pattern``) is folded into ``lora_b`` wherever it differs from
  the file's single ``alpha / r``.

The base model's GGUF supplies the architecture, head counts and tensor shapes (checked
against the adapter's, so an adapter trained on another model fails here, not in the
server). ``python -m agents.llm.lora_gguf PEFT_DIR OUT.gguf [--base BASE.gguf]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""The Llama projections an adapter may adapt (embeddings and the LM head are refused)."""
DTYPES = {"f16": np.float16, "f32": np.float32}
PREFIX = "base_model.model."
SUPPORTED_ARCHS = ("llama",)
KEY_BASE_SHA = "qharness.adapter.base_sha256"
KEY_PEFT = "qharness.adapter.peft_config"


class AdapterExportError(ValueError):
    """An adapter that cannot be served by llama.cpp as converted here (message says why)."""


@dataclass(frozen=True)
class BaseInfo:
    """What the converter needs of the base GGUF."""

    path: Path
    arch: str
    n_layer: int
    n_head: int
    n_head_kv: int
    shapes: Mapping[str, tuple[int, ...]]  # tensor name -> ggml ne
    sha256: str


@dataclass(frozen=True)
class Exported:
    """What ``export_lora`` wrote: the file, its sha256, and the adapter's settings."""

    path: Path
    sha256: str
    size: int
    base_sha256: str
    r: int
    alpha: float
    targets: tuple[str, ...]
    tensors: int
    dtype: str
    extra: dict[str, Any] = field(default_factory=dict)


_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}  # fmt: skip
_STRING, _ARRAY = 8, 9


def read_header(path: str | Path) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    """A GGUF's scalar and string metadata (arrays skipped) and its tensors' ggml shapes.
    (``gguf.GGUFReader`` decodes every vocabulary string: seconds for SmolLM2's 49k.)"""
    import struct

    try:
        return _read_header(Path(path))
    except (struct.error, ValueError, OverflowError, KeyError) as exc:
        raise AdapterExportError(f"{Path(path).name} is not a readable GGUF file ({exc})") from None


def _read_header(path: Path) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    import mmap
    import struct

    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        pos = 0

        def take(fmt: str) -> Any:
            nonlocal pos
            (val,) = struct.unpack_from(fmt, buf, pos)
            pos += struct.calcsize(fmt)
            return val

        def string() -> str:
            nonlocal pos
            n = take("<Q")
            pos += n
            return bytes(buf[pos - n : pos]).decode("utf-8", "replace")

        def value(kind: int) -> Any:
            nonlocal pos
            if kind == _STRING:
                return string()
            if kind == _ARRAY:
                sub, n = take("<I"), take("<Q")
                if sub in _SCALARS:
                    pos += n * struct.calcsize(_SCALARS[sub])
                else:
                    for _ in range(n):
                        value(sub)
                return None
            return take(_SCALARS[kind])

        if bytes(buf[:4]) != b"GGUF":
            raise AdapterExportError(f"{path.name} is not a GGUF file")
        pos = 4
        take("<I")  # version
        n_tensors, n_kv = take("<Q"), take("<Q")
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = string()
            val = value(take("<I"))
            if val is not None:
                meta[key] = val
        shapes: dict[str, tuple[int, ...]] = {}
        for _ in range(n_tensors):
            name = string()
            shapes[name] = tuple(take("<Q") for _ in range(take("<I")))
            take("<I"), take("<Q")  # type, offset
    return meta, shapes


def read_base(gguf_path: str | Path) -> BaseInfo:
    """Architecture, block count, head counts, tensor shapes and sha256 of a base GGUF."""
    from agents.llm.local import sha256_of

    path = Path(gguf_path)
    meta, shapes = read_header(path)

    def value(key: str) -> Any:
        if key not in meta:
            raise AdapterExportError(f"{path.name}: no {key} in its metadata (not a model GGUF?)")
        return meta[key]

    arch = str(value("general.architecture"))
    if arch not in SUPPORTED_ARCHS:
        raise AdapterExportError(
            f"{path.name}: architecture {arch!r}; adapters convert for {', '.join(SUPPORTED_ARCHS)}"
        )
    n_head = int(value(f"{arch}.attention.head_count"))
    return BaseInfo(
        path=path,
        arch=arch,
        n_layer=int(value(f"{arch}.block_count")),
        n_head=n_head,
        n_head_kv=int(meta.get(f"{arch}.attention.head_count_kv", n_head)),
        shapes=shapes,
        sha256=sha256_of(path),
    )


def permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """Rows of a q/k projection (or of its ``lora_b``) in llama.cpp's order: per head, the two
    rotary halves interleaved (``convert_hf_to_gguf.py``'s ``LlamaModel.permute``)."""
    rows = w.shape[0]
    if rows % (2 * n_head):
        raise AdapterExportError(f"{rows} rows do not split into {n_head} heads of two halves")
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def read_peft(peft_dir: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``adapter_config.json`` and the tensors of ``adapter_model.safetensors`` (float32)."""
    from safetensors.numpy import load_file

    d = Path(peft_dir)
    cfg_path, st_path = d / "adapter_config.json", d / "adapter_model.safetensors"
    if not cfg_path.is_file() or not st_path.is_file():
        raise AdapterExportError(
            f"{d} is not a peft adapter dir (needs adapter_config.json and "
            "adapter_model.safetensors; save it with save_pretrained(dir, safe_serialization=True))"
        )
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    try:
        tensors = {k: v.astype(np.float32) for k, v in load_file(str(st_path)).items()}
    except TypeError:  # bfloat16 has no numpy dtype: read through torch
        from safetensors.torch import load_file as load_torch

        tensors = {k: v.float().numpy() for k, v in load_torch(str(st_path)).items()}
    return cfg, tensors


def check_config(cfg: Mapping[str, Any]) -> None:
    """Refuse peft settings that llama.cpp's LoRA cannot express."""
    if str(cfg.get("peft_type", "LORA")).upper() != "LORA":
        raise AdapterExportError(f"peft_type {cfg.get('peft_type')!r}: only LoRA converts")
    refused = {
        "use_dora": "DoRA",
        "lora_bias": "a LoRA bias",
        "fan_in_fan_out": "fan_in_fan_out (Conv1D layers)",
        "modules_to_save": "modules_to_save (fully trained modules)",
        "layer_replication": "layer_replication",
        "trainable_token_indices": "trainable token embeddings",
        "target_parameters": "target_parameters (LoRA on raw parameters)",
        "alora_invocation_tokens": "activated LoRA (aLoRA)",
    }
    for key, what in refused.items():
        if cfg.get(key):
            raise AdapterExportError(f"the adapter uses {what}: llama.cpp LoRA cannot serve it")
    if cfg.get("bias", "none") != "none":
        raise AdapterExportError(f"bias={cfg.get('bias')!r}: trained biases do not convert")
    if float(cfg.get("lora_alpha", 0)) <= 0:
        raise AdapterExportError("lora_alpha must be > 0 (llama.cpp reads 0 as 'no alpha')")


def _pattern(patterns: Mapping[str, Any], module: str, default: Any) -> Any:
    """peft's per-module override (``rank_pattern`` / ``alpha_pattern``) for ``module``."""
    for key, val in patterns.items():
        if re.match(rf"(.*\.)?({key})$", module):
            return val
    return default


def peft_scale(cfg: Mapping[str, Any], module: str) -> float:
    """The factor peft multiplies ``B @ A`` by for ``module``."""
    r = int(_pattern(cfg.get("rank_pattern") or {}, module, cfg["r"]))
    alpha = float(_pattern(cfg.get("alpha_pattern") or {}, module, cfg["lora_alpha"]))
    return alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r


def lora_pairs(tensors: Mapping[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{hf module name: (lora_A, lora_B)}`` from peft's saved tensor names."""
    parts: dict[str, dict[str, np.ndarray]] = {}
    for key, arr in tensors.items():
        m = re.fullmatch(r"(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[^.]+)?\.weight", key)
        if m is None:
            raise AdapterExportError(
                f"unexpected tensor {key!r} in the adapter: only lora_A / lora_B weights convert"
            )
        parts.setdefault(m[1], {})[m[2]] = arr
    out = {}
    for module, ab in parts.items():
        if set(ab) != {"A", "B"}:
            raise AdapterExportError(f"{module}: lora_A or lora_B is missing")
        a, b = ab["A"], ab["B"]
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise AdapterExportError(f"{module}: lora_A {a.shape} and lora_B {b.shape} do not pair")
        out[module] = (a, b)
    return out


@functools.lru_cache(maxsize=4)
def _name_map(arch: str, n_layer: int) -> Any:
    """gguf's HF -> GGUF tensor name map (slow to build: made once per architecture)."""
    import gguf

    return gguf.get_tensor_name_map(
        next(a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == arch), n_layer
    )


def gguf_name(module: str, base: BaseInfo) -> str:
    """The base GGUF's tensor name for an HF module (``model.layers.3.self_attn.q_proj`` ->
    ``blk.3.attn_q.weight``); refuses modules outside ``TARGETS``."""
    leaf = module.rsplit(".", 1)[-1]
    if leaf not in TARGETS:
        raise AdapterExportError(
            f"the adapter adapts {module!r}; only {', '.join(TARGETS)} convert"
        )
    names = _name_map(base.arch, base.n_layer)
    name = names.get_name(module + ".weight", try_suffixes=(".weight",))
    if name is None:
        raise AdapterExportError(f"no {base.arch} GGUF tensor for {module!r}")
    return name


def convert(
    cfg: Mapping[str, Any], tensors: Mapping[str, np.ndarray], base: BaseInfo
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """``(gguf name, lora_a, lora_b)`` per adapted tensor, in llama.cpp's conventions (q/k rows
    permuted, peft's scale folded into ``lora_b`` where it differs from ``alpha / r``)."""
    alpha = float(cfg["lora_alpha"])
    for module, (a, b) in sorted(lora_pairs(tensors).items()):
        name = gguf_name(module, base)
        ne = base.shapes.get(name)
        if ne is None or len(ne) != 2 or (a.shape[1], b.shape[0]) != (ne[0], ne[1]):
            raise AdapterExportError(
                f"{module}: the adapter maps {a.shape[1]} -> {b.shape[0]} features, the base "
                f"{base.path.name}'s {name} is {ne}: was it trained on another model?"
            )
        leaf = module.rsplit(".", 1)[-1]
        if leaf == "q_proj":
            b = permute_rows(b, base.n_head)
        elif leaf == "k_proj":
            b = permute_rows(b, base.n_head_kv)
        fold = peft_scale(cfg, module) * a.shape[0] / alpha  # llama.cpp applies alpha / r
        if not math.isclose(fold, 1.0, rel_tol=1e-9):
            b = b * np.float32(fold)
        yield name, a, b


def export_lora(
    peft_dir: str | Path,
    out_path: str | Path,
    *,
    base: str | Path | None = None,
    dtype: str = "f16",
    name: str = "",
) -> Exported:
    """Write the peft LoRA in ``peft_dir`` as a llama.cpp adapter GGUF at ``out_path``.

    ``base``: the GGUF the adapter will be served with (default: the ``local`` policy's
    SmolLM2); ``dtype``: ``f16`` (half the size) or ``f32``; ``name``: ``general.name``.
    Raises AdapterExportError when the adapter cannot be served as is."""
    from gguf import GGUFType, GGUFWriter, Keys

    from agents.llm.local import default_model_path, sha256_of

    if dtype not in DTYPES:
        raise AdapterExportError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    info = read_base(base or default_model_path())
    cfg, tensors = read_peft(peft_dir)
    check_config(cfg)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f"{out.name}.part{os.getpid()}")
    writer = GGUFWriter(str(part), info.arch)
    writer.add_type(GGUFType.ADAPTER)
    writer.add_string(Keys.Adapter.TYPE, "lora")
    writer.add_float32(Keys.Adapter.LORA_ALPHA, float(cfg["lora_alpha"]))
    writer.add_name(name or Path(peft_dir).resolve().name)
    writer.add_string(KEY_BASE_SHA, info.sha256)
    writer.add_string(KEY_PEFT, json.dumps(_settings(cfg), sort_keys=True))
    n, np_dtype = 0, DTYPES[dtype]
    for gname, a, b in convert(cfg, tensors, info):
        writer.add_tensor(gname + ".lora_a", np.ascontiguousarray(a, dtype=np_dtype))
        writer.add_tensor(gname + ".lora_b", np.ascontiguousarray(b, dtype=np_dtype))
        n += 1
    if n == 0:
        raise AdapterExportError(f"{peft_dir}: the adapter holds no LoRA tensors")
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    os.replace(part, out)
    return Exported(
        path=out,
        sha256=sha256_of(out),
        size=out.stat().st_size,
        base_sha256=info.sha256,
        r=int(cfg["r"]),
        alpha=float(cfg["lora_alpha"]),
        targets=tuple(sorted({m.rsplit(".", 1)[-1] for m in lora_pairs(tensors)})),
        tensors=2 * n,
        dtype=dtype,
        extra=_settings(cfg),
    )


HF_MODULES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
"""Llama GGUF tensor kind -> HF module (the inverse of the name map, for ``random_lora``)."""


def random_lora(
    out_dir: str | Path,
    base: str | Path,
    *,
    r: int = 16,
    alpha: float = 32.0,
    targets: Sequence[str] = TARGETS,
    std: float = 1e-3,
    seed: int = 0,
) -> Path:
    """A peft-format LoRA with random weights shaped for the base GGUF (``lora_A`` ~ N(0, 1/in),
    ``lora_B`` ~ N(0, std)), written without torch: for speed benchmarks and tests."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    _, shapes = read_header(base)
    out, tensors = Path(out_dir), {}
    for name, ne in shapes.items():
        m = re.fullmatch(r"blk\.(\d+)\.(\w+)\.weight", name)
        if m is None or HF_MODULES.get(m[2], "").rsplit(".", 1)[-1] not in targets:
            continue
        key = f"{PREFIX}model.layers.{m[1]}.{HF_MODULES[m[2]]}"
        a = rng.standard_normal((r, ne[0]), dtype=np.float32) / np.float32(math.sqrt(ne[0]))
        tensors[key + ".lora_A.weight"] = a
        tensors[key + ".lora_B.weight"] = rng.standard_normal((ne[1], r), dtype=np.float32) * std
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"))
    cfg = {"peft_type": "LORA", "r": r, "lora_alpha": alpha, "target_modules": list(targets),
           "bias": "none", "task_type": "CAUSAL_LM"}  # fmt: skip
    (out / "adapter_config.json").write_text(json.dumps(cfg, indent=2))
    return out


def _settings(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The peft settings that decide the adapter's effect (for the file and the card)."""
    keys = ("r", "lora_alpha", "use_rslora", "rank_pattern", "alpha_pattern", "target_modules")
    out = {k: cfg.get(k) for k in keys}
    if isinstance(out["target_modules"], (set, tuple)):
        out["target_modules"] = sorted(out["target_modules"])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m agents.llm.lora_gguf PEFT_DIR OUT.gguf [--base BASE.gguf] [--dtype f16]``."""
    p = argparse.ArgumentParser(prog="python -m agents.llm.lora_gguf", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("peft_dir", help="a peft LoRA dir (adapter_config.json + safetensors)")
    p.add_argument("out", help="the adapter GGUF to write")
    p.add_argument("--base", default="", help="the base GGUF (default: the local SmolLM2)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="f16")
    p.add_argument("--name", default="", help="general.name (default: the peft dir's name)")
    ns = p.parse_args(argv)
    try:
        done = export_lora(ns.peft_dir, ns.out, base=ns.base or None, dtype=ns.dtype, name=ns.name)
    except (AdapterExportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {done.path} ({done.tensors} tensors, r={done.r}, alpha={done.alpha:g}, "
        f"{done.size / 1e6:.1f} MB, sha256 {done.sha256[:12]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
