"""Measured differences between these HotPotQA envs and HotPotQA as ReAct ran it (the figures
of ``docs/envs/hotpotqa.md``).

``python -m envs.hotpotqa.fidelity`` prints, for the generated sets (no data needed):
the oracle's action count against ReAct's budget of 7 actions, the ``random`` baseline's
success by question type on the -v0 and -v1 test splits, and a re-scoring of the recorded
LLM trajectories under ``results/`` (HotPotQASynth-v0) by question type, by pages read, and
with ReAct's fuzzy reward next to exact match.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from envs.hotpotqa.actions import parse_action
from envs.hotpotqa.data import QATask, question_type
from envs.hotpotqa.env import HotPotQASynthEnv
from envs.hotpotqa.metrics import exact_match, normalize_answer

REACT_STEPS = 7  # ReAct's HotPotQA loop: 7 actions, then a forced empty finish[]
REACT_FUZZY = 0.633  # ReAct's wrapper rewards a Levenshtein ratio above this
VERBS = ("search", "lookup", "finish", "think")
TYPES = ("bridge", "comparison-yesno", "comparison-value")


def react_reward(prediction: str, gold: str) -> int:
    """ReAct's HotPotQA wrapper reward: normalised Indel (Levenshtein) ratio above 0.633."""
    from rapidfuzz.distance import Indel

    ratio = Indel.normalized_similarity(normalize_answer(gold), normalize_answer(prediction))
    return int(ratio > REACT_FUZZY)


def react_accepts(action: str) -> bool:
    """Whether ReAct's env parses ``action`` (its notebook lower-cases the first letter)."""
    a = action.strip()
    a = a[:1].lower() + a[1:]
    return a.endswith("]") and any(a.startswith(f"{v}[") for v in VERBS)


def oracle_actions(env: HotPotQASynthEnv, split: str = "test") -> list[tuple[int, bool]]:
    """Per question of ``split``: actions the oracle takes to finish, and whether every one of
    them was among the suggested actions (so an agent limited to suggestions can win)."""
    out = []
    for i in range(len(env.tasks(split))):
        _, info = env.reset(options={"split": split, "task_index": i, "expert": True})
        suggested = True
        for n in range(1, 40):
            action = info["expert_action"]
            suggested = suggested and action in info["admissible_actions"]
            *_, done, _, info = env.step(action)
            if done:
                out.append((n, suggested))
                break
    return out


def random_by_type(env: HotPotQASynthEnv, episodes: int, max_steps: int = 20) -> dict:
    """(wins, episodes) per question type on the test split of a uniform draw among the
    suggested actions at each step (the ``random`` baseline's policy), seeds 0..episodes-1."""
    got: dict[str, list[int]] = {k: [0, 0] for k in TYPES}
    for seed in range(episodes):
        rng = np.random.default_rng([seed, 0x5EED])
        _, info = env.reset(seed=seed, options={"split": "test"})
        kind = info["task_type"]
        for _ in range(max_steps):
            acts = info["admissible_actions"]
            *_, done, _, info = env.step(acts[int(rng.integers(len(acts)))])
            if done:
                break
        got[kind][0] += int(info["won"])
        got[kind][1] += 1
    return got


def _episode(steps: list[dict], tasks: dict[str, QATask]) -> dict | None:
    question = steps[0]["observation"].removeprefix("Question: ")
    task = tasks.get(question)
    if task is None:
        return None
    acts = [s["action"] for s in steps if s["action"]]
    pages = 0
    for prev, nxt in itertools.pairwise(steps):
        parsed = parse_action(prev["action"]) if prev["action"] else None
        if parsed and parsed[0] == "search" and not nxt["observation"].startswith("Could not"):
            pages += 1
    finishes = [p[1] for p in map(parse_action, acts) if p and p[0] == "finish"]
    return {
        "type": question_type(task),
        "actions": acts,
        "pages": pages,
        "answer": finishes[-1] if finishes else None,
        "gold": task.answer,
    }


def recorded(paths: Iterable[Path], tasks: Sequence[QATask]) -> collections.Counter[str]:
    """Counts over recorded trajectories (one JSON line per step) of -v0 test episodes."""
    by_question = {t.question: t for t in tasks}
    c: collections.Counter[str] = collections.Counter()
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            ep = _episode([json.loads(line) for line in fh if line.strip()], by_question)
        if ep is None:
            continue
        c["episodes"] += 1
        c[f"episodes {ep['type']}"] += 1
        c["actions"] += len(ep["actions"])
        c["react_rejects"] += sum(not react_accepts(a) for a in ep["actions"])
        if ep["answer"] is None:
            continue
        em = bool(exact_match(ep["answer"], ep["gold"]))
        fuzzy = bool(react_reward(ep["answer"], ep["gold"]))
        c["finished"] += 1
        c["em"] += em
        c["fuzzy_differs"] += em != fuzzy
        c[f"em {ep['type']}"] += em
        c["em after 7 actions"] += em and len(ep["actions"]) > REACT_STEPS
        if ep["type"] == "comparison-yesno":
            c["em yes/no, under 2 pages open"] += em and ep["pages"] < 2
            given = normalize_answer(ep["answer"])
            c[f"answered {given if given in ('yes', 'no') else 'other'} (yes/no q.)"] += 1
    return c


def main(argv: Sequence[str] | None = None) -> None:
    """Print the measurements (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random-episodes", type=int, default=600)
    ap.add_argument("--runs", default="results", help="folder searched for trajectories")
    args = ap.parse_args(argv)
    for gen, name in ((1, "HotPotQASynth-v0"), (2, "HotPotQASynth-v1")):
        env = HotPotQASynthEnv(generator=gen)
        steps = oracle_actions(env)
        kinds = [question_type(t) for t in env.tasks("test")]
        within = sum(n <= REACT_STEPS for n, _ in steps)
        print(f"{name} test: oracle actions max {max(n for n, _ in steps)}")
        print(f"{name} test: oracle within {REACT_STEPS} actions: {within}/{len(steps)}")
        for kind in TYPES:
            ok = [s for (_, s), k in zip(steps, kinds, strict=True) if k == kind]
            print(f"{name} test: oracle only suggested actions, {kind}: {sum(ok)}/{len(ok)}")
        for kind, (won, n) in random_by_type(env, args.random_episodes).items():
            print(f"{name} test: random wins {kind}: {won}/{n}")
    v0 = HotPotQASynthEnv(generator=1).tasks("test")
    paths = sorted(Path(args.runs).rglob("harness_HotPotQASynth-v0__*.jsonl"))
    for key, value in sorted(recorded(paths, v0).items()):
        print(f"recorded HotPotQASynth-v0 trajectories: {key}: {value}")


if __name__ == "__main__":
    main()
