"""A tiny random causal LM with a byte-level tokenizer, built locally (tests, GPU checks).

No download: a ``LlamaConfig`` with 2 layers and a byte-level BPE tokenizer with no merges
(one token per byte), saved with ``save_pretrained`` so ``hf:<dir>`` loads it. Its outputs
are noise; it exercises the code paths, not the quality.
"""

from __future__ import annotations

from pathlib import Path

SPECIALS = ("<|endoftext|>", "<|pad|>")


def build_tiny_lm(out_dir: str | Path, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """Write a random Llama-style model and its tokenizer to ``out_dir``; return the dir."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    for sp in SPECIALS:
        vocab[sp] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token=SPECIALS[0], pad_token=SPECIALS[1]
    )
    tok.save_pretrained(out)
    cfg = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=vocab[SPECIALS[0]],
        pad_token_id=vocab[SPECIALS[1]],
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    LlamaForCausalLM(cfg).save_pretrained(out)
    return out
