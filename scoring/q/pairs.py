"""Step-level preference pairs from MCTS trees: ``python -m qvalue.pairs RUN_DIR... --out F``.

Rules (``rule``): ``best-path+margin`` (default) is Zhai et al.'s pair, the best vs the worst
child (by Q, when strictly better) at each node along the tree's best path (from the root,
the child with the highest Q, then most visits), plus every (better, worse) pair at any node
whose Q gap is at least ``margin``; ``best-path`` is the paper's pairs alone; ``all-nodes``
(the rule before) takes best vs worst at every node plus the margin pairs. Pairs are
deduplicated by (env, task, state, chosen, rejected), and held-out pairs are chosen by TASK,
never by pair, so no held-out state shares a task with a training pair. Every pair carries its
task id and collection seed; ``train_tasks=N`` keeps the training pairs of the first N train
tasks of each env (lowest seeds) and every held-out pair, so that models trained on 50, 100,
300, ... tasks share one held-out set (a learning curve). The JSONL file has one pair per line
(``split`` = train | heldout); ``<out>.meta.json`` holds counts, settings and the data hash
(sha256 of the file's bytes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from envs.files import atomic_write
from scoring.base import State
from scoring.text import state_from_record

TRAIN, HELDOUT = "train", "heldout"
RULES = ("best-path+margin", "best-path", "all-nodes")


@dataclass(frozen=True)
class Pair:
    """A preference between two actions in one state, with their Q estimates."""

    env_id: str
    task_id: str
    task: str
    history: tuple[tuple[str, str], ...]
    observation: str
    chosen: str
    rejected: str
    q_chosen: float
    q_rejected: float
    visits_chosen: int
    visits_rejected: int
    split: str = TRAIN
    seed: int = -1  # the collection's reset seed of the task (-1: not recorded)

    @property
    def state_key(self) -> str:
        """Hash of the state (task, history, observation)."""
        blob = json.dumps([self.task, self.history, self.observation])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def state(self) -> State:
        """The decision state of the pair (what a Q model scores)."""
        return state_from_record(self.task, self.history, self.observation)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Identity used for deduplication."""
        return (self.env_id, self.task_id, self.state_key, self.chosen, self.rejected)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (history as lists)."""
        d = asdict(self)
        d["history"] = [list(t) for t in self.history]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Pair:
        """Inverse of ``to_dict``."""
        d = dict(d)
        d["history"] = tuple((str(o), str(a)) for o, a in d["history"])
        return cls(**d)


def node_pairs(
    node: dict[str, Any], margin: float = 0.1, min_visits: int = 1, best_worst: bool = True
) -> list[Pair]:
    """Pairs of one tree node: best vs worst child (``best_worst``), plus every other pair
    with Q gap >= ``margin``; the chosen child always has the strictly higher Q."""
    kids = [c for c in node.get("children", []) if c["visits"] >= min_visits]
    if len(kids) < 2:
        return []
    kids = sorted(kids, key=lambda c: (-c["q"], c["action"]))
    best, worst = kids[0], kids[-1]
    chosen: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if best["q"] > worst["q"] and (best_worst or best["q"] - worst["q"] >= margin):
        chosen.append((best, worst))
    for i, a in enumerate(kids):
        for b in kids[i + 1 :]:
            if (a, b) != (best, worst) and a["q"] - b["q"] >= margin and a["q"] > b["q"]:
                chosen.append((a, b))
    history = tuple((str(o), str(a)) for o, a in node["history"])
    return [
        Pair(
            str(node["env_id"]),
            str(node["task_id"]),
            str(node.get("task", "")),
            history,
            str(node["observation"]),
            a["action"],
            b["action"],
            float(a["q"]),
            float(b["q"]),
            int(a["visits"]),
            int(b["visits"]),
            seed=int(node.get("seed", -1)),
        )
        for a, b in chosen
    ]


def _tree_key(node: dict[str, Any]) -> tuple[str, str, int]:
    return (str(node["env_id"]), str(node["task_id"]), int(node.get("seed", -1)))


def best_path(nodes: Sequence[dict[str, Any]], min_visits: int = 1) -> set[tuple[Any, ...]]:
    """Keys (env, task, seed, node id) of the nodes on each tree's best path: from the root,
    the child with the highest Q (then most visits, then action) among those with at least
    ``min_visits`` visits, while that child was recorded."""
    by_id = {(*_tree_key(n), n.get("node_id")): n for n in nodes}
    path: set[tuple[Any, ...]] = set()
    for n in nodes:
        if n.get("parent_id") is not None:
            continue
        node: dict[str, Any] | None = n
        while node is not None:
            key = (*_tree_key(node), node.get("node_id"))
            if key in path:
                break
            path.add(key)
            kids = [c for c in node.get("children", []) if c["visits"] >= min_visits]
            if not kids:
                break
            top = min(kids, key=lambda c: (-c["q"], -c["visits"], c["action"]))
            node = by_id.get((*_tree_key(node), top.get("node_id")))
    return path


def tree_pairs(
    nodes: Sequence[dict[str, Any]],
    margin: float = 0.1,
    min_visits: int = 1,
    rule: str = RULES[0],
) -> list[Pair]:
    """Pairs of all nodes of some trees under ``rule`` (see the module docstring)."""
    if rule not in RULES:
        raise ValueError(f"pair rule must be one of {', '.join(RULES)}, got {rule!r}")
    if rule == "all-nodes":
        return [p for node in nodes for p in node_pairs(node, margin, min_visits)]
    on_path = best_path(nodes, min_visits)
    out: list[Pair] = []
    for node in nodes:
        on = (*_tree_key(node), node.get("node_id")) in on_path
        if rule == "best-path":
            out += node_pairs(node, math.inf, min_visits) if on else []
        else:
            out += node_pairs(node, margin, min_visits, best_worst=on)
    return out


def dedupe(pairs: Iterable[Pair]) -> list[Pair]:
    """One pair per key (the most visited one), in first-seen order."""
    kept: dict[tuple[str, ...], Pair] = {}
    for p in pairs:
        old = kept.get(p.key)
        if old is None or p.visits_chosen + p.visits_rejected > (
            old.visits_chosen + old.visits_rejected
        ):
            kept[p.key] = p
    return list(kept.values())


def split_by_task(pairs: Sequence[Pair], heldout: float = 0.2, seed: int = 0) -> list[Pair]:
    """Mark the pairs of a seeded ``heldout`` fraction of tasks (at least one task when there
    are two or more and ``heldout > 0``) as held out."""
    tasks = sorted({(p.env_id, p.task_id) for p in pairs})
    n_held = 0
    if heldout > 0 and len(tasks) >= 2:
        n_held = min(len(tasks) - 1, max(1, math.ceil(heldout * len(tasks))))
    order = np.random.default_rng(seed).permutation(len(tasks))
    held = {tasks[int(i)] for i in order[:n_held]}
    return [replace(p, split=HELDOUT if (p.env_id, p.task_id) in held else TRAIN) for p in pairs]


def first_tasks(pairs: Sequence[Pair], n: int) -> list[Pair]:
    """Every held-out pair, and the training pairs of the first ``n`` train tasks of each env
    (ordered by collection seed, then task id); ``n <= 0`` keeps all."""
    if n <= 0:
        return list(pairs)
    tasks = sorted({(p.env_id, p.seed, p.task_id) for p in pairs if p.split == TRAIN})
    kept: set[tuple[str, str]] = set()
    per_env: dict[str, int] = {}
    for env_id, _, task_id in tasks:
        if per_env.get(env_id, 0) < n:
            per_env[env_id] = per_env.get(env_id, 0) + 1
            kept.add((env_id, task_id))
    return [p for p in pairs if p.split == HELDOUT or (p.env_id, p.task_id) in kept]


def build_pairs(
    nodes: Iterable[dict[str, Any]],
    margin: float = 0.1,
    min_visits: int = 1,
    heldout: float = 0.2,
    seed: int = 0,
    rule: str = RULES[0],
    train_tasks: int = 0,
) -> list[Pair]:
    """Pairs of all nodes under ``rule``, deduplicated, split by task, and cut to the first
    ``train_tasks`` train tasks of each env (0: all)."""
    raw = tree_pairs(list(nodes), margin, min_visits, rule)
    return first_tasks(split_by_task(dedupe(raw), heldout, seed), train_tasks)


def write_pairs(path: str | Path, pairs: Sequence[Pair], meta: dict[str, Any]) -> dict[str, Any]:
    """Write the JSONL file and ``<path>.meta.json``; return the meta (with ``hash``)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(x.to_dict(), sort_keys=True) + "\n" for x in pairs)
    atomic_write(p, text)
    data = text.encode()
    full = {
        **meta,
        "hash": hashlib.sha256(data).hexdigest(),
        "pairs": len(pairs),
        "train_pairs": sum(x.split == TRAIN for x in pairs),
        "heldout_pairs": sum(x.split == HELDOUT for x in pairs),
        "tasks": len({(x.env_id, x.task_id) for x in pairs}),
        "train_tasks": len({(x.env_id, x.task_id) for x in pairs if x.split == TRAIN}),
        "heldout_tasks": sorted({x.task_id for x in pairs if x.split == HELDOUT}),
        "env_ids": sorted({x.env_id for x in pairs}),
    }
    meta_path(p).write_text(json.dumps(full, indent=2, sort_keys=True), encoding="utf-8")
    return full


def meta_path(path: str | Path) -> Path:
    """Where the meta of a pairs file lives."""
    p = Path(path)
    return p.with_name(p.name + ".meta.json")


def read_pairs(path: str | Path) -> tuple[list[Pair], dict[str, Any]]:
    """Pairs and meta of a pairs file; the meta's hash is checked against the file."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"pairs file {str(p)!r} does not exist: build it with scoring.q.pairs"
        )
    if not p.is_file():
        raise ValueError(f"pairs file {str(p)!r} is not a file: give a pairs .jsonl file")
    data = p.read_bytes()
    meta = _read_meta(meta_path(p))
    digest = hashlib.sha256(data).hexdigest()
    if meta.get("hash") and meta["hash"] != digest:
        raise ValueError(f"pairs file {str(p)!r} does not match its meta hash: rebuild it")
    meta["hash"] = digest
    pairs = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            pairs.append(Pair.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"pairs file {str(p)!r} line {n} is not a pair ({type(exc).__name__}: "
                f"{str(exc)[:120]}): rebuild it with python -m qvalue.pairs"
            ) from None
    return pairs, meta


def _read_meta(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise ValueError(
            f"pairs meta file {str(path)!r} cannot be read ({str(exc)[:120]}): rebuild the "
            "pairs with python -m qvalue.pairs"
        ) from None
    if not isinstance(meta, dict):
        raise ValueError(f"pairs meta file {str(path)!r} is not a JSON object: rebuild it")
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    from scoring.q.trees import SETTINGS_FILE, CollectError, load_trees

    p = argparse.ArgumentParser(prog="python -m qvalue.pairs", description=__doc__)
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="collection run dirs")
    p.add_argument("--out", required=True, metavar="FILE.jsonl")
    p.add_argument("--margin", type=float, default=0.1, help="Q gap for non best-worst pairs")
    p.add_argument("--min-visits", type=int, default=1, help="children with fewer are ignored")
    p.add_argument("--heldout", type=float, default=0.2, help="fraction of TASKS held out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rule", choices=RULES, default=RULES[0], help="which pairs (see above)")
    p.add_argument(
        "--train-tasks",
        type=int,
        default=0,
        metavar="N",
        help="keep the training pairs of the first N train tasks per env (0: all)",
    )
    ns = p.parse_args(argv)
    nodes, sources = [], []
    try:
        for run in ns.runs:
            nodes.extend(load_trees(run))
            settings = json.loads((Path(run) / SETTINGS_FILE).read_text())["settings"]
            keys = ("env_id", "proposer", "policy", "proposer_options", "mcts")
            sources.append({"run": str(run), **{k: settings[k] for k in keys if k in settings}})
    except (CollectError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        pairs = build_pairs(
            nodes, ns.margin, ns.min_visits, ns.heldout, ns.seed, ns.rule, ns.train_tasks
        )
    except (KeyError, TypeError, ValueError) as exc:
        print(f"error: tree records cannot be paired ({exc!r}); recollect them", file=sys.stderr)
        return 2
    settings_meta = {
        "margin": ns.margin,
        "min_visits": ns.min_visits,
        "heldout": ns.heldout,
        "rule": ns.rule,
        "train_tasks": ns.train_tasks,
    }
    meta = write_pairs(
        ns.out, pairs, {"sources": sources, "settings": {**settings_meta, "seed": ns.seed}}
    )
    print(
        f"[pairs] {meta['pairs']} pairs ({meta['train_pairs']} train, {meta['heldout_pairs']} "
        f"held out over {len(meta['heldout_tasks'])} tasks) from {len(nodes)} nodes -> {ns.out} "
        f"(hash {meta['hash'][:12]})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
