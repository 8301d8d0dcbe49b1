"""Preference pairs: best vs worst, margin, min visits, dedupe, split by task, hashed files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.q.pairs import (
    HELDOUT,
    TRAIN,
    Pair,
    best_path,
    build_pairs,
    dedupe,
    meta_path,
    node_pairs,
    read_pairs,
    split_by_task,
    tree_pairs,
    write_pairs,
)


def node(task: str = "t0", qs: dict[str, float] | None = None, visits: int = 3) -> dict[str, Any]:
    qs = qs if qs is not None else {"a": 0.9, "b": 0.5, "c": 0.45, "d": 0.1}
    return {
        "env_id": "env",
        "task_id": task,
        "task": "do it",
        "history": [["first", "look"]],
        "observation": f"obs of {task}",
        "children": [{"action": a, "q": q, "visits": visits} for a, q in qs.items()],
    }


def test_best_vs_worst_plus_pairs_above_margin() -> None:
    got = {(p.chosen, p.rejected) for p in node_pairs(node(), margin=0.3)}
    assert got == {("a", "d"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}
    only = node_pairs(node(), margin=10.0)
    assert [(p.chosen, p.rejected, p.q_chosen, p.q_rejected) for p in only] == [
        ("a", "d", 0.9, 0.1)
    ]
    assert only[0].history == (("first", "look"),)


def test_ties_and_min_visits_give_no_pairs() -> None:
    assert node_pairs(node(qs={"a": 0.5, "b": 0.5})) == []
    assert node_pairs(node(visits=1), min_visits=2) == []
    assert node_pairs(node(qs={"a": 1.0})) == []


def test_dedupe_keeps_one_pair_per_state_and_actions() -> None:
    pairs = node_pairs(node(), margin=0.3) + node_pairs(node(visits=9), margin=0.3)
    kept = dedupe(pairs)
    assert len(kept) == 5
    assert all(p.visits_chosen == 9 for p in kept)  # the better-visited copy wins


def test_split_is_by_task_never_by_pair() -> None:
    nodes = [node(f"t{i}") for i in range(10)]
    pairs = build_pairs(nodes, margin=0.3, heldout=0.3, seed=1)
    held = {p.task_id for p in pairs if p.split == HELDOUT}
    train = {p.task_id for p in pairs if p.split == TRAIN}
    assert len(held) == 3 and not held & train
    assert build_pairs(nodes, margin=0.3, heldout=0.3, seed=1) == pairs  # deterministic


@settings(max_examples=40, deadline=None)
@given(
    tasks=st.lists(st.integers(0, 6), min_size=1, max_size=30),
    frac=st.floats(0.0, 0.9),
    seed=st.integers(0, 5),
)
def test_split_property_no_task_on_both_sides(tasks: list[int], frac: float, seed: int) -> None:
    pairs = [p for t in tasks for p in node_pairs(node(f"t{t}"))]
    out = split_by_task(pairs, frac, seed)
    held = {p.task_id for p in out if p.split == HELDOUT}
    assert not held & {p.task_id for p in out if p.split == TRAIN}
    if len({p.task_id for p in pairs}) >= 2 and frac > 0:
        assert held  # at least one task held out
    assert len(out) == len(pairs)


def test_files_roundtrip_with_hash(tmp_path: Path) -> None:
    pairs = build_pairs([node(f"t{i}") for i in range(4)], margin=0.3)
    meta = write_pairs(tmp_path / "p.jsonl", pairs, {"sources": ["x"]})
    back, meta2 = read_pairs(tmp_path / "p.jsonl")
    assert back == pairs and meta2["hash"] == meta["hash"]
    assert meta["pairs"] == len(pairs) == meta["train_pairs"] + meta["heldout_pairs"]
    data = json.loads(meta_path(tmp_path / "p.jsonl").read_text())
    assert data["hash"] == meta["hash"]
    with open(tmp_path / "p.jsonl", "a") as fh:
        fh.write(json.dumps(pairs[0].to_dict()) + "\n")
    with pytest.raises(ValueError, match="meta hash"):
        read_pairs(tmp_path / "p.jsonl")


def tree_node(
    node_id: int, parent: int | None, kids: dict[str, tuple[int, float]]
) -> dict[str, Any]:
    """A tree record of task t0 (seed 5) with children ``action -> (node id, q)``."""
    rec = node("t0", {a: q for a, (_, q) in kids.items()})
    rec.update(node_id=node_id, parent_id=parent, seed=5, observation=f"obs {node_id}")
    for child in rec["children"]:
        child["node_id"] = kids[child["action"]][0]
    return rec


TREE = [
    tree_node(0, None, {"a": (1, 0.9), "b": (2, 0.5), "c": (3, 0.45)}),
    tree_node(1, 0, {"x": (4, 0.8), "y": (5, 0.1)}),  # under the best child: on the best path
    tree_node(2, 0, {"u": (6, 0.6), "v": (7, 0.55)}),  # off the path, gap below the margin
    tree_node(4, 1, {"p": (8, 0.7), "q": (9, 0.69)}),  # on the path, tiny gap
]


def test_pair_rules_best_path_margin_and_all_nodes() -> None:
    assert best_path(TREE) == {("env", "t0", 5, i) for i in (0, 1, 4)}

    def got(rule: str) -> set[tuple[str, str]]:
        return {(p.chosen, p.rejected) for p in tree_pairs(TREE, 0.1, 1, rule)}

    assert got("best-path") == {("a", "c"), ("x", "y"), ("p", "q")}
    assert got("best-path+margin") == {("a", "c"), ("a", "b"), ("x", "y"), ("p", "q")}
    assert got("all-nodes") == got("best-path+margin") | {("u", "v")}
    assert {p.seed for p in tree_pairs(TREE)} == {5}
    with pytest.raises(ValueError, match="pair rule"):
        tree_pairs(TREE, rule="everything")


def test_train_tasks_cut_the_training_pairs_and_keep_the_held_out_set() -> None:
    nodes = [{**node(f"t{i}"), "seed": 100 + i} for i in range(10)]
    full = build_pairs(nodes, margin=0.3, heldout=0.3, seed=1)
    held = {p.task_id for p in full if p.split == HELDOUT}
    for n in (2, 5):
        part = build_pairs(nodes, margin=0.3, heldout=0.3, seed=1, train_tasks=n)
        assert {p.task_id for p in part if p.split == HELDOUT} == held
        train = sorted({(p.seed, p.task_id) for p in part if p.split == TRAIN})
        everyone = sorted({(p.seed, p.task_id) for p in full if p.split == TRAIN})
        assert train == everyone[:n]  # the first n train tasks by collection seed
    assert build_pairs(nodes, margin=0.3, heldout=0.3, seed=1, train_tasks=0) == full
    back = Pair.from_dict({k: v for k, v in full[0].to_dict().items() if k != "seed"})
    assert back.seed == -1  # pair files written before seeds were recorded still load
