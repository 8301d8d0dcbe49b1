"""``check_text_env``: the text-env contract as library code, for this repo's envs and plug-ins.

It runs Gymnasium's ``check_env`` (failing on its warnings too), then this harness's contract:
the info keys and their types after reset and every step, the same task for the same seed,
the ``split`` option, nonsense actions answered as data (never exceptions), and
``snapshot()`` / ``restore()`` returning to the same state with the same future. Every finding
is collected; one ``ContractError`` lists them all.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env, data_equivalence

from envs.base import (
    ADMISSIBLE_ACTIONS,
    INVALID_ACTION,
    REQUIRED_INFO_KEYS,
    SCORE,
    TASK,
    TASK_ID,
    WON,
)
from envs.registration import load_env_plugins

EnvSource = str | Callable[[], gym.Env[Any, Any]]

# Strings an agent may send that no env should raise on (empty, blank, unicode, control, long).
NONSENSE_ACTIONS = (
    "",
    " ",
    "\n\t",
    "xyzzy plugh",
    "take the moon",
    "💥",
    "\x00",
    "ｌｏｏｋ",
    "go " * 200,
    "search[]",
    "click[",
    "finish[]]",
)


class ContractError(AssertionError):
    """An env breaks the text-env contract; ``problems`` lists every finding."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{name}: {len(problems)} contract problem(s): " + "; ".join(problems))


def check_text_env(
    source: EnvSource, steps: int = 12, seeds: tuple[int, int] = (0, 7), snapshot: bool = True
) -> None:
    """Check ``source`` (a Gymnasium id or a no-argument factory) against the text-env
    contract; raise ``ContractError`` listing every problem found. ``snapshot=False`` skips
    the snapshot/restore check (an env without it cannot be used for tree search)."""
    name = source if isinstance(source, str) else getattr(source, "__name__", repr(source))
    problems: list[str] = []
    with _made(source) as make:
        for check in (_gymnasium, _rollout, _determinism, _nonsense):
            _run(check, make, steps, seeds, problems)
        if snapshot:
            _run(_snapshot_restore, make, steps, seeds, problems)
    if problems:
        raise ContractError(str(name), problems)


def _run(
    check: Callable[..., list[str]], make: Any, steps: int, seeds: Any, out: list[str]
) -> None:
    label = check.__name__.strip("_").replace("_", " ")
    try:
        out += [f"{label}: {p}" for p in check(make, steps, seeds)]
    except Exception as exc:  # a raise is itself a finding: report it and go on
        out.append(f"{label}: raised {type(exc).__name__}: {exc}")


@contextmanager
def _made(source: EnvSource) -> Iterator[Callable[[], gym.Env[Any, Any]]]:
    """A maker of fresh envs (unwrapped) that closes all it made on exit."""
    made: list[gym.Env[Any, Any]] = []

    if isinstance(source, str):
        load_env_plugins()

    def make() -> gym.Env[Any, Any]:
        env = gym.make(source) if isinstance(source, str) else source()
        made.append(env)
        return env.unwrapped

    try:
        yield make
    finally:
        for env in made:
            env.close()


def _gymnasium(make: Callable[[], gym.Env[Any, Any]], steps: int, seeds: Any) -> list[str]:
    env = make()  # outside the capture: make's own notes (e.g. "v1 exists") are not findings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    return [str(w.message) for w in caught if "WARN:" in str(w.message)]


_INFO_TYPES: dict[str, Callable[[Any], bool]] = {
    ADMISSIBLE_ACTIONS: lambda v: isinstance(v, list) and all(isinstance(a, str) for a in v),
    TASK: lambda v: isinstance(v, str) and bool(v),
    WON: lambda v: isinstance(v, bool),
    INVALID_ACTION: lambda v: isinstance(v, bool),
    SCORE: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def info_problems(info: dict[str, Any]) -> list[str]:
    """What is missing or mistyped among the required info keys of one ``info`` dict."""
    out = []
    for key in REQUIRED_INFO_KEYS:
        if key not in info:
            out.append(f"info lacks {key!r}")
        elif not _INFO_TYPES[key](info[key]):
            out.append(f"info[{key!r}] has a wrong type or is empty: {info[key]!r:.60}")
    return out


def _pick(info: dict[str, Any], rng: np.random.Generator) -> str:
    acts = list(info.get(ADMISSIBLE_ACTIONS) or [])
    return acts[int(rng.integers(len(acts)))] if acts else "look"


def _step_problems(result: tuple[Any, ...]) -> list[str]:
    obs, reward, terminated, truncated, info = result
    out = [] if isinstance(obs, str) else [f"observation is {type(obs).__name__}, not str"]
    if not isinstance(reward, float):
        out.append(f"reward is {type(reward).__name__}, not float")
    if not (isinstance(terminated, bool) and isinstance(truncated, bool)):
        out.append("terminated/truncated are not bools")
    return out + info_problems(info)


def _rollout(make: Callable[[], gym.Env[Any, Any]], steps: int, seeds: Any) -> list[str]:
    env, rng = make(), np.random.default_rng(0)
    obs, info = env.reset(seed=seeds[0])
    found = ([] if isinstance(obs, str) else ["reset observation is not str"]) + [
        f"after reset: {p}" for p in info_problems(info)
    ]
    for t in range(steps):
        result = env.step(_pick(info, rng))
        found += [f"step {t}: {p}" for p in _step_problems(result)]
        info = result[4]
        if result[2] or result[3]:
            _, info = env.reset(seed=seeds[0] + t + 1)
    return found


def _determinism(make: Callable[[], gym.Env[Any, Any]], steps: int, seeds: Any) -> list[str]:
    a, b, found = make(), make(), []
    for seed in seeds:
        (obs_a, info_a), (obs_b, info_b) = a.reset(seed=seed), b.reset(seed=seed)
        if obs_a != obs_b or info_a.get(TASK) != info_b.get(TASK):
            found.append(f"two envs reset with seed {seed} differ")
        if info_a.get(TASK_ID) != info_b.get(TASK_ID):
            found.append(f"task_id differs for seed {seed}")
    _, info = a.reset(seed=seeds[0], options={"split": "train"})
    if info.get("split", "train") != "train":
        found.append(f"reset with split 'train' reports split {info.get('split')!r}")
    return found


def _nonsense(make: Callable[[], gym.Env[Any, Any]], steps: int, seeds: Any) -> list[str]:
    env, found = make(), []
    for action in NONSENSE_ACTIONS:
        _, info = env.reset(seed=seeds[0])
        if action in info.get(ADMISSIBLE_ACTIONS, []):
            continue
        try:
            result = env.step(action)
        except Exception as exc:
            found.append(f"action {action[:20]!r} raised {type(exc).__name__}: {exc}")
            continue
        found += [f"action {action[:20]!r}: {p}" for p in _step_problems(result)]
    return found


def _snapshot_restore(make: Callable[[], gym.Env[Any, Any]], steps: int, seeds: Any) -> list[str]:
    env: Any = make()
    if not (callable(getattr(env, "snapshot", None)) and callable(getattr(env, "restore", None))):
        return ["no snapshot()/restore() (pass snapshot=False to skip: no tree search then)"]
    return [p for seed in (seeds[0], None) for p in _restore_once(env, seed)]


def _restore_once(env: Any, seed: int | None) -> list[str]:
    """Snapshot after a few steps, probe, wander, restore: same state, same future."""
    rng = np.random.default_rng(5)
    obs, info = env.reset(seed=seed)
    for _ in range(3):
        obs, _, terminated, truncated, info = env.step(_pick(info, rng))
        if terminated or truncated:
            obs, info = env.reset(seed=seed)
    snap, at_snap, probe = env.snapshot(), (obs, info), _pick(info, rng)
    after_probe = env.step(probe)
    moved, info = after_probe, after_probe[4]
    for _ in range(3):  # wander off (unless the probe ended the episode)
        if moved[2] or moved[3]:
            break
        moved = env.step(_pick(info, rng))
        info = moved[4]
    found, how = [], "seeded" if seed is not None else "unseeded"
    if not data_equivalence(env.restore(snap), at_snap):
        found.append(f"{how}: restore() does not return the snapshot's observation and info")
    if not data_equivalence(env.step(probe), after_probe):
        found.append(f"{how}: after restore(), the same action gives a different step")
    return found
