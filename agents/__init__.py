"""Agents: the Agent protocol, baselines, ReAct and reranking agents, and the agent registry."""
