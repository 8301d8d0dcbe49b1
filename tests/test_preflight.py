"""Settings that cannot work fail before the first episode (exit 2, one line, nothing
written); unknown option names get a did-you-mean; --resume --retry-errors re-runs errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from harness.run import EXIT_EPISODE_ERRORS, main
from tests.foundation_helpers import episode_lines

KEYCHEST = "harness/KeyChest-v0"
SLOW = "tests.foundation_helpers:slow_agent"
DEAD_URL = "http://127.0.0.1:9/v1"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--agents", "react", "--policy", "zzz:::"], ["unknown policy 'zzz:::'"]),
        (["--agents", "react", "--policy", "local?timeout=abc"], ["timeout='abc'", "float"]),
        (["--agents", "react", "--policy", "local?timeout=0"], ["timeout=0.0", "> 0"]),
        (["--agents", "react", "--policy", f"openai:m@{DEAD_URL}?retires=0"], ["'retries'"]),
        (["--agents", "react", "--policy", f"openai:m@{DEAD_URL}?mode=x"], ["chat, completion"]),
        (["--agents", "react", "--policy", "local:/no/such.gguf"], ["/no/such.gguf"]),
        (["--agents", "react", "--agent-opt", "react.policy=zzz:::"], ["'zzz:::'"]),
        (["--agents", "react", "--agent-opt", "react.choice=bogus"], ["choice", "bogus"]),
        (["--agents", "react", "--agent-opt", "react.temprature=0.3"], ["'temperature'"]),
        (["--agents", "random", "--agent-opt", "random.temprature=0.3"], ["'temperature'"]),
        (["--agents", "random", "--agent-opt", "expert.fallback=x"], ["'expert'", "not in"]),
        (["--agents", "random", "--env-opt", "harness/Other-v0.n=1"], ["'harness/Other-v0'"]),
        (["--agents", "random", "--env-opt", f"{KEYCHEST}.n_roomz=3"], ["'n_rooms'"]),
        (["--agents", "random", "--episodes", "1000000000000"], ["1,000,000,000,000"]),
        (["--agents", "random", "--seed", "-1"], ["'seed'"]),
        (["--agents", "random", "--retry-errors"], ["--retry-errors needs --resume"]),
        (["--agents", "random", "--leaderboard", "{tmp}"], ["is a directory"]),
    ],
    ids=[
        "unknown-policy",
        "policy-option-type",
        "policy-option-range",
        "policy-option-name",
        "policy-option-choice",
        "local-model-missing",
        "agent-policy-option",
        "agent-option-value",
        "agent-option-name",
        "option-of-another-agent",
        "agent-not-in-run",
        "env-not-in-run",
        "env-option-name",
        "plan-too-large",
        "negative-seed",
        "retry-without-resume",
        "leaderboard-is-a-dir",
    ],
)
def test_bad_settings_fail_before_any_episode(
    tmp_path: Path, args: list[str], expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = [a.format(tmp=tmp_path) for a in args]
    base = ["--envs", KEYCHEST, "--episodes", "2", "--out", str(out)]
    if "--leaderboard" not in args:
        base += ["--leaderboard", ""]
    assert main([*base, *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    for want in expected:
        assert want in lines[0], lines[0]
    assert not out.exists()


def test_config_records_the_options_applied(tmp_path: Path) -> None:
    args = ["--envs", KEYCHEST, "--agents", "random", "--episodes", "1", "--leaderboard", ""]
    args += ["--agent-opt", "random.sample_seed=2", "--policy", "local", "--out", str(tmp_path)]
    assert main(args) == 0
    text = (tmp_path / "config.toml").read_text()
    assert 'agent_options = {"random" = {"sample_seed" = 2}}' in text
    assert "retry_errors = false" in text and "resume = false" in text


def test_resume_retry_errors_reruns_only_the_errors(tmp_path: Path) -> None:
    common = ["--envs", KEYCHEST, "--agents", SLOW, "--episodes", "3", "--max-steps", "3"]
    common += ["--out", str(tmp_path), "--leaderboard", ""]
    slow = ["--agent-opt", f"{SLOW}.delay_s=0.5"]
    assert main([*common, *slow, "--step-timeout", "0.1"]) == EXIT_EPISODE_ERRORS
    first = episode_lines(tmp_path)
    assert [bool(r["error"]) for r in first] == [True] * 3
    assert main([*common, "--resume", *slow]) == EXIT_EPISODE_ERRORS
    assert episode_lines(tmp_path) == first  # a plain resume keeps the errors as they are
    fixed = [*common, "--resume", "--agent-opt", f"{SLOW}.delay_s=0", "--step-timeout", "30"]
    assert main(fixed) == 2  # other options: another plan, unless they fix the errors
    assert main([*fixed, "--retry-errors"]) == 0
    lines = episode_lines(tmp_path)
    assert lines[:3] == first and len(lines) == 6
    assert [r["error"] for r in lines[3:]] == [""] * 3
    with (tmp_path / "leaderboard.csv").open(newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert (row["episodes"], row["errors"]) == ("3", "0")  # the latest record of each counts


def test_a_policy_backend_that_cannot_be_made_fails_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness import preflight

    base = ["--envs", KEYCHEST, "--agents", "react", "--episodes", "1", "--leaderboard", ""]
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main([*base, "--policy", "openai:gpt-x", "--out", str(tmp_path / "a")]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    monkeypatch.setitem(preflight.NEEDS, "local", ("no_such_module_xyz", "local"))
    assert main([*base, "--policy", "local", "--out", str(tmp_path / "b")]) == 2
    assert "pip install 'qharness[local]'" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_scorer_auto_without_a_bundled_model_fails_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scoring import models

    monkeypatch.setattr(models, "ARTIFACTS", tmp_path / "none")
    out = tmp_path / "run"
    argv = ["--envs", KEYCHEST, "--agents", "react-q", "--episodes", "1", "--out", str(out)]
    argv += ["--agent-opt", "react-q.proposer=admissible", "--leaderboard", ""]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no bundled encoder model for env family 'keychest'" in err[0]
    assert "python -m qvalue.bundle --family keychest --kind encoder" in err[0]
    assert not out.exists()
