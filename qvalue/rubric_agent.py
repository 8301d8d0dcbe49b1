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

``react-q-rubric`` loads its Q scorer with ``qvalue.models.load_scorer(spec, device=...)``;
a ``module:factory`` scorer spec is accepted as well.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import Any

from agents.base import Decision, Step
from qvalue.base import Proposer, Scorer, State
from qvalue.compose import ComposedScorer
from qvalue.proposers import proposal_usage
from qvalue.rubric_scorer import RubricScorer

COMBINED = "combined"


class ComposedRerankAgent:
    """Proposer + composed scorer + k: act on the highest combined score (first on ties)."""

    def __init__(self, proposer: Proposer, scorer: ComposedScorer, k: int = 4) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.proposer, self.scorer, self.k = proposer, scorer, int(k)

    def reset(self, task: str, seed: int) -> None:
        """Reset the proposer (when it has ``reset``)."""
        reset = getattr(self.proposer, "reset", None)
        if callable(reset):
            reset(task, seed)

    def _rubric(self, state: State) -> dict[str, Any] | None:
        for s, _ in self.scorer.parts:
            if isinstance(s, RubricScorer):
                return s.rubric_for(state).to_dict()
        return None

    def act(self, step: Step) -> Decision:
        """Propose, score in one batch, take the argmax; every candidate recorded."""
        cands = self.proposer.propose(step, self.k)
        meta: dict[str, Any] = {
            "k": self.k,
            "scorers": self.scorer.weights,
            "norm": self.scorer.norm,
        }
        state = State.from_step(step)
        rubric = self._rubric(state)
        if step.t == 0:
            meta["task"] = step.task
            if rubric is not None:
                meta["rubric"] = rubric
        elif rubric is not None:
            from envs.base import fingerprint

            meta["rubric_digest"] = fingerprint(rubric)
        tokens = proposal_usage(self.proposer, cands)
        if not cands:
            fallback = getattr(self.proposer, "act", None)
            if callable(fallback):
                d = fallback(step)
                return replace(d, meta={**meta, "fallback": "proposer.act", **dict(d.meta)})
            return Decision("look", thought="no candidates", meta=meta)
        res = self.scorer.score_parts([state], [[c.action for c in cands]])[0]
        scored = []
        for j, c in enumerate(cands):
            scores = {**dict(c.scores), **{n: r[j] for n, r in res.raw.items()}}
            scores[COMBINED] = res.combined[j]
            details = dict(c.details)
            for d in res.details.values():
                details.update(d[j])
            scored.append(replace(c, scores=scores, details=details))
        best = max(range(len(scored)), key=lambda i: (res.combined[i], -i))
        thought = scored[best].details.get("thought") or next(
            (c.details.get("thought") for c in scored if c.details.get("thought")), None
        )
        return Decision(
            scored[best].action,
            thought=str(thought) if thought else None,
            input_tokens=int(tokens[0]),
            output_tokens=int(tokens[1]),
            candidates=tuple(scored),
            meta=meta,
        )


def _react_proposer(policy: str, k: int, options: dict[str, Any]) -> Proposer:
    from agents.react import ReActAgent
    from agents.registry import accepted_kwargs

    opts = accepted_kwargs(ReActAgent, {**options, "k": k})
    return ReActAgent(policy=policy or "local", **opts)


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


def load_q_scorer(spec: str, device: str = "auto") -> Scorer:
    """The Q scorer of ``spec`` via ``qvalue.models.load_scorer`` (Q-value branch), or a
    ``module:factory`` spec when that module is absent."""
    try:
        models = importlib.import_module("qvalue.models")
    except ImportError:
        if ":" not in spec:
            raise ValueError(
                f"Q scorer {spec!r}: qvalue.models is not installed here; "
                "pass a module:factory scorer spec"
            ) from None
        from harness.registry import load_object

        return load_object(spec)()
    return models.load_scorer(spec, device=device)


def make_react_q_rubric(
    policy: str = "local",
    k: int = 4,
    scorer: str = "",
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
    q = load_q_scorer(scorer, device)
    rubric = _rubric_scorer(generator, judge, workers)
    composed = ComposedScorer([(q, float(q_weight)), (rubric, float(rubric_weight))], norm)
    return ComposedRerankAgent(_react_proposer(policy, k, react_options), composed, k=k)
