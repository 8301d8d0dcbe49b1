"""How often the Q models' input holds the whole task line: state format 1 against format 2.

Samples states from random walks in each env family (admissible actions, templates filled
with the task; the first ``--cands`` admissible actions as candidates), then, for both Q kinds
with each family's bundled settings (``max_length``, ``max_turns`` from its card), reports
``scoring.text.task_in_input`` under format 1 (unfitted text cut from the left by the
tokenizer, as the bundled models were trained) and format 2 (``fit_state``), and the share of
format-2 inputs over ``max_length`` (those whose task line leaves no room). Needs only the
two tokenizers (MiniLM's package, the lm-dpo adapter dir's copy of SmolLM2's), no weights.
Families whose engine is missing are skipped.

    python benchmarks/task_in_input.py [--episodes 3] [--steps 12] [--families keychest,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ENVS = {
    "keychest": "harness/KeyChest-v0",
    "webshop": "harness/WebShopSynth-v0",
    "hotpotqa": "harness/HotPotQASynth-v1",
    "alfworld": "harness/ALFWorldGen-v0",
    "textworld": "harness/TextWorld-Simple-v0",
}


def walk(env_id: str, episodes: int, steps: int, cands: int) -> list[tuple[Any, list[str]]]:
    """``(state, candidates)`` at every step of random walks (seeds 0..episodes-1)."""
    import gymnasium as gym
    import numpy as np

    import envs.registration  # noqa: F401 - registers the ids
    from agents.base import Turn
    from agents.baselines import fill_template
    from scoring.base import State

    env = gym.make(env_id).unwrapped
    rng = np.random.default_rng(0)
    out = []
    for seed in range(episodes):
        obs, info = env.reset(seed=seed)
        task, hist = str(info.get("task", "")), []
        for _ in range(steps):
            acts = [
                fill_template(a, task) for a in dict.fromkeys(info.get("admissible_actions") or [])
            ]
            if not acts:
                break
            out.append((State(task, tuple(hist), obs, env_id), acts[:cands]))
            action = acts[int(rng.integers(len(acts)))]
            hist.append(Turn(obs, action))
            obs, _, term, trunc, info = env.step(action)
            if term or trunc:
                break
    env.close()
    return out


def views(family: str) -> dict[str, tuple[Any, Any]]:
    """Per kind: (format-1 view, format-2 view) with the family's bundled settings."""
    from transformers import AutoTokenizer

    from scoring.models import ARTIFACTS, read_card
    from scoring.q import encoder, lm

    out = {}
    card = read_card(ARTIFACTS / f"{family}-encoder")["hyperparameters"]
    cfg = encoder.EncoderConfig(max_length=card["max_length"], max_turns=card["max_turns"])
    out["encoder"] = tuple(
        encoder.InputView(encoder.tokenizer(f), dataclasses.replace(cfg, state_format=f))
        for f in (1, 2)
    )
    path = ARTIFACTS / f"{family}-lm-dpo"
    card = read_card(path)["hyperparameters"]
    tok = AutoTokenizer.from_pretrained(str(path))
    dpo = lm.DPOSettings(max_length=card["max_length"], max_turns=card["max_turns"])
    out["lm-dpo"] = tuple(
        lm.InputView(tok, dataclasses.replace(dpo, state_format=f)) for f in (1, 2)
    )
    return out


def over_budget(view: Any, state: Any, actions: list[str]) -> bool:
    """Whether a format-2 input passes ``max_length`` (only a task line too long for it)."""
    return max(len(ids) for ids in view.input_ids(state, actions)) > view.cfg.max_length


def main() -> int:
    """Print one row per family and kind: states, share with the task under format 1 and 2,
    share of format-2 inputs over ``max_length``."""
    from envs.registration import missing, spec
    from scoring.text import task_in_input

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--episodes", type=int, default=3)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--cands", type=int, default=5)
    p.add_argument("--families", default=",".join(ENVS))
    ns = p.parse_args()
    print("family | env | kind | max_length | max_turns | states | format 1 | format 2 | over")
    for family in ns.families.split(","):
        env_id = ENVS[family]
        s = spec(env_id)
        why = missing(s) if s is not None else "unknown id"
        if why:
            print(f"{family} | {env_id} | skipped: {why}")
            continue
        sample = walk(env_id, ns.episodes, ns.steps, ns.cands)
        states, acts = [st for st, _ in sample], [a for _, a in sample]
        for kind, (old, new) in views(family).items():
            before = task_in_input(old, states, acts)
            after = task_in_input(new, states, acts)
            over = sum(over_budget(new, st, a) for st, a in sample) / len(sample)
            print(
                f"{family} | {env_id} | {kind} | {new.cfg.max_length} | {new.cfg.max_turns} | "
                f"{len(states)} | {before:.2f} | {after:.2f} | {over:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
