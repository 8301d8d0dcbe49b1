"""peft LoRA -> llama.cpp adapter GGUF (``agents.llm.lora_gguf``), and serving it.

Fast tests use a tiny random Llama (no download) and a stand-in base GGUF holding only the
shapes and metadata the converter reads. The ``model`` test is the parity check: a LoRA with
random non-zero weights on all seven projections of the real SmolLM2 (loaded from its GGUF
into transformers, as ``scoring.q.lm`` does), exported, served by llama.cpp (xllamacpp)
with the Q4_1 base, against transformers + peft on the dequantised base.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agents.llm.lora_gguf import (
    TARGETS,
    AdapterExportError,
    export_lora,
    peft_scale,
    permute_rows,
    read_header,
)

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
gguf = pytest.importorskip("gguf")

TINY = {"hidden": 64, "inter": 96, "heads": 4, "kv_heads": 2, "layers": 2, "vocab": 128}


def tiny_base_gguf(path: Path, hidden: int = TINY["hidden"]) -> Path:
    """A llama GGUF with the tiny model's metadata and (zero) projection tensors."""
    h, f, heads, kv = hidden, TINY["inter"], TINY["heads"], TINY["kv_heads"]
    head_dim = h // heads
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(TINY["layers"])
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    shapes = {  # numpy (out, in)
        "attn_q": (h, h),
        "attn_k": (kv * head_dim, h),
        "attn_v": (kv * head_dim, h),
        "attn_output": (h, h),
        "ffn_gate": (f, h),
        "ffn_up": (f, h),
        "ffn_down": (h, f),
    }
    for i in range(TINY["layers"]):
        for name, shape in shapes.items():
            w.add_tensor(f"blk.{i}.{name}.weight", np.zeros(shape, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def tiny_peft(out: Path, **lora: Any) -> Path:
    """A tiny random Llama with a random LoRA on all seven projections, saved with peft."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        hidden_size=TINY["hidden"],
        intermediate_size=TINY["inter"],
        num_attention_heads=TINY["heads"],
        num_key_value_heads=TINY["kv_heads"],
        num_hidden_layers=TINY["layers"],
        vocab_size=TINY["vocab"],
    )
    kw = {"r": 4, "lora_alpha": 8, "target_modules": list(TARGETS), **lora}
    model = get_peft_model(LlamaForCausalLM(cfg), LoraConfig(init_lora_weights=False, **kw))
    model.save_pretrained(str(out))
    return out


def tensors(path: Path) -> dict[str, np.ndarray]:
    reader = gguf.GGUFReader(str(path))
    return {t.name: np.array(t.data, dtype=np.float32) for t in reader.tensors}


def peft_tensors(d: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return dict(load_file(str(d / "adapter_model.safetensors")))


def test_permutation_is_what_transformers_undoes() -> None:
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    undo = LlamaTensorProcessor(config={})._reverse_permute_weights
    w = np.arange(24 * 5, dtype=np.float32).reshape(24, 5)
    for heads in (1, 2, 3, 6):
        permuted = permute_rows(w, heads)
        assert not np.array_equal(permuted, w)
        assert np.array_equal(undo(permuted, heads, heads), w)


def test_names_metadata_and_layout(tmp_path: Path) -> None:
    base = tiny_base_gguf(tmp_path / "base.gguf")
    peft_dir = tiny_peft(tmp_path / "peft")
    done = export_lora(peft_dir, tmp_path / "a.gguf", base=base, dtype="f32", name="tiny")
    meta, shapes = read_header(done.path)
    assert meta["general.architecture"] == "llama" and meta["general.type"] == "adapter"
    assert meta["adapter.type"] == "lora" and meta["adapter.lora.alpha"] == 8.0
    assert meta["general.name"] == "tiny"
    assert meta["qharness.adapter.base_sha256"] == done.base_sha256
    assert done.tensors == 2 * 7 * TINY["layers"] == len(shapes)
    assert done.targets == tuple(sorted(TARGETS)) and (done.r, done.alpha) == (4, 8.0)
    _, base_shapes = read_header(base)
    for name, ne in base_shapes.items():  # llama.cpp's check: a.ne[0] = in, b.ne[1] = out
        assert shapes[name + ".lora_a"] == (ne[0], 4)
        assert shapes[name + ".lora_b"] == (4, ne[1])
    got, src = tensors(done.path), peft_tensors(peft_dir)
    pre = "base_model.model.model.layers.1."
    np.testing.assert_array_equal(
        got["blk.1.attn_q.weight.lora_a"], src[pre + "self_attn.q_proj.lora_A.weight"]
    )
    np.testing.assert_array_equal(
        got["blk.1.attn_q.weight.lora_b"],
        permute_rows(src[pre + "self_attn.q_proj.lora_B.weight"], TINY["heads"]),
    )
    np.testing.assert_array_equal(
        got["blk.1.attn_k.weight.lora_b"],
        permute_rows(src[pre + "self_attn.k_proj.lora_B.weight"], TINY["kv_heads"]),
    )
    np.testing.assert_array_equal(
        got["blk.1.ffn_down.weight.lora_b"], src[pre + "mlp.down_proj.lora_B.weight"]
    )


def test_rslora_and_alpha_pattern_fold_into_lora_b(tmp_path: Path) -> None:
    base = tiny_base_gguf(tmp_path / "base.gguf")
    peft_dir = tiny_peft(tmp_path / "peft", use_rslora=True, alpha_pattern={"v_proj": 2})
    cfg = json.loads((peft_dir / "adapter_config.json").read_text())
    done = export_lora(peft_dir, tmp_path / "a.gguf", base=base, dtype="f32")
    got, src = tensors(done.path), peft_tensors(peft_dir)
    pre = "base_model.model.model.layers.0."
    for module, gname in (("self_attn.v_proj", "attn_v"), ("mlp.up_proj", "ffn_up")):
        scale = peft_scale(cfg, f"model.layers.0.{module}")
        # llama.cpp multiplies by alpha / r = 8 / 4; peft by alpha_m / sqrt(4)
        want = src[pre + module + ".lora_B.weight"] * scale / (8 / 4)
        np.testing.assert_allclose(got[f"blk.0.{gname}.weight.lora_b"], want, rtol=1e-6)
    assert peft_scale(cfg, "model.layers.0.self_attn.v_proj") == pytest.approx(2 / 2)
    assert peft_scale(cfg, "model.layers.0.mlp.up_proj") == pytest.approx(8 / 2)


def test_refuses_what_llamacpp_cannot_serve(tmp_path: Path) -> None:
    base = tiny_base_gguf(tmp_path / "base.gguf")
    with pytest.raises(AdapterExportError, match="DoRA"):
        export_lora(tiny_peft(tmp_path / "dora", use_dora=True), tmp_path / "x.gguf", base=base)
    lm_head = tiny_peft(tmp_path / "head", target_modules=["q_proj", "lm_head"])
    with pytest.raises(AdapterExportError, match="lm_head"):
        export_lora(lm_head, tmp_path / "x.gguf", base=base)
    with pytest.raises(AdapterExportError, match="not a peft adapter dir"):
        export_lora(tmp_path, tmp_path / "x.gguf", base=base)
    small = tiny_base_gguf(tmp_path / "small.gguf", hidden=32)
    with pytest.raises(AdapterExportError, match="another model"):
        export_lora(tiny_peft(tmp_path / "other"), tmp_path / "x.gguf", base=small)
    assert not (tmp_path / "x.gguf").exists()


# --- parity with transformers + peft on the real SmolLM2 -------------------------------------

SIGMA = 0.08  # std of lora_B entries (lora_A ~ N(0, 1/in)); r 8, alpha 16
TOL_MEAN, TOL_MAX = 0.15, 0.75  # |llama.cpp - transformers| per token, nats, adapter on
SHIFT_MIN = 0.5  # mean |adapted - base| logprob per token, transformers: >= 3x TOL_MEAN
PROMPTS = [
    (
        "<|im_start|>system\nYou play a text game.<|im_end|>\n<|im_start|>user\nYou are in a "
        "kitchen. A locked chest is here; a key lies on the table.<|im_end|>\n"
        "<|im_start|>assistant\n",
        "Thought: I should take the key first.\nAction: take key",
    ),
    ("The capital of France is", " Paris, and the capital of Germany is Berlin."),
    ("def add(a, b):\n", "    return a + b\n\nprint(add(2, 3))\n"),
    ("Once upon a time, in a small village by the sea,", " there lived an old fisherman."),
]


@pytest.fixture(scope="module")
def smol_lora(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, Path]]:
    """(peft model on the dequantised SmolLM2, tokenizer, saved adapter dir)."""
    from peft import LoraConfig, get_peft_model

    from scoring.q.lm import load_base

    pytest.importorskip("transformers")
    torch.set_num_threads(1)
    model, tok = load_base("local", torch.float32)
    cfg = LoraConfig(r=8, lora_alpha=16, target_modules=list(TARGETS), init_lora_weights=False)
    peft_model = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_A" in name:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)
            elif "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * SIGMA)
    peft_model.eval()
    out = tmp_path_factory.mktemp("smol") / "peft"
    peft_model.save_pretrained(str(out))
    yield peft_model, tok, out


def hf_logprobs(model: Any, ids: list[int], cont: list[int]) -> list[float]:
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids + cont])).logits[0].float()
    lp = torch.log_softmax(logits, -1)
    return [float(lp[len(ids) - 1 + i, t]) for i, t in enumerate(cont)]


def llama_logprobs(adapter: str, data: list[tuple[list[int], list[int]]]) -> np.ndarray:
    """Per-token logprobs of each continuation from llama.cpp (generated under a grammar of
    its exact token ids; the logprobs are the raw model's)."""
    from agents.llm.llamacpp import choice_logprobs, token_grammar
    from agents.llm.local import LocalBackend

    b = LocalBackend(parallel=1, ctx=512, threads=1, adapter=adapter)
    try:
        out: list[float] = []
        for ids, cont in data:
            r = b.api()._client.completions.create(
                model="x",
                prompt=ids,
                max_tokens=len(cont),
                temperature=0.0,
                logprobs=1,
                extra_body={"grammar": token_grammar(cont)},
            )
            _, lps, got = choice_logprobs(r.choices[0])
            assert got == cont
            out += lps
        return np.array(out)
    finally:
        b.close()


@pytest.mark.model
def test_llamacpp_matches_transformers_peft(
    smol_lora: tuple[Any, Any, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """llama.cpp (Q4_1 base + exported f16 adapter) against transformers + peft (dequantised
    fp32 base + the same adapter), per-token logprobs of 4 fixed continuations (48 tokens).

    The bases alone differ (llama.cpp runs Q4_1 weights on Q8-quantised activations; measured
    mean |diff| 0.049, max 0.31 nats). With the adapter the difference must stay within
    ``TOL_MEAN`` (mean) and ``TOL_MAX`` (max) while the adapter moves transformers' logprobs
    by at least ``SHIFT_MIN`` on average, so an adapter llama.cpp applied wrongly or not at
    all fails. An export without the q/k row permutation is checked to fail the tolerance."""
    pytest.importorskip("xllamacpp")
    from agents.llm import lora_gguf

    model, tok, peft_dir = smol_lora
    data = [
        (tok(p)["input_ids"], tok(c, add_special_tokens=False)["input_ids"]) for p, c in PROMPTS
    ]
    hf_adapted = np.array([x for i, c in data for x in hf_logprobs(model, i, c)])
    with model.disable_adapter():
        hf_base = np.array([x for i, c in data for x in hf_logprobs(model, i, c)])
    gguf_path = export_lora(peft_dir, tmp_path / "adapter.gguf").path
    ll_base = llama_logprobs("", data)
    ll_adapted = llama_logprobs(str(gguf_path), data)

    base_err = np.abs(ll_base - hf_base)
    err = np.abs(ll_adapted - hf_adapted)
    shift = np.abs(hf_adapted - hf_base)
    print(
        f"tokens {len(err)}; base-vs-base mean {base_err.mean():.3f} max {base_err.max():.3f}; "
        f"adapter-vs-adapter mean {err.mean():.3f} max {err.max():.3f}; "
        f"adapter shift mean {shift.mean():.3f} max {shift.max():.3f}"
    )
    assert shift.mean() >= SHIFT_MIN, "the random adapter barely changes the model"
    assert err.mean() <= TOL_MEAN and err.max() <= TOL_MAX

    monkeypatch.setattr(lora_gguf, "permute_rows", lambda w, n: w)
    wrong = export_lora(peft_dir, tmp_path / "unpermuted.gguf").path
    bad = np.abs(llama_logprobs(str(wrong), data) - hf_adapted)
    print(f"without the q/k permutation: mean {bad.mean():.3f} max {bad.max():.3f}")
    assert bad.mean() > TOL_MEAN or bad.max() > TOL_MAX
