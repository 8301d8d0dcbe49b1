"""Intervals, tests and correlation used by leaderboards, reports and Q-value evaluations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.analysis.stats import mcnemar_exact, paired_bootstrap, pearson, wilson_interval

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


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [  # reference values of the Wilson score interval at 95% (z = 1.95996)
        (3, 3, 0.43850, 1.0),
        (0, 5, 0.0, 0.43448),
        (5, 10, 0.23659, 0.76341),
        (1, 20, 0.00889, 0.23613),
    ],
)
def test_wilson_interval_reference_values(k: int, n: int, low: float, high: float) -> None:
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_is_never_a_point_and_narrows_with_n() -> None:
    for k, n in [(0, 1), (1, 1), (3, 3), (0, 5)]:
        low, high = wilson_interval(k, n)
        assert 0.0 <= low <= k / n <= high <= 1.0 and high - low > 0.3
    assert wilson_interval(30, 30)[0] > wilson_interval(3, 3)[0]
    assert wilson_interval(2, 3, level=0.99)[0] < wilson_interval(2, 3)[0]
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(4, 3)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.data())
def test_wilson_interval_holds_the_proportion(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n)
    assert low <= k / n <= high
    assert wilson_interval(n - k, n) == pytest.approx((1 - high, 1 - low))  # symmetric


def test_mcnemar_exact_counts_only_discordant_pairs() -> None:
    # 6 pairs where only A won, none where only B won: p = 2 * (1/2)^6
    assert mcnemar_exact([1] * 6 + [0, 1], [0] * 6 + [0, 1]) == pytest.approx(2 / 64)
    # 8 of 10 discordant pairs favour A: 2 * P(X <= 2), X ~ Bin(10, 1/2) = 2 * 56 / 1024
    a, b = [1] * 8 + [0] * 2, [0] * 8 + [1] * 2
    assert mcnemar_exact(a, b) == pytest.approx(112 / 1024)
    assert mcnemar_exact(a, b) == mcnemar_exact(b, a)
    assert mcnemar_exact([1, 0, 1], [1, 0, 1]) == 1.0  # no discordant pair
    assert mcnemar_exact([1, 0], [0, 1]) == 1.0  # balanced: capped at 1
    assert math.isnan(mcnemar_exact([0.5, 1.0], [1.0, 0.0]))  # not 0/1 outcomes
    assert math.isnan(mcnemar_exact([], []))
    with pytest.raises(ValueError, match="one length"):
        mcnemar_exact([1.0], [1.0, 0.0])


def test_lift_rows_orient_react_q_minus_react() -> None:
    import pandas as pd

    from harness.report.data import lift_rows

    cols = ["env_id", "a", "b", "shared_seeds", "success_a", "success_b", "success_diff"]
    cols += ["success_low", "success_high", "success_p_mcnemar", "reward_diff", "reward_low"]
    cols += ["reward_high"]
    pairs = pd.DataFrame(
        [
            ["e1", "react", "react-q", 5, 0.2, 0.6, -0.4, -0.8, -0.2, 0.1, -0.3, -0.5, 0.1],
            ["e2", "react-q", "react", 5, 0.6, 0.2, 0.4, 0.2, 0.8, 0.1, 0.3, -0.1, 0.5],
            ["e3", "random", "react", 5, 0.0, 0.2, -0.2, -0.4, 0.0, 0.5, 0.0, 0.0, 0.0],
        ],
        columns=cols,
    )
    got = lift_rows(pairs).set_index("env_id")
    assert list(got.index) == ["e1", "e2"]  # the random row is not a lift
    e1 = got.loc["e1"]
    assert (e1["a"], e1["b"], e1["success_a"], e1["success_b"]) == ("react-q", "react", 0.6, 0.2)
    assert (e1["success_diff"], e1["success_low"], e1["success_high"]) == (0.4, 0.2, 0.8)
    assert (e1["reward_diff"], e1["reward_low"], e1["reward_high"]) == (0.3, -0.1, 0.5)
    assert got.loc["e2"].to_dict() == pairs.iloc[1].drop("env_id").to_dict()
    assert lift_rows(pairs.iloc[2:]).empty
    runs = pairs.iloc[:1].assign(a="react [r1]", b="react-q [r2]")  # a report over two runs
    labelled = lift_rows(runs).iloc[0]
    assert (labelled["a"], labelled["b"]) == ("react-q [r2]", "react [r1]")
    assert labelled["success_diff"] == 0.4
