"""Fault injection on the write path (``tests/fault_driver.py``): SIGKILL at chosen points,
disk full, read-only, no permission. After each fault and one ``--resume``: finished
episodes lost 0, duplicated 0, records and trajectories equal an uninterrupted run, no temp
file left; storage faults exit 2 with one ``error:`` line."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fault_driver import KILLS, KINDS, ONCE
from tests.foundation_helpers import ROOT, records, run_cli, trajectories

pytestmark = pytest.mark.faults

EPISODES = 8
ARGS = (
    *("--envs", "harness/KeyChest-v0", "--agents", "random", "--episodes", str(EPISODES)),
    *("--seed", "11", "--max-steps", "8", "--leaderboard", ""),
)
ERRNO_NAME = {"enospc": "ENOSPC", "eacces": "EACCES", "erofs": "EROFS"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uninterrupted run."""
    out = tmp_path_factory.mktemp("ref")
    done = run_cli(*ARGS, "--out", out)
    assert done.returncode == 0, done.stderr
    return out


def faulted_run(kind: str, n: int, out: Path) -> subprocess.CompletedProcess[str]:
    """``harness.run`` into ``out`` with fault ``kind`` at the ``n``-th targeted write."""
    cmd = [sys.executable, "-m", "tests.fault_driver", kind, str(n), "--", *ARGS]
    return subprocess.run(
        [*cmd, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def lines_of(out: Path) -> list[bytes]:
    """The episode log's complete lines."""
    path = out / "episodes.jsonl"
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


@pytest.mark.parametrize("kind", KINDS)
def test_fault_then_resume_loses_and_doubles_nothing(
    kind: str, reference: Path, tmp_path: Path
) -> None:
    n = 1 if kind in ONCE else random.Random(kind).randint(1, EPISODES)
    proc = faulted_run(kind, n, tmp_path)
    finished = [line for line in lines_of(tmp_path) if line.endswith(b"\n")]
    if kind in KILLS:
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    else:
        assert proc.returncode == 2, proc.stderr
        errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert ERRNO_NAME[kind.split("-")[0]] in errors[0] and "--resume" in errors[0]
        assert not list(tmp_path.rglob("*.tmp")), "a temp file was left behind"
        assert not finished or (tmp_path / "episodes.jsonl").read_bytes().endswith(b"\n")
    if kind not in ("kill-csv-rewrite", "enospc-csv", "erofs-config"):
        assert len(finished) == n - 1  # the fault hit the n-th episode's write

    resumed = run_cli(*ARGS, "--out", tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert lines_of(tmp_path)[: len(finished)] == finished  # every record before the fault
    got, want = records(tmp_path), records(reference)
    keys = [line.split(b'"seed": ')[1].split(b",")[0] for line in lines_of(tmp_path)]
    assert len(keys) == len(set(keys)) == EPISODES, "an episode was lost or doubled"
    assert got == want
    assert trajectories(tmp_path) == trajectories(reference)
    assert not list(tmp_path.rglob("*.tmp"))
    assert len((tmp_path / "episodes.csv").read_text().splitlines()) == 1 + EPISODES


def test_enospc_mid_append_leaves_no_partial_line(tmp_path: Path) -> None:
    proc = faulted_run("enospc-append", 3, tmp_path)
    assert proc.returncode == 2, proc.stderr
    raw = (tmp_path / "episodes.jsonl").read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 2  # the half line was truncated away


def test_a_timed_out_step_cancels_its_request_and_the_next_episode_starts_clean(
    tmp_path: Path,
) -> None:
    """The server stalls during episode 1's first step: the step times out, its request's
    connection is closed (the server sees the client leave), the server comes back, and
    episodes 2 and 3 run without error; the process then exits on its own."""
    from agents.llm.fake_server import FakeOpenAIServer

    with FakeOpenAIServer(reply="Thought: look around.\nAction: look") as server:
        server.pause()
        policy = f"openai:fake@{server.base_url}?timeout=120&retries=3"
        args = [*("--envs", "harness/KeyChest-v0", "--agents", "react", "--policy", policy)]
        args += [*("--episodes", "3", "--max-steps", "2", "--step-timeout", "3")]
        args += [*("--out", str(tmp_path), "--leaderboard", "")]
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness.run", *args], cwd=ROOT, stderr=subprocess.PIPE
        )
        try:
            _wait_until(lambda: server.disconnects >= 1 or proc.poll() is not None, 60)
            held = server.disconnects
            server.resume()
            code = proc.wait(timeout=60)  # bounded: an uncancelled call would block 120 s x 4
        finally:
            if proc.poll() is None:
                proc.kill()
        stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert held == 1, "the timed-out request was never cancelled (the client never left)"
    assert code == 0, stderr
    recs = [json.loads(x) for x in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    assert [r["seed"] for r in recs] == [0, 1, 2]
    assert recs[0]["error"].startswith("StepTimeout: step 0")
    assert [r["error"] for r in recs[1:]] == ["", ""]  # the next episodes start clean
    assert all(r["steps"] == 2 for r in recs[1:])


def _wait_until(cond: Callable[[], bool], limit_s: float) -> None:
    end = time.monotonic() + limit_s
    while not cond() and time.monotonic() < end:
        time.sleep(0.02)


@pytest.mark.model
def test_a_cancelled_local_generation_frees_the_llamacpp_slot() -> None:
    """The embedded llama.cpp server (one slot) is busy with a long generation; cancelling the
    calling thread aborts it, so the next call gets the slot before its own timeout (20 s,
    far shorter than the long generation) and close() does not wait for the abandoned one."""
    pytest.importorskip("xllamacpp")
    from agents.llm.cancel import CallCancelled, cancel_thread
    from agents.llm.local import LocalBackend

    local = LocalBackend(parallel=1, threads=1, mode="completion", timeout_s=20)
    box: dict[str, BaseException | int] = {}

    def long_call() -> None:
        try:
            prompt = "Count from 1 to 5000, separated by commas: 1, 2, 3, 4,"
            box["out"] = local.generate(prompt, max_tokens=4000).output_tokens
        except BaseException as exc:
            box["out"] = exc

    try:
        local.api()  # start the server first: the cancel must hit the generation
        worker = threading.Thread(target=long_call, daemon=True)
        worker.start()
        _wait_until(lambda: worker.is_alive() and _busy(local), 30)
        assert cancel_thread(worker) == 1
        worker.join(10)
        assert isinstance(box.get("out"), CallCancelled), box
        after = local.generate("Say hi.", max_tokens=4)  # raises LLMError if the slot stays busy
        assert after.output_tokens >= 1
    finally:
        local.close()


def _busy(local: object) -> bool:
    """Whether the embedded server's slot is generating (llama.cpp's /slots)."""
    import urllib.request

    url = local.base_url.removesuffix("/v1") + "/slots"  # type: ignore[attr-defined]
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return any(s.get("is_processing") for s in json.loads(resp.read()))
    except OSError:
        return False


# --- parallel workers ---------------------------------------------------------------------------


def _offline_envs() -> list[str]:
    """Every registered env that runs here without a data dir or a missing extra."""
    from envs.registration import ENV_TABLE, missing

    return [s.id for s in ENV_TABLE if missing(s) is None]


def _played(run_dir: Path) -> tuple[dict[str, dict[str, object]], dict[str, list[dict]]]:
    return records(run_dir), trajectories(run_dir)


@pytest.mark.engine
@pytest.mark.slow
def test_four_workers_play_every_offline_env_exactly_as_one(tmp_path: Path) -> None:
    """Every offline env (TextWorld and ALFWorld on their real engines included) with 4 worker
    threads, each run in a fresh process (as a user runs it): no episode errors, and records
    and trajectories equal a 1-worker run's."""
    env_ids = _offline_envs()
    assert any("TextWorld" in e for e in env_ids), env_ids  # the engine that used to fail
    played = {}
    for workers in (4, 1):
        out = tmp_path / f"w{workers}"
        args = ("--envs", *env_ids, "--agents", "random", "expert", "--episodes", "2")
        args += ("--seed", "5", "--max-steps", "6", "--leaderboard", "")
        done = run_cli(*args, "--workers", str(workers), "--out", out, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        recs = records(out)
        assert len(recs) == 2 * 2 * len(env_ids)
        errors = [f"{k}: {r['error']}" for k, r in recs.items() if r["error"]]
        assert not errors, errors
        played[workers] = (recs, trajectories(out))
    assert played[4] == played[1]
