"""Evaluation harness: run config, episode runner, run store, leaderboards and the CLI."""

__version__ = "0.1.0"
