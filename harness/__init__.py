"""Evaluation harness: run config, episode runner, run store, leaderboards, analysis, reports and
the CLI. The top library layer: it builds on ``scoring`` (imported here, which registers the
reranking agents), ``agents`` and ``envs``."""

import scoring  # noqa: F401 - registers react-q and the other reranking agents

__version__ = "0.1.0"
