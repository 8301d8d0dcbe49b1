"""``python -m harness.run``: evaluate agents on text envs and write CSV leaderboards.

With no arguments it runs the default suite: every registered env that runs offline here,
with the default agents, at each env's default episode count.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym

import envs  # noqa: F401 - registers the harness/ ids
from agents.base import Agent
from agents.registry import (
    AGENTS,
    DEFAULT_AGENTS,
    SUITE_AGENT_ENVS,
    SUITE_MAX_STEPS,
    accepts,
    make_agent,
)
from envs.registration import ENV_TABLE, PLUGIN_ENVS, missing, spec
from harness import __version__
from harness.backends import BackendError, make_backend
from harness.config import ConfigError, RunConfig, from_mapping, load_toml, option_value
from harness.leaderboard import (
    accumulate,
    episodes_frame,
    format_table,
    git_commit,
    leaderboard,
    write_csv,
)
from harness.preflight import (
    BadInput,
    bare_env_id,
    check_agents,
    check_env_options,
    check_names,
    check_outputs,
    check_plan_size,
    check_policies,
    check_targets,
    env_fingerprints,
    one_line,
)
from harness.records import EpisodeRecord, episode_key, latest_per_episode
from harness.runner import EpisodeJob, Limits, run_jobs
from harness.store import CONFIG, RunDirError, RunStore, storage_errors

EXIT_BAD_INPUT = 2


INPUT_ERRORS: tuple[type[Exception], ...] = (BadInput, ConfigError, RunDirError, BackendError)
"""What harness.run reports as a one-line error (exit 2); callers that drive it reuse this."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The CLI flags (all optional)."""
    p = argparse.ArgumentParser(
        prog="python -m harness.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--envs", nargs="+", metavar="ID", help="env ids (see --list)")
    p.add_argument("--agents", nargs="+", metavar="NAME", help="agent names or module:factory")
    p.add_argument(
        "--episodes", type=int, help="episodes per (env, agent); default: per-env suite count"
    )
    p.add_argument("--seed", type=int, help="first seed; episode i uses seed+i")
    p.add_argument("--max-steps", type=int, dest="max_steps")
    p.add_argument("--split", choices=["train", "valid", "test"])
    p.add_argument("--out", metavar="DIR", help="run directory (default results/runs/<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--retry-errors",
        action="store_true",
        dest="retry_errors",
        help="with --resume: also re-run episodes recorded with an error",
    )
    p.add_argument("--workers", type=int, help="episodes run at once")
    p.add_argument("--config", metavar="FILE.toml", help="TOML file with RunConfig fields")
    p.add_argument(
        "--policy", help="policy spec for LLM agents, e.g. local, openai:MODEL@URL, hf:PATH"
    )
    p.add_argument("--step-timeout", type=float, dest="step_timeout_s", metavar="S")
    p.add_argument("--episode-timeout", type=float, dest="episode_timeout_s", metavar="S")
    p.add_argument("--leaderboard", metavar="CSV", help="cross-run leaderboard ('' to skip)")
    p.add_argument(
        "--report", action="store_true", default=None, help="write report.md/html at the end"
    )
    p.add_argument("--backend", choices=["local", "ray"], help="where episodes run")
    p.add_argument(
        "--ray-address",
        dest="ray_address",
        metavar="ADDRESS",
        help="with --backend ray: an existing cluster (auto, ray://HOST:PORT); default: local Ray",
    )
    p.add_argument(
        "--ray-gpus",
        type=float,
        dest="ray_gpus",
        metavar="G",
        help="with --backend ray: GPUs each episode asks for (0.25: four share a GPU)",
    )
    p.add_argument("--env-opt", action="append", default=[], metavar="ID.KEY=VALUE")
    p.add_argument("--agent-opt", action="append", default=[], metavar="NAME.KEY=VALUE")
    p.add_argument(
        "--list", action="store_true", help="print registered envs and agents, then exit"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the plan (one line per env), run nothing"
    )
    p.add_argument(
        "--check-env",
        nargs="+",
        metavar="ID",
        help="check envs (ids or module:id) against the text-env contract, then exit",
    )
    return p.parse_args(argv)


def _parse_opts(items: list[str], what: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        target, eq, raw = item.partition("=")
        name, dot, key = target.rpartition(".")
        if not eq or not dot or not name or not key:
            raise BadInput(f"--{what}-opt {item!r}: expected NAME.KEY=VALUE")
        out.setdefault(name, {})[key] = option_value(raw)
    return out


def build_config(ns: argparse.Namespace) -> RunConfig:
    """Defaults < stored config of a resumed run < --config file < flags."""
    values: dict[str, Any] = {}
    if ns.resume and ns.out and (Path(ns.out) / CONFIG).exists():
        values.update(load_toml(Path(ns.out) / CONFIG))
    if ns.config:
        values.update(load_toml(ns.config))
    flags = {
        k: getattr(ns, k)
        for k in (
            "episodes",
            "seed",
            "max_steps",
            "split",
            "out",
            "workers",
            "policy",
            "step_timeout_s",
            "episode_timeout_s",
            "leaderboard",
            "report",
            "backend",
            "ray_address",
            "ray_gpus",
        )
    }
    flags["envs"] = ns.envs
    flags["agents"] = ns.agents
    values.update({k: v for k, v in flags.items() if v is not None})
    if ns.resume:
        values["resume"] = True
    if ns.retry_errors:
        if not ns.resume:
            raise BadInput("--retry-errors needs --resume (and --out DIR): it re-runs errors there")
        values["retry_errors"] = True
    if (ns.ray_address or ns.ray_gpus) and values.get("backend", "local") != "ray":
        raise BadInput("--ray-address and --ray-gpus need --backend ray")
    for key, parsed in (
        ("env_options", _parse_opts(ns.env_opt, "env")),
        ("agent_options", _parse_opts(ns.agent_opt, "agent")),
    ):
        merged = {k: dict(v) for k, v in values.get(key, {}).items()}
        for name, opts in parsed.items():
            merged.setdefault(name, {}).update(opts)
        values[key] = merged
    return RunConfig(**from_mapping(values, "command line")).validate()


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
                print(f"[suite] skipping {s.id}: {why}", file=sys.stderr)
                continue
            counts[s.id] = s.default_episodes
        cfg = replace(cfg, envs=tuple(counts))
    if is_suite:
        steps = SUITE_MAX_STEPS if cfg.max_steps == RunConfig.max_steps else cfg.max_steps
        cfg = replace(cfg, suite=True, max_steps=steps)
        only = "; ".join(f"{a} only on {', '.join(e)}" for a, e in SUITE_AGENT_ENVS.items())
        print(f"[suite] default suite, max_steps={steps}; {only}", file=sys.stderr)
    if not cfg.agents:
        cfg = replace(cfg, agents=DEFAULT_AGENTS)
    counts = {e: cfg.episodes or counts.get(e) or _default_count(e) for e in cfg.envs}
    return cfg, counts


def _default_count(env_id: str) -> int:
    s = spec(env_id)
    return s.default_episodes if s and s.default_episodes > 0 else 5


def list_registered() -> str:
    """A listing of env ids and agents."""
    lines = ["envs:"]
    for s in ENV_TABLE:
        why = missing(s)
        label = " [generated task set]" if s.synthetic else ""
        lines.append(f"  {s.id:<36} {s.description}{label}" + (f"  ({why})" if why else ""))
    others = [i for i in sorted(gym.registry) if i.startswith("harness/") and not spec(i)]
    lines += [f"  {i:<36} {PLUGIN_ENVS.get(i, '')}".rstrip() for i in others]
    lines += [f"  {i:<36} {PLUGIN_ENVS[i]}" for i in sorted(PLUGIN_ENVS) if i not in others]
    lines.append("agents:")
    entries = AGENTS.entries()
    lines += [f"  {n:<36} {entries[n].description}" for n in sorted(entries)]
    return "\n".join(lines)


def make_env(cfg: RunConfig, env_id: str) -> gym.Env[Any, Any]:
    """Instantiate ``env_id`` with its options from the config."""
    return gym.make(env_id, **cfg.env_options.get(env_id, {}))


def plan_lines(cfg: RunConfig, counts: dict[str, int]) -> list[str]:
    """The plan, one line per env: ``<env id>: <agent> ..., <n> episodes, max <m> steps``."""
    agents: dict[str, list[str]] = {e: [] for e in cfg.envs}
    for e, a in planned_pairs(cfg):
        agents[e].append(a)
    return [
        f"{e}: {' '.join(a)}, {counts[e]} episodes, max {cfg.max_steps} steps"
        for e, a in agents.items()
        if a
    ]


def check_envs(env_ids: Sequence[str], options: dict[str, dict[str, Any]]) -> int:
    """``--check-env``: each env against the text-env contract (exit 1 if any breaks it)."""
    from envs.checker import ContractError, check_text_env

    failed = 0
    for env_id in env_ids:
        bare_env_id(env_id)  # BadInput (exit 2) when its module does not import
        opts = options.get(env_id, {})
        try:
            check_text_env(partial(gym.make, env_id, **opts))
        except ContractError as exc:
            failed += 1
            print(f"{env_id}: FAILS the text-env contract", file=sys.stderr)
            print("\n".join(f"  - {p}" for p in exc.problems), file=sys.stderr)
        except gym.error.Error as exc:
            raise BadInput(f"env {env_id!r}: {one_line(exc)}") from None
        else:
            print(f"{env_id}: passes the text-env contract")
    return 1 if failed else 0


def plan(cfg: RunConfig, counts: dict[str, int]) -> list[EpisodeJob]:
    """Every (env, agent, seed) of the run, in a fixed order."""
    return [EpisodeJob(e, a, cfg.seed + i) for e, a in planned_pairs(cfg) for i in range(counts[e])]


def planned_pairs(cfg: RunConfig) -> list[tuple[str, str]]:
    """The (env, agent) pairs of the run, in plan order."""
    return [
        (e, a)
        for e in cfg.envs
        for a in cfg.agents
        if not (cfg.suite and a in SUITE_AGENT_ENVS and e not in SUITE_AGENT_ENVS[a])
    ]


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
    check_targets(cfg)
    check_env_options(cfg)
    check_plan_size(sum(counts[e] for e, a in planned_pairs(cfg)))
    check_outputs(cfg)
    check_policies(cfg, partial(agent_options, cfg))
    fps = env_fingerprints(cfg, partial(make_env, cfg))
    check_agents(cfg, partial(build_agent, cfg))
    return fps


def execute(cfg: RunConfig, counts: dict[str, int]) -> tuple[Path, list[EpisodeRecord]]:
    """Check the settings, run the planned episodes into the run dir (holding its lock);
    return it and the run's records (the latest per planned episode)."""
    out = Path(cfg.out or f"results/runs/{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}")
    fps = preflight(cfg, counts)  # env fingerprints
    store = RunStore(out)
    previous = store.open(cfg.resume)
    try:
        return out, _execute(cfg, counts, store, previous, fps)
    finally:
        store.close()


def _execute(
    cfg: RunConfig,
    counts: dict[str, int],
    store: RunStore,
    previous: list[EpisodeRecord],
    fps: dict[str, str],
) -> list[EpisodeRecord]:
    out = store.root
    done = {r.key for r in previous if not (cfg.retry_errors and r.error)}
    planned = {episode_key(j.env_id, j.agent, j.seed): j for j in plan(cfg, counts)}
    jobs = [j for k, j in planned.items() if k not in done]
    commit = git_commit()
    store.write_config(
        replace(cfg, out=str(out), resume=False, retry_errors=False),
        {
            "harness_version": __version__,
            "git_commit": commit,
            "env_fingerprints": fps,
            "episodes_per_env": counts,
            "argv": sys.argv[1:],
        },
    )
    print(
        f"[run] {out}: {len(jobs)} episodes to run ({len(planned) - len(jobs)} already done); "
        f"per env: {', '.join(f'{e}={n}' for e, n in counts.items())}",
        file=sys.stderr,
    )
    latest = latest_per_episode([*previous, *_run_with_progress(cfg, store, jobs)])
    records = [r for r in latest if r.key in planned]
    if len(records) < len(latest):
        print(
            f"[run] {len(latest) - len(records)} recorded episodes are outside this run's plan "
            "(other envs, agents or seeds): kept in episodes.jsonl, not counted",
            file=sys.stderr,
        )
    frame = episodes_frame(records)
    board = leaderboard(frame, fps, commit)
    for name, table in (("episodes.csv", frame), ("leaderboard.csv", board)):
        with storage_errors(out / name, "rerun with --resume to write the CSVs"):
            write_csv(table, out / name)
    print(format_table(board))
    if cfg.leaderboard:
        with storage_errors(cfg.leaderboard, "rerun with --resume to add this run to it"):
            accumulate(board, cfg.leaderboard)
    return records


def _run_with_progress(
    cfg: RunConfig, store: RunStore, jobs: list[EpisodeJob]
) -> list[EpisodeRecord]:
    """Run ``jobs``, appending each result to ``store``; the new records, in that order."""
    from tqdm import tqdm

    limits = Limits(cfg.step_timeout_s, cfg.episode_timeout_s)
    new: list[EpisodeRecord] = []
    wins = 0
    bar = tqdm(total=len(jobs), unit="ep", dynamic_ncols=True, file=sys.stderr, disable=not jobs)
    # By module name (not __main__), so Ray workers unpickle the factories by reference.
    this = importlib.import_module("harness.run")
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
            wins += int(res.record.success)
            bar.set_postfix_str(
                f"success={wins / len(new):.2f}"
                + (f" last_error={res.record.error[:40]!r}" if res.record.error else "")
            )
            bar.update(1)
    finally:
        bar.close()
        getattr(results, "close", lambda: None)()  # a failed write stops the run here
        backend.close()
    return new


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code."""
    ns = parse_args(argv)
    if ns.list:
        print(list_registered())
        return 0
    try:
        if ns.check_env:
            return check_envs(ns.check_env, _parse_opts(ns.env_opt, "env"))
        cfg = build_config(ns)
        cfg, counts = default_suite(cfg)
        check_names(cfg)
        if ns.dry_run:
            check_targets(cfg)
            check_plan_size(sum(counts[e] for e, _ in planned_pairs(cfg)))
            print("\n".join(plan_lines(cfg, counts)))
            return 0
        t0 = time.perf_counter()
        out, _ = execute(cfg, counts)
        print(
            f"[run] wrote {out / 'episodes.csv'} and {out / 'leaderboard.csv'} "
            f"in {time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
        if cfg.report:
            from harness.report import write_report

            print(f"[run] report: {write_report([out], out)}", file=sys.stderr)
        else:
            print(f"[run] for a report: python -m harness.report {out}", file=sys.stderr)
    except INPUT_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
