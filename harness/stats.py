"""Small statistics shared by leaderboards, reports and the Q-value work: bootstrap, Pearson."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BOOTSTRAP_SAMPLES = 2000


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    seed: int = 0,
    level: float = 0.95,
    samples: int = BOOTSTRAP_SAMPLES,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (NaNs for no data)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(samples, x.size))].mean(axis=1)
    alpha = (1.0 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    seed: int = 0,
    samples: int = BOOTSTRAP_SAMPLES,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of ``a - b`` over paired items and its percentile bootstrap interval.

    ``a[i]`` and ``b[i]`` belong to the same item (e.g. the same seed); items are resampled
    together. Returns NaNs when there are no pairs.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"paired_bootstrap needs two 1-D arrays of one length, got {x.shape} {y.shape}"
        )
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    d = x - y
    return float(d.mean()), *bootstrap_ci(d, seed, level, samples)


def pearson(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Pearson correlation; NaN with fewer than 3 points or a constant side."""
    u, v = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if u.size < 3 or u.size != v.size or np.ptp(u) == 0 or np.ptp(v) == 0:
        return float("nan")
    return float(np.corrcoef(u, v)[0, 1])
