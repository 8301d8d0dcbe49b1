"""A tiny random causal LM with a byte-level tokenizer, built locally (tests and benchmarks).

No download: the tokenizer is BPE over the 256 byte-level symbols with no merges (one token per
byte) plus ``<pad>`` and ``<eos>``; the model is a Llama config with random weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def byte_tokenizer() -> Any:
    """A fast byte-level tokenizer: one token per UTF-8 byte, ``<pad>`` and ``<eos>``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    vocab["<pad>"] = len(vocab)
    vocab["<eos>"] = len(vocab)
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tk.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>")


def make_tiny_lm(
    out: str | Path, hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0
) -> Path:
    """Save a random Llama-style LM and its byte tokenizer to ``out`` (safetensors)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = byte_tokenizer()
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=4096,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    out = Path(out)
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    return out
