"""Fault injection on the write path (``tests/fault_driver.py``): SIGKILL at chosen points,
disk full, read-only, no permission. After each fault and one ``--resume``: finished
episodes lost 0, duplicated 0, records and trajectories equal an uninterrupted run, no temp
file left; storage faults exit 2 with one ``error:`` line.

Then one test per group of hostile inputs: parallel workers on every offline env, episodes
that error (exit 3), foreign files under ``--out`` and ``--leaderboard`` (exit 2, untouched),
``--resume`` with another plan, Ctrl-C (exit 130), and bad input to the other commands."""

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
KEYCHEST = "harness/KeyChest-v0"
ARGS = (
    *("--envs", KEYCHEST, "--agents", "random", "--episodes", str(EPISODES)),
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
    assert code == 3, stderr  # the first episode errored
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


# --- a run whose episodes errored says so ------------------------------------------------------


def test_errored_episodes_exit_3_naming_the_count_and_the_retry_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.run import EXIT_EPISODE_ERRORS, main
    from tests.foundation_helpers import RAISE_ID, register_fake_envs

    register_fake_envs()
    args = ["--envs", RAISE_ID, KEYCHEST, "--agents", "expert", "--episodes", "2"]
    args += ["--max-steps", "8", "--out", str(tmp_path), "--leaderboard", ""]
    assert main(args) == EXIT_EPISODE_ERRORS != 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    errored = sum(bool(r["error"]) for r in records(tmp_path).values())
    assert errored == 2  # the raising env's two episodes; KeyChest's are fine
    assert f"{errored} of 4 episodes errored" in last
    assert f"python -m harness.run --out {tmp_path} --resume --retry-errors" in last


# --- nothing the harness did not write is overwritten ------------------------------------------

SMALL = ["--envs", KEYCHEST, "--agents", "random", "--episodes", "2", "--max-steps", "4"]


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("episodes.csv", "id,score\n1,0.5\n"),
        ("leaderboard.csv", "model,accuracy\nx,0.9\n"),
        ("config.toml", 'title = "my other tool"\n'),
        ("notes.txt", "mine\n"),
    ],
)
def test_out_on_a_foreign_directory_exits_2_and_changes_nothing(
    name: str, text: str, tmp_path: Path
) -> None:
    (tmp_path / name).write_text(text)
    before = _snapshot(tmp_path)
    for resume in ((), ("--resume",)):
        proc = run_cli(*SMALL, *resume, "--out", tmp_path, "--leaderboard", "")
        line = _one_error_line(proc)
        assert "not a run directory of this harness" in line and name in line
        assert "choose a new or empty directory" in line
        assert _snapshot(tmp_path) == before and sorted(tmp_path.iterdir()) == [tmp_path / name]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("my notes, not a table\n", "not a leaderboard of this harness"),
        ("model,accuracy\nx,0.9\n", "not a leaderboard of this harness"),
        ("env_id,agent,episodes,success_rate\nA,b,3,0.5\nA,b,3\n", "line 3 has 3 fields"),
        ("env_id,agent,episodes,success_rate\nA,b,three,0.5\n", "line 2 has 'three'"),
    ],
)
def test_leaderboard_that_is_not_ours_or_malformed_exits_2_before_any_episode(
    text: str, says: str, tmp_path: Path
) -> None:
    board = tmp_path / "board.csv"
    board.write_text(text)
    out = tmp_path / "run"
    line = _one_error_line(run_cli(*SMALL, "--out", out, "--leaderboard", board))
    assert says in line and str(board) in line
    assert board.read_text() == text and not out.exists()  # no episode ran


def test_a_harness_leaderboard_is_still_merged(tmp_path: Path) -> None:
    board = tmp_path / "board.csv"
    for i in (1, 2):
        done = run_cli(
            *SMALL, "--seed", str(i), "--out", tmp_path / f"r{i}", "--leaderboard", board
        )
        assert done.returncode == 0, done.stderr
    assert board.read_text().startswith("env_id,agent,episodes,success_rate")


# --- --resume continues the same plan or refuses -----------------------------------------------


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (("--seed", "3"), "seed 0 in the run dir, 3 now"),
        (("--envs", "harness/HotPotQASynth-v1"), "envs [harness/KeyChest-v0] in the run dir"),
        (("--agents", "expert"), "agents [random] in the run dir, [expert] now"),
        (("--max-steps", "9"), "max_steps 4 in the run dir, 9 now"),
        (("--episodes", "3"), "episodes 2 in the run dir, 3 now"),
        (("--agent-opt", "random.sample_seed=4"), "agent_options {} in the run dir"),
        (("--policy", "local"), "policy '' in the run dir, 'local' now"),
        (("--split", "valid"), "split 'test' in the run dir, 'valid' now"),
    ],
)
def test_resume_with_another_plan_exits_2_naming_the_difference(
    extra: tuple[str, ...], named: str, run_dir: Path, tmp_path: Path
) -> None:
    import shutil

    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    before = _snapshot(out)
    line = _one_error_line(run_cli("--out", out, "--resume", "--leaderboard", "", *extra))
    assert named in line, line
    assert _snapshot(out) == before


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-episode KeyChest run."""
    out = tmp_path_factory.mktemp("plan") / "run"
    done = run_cli(*SMALL, "--out", out, "--leaderboard", "")
    assert done.returncode == 0, done.stderr
    return out


def test_extend_adds_to_the_plan_and_keeps_every_old_record(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    old = (out / "episodes.jsonl").read_bytes()
    args = ("--out", out, "--resume", "--extend", "--leaderboard", "")
    done = run_cli(*args, "--agents", "expert", "--episodes", "3")
    assert done.returncode == 0, done.stderr
    assert (out / "episodes.jsonl").read_bytes().startswith(old)  # old lines kept as they were
    rows = (out / "episodes.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[1] + r.split(",")[2] for r in rows) == [
        "expert0", "expert1", "expert2", "random0", "random1", "random2"
    ]  # fmt: skip
    assert 'agents = ["random", "expert"]' in (out / "config.toml").read_text()
    assert run_cli(*args, "--episodes", "2").returncode == 2  # --extend never drops episodes
    assert run_cli("--out", out, "--resume", "--seed", "1", "--leaderboard", "").returncode == 2


def test_resume_without_config_toml_exits_2(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    (out / "config.toml").unlink()
    before = _snapshot(out)
    line = _one_error_line(run_cli("--out", out, "--resume", "--leaderboard", ""))
    assert "no config.toml" in line
    assert _snapshot(out) == before


# --- Ctrl-C ---------------------------------------------------------------------------------


def test_ctrl_c_prints_one_line_with_the_resume_command_and_exits_130(tmp_path: Path) -> None:
    args = ["--envs", KEYCHEST, "--agents", "tests.foundation_helpers:slow_agent"]
    args += ["--episodes", "40", "--max-steps", "4", "--agent-opt"]
    args += ["tests.foundation_helpers:slow_agent.delay_s=0.05", "--leaderboard", ""]
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.run", *args, "--out", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until(lambda: len(lines_of(tmp_path)) >= 2 or proc.poll() is not None, 60)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    last = err.strip().splitlines()[-1]
    kept = len(lines_of(tmp_path))
    assert last == (
        f"interrupted: {kept} finished episodes are kept in {tmp_path / 'episodes.jsonl'}; "
        f"continue with: python -m harness.run --out {tmp_path} --resume"
    )
    resumed = run_cli("--out", tmp_path, "--resume", "--leaderboard", "")
    assert resumed.returncode == 0, resumed.stderr
    assert len(records(tmp_path)) == 40 and len(lines_of(tmp_path)) == 40


# --- one line, exit 2, for the other commands ----------------------------------------------


def _cli(module: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_env_of_an_unknown_id_and_dry_run_of_a_bad_value_exit_2() -> None:
    line = _one_error_line(run_cli("--check-env", "harness/NoSuch-v0"))
    assert "unknown env 'harness/NoSuch-v0'" in line
    bad = ("--agent-opt", "random.sample_seed=abc")  # a known option, a value it rejects
    line = _one_error_line(run_cli(*SMALL, *bad, "--dry-run"))
    assert "agent 'random' cannot be built" in line
    real = run_cli(*SMALL, *bad, "--leaderboard", "")
    assert _one_error_line(real) == line  # the dry run rejects what a real run rejects


def test_qvalue_collect_bad_inputs_exit_2_and_leave_nothing(tmp_path: Path) -> None:
    base = ["--env", KEYCHEST, "--tasks", "1", "--iterations", "2"]
    afile = tmp_path / "afile"
    afile.write_text("mine")
    assert "is a file" in _one_error_line(_cli("qvalue.collect", *base, "--out", afile))
    assert afile.read_text() == "mine"
    for extra, says in (
        (["--proposer", "nosuch"], "--proposer 'nosuch'"),
        (["--env-opt", "n_rooms=abc"], "--env-opt"),
        (["--env-opt", "nosuch=1"], "nosuch"),
    ):
        out = tmp_path / "c"
        assert says in _one_error_line(_cli("qvalue.collect", *base, *extra, "--out", out))
        assert not out.exists()


def test_qvalue_train_bad_inputs_exit_2_naming_file_and_line(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"a": 1}\nnot json\n')
    out = tmp_path / "model"
    line = _one_error_line(_cli("qvalue.train", "--pairs", pairs, "--out", out))
    assert f"{str(pairs)!r} line 1" in line and not out.exists()
    pairs.write_text("not json\n")
    line = _one_error_line(_cli("qvalue.train", "--pairs", pairs, "--out", out))
    assert f"{str(pairs)!r} line 1 is not a pair (JSONDecodeError" in line
    afile = tmp_path / "afile"
    afile.write_text("mine")
    assert "is a file" in _one_error_line(_cli("qvalue.train", "--pairs", pairs, "--out", afile))
    assert afile.read_text() == "mine"
    assert "--epochs" in _one_error_line(
        _cli("qvalue.train", "--pairs", pairs, "--out", out, "--epochs", "0")
    )


def test_bundle_report_and_analysis_bad_inputs_exit_2_with_one_line(
    run_dir: Path, tmp_path: Path
) -> None:
    import shutil

    afile = tmp_path / "afile"
    afile.write_text("mine")
    assert "--workers" in _one_error_line(_cli("qvalue.bundle", "--workers", "0"))
    assert "is a file" in _one_error_line(_cli("qvalue.bundle", "--work", afile))
    assert "is a file" in _one_error_line(_cli("harness.report", run_dir, "--out", afile))
    compare = ["harness.analysis.compare", run_dir, "--base", "random", "--other", "random"]
    assert "is a directory" in _one_error_line(_cli(*compare, "--out", tmp_path))
    summary = ["harness.analysis.summary", run_dir, "--agents", "random", "--baselines", "x"]
    assert "is a directory" in _one_error_line(_cli(*summary, "--out", tmp_path))
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    traj = sorted((bad / "trajectories").glob("*.jsonl"))[0]
    traj.write_text(traj.read_text() + '{"action": \n')
    n = len(traj.read_text().splitlines())
    summary = ["harness.analysis.summary", bad, "--agents", "random", "--baselines", "random"]
    calib = _cli(*summary, "--out", tmp_path / "s.csv", "--calibration", tmp_path / "c.csv")
    assert f"{str(traj)!r} line {n} is not valid JSON" in _one_error_line(calib)
    assert not (tmp_path / "s.csv").exists() and not (tmp_path / "c.csv").exists()
