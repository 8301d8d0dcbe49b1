"""The text-env contract over every registered ``harness/`` id: check_env, info keys, seeded
resets, nonsense actions, splits and snapshot/restore."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env, data_equivalence
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import envs  # noqa: F401 - registers the harness/ ids
from envs.base import ADMISSIBLE_ACTIONS, INVALID_ACTION, REQUIRED_INFO_KEYS, TASK, TASK_ID
from envs.registration import EnvSpec, harness_ids, missing, spec
from envs.toy import KeyChestEnv
from tests.fakes import FakeCountEnv

ROLLOUT_STEPS = 12


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


@pytest.fixture
def make() -> Iterator[Any]:
    """``gym.make`` that closes what it made."""
    made: list[gym.Env[Any, Any]] = []

    def _make(env_id: str) -> gym.Env[Any, Any]:
        env = gym.make(env_id)
        made.append(env)
        return env

    yield _make
    for env in made:
        env.close()


def _pick(info: dict[str, Any], rng: np.random.Generator) -> str:
    acts = list(info.get(ADMISSIBLE_ACTIONS) or [])
    return acts[int(rng.integers(len(acts)))] if acts else "look"


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
def test_check_env(env_id: str, make: Any) -> None:
    """Gymnasium's checker passes, and none of its ``WARN:`` findings is raised."""
    strict_check_env(make(env_id).unwrapped)


def strict_check_env(env: gym.Env[Any, Any]) -> None:
    """``check_env``, failing also on the findings it only warns about (``WARN:``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    findings = [str(w.message) for w in caught if "WARN:" in str(w.message)]
    assert not findings, findings


class _DefaultTextSpaceEnv(FakeCountEnv):
    """Fake env with gymnasium's default Text space (min_length=1, alphanumeric)."""

    def __init__(self) -> None:
        super().__init__()
        self.observation_space = spaces.Text(64)  # type: ignore[assignment]


def test_strict_check_catches_the_text_space_trap() -> None:
    """The control: prose observations in a default ``spaces.Text`` fail the check."""
    with pytest.raises(AssertionError):
        strict_check_env(_DefaultTextSpaceEnv())


@pytest.mark.parametrize("env_id", IDS)
def test_info_keys_every_step(env_id: str, make: Any) -> None:
    """The required info keys are present after reset and after every step, with their types."""
    env = make(env_id)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=1)
    assert isinstance(obs, str)
    for t in range(ROLLOUT_STEPS + 1):
        missing_keys = [k for k in REQUIRED_INFO_KEYS if k not in info]
        assert not missing_keys, f"step {t}: info lacks {missing_keys}"
        assert isinstance(info[ADMISSIBLE_ACTIONS], list)
        assert all(isinstance(a, str) for a in info[ADMISSIBLE_ACTIONS])
        assert isinstance(info[TASK], str) and info[TASK]
        assert isinstance(info["won"], bool) and isinstance(info[INVALID_ACTION], bool)
        assert isinstance(info["score"], int | float)
        if t == ROLLOUT_STEPS:
            break
        obs, reward, terminated, truncated, info = env.step(_pick(info, rng))
        assert isinstance(obs, str) and isinstance(reward, float)
        if terminated or truncated:
            obs, info = env.reset(seed=2 + t)


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_task(env_id: str, make: Any) -> None:
    """Two envs reset with one seed give the same observation and task; splits are honoured."""
    a, b = make(env_id), make(env_id)
    for seed in (0, 7):
        obs_a, info_a = a.reset(seed=seed)
        obs_b, info_b = b.reset(seed=seed)
        assert obs_a == obs_b
        assert info_a[TASK] == info_b[TASK] and info_a.get(TASK_ID) == info_b.get(TASK_ID)
    obs_a, info_a = a.reset(seed=3, options={"split": "train"})
    assert info_a["split"] == "train"


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("seeded", [True, False])
def test_snapshot_restore(env_id: str, seeded: bool, make: Any) -> None:
    """Restoring a snapshot gives the snapshot's observation and info, and the same future."""
    env = make(env_id).unwrapped
    rng = np.random.default_rng(5)
    seed = 4 if seeded else None
    obs, info = env.reset(seed=seed)
    for _ in range(3):
        obs, _, terminated, truncated, info = env.step(_pick(info, rng))
        if terminated or truncated:  # never step a finished episode: start another
            obs, info = env.reset(seed=seed)
    snap = env.snapshot()
    at_snap = (obs, info)
    probe = _pick(info, rng)
    after_probe = env.step(probe)
    done = after_probe[2] or after_probe[3]
    for _ in range(3 * (not done)):
        _, _, terminated, truncated, info = env.step(_pick(info, rng))
        if terminated or truncated:
            break
    assert data_equivalence(env.restore(snap), at_snap)
    assert data_equivalence(env.step(probe), after_probe)


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
