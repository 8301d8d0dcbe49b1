"""``python -m harness.run``: evaluate agents on text envs and write CSV leaderboards.

A thin shell over ``harness.api`` (flags, progress bar, messages, exit codes). With no
arguments it runs the default suite: every registered env that runs offline here, with the
default agents, at each env's default episode count.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym

from agents.registry import AGENTS
from envs.registration import ENV_TABLE, PLUGIN_ENVS, load_env_plugins, missing, spec
from harness import api
from harness.api import INPUT_ERRORS
from harness.config import RunConfig, from_mapping, load_toml, option_value
from harness.errors import one_line
from harness.leaderboard import format_table
from harness.preflight import BadInput, check_env_id
from harness.records import EpisodeRecord
from harness.rundir import check_out_dir, stored_plan
from harness.store import CONFIG, EPISODES

EXIT_BAD_INPUT = 2
EXIT_EPISODE_ERRORS = 3
"""The run finished, but some episodes recorded an error (re-run them with --retry-errors)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C: every finished episode is kept; ``--resume`` continues."""

__all__ = ["EXIT_BAD_INPUT", "EXIT_EPISODE_ERRORS", "EXIT_INTERRUPTED", "INPUT_ERRORS", "main"]


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
    p.add_argument(
        "--extend",
        action="store_true",
        help="with --resume: add the --envs/--agents given (and a larger --episodes) to the plan",
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
    stored: dict[str, Any] = {}
    if ns.resume and ns.out:
        check_out_dir(ns.out)  # one of our run dirs (or new), before its config is read
        stored_plan(ns.out)  # episodes without config.toml: refused
    if ns.resume and ns.out and (Path(ns.out) / CONFIG).exists():
        stored = load_toml(Path(ns.out) / CONFIG)
        values.update(stored)
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
    if ns.extend:
        if not ns.resume:
            raise BadInput("--extend needs --resume (and --out DIR): it adds to the run there")
        values["extend"] = True
        for key in ("envs", "agents"):  # the stored plan's, then the new ones
            values[key] = list(dict.fromkeys([*stored.get(key, ()), *(getattr(ns, key) or ())]))
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


def list_registered() -> str:
    """A listing of env ids and agents."""
    load_env_plugins()
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


def check_envs(env_ids: Sequence[str], options: dict[str, dict[str, Any]]) -> int:
    """``--check-env``: each env against the text-env contract (exit 1 if any breaks it)."""
    from envs.checker import ContractError, check_text_env

    load_env_plugins()
    failed = 0
    for env_id in env_ids:
        check_env_id(env_id)  # BadInput (exit 2): unknown id, or its module does not import
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


class _Bar:
    """A tqdm progress bar (stderr) showing the running success rate and the last error."""

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self.wins, self.done = 0, 0
        self.bar = tqdm(
            total=total, unit="ep", dynamic_ncols=True, file=sys.stderr, disable=not total
        )

    def update(self, record: EpisodeRecord) -> None:
        self.done += 1
        self.wins += int(record.success)
        last = f" last_error={record.error[:40]!r}" if record.error else ""
        self.bar.set_postfix_str(f"success={self.wins / self.done:.2f}{last}")
        self.bar.update(1)

    def close(self) -> None:
        if hasattr(self, "bar"):
            self.bar.close()


LIFT_PAIRS = (("react", "react-q"),)
"""(base, guided) agent pairs whose paired difference a run prints at its end."""


def print_lift(result: api.RunResult) -> None:
    """For each env where a pair of ``LIFT_PAIRS`` played the same seeds: guided − base in
    success and reward, paired bootstrap 95% intervals and McNemar's p (success)."""
    from harness.analysis.compare import compare_records

    agents = set(result.plan.config.agents)
    for base, guided in LIFT_PAIRS:
        if not {base, guided} <= agents:
            continue
        rows = compare_records(list(result.records), base, guided, list(result.plan.config.envs))
        for r in (r for r in rows if r["seeds"]):
            print(
                f"[lift] {r['env_id']}: {guided} - {base} over {r['seeds']} paired seeds: "
                f"success {r['success_diff']:+.3f} [{r['success_ci_low']:+.3f}, "
                f"{r['success_ci_high']:+.3f}] (McNemar p={r['success_p_mcnemar']:.3f}), "
                f"reward {r['total_reward_diff']:+.3f} [{r['total_reward_ci_low']:+.3f}, "
                f"{r['total_reward_ci_high']:+.3f}]"
            )


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit code: 0, 2 (bad input), 3 (episodes errored) or
    130 (interrupted)."""
    ns = parse_args(argv)
    if ns.list:
        print(list_registered())
        return 0
    api.log_to_stderr()
    out: Path | None = None
    try:
        if ns.check_env:
            return check_envs(ns.check_env, _parse_opts(ns.env_opt, "env"))
        run = api.plan_run(build_config(ns))
        if ns.dry_run:
            api.preflight(run.config, run.counts)  # every check a real run makes
            print("\n".join(run.lines()))
            return 0
        run = api.with_run_dir(run)
        out = Path(run.config.out)
        return _evaluate(run)
    except INPUT_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"\n{interrupted(out)}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _evaluate(run: api.RunPlan) -> int:
    """Run the plan, print the leaderboard and where things went; the exit code."""
    t0, bar = time.perf_counter(), _Bar()
    try:
        result = api.evaluate(run, progress=bar)
    finally:
        bar.close()
    out = result.run_dir
    print(format_table(result.leaderboard))
    print_lift(result)
    print(
        f"[run] wrote {out / 'episodes.csv'} and {out / 'leaderboard.csv'} "
        f"in {time.perf_counter() - t0:.1f}s",
        file=sys.stderr,
    )
    if result.plan.config.report:
        from harness.report import write_report

        print(f"[run] report: {write_report([out], out)}", file=sys.stderr)
    else:
        print(f"[run] for a report: python -m harness.report {out}", file=sys.stderr)
    errored = sum(bool(r.error) for r in result.records)
    if not errored:
        return 0
    print(
        f"[run] {errored} of {len(result.records)} episodes errored (their error column in "
        f"{out / 'episodes.csv'}); re-run them with: python -m harness.run --out {out} "
        "--resume --retry-errors",
        file=sys.stderr,
    )
    return EXIT_EPISODE_ERRORS


def interrupted(out: Path | None) -> str:
    """The one line printed on Ctrl-C: what is kept and how to continue."""
    log = out / EPISODES if out else None
    if out is None or log is None or not log.exists():
        return "interrupted before any episode was recorded; nothing to keep"
    with log.open("rb") as fh:
        kept = sum(line.endswith(b"\n") for line in fh)
    return (
        f"interrupted: {kept} finished episodes are kept in {log}; continue with: "
        f"python -m harness.run --out {out} --resume"
    )


if __name__ == "__main__":
    sys.exit(main())
