"""``python -m harness.archive pack|unpack DIR ...``: a run dir's trajectories as one archive.

Format: ``<run dir>/trajectories.zip``, a plain zip whose members are the run's trajectory
files, named as in ``trajectories/`` (``<env>__<agent>__<seed>.jsonl``) and holding the same
bytes, each deflated on its own. Zip rather than ``tar.gz`` or one ``.jsonl.gz``: its central
directory gives random access (reading one episode's steps inflates that member only, as the
report and ``harness.analysis.summary`` do per episode), every member carries its own CRC (a
damaged archive is found and named on read), Python reads it with ``zipfile`` and anyone with
``unzip``. A solid ``tar.gz`` is about a quarter smaller, but must be inflated from the start
to reach any member. Archives are deterministic (members sorted, fixed timestamps and modes):
packing the same files again writes the same bytes, so a committed archive only changes in
git when its trajectories do.

``pack`` (holding the run dir's lock, so never beside a live run): stores every loose
trajectory, together with the members of an existing archive (a loose file replaces the
member of its name: it is newer), into a new archive written to a temp file and renamed into
place only after every member was read back byte-identical to its source; only then are the
loose files removed. Any failure leaves the run dir as it was. ``unpack`` writes the members
back as loose files (a loose file already there is kept) and then removes the archive.

Resuming a packed run dir needs no unpacking: ``harness.run --resume`` writes new
trajectories as loose files beside the archive, every reader sees both, and packing again
folds them in. A DIR that is not a run dir (no ``episodes.jsonl``, ``trajectories/`` or
archive) means every run dir below it. Exit codes: 0 done, 2 bad input (one line; nothing
changed in the run dir named).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from envs.files import atomic_write
from harness.errors import InputError
from harness.store import (
    ARCHIVE,
    ARCHIVE_ERRORS,
    EPISODES,
    TRAJECTORIES,
    RunDirError,
    RunLock,
    RunStore,
    bad_archive,
    remove_stale_temps,
    storage_errors,
)

EPOCH = (1980, 1, 1, 0, 0, 0)
"""Every member's timestamp (zip's earliest), so an archive depends on its contents only."""
LEVEL = 9


@dataclass(frozen=True)
class Packed:
    """What ``pack`` or ``unpack`` did to one run dir."""

    run_dir: Path
    members: int
    loose_bytes: int
    archive_bytes: int
    moved: int


def is_run_dir(path: Path) -> bool:
    """A dir holding an episode log, a ``trajectories/`` dir or an archive."""
    return any((path / n).exists() for n in (EPISODES, TRAJECTORIES, ARCHIVE))


def run_dirs(paths: Sequence[str | Path]) -> list[Path]:
    """The run dirs named by ``paths``: a run dir itself, or every run dir below a dir."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.is_dir():
            raise RunDirError(f"{str(p)!r} is not a directory: give run dirs")
        if is_run_dir(p):
            found.append(p)
            continue
        below = sorted({q.parent for n in (EPISODES, ARCHIVE) for q in p.rglob(n)})
        if not below:
            raise RunDirError(f"no run dir under {str(p)!r} (none holds {EPISODES} or {ARCHIVE})")
        found.extend(below)
    return list(dict.fromkeys(found))


def zip_info(name: str) -> zipfile.ZipInfo:
    """A member header that depends only on ``name`` (fixed time, mode, system)."""
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever the packing machine
    info.external_attr = 0o644 << 16
    return info


def build_archive(sources: dict[str, Callable[[], bytes]]) -> bytes:
    """A deterministic zip of ``name -> read()`` sources, members in name order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(sources):
            zf.writestr(zip_info(name), sources[name](), compresslevel=LEVEL)
    return buf.getvalue()


def verify(path: Path, sources: dict[str, Callable[[], bytes]]) -> None:
    """Raise BadArchive unless ``path`` holds exactly ``sources``, each byte-identical."""
    try:
        with zipfile.ZipFile(path) as zf:
            if sorted(zf.namelist()) != sorted(sources):
                raise zipfile.BadZipFile("its members differ from the files packed")
            for name, read in sources.items():
                if zf.read(name) != read():
                    raise zipfile.BadZipFile(f"member {name!r} differs from its source")
    except ARCHIVE_ERRORS as exc:
        raise bad_archive(path, exc) from None


def _locked(root: Path) -> tuple[RunStore, bool]:
    """The run dir's store, its lock held; and whether the lock file was made here."""
    store = RunStore(root)
    store.lock = RunLock(root, todo="pack or unpack it once that run has finished")
    made = not store.lock.path.exists()
    store.lock.acquire()
    return store, made


def _unlock(store: RunStore, made: bool) -> None:
    if made:  # leave no run.lock behind in a dir that had none
        store.lock.path.unlink(missing_ok=True)
    store.close()


def pack(root: str | Path) -> Packed:
    """Pack ``root``'s loose trajectories (with its archive's members) into one archive."""
    store, made = _locked(Path(root))
    try:
        with storage_errors(store.archive_path, "pack again"):
            return _pack(store)
    finally:
        _unlock(store, made)


def _pack(store: RunStore) -> Packed:
    if store.traj_dir.is_dir():
        remove_stale_temps(store.traj_dir)
    loose = sorted(store.traj_dir.glob("*.jsonl")) if store.traj_dir.is_dir() else []
    old = store.members()  # BadArchive here: a damaged archive is never rewritten
    size = store.archive_path.stat().st_size if old else 0
    if not loose:
        return Packed(store.root, len(old), 0, size, 0)
    sources: dict[str, Callable[[], bytes]] = {n: _member(store, n) for n in old}
    sources.update({p.name: p.read_bytes for p in loose})
    tmp = store.root / f"{ARCHIVE}.{os.getpid()}.tmp"
    try:
        atomic_write(tmp, build_archive(sources))
        verify(tmp, sources)
        store.close_archive()  # the old archive is about to be replaced
        os.replace(tmp, store.archive_path)
    finally:
        tmp.unlink(missing_ok=True)
    loose_bytes = sum(p.stat().st_size for p in loose)
    for p in loose:
        p.unlink()
    with contextlib.suppress(OSError):  # a trajectories/ holding anything else stays
        store.traj_dir.rmdir()
    size = store.archive_path.stat().st_size
    return Packed(store.root, len(sources), loose_bytes, size, len(loose))


def _member(store: RunStore, name: str) -> Callable[[], bytes]:
    return lambda: store.member(name)


def unpack(root: str | Path) -> Packed:
    """Write ``root``'s archive members back as loose trajectories, then remove the archive."""
    store, made = _locked(Path(root))
    try:
        with storage_errors(store.traj_dir, "unpack again"):
            return _unpack(store)
    finally:
        _unlock(store, made)


def _unpack(store: RunStore) -> Packed:
    names = store.members()
    if not names:
        return Packed(store.root, 0, 0, 0, 0)
    size = store.archive_path.stat().st_size
    store.traj_dir.mkdir(exist_ok=True)
    moved = 0
    for name in names:
        if Path(name).name != name or not name.endswith(".jsonl"):
            raise bad_archive(store.archive_path, ValueError(f"unexpected member {name!r}"))
        target = store.traj_dir / name
        if not target.exists():  # a loose file is newer than the member
            atomic_write(target, store.member(name))
            moved += 1
    store.close_archive()
    store.archive_path.unlink()
    return Packed(store.root, len(names), 0, size, moved)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m harness.archive", description=__doc__)
    p.add_argument("action", choices=("pack", "unpack"))
    p.add_argument("dirs", nargs="+", metavar="DIR", help="run dirs, or dirs holding run dirs")
    ns = p.parse_args(argv)
    try:
        for root in run_dirs(ns.dirs):
            done = pack(root) if ns.action == "pack" else unpack(root)
            print(_line(ns.action, done))
    except InputError as exc:  # RunLocked, BadArchive, StorageError: one line, dir unchanged
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _line(action: str, d: Packed) -> str:
    where = f"[archive] {d.run_dir}"
    if action == "unpack":
        return f"{where}: {d.moved} of {d.members} trajectories written to {TRAJECTORIES}/"
    if not d.moved:
        return f"{where}: no loose trajectories ({d.members} already in {ARCHIVE})"
    return (
        f"{where}: {d.moved} trajectories packed ({d.members} in {ARCHIVE}), "
        f"{d.loose_bytes:,} -> {d.archive_bytes:,} bytes"
    )


if __name__ == "__main__":
    sys.exit(main())
