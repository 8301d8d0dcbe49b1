"""Q-guided reranking agents: a proposer gives k candidates, a Q scorer picks the argmax.

Every candidate goes into the decision with its policy logprob and its score (under the
scorer's name), so a finished run can be re-scored offline (``harness.analysis.rescore``). The first
step's ``meta`` carries the task text, which re-scoring needs to rebuild the states.

Agents: ``react-q`` (default proposer ``react``: the ReAct agent's ``propose``) and
``admissible-q`` (admissible actions, no LLM). Factory options: ``proposer``, ``k``,
``scorer`` (``auto`` (react-q's default: the bundled model of the env's family), ``auto:KIND``,
a model dir, ``bundled:NAME`` or ``module:factory``), ``policy``, ``device``, ``pool``.

The candidate pool of ``react-q`` and of its controls ``react-rank`` and ``finish-first`` (the
same for all three, so they stay paired; ``agents.pool``): one candidate per action after
``agents.react_text.normalize``; the action that left the observation unchanged last step
only when nothing else is proposed; and, with the ReAct proposer, the policy's greedy action
always among the k (``details["greedy"]``: ``ReActAgent.propose`` builds its pool so). The
reranking agent applies the first two rules to any proposer's candidates; ``pool=false``
leaves them as they come (``admissible-q`` keeps them so; ReAct's own pool stays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from agents.base import Candidate, Decision, Step
from agents.pool import candidate_pool
from scoring.base import Proposer, Scorer, State
from scoring.proposers import ADMISSIBLE, make_proposer, proposal_usage, reset_proposer

TASK_META = "task"
BUNDLED_DEFAULT = "bundled:keychest-minilm"


class QRerankAgent:
    """Proposer + Q scorer + k: act on the highest-Q candidate (first on ties); with ``pool``,
    over the proposer's candidates de-duplicated and without last step's unchanged-observation
    action (``agents.pool.candidate_pool``)."""

    def __init__(
        self,
        proposer: Proposer,
        scorer: Scorer,
        k: int = 5,
        fallback: str = "look",
        pool: bool = False,
    ):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.proposer, self.scorer, self.k, self.fallback = proposer, scorer, k, fallback
        self.pool = pool

    def reset(self, task: str, seed: int) -> None:
        """Reset the proposer (when it has ``reset``)."""
        reset_proposer(self.proposer, task, seed)

    def act(self, step: Step) -> Decision:
        """Score the proposed candidates in one batch and take the argmax (first on ties)."""
        cands = self.proposer.propose(step, self.k)
        if self.pool:
            cands = candidate_pool(cands, step)
        state = State.from_step(step)
        if not cands:
            meta = self.meta(step, state)
            act = getattr(self.proposer, "act", None)
            if callable(act):  # the proposer acting alone, e.g. ReAct
                d = act(step)
                return replace(d, meta={**meta, "fallback": "proposer.act", **dict(d.meta)})
            return Decision(self.fallback, thought="no candidates", meta=meta)
        scored, ranking = self.score(state, cands)
        meta = self.meta(step, state)  # after scoring: an ``auto`` scorer names its model then
        best = max(range(len(scored)), key=lambda i: (ranking[i], -i))
        tokens_in, tokens_out = proposal_usage(self.proposer, cands)
        thought = scored[best].details.get("thought") or next(
            (c.details.get("thought") for c in scored if c.details.get("thought")), None
        )
        return Decision(
            scored[best].action,
            thought=str(thought) if thought else None,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            candidates=tuple(scored),
            meta=meta,
        )

    def meta(self, step: Step, state: State) -> dict[str, Any]:
        """What the decision records besides its candidates (the task on the first step)."""
        meta: dict[str, Any] = {"k": self.k, "scorer": self.scorer.name}
        if step.t == 0:
            meta[TASK_META] = step.task
        return meta

    def score(self, state: State, cands: list[Candidate]) -> tuple[list[Candidate], list[float]]:
        """The candidates with their scores recorded, and the values the argmax ranks."""
        scores = [float(x) for x in self.scorer.score([state], [[c.action for c in cands]])[0]]
        scored = [
            replace(c, scores={**dict(c.scores), self.scorer.name: s})
            for c, s in zip(cands, scores, strict=True)
        ]
        return scored, scores

    def close(self) -> None:
        """Close the proposer if it holds resources."""
        close = getattr(self.proposer, "close", None)
        if callable(close):
            close()


def make_react_q(
    proposer: str = "react",
    k: int = 5,
    scorer: str = "auto",
    policy: str = "",
    device: str = "auto",
    seed: int = 0,
    pool: bool = True,
    **proposer_options: Any,
) -> QRerankAgent:
    """``react-q``: the ReAct proposer (or another: ``proposer=admissible``) + a Q scorer
    (default ``auto``: the bundled encoder of the env's family; ``auto:lm-dpo`` its adapter),
    over the candidate pool of this module's docstring."""
    from scoring.models import load_scorer

    q = load_scorer(scorer, device=device)
    prop = make_proposer(proposer, policy=policy, seed=seed, options=proposer_options)
    return QRerankAgent(prop, q, k=int(k), pool=bool(pool))


def _control(scorer: str, doc: str) -> Callable[..., QRerankAgent]:
    """A model-free control for react-q: its proposer and k, the baseline scorer ``scorer``."""

    def make(
        proposer: str = "react", k: int = 5, policy: str = "", seed: int = 0, **options: Any
    ) -> QRerankAgent:
        for key in ("scorer", "device") & options.keys():
            raise ValueError(f"this control chooses without a model: it takes no {key!r} option")
        return make_react_q(proposer, k, scorer, policy, "cpu", seed, **options)

    make.__doc__ = doc
    return make


make_react_rank = _control(
    "proposer-order", "``react-rank``: react-q's proposer and k, the proposer's own top."
)
make_finish_first = _control(
    "finish-first", "``finish-first``: react-q's proposer and k, a terminal candidate first."
)


def make_admissible_q(
    k: int = 3, scorer: str = BUNDLED_DEFAULT, device: str = "cpu", seed: int = 0
) -> QRerankAgent:
    """``admissible-q``: k admissible actions drawn at random + a Q scorer (default: the
    bundled KeyChest model). A k below the number of admissible actions keeps the choice
    stochastic, as a sampling policy's candidates are; with all of them, argmax can loop."""
    return make_react_q(ADMISSIBLE, k=k, scorer=scorer, device=device, seed=seed, pool=False)
