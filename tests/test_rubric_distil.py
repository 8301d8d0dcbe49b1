"""The distilled rubric scorer: MiniLM regressed on template-rubric scores (real model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.analysis.stats import pearson
from scoring.rubric.distil import DistilledRubricScorer, collect, label, train
from scoring.rubric.scorer import RubricScorer


def test_collect_and_label_keychest() -> None:
    pairs = collect("harness/KeyChest-v0", episodes=2, max_steps=5)
    assert pairs and all(acts for _, acts in pairs)
    ex = label(pairs, RubricScorer())
    assert len(ex) == sum(len(a) for _, a in pairs)
    assert len({round(v, 6) for _, _, v in ex}) > 1  # the labels are not constant


@pytest.mark.model
@pytest.mark.slow
def test_student_learns_template_scores(tmp_path: Path) -> None:
    ex = label(collect("harness/KeyChest-v0", episodes=3, max_steps=6), RubricScorer())
    card = train(ex, tmp_path, steps=30, batch_size=16, max_length=48, seed=0)
    assert (tmp_path / "card.json").exists() and card["examples"] == len(ex)
    student = DistilledRubricScorer(tmp_path)
    states = [s for s, _, _ in ex]
    pred = student.score(states, [[a] for _, a, _ in ex])
    r = pearson([p[0] for p in pred], [v for _, _, v in ex])
    print(f"pearson={r:.3f} examples={len(ex)}")
    assert np.isfinite(r) and r > 0.5
