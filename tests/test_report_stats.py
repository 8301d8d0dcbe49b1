"""The paired bootstrap and correlation used by reports (and by Q-value evaluations)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.stats import paired_bootstrap, pearson

values = st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(values, st.integers(0, 2**31 - 1))
def test_interval_holds_the_mean_difference(a: list[float], seed: int) -> None:
    b = [x * 0.5 - 1 for x in a]
    mean, low, high = paired_bootstrap(a, b, seed=seed, samples=300)
    assert mean == pytest.approx(float(np.mean(np.subtract(a, b))))
    assert low <= mean + 1e-9 and mean - 1e-9 <= high


def test_constant_difference_has_a_zero_width_interval() -> None:
    a = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    assert paired_bootstrap(a + 0.25, a) == pytest.approx((0.25, 0.25, 0.25))


def test_pairing_removes_shared_variation() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(0, 5, 40)
    a, b = base + 1.0 + rng.normal(0, 0.1, 40), base
    _, low, high = paired_bootstrap(a, b)
    assert 0.9 < low < 1.0 < high < 1.1  # an unpaired interval would span about ±2


def test_deterministic_for_a_seed() -> None:
    a, b = np.random.default_rng(0).normal(size=(2, 12))
    assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)
    assert paired_bootstrap(a, b, seed=3) != paired_bootstrap(a, b, seed=4)


def test_empty_and_mismatched_inputs() -> None:
    assert all(math.isnan(x) for x in paired_bootstrap([], []))
    with pytest.raises(ValueError, match="one length"):
        paired_bootstrap([1.0, 2.0], [1.0])


def test_pearson() -> None:
    assert pearson([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1.0)
    assert pearson([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(pearson([1, 2], [1, 2])) and math.isnan(pearson([1, 1, 1], [1, 2, 3]))
