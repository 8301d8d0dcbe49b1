"""The default suite: its flag, step cap and per-agent env restrictions."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def _bundle(root: Path, *names: str) -> Path:
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "card.json").write_text("{}")
    return root


def test_suite_pairs_react_and_react_q_on_one_env_per_offline_family(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envs.registration import env_family
    from harness.api import RunPlan
    from harness.suite import FAMILY_ENVS, SUITE_AGENT_LIMITS
    from scoring import models

    families = ("keychest", "hotpotqa", "webshop", "alfworld", "textworld")
    monkeypatch.setattr(models, "ARTIFACTS", _bundle(tmp_path, *(f"{f}-encoder" for f in families)))
    cfg, counts = default_suite(RunConfig())
    jobs = plan(cfg, counts)
    n, steps = SUITE_AGENT_LIMITS["react"]
    for agent in ("react", "react-q"):
        mine = [j for j in jobs if j.agent == agent]
        assert {j.env_id for j in mine} == set(FAMILY_ENVS)
        assert all(j.max_steps == steps for j in mine)
        assert sorted(j.seed for j in mine if j.env_id == FAMILY_ENVS[0]) == list(range(n))
    assert {env_family(e) for e in FAMILY_ENVS} == {
        "keychest", "hotpotqa", "webshop", "alfworld", "textworld"
    }  # fmt: skip
    assert all(j.max_steps == 0 for j in jobs if j.agent in ("random", "expert"))
    line = next(x for x in RunPlan(cfg, counts).lines() if x.startswith("harness/KeyChest-v0:"))
    assert f", max 20 steps (react, react-q: {n} episodes, max {steps} steps); policy " in line
    assert cfg.policy == "local?adapter=auto"  # each family's SFT adapter, base where none
    assert line.endswith("policy local?adapter=auto (no bundled adapter: base model)")
    base, _ = default_suite(RunConfig(policy="local"))
    assert base.policy == "local"
    explicit, c2 = default_suite(RunConfig(envs=("harness/KeyChest-v0",), agents=("react",)))
    assert all(j.max_steps == 0 for j in plan(explicit, c2))  # only the suite caps


def test_suite_leaves_react_q_out_where_no_model_is_bundled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from scoring import models

    monkeypatch.setattr(models, "ARTIFACTS", _bundle(tmp_path, "alfworld-encoder"))
    with caplog.at_level("INFO", logger="qharness"):
        cfg, counts = default_suite(RunConfig())
    q_envs = {j.env_id for j in plan(cfg, counts) if j.agent == "react-q"}
    assert q_envs == {"harness/ALFWorldGen-v0"}
    assert "react-q left out on harness/WebShopSynth-v0: no bundled model webshop-encoder" in (
        caplog.text
    )


def test_suite_checks_the_model_kind_react_q_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.suite import needed_kind
    from scoring import models

    assert needed_kind("react-q", {}) == "encoder"
    assert needed_kind("react-q", {"scorer": "auto:lm-dpo"}) == "lm-dpo"
    assert needed_kind("react-q", {"scorer": "/my/model"}) is None
    assert needed_kind("react", {}) is None
    monkeypatch.setattr(models, "ARTIFACTS", _bundle(tmp_path, "alfworld-encoder"))
    lm = RunConfig(agent_options={"react-q": {"scorer": "auto:lm-dpo"}})
    cfg, counts = default_suite(lm)
    assert not [j for j in plan(cfg, counts) if j.agent == "react-q"]  # no lm-dpo bundled
    own = RunConfig(agent_options={"react-q": {"scorer": str(tmp_path / "alfworld-encoder")}})
    cfg, counts = default_suite(own)
    assert len({j.env_id for j in plan(cfg, counts) if j.agent == "react-q"}) == 5
