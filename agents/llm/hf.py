"""The ``hf`` policy: a Hugging Face causal LM in this process (transformers + torch).

CUDA in bf16 when a GPU is present (fp16 where bf16 is not supported), else CPU in fp32.
Calls from concurrent episodes go through a batching queue: requests with equal sampling
settings are padded (left) into one ``generate``; scoring requests are batched into one
forward pass. A ``.gguf`` path is loaded through transformers' GGUF support (dequantised;
needs the ``gguf`` package). Sampling seeds are honoured per batch, so sampled runs are
reproducible only with one worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.llm.base import (
    Completion,
    LLMError,
    LLMResult,
    Prompt,
    as_messages,
    cut_completion,
    render_plain,
    split_prefill,
)
from agents.llm.batching import BatchQueue


@dataclass(frozen=True)
class _Gen:
    text: str
    seed: int | None


@dataclass(frozen=True)
class _Score:
    prompt_ids: tuple[int, ...]
    cont_ids: tuple[int, ...]


def pick_device(device: str = "auto", dtype: str = "auto") -> tuple[str, Any]:
    """``(device, torch dtype)``: CUDA+bf16 when available (auto), else CPU+fp32."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "auto":
        if device.startswith("cuda"):
            return device, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return device, torch.float32
    names = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    if dtype not in names:
        raise LLMError(f"hf dtype must be auto, bf16, fp16 or fp32, got {dtype!r}")
    return device, names[dtype]


def load_model(ref: str, device: str, dtype: Any) -> tuple[Any, Any]:
    """Model and tokenizer from a directory, a ``.gguf`` file or a hub id."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(ref).expanduser()
    kw: dict[str, Any] = {}
    src = str(path) if path.exists() else ref
    if path.suffix == ".gguf":
        if not path.is_file():
            raise LLMError(f"hf: GGUF file {ref!r} not found")
        src, kw = str(path.parent), {"gguf_file": path.name}
    try:
        tok = AutoTokenizer.from_pretrained(src, **kw)
        model = AutoModelForCausalLM.from_pretrained(src, dtype=dtype, **kw)
    except ImportError as exc:
        raise LLMError(f"hf: cannot load {ref!r}: {exc}") from None
    except OSError as exc:
        raise LLMError(
            f"hf: cannot load {ref!r} ({str(exc).splitlines()[0][:160]}); give a local "
            "model directory, or a hub id when the hub is reachable"
        ) from None
    model = model.to(device).eval()  # type: ignore[arg-type]
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token or tok.unk_token
    return model, tok


class HFBackend:
    """A transformers causal LM with batched generation and continuation scoring."""

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        max_batch: int = 8,
        wait_ms: float = 5.0,
        seed: int = 0,
        name: str = "",
    ) -> None:
        self.ref, self.name = model, name or f"hf:{model}"
        self.device, self.dtype = pick_device(device, dtype)
        self.model, self.tok = load_model(model, self.device, self.dtype)
        self.seed = seed
        self._queue: BatchQueue[Any, Any] = BatchQueue(
            self._process, max_batch=max_batch, wait_s=wait_ms / 1000, name="hf-batcher"
        )
        self._tok_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HFBackend(model={self.ref!r}, device={self.device!r}, dtype={self.dtype})"

    supports_scoring = True
    supports_grammar = False
    supports_prefill = True

    @property
    def batch_sizes(self) -> list[int]:
        """Sizes of the batches run so far."""
        return list(self._queue.batches)

    # --- prompts ----------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        """Prompt text: the tokenizer's chat template when it has one, else plain text."""
        if isinstance(prompt, str):
            return prompt
        body, prefill = split_prefill(prompt)
        if getattr(self.tok, "chat_template", None):
            with self._tok_lock:
                text = self.tok.apply_chat_template(
                    as_messages(body), tokenize=False, add_generation_prompt=True
                )
            return str(text) + prefill
        return render_plain(prompt)

    def _ids(self, text: str, special: bool = True) -> list[int]:
        with self._tok_lock:
            return list(self.tok(text, add_special_tokens=special)["input_ids"])

    def count_tokens(self, text: str) -> int:
        """Exact, with the model's tokenizer."""
        return len(self._ids(text, special=False))

    # --- public calls -----------------------------------------------------------------------
    def generate(
        self,
        prompt: Prompt,
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int = 128,
        stop: Sequence[str] = (),
        logprobs: bool = False,
        grammar: str | None = None,
        seed: int | None = None,
    ) -> LLMResult:
        """Batched with concurrent calls of the same settings (``grammar`` is ignored)."""
        t0 = time.perf_counter()
        key = ("gen", int(n), float(temperature), int(max_tokens), tuple(stop), bool(logprobs))
        comps, tin, tout = self._queue.submit(key, _Gen(self.render(prompt), seed))
        return LLMResult(tuple(comps), tin, tout, time.perf_counter() - t0, self.ref)

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """Summed log-probabilities, all continuations in one batched forward pass."""
        if not continuations:
            return []
        text = self.render(prompt)
        p_ids = self._ids(text)
        items = []
        for c in continuations:
            full = self._ids(text + c)
            cont = full[len(p_ids) :] if full[: len(p_ids)] == p_ids else self._ids(c, False)
            items.append(_Score(tuple(p_ids), tuple(cont)))
        return [float(x) for x in self._queue.submit(("score",), items)]

    def close(self) -> None:
        """Stop the batching thread."""
        self._queue.close()

    # --- batch work (runs in the batching thread) ------------------------------------------
    def _process(self, key: Hashable, items: Sequence[Any]) -> list[Any]:
        import torch

        with torch.inference_mode():
            if key == ("score",):
                flat = [s for group in items for s in group]
                scores = self._score_batch(flat)
                out, i = [], 0
                for group in items:
                    out.append(scores[i : i + len(group)])
                    i += len(group)
                return out
            k: Any = key
            return self._generate_batch(items, k[1], k[2], k[3], k[4], k[5])

    def _generate_batch(
        self,
        items: Sequence[_Gen],
        n: int,
        temperature: float,
        max_tokens: int,
        stop: tuple[str, ...],
        logprobs: bool,
    ) -> list[tuple[list[Completion], int, int]]:
        import torch

        seeds = [it.seed for it in items if it.seed is not None]
        if temperature > 0:
            torch.manual_seed(seeds[0] if seeds else self.seed)
        self.tok.padding_side = "left"
        enc = self.tok([it.text for it in items], return_tensors="pt", padding=True)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        kw: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "num_return_sequences": n,
            "do_sample": temperature > 0,
            "pad_token_id": self.tok.pad_token_id,
            "return_dict_in_generate": True,
            "output_logits": logprobs,
        }
        if temperature > 0:
            kw.update(temperature=temperature, top_k=0, top_p=1.0)
        out = self.model.generate(**enc, **kw)
        width = enc["input_ids"].shape[1]
        new = out.sequences[:, width:]
        lp = None
        if logprobs and out.logits:
            logits = torch.stack(out.logits, dim=1).float()
            lp = torch.log_softmax(logits, -1).gather(-1, new.unsqueeze(-1)).squeeze(-1)
        results = []
        for i in range(len(items)):
            comps, tout = [], 0
            for j in range(i * n, (i + 1) * n):
                comp, used = self._decode(new[j], None if lp is None else lp[j], stop)
                comps.append(comp)
                tout += used
            tin = int(enc["attention_mask"][i].sum())
            results.append((comps, tin, tout))
        return results

    def _decode(self, ids: Any, lps: Any, stop: tuple[str, ...]) -> tuple[Completion, int]:
        ids_list = [int(x) for x in ids.tolist()]
        eos = {self.tok.eos_token_id, self.tok.pad_token_id} - {None}
        end = next((k for k, t in enumerate(ids_list) if t in eos), len(ids_list))
        used = ids_list[:end]
        text = self.tok.decode(used, skip_special_tokens=True)
        finish = "stop" if end < len(ids_list) else "length"
        if lps is None:  # no per-token texts needed
            return cut_completion(text, [], [], finish, stop), len(used)
        toks = [self.tok.decode([t], skip_special_tokens=True) for t in used]
        values = [float(x) for x in lps.tolist()[:end]]
        return cut_completion(text, toks, values, finish, stop), len(used)

    def _score_batch(self, items: Sequence[_Score]) -> list[float]:
        import torch

        seqs = [list(it.prompt_ids) + list(it.cont_ids) for it in items]
        width = max(len(q) for q in seqs)
        pad = int(self.tok.pad_token_id or 0)
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, q in enumerate(seqs):
            ids[i, : len(q)] = torch.tensor(q)
            mask[i, : len(q)] = 1
        logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device))
        logp = torch.log_softmax(logits.logits.float(), -1).cpu()
        scores = []
        for i, s in enumerate(items):
            start = len(s.prompt_ids)
            total = 0.0
            for k, tok in enumerate(s.cont_ids):
                if start + k >= 1:  # the very first token of a text has no context to score
                    total += float(logp[i, start + k - 1, tok])
            scores.append(total)
        return scores
