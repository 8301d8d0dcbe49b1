"""The ``lm-dpo`` Q model (as in the paper): a causal LM trained with step-level DPO against a
frozen copy of itself (trl's DPOTrainer; LoRA via peft optional).

``Q(s, a) = beta * mean_t [log pi_theta(a_t | s, a_<t) - log pi_ref(a_t | s, a_<t)]`` over the
action's tokens (its EOS included, as DPO trained it). DPO's implicit reward is the *sum* of
the log-ratios; the token mean (``reduction="mean"``, the default) does not favour short or
long actions, ``reduction="sum"`` gives DPO's own reward. Scoring computes the state's prompt
once per model and reuses its key/value cache for all k candidates (``score_shared``);
``score_naive`` runs each candidate through the whole prompt (same numbers, the baseline).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from scoring.base import State
from scoring.q.pairs import Pair
from scoring.text import (
    DEFAULT_MAX_TURNS,
    LEGACY_FORMAT,
    LM_SUFFIX,
    STATE_FORMAT,
    fit_state,
    legacy_state_text,
    lm_completion,
)


@dataclass(frozen=True)
class DPOSettings:
    """Hyperparameters of step-level DPO and of scoring."""

    base: str = ""  # model dir (safetensors), .gguf file or "local" = the frozen reference
    beta: float = 0.1
    lr: float = 5e-5
    epochs: int = 1
    max_steps: int = 0  # 0 = epochs decide
    batch_size: int = 4
    max_length: int = 512
    max_turns: int = DEFAULT_MAX_TURNS
    lora: bool = False
    lora_r: int = 8
    reduction: str = "mean"  # or "sum"
    seed: int = 0
    state_format: int = STATE_FORMAT  # scoring.text; cards without it are format 1


LOCAL_BASE = "local"


def base_source(base: str) -> tuple[str, dict[str, Any]]:
    """``(dir, from_pretrained kwargs)`` of a base spec: a model dir (safetensors), a ``.gguf``
    file, or ``local`` / ``local:PATH`` (the GGUF the ``local`` policy runs, found the same way;
    transformers dequantises it with the ``gguf`` package)."""
    if base == LOCAL_BASE or base.startswith(LOCAL_BASE + ":"):
        from agents.llm.base import LLMError
        from agents.llm.local import resolve_model

        try:
            gguf = resolve_model(base.partition(":")[2])
        except LLMError as exc:  # a one-line error for the CLIs, as for a missing path
            raise FileNotFoundError(str(exc)) from None
        return str(gguf.parent), {"gguf_file": gguf.name}
    path = Path(base).expanduser() if base else None
    if path is not None and path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"the base model {base!r} is missing")
        return str(path.parent), {"gguf_file": path.name}
    if path is None or not path.is_dir():
        raise ValueError(
            f"--base must be a local model directory, a .gguf file or 'local' (the local "
            f"policy's SmolLM2), got {base!r}"
        )
    return str(path), {"use_safetensors": True}


def base_path(base: str) -> str:
    """The file or dir a base spec resolves to (for the card)."""
    src, kw = base_source(base)
    return str(Path(src) / kw["gguf_file"]) if "gguf_file" in kw else src


def load_base(base: str, dtype: Any, tokenizer: bool = True) -> tuple[Any, Any]:
    """The base causal LM (and its tokenizer, unless ``tokenizer=False``) of a base spec; a
    GGUF loads from its safetensors copy (see ``gguf_as_safetensors``)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src, kw = base_source(base)
    if "gguf_file" in kw:
        src, kw = str(gguf_as_safetensors(Path(src) / kw["gguf_file"])), {"use_safetensors": True}
    tok = AutoTokenizer.from_pretrained(src, **kw) if tokenizer else None
    if tok is not None and tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(src, dtype=dtype, **kw)
    return model, tok


def gguf_as_safetensors(gguf: Path) -> Path:
    """A dir with the GGUF's weights dequantised to fp32 (safetensors), its config and its
    tokenizer, made once under the models cache: transformers parses a GGUF's metadata
    anew (and slowly) on every load, a safetensors dir loads in seconds."""
    import shutil

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from envs.cache import cache_dir

    st = gguf.stat()
    out = cache_dir("models", "hf") / f"{gguf.stem}-{st.st_size}-{st.st_mtime_ns}"
    if (out / "config.json").is_file():
        return out
    kw = {"gguf_file": gguf.name}
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), **kw)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=torch.float32, **kw)
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # dequantised already: drop the "quantized" marks
        quantizer.remove_quantization_config(model)
    part = out.with_name(f"{out.name}.part{os.getpid()}")
    model.save_pretrained(str(part), safe_serialization=True)
    tok.save_pretrained(str(part))
    try:
        os.replace(part, out)  # config.json appears with everything else, or not at all
    except OSError:  # another process made it first
        shutil.rmtree(part, ignore_errors=True)
    return out


def pick_device(device: str = "auto") -> str:
    """``cuda`` when present (for ``auto``), else ``cpu``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _bf16(device: str) -> bool:
    return device.startswith("cuda") and torch.cuda.is_bf16_supported()


def fit_prompt(tok: Any, cfg: DPOSettings, state: State, actions: Sequence[str]) -> str:
    """The prompt of ``state`` this model reads with ``actions``: format 2 fitted so that
    prompt + the longest action + EOS take at most ``cfg.max_length`` tokens (one prompt for
    all of a state's candidates, as the shared-prefix scoring and DPO's pairs need), or the
    unfitted format 1."""
    if cfg.state_format == LEGACY_FORMAT:
        return legacy_state_text(state, cfg.max_turns) + LM_SUFFIX
    eos = tok.eos_token or ""
    ends = [lm_completion(a) + eos for a in actions] or [eos]
    longest = max(ends, key=lambda e: len(tok(e, add_special_tokens=False)["input_ids"]))

    def count(text: str) -> int:
        return len(tok(text + LM_SUFFIX + longest, verbose=False)["input_ids"])

    return fit_state(state, cfg.max_turns, count, cfg.max_length) + LM_SUFFIX


def pair_prompt(tok: Any, cfg: DPOSettings, pair: Pair) -> str:
    """The prompt of a training pair (fitted beside the longer of its two actions)."""
    return fit_prompt(tok, cfg, pair.state(), [pair.chosen, pair.rejected])


def train(
    train_pairs: Sequence[Pair],
    cfg: DPOSettings,
    out: Path,
    device: str = "auto",
    log: Callable[[str], None] = print,
) -> tuple[dict[str, Any], DPOScorer]:
    """Step-level DPO of ``cfg.base`` on the pairs; saves the policy (or adapter) to ``out``;
    returns training stats and a scorer over the trained model in memory."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    if not train_pairs:
        raise ValueError("no training pairs: collect more trees or lower --margin")
    device = pick_device(device)
    bf16 = _bf16(device)
    dtype = torch.bfloat16 if bf16 else torch.float32
    t_load = time.perf_counter()
    model, tok = load_base(cfg.base, dtype)
    ref = None
    peft_config = None
    if cfg.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, task_type="CAUSAL_LM")
    else:
        ref = load_base(cfg.base, dtype, tokenizer=False)[0]
    load_s = time.perf_counter() - t_load
    rows = [
        {
            "prompt": pair_prompt(tok, cfg, p),
            "chosen": lm_completion(p.chosen),
            "rejected": lm_completion(p.rejected),
        }
        for p in train_pairs
    ]
    args = DPOConfig(
        output_dir=str(out / "trainer"),
        beta=cfg.beta,
        learning_rate=cfg.lr,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
        per_device_train_batch_size=cfg.batch_size,
        max_length=None,  # the prompts are fitted to cfg.max_length already (fit_prompt)
        bf16=bf16,
        use_cpu=device == "cpu",
        gradient_checkpointing=False,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=cfg.seed,
        disable_tqdm=True,
    )
    trainer = DPOTrainer(
        model=model,
        ref_model=ref,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tok,
        peft_config=peft_config,
    )
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    losses = [float(h["loss"]) for h in trainer.state.log_history if "loss" in h]
    log(f"[train lm-dpo] {len(losses)} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    trained: Any = trainer.model
    trained.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    with contextlib.suppress(OSError):
        (out / "trainer").rmdir()  # only when empty (save_strategy="no")
    stats = {"steps": len(losses), "train_time_s": round(wall, 2), "losses": losses,
             "device": device, "bf16": bf16, "load_time_s": round(load_s, 2)}  # fmt: skip
    # the trained weights as saved (fp32 on CPU, bf16 on CUDA either way): no reload needed
    scorer = DPOScorer(trained, None if cfg.lora else trainer.ref_model, tok, cfg, device=device)
    return stats, scorer


def input_limit(cfg: DPOSettings) -> int | None:
    """Where a prompt + action is cut (its oldest tokens): format 1 at ``max_length``, as those
    models were scored; format 2 nowhere (a fitted prompt passes ``max_length`` only when its
    task line alone does, and the task is kept whole)."""
    return cfg.max_length if cfg.state_format == LEGACY_FORMAT else None


def tokenize(
    tok: Any, max_length: int | None, prompt: str, actions: Sequence[str]
) -> tuple[list[list[int]], list[int]]:
    """``DPOScorer.tokenize`` with a given tokenizer and cut (None: no cut)."""
    p_ids = tok(prompt, verbose=False)["input_ids"]
    eos = tok.eos_token or ""
    fulls, starts = [], []
    for a in actions:
        full = tok(prompt + lm_completion(a) + eos, verbose=False)["input_ids"]
        start = _common_prefix(p_ids, full)
        cut = max(0, len(full) - max_length) if max_length is not None else 0
        cut = min(cut, max(0, start - 1))
        fulls.append(full[cut:])
        starts.append(start - cut)
    return fulls, starts


@dataclass(frozen=True)
class InputView:
    """What an lm-dpo model reads, from its tokenizer and settings alone (no weights needed;
    ``scoring.text.task_in_input`` takes it)."""

    tok: Any
    cfg: DPOSettings

    def input_ids(self, state: State, actions: Sequence[str]) -> list[list[int]]:
        """The token ids the model reads for each of ``actions`` in ``state`` (prompt, action
        and EOS)."""
        prompt = fit_prompt(self.tok, self.cfg, state, actions)
        return tokenize(self.tok, input_limit(self.cfg), prompt, actions)[0]

    def text_ids(self, text: str) -> list[int]:
        """The token ids of ``text`` alone."""
        return list(self.tok(text, add_special_tokens=False, verbose=False)["input_ids"])


class DPOScorer:
    """Q from a DPO-trained LM and its frozen reference, batched with a shared prompt prefix."""

    def __init__(
        self,
        policy: Any,
        ref: Any | None,
        tok: Any,
        cfg: DPOSettings,
        name: str = "q",
        device: str = "cpu",
    ) -> None:
        self.policy, self.ref, self.tok, self.cfg = policy.eval(), ref, tok, cfg
        if ref is not None:
            ref.eval()
        self.name, self.device = name, device

    # --- the Scorer protocol ----------------------------------------------------------------
    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """``result[i][j]``: Q of ``actions[i][j]`` in ``states[i]`` (one prefix pass per state)."""
        return [
            self.score_shared(fit_prompt(self.tok, self.cfg, s, a), a)
            for s, a in zip(states, actions, strict=True)
        ]

    def input_ids(self, state: State, actions: Sequence[str]) -> list[list[int]]:
        """The token ids the model reads for each of ``actions`` in ``state``."""
        return InputView(self.tok, self.cfg).input_ids(state, actions)

    def text_ids(self, text: str) -> list[int]:
        """The token ids of ``text`` alone."""
        return InputView(self.tok, self.cfg).text_ids(text)

    # --- scoring ----------------------------------------------------------------------------
    def tokenize(self, prompt: str, actions: Sequence[str]) -> tuple[list[list[int]], list[int]]:
        """Full token ids (prompt + action + EOS) per action and where each action starts,
        the way trl's DPO tokenizes. A fitted prompt (``fit_prompt``) is never over-long; an
        unfitted one loses its oldest tokens (as format 1 models were scored)."""
        return tokenize(self.tok, input_limit(self.cfg), prompt, actions)

    def _q(self, pol: list[torch.Tensor], ref: list[torch.Tensor]) -> list[float]:
        out = []
        for lp, lr in zip(pol, ref, strict=True):
            diff = (lp - lr).double()
            val = diff.mean() if self.cfg.reduction == "mean" else diff.sum()
            out.append(float(self.cfg.beta * val))
        return out

    def score_naive(self, prompt: str, actions: Sequence[str]) -> list[float]:
        """One forward over the whole sequence per candidate and model (the baseline)."""
        fulls, starts = self.tokenize(prompt, actions)
        pol, ref = (
            [
                _full_logprobs(m, f, s, self.device, ctx())
                for f, s in zip(fulls, starts, strict=True)
            ]
            for m, ctx in self._model_contexts()
        )
        return self._q(pol, ref)

    def score_shared(self, prompt: str, actions: Sequence[str]) -> list[float]:
        """The prompt prefix once, then all candidates in one batch over its cache. With LoRA
        the policy and the reference (adapter off) share each pass as a mixed-adapter batch
        (same base weights); with a separate reference model, one prefix pass per model."""
        if not actions:
            return []
        fulls, starts = self.tokenize(prompt, actions)
        pad = int(self.tok.pad_token_id if self.tok.pad_token_id is not None else 0)
        if self.ref is None:
            adapter = str(getattr(self.policy, "active_adapter", "default"))
            pol, ref = _shared_logprobs(
                self.policy, fulls, starts, self.device, nullcontext(), pad, (adapter, BASE)
            )
        else:
            pol, ref = (
                _shared_logprobs(m, fulls, starts, self.device, ctx(), pad)[0]
                for m, ctx in self._model_contexts()
            )
        return self._q(pol, ref)

    def _model_contexts(self) -> list[tuple[Any, Callable[[], Any]]]:
        """(policy, context) and (reference, context); with LoRA the reference is the policy
        with its adapter disabled."""
        if self.ref is None:
            return [(self.policy, nullcontext), (self.policy, self.policy.disable_adapter)]
        return [(self.policy, nullcontext), (self.ref, nullcontext)]


BASE = "__base__"  # peft's name for "no adapter" in a mixed-adapter batch


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _full_logprobs(model: Any, full: list[int], start: int, device: str, ctx: Any) -> torch.Tensor:
    """Log-probs of ``full[start:]`` from one forward over the whole sequence (the LM head
    only over the positions that predict them)."""
    keep = len(full) - start + 1  # logits of positions start-1 .. len-1
    with torch.inference_mode(), ctx:
        ids = torch.tensor([full], device=device)
        logits = model(input_ids=ids, logits_to_keep=keep).logits[0, :-1].float()
    logp = torch.log_softmax(logits, dim=-1)
    target = ids[0, start:]
    return logp.gather(-1, target.unsqueeze(-1)).squeeze(-1).cpu()


def _shared_logprobs(
    model: Any,
    fulls: list[list[int]],
    starts: list[int],
    device: str,
    ctx: Any,
    pad: int,
    adapters: Sequence[str] = (),
) -> list[list[torch.Tensor]]:
    """Log-probs of each ``fulls[i][starts[i]:]``, one list per entry of ``adapters`` (peft
    adapter names, ``__base__`` = adapter off, run as one mixed batch; empty: the model as
    is). The shared prefix ``fulls[0][:m-1]`` (m = min start) runs once per copy, without
    the LM head; its cache is repeated for a right-padded batch of the rests."""
    copies = list(adapters) or [""]
    m = min(starts)
    if m < 2:
        return [
            [
                _full_logprobs(model, f, s, device, _adapter_ctx(model, a, ctx))
                for f, s in zip(fulls, starts, strict=True)
            ]
            for a in copies
        ]
    k, c = len(fulls), len(copies)
    rests = [f[m - 1 :] for f in fulls]
    width = max(len(r) for r in rests)
    ids = torch.full((k, width), pad, dtype=torch.long, device=device)
    mask = torch.zeros((k, m - 1 + width), dtype=torch.long, device=device)
    mask[:, : m - 1] = 1
    for i, r in enumerate(rests):
        ids[i, : len(r)] = torch.tensor(r, device=device)
        mask[i, m - 1 : m - 1 + len(r)] = 1
    pre_kw: dict[str, Any] = {"adapter_names": copies} if adapters else {}
    kw: dict[str, Any] = (
        {"adapter_names": [a for a in copies for _ in range(k)]} if adapters else {}
    )
    with torch.inference_mode(), ctx:
        prefix = torch.tensor([fulls[0][: m - 1]], device=device).expand(c, -1)
        first = model(input_ids=prefix, use_cache=True, logits_to_keep=1, **pre_kw)
        cache = first["cache"] if "cache" in first else first["past_key_values"]
        cache.batch_repeat_interleave(k)  # rows: copy 0 x k, copy 1 x k, ...
        kw[_cache_arg(model)] = cache
        logits = model(input_ids=ids.repeat(c, 1), attention_mask=mask.repeat(c, 1), **kw).logits
    out: list[list[torch.Tensor]] = []
    for j in range(c):
        rows_out = []
        for i, (full, start) in enumerate(zip(fulls, starts, strict=True)):
            # logits[j*k + i, t] predicts full[m + t]; the action's tokens are full[start:]
            rows = logits[j * k + i, start - m : len(full) - m].float()
            logp = torch.log_softmax(rows, dim=-1)
            target = torch.tensor(full[start:], device=device)
            rows_out.append(logp.gather(-1, target.unsqueeze(-1)).squeeze(-1).cpu())
        out.append(rows_out)
    return out


def _cache_arg(model: Any) -> str:
    """The forward argument that takes a key/value cache (``cache`` in newer transformers)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def _adapter_ctx(model: Any, adapter: str, ctx: Any) -> Any:
    """``ctx``, or the adapter switched off for ``__base__``."""
    return model.disable_adapter() if adapter == BASE else ctx


def load(path: Path, card: dict[str, Any], device: str = "auto", name: str = "q") -> DPOScorer:
    """The trained policy and its reference (the card's base), from safetensors only."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    fields = set(DPOSettings.__dataclass_fields__)
    hyper = {"state_format": LEGACY_FORMAT, **card["hyperparameters"]}
    cfg = DPOSettings(**{k: v for k, v in hyper.items() if k in fields})
    device = pick_device(device)
    dtype = torch.bfloat16 if _bf16(device) else torch.float32
    try:
        base_source(cfg.base)
    except (ValueError, FileNotFoundError):
        raise FileNotFoundError(
            f"the reference model {cfg.base!r} named in {path}/card.json is missing"
        ) from None
    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    base: Any = load_base(cfg.base, dtype, tokenizer=False)[0]
    if cfg.lora:
        from peft import PeftModel

        adapted: Any = PeftModel.from_pretrained(base, str(path), use_safetensors=True)
        return DPOScorer(adapted.to(device), None, tok, cfg, name=name, device=device)
    policy: Any = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype, use_safetensors=True)
    return DPOScorer(policy.to(device), base.to(device), tok, cfg, name=name, device=device)


def pair_accuracy(scorer: DPOScorer, pairs: Sequence[Pair]) -> float | None:
    """Fraction of pairs whose chosen action gets the higher Q (ties: half); pairs from the
    same state are scored in one call (one prefix pass for all their actions)."""
    if not pairs:
        return None
    by_state: dict[str, tuple[State, list[str]]] = {}
    for p in pairs:
        acts = by_state.setdefault(p.state_key, (p.state(), []))[1]
        acts.extend(a for a in (p.chosen, p.rejected) if a not in acts)
    q = {
        (key, a): v
        for key, (st, acts) in by_state.items()
        for a, v in zip(acts, scorer.score([st], [acts])[0], strict=True)
    }
    hits = 0.0
    for p in pairs:
        qc, qr = q[p.state_key, p.chosen], q[p.state_key, p.rejected]
        hits += 1.0 if qc > qr else 0.5 if qc == qr else 0.0
    return hits / len(pairs)


def settings_dict(cfg: DPOSettings) -> dict[str, Any]:
    """Hyperparameters for the card."""
    return asdict(cfg)
