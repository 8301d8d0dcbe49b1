"""What an ``--out`` directory may be, and what ``--resume`` may change in it.

A run writes only into a new or empty directory, or into a run directory of this harness (its
``config.toml`` or ``episodes.jsonl`` read back as ours): never over another tool's files. A
resumed run continues the plan stored in ``config.toml``: a different seed, env, agent, option,
policy, split or max-steps is refused naming the difference; with ``extend`` it may add envs,
agents or episodes, keeping every episode of the stored plan; with ``retry_errors`` the policy
and agent options may change (the fix for what made episodes fail).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from harness.config import ConfigError, RunConfig, load_toml
from harness.store import CONFIG, EPISODES, LOCK, TRAJECTORIES, RunDirError

FIXED_FIELDS = ("seed", "max_steps", "split", "policy", "env_options", "agent_options")
"""Plan settings a resumed run must keep."""
FIXABLE_FIELDS = ("policy", "agent_options")
"""What ``--retry-errors`` may change: the fix for the errors (an endpoint, a key, a timeout)."""
GROWING_FIELDS = ("envs", "agents", "episodes")
"""Plan settings ``--extend`` may grow (every stored episode stays in the plan)."""
LEFTOVERS = (LOCK, TRAJECTORIES)
"""What a run killed before writing its config leaves: not foreign."""


def is_run_dir(root: Path) -> bool:
    """Whether ``root`` was written by this harness: its ``config.toml`` loads as a run config
    naming envs and agents, or the first line of its ``episodes.jsonl`` is an episode record."""
    if (root / CONFIG).is_file():
        try:
            values = load_toml(root / CONFIG)
        except ConfigError:
            values = {}
        if {"envs", "agents", "seed"} <= set(values):
            return True
    return _first_record(root / EPISODES)


def _first_record(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            first = json.loads(fh.readline())
    except (OSError, ValueError):
        return False
    return isinstance(first, dict) and {"env_id", "agent", "seed"} <= set(first)


def check_out_dir(out: str) -> None:
    """``--out`` must be new, empty, or a run directory of this harness (RunDirError)."""
    root = Path(out)
    if not root.is_dir():
        return
    names = sorted(p.name for p in root.iterdir())
    leftovers = all(
        n == LOCK or (n == TRAJECTORIES and not any((root / n).iterdir())) for n in names
    )
    if leftovers or is_run_dir(root):
        return
    shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    raise RunDirError(
        f"--out {out!r} is a non-empty directory that is not a run directory of this harness "
        f"(it holds {shown}); nothing was written: choose a new or empty directory"
    )


def stored_plan(out: str) -> RunConfig | None:
    """The config of the run in ``out`` that ``--resume`` continues; None when no episode is
    recorded yet (a fresh start). RunDirError when episodes exist without ``config.toml``."""
    root = Path(out)
    if not (root / EPISODES).exists():
        return None
    if not (root / CONFIG).is_file():
        raise RunDirError(
            f"run directory {out!r} has episodes but no {CONFIG}, so its plan is unknown: "
            f"restore {CONFIG} to resume it, or start a new run with another --out"
        )
    return RunConfig(**load_toml(root / CONFIG))


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else repr(value)


def changes(stored: RunConfig, new: RunConfig, names: Collection[str]) -> list[str]:
    """``field: X in the run dir, Y now`` for each of ``names`` that differs."""
    return [
        f"{n} {_shown(getattr(stored, n))} in the run dir, {_shown(getattr(new, n))} now"
        for n in names
        if getattr(stored, n) != getattr(new, n)
    ]


def check_same_plan(
    stored: RunConfig, new: RunConfig, old_keys: set[str], new_keys: set[str]
) -> None:
    """``--resume`` continues the stored plan: RunDirError naming what differs; with
    ``new.extend`` the plan may grow (new envs, agents, episodes) but keep every old episode."""
    where = f"{new.out}/{CONFIG}"
    kept = [f for f in FIXED_FIELDS if not (new.retry_errors and f in FIXABLE_FIELDS)]
    fixed = changes(stored, new, kept)
    if fixed:
        raise RunDirError(
            f"--resume continues the plan in {where!r}, but this command changes "
            f"{'; '.join(fixed)}: drop those settings, or choose another --out for a new run"
        )
    if old_keys == new_keys:
        return
    grown = "; ".join(changes(stored, new, GROWING_FIELDS)) or "the planned episodes"
    if not new.extend:
        raise RunDirError(
            f"--resume continues the plan in {where!r}, but this command changes {grown}: "
            "add --extend to add envs, agents or episodes to it, or choose another --out"
        )
    dropped = sorted(old_keys - new_keys)
    if dropped:
        raise RunDirError(
            f"--extend only adds to the plan in {where!r}, but {grown} would drop "
            f"{len(dropped)} of its episodes (e.g. {dropped[0]}): keep at least its --episodes"
        )
