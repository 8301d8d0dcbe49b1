"""Proposers of candidate actions: admissible actions (no LLM), or any agent with ``propose``.

Integration surface for LLM policies: an agent registered in ``agents.registry`` (e.g.
``react``) whose object has ``propose(step, k) -> list[Candidate]`` (and optionally
``reset(task, seed)``) is a proposer; it is built with ``make_agent(name, options)``, so its
factory receives ``policy`` and any other options it accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from agents.base import Candidate, Step
from agents.baselines import fill_template
from envs.base import ADMISSIBLE_ACTIONS
from scoring.base import Proposer

ADMISSIBLE = "admissible"


class AdmissibleProposer:
    """Up to ``k`` admissible actions drawn uniformly without replacement (all when ``k`` covers
    them or ``k <= 0``, in the env's order); logprob None. Seeded per episode by ``reset``."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = np.random.default_rng([seed, 0xAD])

    def reset(self, task: str, seed: int) -> None:
        """Reseed from the episode seed."""
        self._rng = np.random.default_rng([self.seed, seed, 0xAD])

    def propose(self, step: Step, k: int) -> list[Candidate]:
        """Distinct admissible actions of ``step``."""
        acts = list(dict.fromkeys(step.admissible_actions))
        if 0 < k < len(acts):
            idx = np.sort(self._rng.choice(len(acts), size=k, replace=False))
            acts = [acts[int(i)] for i in idx]
        return [Candidate(fill_template(a, step.task)) for a in acts]


class MixedProposer:
    """The policy's own candidates, then up to ``extra`` admissible actions it did not propose,
    drawn uniformly (seeded per episode): the paper's policy-sampled children, with the env's
    admissible actions mixed in so a search can also try what the policy never ranks high."""

    def __init__(self, policy: Proposer, extra: int, seed: int = 0) -> None:
        if extra < 1:
            raise ValueError(f"admissible (extra admissible actions) must be >= 1, got {extra}")
        self.policy, self.extra = policy, extra
        self.admissible = AdmissibleProposer(seed=seed)
        # the policy acting alone, when it can (a reranker's fallback when no candidate came)
        self.act: Callable[[Step], Any] | None = getattr(policy, "act", None)
        # one policy turn from any state, unrecorded (a tree search's rollout step)
        self.decide: Callable[[Step], Any] | None = getattr(policy, "decide", None)

    def reset(self, task: str, seed: int) -> None:
        """Reset both parts."""
        reset_proposer(self.policy, task, seed)
        self.admissible.reset(task, seed)

    def propose(self, step: Step, k: int) -> list[Candidate]:
        """Up to ``k`` policy candidates plus up to ``extra`` others from the admissible list."""
        own = self.policy.propose(step, k)
        seen = {c.action for c in own}
        acts = dict.fromkeys(step.admissible_actions)
        rest = [a for a in acts if fill_template(a, step.task) not in seen]
        others = replace(step, info={**step.info, ADMISSIBLE_ACTIONS: rest})
        picked = self.admissible.propose(others, self.extra)
        extra = [replace(c, details={**dict(c.details), "source": ADMISSIBLE}) for c in picked]
        return own + [c for c in extra if c.action not in seen]

    def close(self) -> None:
        """Close the policy if it holds resources."""
        close = getattr(self.policy, "close", None)
        if callable(close):
            close()

    @property
    def last_usage(self) -> Any:
        """The policy's cost of the last call (admissible actions cost nothing)."""
        return getattr(self.policy, "last_usage", None)


def make_proposer(
    name: str, policy: str = "", seed: int = 0, options: Mapping[str, Any] | None = None
) -> Proposer:
    """``admissible``, or an agent name / ``module:factory`` whose object has ``propose``.

    Option ``admissible=N`` (agent proposers only) mixes in up to N admissible actions the
    agent did not propose (``MixedProposer``); on envs that list none it changes nothing."""
    if name == ADMISSIBLE:
        return AdmissibleProposer(seed=seed)
    opts = dict(options or {})
    extra = int(opts.pop(ADMISSIBLE, 0) or 0)
    agent = _agent_proposer(name, policy, opts)
    return MixedProposer(agent, extra, seed) if extra else agent


def _agent_proposer(name: str, policy: str, opts: dict[str, Any]) -> Proposer:
    """The agent ``name`` built with ``opts`` (and ``policy``), checked to have ``propose``."""
    from agents.registry import AGENTS, make_agent
    from envs.registry import UnknownName

    if policy:
        opts.setdefault("policy", policy)
    try:
        AGENTS.check(name)
    except UnknownName as exc:
        raise ValueError(
            f"proposer {name!r}: {exc}; use '{ADMISSIBLE}' (no LLM) or an agent with propose()"
        ) from None
    agent = make_agent(name, opts)
    if not callable(getattr(agent, "propose", None)):
        raise ValueError(
            f"proposer {name!r}: {type(agent).__name__} has no propose(step, k); "
            f"use '{ADMISSIBLE}' or an agent that proposes candidates"
        )
    return agent  # type: ignore[return-value]


def proposal_usage(proposer: Proposer, cands: Sequence[Candidate]) -> tuple[int, int]:
    """Policy tokens (input, output) of one ``propose`` call: the candidates' own counts
    (``details["input_tokens"/"output_tokens"]``) when they carry them, else the proposer's
    ``last_usage`` (the ReAct agent's), else zero."""
    counted = [c for c in cands if "input_tokens" in c.details or "output_tokens" in c.details]
    if counted:
        return (
            sum(int(c.details.get("input_tokens", 0)) for c in counted),
            sum(int(c.details.get("output_tokens", 0)) for c in counted),
        )
    usage = getattr(proposer, "last_usage", None)
    return int(getattr(usage, "input_tokens", 0)), int(getattr(usage, "output_tokens", 0))


def reset_proposer(proposer: Proposer, task: str, seed: int) -> None:
    """Call ``proposer.reset(task, seed)`` when it has one."""
    reset = getattr(proposer, "reset", None)
    if callable(reset):
        reset(task, seed)
