"""The text-env contract over every registered ``harness/`` id (``envs.checker.check_text_env``),
the checker's own power to find each broken rule, and env-specific properties."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import envs  # noqa: F401 - registers the harness/ ids
from envs.base import ADMISSIBLE_ACTIONS, INVALID_ACTION, REQUIRED_INFO_KEYS, TASK_ID
from envs.checker import ContractError, check_text_env
from envs.registration import EnvSpec, harness_ids, missing, spec
from envs.toy import KeyChestEnv
from tests.fakes import FakeCountEnv


def _param(env_id: str) -> Any:
    """``env_id`` as a pytest param, skipped (with the reason) where it cannot run here."""
    s = spec(env_id)
    if s is None:  # registered outside ENV_TABLE: checked all the same
        return pytest.param(env_id)
    if s.data_env:
        why = f"needs user data (${s.data_env}); its own test module checks it with fixture data"
        return pytest.param(env_id, marks=pytest.mark.skip(reason=why))
    gone = missing(s)  # a package of ``requires`` is not installed
    if gone:
        return pytest.param(env_id, marks=pytest.mark.skip(reason=f"{env_id} {gone}"))
    return pytest.param(env_id)


IDS = [_param(i) for i in harness_ids()]


def test_some_ids_are_registered() -> None:
    assert "harness/KeyChest-v0" in harness_ids()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"data_env": "FOO_DATA"}, "own test module"),
        ({"requires": ("no_such_module_xyz",)}, "no_such_module_xyz"),
        ({}, None),
    ],
)
def test_skip_logic(
    monkeypatch: pytest.MonkeyPatch, row: dict[str, Any], reason: str | None
) -> None:
    """Data-env ids and ids missing a package are skipped with a reason; others run."""
    fake = EnvSpec("harness/Foo-v0", "x:Y", "fake row", **row)
    monkeypatch.setattr(sys.modules[__name__], "spec", lambda env_id: fake)
    marks = _param("harness/Foo-v0").marks
    if reason is None:
        assert not marks
    else:
        assert reason in marks[0].kwargs["reason"]


@pytest.mark.parametrize("env_id", IDS)
def test_check_text_env(env_id: str) -> None:
    """The library checker passes: Gymnasium's check_env (warnings included), info keys after
    reset and every step, same seed same task, splits, nonsense actions, snapshot/restore."""
    check_text_env(env_id)


class _DefaultTextSpaceEnv(FakeCountEnv):
    """Fake env with gymnasium's default Text space (min_length=1, alphanumeric)."""

    def __init__(self) -> None:
        super().__init__()
        self.observation_space = spaces.Text(64)  # type: ignore[assignment]


class _NoScoreEnv(FakeCountEnv):
    """Fake env whose step info lacks ``score`` and has a non-bool ``won``."""

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        info = {k: v for k, v in info.items() if k != "score"}
        return obs, reward, terminated, truncated, {**info, "won": int(info["won"])}


class _RandomTaskEnv(FakeCountEnv):
    """Fake env that ignores the seed when choosing its task."""

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        obs, info = super()._reset_task(seed, split, options)
        return obs, {**info, "task": f"task {np.random.default_rng().integers(1 << 30)}"}


class _RaisingEnv(FakeCountEnv):
    """Fake env that raises on an empty action instead of answering it as invalid."""

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        if not action.strip():
            raise ValueError("empty action")
        return super()._step_text(action)


class _ForgetfulEnv(FakeCountEnv):
    """Fake env whose restore() forgets the replayed count."""

    def restore(self, snap: Any) -> tuple[str, dict[str, Any]]:
        return self.reset(seed=snap.seed, options=snap.options)


@pytest.mark.parametrize(
    ("env_class", "finding"),
    [
        (_DefaultTextSpaceEnv, "gymnasium"),  # the control for the Text space trap
        (_NoScoreEnv, "info lacks 'score'"),
        (_NoScoreEnv, "info['won'] has a wrong type"),
        (_RandomTaskEnv, "two envs reset with seed 0 differ"),
        (_RaisingEnv, "raised ValueError: empty action"),
        (_ForgetfulEnv, "restore() does not return the snapshot's observation"),
    ],
)
def test_checker_finds_each_broken_rule(env_class: type, finding: str) -> None:
    with pytest.raises(ContractError) as caught:
        check_text_env(env_class)
    assert any(finding in p for p in caught.value.problems), caught.value.problems


def test_checker_passes_a_good_plugin_env_and_can_skip_snapshot() -> None:
    check_text_env(FakeCountEnv)
    check_text_env(_ForgetfulEnv, snapshot=False)


def test_keychest_splits_are_disjoint() -> None:
    """Train, valid and test task ids (over every task of each split) do not overlap."""
    env = KeyChestEnv()
    ids: dict[str, set[str]] = {}
    for split in ("train", "valid", "test"):
        ids[split] = {
            env.reset(seed=s, options={"split": split})[1][TASK_ID] for s in range(0, 1000, 7)
        }
        assert len(ids[split]) == len(range(0, 1000, 7))
    assert not ids["train"] & ids["valid"]
    assert not ids["train"] & ids["test"]
    assert not ids["valid"] & ids["test"]


def test_unknown_split_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown split"):
        KeyChestEnv().reset(seed=0, options={"split": "dev"})


NONSENSE = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(["", " ", "\n\t", "💥", "go nowhere", "take the moon", "\x00", "ｌｏｏｋ"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(action=NONSENSE, seed=st.integers(0, 999))
@example(action="", seed=0)
@example(action="GO   SOUTHEAST", seed=1)
def test_keychest_nonsense_is_invalid_not_an_error(action: str, seed: int) -> None:
    env = KeyChestEnv()
    env.reset(seed=seed)
    known = {*env.admissible(), "l", "i"}
    assume(" ".join(action.lower().split()) not in known)
    obs, reward, terminated, truncated, info = env.step(action)
    assert info[INVALID_ACTION] is True
    assert isinstance(obs, str) and obs
    assert reward == 0.0 and not terminated and not truncated
    assert all(k in info for k in REQUIRED_INFO_KEYS)


@settings(max_examples=30, deadline=None)
@given(action=NONSENSE)
@example(action="")
def test_fake_count_nonsense_is_invalid_not_an_error(action: str) -> None:
    assume(action not in ("next", "wait"))
    env = FakeCountEnv()
    env.reset(seed=0)
    obs, reward, terminated, _, info = env.step(action)
    assert info[INVALID_ACTION] is True and isinstance(obs, str)
    assert reward == 0.0 and not terminated


def test_valid_action_is_not_invalid() -> None:
    """The other side of the property: admissible actions are never flagged invalid."""
    env = KeyChestEnv()
    _, info = env.reset(seed=3)
    for action in info[ADMISSIBLE_ACTIONS]:
        env.reset(seed=3)
        assert env.step(action)[4][INVALID_ACTION] is False
