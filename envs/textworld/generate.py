"""Deterministic generation of TextWorld challenge games with an atomic, verified disk cache.

Entry layout: ``<root>/textworld/g<GEN_VERSION>-tw<version>/<challenge>/<label>/<split>/<index>/``
holding ``game.z8``, ``game.json`` (TextWorld's game data, needed for admissible and expert
commands) and ``manifest.json``. An entry is built in a temp dir beside its final place and
published with one ``rename``; the manifest, written last, holds each file's sha256, so a
truncated or missing file fails verification and the entry is rebuilt. Builders of the same
entry (threads or processes) serialise on a per-entry file lock; the second finds it built.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from envs.base import package_version
from envs.cache import cache_dir
from envs.textworld.families import Difficulty, Family, game_seed

GEN_VERSION = 1
GAME_FILES = ("game.z8", "game.json")
MANIFEST = "manifest.json"
MAX_ATTEMPTS = 5  # a seed the generator cannot build falls back to derived seeds
STALE_S = 3600.0  # temp/trash dirs older than this are leftovers of a killed process
_GEN_LOCK = threading.Lock()  # TextWorld's generators share the global textworld.g_rng


@dataclass(frozen=True)
class GameRef:
    """A verified cached game: its ``.z8`` path and manifest."""

    path: str
    manifest: Mapping[str, Any]

    @property
    def content_key(self) -> str:
        """Hash of the game's world, quests, texts and objective (not its seeds or file bytes)."""
        return str(self.manifest["content_key"])


def entry_dir(
    fam: Family,
    difficulty: Difficulty | None,
    split: str,
    index: int,
    root: str | os.PathLike[str] | None = None,
) -> Path:
    """Where game ``index`` of ``split`` lives in the cache (parent dirs created)."""
    label, _ = fam.settings(difficulty, split)
    version = f"g{GEN_VERSION}-tw{package_version('textworld')}"
    return cache_dir("textworld", version, fam.challenge, label, split, root=root) / f"{index:06d}"


def ensure_game(
    fam: Family,
    difficulty: Difficulty | None,
    split: str,
    index: int,
    tasks_per_split: int,
    root: str | os.PathLike[str] | None = None,
) -> GameRef:
    """The cached game, generated (and published atomically) if missing or corrupt."""
    label, settings = fam.settings(difficulty, split)
    seed = game_seed(split, index, tasks_per_split)
    final = entry_dir(fam, difficulty, split, index, root)
    ref = load_entry(final, seed)
    if ref is not None:
        return ref
    with _entry_lock(final.parent / f".{final.name}.lock"):
        ref = load_entry(final, seed)  # another builder may have finished meanwhile
        if ref is not None:
            return ref
        _sweep(final.parent)
        discard(final)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
        try:
            meta = {"family": fam.name, "label": label, "split": split, "index": index}
            build(fam.challenge, settings, seed, tmp, meta)
            return publish(tmp, final, seed)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def build(
    challenge: str, settings: Mapping[str, Any], seed: int, out: Path, meta: Mapping[str, Any]
) -> None:
    """Generate and compile one game into ``out`` (game files, then the manifest)."""
    import textworld
    import textworld.challenges
    from textworld.generator import compile_game

    _, make, _ = textworld.challenges.CHALLENGES[challenge]
    error: Exception | None = None
    for attempt in range(MAX_ATTEMPTS):
        options = textworld.GameOptions()
        options.seeds = seed if attempt == 0 else _derived_seeds(seed, attempt)
        options.path = str(out / GAME_FILES[0])
        options.force_recompile = True
        t0, c0 = time.perf_counter(), _cpu()
        try:
            with _GEN_LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Jericho's "not fully supported" while checking
                textworld.g_rng.set_seed(seed + attempt)
                game = make(settings=dict(settings), options=options)
        except Exception as exc:  # generator could not build this seed: try a derived one
            error = exc
            continue
        t1, c1 = time.perf_counter(), _cpu()
        compile_game(game, options)
        t2, c2 = time.perf_counter(), _cpu()
        break
    else:
        raise RuntimeError(f"{challenge} could not generate seed {seed}: {error}") from error
    (out / "game.ni").unlink(missing_ok=True)  # the Inform 7 source: not needed to play
    data = json.loads((out / GAME_FILES[1]).read_text())
    manifest = {
        **meta,
        "challenge": challenge,
        "settings": dict(settings),
        "seed": seed,
        "attempt": attempt,
        "textworld": package_version("textworld"),
        "gen_s": round(t1 - t0, 4),
        "compile_s": round(t2 - t1, 4),
        "gen_cpu_s": round(c1 - c0, 4),
        "compile_cpu_s": round(c2 - c1, 4),
        "objective": game.objective,
        "max_score": game.max_score,
        "content_key": content_key(data),
        "files": {name: _sha256(out / name) for name in GAME_FILES},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))


def content_key(game_data: Mapping[str, Any]) -> str:
    """Hash of what makes two games the same game (world, quests, texts, objective)."""
    core = {k: game_data.get(k) for k in ("world", "quests", "infos", "objective")}
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:16]


def load_entry(final: Path, seed: int | None = None) -> GameRef | None:
    """The entry at ``final`` if its manifest and every file check out, else None."""
    try:
        manifest = json.loads((final / MANIFEST).read_text())
        files = manifest["files"]
        if set(files) != set(GAME_FILES) or (seed is not None and manifest["seed"] != seed):
            return None
        if any(_sha256(final / name) != digest for name, digest in files.items()):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return GameRef(str(final / GAME_FILES[0]), manifest)


def publish(tmp: Path, final: Path, seed: int) -> GameRef:
    """Move a built entry into place with one rename; an intact entry already there wins."""
    for _ in range(3):
        try:
            os.rename(tmp, final)
        except OSError:  # final exists (not empty): keep it if intact, else clear it and retry
            ref = load_entry(final, seed)
            if ref is not None:
                return ref
            discard(final)
            continue
        ref = load_entry(final, seed)
        if ref is not None:
            return ref
    raise RuntimeError(f"could not publish the TextWorld game cache entry {final}")


def discard(final: Path) -> None:
    """Remove a (corrupt) entry: rename it aside first so no reader sees it half-deleted."""
    trash = final.parent / f".trash-{final.name}-{uuid.uuid4().hex[:8]}"
    try:
        os.rename(final, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def _sweep(parent: Path) -> None:
    """Delete temp and trash dirs left by killed processes."""
    now = time.time()
    for p in parent.glob(".t*-*"):
        with contextlib.suppress(OSError):
            if p.is_dir() and now - p.stat().st_mtime > STALE_S:
                shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def _entry_lock(path: Path) -> Iterator[None]:
    """An exclusive lock across threads and processes (a no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: rename-based publication still holds
        yield
        return
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _derived_seeds(seed: int, attempt: int) -> dict[str, int]:
    rng = np.random.default_rng([seed, attempt])
    return {k: int(rng.integers(65635)) for k in ("map", "objects", "quest", "grammar")}


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the Inform compilers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
