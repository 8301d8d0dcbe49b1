"""Paired comparisons of two agents over shared seeds, and pass@k (oracle headroom)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.stats import mcnemar_exact, paired_bootstrap

__all__ = ["mcnemar_exact", "paired_bootstrap", "pass_at_k"]


def pass_at_k(successes: Sequence[Sequence[bool]]) -> float:
    """Fraction of tasks where any of its (k independent) episodes succeeded."""
    if not successes:
        return float("nan")
    return float(np.mean([any(s) for s in successes]))
