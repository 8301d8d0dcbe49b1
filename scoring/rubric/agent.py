"""Reranking agents over composed scorers: ``react-rubric`` and ``react-q-rubric``.

Proposer (the ReAct agent's ``propose``) gives ``k`` candidates; a ``ComposedScorer`` scores
them (rubric alone, or a Q model and the rubric); the agent acts on the argmax of the
combined score, ties going to the proposer's order (its best first). Each candidate carries
every scorer's raw score and the combined one in ``scores``, and each criterion's verdict in
``details["verdicts"]``; the first step's ``meta`` holds the task and the whole rubric, later
steps its digest.

Candidates come from the proposer exactly as ``react-q`` gets them (for WebShop's
``search[<query>]`` template, the ReAct proposer fills in the task text), so the rubric rows
differ from ``react-q`` only in how the same kind of candidates are scored.

``react-q-rubric`` loads its Q scorer with ``scoring.models.load_scorer(spec, device=...)``
(default ``auto``: the bundled model of the env's family; or ``auto:KIND``, a model dir,
``bundled:NAME`` or a ``module:factory`` spec).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agents.base import Candidate, Step
from scoring.base import Proposer, State
from scoring.compose import ComposedScorer
from scoring.proposers import make_proposer
from scoring.rerank import QRerankAgent
from scoring.rubric.rubrics import Rubric
from scoring.rubric.scorer import RubricScorer

COMBINED = "combined"


class ComposedRerankAgent(QRerankAgent):
    """Proposer + composed scorer + k: act on the highest combined score (first on ties).

    ``act`` (and its fallback without candidates), ``reset`` and ``close`` are
    ``QRerankAgent``'s; this class only scores by parts and records the rubric."""

    scorer: ComposedScorer

    def __init__(self, proposer: Proposer, scorer: ComposedScorer, k: int = 4) -> None:
        super().__init__(proposer, scorer, k=int(k))

    def _rubric(self, state: State) -> Rubric | None:
        for s, _ in self.scorer.parts:
            if isinstance(s, RubricScorer):
                return s.rubric_for(state)
        return None

    def meta(self, step: Step, state: State) -> dict[str, Any]:
        """The scorers' weights and norm; the rubric on the first step, its digest later."""
        meta: dict[str, Any] = {
            "k": self.k,
            "scorers": self.scorer.weights,
            "norm": self.scorer.norm,
        }
        rubric = self._rubric(state)
        if step.t == 0:
            meta["task"] = step.task
            if rubric is not None:
                meta["rubric"] = rubric.to_dict()
        elif rubric is not None:
            meta["rubric_digest"] = rubric.digest
        return meta

    def score(self, state: State, cands: list[Candidate]) -> tuple[list[Candidate], list[float]]:
        """Every part's raw score, the combined one and each part's details per candidate."""
        res = self.scorer.score_parts([state], [[c.action for c in cands]])[0]
        scored = []
        for j, c in enumerate(cands):
            scores = {**dict(c.scores), **{n: r[j] for n, r in res.raw.items()}}
            scores[COMBINED] = res.combined[j]
            details = dict(c.details)
            for d in res.details.values():
                details.update(d[j])
            scored.append(replace(c, scores=scores, details=details))
        return scored, list(res.combined)


def _react_proposer(policy: str, k: int, options: dict[str, Any]) -> Proposer:
    return make_proposer("react", policy=policy, options={**options, "k": k})


def _rubric_scorer(generator: str, judge: str, workers: int) -> RubricScorer:
    return RubricScorer(generator=generator, judge=judge, workers=workers)


def make_react_rubric(
    policy: str = "local",
    k: int = 4,
    generator: str = "",
    judge: str = "",
    workers: int = 4,
    **react_options: Any,
) -> ComposedRerankAgent:
    """``react-rubric``: ReAct proposer + rubric scorer (template rubric unless ``generator``)."""
    rubric = _rubric_scorer(generator, judge, workers)
    return ComposedRerankAgent(
        _react_proposer(policy, k, react_options), ComposedScorer([(rubric, 1.0)]), k=k
    )


def make_react_q_rubric(
    policy: str = "local",
    k: int = 4,
    scorer: str = "auto",
    q_weight: float = 1.0,
    rubric_weight: float = 1.0,
    norm: str = "z",
    generator: str = "",
    judge: str = "",
    workers: int = 4,
    device: str = "auto",
    **react_options: Any,
) -> ComposedRerankAgent:
    """``react-q-rubric``: ReAct proposer + (Q scorer, rubric scorer) composed by ``norm``."""
    from scoring.models import load_scorer

    q = load_scorer(scorer, device=device)
    rubric = _rubric_scorer(generator, judge, workers)
    composed = ComposedScorer([(q, float(q_weight)), (rubric, float(rubric_weight))], norm)
    return ComposedRerankAgent(_react_proposer(policy, k, react_options), composed, k=k)
