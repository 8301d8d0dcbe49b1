"""Fault injection benchmark: per fault kind, faults injected and finished episodes lost.

Each round runs ``harness.run`` (KeyChest, random agent) with one fault planted at a random
point of the write path (``tests/fault_driver.py``: SIGKILL before/during the episode append,
during a trajectory or CSV write; ENOSPC, EROFS, EACCES), or a garbled middle line of the
episode log, then resumes once. Episodes finished before the fault whose line is not kept
byte for byte afterwards (discarded, or re-run: re-running a paid LLM episode is a loss even
when it reproduces) count as lost; an episode with two lines counts as doubled. The last
line is ``lost=<n>`` (must be 0).

Then the hostile-input cases: the same TextWorld run with ``--workers 2`` and ``4`` against
``--workers 1`` (episodes that errored, records that differ: both must be 0), and foreign files
(``--out`` on a directory of another tool's ``episodes.csv`` / ``leaderboard.csv`` /
``config.toml``, ``--leaderboard`` on a text file or a CSV of another schema): exit code and
files changed (must be 2 and 0).

    python benchmarks/faults.py [--rounds 2] [--episodes 8] [--skip-textworld]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fault_driver import KINDS, ONCE  # noqa: E402 - after the path is set

GARBLE = "garbled-line"


def run(args: list[str], out: Path, fault: tuple[str, int] | None = None) -> int:
    """One ``harness.run`` (through the fault driver when ``fault`` is set); its exit code."""
    cmd = [sys.executable, "-m", "harness.run"]
    if fault:
        cmd = [sys.executable, "-m", "tests.fault_driver", fault[0], str(fault[1]), "--"]
    cmd += [*args, "--out", str(out)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300).returncode


def finished(out: Path) -> dict[str, bytes]:
    """Complete, readable episode lines by key (agent|seed), byte for byte."""
    path = out / "episodes.jsonl"
    recs: dict[str, bytes] = {}
    for line in path.read_bytes().splitlines(keepends=True) if path.exists() else []:
        try:
            rec = json.loads(line) if line.endswith(b"\n") else None
        except ValueError:
            continue
        if isinstance(rec, dict):
            recs[f"{rec['agent']}|{rec['seed']}"] = line
    return recs


def doubled(out: Path) -> int:
    """Episode lines beyond one per episode."""
    lines = (out / "episodes.jsonl").read_bytes().splitlines()
    keys = [json.loads(x)["seed"] for x in lines if x.strip().startswith(b"{")]
    return len(keys) - len(set(keys))


def one_round(
    kind: str, args: list[str], episodes: int, out: Path, rng: random.Random
) -> tuple[int, int, bool]:
    """Inject one fault of ``kind``, resume; finished episodes lost, doubled, and whether the
    fault fired (the faulted run did not exit 0)."""
    if kind == GARBLE:
        assert run(args, out) == 0
        before = finished(out)
        log = out / "episodes.jsonl"
        lines = log.read_bytes().splitlines(keepends=True)
        i = rng.randrange(1, len(lines) - 1)
        hit = json.loads(lines[i])
        lines[i] = b'{"garbled": \n'
        log.write_bytes(b"".join(lines))
        before.pop(f"{hit['agent']}|{hit['seed']}")  # unreadable now: it is re-run
        fired = True
    else:
        fired = run(args, out, (kind, 1 if kind in ONCE else rng.randint(1, episodes))) != 0
        before = finished(out)
    if run([*args, "--resume"], out) != 0:
        return len(before), 0, fired
    kept = set((out / "episodes.jsonl").read_bytes().splitlines(keepends=True))
    return sum(line not in kept for line in before.values()), doubled(out), fired


TEXTWORLD = ["--envs", "harness/TextWorld-CoinCollector-v0", "--agents", "random"]
TEXTWORLD += ["--episodes", "4", "--max-steps", "20", "--leaderboard", ""]


def played(out: Path) -> tuple[list[dict[str, object]], int]:
    """The records (timing dropped, by key) and how many errored."""
    lines = (out / "episodes.jsonl").read_text().splitlines()
    recs = [{k: v for k, v in json.loads(x).items() if k != "wall_s"} for x in lines]
    recs.sort(key=lambda r: (str(r["agent"]), int(str(r["seed"]))))
    return recs, sum(bool(r["error"]) for r in recs)


def parallel_textworld(tmp: Path) -> int:
    """``--workers 2`` and ``4`` against ``1`` on TextWorld; rows, and the bad-episode count."""
    want, _ = played(tmp / "tw-1") if run(TEXTWORLD, tmp / "tw-1") == 0 else ([], 1)
    bad = 0
    for workers in (2, 4):
        code = run([*TEXTWORLD, "--workers", str(workers)], tmp / f"tw-{workers}")
        got, errors = played(tmp / f"tw-{workers}")
        differ = sum(a != b for a, b in zip(got, want, strict=False)) + abs(len(got) - len(want))
        print(f"{f'textworld workers={workers}':<26} exit={code} errors={errors} differ={differ}")
        bad += errors + differ + (code != 0)
    return bad


FOREIGN = {
    "episodes.csv": "id,score\n1,0.5\n",
    "leaderboard.csv": "model,accuracy\nx,0.9\n",
    "config.toml": 'title = "another tool"\n',
}


def foreign_files(args: list[str], tmp: Path) -> int:
    """Runs aimed at other tools' files; rows, and how many exited other than 2 or changed a
    byte (a run dir made for a refused --leaderboard counts as a change)."""
    bad = 0
    cases: list[tuple[str, list[str], Path]] = []
    for name, text in FOREIGN.items():
        d = tmp / f"foreign-{name}"
        d.mkdir()
        (d / name).write_text(text)
        cases.append((f"--out with {name}", args, d))
    for name, text in (("notes.txt", "my notes\n"), ("other.csv", FOREIGN["leaderboard.csv"])):
        board = tmp / name
        board.write_text(text)
        cases.append((f"--leaderboard {name}", [*args[:-2], "--leaderboard", str(board)], board))
    for label, flags, target in cases:
        before = snapshot(target)
        out = target if target.is_dir() else tmp / f"out-{target.name}"
        code = run(flags, out)
        after = snapshot(target)
        same = before.keys() & after.keys()
        changed = len(before.keys() ^ after.keys()) + sum(before[k] != after[k] for k in same)
        changed += 0 if target.is_dir() else out.exists()
        print(f"{label:<26} exit={code} changed={changed}")
        bad += (code != 2) + changed
    return bad


def snapshot(target: Path) -> dict[str, bytes]:
    """Every file's bytes (a file, or every file below a directory)."""
    files = [target] if target.is_file() else [p for p in target.rglob("*") if p.is_file()]
    return {str(p): p.read_bytes() for p in files}


def main() -> int:
    """Print a row per fault kind and hostile case, then ``lost=<n>``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2, help="faults injected per kind")
    p.add_argument("--episodes", type=int, default=8)
    p.add_argument("--skip-textworld", action="store_true", help="no parallel TextWorld case")
    ns = p.parse_args()
    args = ["--envs", "harness/KeyChest-v0", "--agents", "random", "--seed", "3"]
    args += ["--episodes", str(ns.episodes), "--max-steps", "8", "--leaderboard", ""]
    rng = random.Random(14)
    total = twice = 0
    print(f"{'fault':<22} {'injected':>8} {'lost':>5} {'doubled':>7}")
    with tempfile.TemporaryDirectory(prefix="qharness-faults-") as tmp:
        for kind in (*KINDS, GARBLE):
            rounds = [
                one_round(kind, args, ns.episodes, Path(tmp) / f"{kind}-{r}", rng)
                for r in range(ns.rounds)
            ]
            lost, dup = sum(r[0] for r in rounds), sum(r[1] for r in rounds)
            fired = sum(r[2] for r in rounds)
            total, twice = total + lost, twice + dup
            print(f"{kind:<22} {fired:>8} {lost:>5} {dup:>7}", flush=True)
        hostile = 0 if ns.skip_textworld else parallel_textworld(Path(tmp))
        hostile += foreign_files(args, Path(tmp))
    print(f"hostile={hostile}")
    print(f"doubled={twice}")
    print(f"lost={total}")
    return 0 if total == twice == hostile == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
