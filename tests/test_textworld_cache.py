"""The generated-game cache: reuse, rebuild of corrupt entries, concurrent builders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import envs  # noqa: F401 - registers the ids
from envs.textworld import generate
from envs.textworld.families import FAMILIES
from tests.textworld_helpers import TW_IDS, session_cache

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parent.parent
COIN = FAMILIES["coin_collector"]


@pytest.fixture
def tw_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's shared game cache."""
    return session_cache(tmp_path_factory)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of the generator (``generate.build``), which still runs."""
    calls: list[int] = []
    real = generate.build

    def counting(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(generate, "build", counting)
    return calls


def test_second_make_reuses_the_cache(tw_cache: Path, builds: list[int]) -> None:
    first = gym.make(TW_IDS["coin_collector"], cache_dir=str(tw_cache)).unwrapped
    obs, _ = first.reset(seed=0)
    made = len(builds)
    manifest = Path(first.game_path("test", 0)).parent / generate.MANIFEST
    stamp = manifest.stat().st_mtime_ns
    second = gym.make(TW_IDS["coin_collector"], cache_dir=str(tw_cache)).unwrapped
    assert second.reset(seed=0)[0] == obs
    assert len(builds) == made and manifest.stat().st_mtime_ns == stamp
    first.close()
    second.close()


def test_corrupt_or_partial_entries_are_rebuilt(
    tw_cache: Path, tmp_path: Path, builds: list[int]
) -> None:
    src = generate.entry_dir(COIN, None, "test", 0, tw_cache)
    generate.ensure_game(COIN, None, "test", 0, 1, tw_cache)
    final = generate.entry_dir(COIN, None, "test", 0, tmp_path)
    shutil.rmtree(final, ignore_errors=True)
    shutil.copytree(src, final)  # a cache holding a good copy
    key = generate.ensure_game(COIN, None, "test", 0, 1, tmp_path).content_key
    n = len(builds)
    z8 = final / "game.z8"
    z8.write_bytes(z8.read_bytes()[:1000])  # truncated
    assert generate.ensure_game(COIN, None, "test", 0, 1, tmp_path).content_key == key
    (final / "game.json").unlink()  # missing sibling
    assert generate.ensure_game(COIN, None, "test", 0, 1, tmp_path).content_key == key
    assert len(builds) == n + 2
    env = gym.make(TW_IDS["coin_collector"], cache_dir=str(tmp_path)).unwrapped
    _, info = env.reset(seed=0, options={"expert": True})
    assert info["expert_action"] and not list(final.parent.glob(".t*"))
    env.close()


def test_threads_building_one_game_build_it_once(tmp_path: Path, builds: list[int]) -> None:
    pytest.importorskip("textworld")
    refs: list[generate.GameRef] = []

    def work() -> None:
        refs.append(generate.ensure_game(COIN, None, "train", 5, 10, tmp_path))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refs) == 3 and len({(r.path, r.content_key) for r in refs}) == 1
    assert len(builds) == 1


def test_processes_building_one_game_agree(tmp_path: Path) -> None:
    pytest.importorskip("textworld")
    code = (
        "import sys; from envs.textworld import generate as g; "
        "from envs.textworld.families import FAMILIES; "
        "r = g.ensure_game(FAMILIES['coin_collector'], None, 'valid', 4, 10, sys.argv[1]); "
        "print(r.content_key)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-500:] for _, err in outs]
    keys = {out.strip() for out, _ in outs}
    assert len(keys) == 1
    entry = generate.entry_dir(COIN, None, "valid", 4, tmp_path)
    assert generate.load_entry(entry) is not None
    assert not list(entry.parent.glob(".t*"))
