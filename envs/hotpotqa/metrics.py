"""HotPotQA's official answer metrics: normalisation, exact match and token F1.

Follows ``hotpot_evaluate_v1.py``: lowercase, drop punctuation, drop the articles a/an/the,
collapse whitespace; F1 is 0 when either side is yes/no/noanswer and they differ.
"""

from __future__ import annotations

import re
import string
from collections import Counter

_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SPECIAL = ("yes", "no", "noanswer")


def normalize_answer(text: str) -> str:
    """The official normalisation: lower, remove punctuation, remove articles, fix whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when the normalised strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_precision_recall(prediction: str, gold: str) -> tuple[float, float, float]:
    """Official token F1, precision and recall (with the yes/no/noanswer special case)."""
    pred, ref = normalize_answer(prediction), normalize_answer(gold)
    if (pred in _SPECIAL or ref in _SPECIAL) and pred != ref:
        return 0.0, 0.0, 0.0
    pred_tokens, ref_tokens = pred.split(), ref.split()
    same = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    if same == 0:
        return 0.0, 0.0, 0.0
    precision, recall = same / len(pred_tokens), same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall), precision, recall


def f1_score(prediction: str, gold: str) -> float:
    """Official token F1 of ``prediction`` against ``gold``."""
    return f1_precision_recall(prediction, gold)[0]


def answer_in_text(answer: str, text: str) -> bool:
    """Whether the normalised answer occurs as a whole-token span of the normalised text."""
    ans, body = normalize_answer(answer), normalize_answer(text)
    return bool(ans) and f" {ans} " in f" {body} "
