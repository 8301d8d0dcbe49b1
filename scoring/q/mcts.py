"""Monte Carlo Tree Search over a text env with env state restore (step-level Q collection).

Each node is a state reached by an action sequence from the task's start. An iteration walks
down by UCT (untried candidates first, in proposer order), adds one child by restoring the
parent's state and stepping its action, rolls out from it to a terminal state or the depth
limit, and backs up the return. ``Q(s, a)`` of a child is the mean discounted return from
taking ``a`` in ``s`` (its entering reward included) over the simulations that passed it.

The defaults are Zhai et al.'s recipe: 30 iterations, 5 candidates per expansion, depth 15,
rollouts by the policy itself (one ``decide`` call per step where the proposer has one), and a
discount ``gamma`` = 0.95 so that a detour costs value. Restores use the env's own snapshot
(engine state where it has one); ``restore="replay"`` resets and replays the actions instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from agents.base import Candidate, Step, Turn
from agents.baselines import fill_template
from envs.base import ADMISSIBLE_ACTIONS, TASK, TextEnv
from scoring.base import Proposer

ROLLOUTS = ("policy", "random", "mix", "expert")
ROLLOUT_STEPS = ("decide", "propose")
RESTORES = ("snapshot", "replay")


@dataclass(frozen=True)
class MCTSConfig:
    """Search settings: ``depth`` bounds steps from the task start (tree and rollout together);
    ``mix`` is the chance of a policy step in ``mix`` rollouts, and of the env's expert step in
    ``expert`` rollouts (the rest are random admissible actions): a noisy reference policy for
    sparse-reward envs where random and weak-policy rollouts almost never reach a reward.
    ``rollout_step``: how a policy rollout step is asked for: ``decide`` (the proposer's
    ``decide(step)``, one policy call, where it has one) or ``propose`` (its first candidate of
    ``propose(step, 1)``, a whole proposal per step: the slow path before ``decide``).
    ``restore``: ``snapshot`` (the env's own) or ``replay`` (reset and replay the actions)."""

    iterations: int = 30
    k: int = 5
    depth: int = 15
    c_uct: float = 1.0
    rollout: str = "policy"
    mix: float = 0.5
    gamma: float = 0.95
    rollout_step: str = "decide"
    restore: str = "snapshot"

    def validate(self) -> MCTSConfig:
        """Check ranges; raise ValueError naming the setting."""
        if self.rollout not in ROLLOUTS:
            raise ValueError(f"rollout must be one of {', '.join(ROLLOUTS)}, got {self.rollout!r}")
        for name, allowed in (("rollout_step", ROLLOUT_STEPS), ("restore", RESTORES)):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        for name, ok in (
            ("iterations", self.iterations >= 1),
            ("k", self.k >= 1),
            ("depth", self.depth >= 1),
            ("c_uct", self.c_uct >= 0),
            ("mix", 0.0 <= self.mix <= 1.0),
            ("gamma", 0.0 < self.gamma <= 1.0),
        ):
            if not ok:
                raise ValueError(f"MCTS setting {name} out of range: {getattr(self, name)!r}")
        return self


@dataclass(eq=False)
class Node:
    """A search-tree node: the state after ``action`` from ``parent``."""

    id: int
    parent: Node | None
    action: str
    observation: str
    info: dict[str, Any]
    reward: float
    terminal: bool
    depth: int
    snapshot: Any
    candidates: list[Candidate] | None = None
    children: dict[str, Node] = field(default_factory=dict)
    visits: int = 0
    value_sum: float = 0.0

    @property
    def q(self) -> float:
        """Mean return of the simulations through this node (0 when unvisited)."""
        return self.value_sum / self.visits if self.visits else 0.0

    def path(self) -> list[Node]:
        """Nodes from the root to this one."""
        out: list[Node] = []
        node: Node | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    def history(self) -> tuple[Turn, ...]:
        """The (observation, action) turns that led here."""
        nodes = self.path()
        return tuple(Turn(a.observation, b.action) for a, b in pairwise(nodes))

    def walk(self) -> Iterator[Node]:
        """This node and its descendants, depth first, children in insertion order."""
        yield self
        for child in self.children.values():
            yield from child.walk()


def uct(child_q: float, child_visits: int, parent_visits: int, c: float) -> float:
    """UCT score: ``Q + c * sqrt(ln N_parent / N_child)``; infinite for an unvisited child."""
    if child_visits == 0:
        return math.inf
    return child_q + c * math.sqrt(math.log(max(parent_visits, 1)) / child_visits)


def select_action(node: Node, c: float) -> str:
    """The first untried candidate, else the child with the highest UCT (first on ties)."""
    best, best_score = "", -math.inf
    for cand in node.candidates or []:
        child = node.children.get(cand.action)
        if child is None:
            return cand.action
        score = uct(child.q, child.visits, node.visits, c)
        if score > best_score:
            best, best_score = cand.action, score
    return best


def backup(leaf: Node, ret: float, gamma: float = 1.0) -> None:
    """Add one simulation: ``ret`` is the return after ``leaf``; each node on the path gets its
    entering reward plus the discounted return below it."""
    node: Node | None = leaf
    g = ret
    while node is not None:
        g = node.reward + gamma * g
        node.visits += 1
        node.value_sum += g
        node = node.parent


class MCTS:
    """Tree search over one task of ``env`` (a TextEnv: ``snapshot``/``restore``/``step``)."""

    def __init__(
        self,
        env: Any,
        proposer: Proposer,
        cfg: MCTSConfig,
        rng: np.random.Generator,
        env_id: str = "",
    ) -> None:
        self.env, self.proposer, self.cfg, self.rng = env, proposer, cfg.validate(), rng
        self.env_id = env_id
        self.n_nodes = 0
        self.env_steps = 0

    def _node(
        self,
        parent: Node | None,
        action: str,
        obs: str,
        info: dict[str, Any],
        reward: float,
        terminal: bool,
    ) -> Node:
        depth = parent.depth + 1 if parent else 0
        # only nodes that can be expanded are restored to: leaves keep no snapshot
        expandable = not terminal and depth < self.cfg.depth
        snap = None
        if expandable:
            replay = self.cfg.restore == "replay"
            snap = TextEnv.snapshot(self.env) if replay else self.env.snapshot()
        node = Node(self.n_nodes, parent, action, obs, info, reward, terminal, depth, snap)
        self.n_nodes += 1
        return node

    def search(self, obs: str, info: dict[str, Any]) -> Node:
        """Run the iterations from the env's current state (just reset); return the root."""
        root = self._node(None, "", obs, info, 0.0, False)
        for _ in range(self.cfg.iterations):
            self.iterate(root)
        return root

    def _step(self, node: Node) -> Step:
        return Step(node.depth, node.observation, node.info, node.history(), self.env_id)

    def iterate(self, root: Node) -> None:
        """One selection / expansion / rollout / backup."""
        node, ret = root, 0.0
        while not node.terminal and node.depth < self.cfg.depth:
            if node.candidates is None:
                node.candidates = _distinct(self.proposer.propose(self._step(node), self.cfg.k))
            if not node.candidates:
                break
            action = select_action(node, self.cfg.c_uct)
            child = node.children.get(action)
            if child is None:
                child = self._expand(node, action)
                ret = self._rollout(child)
                node = child
                break
            node = child
        backup(node, ret, self.cfg.gamma)

    def _expand(self, node: Node, action: str) -> Node:
        if self.cfg.restore == "replay":
            TextEnv.restore(self.env, node.snapshot)
        else:
            self.env.restore(node.snapshot)
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.env_steps += 1
        child = self._node(node, action, obs, info, float(reward), bool(terminated or truncated))
        node.children[action] = child
        return child

    def _rollout(self, start: Node) -> float:
        """Play from ``start`` (the env is there) to the end or the depth limit; the return."""
        if start.terminal:
            return 0.0
        history = list(start.history())
        obs, info, depth = start.observation, start.info, start.depth
        ret, discount = 0.0, 1.0
        while depth < self.cfg.depth:
            action = self._rollout_action(Step(depth, obs, info, tuple(history), self.env_id))
            if action is None:
                break
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            self.env_steps += 1
            ret += discount * float(reward)
            discount *= self.cfg.gamma
            history.append(Turn(obs, action))
            obs, depth = next_obs, depth + 1
            if terminated or truncated:
                break
        return ret

    def _rollout_action(self, step: Step) -> str | None:
        mode = self.cfg.rollout
        if mode == "mix":
            mode = "policy" if self.rng.random() < self.cfg.mix else "random"
        elif mode == "expert":
            expert = getattr(self.env, "expert_action", None)
            if self.rng.random() < self.cfg.mix and callable(expert):
                action = expert()
                if action:
                    return fill_template(str(action), step.task)
            mode = "random"
        acts = list(step.info.get(ADMISSIBLE_ACTIONS) or [])
        if mode == "random" and acts:
            return fill_template(str(acts[int(self.rng.integers(len(acts)))]), step.task)
        decide = getattr(self.proposer, "decide", None)
        if self.cfg.rollout_step == "decide" and callable(decide):
            action = decide(step).action
            if action:
                return str(action)
        cands = self.proposer.propose(step, 1)
        return cands[0].action if cands else None


def _distinct(cands: list[Candidate]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for c in cands:
        seen.setdefault(c.action, c)
    return list(seen.values())


def tree_records(root: Node, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """One JSON-able record per visited node (``meta`` fields first: task id, env id, seed)."""
    task = str(root.info.get(TASK, ""))
    out = []
    for node in root.walk():
        if node.visits == 0:
            continue
        children = [
            {"action": a, "node_id": c.id, "visits": c.visits, "q": c.q, "reward": c.reward}
            for a, c in node.children.items()
        ]
        out.append(
            {
                **meta,
                "node_id": node.id,
                "parent_id": node.parent.id if node.parent else None,
                "depth": node.depth,
                "task": task,
                "history": [[t.observation, t.action] for t in node.history()],
                "observation": node.observation,
                "candidates": [
                    {"action": c.action, "logprob": c.logprob} for c in node.candidates or []
                ],
                "visits": node.visits,
                "q": node.q,
                "reward": node.reward,
                "terminal": node.terminal,
                "children": children,
            }
        )
    return out
