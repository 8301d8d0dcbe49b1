"""Packed run dirs (``trajectories.zip``): pack/unpack round-trips every trajectory byte for
byte, the report and the summary read a packed dir as they read a loose one, ``--resume``
appends loose files beside the archive, a damaged archive is a one-line error naming it, and
packing never touches a dir a live run holds (or loses anything when it fails)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harness import archive
from harness.analysis.summary import main as summary_main
from harness.report import write_report
from harness.report.data import build, load_runs
from harness.run import main as run_main
from harness.store import ARCHIVE, LOCK, TRAJECTORIES, BadArchive, RunLock, RunStore
from tests.report_fixtures import hand_run, real_run
from tests.test_analysis_summary import _run as summary_run


def _loose(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run_dir / TRAJECTORIES).glob("*.jsonl"))}


def _all_steps(run_dir: Path) -> dict[str, list[dict[str, object]]]:
    store = RunStore(run_dir)
    try:
        return {n: store.steps(n) for n in store.trajectory_names()}
    finally:
        store.close()


@pytest.fixture(scope="module")
def keychest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_run(tmp_path_factory.mktemp("kc") / "run", ["random", "expert"], 4)


def test_pack_unpack_round_trip_is_byte_identical(keychest: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(keychest, run)
    (run / LOCK).unlink(missing_ok=True)
    before, steps = _loose(run), _all_steps(run)
    assert len(before) == 8

    done = archive.pack(run)
    assert (done.members, done.moved) == (8, 8) and done.archive_bytes < done.loose_bytes
    assert not (run / TRAJECTORIES).exists() and not (run / LOCK).exists()  # no lock left
    assert not list(run.glob("*.tmp"))
    store = RunStore(run)
    assert {n: store.member(n) for n in store.members()} == before
    assert _all_steps(run) == steps
    first = (run / ARCHIVE).read_bytes()
    assert archive.pack(run).moved == 0  # nothing loose: nothing rewritten
    assert (run / ARCHIVE).read_bytes() == first

    assert archive.unpack(run).moved == 8
    assert _loose(run) == before and not (run / ARCHIVE).exists()
    archive.pack(run)
    assert (run / ARCHIVE).read_bytes() == first  # deterministic: same files, same bytes


def test_report_reads_packed_and_loose_alike(tmp_path: Path) -> None:
    loose = hand_run(tmp_path / "loose" / "run")  # with a missing trajectory
    packed = tmp_path / "packed" / "run"
    shutil.copytree(loose, packed)
    archive.pack(packed)
    assert not (packed / TRAJECTORIES).exists()
    data = [build(load_runs([d])) for d in (loose, packed)]
    assert data[0].trajectories == data[1].trajectories
    assert sum(v is None for v in data[1].trajectories.values()) == 1  # the missing one
    pages = []
    for d in (loose, packed):
        html = write_report([d], tmp_path / f"report-{d.parent.name}").read_text(encoding="utf-8")
        lines = [ln for ln in html.splitlines() if "Generated" not in ln]
        page = "\n".join(lines).replace(str(d.parent), "DIR")
        pages.append(re.sub(r"\b[mp][0-9a-f]{10}\b", "ID", page))  # matplotlib svg ids
    assert pages[0] == pages[1]


def test_summary_reads_packed_and_loose_alike(tmp_path: Path) -> None:
    def tables(root: Path) -> dict[str, bytes]:
        base = summary_run(root / "base", "react", {1: "lookup[y] then finish"})
        guided = summary_run(root / "q", "react-q", {0: "finish[yes]", 2: "search[a]"})
        if root.name == "packed":
            assert archive.main(["pack", str(root)]) == 0
            assert not list(root.rglob("*.jsonl.tmp")) and not list(root.rglob(TRAJECTORIES))
        names = ("s", "types", "cal", "costs")
        out = {n: root / f"{n}.csv" for n in names}
        argv = [str(base), str(guided), "--agents", "react-q", "--baselines", "react"]
        argv += ["--out", str(out["s"]), "--by-type", str(out["types"])]
        argv += ["--calibration", str(out["cal"]), "--costs", str(out["costs"])]
        assert summary_main(argv) == 0
        return {n: p.read_bytes() for n, p in out.items()}

    assert tables(tmp_path / "loose") == tables(tmp_path / "packed")


def test_resume_appends_loose_files_and_pack_folds_them_in(keychest: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(keychest, run)
    archive.pack(run)
    argv = ["--envs", "harness/KeyChest-v0", "--agents", "random", "expert", "--max-steps", "20"]
    argv += ["--out", str(run), "--leaderboard", "", "--resume", "--extend", "--episodes", "6"]
    assert run_main(argv) == 0
    assert len(_loose(run)) == 4  # seeds 4 and 5 of both agents, beside the archive
    assert len(RunStore(run).trajectory_names()) == 12
    fresh = tmp_path / "fresh"
    real_run(fresh, ["random", "expert"], 6)
    assert _all_steps(run).keys() == _all_steps(fresh).keys()
    done = archive.pack(run)
    assert (done.members, done.moved) == (12, 4) and not (run / TRAJECTORIES).exists()


def test_a_loose_file_wins_over_its_member(keychest: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(keychest, run)
    archive.pack(run)
    name = RunStore(run).members()[0]
    (run / TRAJECTORIES).mkdir()
    (run / TRAJECTORIES / name).write_text('{"t": 0, "action": "newer"}\n')
    assert RunStore(run).steps(name) == [{"t": 0, "action": "newer"}]
    archive.pack(run)
    assert RunStore(run).member(name) == b'{"t": 0, "action": "newer"}\n'


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        del data[len(data) // 2 :]
    else:  # flip bytes inside the first member's compressed data: its CRC fails
        for i in range(60, 80):
            data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "flipped"])
def test_a_damaged_archive_is_one_line_naming_it(
    keychest: Path, tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(keychest, run)
    archive.pack(run)
    _damage(run / ARCHIVE, how)
    damaged = (run / ARCHIVE).read_bytes()
    store = RunStore(run)
    with pytest.raises(BadArchive, match="not a readable trajectory archive") as info:
        for name in store.trajectory_names():
            store.steps(name)
    assert str(run / ARCHIVE) in str(info.value) and "\n" not in str(info.value)

    argv = [str(run), "--agents", "random", "--baselines", "expert", "--out", str(tmp_path / "s")]
    assert summary_main([*argv, "--costs", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(run / ARCHIVE) in err

    (run / TRAJECTORIES).mkdir()
    (run / TRAJECTORIES / "x.jsonl").write_text("{}\n")
    if how == "truncated":  # the directory itself is unreadable: refused before writing
        assert archive.main(["pack", str(run)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and str(run / ARCHIVE) in err
    else:  # the directory reads; the damaged member fails as it is copied into the new one
        assert archive.main(["pack", str(run)]) == 2
        assert str(run / ARCHIVE) in capsys.readouterr().err
    assert (run / ARCHIVE).read_bytes() == damaged and (run / TRAJECTORIES / "x.jsonl").exists()
    problems = load_runs([run])[0].problems
    assert how != "truncated" or any(str(run / ARCHIVE) in p for p in problems)


def test_packing_refuses_a_dir_a_live_run_holds(
    keychest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(keychest, run)
    before = _loose(run)
    with RunLock(run):
        assert archive.main(["pack", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "in use by process" in err and "pack" in err
    assert _loose(run) == before and not (run / ARCHIVE).exists()


def test_a_failed_pack_loses_nothing(
    keychest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    shutil.copytree(keychest, run)
    before = _loose(run)

    def bad(path: Path, sources: object) -> None:
        raise BadArchive(f"{str(path)!r} differs")

    monkeypatch.setattr(archive, "verify", bad)
    with pytest.raises(BadArchive):
        archive.pack(run)
    assert _loose(run) == before and not (run / ARCHIVE).exists()
    assert not list(run.glob("*.tmp"))


def test_cli_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert archive.main(["pack", str(tmp_path / "nowhere")]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert archive.main(["pack", str(tmp_path)]) == 2
    assert "no run dir under" in capsys.readouterr().err
