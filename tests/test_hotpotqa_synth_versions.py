"""HotPotQASynth generator versions: generator 1 (``harness/HotPotQASynth-v0``) stays bit for
bit what it was when generator 2 was added; generator 2 (``-v1``) leaves a template-only
guesser at chance on every comparison template of every split, with true answers."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401 - registers the ids
from agents.prompts import prompt_for
from envs.hotpotqa.corpus import Page
from envs.hotpotqa.data import QATask
from envs.hotpotqa.guessability import balances, report, step0_accuracy, yes_no_share
from envs.hotpotqa.synth import build_synth
from envs.hotpotqa.synth_balanced import (
    TEMPLATES,
    both_profession,
    earlier_film_director,
    larger_city_country,
    older_org_founded,
    quotas,
    same_country,
    same_director,
    same_nationality,
    younger_person_birthplace,
)
from envs.hotpotqa.synth_templates import World
from envs.hotpotqa.world import PROFESSIONS, WorldBuilder
from envs.registration import spec
from harness.suite import SUITE_AGENT_ENVS
from scoring.rubric.templates import family_of

pytest.importorskip("bm25s")

SPLITS = ("train", "valid", "test")
COMPARISONS = {t.name for t in TEMPLATES if t.binary}

# SHA-256 of each split of build_synth(seed=0) at generator 1, computed at commit 9da0d1e
# (before generator 2 existed) with split_digest below.
V0_DIGESTS = {
    "train": "3c05c9a5d05b9915aa45c00f6e134a80cc87fcdb1def4858e7e88d52af07e024",
    "valid": "3dbf5aa30773ea5995489eb35a4e9df1a015464df8c8b972d888bf94551d8ae9",
    "test": "a7e546b75c970186dea2c4c42607b19e83f8da21242732c20dc4c213f31cade0",
}


def _page(p: Page) -> list:
    return [p.title, list(p.sentences)]


def split_digest(pages: list[Page], tasks: list[QATask]) -> str:
    """Hash of every page and every task field an episode can show or score against."""
    fields = [(t.qid, t.question, t.answer, t.qtype, t.level) for t in tasks]
    rest = [([list(s) for s in t.supporting], [_page(p) for p in t.context]) for t in tasks]
    rows = [[*a, *b] for a, b in zip(fields, rest, strict=True)]
    blob = json.dumps([[_page(p) for p in pages], rows], ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_generator_1_is_unchanged() -> None:
    data = build_synth(seed=0, generator=1)
    got = {split: split_digest(*data[split]) for split in V0_DIGESTS}
    assert got == V0_DIGESTS


def test_v0_keeps_its_fingerprint_and_v1_has_its_own() -> None:
    v0 = gym.make("harness/HotPotQASynth-v0").unwrapped
    v1 = gym.make("harness/HotPotQASynth-v1").unwrapped
    assert v0.env_fingerprint() == "27dd1abf3622"  # the value before generator 2 existed
    assert v1.env_fingerprint() != v0.env_fingerprint()
    assert v0.tasks("test") == build_synth(seed=0, generator=1)["test"][1]
    assert v1.tasks("test") == build_synth(seed=0, generator=2)["test"][1]


@pytest.fixture(scope="module")
def v1() -> dict:
    return build_synth(seed=0, generator=2)


@pytest.mark.parametrize("split", SPLITS)
def test_v1_template_only_guessers_score_chance(v1: dict, split: str) -> None:
    tasks = v1[split][1]
    found = balances(tasks)
    assert {b.template for b in found} == COMPARISONS
    for b in found:
        assert b.majority == 0.5, (split, b)
    assert step0_accuracy(tasks) == yes_no_share(tasks) / 2
    assert yes_no_share(tasks) > 0.15


def test_the_guesser_finds_v0s_lopsided_templates() -> None:
    tasks = build_synth(seed=0, generator=1)["test"][1]
    lopsided = {b.template: b.counts for b in balances(tasks) if b.majority > 0.7}
    assert {"same_country", "same_nationality"} <= set(lopsided)
    assert step0_accuracy(tasks) > yes_no_share(tasks) / 2 + 0.03


@pytest.mark.parametrize(
    ("make", "wins"),
    [
        (older_org_founded, lambda a, b: a.attrs["founded"] < b.attrs["founded"]),
        (earlier_film_director, lambda a, b: a.attrs["year"] < b.attrs["year"]),
        (larger_city_country, lambda a, b: a.attrs["population"] > b.attrs["population"]),
        (younger_person_birthplace, lambda a, b: a.attrs["born"] > b.attrs["born"]),
    ],
)
def test_value_comparison_puts_the_winner_where_asked(make: Any, wins: Any) -> None:
    world, checked = _world(), 0
    for first in [True, False] * 30:
        d = make(world, first)
        if d is None:
            continue
        checked += 1
        (a, _), (b, _) = d.support[:2]
        assert d.question.index(a.name) < d.question.index(b.name)
        assert wins(a, b) == first and d.outcome == ("first" if first else "second")
    assert checked > 30  # most draws give a question


@pytest.mark.parametrize(
    ("make", "truth"),
    [
        (same_director, lambda a, b, q: a.attrs["creator"] == b.attrs["creator"]),
        (same_country, lambda a, b, q: a.attrs["country"] == b.attrs["country"]),
        (same_nationality, lambda a, b, q: a.attrs["nationality"] == b.attrs["nationality"]),
        (
            both_profession,
            lambda a, b, q: all(
                f" both {PROFESSIONS[p.attrs['profession']][0]}?" in q for p in (a, b)
            ),
        ),
    ],
)
def test_yes_no_comparison_answers_are_true(make: Any, truth: Any) -> None:
    world, checked = _world(), 0
    for yes in [True, False] * 30:
        d = make(world, yes)
        if d is None:
            continue
        checked += 1
        (a, _), (b, _) = d.support
        assert a is not b and d.answer == d.outcome == ("yes" if yes else "no")
        assert truth(a, b, d.question) == yes, d.question
    assert checked > 30  # most draws give a question


def _world() -> World:
    rng = np.random.default_rng(7)
    return World(WorldBuilder(rng, set()).build(), rng)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 35, 100, 599, 600, 601])
def test_quotas_sum_to_n_with_even_comparisons(n: int) -> None:
    got = quotas(n)
    assert sum(got) == n and all(q >= 0 for q in got)
    assert all(q % 2 == 0 for q, t in zip(got, TEMPLATES, strict=True) if t.binary)


@pytest.mark.parametrize("n", [40, 120])
def test_small_v1_splits_are_balanced_too(n: int) -> None:
    for split, (_, tasks) in build_synth(seed=3, n_questions=n, generator=2).items():
        assert len(tasks) == n
        assert all(b.majority == 0.5 for b in balances(tasks)), split


def test_v1_gets_v0s_prompts_and_rubric_family() -> None:
    for v in ("harness/HotPotQASynth-v0", "harness/HotPotQASynth-v1"):
        assert prompt_for(v).name == "hotpotqa" and family_of(v) == "hotpotqa"


def test_unknown_generator_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown HotPotQASynth generator 9"):
        build_synth(generator=9)


def test_guessability_report_covers_every_generator_and_split() -> None:
    text = report(n_questions=60)
    for gen in (1, 2):
        for split in SPLITS:
            assert f"| {gen} | {split} | 60 |" in text


def test_default_suite_runs_v1_not_v0() -> None:
    v0, v1 = spec("harness/HotPotQASynth-v0"), spec("harness/HotPotQASynth-v1")
    assert v0 is not None and v1 is not None and v0.synthetic and v1.synthetic
    assert v0.default_episodes == 0 < v1.default_episodes
    assert "harness/HotPotQASynth-v1" in SUITE_AGENT_ENVS["react"]
    assert "harness/HotPotQASynth-v0" not in SUITE_AGENT_ENVS["react"]
