"""Scoring candidate actions: proposers, scorers and their composition, the reranking agents
(registered here into ``agents.registry.AGENTS``), Q-value models (``scoring.q``) and rubric
models (``scoring.rubric``). Builds on ``envs`` and ``agents``; ``harness`` builds on it."""

from agents.registry import AGENTS

AGENTS.register(
    "react-q",
    "scoring.rerank:make_react_q",
    "k ReAct candidates reranked by a Q model (default: the bundled model of the env's family)",
)
AGENTS.register(
    "admissible-q",
    "scoring.rerank:make_admissible_q",
    "k admissible actions reranked by a Q model (default: the bundled KeyChest MiniLM)",
)
AGENTS.register(
    "react-rank",
    "scoring.rerank:make_react_rank",
    "control for react-q: the same k ReAct candidates, the proposer's own top (no model)",
)
AGENTS.register(
    "finish-first",
    "scoring.rerank:make_finish_first",
    "control for react-q: the same k candidates, a finish[...]/Buy Now one when offered",
)
AGENTS.register(
    "react-rubric",
    "scoring.rubric.agent:make_react_rubric",
    "ReAct proposer + rubric scorer (template checks, or generator/judge models), argmax",
)
AGENTS.register(
    "react-q-rubric",
    "scoring.rubric.agent:make_react_q_rubric",
    "ReAct proposer + Q scorer + rubric scorer, z-normalised weighted sum, argmax",
)
