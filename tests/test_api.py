"""``harness.api``: the library under the CLI plans and evaluates runs silently, returns typed
results and raises typed errors."""

from __future__ import annotations

import logging
from dataclasses import replace
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


def test_a_run_with_react_and_react_q_ends_with_their_paired_difference(capsys) -> None:
    """``harness.run`` prints react-q − react per env over the shared seeds, with intervals."""
    import pandas as pd

    from harness.api import RunPlan
    from harness.records import EpisodeRecord
    from harness.run import print_lift

    def rec(agent: str, seed: int, won: bool) -> EpisodeRecord:
        return EpisodeRecord(KEYCHEST, agent, seed, f"t{seed}", "test", won, float(won), 3, 0,
                             0, 0, 0.1)  # fmt: skip

    records = [rec("react", s, False) for s in range(6)] + [
        rec("react-q", s, s < 4) for s in range(6)
    ]
    cfg = RunConfig(envs=(KEYCHEST,), agents=("react", "react-q"), episodes=6)
    result = RunResult(Path("x"), tuple(records), pd.DataFrame(), pd.DataFrame(),
                       RunPlan(cfg, {KEYCHEST: 6}))  # fmt: skip
    print_lift(result)
    line = capsys.readouterr().out.strip()
    assert line.startswith(
        f"[lift] {KEYCHEST}: react-q - react over 6 paired seeds: success +0.667"
    )
    assert "McNemar p=0.125" in line  # 4 discordant seeds, all for react-q: 2 / 2**4
    print_lift(replace(result, plan=RunPlan(replace(cfg, agents=("react",)), {KEYCHEST: 6})))
    assert capsys.readouterr().out == ""  # no react-q in the run: nothing to compare
