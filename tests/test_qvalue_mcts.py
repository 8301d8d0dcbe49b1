"""UCT selection, backup and tree records on a scripted env with known Q values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from agents.base import Candidate, Decision
from envs.toy import KeyChestEnv
from scoring.proposers import AdmissibleProposer
from scoring.q.mcts import MCTS, MCTSConfig, Node, backup, select_action, tree_records, uct
from tests.fakes_qvalue import CHAIN, FakeChainEnv


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


def test_defaults_are_the_papers_recipe_with_a_discount() -> None:
    cfg = MCTSConfig()
    assert (cfg.iterations, cfg.k, cfg.depth, cfg.rollout) == (30, 5, 15, "policy")
    assert 0.0 < cfg.gamma < 1.0
    assert (cfg.rollout_step, cfg.restore) == ("decide", "snapshot")
    with pytest.raises(ValueError, match="restore"):
        MCTSConfig(restore="copy").validate()
    with pytest.raises(ValueError, match="rollout_step"):
        MCTSConfig(rollout_step="act").validate()


class _CountingPolicy:
    """Fake policy proposer: the admissible actions in order; counts propose/decide calls."""

    def __init__(self) -> None:
        self.proposes: list[int] = []
        self.decides = 0

    def propose(self, step: Any, k: int) -> list[Candidate]:
        self.proposes.append(k)
        return [Candidate(a) for a in step.admissible_actions[:k]]

    def decide(self, step: Any) -> Decision:
        self.decides += 1
        return Decision(step.admissible_actions[-1])  # "deeper" at the start: a detour


def _policy_search(step_kind: str) -> tuple[_CountingPolicy, Node]:
    env = FakeChainEnv()
    obs, info = env.reset(seed=0)
    policy = _CountingPolicy()
    cfg = MCTSConfig(iterations=1, k=1, depth=5, rollout="policy", rollout_step=step_kind)
    search = MCTS(env, policy, cfg, np.random.default_rng(0))
    return policy, search.search(obs, info)


def test_policy_rollout_steps_are_one_decide_call_each() -> None:
    # k=1 proposes "win" only, a terminal child: nothing to roll out
    policy, root = _policy_search("decide")
    assert policy.proposes == [1] and policy.decides == 0 and root.children["win"].q == 1.0
    env = FakeChainEnv({"start": {"go": ("mid", 0.0, False)}, "mid": CHAIN["mid"], "end": {}})
    obs, info = env.reset(seed=0)
    for kind, decides, proposes in (("decide", 1, [1]), ("propose", 0, [1, 1])):
        policy = _CountingPolicy()
        cfg = MCTSConfig(iterations=1, k=1, depth=5, rollout_step=kind)
        root = MCTS(env, policy, cfg, np.random.default_rng(0)).search(obs, info)
        # the rollout from "mid" plays "half" (0.5, discounted once on the way to the root)
        assert root.children["go"].q == pytest.approx(0.95 * 0.5)
        assert (policy.decides, policy.proposes) == (decides, proposes)
        env.reset(seed=0)


class _StepCountingKeyChest(KeyChestEnv):
    """KeyChest counting every engine step (search and replay alike)."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        self.steps += 1
        return super()._step_text(action)


def test_snapshot_and_replay_restores_build_the_same_tree_with_fewer_steps() -> None:
    trees, steps, roots = [], [], []
    for restore in ("snapshot", "replay"):
        env = _StepCountingKeyChest()
        obs, info = env.reset(seed=3, options={"split": "train"})
        cfg = MCTSConfig(iterations=40, k=3, depth=10, rollout="random", restore=restore)
        search = MCTS(env, AdmissibleProposer(), cfg, np.random.default_rng(0))
        root = search.search(obs, info)
        trees.append(tree_records(root, {}))
        steps.append((env.steps, search.env_steps))
        roots.append(root)
    assert trees[0] == trees[1]
    (snap_engine, snap_search), (replay_engine, replay_search) = steps
    assert snap_engine == snap_search == replay_search  # a snapshot restore steps nothing
    # a replayed restore steps once per action from the task start to the parent
    replayed = sum(n.depth - 1 for n in roots[1].walk() if n.parent is not None)
    assert replayed > 0 and replay_engine == replay_search + replayed
