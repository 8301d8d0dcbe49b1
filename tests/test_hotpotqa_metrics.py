"""HotPotQA's official answer normalisation, exact match and token F1 on worked cases."""

from __future__ import annotations

import pytest

from envs.hotpotqa.metrics import (
    answer_in_text,
    exact_match,
    f1_precision_recall,
    f1_score,
    normalize_answer,
)


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("The Eiffel Tower", "eiffel tower"),  # article and case
        ("  an   Apple, a day! ", "apple day"),  # articles, punctuation, spaces
        ("U.S.A.", "usa"),  # punctuation removed, not replaced by spaces
        ("theatre", "theatre"),  # "the" only as a whole word
        ("Rock-n-roll", "rocknroll"),
        ("412,300", "412300"),
        ("", ""),
    ],
)
def test_normalize_answer(raw: str, norm: str) -> None:
    assert normalize_answer(raw) == norm


def test_exact_match_ignores_articles_case_and_punctuation() -> None:
    assert exact_match("the Nile.", "Nile") == 1.0
    assert exact_match("Nile River", "Nile") == 0.0
    assert exact_match("YES", "yes") == 1.0


def test_f1_partial_overlap_worked_case() -> None:
    # pred tokens [barack, obama, jr], gold [barack, obama]: P = 2/3, R = 1, F1 = 0.8
    f1, p, r = f1_precision_recall("Barack Obama Jr.", "Barack Obama")
    assert (p, r) == pytest.approx((2 / 3, 1.0))
    assert f1 == pytest.approx(0.8)


def test_f1_counts_repeated_tokens_once_each() -> None:
    # pred [new, new, york], gold [new, york]: common = 2, P = 2/3, R = 1
    assert f1_score("new new york", "New York") == pytest.approx(0.8)


def test_f1_yes_no_special_case() -> None:
    assert f1_score("yes", "no") == 0.0
    assert f1_score("no", "no") == 1.0
    # a yes/no answer never earns partial credit against a longer answer containing it
    assert f1_score("yes", "yes it is") == 0.0
    assert f1_score("yes it is", "yes") == 0.0
    assert f1_score("noanswer", "Paris") == 0.0


def test_f1_no_overlap_and_articles_only() -> None:
    assert f1_score("London", "Paris") == 0.0
    assert f1_score("the", "a") == 0.0  # both normalise to empty: no common tokens


def test_answer_in_text_uses_whole_tokens() -> None:
    assert answer_in_text("Paris", "Is the capital Paris?")
    assert not answer_in_text("Paris", "Is the capital Parisian?")
    assert answer_in_text("the Nile", "Which is longer, Nile or Thames?")
    assert not answer_in_text("", "anything")
