"""The run store keeps every finished episode: unreadable middle lines are quarantined byte
for byte (not truncated away), schema versions are read (older migrated, newer refused),
records outside the plan are kept but not counted, and one process writes a run dir."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.records import SCHEMA_VERSION, BadRecord, NewerSchema, parse_record
from harness.run import main
from harness.store import LOCK, QUARANTINE, RunDirError, RunLocked, RunStore
from tests.foundation_helpers import ROOT, episode_lines, records, run_cli

KEYCHEST = "harness/KeyChest-v0"
SLOW = "tests.foundation_helpers:slow_agent"


def _run(out: Path, *extra: str, episodes: int = 6) -> int:
    args = ["--envs", KEYCHEST, "--agents", "random", "--episodes", str(episodes)]
    return main([*args, "--seed", "3", "--out", str(out), "--leaderboard", "", *extra])


@pytest.mark.parametrize(
    "garbage",
    [b"{not json\n", b'{"env_id": "x"}\n', b"\x00\xff\xfe\n", b"[1, 2]\n", b"\n", b"garb\rage\n"],
    ids=["bad-json", "missing-fields", "binary", "not-an-object", "blank", "bare-cr"],
)
def test_a_garbled_middle_line_is_quarantined_and_only_its_episode_reruns(
    tmp_path: Path, garbage: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path) == 0
    before = records(tmp_path)
    log = tmp_path / "episodes.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    hit = json.loads(lines[2])
    lines[2] = garbage
    log.write_bytes(b"".join(lines))
    capsys.readouterr()

    assert _run(tmp_path, "--resume") == 0
    err = capsys.readouterr().err
    assert "line 3" in err and str(log) in err and QUARANTINE in err
    assert (tmp_path / QUARANTINE).read_bytes() == garbage  # kept byte for byte
    after = records(tmp_path)
    assert after == before  # the 5 others kept, the garbled one re-run to the same record
    assert len(episode_lines(tmp_path)) == 6
    new_last = episode_lines(tmp_path)[-1]
    assert (new_last["seed"], new_last["agent"]) == (hit["seed"], hit["agent"])  # only it reran


def test_a_newer_schema_is_refused_naming_the_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, episodes=2) == 0
    log = tmp_path / "episodes.jsonl"
    lines = log.read_text().splitlines()
    rec = json.loads(lines[0]) | {"schema_version": SCHEMA_VERSION + 1, "harness_version": "9.9"}
    log.write_text("\n".join([json.dumps(rec), *lines[1:]]) + "\n")
    raw = log.read_bytes()
    capsys.readouterr()
    assert _run(tmp_path, "--resume", episodes=2) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "qharness 9.9" in err[0] and "line 1" in err[0], err
    assert log.read_bytes() == raw  # nothing changed
    from harness.report import main as report_main

    assert report_main([str(tmp_path), "--out", str(tmp_path / "rep")]) == 2  # readers too
    assert "qharness 9.9" in capsys.readouterr().err


def test_schema_1_records_are_migrated() -> None:
    rec = {
        **dict.fromkeys(("env_id", "agent", "task_id", "split"), "x"),
        **dict.fromkeys(("seed", "steps", "invalid_actions", "input_tokens", "output_tokens"), 1),
        "success": True,
        "total_reward": 1.0,
        "wall_s": 0.5,
        "schema_version": 1,
    }
    parsed = parse_record(rec)
    assert parsed.schema_version == SCHEMA_VERSION and parsed.harness_version == ""
    assert parsed.task_type == ""
    # schema 2 (harness_version, no task_type) migrates to the same record
    assert parse_record(rec | {"schema_version": 2, "harness_version": ""}) == parsed
    assert parse_record({k: v for k, v in rec.items() if k != "schema_version"}) == parsed
    with pytest.raises(NewerSchema):
        parse_record(rec | {"schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(BadRecord, match="seed"):
        parse_record(rec | {"seed": "1"})
    with pytest.raises(BadRecord, match="success"):
        parse_record({k: v for k, v in rec.items() if k != "success"})


def test_records_carry_the_writer_version(tmp_path: Path) -> None:
    from harness import __version__

    assert _run(tmp_path, episodes=1) == 0
    (line,) = episode_lines(tmp_path)
    assert (line["schema_version"], line["harness_version"]) == (SCHEMA_VERSION, __version__)


def test_a_resume_that_would_drop_recorded_episodes_is_refused(tmp_path: Path) -> None:
    """Fewer episodes on --resume (with or without --extend) would leave recorded episodes out
    of the CSVs: exit 2 naming the change, every file as it was."""
    assert _run(tmp_path, episodes=4) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert _run(tmp_path, "--resume", episodes=2) == 2  # seeds 5, 6 would fall outside
    assert _run(tmp_path, "--resume", "--extend", episodes=2) == 2
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before


def test_a_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.open(resume=False)
    try:
        with pytest.raises(RunLocked, match=rf"in use by process {__import__('os').getpid()}"):
            RunStore(tmp_path).open(resume=True)
    finally:
        store.close()
    again = RunStore(tmp_path)
    again.open(resume=True)  # released: the next one gets it
    again.close()


def test_two_concurrent_writers_the_second_exits_2_and_the_first_finishes(tmp_path: Path) -> None:
    args = ["--envs", KEYCHEST, "--agents", SLOW, "--episodes", "30", "--max-steps", "4"]
    args += ["--out", str(tmp_path), "--leaderboard", "", "--agent-opt", f"{SLOW}.delay_s=0.1"]
    first = subprocess.Popen(  # ~12 s of episodes: it outlives the second's start-up
        [sys.executable, "-m", "harness.run", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait(lambda: (tmp_path / "episodes.jsonl").exists(), first)
        second = run_cli(*args, "--resume")
        assert second.returncode == 2, second.stderr
        (line,) = second.stderr.strip().splitlines()
        assert f"in use by process {first.pid}" in line
    finally:
        assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    keys = [(r["agent"], r["seed"]) for r in episode_lines(tmp_path)]
    assert len(keys) == len(set(keys)) == 30


def test_a_lock_left_by_a_killed_process_never_blocks(tmp_path: Path) -> None:
    args = ["--envs", KEYCHEST, "--agents", SLOW, "--episodes", "30", "--max-steps", "4"]
    args += ["--out", str(tmp_path), "--leaderboard", ""]
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.run", *args], cwd=ROOT, stderr=subprocess.DEVNULL
    )
    _wait(lambda: (tmp_path / "episodes.jsonl").exists(), proc)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL  # killed mid-run, not finished first
    assert (tmp_path / LOCK).read_text().strip() == str(proc.pid)  # the file stays...
    done = run_cli(*args, "--resume")  # ...but the kernel released the flock
    assert done.returncode == 0, done.stderr
    assert len({(r["agent"], r["seed"]) for r in episode_lines(tmp_path)}) == 30


def test_collect_takes_the_same_lock(tmp_path: Path) -> None:
    from qvalue.collect import main as collect_main

    store = RunStore(tmp_path)
    store.open(resume=False)
    try:
        code = collect_main(["--env", KEYCHEST, "--tasks", "1", "--out", str(tmp_path)])
    finally:
        store.close()
    assert code == 2
    assert not (tmp_path / "collect.json").exists()


def test_reading_a_locked_dir_needs_no_lock(tmp_path: Path) -> None:
    assert _run(tmp_path, episodes=2) == 0
    store = RunStore(tmp_path)
    store.open(resume=True)
    try:
        assert len(RunStore(tmp_path).load()) == 2  # reports and compare read while a run writes
    finally:
        store.close()
    with pytest.raises(RunDirError, match="already holds results"):
        RunStore(tmp_path).open(resume=False)


def _wait(cond: object, proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + 60
    while not cond() and proc.poll() is None and time.monotonic() < end:  # type: ignore[operator]
        time.sleep(0.02)
    assert cond(), "the first run never started writing"  # type: ignore[operator]


def test_a_live_writer_is_reported_before_the_missing_resume(tmp_path: Path) -> None:
    assert _run(tmp_path, episodes=1) == 0
    store = RunStore(tmp_path)
    store.open(resume=True)
    try:
        before = (tmp_path / LOCK).read_bytes()
        with pytest.raises(RunLocked):  # not "pass --resume": resuming would clash too
            RunStore(tmp_path).open(resume=False)
        assert (tmp_path / LOCK).read_bytes() == before
    finally:
        store.close()


def test_every_record_field_has_a_checked_type() -> None:
    """A field added to EpisodeRecord must be added to the loader's type table too."""
    import dataclasses

    from harness.records import _TYPES, EpisodeRecord

    fields = {f.name for f in dataclasses.fields(EpisodeRecord)} - {"schema_version"}
    assert set(_TYPES) == fields
