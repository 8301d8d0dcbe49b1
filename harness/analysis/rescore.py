"""``python -m harness.analysis.rescore RUN_DIR --scorer SPEC``: re-rank the logged candidates of a
finished run with another scorer, without calling the policy.

For every step that logged candidates, the scorer scores them in the state rebuilt from the
trajectory (task from the first step's meta, earlier observations and actions, the step's
observation). Reports how often its argmax differs from the logged action and the mean Q (by
this scorer) of its choices and of the logged choices. Writes ``rescore-<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.base import Turn
from harness.records import latest_per_episode
from harness.store import ARCHIVE, TRAJECTORIES, RunStore, trajectory_name
from scoring.base import Scorer, State
from scoring.rerank import TASK_META

BATCH_STATES = 16


def decision_states(
    steps: list[dict[str, Any]], env_id: str = ""
) -> list[tuple[State, list[str], str]]:
    """(state, candidate actions, logged action) for each step of a trajectory with candidates
    (``env_id`` goes into each state: ``scorer=auto`` picks its model by the env's family)."""
    task = ""
    for s in steps:
        if TASK_META in (s.get("meta") or {}):
            task = str(s["meta"][TASK_META])
            break
    out: list[tuple[State, list[str], str]] = []
    history: list[Turn] = []
    for s in steps:
        if (s.get("meta") or {}).get("terminal"):
            break
        cands = [str(c["action"]) for c in s.get("candidates") or []]
        if cands:
            out.append(
                (
                    State(task, tuple(history), str(s["observation"]), env_id),
                    cands,
                    str(s["action"]),
                )
            )
        history.append(Turn(str(s["observation"]), str(s["action"])))
    return out


def _trajectories(store: RunStore) -> list[tuple[str, str]]:
    """Each stored trajectory (loose or packed) with its env id (from the episode log; ''
    without one)."""
    names = store.trajectory_names()
    if not store.episodes_path.exists():
        return [(n, "") for n in names]
    recs = latest_per_episode(store.load())
    out = [(trajectory_name(r.env_id, r.agent, r.seed), r.env_id) for r in recs]
    have = set(names)
    return sorted((n, e) for n, e in out if n in have)


def rescore_run(run_dir: str | Path, scorer: Scorer) -> dict[str, Any]:
    """Re-rank every logged decision of ``run_dir`` with ``scorer``; a summary dict."""
    store = RunStore(run_dir)
    if not (store.traj_dir.is_dir() or store.archive_path.is_file()):
        raise FileNotFoundError(
            f"{str(run_dir)!r} is not a run dir (no {TRAJECTORIES}/ or {ARCHIVE})"
        )
    items: list[tuple[State, list[str], str]] = []
    for name, env_id in _trajectories(store):
        items.extend(decision_states(store.steps(name), env_id))
    count = len(store.trajectory_names())
    store.close_archive()
    differ, q_new, q_logged = 0, [], []
    for i in range(0, len(items), BATCH_STATES):
        chunk = items[i : i + BATCH_STATES]
        scores = scorer.score([s for s, _, _ in chunk], [c for _, c, _ in chunk])
        for (_, cands, logged), sc in zip(chunk, scores, strict=True):
            best = max(range(len(cands)), key=lambda j: (sc[j], -j))
            differ += cands[best] != logged
            q_new.append(sc[best])
            if logged in cands:
                q_logged.append(sc[cands.index(logged)])
    n = len(items)
    return {
        "run": str(run_dir),
        "scorer": scorer.name,
        "decisions": n,
        "trajectories": count,
        "differ": differ,
        "differ_rate": differ / n if n else None,
        "mean_q_rescored_choice": sum(q_new) / n if n else None,
        "mean_q_logged_choice": sum(q_logged) / len(q_logged) if q_logged else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m harness.analysis.rescore", description=__doc__)
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument(
        "--scorer", required=True, help="Q model dir, bundled:NAME, auto[:KIND] or module:factory"
    )
    p.add_argument("--device", default="auto")
    ns = p.parse_args(argv)
    from scoring.models import load_scorer

    try:
        scorer = load_scorer(ns.scorer, device=ns.device)
        summary = rescore_run(ns.run, scorer)
    except (FileNotFoundError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", scorer.name).strip("_") or "scorer"
    out = Path(ns.run) / f"rescore-{name}.json"
    out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    rate = summary["differ_rate"]
    print(
        f"[rescore] {summary['decisions']} decisions: would choose differently in "
        f"{summary['differ']} ({'n/a' if rate is None else f'{rate:.1%}'}); mean Q of its "
        f"choices {summary['mean_q_rescored_choice']}, of the logged ones "
        f"{summary['mean_q_logged_choice']} -> {out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
