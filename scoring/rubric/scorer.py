"""The ``rubric`` scorer: each candidate action rated against each criterion of the task's rubric.

Verdicts: template criteria are checked by code (True/False, or None = does not apply);
free-text criteria are rated by a judge model: P(yes) from the log-probabilities of " yes" and
" no" when the backend scores continuations, else a parsed answer (yes/no, or a number read as
a fraction of 1, 10 or 100). A candidate's score is ``sum_c weight_c * (2 * verdict_c - 1)``
over the criteria that apply: a met criterion adds its weight, a violated one subtracts it, a
criterion that does not apply adds nothing. Judge calls are batched over candidates and
criteria (one thread pool; the policy backends are thread-safe).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agents.llm.base import LLM, LLMError
from scoring.base import State
from scoring.rubric.rubrics import Criterion, Rubric, RubricStore
from scoring.rubric.templates import Check, check_for

Verdict = float | None

JUDGE_SYSTEM = (
    "You judge whether an agent's proposed next action meets one criterion. Answer yes or no."
)


def judge_prompt(state: State, action: str, criterion: str, prefill: bool) -> list[dict[str, str]]:
    """The chat prompt asking the judge about one (state, action, criterion)."""
    recent = "\n".join(f"> {t.action}\n{t.observation[-300:]}" for t in state.history[-3:])
    user = (
        f"Task: {state.task}\n"
        + (f"Recent steps:\n{recent}\n" if recent else "")
        + f"Current observation: {state.observation[-600:]}\n"
        f"Proposed next action: {action}\n"
        f"Criterion: {criterion}\n"
        "Does the proposed action meet the criterion? Answer yes or no."
    )
    msgs = [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]
    if prefill:
        msgs.append({"role": "assistant", "content": "Answer:"})
    return msgs


_NUM = re.compile(r"[-+]?\d*\.?\d+")


def parse_verdict(text: str) -> Verdict:
    """A verdict in [0, 1] from a judge's free answer (None when unreadable)."""
    low = text.strip().lower()
    m = re.search(r"\b(yes|no|true|false)\b", low)
    num = _NUM.search(low)
    if m and (not num or m.start() < num.start()):
        return 1.0 if m[1] in ("yes", "true") else 0.0
    if num:
        v = float(num[0])
        scale = 1.0 if v <= 1.0 else 10.0 if v <= 10.0 else 100.0
        return min(max(v / scale, 0.0), 1.0)
    return None


def judge_one(llm: LLM, state: State, action: str, criterion: str) -> Verdict:
    """One judge verdict (P(yes) by scoring when supported, else a parsed answer)."""
    prompt = judge_prompt(state, action, criterion, llm.supports_prefill)
    if llm.supports_scoring:
        ly, ln = llm.score_continuations(prompt, [" yes", " no"])
        return 1.0 / (1.0 + math.exp(min(max(ln - ly, -50.0), 50.0)))
    res = llm.generate(prompt, temperature=0.0, max_tokens=8, stop=["\n"])
    return parse_verdict(res.text)


def _check_of(c: Criterion) -> Check | None:
    """The template check of a criterion (None for a free-text one, which a judge rates)."""
    fam, _, cid = c.check.partition(".")
    return check_for(fam, cid) if c.check else None


def rubric_score(rubric: Rubric, verdicts: dict[str, Verdict]) -> float:
    """``sum weight * (2 verdict - 1)`` over criteria whose verdict is not None."""
    return float(
        sum(
            c.weight * (2.0 * v - 1.0)
            for c in rubric.criteria
            if (v := verdicts.get(c.id)) is not None
        )
    )


class RubricScorer:
    """Scorer ``rubric``: template checks and/or a judge model over the task's rubric."""

    def __init__(
        self,
        generator: str = "",
        judge: str = "",
        cache_root: str | None = None,
        workers: int = 4,
        name: str = "rubric",
        judge_llm: LLM | None = None,
        generator_llm: LLM | None = None,
    ) -> None:
        self.name = name
        self.store = RubricStore(generator, root=cache_root, llm=generator_llm)
        self.judge_spec = judge or generator
        self._judge = judge_llm
        self.workers = max(1, int(workers))
        self.judge_calls = 0

    @property
    def judge(self) -> LLM | None:
        """The judge model (None when neither judge nor generator is configured)."""
        if self._judge is None and self.judge_spec:
            from agents.llm.spec import get_policy

            self._judge = get_policy(self.judge_spec)
        return self._judge

    def rubric_for(self, state: State) -> Rubric:
        """The rubric of a state's task."""
        return self.store.get(state.env_id, state.task)

    def verdicts(
        self, states: Sequence[State], actions: Sequence[Sequence[str]]
    ) -> list[list[dict[str, Verdict]]]:
        """Per state, per action: criterion id -> verdict."""
        return self._verdicts(states, actions, [self.rubric_for(s) for s in states])

    def _verdicts(
        self,
        states: Sequence[State],
        actions: Sequence[Sequence[str]],
        rubrics: Sequence[Rubric],
    ) -> list[list[dict[str, Verdict]]]:
        out: list[list[dict[str, Verdict]]] = []
        jobs: list[tuple[int, int, Criterion]] = []
        for i, (s, acts, rubric) in enumerate(zip(states, actions, rubrics, strict=True)):
            checks = [(c, _check_of(c)) for c in rubric.criteria]  # resolved once per state
            row = []
            for j, a in enumerate(acts):
                v: dict[str, Verdict] = {}
                for c, fn in checks:
                    if fn is not None:
                        r = fn(s, a)
                        v[c.id] = None if r is None else float(r)
                    else:
                        v[c.id] = None
                        jobs.append((i, j, c))
                row.append(v)
            out.append(row)
        if jobs and self.judge is None:
            raise ValueError(
                f"rubric criterion {jobs[0][2].id!r} needs a judge model: pass judge=SPEC "
                "(e.g. judge=local) or a generator, which then judges too"
            )
        if jobs:
            for (i, j, c), verdict in zip(
                jobs, self._run_judge(states, actions, jobs), strict=True
            ):
                out[i][j][c.id] = verdict
        return out

    def _run_judge(
        self,
        states: Sequence[State],
        actions: Sequence[Sequence[str]],
        jobs: list[tuple[int, int, Criterion]],
    ) -> list[Verdict]:
        llm = self.judge
        assert llm is not None

        def one(job: tuple[int, int, Criterion]) -> Verdict:
            i, j, c = job
            try:
                return judge_one(llm, states[i], actions[i][j], c.text)
            except LLMError:
                return None  # a failed judge call is "no verdict", never a crash

        self.judge_calls += len(jobs)
        if self.workers == 1 or len(jobs) == 1:
            return [one(job) for job in jobs]
        with ThreadPoolExecutor(min(self.workers, len(jobs))) as pool:
            return list(pool.map(one, jobs))

    def score_details(
        self, states: Sequence[State], actions: Sequence[Sequence[str]]
    ) -> tuple[list[list[float]], list[list[dict[str, Any]]]]:
        """Scores and, per candidate, ``{"verdicts": {criterion id: verdict}}``."""
        rubrics = [self.rubric_for(s) for s in states]
        verdicts = self._verdicts(states, actions, rubrics)
        scores, details = [], []
        for rubric, row in zip(rubrics, verdicts, strict=True):
            scores.append([rubric_score(rubric, v) for v in row])
            details.append([{"verdicts": dict(v)} for v in row])
        return scores, details

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """``result[i][j]``: the rubric score of ``actions[i][j]`` in ``states[i]``."""
        return self.score_details(states, actions)[0]
