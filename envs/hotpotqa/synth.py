"""HotPotQASynth: multi-hop questions over a generated encyclopedia (NOT the HotPotQA data).

Each split has its own world (disjoint entity names across splits, so disjoint pages and
questions). Bridge questions reach the answer through a second page; comparison questions
compare two entities (yes/no, or a value of the entity that wins the comparison). Every
answer is checked not to appear in its question. Deterministic given ``seed`` and the
generator version:

- generator 1 (``harness/HotPotQASynth-v0``, ``synth_gen1``): templates drawn by weight,
  comparison outcomes left to chance (lopsided yes/no per template); pinned bit for bit;
- generator 2 (``harness/HotPotQASynth-v1``, ``synth_balanced``): fixed questions per
  template, every comparison template 50/50 in its outcome within each split.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from envs.hotpotqa import synth_balanced, synth_gen1
from envs.hotpotqa.corpus import Page
from envs.hotpotqa.data import QATask
from envs.hotpotqa.synth_templates import World
from envs.hotpotqa.world import WorldBuilder

SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}
DEFAULT_QUESTIONS = 600
GENERATORS: dict[int, Callable[[World, str, int], list[QATask]]] = {
    1: synth_gen1.make_questions,
    2: synth_balanced.make_questions,
}
LATEST_GENERATOR = max(GENERATORS)


def check_generator(generator: int) -> int:
    """``generator`` if it names one, else a ValueError listing them."""
    if generator not in GENERATORS:
        raise ValueError(f"unknown HotPotQASynth generator {generator}: use one of {[*GENERATORS]}")
    return generator


def build_synth(
    seed: int = 0, n_questions: int = DEFAULT_QUESTIONS, generator: int = LATEST_GENERATOR
) -> dict[str, tuple[list[Page], list[QATask]]]:
    """Pages and questions of every split (train, valid, test), deterministic by ``seed`` and
    ``generator`` (which also seeds the world, so each generator has its own worlds)."""
    check_generator(generator)
    used: set[str] = set()
    out = {}
    for split, code in SPLIT_CODES.items():
        rng = np.random.default_rng([seed, code, generator])
        world = World(WorldBuilder(rng, used).build(), rng)
        out[split] = (world.pages(), GENERATORS[generator](world, split, n_questions))
    return out
