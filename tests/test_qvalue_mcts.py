"""UCT selection, backup and tree records on a scripted env with known Q values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring.proposers import AdmissibleProposer
from scoring.q.mcts import MCTS, MCTSConfig, Node, backup, select_action, tree_records, uct
from tests.fakes_qvalue import FakeChainEnv


def _search(iterations: int, depth: int = 5, gamma: float = 1.0, c: float = 1.0) -> Node:
    env = FakeChainEnv()
    obs, info = env.reset(seed=0, options={"split": "train"})
    cfg = MCTSConfig(iterations=iterations, k=8, depth=depth, c_uct=c, gamma=gamma)
    return MCTS(env, AdmissibleProposer(), cfg, np.random.default_rng(0)).search(obs, info)


def test_known_q_values_and_visit_counts() -> None:
    root = _search(30)
    kids = root.children
    assert set(kids) == {"win", "lose", "deeper"}
    assert kids["win"].q == 1.0
    assert kids["lose"].q == 0.0
    assert kids["deeper"].q == pytest.approx(0.5)
    assert root.visits == 30
    assert sum(c.visits for c in kids.values()) == 30
    assert kids["win"].visits > kids["deeper"].visits > kids["lose"].visits


def test_discount_and_depth_limit() -> None:
    assert _search(10, gamma=0.5).children["deeper"].q == pytest.approx(0.25)
    # at depth limit 1 the "deeper" child is a leaf: nothing below it is played
    shallow = _search(10, depth=1)
    assert shallow.children["deeper"].q == 0.0
    assert not shallow.children["deeper"].children
    # leaves (terminal or at the depth limit) are never restored to: no snapshot kept
    assert shallow.children["deeper"].snapshot is None and shallow.snapshot is not None
    assert _search(10).children["win"].snapshot is None


def test_uct_formula_and_untried_first() -> None:
    assert uct(0.5, 2, 10, 1.0) == pytest.approx(0.5 + math.sqrt(math.log(10) / 2))
    assert uct(0.0, 0, 10, 1.0) == math.inf
    root = _search(2)  # two iterations: "win" and "lose" tried, "deeper" not yet
    assert set(root.children) == {"win", "lose"}
    assert select_action(root, 1.0) == "deeper"


def test_backup_adds_entering_rewards_along_the_path() -> None:
    root = Node(0, None, "", "r", {}, 0.0, False, 0, None)
    mid = Node(1, root, "a", "m", {}, 0.25, False, 1, None)
    leaf = Node(2, mid, "b", "l", {}, 0.5, False, 2, None)
    backup(leaf, 1.0, gamma=0.5)
    assert leaf.q == pytest.approx(0.5 + 0.5 * 1.0)
    assert mid.q == pytest.approx(0.25 + 0.5 * 1.0)
    assert root.q == pytest.approx(0.0 + 0.5 * 0.75)
    assert (root.visits, mid.visits, leaf.visits) == (1, 1, 1)


def test_tree_records_hold_history_candidates_visits_and_q() -> None:
    root = _search(12)
    recs = tree_records(root, {"task_id": "train-0", "env_id": "fake", "seed": 0})
    by_id = {r["node_id"]: r for r in recs}
    top = by_id[root.id]
    assert top["history"] == [] and top["visits"] == 12
    assert [c["action"] for c in top["candidates"]] == ["win", "lose", "deeper"]
    assert {c["action"]: c["q"] for c in top["children"]}["win"] == 1.0
    mid = by_id[root.children["deeper"].id]
    assert mid["history"] == [["at start", "deeper"]]
    assert mid["observation"] == "at mid"
    assert all(r["visits"] > 0 for r in recs)


def test_random_rollouts_estimate_values_below_an_unexpanded_child() -> None:
    table = {
        "start": {"go": ("mid", 0.0, False)},
        "mid": {"x": ("end", 1.0, True), "y": ("end", 0.0, True)},
        "end": {},
    }
    env = FakeChainEnv(table)
    obs, info = env.reset(seed=0)
    cfg = MCTSConfig(iterations=40, k=8, depth=5, rollout="random")
    search = MCTS(env, AdmissibleProposer(), cfg, np.random.default_rng(1))
    root = search.search(obs, info)
    mid = root.children["go"]
    assert mid.children["x"].q == 1.0 and mid.children["y"].q == 0.0
    assert 0.5 < mid.q < 1.0  # UCT concentrates on x
    assert search.n_nodes == 4


class _ExpertChainEnv(FakeChainEnv):
    """Fake env whose expert always plays ``x`` at ``mid`` (the paying move)."""

    def expert_action(self) -> str | None:
        return "x" if self.state == "mid" else None


def test_expert_rollouts_follow_the_expert_with_chance_mix() -> None:
    table = {
        "start": {"go": ("mid", 0.0, False)},
        "mid": {f"y{i}": ("end", 0.0, True) for i in range(9)} | {"x": ("end", 1.0, True)},
        "end": {},
    }

    def first_rollout(mix: float, gamma: float = 1.0) -> float:
        env = _ExpertChainEnv(table)
        obs, info = env.reset(seed=0)
        cfg = MCTSConfig(iterations=1, k=1, depth=5, rollout="expert", mix=mix, gamma=gamma)
        return MCTS(env, AdmissibleProposer(), cfg, np.random.default_rng(3)).search(obs, info).q

    assert first_rollout(1.0) == 1.0  # the expert's move from mid
    assert first_rollout(0.0) == 0.0  # random admissible: seed 3 draws a losing y
    # the default discount: the reward two steps below the root is worth 0.95 ** 2 there
    assert first_rollout(1.0, MCTSConfig().gamma) == pytest.approx(0.95**2)


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="rollout"):
        MCTSConfig(rollout="greedy").validate()
    with pytest.raises(ValueError, match="iterations"):
        MCTSConfig(iterations=0).validate()
