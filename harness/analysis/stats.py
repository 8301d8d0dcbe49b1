"""Small statistics shared by leaderboards, reports and the Q-value work.

Wilson score intervals for success proportions, percentile bootstrap intervals for means,
exact McNemar tests for paired successes, Pearson correlation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

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


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (NaNs for ``n == 0``).

    Unlike a percentile bootstrap it never collapses to a point at 0/n or n/n: 3 of 3 gives
    about [0.44, 1.00].
    """
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= successes <= n:
        raise ValueError(f"wilson_interval needs 0 <= successes <= n, got {successes} of {n}")
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    p, z2 = successes / n, z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else centre - half  # exact ends: no rounding residue at 0/n, n/n
    high = 1.0 if successes == n else centre + half
    return low, high


def mcnemar_exact(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Two-sided exact McNemar p-value for paired 0/1 outcomes ``a[i]``, ``b[i]``.

    Only discordant pairs count: with ``n01`` items where only ``b`` succeeded and ``n10``
    where only ``a`` did, ``p = min(1, 2 * P(X <= min(n01, n10)))`` for X ~ Binomial(n01 + n10,
    1/2); 1.0 when no pair is discordant. NaN with no pairs, or when a value is not 0 or 1
    (e.g. success rates averaged over several samples of a seed).
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"mcnemar_exact needs two 1-D arrays of one length, got {x.shape} {y.shape}"
        )
    if x.size == 0 or not (np.isin(x, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all()):
        return float("nan")
    n10 = int(((x == 1) & (y == 0)).sum())
    n01 = int(((x == 0) & (y == 1)).sum())
    n = n10 + n01
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(n10, n01) + 1)) / 2**n
    return min(1.0, 2 * tail)


def pass_at_k(successes: Sequence[Sequence[bool]]) -> float:
    """Fraction of tasks where any of its (k independent) episodes succeeded."""
    if not successes:
        return float("nan")
    return float(np.mean([any(s) for s in successes]))


def returns_to_go(steps: Sequence[Mapping[str, Any]]) -> list[float]:
    """For each step of a trajectory, the undiscounted reward from it to the episode's end."""
    rewards = [float(s.get("reward") or 0.0) for s in steps]
    return [float(v) for v in np.cumsum(rewards[::-1])[::-1]] if rewards else []
