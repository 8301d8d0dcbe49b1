"""Shared pieces of the TextWorld tests: one game cache per test session, an expert loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

TW_IDS = {
    "simple": "harness/TextWorld-Simple-v0",
    "coin_collector": "harness/TextWorld-CoinCollector-v0",
    "treasure_hunter": "harness/TextWorld-TreasureHunter-v0",
    "cooking": "harness/TextWorld-Cooking-v0",
}


def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's game cache: one folder under the session's base temp dir, so every test
    module shares the games the others generated (skips without textworld)."""
    pytest.importorskip("textworld")
    path = tmp_path_factory.getbasetemp() / "textworld-cache"
    path.mkdir(exist_ok=True)
    return path


def play_expert(
    env: Any, info: dict[str, Any], max_steps: int = 100
) -> tuple[dict[str, Any], float, int]:
    """Follow ``info['expert_action']`` until the episode ends; final info, reward sum, steps."""
    total, steps, done = 0.0, 0, False
    while not done and steps < max_steps:
        action = info["expert_action"]
        assert action, f"no expert action at step {steps} (info: {info})"
        _, reward, done, _, info = env.step(action)
        total += reward
        steps += 1
    return info, total, steps
