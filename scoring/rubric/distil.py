"""A distilled rubric scorer: the MiniLM cross-encoder regressed on rubric scores.

Labels come from a ``RubricScorer`` (template checks, or a judge model for generated
rubrics) over (state, candidate) pairs; the student is the Q model's cross-encoder
(``scoring.q.encoder``: same base model, state text, pooling, head and safetensors format),
fitted to the rubric score with a mean-squared loss instead of the pairwise loss, so scoring
later needs one small encoder pass instead of a judge call per criterion. Only the head and
the top ``train_layers`` encoder layers are trained and saved (safetensors + ``card.json``).

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

from scoring.base import State

CARD = "card.json"
FORMAT = "qharness-rubric-distilled"


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

    from scoring.q import encoder

    if not examples:
        raise ValueError("no examples to distil: collect some with --episodes")
    cfg = encoder.EncoderConfig(
        max_length=max_length, train_layers=train_layers, seed=seed, batch_size=batch_size
    )
    rng = np.random.default_rng(seed)
    model, tok = encoder.build(train_layers, seed, cfg.state_format)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    texts = [(encoder.state_input(tok, cfg, s, [a]), a) for s, a, _ in examples]
    y = torch.tensor([float(v) for _, _, v in examples])
    model.train()
    losses = []
    for _ in range(steps):
        idx = rng.choice(len(texts), size=min(batch_size, len(texts)), replace=False)
        batch = encoder.encode(
            tok,
            [texts[i][0] for i in idx],
            [texts[i][1] for i in idx],
            encoder.input_limit(tok, cfg),
        )
        loss = torch.nn.functional.mse_loss(model(batch), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    encoder.save(encoder.EncoderScorer(model, tok, cfg), path)
    card = {
        "format": FORMAT,
        "examples": len(examples),
        "steps": steps,
        "lr": lr,
        "final_loss": float(np.mean(losses[-5:])),
        "hyperparameters": encoder.config_dict(cfg),
    }
    (path / CARD).write_text(json.dumps(card, indent=2), encoding="utf-8")
    return card


class DistilledRubricScorer:
    """Scorer ``rubric-distilled``: the trained student's predicted rubric score."""

    def __init__(self, path: str | Path, name: str = "rubric-distilled") -> None:
        from scoring.q import encoder

        p = Path(path)
        if not (p / CARD).exists():
            raise FileNotFoundError(
                f"{str(p)!r} holds no distilled rubric scorer: python -m qvalue.rubric_distil"
            )
        self.card = json.loads((p / CARD).read_text(encoding="utf-8"))
        if self.card.get("format") != FORMAT or "hyperparameters" not in self.card:
            raise ValueError(
                f"{str(p / CARD)!r} is not a current distilled rubric card: retrain it with "
                "python -m qvalue.rubric_distil"
            )
        self.name = name
        self._scorer = encoder.load(p, self.card, name=name)

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """One batched encoder pass over every (state, action) pair."""
        return self._scorer.score(states, actions)


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
    from scoring.rubric.scorer import RubricScorer

    examples = label(collect(ns.env, ns.episodes), RubricScorer(generator=ns.judge))
    print(json.dumps(train(examples, ns.out, steps=ns.steps)))


if __name__ == "__main__":
    main()
