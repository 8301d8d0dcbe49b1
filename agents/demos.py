"""Demonstrations for SFT: a family's demonstrator played through the env, each step written
as the exact chat prompt the ``react`` agent sends at inference and the reply it should give.

Every step's prompt comes from ``ReActAgent.messages`` itself (same system prompt, example,
history window, observation clipping, valid-action list rule), with the demonstrator's
thoughts in the history as the agent keeps its own. The reply is
``Thought: <one sentence>.\\nAction: <action>``, the shape the agent's grammar produces: the
thought is the demonstrator's (derived from what it observed and its sub-goal, never from
hidden state), cut to one sentence of at most ``thought_chars`` characters without periods.

A demonstration is kept for training (``usable``) only when the episode was won and every
action is one the policy can produce at that step (an admissible action or a template the
agent fills, such as WebShop's ``search[<query>]``). One JSON line per episode, in seed
order; a file is resumable (seeds already written are skipped) and deterministic by seed.

    python -m agents.demos --env harness/ALFWorldGen-v0 --tasks 1000 --out demos/alfworld.jsonl

DAgger (``--learner SPEC``): the learner policy (a ``react`` agent on SPEC, e.g. a trained
adapter) drives the episode and the demonstrator labels every state it reaches; with
probability ``--beta`` (seeded) a step executes the demonstrator's action instead, so later
sub-goals are reached too. Each sample's prompt is the learner's own (its own thoughts in the
history), its reply the demonstrator's. Labels the policy could not produce are left out, and
such an episode is usable whatever the learner's outcome: the labels, not the learner's
actions, are what is trained on. Needs a demonstrator that decides from the observed
transcript alone (ALFWorld's searcher, WebShop's shopper).

    python -m agents.demos --env harness/ALFWorldGen-v0 --tasks 60 --first-seed 1000 \\
        --learner 'local?adapter=PATH/bundle' --beta 0.5 --out demos/alfworld.dagger1.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.base import Agent, Step, Turn
from agents.baselines import TEMPLATE, fill_template
from agents.demonstrators import DEMONSTRATORS, demonstrator_for
from agents.llm.base import Message, approx_tokens
from agents.react import ReActAgent
from envs.base import ADMISSIBLE_ACTIONS, TASK, TASK_ID, WON

SCHEMA = 1
PROFILE = "local?adapter=sft"
"""The policy spec whose prompt the demonstrations use: an adapter policy's (no few-shot
example, the adapter history window), as ``ReActAgent`` builds it for ``adapter=`` specs."""


class _Counter:
    """The token estimate the local policy uses for its history window (no model needed)."""

    name = "demo-writer"
    supports_grammar = supports_prefill = supports_scoring = True

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)


def clean_thought(text: str, limit: int) -> str:
    """One sentence the agent's grammar could produce: no periods or newlines, ``limit`` chars."""
    text = re.sub(r"[.\n]+", " ", text or "").strip()
    text = " ".join(text.split())[:limit].strip() or "I continue"
    return text


def producible(action: str, admissible: list[str]) -> bool:
    """Whether the policy could emit ``action``: it is listed, or the env lists no actions
    (free text under the family's grammar), or it is a listed template."""
    return not admissible or action in admissible


@dataclass(frozen=True)
class Demo:
    """One demonstrated episode."""

    env_id: str
    seed: int
    task_id: str
    split: str
    won: bool
    reward: float
    steps: int
    usable: bool
    samples: list[dict[str, Any]]
    driver: str = "demonstrator"
    """Who chose the executed actions: ``demonstrator``, or the learner's policy spec (DAgger)."""
    beta: float = 1.0
    """Share of steps the demonstrator's action was executed (1 for a plain demonstration)."""
    actions: list[str] | None = None
    """DAgger: the executed action of every step (the learner's or the demonstrator's)."""

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps({"schema": SCHEMA, **self.__dict__}, ensure_ascii=False)


def demonstrate(
    env_id: str,
    seed: int,
    split: str = "train",
    max_steps: int = 40,
    agent: Agent | None = None,
    react: ReActAgent | None = None,
    learner: ReActAgent | None = None,
    beta: float = 0.0,
) -> Demo:
    """Play the family's demonstrator for one seed and record prompts and replies; with a
    ``learner``, the learner drives (DAgger, see the module docstring) and the demonstrator
    labels each state."""
    import gymnasium as gym

    from envs.registration import env_family

    family = env_family(env_id)
    demo = agent or demonstrator_for(family)
    react = learner or react or ReActAgent(policy=PROFILE, llm=_Counter())  # type: ignore[arg-type]
    want = DEMONSTRATORS[family].wants_expert if family in DEMONSTRATORS else False
    if learner is not None and want:
        raise ValueError(
            f"DAgger needs a demonstrator that reads no hidden state; {family}'s reads the "
            "env's expert (families with one: alfworld, webshop)"
        )
    coin = random.Random(f"dagger:{env_id}:{seed}")
    env = gym.make(env_id)
    try:
        obs, info = env.reset(seed=seed, options={"split": split, "expert": want})
        task = str(info.get(TASK, ""))
        demo.reset(task, seed)
        react.reset(task, seed)
        history: list[Turn] = []
        samples: list[dict[str, Any]] = []
        total, ok, done, executed = 0.0, True, False, 0
        for t in range(max_steps):
            step = Step(t, obs, info, tuple(history), env_id)
            decision = demo.act(step)
            thought = clean_thought(decision.thought or "", react.thought_chars)
            raw = decision.action
            can = producible(raw, list(info.get(ADMISSIBLE_ACTIONS) or []))
            ok = ok and can
            messages: list[Message] = react.messages(step)
            if learner is None or can:
                reply = f"Thought: {thought}.\nAction: {raw}"
                samples.append({"t": t, "prompt": messages, "completion": reply})
            if learner is None or coin.random() < beta:
                react._ep.thoughts.append(f"{thought}.")
                action = fill_template(raw, task) if TEMPLATE.search(raw) else raw
                executed += 1
            else:
                action = learner.act(step).action
            obs, reward, term, trunc, info = env.step(action)
            total += float(reward)
            history.append(Turn(step.observation, action))
            if term or trunc:
                done = True
                break
        won = bool(info.get(WON, False))
        return Demo(
            env_id,
            seed,
            str(info.get(TASK_ID, "")),
            split,
            won,
            total,
            len(history),
            won and ok and done if learner is None else bool(samples),
            samples,
            "demonstrator" if learner is None else learner.policy_spec,
            1.0 if learner is None else round(executed / max(1, len(history)), 3),
            None if learner is None else [turn.action for turn in history],
        )
    finally:
        env.close()


def read_demos(path: Path) -> Iterator[dict[str, Any]]:
    """The demonstrations of a file (a half-written last line is skipped)."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def file_hash(path: Path) -> str:
    """sha256 of a demonstrations file (its card names the data by it)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_demos(
    env_id: str,
    out: Path,
    tasks: int,
    first_seed: int = 0,
    split: str = "train",
    max_steps: int = 40,
    log: Any = None,
    learner: ReActAgent | None = None,
    beta: float = 0.0,
) -> dict[str, float]:
    """Append demonstrations for seeds ``first_seed .. first_seed + tasks - 1`` not yet in
    ``out``; return the file's totals (episodes, won, usable, steps, mean reward). With a
    ``learner``: DAgger episodes (the learner drives, the demonstrator labels)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {(d["env_id"], d["seed"]) for d in read_demos(out)}
    react = ReActAgent(policy=PROFILE, llm=_Counter())  # type: ignore[arg-type]
    t0 = time.perf_counter()
    with open(out, "a", encoding="utf-8") as fh:
        for seed in range(first_seed, first_seed + tasks):
            if (env_id, seed) in done:
                continue
            demo = demonstrate(
                env_id, seed, split, max_steps, react=react, learner=learner, beta=beta
            )
            fh.write(demo.to_json() + "\n")
            fh.flush()
            if log and (learner is not None or seed % 25 == 0):
                log(
                    f"[demos] {env_id} seed {seed}: won={demo.won} steps={demo.steps} "
                    f"({time.perf_counter() - t0:.0f} s)"
                )
    return summarize(out, env_id)


def summarize(path: Path, env_id: str | None = None) -> dict[str, float]:
    """Episodes, wins, usable demonstrations, mean steps and reward of a file; for DAgger
    episodes also ``executed_is_label``: the share of labelled steps whose executed action is
    the demonstrator's (with ``--beta 0``, how often the learner already agrees with it)."""
    rows = [d for d in read_demos(path) if env_id is None or d["env_id"] == env_id]
    n = len(rows) or 1
    labelled = [
        (d["actions"][s["t"]], s["completion"].rsplit("\nAction: ", 1)[-1])
        for d in rows
        if d.get("actions")
        for s in d["samples"]
    ]
    agree = sum(a == b for a, b in labelled) / max(1, len(labelled))
    return {
        "episodes": len(rows),
        "success": sum(d["won"] for d in rows) / n,
        "mean_reward": sum(d["reward"] for d in rows) / n,
        "usable": sum(d["usable"] for d in rows),
        "mean_steps": sum(d["steps"] for d in rows) / n,
        "usable_steps": sum(d["steps"] for d in rows if d["usable"]),
        **({"executed_is_label": agree} if labelled else {}),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI: write (or extend) a demonstrations file."""
    ap = argparse.ArgumentParser(prog="python -m agents.demos", description=__doc__.split("\n")[0])
    ap.add_argument("--env", required=True, help="env id, e.g. harness/ALFWorldGen-v0")
    ap.add_argument("--tasks", type=int, default=1000, help="number of seeds (default 1000)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--split", default="train", choices=("train", "valid", "test"))
    ap.add_argument("--max-steps", type=int, default=40)
    ap.add_argument("--out", type=Path, required=True, help="JSONL file (appended, resumable)")
    ap.add_argument(
        "--learner",
        default="",
        help="DAgger: a react policy spec that drives the episodes (e.g. local?adapter=PATH)",
    )
    ap.add_argument(
        "--beta",
        type=float,
        default=0.0,
        help="DAgger: chance a step executes the demonstrator's action instead (default 0)",
    )
    args = ap.parse_args(argv)
    if not 0.0 <= args.beta <= 1.0:
        print(f"error: --beta must lie in [0, 1], got {args.beta}", file=sys.stderr)
        return 2
    import envs.registration as reg

    reg.register_all()
    if reg.spec(args.env) is None and args.env not in __import__("gymnasium").registry:
        print(f"error: unknown env {args.env!r}; see python -m harness.run --list", file=sys.stderr)
        return 2
    if args.out.exists() and args.out.is_dir():
        print(f"error: --out {args.out} is a directory; give a .jsonl file", file=sys.stderr)
        return 2
    learner = ReActAgent(policy=args.learner) if args.learner else None
    try:
        stats = write_demos(
            args.env,
            args.out,
            args.tasks,
            args.first_seed,
            args.split,
            args.max_steps,
            log=lambda m: print(m, file=sys.stderr, flush=True),
            learner=learner,
            beta=args.beta,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"[demos] {args.env} {args.split}: {stats['episodes']} episodes, success "
        f"{stats['success']:.3f}, mean reward {stats['mean_reward']:.3f}, mean steps "
        f"{stats['mean_steps']:.1f}, usable {stats['usable']} ({stats['usable_steps']} steps)"
        + (
            f", executed action = label on {stats['executed_is_label']:.3f} of labelled steps"
            if "executed_is_label" in stats
            else ""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
