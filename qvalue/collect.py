"""``python -m qvalue.collect``: MCTS search trees over the train split of an env, as JSONL.

The defaults are Zhai et al.'s recipe, searched by the policy that will be guided: the ReAct
proposer on ``local?adapter=auto`` (each family's SFT adapter, the base model where a family
has none), 30 iterations, 5 candidates per expansion, depth 15, rollouts by that policy and
a discount gamma = 0.95. The fast path is the default too: the k candidates of an expansion
come from one sampled request of k replies sharing one prompt evaluation on the server's
parallel slots, then the greedy reply from the cached prompt (``--expand sample``), a
rollout step is one policy call (``--rollout-step decide``) and nodes are restored from env
snapshots (``--restore snapshot``); ``--expand score --rollout-step propose --restore
replay`` is the path before. ``--workers N`` searches N tasks at once, each worker process
with its own llama.cpp server (``--backend ray`` spreads them over a cluster).

A run dir holds ``collect.json`` (settings, env fingerprint, git commit), ``trees/<task>.jsonl``
(one record per visited node: task id, history as ``[[observation, action], ...]``,
observation, candidate actions, visits, Q, children) and ``tasks.jsonl`` (one line per finished
task). A tree file is written by rename before its task line is appended (one fsynced
``O_APPEND`` write), so ``--resume`` skips exactly the finished tasks.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from envs.files import append_line, atomic_write
from harness.api import log_to_stderr
from harness.backends import BackendError, describe, make_backend
from harness.config import key_values
from harness.errors import one_line
from harness.store import RunDirError, RunLock, storage_errors
from scoring.q.mcts import (
    MCTS,
    RESTORES,
    ROLLOUT_STEPS,
    ROLLOUTS,
    MCTSConfig,
    tree_records,
)
from scoring.q.trees import (
    SETTINGS_FILE,
    TASKS_FILE,
    TREES,
    CollectError,
    done_seeds,
    task_file,
)

_log = logging.getLogger("qharness")

TRAIN = "train"
# Settings that must match when a run is resumed.
SEARCH_KEYS = ("env_id", "env_options", "proposer", "policy", "mcts", "seed", "proposer_options")
# MCTS settings a run written before they existed did with its search
LEGACY_MCTS = {"rollout_step": "propose", "restore": "snapshot"}
DEFAULT_POLICY = "local?adapter=auto&parallel=5"  # one slot per sampled reply (k = 5)
EXPANDS = ("sample", "score", "agent")


@dataclass(frozen=True)
class CollectSettings:
    """What a collection run searches: env, tasks (seeds), proposer and MCTS settings."""

    env_id: str
    tasks: int
    mcts: MCTSConfig
    proposer: str = "react"
    policy: str = DEFAULT_POLICY
    seed: int = 0
    env_options: dict[str, Any] = field(default_factory=dict)
    proposer_options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class TaskResult:
    """One searched task: its tree records and summary (``summary['error']`` if it failed)."""

    seed: int
    records: list[dict[str, Any]]
    summary: dict[str, Any]


@dataclass(frozen=True)
class CollectTask:
    """The ``harness.backends.TaskSpec`` of collection: a job is a task seed."""

    settings: CollectSettings

    def start(self) -> CollectTask:
        """Nothing heavy to build per worker: each task makes its own env and proposer."""
        return self

    def run(self, seed: int) -> TaskResult:
        """Search one task; an exception becomes an error result."""
        try:
            return search_task(self.settings, seed)
        except Exception as exc:  # a bad task never stops the collection
            return self.lost(seed, describe(exc))

    def close(self) -> None:
        """Nothing to release."""

    def lost(self, seed: int, error: str) -> TaskResult:
        """A task whose search raised or whose worker died: not written, so resume reruns it."""
        return TaskResult(seed, [], {"seed": seed, "task_id": f"seed-{seed}", "error": error})


def write_task(out: Path, res: TaskResult) -> None:
    """Driver side: the tree file by rename, then its line in the task log (resume unit)."""
    atomic_write(
        out / TREES / task_file(res.seed), "".join(json.dumps(r) + "\n" for r in res.records)
    )
    append_line(out / TASKS_FILE, (json.dumps(res.summary) + "\n").encode())


def search_task(settings: CollectSettings, seed: int) -> TaskResult:
    """Search one task (train split, reset with ``seed``); writes nothing."""
    import gymnasium as gym

    import envs  # noqa: F401 - registers the harness/ ids
    from scoring.proposers import make_proposer, reset_proposer

    env = gym.make(settings.env_id, **settings.env_options)
    try:
        base = env.unwrapped
        proposer = make_proposer(
            settings.proposer, settings.policy, settings.seed, settings.proposer_options
        )
        t0 = time.perf_counter()
        obs, info = base.reset(seed=seed, options={"split": TRAIN})
        if info.get("split", TRAIN) != TRAIN:
            raise CollectError(f"{settings.env_id} reset into split {info.get('split')!r}")
        reset_proposer(proposer, str(info.get("task", "")), seed)
        rng = np.random.default_rng([settings.seed, seed, 0xC011])
        search = MCTS(base, proposer, settings.mcts, rng, settings.env_id)
        root = search.search(obs, info)
        wall = time.perf_counter() - t0
    finally:
        env.close()
    task_id = str(info.get("task_id") or f"seed-{seed}")
    meta = {"env_id": settings.env_id, "task_id": task_id, "seed": seed}
    records = tree_records(root, meta)
    summary = {
        **meta,
        "tree": f"{TREES}/{task_file(seed)}",
        "nodes": search.n_nodes,
        "env_steps": search.env_steps,
        "root_visits": root.visits,
        "root_q": root.q,
        "best_child_q": max((c.q for c in root.children.values()), default=0.0),
        "wall_s": round(wall, 4),
    }
    return TaskResult(seed, records, summary)


def prepare(
    out: Path, settings: CollectSettings, resume: bool, env_fingerprint: str = ""
) -> set[int]:
    """Create the run dir (or check it matches on resume); return the finished seeds."""
    settings_path = out / SETTINGS_FILE
    if settings_path.exists():
        if not resume:
            raise CollectError(
                f"{str(out)!r} already holds a collection: pass --resume or choose another --out"
            )
        old = _comparable(_stored_settings(settings_path))
        new = _comparable(json.loads(json.dumps(settings.to_dict())))
        diff = [k for k in SEARCH_KEYS if old.get(k) != new.get(k)]
        if diff:
            raise CollectError(
                f"--resume with other settings ({', '.join(diff)}) than {str(settings_path)!r}; "
                "use the same flags or another --out"
            )
    (out / TREES).mkdir(parents=True, exist_ok=True)
    from harness.leaderboard import git_commit

    info = {"settings": settings.to_dict(), "git_commit": git_commit(), "split": TRAIN}
    info["env_fingerprint"] = env_fingerprint or check_settings(settings)
    atomic_write(settings_path, json.dumps(info, indent=2, sort_keys=True))
    return done_seeds(out)


def _comparable(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as resume compares them: MCTS keys newer than the run filled with what it did,
    and the restore mode left out (snapshot and replay reach the same states)."""
    out = {**settings, "proposer_options": settings.get("proposer_options", {})}
    if isinstance(out.get("mcts"), dict):
        out["mcts"] = {**LEGACY_MCTS, **out["mcts"]}
        out["mcts"].pop("restore", None)
    return out


def _stored_settings(path: Path) -> dict[str, Any]:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))["settings"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CollectError(
            f"{str(path)!r} is not a collection's settings file ({one_line(exc)}): "
            "choose another --out"
        ) from None
    if not isinstance(old, dict):
        raise CollectError(f"{str(path)!r} is not a collection's settings file: another --out")
    return old


def check_settings(settings: CollectSettings) -> str:
    """Make the env once and build the proposer once (CollectError naming the bad setting),
    before anything is written; the env's fingerprint."""
    import gymnasium as gym

    import envs  # noqa: F401
    from envs.base import fingerprint
    from scoring.proposers import make_proposer

    opts = settings.env_options
    try:
        env = gym.make(settings.env_id, **opts)
    except Exception as exc:
        raise CollectError(
            f"env {settings.env_id!r} cannot be made with --env-opt {opts}: {one_line(exc)}"
        ) from None
    try:
        own = getattr(env.unwrapped, "env_fingerprint", lambda: "none")()
    finally:
        env.close()
    try:
        proposer = make_proposer(
            settings.proposer, settings.policy, settings.seed, settings.proposer_options
        )
    except Exception as exc:
        raise CollectError(f"--proposer {settings.proposer!r}: {one_line(exc)}") from None
    close = getattr(proposer, "close", None)
    if callable(close):
        close()
    return fingerprint(settings.env_id, own, opts)


def collect(
    settings: CollectSettings,
    out: str | Path,
    workers: int = 1,
    resume: bool = False,
    backend: str = "local",
    ray_address: str = "",
) -> list[dict[str, Any]]:
    """Search every task not yet done on ``backend`` (local: ``workers`` processes; ray: Ray
    tasks); only this process writes the run dir, so resume is the same for both. Returns the
    summaries of the tasks searched (failed ones carry ``error`` and are rerun on resume)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CollectError(f"--out {str(out)!r} is a file: give a directory")
    fp = check_settings(settings)
    with storage_errors(out):
        out.mkdir(parents=True, exist_ok=True)
    with RunLock(out), storage_errors(out, "continue with --resume"):
        return _collect(settings, out, workers, resume, (backend, ray_address), fp)


def _collect(
    settings: CollectSettings,
    out: Path,
    workers: int,
    resume: bool,
    where: tuple[str, str],
    fp: str,
) -> list[dict[str, Any]]:
    backend, address = where
    done = prepare(out, settings, resume, fp)
    seeds = [settings.seed + i for i in range(settings.tasks)]
    todo = [s for s in seeds if s not in done]
    _log.info(
        f"[collect] {out}: {len(todo)} tasks to search ({len(seeds) - len(todo)} done)",
    )
    spec = CollectTask(settings)
    if backend == "local" and (workers <= 1 or len(todo) <= 1):
        return _report((_written(out, spec.run(s)) for s in todo), len(todo))
    runner = make_backend(backend, workers, address, processes=True)
    try:
        return _report((_written(out, r) for r in runner.map(spec, todo)), len(todo))
    finally:
        runner.close()


def _written(out: Path, res: TaskResult) -> dict[str, Any]:
    if "error" not in res.summary:
        write_task(out, res)
    return res.summary


def _report(results: Iterable[dict[str, Any]], total: int) -> list[dict[str, Any]]:
    out = []
    for i, r in enumerate(results, 1):
        out.append(r)
        if "error" in r:
            _log.warning(f"[collect] {i}/{total} seed {r['seed']} FAILED: {r['error']}")
            continue
        _log.info(
            f"[collect] {i}/{total} {r['task_id']}: {r['nodes']} nodes, "
            f"root Q {r['root_q']:.3f}, best child Q {r['best_child_q']:.3f}, {r['wall_s']:.2f}s"
        )
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """CLI flags."""
    p = argparse.ArgumentParser(prog="python -m qvalue.collect", description=__doc__)
    p.add_argument("--env", required=True, metavar="ID", help="env id (train split is used)")
    p.add_argument("--tasks", type=int, default=10, help="tasks: reset seeds seed..seed+N-1")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iterations", type=int, default=30, help="MCTS iterations per task")
    p.add_argument("--k", type=int, default=5, help="children proposed per node")
    p.add_argument("--depth", type=int, default=15, help="max steps from the task start")
    p.add_argument("--c-uct", type=float, default=1.0, dest="c_uct")
    p.add_argument("--rollout", choices=ROLLOUTS, default="policy",
                   help="who plays a rollout: the proposer's policy (default), random "
                   "admissible actions, a mix of both, or the env's privileged expert")  # fmt: skip
    p.add_argument("--mix", type=float, default=0.5, help="policy-step chance in mix rollouts")
    p.add_argument("--gamma", type=float, default=0.95,
                   help="discount of the return (< 1: a detour costs value)")  # fmt: skip
    p.add_argument("--rollout-step", choices=ROLLOUT_STEPS, default="decide",
                   help="policy rollout step: one decide() call, or a propose()")  # fmt: skip
    p.add_argument("--restore", choices=RESTORES, default="snapshot",
                   help="return to a node by the env's snapshot, or by reset + replay")  # fmt: skip
    p.add_argument("--expand", choices=EXPANDS, default="sample",
                   help="an agent proposer's candidates: k replies sampled in one request "
                   "(sample), every admissible action scored (score), or as the agent's "
                   "options say (agent)")  # fmt: skip
    p.add_argument("--proposer", default="react", help="'admissible' or an agent name")
    p.add_argument("--policy", default=DEFAULT_POLICY, help="policy spec for LLM proposers")
    p.add_argument("--proposer-opt", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--env-opt", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--split", default=TRAIN, help="must be train (collection never sees test)")
    p.add_argument("--workers", type=int, default=1, help="tasks searched at once (processes)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--backend", choices=["local", "ray"], default="local")
    p.add_argument("--ray-address", default="", help="existing cluster (auto, ray://host:port)")
    return p.parse_args(argv)


def settings_from_args(ns: argparse.Namespace) -> CollectSettings:
    """Validated settings from parsed flags."""
    if ns.split != TRAIN:
        raise CollectError(f"collection uses the train split only (got --split {ns.split})")
    if ns.tasks < 1 or ns.workers < 1:
        raise CollectError("--tasks and --workers must be >= 1")
    import gymnasium as gym

    import envs  # noqa: F401

    if ns.env not in gym.registry:
        raise CollectError(f"unknown env {ns.env!r} (python -m harness.run --list shows all)")
    try:
        mcts = MCTSConfig(
            ns.iterations,
            ns.k,
            ns.depth,
            ns.c_uct,
            ns.rollout,
            ns.mix,
            ns.gamma,
            ns.rollout_step,
            ns.restore,
        )
        mcts.validate()
    except ValueError as exc:
        raise CollectError(str(exc)) from None
    return CollectSettings(
        ns.env,
        ns.tasks,
        mcts,
        ns.proposer,
        ns.policy,
        ns.seed,
        key_values(ns.env_opt, "--env-opt"),
        expand_options(ns.proposer, ns.expand, ns.k, key_values(ns.proposer_opt, "--proposer-opt")),
    )


def expand_options(proposer: str, expand: str, k: int, opts: dict[str, Any]) -> dict[str, Any]:
    """The proposer options with ``--expand``'s: ``sample`` sets ``propose_mode=sample`` and
    ``samples=k`` (one request of k replies per node), ``score`` sets ``propose_mode=score``,
    where the agent takes them; options given with ``--proposer-opt`` win."""
    if proposer == "admissible" or expand == "agent":
        return opts
    from agents.registry import AGENTS, accepts

    if proposer not in AGENTS.names() or not accepts(proposer, "propose_mode"):
        return opts
    out = {"propose_mode": expand, **({"samples": k} if expand == "sample" else {})}
    return {**out, **opts}


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    log_to_stderr()
    ns = parse_args(argv)
    try:
        settings = settings_from_args(ns)
        t0 = time.perf_counter()
        results = collect(settings, ns.out, ns.workers, ns.resume, ns.backend, ns.ray_address)
    except (CollectError, BackendError, RunDirError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished tasks are kept in {ns.out}; continue with the same "
            "command and --resume",
            file=sys.stderr,
        )
        return 130
    wall = time.perf_counter() - t0
    nodes = sum(r.get("nodes", 0) for r in results)
    print(
        f"[collect] {len(results)} tasks, {nodes} nodes in {wall:.1f}s "
        f"({nodes / wall if wall > 0 else 0:.0f} nodes/s with {ns.workers} workers)",
        file=sys.stderr,
    )
    failed = sum("error" in r for r in results)
    if failed:
        print(
            f"[collect] {failed} of {len(results)} tasks failed (not written); search them "
            "again with the same command and --resume",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
