"""Scorer composition: per-state normalisation of each scorer's scores, then a weighted sum.

Rule (``norm="z"``, the default): for one state, each scorer's scores over that state's
candidates are z-scored, ``(x - mean) / std`` (population std). A constant row (spread at
most 1e-12 of its largest magnitude) becomes all zeros, so a scorer that cannot tell the
candidates apart has no say. The combined score is ``sum_s weight_s * z_s``. It is
invariant to adding a constant to one scorer's scores and to scaling them by a positive
factor, so scorers on different scales (a Q model's logits, a rubric's weighted verdicts)
mix by their weights alone. ``norm="minmax"`` maps each row to [0, 1] instead (constant
rows to 0); it has the same invariances but is more sensitive to one outlying candidate.
Weights come from the agent options (``q_weight``, ``rubric_weight``) or
``ComposedScorer(parts=[(scorer, weight), ...])``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoring.base import Scorer, State

NORMS = ("z", "minmax")
EPS = 1e-12


def normalise(row: Sequence[float], norm: str = "z") -> list[float]:
    """One state's scores normalised by ``norm`` (see the module docstring)."""
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}: use one of {', '.join(NORMS)}")
    x = np.asarray(row, dtype=float)
    if x.size == 0:
        return []
    tiny = EPS * max(1.0, float(np.abs(x).max()))
    if norm == "z":
        sd = float(x.std())
        return [0.0] * x.size if sd <= tiny else ((x - x.mean()) / sd).tolist()
    span = float(x.max() - x.min())
    return [0.0] * x.size if span <= tiny else ((x - x.min()) / span).tolist()


def combine(
    parts: Mapping[str, Sequence[float]], weights: Mapping[str, float], norm: str = "z"
) -> list[float]:
    """Weighted sum of the normalised rows of one state (``parts[name][j]``: candidate j)."""
    sizes = {len(v) for v in parts.values()}
    if len(sizes) > 1:
        raise ValueError(f"scorers gave different numbers of scores: {sorted(sizes)}")
    n = sizes.pop() if sizes else 0
    total = np.zeros(n)
    for name, row in parts.items():
        total += float(weights.get(name, 1.0)) * np.asarray(normalise(row, norm))
    return total.tolist()


@dataclass(frozen=True)
class Scored:
    """One state's result: combined scores, each scorer's raw scores and its details."""

    combined: list[float]
    raw: dict[str, list[float]]
    details: dict[str, list[dict[str, Any]]]


class ComposedScorer:
    """A Scorer made of weighted scorers, combined by ``combine`` (name ``combined``)."""

    def __init__(
        self, parts: Sequence[tuple[Scorer, float]], norm: str = "z", name: str = "combined"
    ) -> None:
        if not parts:
            raise ValueError("ComposedScorer needs at least one (scorer, weight)")
        names = [s.name for s, _ in parts]
        if len(set(names)) != len(names):
            raise ValueError(f"scorer names must differ, got {names}")
        normalise([0.0], norm)  # validates norm
        self.parts, self.norm, self.name = list(parts), norm, name

    def labels(self) -> list[str]:
        """Each part's key in ``raw``/``weights``: its scorer's current name (``auto`` names
        the model it last used), with ``#i`` (its position) appended when an earlier part
        already took that name, so two parts never share a key."""
        out: list[str] = []
        for i, (scorer, _) in enumerate(self.parts):
            out.append(scorer.name if scorer.name not in out else f"{scorer.name}#{i}")
        return out

    @property
    def weights(self) -> dict[str, float]:
        """Part label (``labels()``) -> weight."""
        return {k: float(w) for k, (_, w) in zip(self.labels(), self.parts, strict=True)}

    def score_parts(
        self, states: Sequence[State], actions: Sequence[Sequence[str]]
    ) -> list[Scored]:
        """Each scorer once over the whole batch, then the combination per state."""
        scored = []
        for scorer, _ in self.parts:
            explain = getattr(scorer, "score_details", None)
            scored.append(
                explain(states, actions)
                if callable(explain)
                else (scorer.score(states, actions), None)
            )
        keys, weights = self.labels(), self.weights  # after scoring: ``auto`` names its model
        raw = {k: scores for k, (scores, _) in zip(keys, scored, strict=True)}
        det = {k: d for k, (_, d) in zip(keys, scored, strict=True) if d is not None}
        out = []
        for i in range(len(states)):
            row = {n: [float(x) for x in r[i]] for n, r in raw.items()}
            out.append(
                Scored(combine(row, weights, self.norm), row, {n: d[i] for n, d in det.items()})
            )
        return out

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """Combined scores (the Scorer protocol)."""
        return [s.combined for s in self.score_parts(states, actions)]
