"""A run directory: resolved config, append-only episode log, one trajectory file per episode.

Trajectories are ``trajectories/<env>__<agent>__<seed>.jsonl`` while a run writes them; a
finished run dir may keep them packed instead as the members, same names and bytes, of one
``trajectories.zip`` (``python -m harness.archive pack``; format in ``harness.archive``).
``RunStore.trajectory`` reads both: a loose file wins over a member of the same name (it is
newer: packing removes the loose files it stores, and a resumed run writes loose files).

Crash safety: a trajectory is written to a temp file and renamed before its episode line is
appended; the episode line is one ``write`` on an O_APPEND descriptor followed by fsync (a
failed write is truncated away). A SIGKILL can leave at most a torn last line, which ``open``
cuts off; that episode reruns. Any other unreadable line is moved, byte for byte, to
``episodes.quarantine.jsonl``. One process writes a run dir at a time (``RunLock``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import logging
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from envs.files import append_line, atomic_write
from harness import __version__
from harness.config import RunConfig, to_toml
from harness.errors import InputError, one_line
from harness.records import BadRecord, EpisodeRecord, NewerSchema, StepRecord, parse_record

EPISODES = "episodes.jsonl"
QUARANTINE = "episodes.quarantine.jsonl"
CONFIG = "config.toml"
TRAJECTORIES = "trajectories"
ARCHIVE = "trajectories.zip"
LOCK = "run.lock"
STORAGE_ERRNOS = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space",
    errno.EROFS: "make it writable",
    errno.EACCES: "fix its permissions",
    errno.EPERM: "fix its permissions",
    errno.EISDIR: "name a file, not a directory",
    errno.ENOTDIR: "name a file in an existing directory",
}


class RunDirError(InputError, RuntimeError):
    """The run directory cannot be used as asked (exists without --resume, unwritable)."""


class StorageError(RunDirError):
    """Writing results failed (disk full, read-only, no permission); nothing written is lost."""


class BadLine(RunDirError, ValueError):
    """A results file (a trajectory, say) with a line that is not JSON; names file and line."""


class BadArchive(RunDirError, ValueError):
    """A ``trajectories.zip`` that cannot be read (truncated, corrupted, not a zip)."""


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The JSON lines of ``path`` (blank lines skipped); BadLine naming the file and line."""
    return parse_jsonl(Path(path).read_text(encoding="utf-8"), repr(str(path)))


def parse_jsonl(text: str, where: str) -> list[dict[str, Any]]:
    """The JSON lines of ``text`` (blank lines skipped); BadLine naming ``where`` and the line."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as exc:
            raise BadLine(
                f"{where} line {n} is not valid JSON ({exc}): fix or delete that line"
            ) from None
    return out


def bad_archive(path: Path, exc: BaseException) -> BadArchive:
    """The one-line error for an unreadable archive, naming it and what to do."""
    return BadArchive(
        f"{str(path)!r} is not a readable trajectory archive ({one_line(exc)[:160]}): "
        "restore it from a good copy (git checkout, a backup)"
    )


ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)
"""What reading a damaged zip raises (a bad CRC is a BadZipFile)."""


class RunLocked(RunDirError):
    """Another live process writes this run directory."""


@contextlib.contextmanager
def storage_errors(path: str | Path, then: str = "") -> Iterator[None]:
    """Turn a storage OSError (ENOSPC, EROFS, EACCES, ...) into a one-line StorageError."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in STORAGE_ERRNOS:
            raise
        name = errno.errorcode.get(exc.errno or 0, "?")
        todo = STORAGE_ERRNOS[exc.errno or 0]
        where = exc.filename if isinstance(exc.filename, str) else str(path)
        raise StorageError(
            f"cannot write {where!r}: {exc.strerror or exc} ({name}); {todo}"
            + (f", then {then}" if then else "")
        ) from None


class RunLock:
    """An exclusive ``flock`` on ``<dir>/run.lock``, held while a process writes the dir.

    The kernel releases it when the holder exits, however it exits (kill -9 included)."""

    def __init__(
        self,
        root: str | Path,
        todo: str = "wait for it to finish (or stop it), or choose another --out",
    ) -> None:
        self.path = Path(root) / LOCK
        self.todo = todo
        self._fh: IO[str] | None = None

    def _locked(self, holder: str) -> RunLocked:
        return RunLocked(
            f"run directory {str(self.path.parent)!r} is in use by process {holder or 'unknown'}: "
            + self.todo
        )

    def check(self) -> None:
        """Raise RunLocked if a live process holds the lock (changes nothing on disk)."""
        try:
            fh = open(self.path, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError:
            return  # no lock file: nobody holds it
        with fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                raise self._locked(fh.read().strip()) from None

    def acquire(self) -> RunLock:
        """Take the lock, or raise RunLocked naming the holder's pid."""
        with storage_errors(self.path):
            fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            raise self._locked(holder) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        """Release the lock (closing the file releases the flock)."""
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def remove_stale_temps(*dirs: Path) -> None:
    """Delete ``*.tmp`` files left by a killed writer (call only while holding the lock)."""
    for d in dirs:
        for tmp in d.glob("*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _warn(msg: str) -> None:
    logging.getLogger("qharness").warning("[store] warning: %s", msg)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "x"


def trajectory_name(env_id: str, agent: str, seed: int) -> str:
    """File name of an episode's trajectory inside ``trajectories/``."""
    return f"{_safe(env_id)}__{_safe(agent)}__{seed}.jsonl"


class RunStore:
    """Reads and writes one run directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.episodes_path = self.root / EPISODES
        self.traj_dir = self.root / TRAJECTORIES
        self.archive_path = self.root / ARCHIVE
        self.lock = RunLock(self.root)
        self._archive: zipfile.ZipFile | None = None

    def open(self, resume: bool) -> list[EpisodeRecord]:
        """Lock the dir (creating it) and, with ``resume``, load finished episodes: a torn
        last line is cut, other unreadable lines are quarantined."""
        self.lock.check()  # a live writer is the first thing to report
        if self.episodes_path.exists() and not resume:
            raise RunDirError(
                f"run directory {str(self.root)!r} already holds results: pass --resume to "
                "continue it, or choose another --out"
            )
        try:
            self.traj_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(
                f"cannot create run directory {str(self.root)!r}: {exc}; choose another --out"
            ) from None
        self.lock.acquire()
        try:
            remove_stale_temps(self.root, self.traj_dir)
            with storage_errors(self.root, "rerun with --resume"):
                return self.load(repair=True)
        except BaseException:
            self.lock.release()
            raise

    def close(self) -> None:
        """Release the run dir's lock (and close its archive, if one was read)."""
        self.lock.release()
        self.close_archive()

    def close_archive(self) -> None:
        """Close the archive if one was opened (it is reopened on the next read)."""
        archive, self._archive = self._archive, None
        if archive is not None:
            archive.close()

    def load(self, repair: bool = False) -> list[EpisodeRecord]:
        """Episode records in the log. With ``repair`` (lock held): cut a torn last line and
        move unreadable lines to the quarantine file. Raises RunDirError on a newer schema."""
        if not self.episodes_path.exists():
            return []
        raw = self.episodes_path.read_bytes()
        records: list[EpisodeRecord] = []
        kept: list[bytes] = []
        bad: list[bytes] = []
        for n, line in enumerate(io.BytesIO(raw), 1):  # on b'\n' only (not a bare \r)
            if not line.endswith(b"\n"):
                break  # a torn tail: the episode had not finished
            try:
                records.append(parse_record(json.loads(line)))
                kept.append(line)
            except NewerSchema as exc:
                raise RunDirError(
                    f"{str(self.episodes_path)!r} line {n}: {exc}; upgrade qharness to read "
                    "or resume this run"
                ) from None
            except (ValueError, TypeError, BadRecord) as exc:
                bad.append(line)
                where = f"{str(self.episodes_path)!r} line {n}"
                moved = f"moved to {QUARANTINE}; its episode will be re-run" if repair else ""
                _warn(f"{where} cannot be read ({one_line(exc)[:160]}); {moved or 'skipped'}")
        if repair and (bad or len(b"".join(kept)) < len(raw)):
            self._repair(b"".join(kept), b"".join(bad))
        return records

    def _repair(self, kept: bytes, bad: bytes) -> None:
        """Quarantine ``bad`` (appended, kept byte for byte), then rewrite the log as ``kept``."""
        if bad:
            append_line(self.root / QUARANTINE, bad)
            atomic_write(self.episodes_path, kept)
            return
        with open(self.episodes_path, "r+b") as fh:  # only a torn tail: cut it
            fh.truncate(len(kept))
            fh.flush()
            os.fsync(fh.fileno())

    def write_config(self, cfg: RunConfig, extra: dict[str, Any] | None = None) -> None:
        """Write the resolved config (``config.toml``, readable by ``--config``) and run info."""
        with storage_errors(self.root / CONFIG, "rerun with --resume"):
            atomic_write(self.root / CONFIG, to_toml(cfg))
        if extra is not None:
            with storage_errors(self.root / "run.json", "rerun with --resume"):
                atomic_write(self.root / "run.json", json.dumps(extra, indent=2, sort_keys=True))

    def append(self, record: EpisodeRecord, steps: Iterable[StepRecord | dict[str, Any]]) -> None:
        """Persist one finished episode: trajectory first, then its episode line."""
        lines = [json.dumps(s.to_dict() if isinstance(s, StepRecord) else s) for s in steps]
        name = trajectory_name(record.env_id, record.agent, record.seed)
        data = {**record.to_dict(), "harness_version": record.harness_version or __version__}
        then = "continue the run with --resume"
        with storage_errors(self.traj_dir / name, then):
            atomic_write(self.traj_dir / name, "".join(line + "\n" for line in lines))
        with storage_errors(self.episodes_path, then):
            append_line(self.episodes_path, (json.dumps(data) + "\n").encode())

    def trajectory(self, env_id: str, agent: str, seed: int) -> list[dict[str, Any]]:
        """The stored steps of one episode, loose or packed; FileNotFoundError when neither
        holds it, BadArchive / BadLine (naming the file) when it cannot be read."""
        return self.steps(trajectory_name(env_id, agent, seed))

    def steps(self, name: str) -> list[dict[str, Any]]:
        """The steps stored under a trajectory file name (see ``trajectory``)."""
        loose = self.traj_dir / name
        if loose.is_file() or not self.archive_path.is_file():
            return read_jsonl(loose)
        where = f"{str(self.archive_path)!r} member {name!r}"
        return parse_jsonl(self.member(name).decode("utf-8"), where)

    def trajectory_names(self) -> list[str]:
        """File names of every stored trajectory, loose or packed, sorted."""
        loose = {p.name for p in self.traj_dir.glob("*.jsonl")} if self.traj_dir.is_dir() else set()
        return sorted(loose | set(self.members()))

    def members(self) -> list[str]:
        """Names in ``trajectories.zip`` (none without one); BadArchive if it is damaged."""
        return [] if not self.archive_path.is_file() else self._open_archive().namelist()

    def member(self, name: str) -> bytes:
        """One member's bytes (CRC checked); FileNotFoundError if the archive lacks it."""
        archive = self._open_archive()
        try:
            return archive.read(name)
        except KeyError:
            raise FileNotFoundError(
                errno.ENOENT, f"no trajectory {name!r} in {str(self.archive_path)!r}"
            ) from None
        except ARCHIVE_ERRORS as exc:
            raise bad_archive(self.archive_path, exc) from None

    def _open_archive(self) -> zipfile.ZipFile:
        """The archive, opened once per store (its directory read once: random access)."""
        if self._archive is None:
            try:
                self._archive = zipfile.ZipFile(self.archive_path)
            except ARCHIVE_ERRORS as exc:
                raise bad_archive(self.archive_path, exc) from None
        return self._archive
