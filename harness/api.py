"""The library under ``python -m harness.run``: plan a run, then evaluate it.

``plan_run(config)`` resolves the default suite and checks names; ``evaluate(plan)`` checks
every setting (each env made and each agent built once), runs the planned episodes into the
run dir under its lock, writes the CSVs and returns a ``RunResult``. Nothing here prints:
notes go to the ``qharness`` logger, user errors are raised as ``InputError`` subclasses
(``INPUT_ERRORS``), and progress goes to an optional ``Progress`` object.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import pandas as pd

import envs  # noqa: F401 - registers the harness/ ids
from agents.base import Agent
from agents.registry import accepts, make_agent
from envs.registration import ENV_TABLE, load_env_plugins, missing, spec
from harness import __version__
from harness.backends import make_backend
from harness.config import RunConfig
from harness.errors import InputError
from harness.leaderboard import accumulate, episodes_frame, git_commit, leaderboard, write_csv
from harness.preflight import (
    check_agents,
    check_env_options,
    check_names,
    check_outputs,
    check_plan_size,
    check_policies,
    check_targets,
    env_fingerprints,
    policy_adapters,
)
from harness.records import EpisodeRecord, episode_key, latest_per_episode
from harness.rundir import check_same_plan, stored_plan
from harness.runner import EpisodeJob, Limits, run_jobs
from harness.store import RunStore, storage_errors
from harness.suite import (
    DEFAULT_AGENTS,
    SUITE_AGENT_LIMITS,
    SUITE_MAX_STEPS,
    SUITE_POLICY,
    suite_agent_envs,
)

log = logging.getLogger("qharness")

INPUT_ERRORS: tuple[type[Exception], ...] = (InputError,)
"""The user errors of a run (``ConfigError``, ``BadInput``, ``RunDirError``, ``BackendError``
are all ``InputError``s): the CLI prints them as one line, exit 2."""


def log_to_stderr() -> None:
    """For command-line mains: show the library's notes (logger ``qharness``, INFO and up) on
    stderr as plain lines. Library callers choose their own logging setup instead."""
    logger = logging.getLogger("qharness")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        logger.addHandler(_Stderr())
        logger.setLevel(logging.INFO)
        logger.propagate = False


class _Stderr(logging.Handler):
    """Writes each note as one line to whatever ``sys.stderr`` is at that moment."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(record.getMessage() + "\n")
        sys.stderr.flush()


class Progress(Protocol):
    """Told how many episodes will run, then of each finished one (e.g. a progress bar)."""

    def start(self, total: int) -> None:
        """``total`` episodes are about to run."""

    def update(self, record: EpisodeRecord) -> None:
        """One episode finished (in completion order)."""


@dataclass(frozen=True)
class RunPlan:
    """A resolved run: the config (default suite filled in) and episodes per env."""

    config: RunConfig
    counts: dict[str, int]

    def pairs(self) -> list[tuple[str, str]]:
        """The (env, agent) pairs of the run, in plan order."""
        return planned_pairs(self.config)

    def jobs(self) -> list[EpisodeJob]:
        """Every (env, agent, seed) of the run, in a fixed order."""
        return plan(self.config, self.counts)

    def lines(self) -> list[str]:
        """One line per env: ``<env id>: <agent> ..., <n> episodes, max <m> steps``."""
        agents: dict[str, list[str]] = {e: [] for e in self.config.envs}
        for e, a in self.pairs():
            agents[e].append(a)
        steps = self.config.max_steps
        return [
            f"{e}: {' '.join(a)}, {self.counts[e]} episodes, max {steps} steps"
            + self._capped(a, self.counts[e])
            + self._policy(e, a)
            for e, a in agents.items()
            if a
        ]

    def _policy(self, env_id: str, agents: list[str]) -> str:
        """``; policy <spec> (<adapter>)`` when an agent of the env runs an LLM policy."""
        users = [a for a in agents if accepts(a, "policy")]
        if not users:
            return ""
        return "; policy " + policy_label(
            agent_options(self.config, users[0]).get("policy"), env_id
        )

    def _capped(self, agents: list[str], episodes: int) -> str:
        """`` (react, react-q: 3 episodes, max 8 steps)`` for suite agents with own limits."""
        caps: dict[tuple[int, int], list[str]] = {}
        for a in agents:
            n, steps = suite_limits(self.config, a, episodes)
            if (n, steps) != (episodes, 0):
                caps.setdefault((n, steps or self.config.max_steps), []).append(a)
        return "".join(
            f" ({', '.join(names)}: {n} episodes, max {s} steps)" for (n, s), names in caps.items()
        )

    def check(self) -> None:
        """The cheap checks (no env made, no agent built): option targets and plan size."""
        check_targets(self.config)
        check_plan_size(sum(self.counts[e] for e, _ in self.pairs()))


@dataclass(frozen=True)
class RunResult:
    """What a run produced: its directory, the latest record of each planned episode, and
    the two tables written there (``episodes.csv``, ``leaderboard.csv``)."""

    run_dir: Path
    records: tuple[EpisodeRecord, ...]
    episodes: pd.DataFrame
    leaderboard: pd.DataFrame
    plan: RunPlan


def plan_run(config: RunConfig) -> RunPlan:
    """Resolve the default suite (envs and agents left empty) and check names: InputError
    on unknown envs or agents, or envs missing their extra or data."""
    cfg, counts = default_suite(config)
    check_names(cfg)
    return RunPlan(cfg, counts)


def with_run_dir(run: RunPlan) -> RunPlan:
    """``run`` with its run dir named (default ``results/runs/<UTC time>``)."""
    if run.config.out:
        return run
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return replace(run, config=replace(run.config, out=f"results/runs/{stamp}"))


def evaluate(run: RunConfig | RunPlan, progress: Progress | None = None) -> RunResult:
    """Check every setting, run the planned episodes into the run dir (holding its lock),
    write the CSVs (and merge the cross-run leaderboard); raise InputError on bad settings."""
    run = with_run_dir(run if isinstance(run, RunPlan) else plan_run(run))
    cfg = run.config
    out = Path(cfg.out)
    fps = preflight(cfg, run.counts)  # env fingerprints
    commit = git_commit()
    store = RunStore(out)
    previous = store.open(cfg.resume)
    try:
        records = _execute(run, store, previous, (fps, commit), progress)
        frame = episodes_frame(records)
        board = leaderboard(frame, fps, commit)
        for name, table in (("episodes.csv", frame), ("leaderboard.csv", board)):
            with storage_errors(out / name, "rerun with --resume to write the CSVs"):
                write_csv(table, out / name)  # under the run dir's lock
    finally:
        store.close()
    if cfg.leaderboard:
        with storage_errors(cfg.leaderboard, "rerun with --resume to add this run to it"):
            accumulate(board, cfg.leaderboard)
    return RunResult(out, tuple(records), frame, board, run)


def default_suite(cfg: RunConfig) -> tuple[RunConfig, dict[str, int]]:
    """Fill in envs/agents of the default suite; returns per-env episode counts."""
    counts: dict[str, int] = {}
    is_suite = (not cfg.envs and not cfg.agents) or cfg.suite
    if not cfg.envs:
        for s in ENV_TABLE:
            why = missing(s)
            if s.default_episodes <= 0:
                continue
            if why:
                log.info("[suite] skipping %s: %s", s.id, why)
                continue
            counts[s.id] = s.default_episodes
        cfg = replace(cfg, envs=tuple(counts))
    if is_suite:
        steps = SUITE_MAX_STEPS if cfg.max_steps == RunConfig.max_steps else cfg.max_steps
        cfg = replace(cfg, suite=True, max_steps=steps, policy=cfg.policy or SUITE_POLICY)
        agent_envs, notes = suite_agent_envs(cfg.agent_options)
        for note in notes:
            log.info("[suite] %s", note)
        groups: dict[tuple[str, ...], list[str]] = {}
        for a, e in agent_envs.items():
            groups.setdefault(e, []).append(a)
        only = "; ".join(
            f"{', '.join(a)} only on {', '.join(e) if e else 'no env'}" for e, a in groups.items()
        )
        log.info("[suite] default suite, max_steps=%d; %s", steps, only)
        used = sorted(
            {e for es in agent_envs.values() for e in es} & set(cfg.envs), key=cfg.envs.index
        )
        log.info(
            "[suite] LLM agents' policy: %s",
            "; ".join(f"{e} {policy_label(cfg.policy, e)}" for e in used),
        )
    if not cfg.agents:
        cfg = replace(cfg, agents=DEFAULT_AGENTS)
    counts = {e: cfg.episodes or counts.get(e) or _default_count(e) for e in cfg.envs}
    return cfg, counts


def _default_count(env_id: str) -> int:
    s = spec(env_id)
    return s.default_episodes if s and s.default_episodes > 0 else 5


def make_env(cfg: RunConfig, env_id: str) -> gym.Env[Any, Any]:
    """Instantiate ``env_id`` with its options from the config (plug-in ids included, also in
    a fresh worker process)."""
    load_env_plugins()
    return gym.make(env_id, **cfg.env_options.get(env_id, {}))


def plan(cfg: RunConfig, counts: dict[str, int]) -> list[EpisodeJob]:
    """Every (env, agent, seed) of the run, in a fixed order (in the default suite the LLM
    agents play the first seeds only, with their own step cap: ``SUITE_AGENT_LIMITS``)."""
    jobs = []
    for e, a in planned_pairs(cfg):
        n, steps = suite_limits(cfg, a, counts[e])
        jobs += [EpisodeJob(e, a, cfg.seed + i, steps) for i in range(n)]
    return jobs


def suite_limits(cfg: RunConfig, agent: str, episodes: int) -> tuple[int, int]:
    """``(episodes, max steps)`` of ``agent`` on an env with ``episodes`` (0 steps: the run's)."""
    if not cfg.suite or agent not in SUITE_AGENT_LIMITS:
        return episodes, 0
    n, steps = SUITE_AGENT_LIMITS[agent]
    return min(n, episodes), min(steps, cfg.max_steps)


def policy_label(spec: Any, env_id: str) -> str:
    """``<spec>``, with the adapter it runs on ``env_id`` for an ``adapter=`` spec."""
    spec = str(spec or "local")
    if "adapter=" not in spec:
        return spec
    from agents.llm.adapters import adapter_label

    try:
        label = adapter_label(spec, env_id)
    except Exception:  # a bad adapter is reported by preflight, one line
        label = ""
    return f"{spec} ({label or 'no bundled adapter: base model'})"


def planned_pairs(cfg: RunConfig) -> list[tuple[str, str]]:
    """The (env, agent) pairs of the run, in plan order."""
    only = suite_agent_envs(cfg.agent_options)[0] if cfg.suite else {}
    return [(e, a) for e in cfg.envs for a in cfg.agents if a not in only or e in only[a]]


def agent_options(cfg: RunConfig, name: str) -> dict[str, Any]:
    """Options for agent ``name``: its table in the config, plus ``policy`` when set and
    the agent takes one."""
    opts = dict(cfg.agent_options.get(name, {}))
    if cfg.policy and "policy" not in opts and accepts(name, "policy"):
        opts["policy"] = cfg.policy
    return opts


def build_agent(cfg: RunConfig, name: str) -> Agent:
    """Agent ``name`` built with its options from the config."""
    return make_agent(name, agent_options(cfg, name))


def preflight(cfg: RunConfig, counts: dict[str, int]) -> dict[str, str]:
    """Fail before the first episode (BadInput, one line) on any setting that cannot work:
    cheap checks first, then each env is made once, then each agent built once."""
    RunPlan(cfg, counts).check()
    check_env_options(cfg)
    check_outputs(cfg)
    check_resume(cfg, counts)
    check_policies(cfg, partial(agent_options, cfg))
    fps = env_fingerprints(cfg, partial(make_env, cfg))
    check_agents(cfg, partial(build_agent, cfg), planned_pairs(cfg))
    return fps


def check_resume(cfg: RunConfig, counts: dict[str, int]) -> None:
    """A resumed run continues the plan stored in its run dir (RunDirError naming what
    differs); with ``extend`` it may add envs, agents and episodes."""
    stored = stored_plan(cfg.out) if cfg.resume else None
    if stored is None:
        return
    old_counts = {e: stored.episodes or _default_count(e) for e in stored.envs}
    keys = [
        {episode_key(j.env_id, j.agent, j.seed) for j in plan(c, n)}
        for c, n in ((stored, old_counts), (cfg, counts))
    ]
    check_same_plan(stored, cfg, *keys)


def _execute(
    run: RunPlan,
    store: RunStore,
    previous: list[EpisodeRecord],
    stamp: tuple[dict[str, str], str],
    progress: Progress | None,
) -> list[EpisodeRecord]:
    """Run the episodes not yet done; the latest record of each planned episode."""
    cfg, out = run.config, store.root
    fps, commit = stamp
    done = {r.key for r in previous if not (cfg.retry_errors and r.error)}
    planned = {episode_key(j.env_id, j.agent, j.seed): j for j in run.jobs()}
    jobs = [j for k, j in planned.items() if k not in done]
    store.write_config(
        replace(cfg, out=str(out), resume=False, retry_errors=False, extend=False),
        {
            "harness_version": __version__,
            "git_commit": commit,
            "env_fingerprints": fps,
            "policy_adapters": policy_adapters(cfg, partial(agent_options, cfg)),
            "episodes_per_env": run.counts,
            "argv": sys.argv[1:],
        },
    )
    per_env = ", ".join(f"{e}={n}" for e, n in run.counts.items())
    log.info(
        "[run] %s: %d episodes to run (%d already done); per env: %s",
        out,
        len(jobs),
        len(planned) - len(jobs),
        per_env,
    )
    latest = latest_per_episode([*previous, *_run(cfg, store, jobs, progress)])
    records = [r for r in latest if r.key in planned]
    if len(records) < len(latest):
        log.info(
            "[run] %d recorded episodes are outside this run's plan (other envs, agents or "
            "seeds): kept in episodes.jsonl, not counted",
            len(latest) - len(records),
        )
    return records


def _run(
    cfg: RunConfig, store: RunStore, jobs: list[EpisodeJob], progress: Progress | None
) -> list[EpisodeRecord]:
    """Run ``jobs``, appending each result to ``store``; the new records, in that order."""
    limits = Limits(cfg.step_timeout_s, cfg.episode_timeout_s)
    new: list[EpisodeRecord] = []
    if progress:
        progress.start(len(jobs))
    # By module name (not __main__), so Ray workers unpickle the factories by reference.
    this = importlib.import_module("harness.api")
    backend = make_backend(cfg.backend, cfg.workers, cfg.ray_address, gpus=cfg.ray_gpus)
    results = run_jobs(
        jobs,
        cfg.workers,
        cfg.split,
        cfg.max_steps,
        limits,
        partial(this.make_env, cfg),
        partial(this.build_agent, cfg),
        backend,
    )
    try:
        for res in results:
            store.append(res.record, res.steps)
            new.append(res.record)
            if progress:
                progress.update(res.record)
    finally:
        getattr(results, "close", lambda: None)()  # a failed write stops the run here
        backend.close()
    return new


__all__: Sequence[str] = (
    "INPUT_ERRORS",
    "InputError",
    "Progress",
    "RunPlan",
    "RunResult",
    "evaluate",
    "plan_run",
)
