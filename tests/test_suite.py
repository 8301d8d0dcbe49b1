"""The default suite: its flag, step cap and per-agent env restrictions."""

from __future__ import annotations

from harness.api import default_suite, plan
from harness.config import RunConfig
from harness.suite import SUITE_AGENT_ENVS, SUITE_MAX_STEPS


def test_default_suite_caps_steps_and_restricts_agents() -> None:
    cfg, counts = default_suite(RunConfig())
    assert cfg.suite and cfg.max_steps == SUITE_MAX_STEPS and "harness/KeyChest-v0" in cfg.envs
    jobs = plan(cfg, counts)
    for job in jobs:
        if job.agent in SUITE_AGENT_ENVS:
            assert job.env_id in SUITE_AGENT_ENVS[job.agent]
    assert {j.agent for j in jobs} >= {"random", "expert", "admissible-q"}


def test_explicit_runs_are_not_the_suite() -> None:
    cfg, _ = default_suite(RunConfig(envs=("harness/KeyChest-v0",)))
    assert not cfg.suite and cfg.max_steps == RunConfig.max_steps
