"""``harness.api``: the library under the CLI plans and evaluates runs silently, returns typed
results and raises typed errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from harness.api import RunResult, evaluate, plan_run
from harness.config import RunConfig
from harness.errors import InputError
from harness.preflight import BadInput

KEYCHEST = "harness/KeyChest-v0"


def _cfg(tmp_path: Path, **kw: object) -> RunConfig:
    base: dict[str, object] = {
        "envs": (KEYCHEST,),
        "agents": ("random", "expert"),
        "episodes": 3,
        "out": str(tmp_path / "run"),
        "leaderboard": "",
    }
    return RunConfig(**{**base, **kw})  # type: ignore[arg-type]


def test_evaluate_returns_the_run_and_prints_nothing(
    tmp_path: Path, capfd, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as a library user's process: no CLI main has attached its stderr handler
    logger = logging.getLogger("qharness")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", True)

    class Counter:
        def start(self, total: int) -> None:
            self.total, self.seen = total, 0

        def update(self, record: object) -> None:
            self.seen += 1

    progress = Counter()
    result = evaluate(_cfg(tmp_path), progress=progress)
    assert isinstance(result, RunResult) and result.run_dir == tmp_path / "run"
    assert (progress.total, progress.seen) == (6, 6)
    assert len(result.records) == 6 and set(result.leaderboard["agent"]) == {"random", "expert"}
    assert (result.run_dir / "leaderboard.csv").exists()
    assert result.plan.lines() == [f"{KEYCHEST}: random expert, 3 episodes, max 50 steps"]
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # silent: the CLI, not the library, talks to the user


def test_errors_are_typed_input_errors(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="unknown env"):
        plan_run(_cfg(tmp_path, envs=("harness/KeyChets-v0",)))
    with pytest.raises(InputError, match="temprature"):
        evaluate(_cfg(tmp_path, agent_options={"random": {"temprature": 0.3}}))
    assert not (tmp_path / "run").exists()  # nothing written before the settings were checked
