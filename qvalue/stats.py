"""Paired comparisons of two agents over shared seeds, and pass@k (oracle headroom)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    seed: int = 0,
    samples: int = 2000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of ``a - b`` over paired items (same seeds) and its percentile bootstrap interval
    (items resampled with their pairing kept). NaNs when there are no pairs."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.size} vs {y.size}")
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    d = x - y
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(samples, d.size))].mean(axis=1)
    alpha = (1.0 - level) / 2
    return float(d.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def pass_at_k(successes: Sequence[Sequence[bool]]) -> float:
    """Fraction of tasks where any of its (k independent) episodes succeeded."""
    if not successes:
        return float("nan")
    return float(np.mean([any(s) for s in successes]))
