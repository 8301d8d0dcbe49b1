"""The composition rule: per-state normalisation, weighted sum, invariances."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.base import State
from scoring.compose import ComposedScorer, combine, normalise


class FakeTableScorer:
    """Fake scorer: fixed scores per action (named as a fake)."""

    def __init__(self, name: str, table: dict[str, float]) -> None:
        self.name, self.table = name, table

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        return [[self.table[a] for a in acts] for acts in actions]


def test_normalise_z_and_constant_rows() -> None:
    z = normalise([1.0, 2.0, 3.0])
    assert np.mean(z) == pytest.approx(0.0) and np.std(z) == pytest.approx(1.0)
    assert normalise([5.0, 5.0, 5.0]) == [0.0, 0.0, 0.0]
    assert normalise([7.0]) == [0.0]
    assert normalise([]) == []
    assert normalise([2.0, 4.0, 3.0], "minmax") == [0.0, 1.0, 0.5]
    with pytest.raises(ValueError, match="unknown norm"):
        normalise([1.0], "rank")


def test_combine_weights() -> None:
    parts = {"q": [0.0, 10.0], "rubric": [1.0, 0.0]}
    assert combine(parts, {"q": 1.0, "rubric": 1.0}) == pytest.approx([0.0, 0.0])
    assert combine(parts, {"q": 2.0, "rubric": 1.0}) == pytest.approx([-1.0, 1.0])
    assert combine(parts, {"q": 0.0, "rubric": 1.0}) == pytest.approx([1.0, -1.0])
    with pytest.raises(ValueError, match="different numbers"):
        combine({"a": [1.0], "b": [1.0, 2.0]}, {})


# scores on a grid of quarters: exact in floating point, so the invariance is exact too
grid = st.integers(-4000, 4000).map(lambda i: i / 4)
rows = st.lists(grid, min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    a=rows,
    shift=st.integers(-4000, 4000).map(lambda i: i / 4),
    scale=st.sampled_from([0.25, 0.5, 2.0, 3.0, 8.0, 100.0]),
    w=st.floats(0.0, 5.0),
    norm=st.sampled_from(["z", "minmax"]),
)
def test_invariant_to_shift_and_scale_of_one_scorer(
    data: st.DataObject, a: list[float], shift: float, scale: float, w: float, norm: str
) -> None:
    b = data.draw(st.lists(grid, min_size=len(a), max_size=len(a)))
    weights = {"q": 1.0, "rubric": w}
    base = combine({"q": a, "rubric": b}, weights, norm)
    shifted = combine({"q": a, "rubric": [x + shift for x in b]}, weights, norm)
    scaled = combine({"q": a, "rubric": [x * scale for x in b]}, weights, norm)
    assert shifted == pytest.approx(base, abs=1e-6)
    assert scaled == pytest.approx(base, abs=1e-6)


def test_composed_scorer_batches_and_reports_parts() -> None:
    q = FakeTableScorer("q", {"a": 1.0, "b": 3.0, "c": 2.0})
    r = FakeTableScorer("rubric", {"a": 5.0, "b": 5.0, "c": 5.0})
    comp = ComposedScorer([(q, 1.0), (r, 3.0)])
    s = State("t", (), "o")
    out = comp.score_parts([s, s], [["a", "b", "c"], ["c"]])
    assert out[0].raw == {"q": [1.0, 3.0, 2.0], "rubric": [5.0, 5.0, 5.0]}
    assert out[0].combined == pytest.approx(normalise([1.0, 3.0, 2.0]))  # constant rubric: no say
    assert out[1].combined == [0.0]
    assert comp.score([s], [["a", "b"]]) == [pytest.approx([-1.0, 1.0])]
    with pytest.raises(ValueError, match="names must differ"):
        ComposedScorer([(q, 1.0), (q, 1.0)])


class FakeRenamingScorer(FakeTableScorer):
    """Fake ``auto``-like scorer: takes the name of the model it used when it scores."""

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        self.name = "q:same"
        return super().score(states, actions)


def test_parts_that_come_to_share_a_name_keep_their_own_scores_and_weights() -> None:
    auto = FakeRenamingScorer("q:auto", {"a": 1.0, "b": 0.0})
    fixed = FakeTableScorer("q:same", {"a": 0.0, "b": 1.0})
    s = State("t", (), "o")
    # the explicit part comes first, so the renamed one gets its position appended
    out = ComposedScorer([(fixed, 3.0), (auto, 1.0)]).score_parts([s], [["a", "b"]])[0]
    assert out.raw == {"q:same": [0.0, 1.0], "q:same#1": [1.0, 0.0]}
    assert out.combined == pytest.approx([-2.0, 2.0])  # 3 * z(fixed) + 1 * z(auto)
    auto = FakeRenamingScorer("q:auto", {"a": 1.0, "b": 0.0})
    comp = ComposedScorer([(auto, 2.0), (fixed, 1.0)])
    assert comp.score([s], [["a", "b"]]) == [pytest.approx([1.0, -1.0])]
    assert comp.weights == {"q:same": 2.0, "q:same#1": 1.0}
