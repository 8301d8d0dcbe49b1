"""HotPotQASynth generator 2 (``harness/HotPotQASynth-v1``): the same templates and weights as
generator 1, but each split holds a fixed number of questions per template, and every
comparison's outcome is fixed before its entities are drawn: half of each yes/no template's
questions answer "yes", half "no"; half of each value comparison's winners are named first in
the question, half second. A guesser that knows only the template therefore scores exactly
chance (50%) on every comparison template of every split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from envs.hotpotqa import synth_gen1
from envs.hotpotqa.data import QATask
from envs.hotpotqa.synth_templates import (
    BRIDGE,
    Draft,
    World,
    acceptable,
    mention,
    position,
    to_task,
    yes_no_draft,
)
from envs.hotpotqa.world import ORG_KINDS, PROFESSIONS, Entity

TRIES = 200  # drafts per question before giving up on a template
_Key = tuple[str, frozenset[str]]  # template and the titles of the pages it compares / joins


@dataclass(frozen=True)
class Template:
    """A question template; ``binary``: its outcome (``flag``) is fixed by the caller, yes/no or
    winner-named-first, and balanced within each split."""

    name: str
    make: Callable[[World, bool], Draft | None]
    weight: float
    binary: bool


def _other(w: World, pool: list[Entity]) -> Entity | None:
    return pool[int(w.rng.integers(len(pool)))] if pool else None


def _ordered(w: World, a: Entity, b: Entity) -> tuple[Entity, Entity]:
    return (a, b) if w.rng.integers(2) else (b, a)


# --- yes/no comparisons: ``yes`` is the answer to produce ------------------------------------
def same_director(w: World, yes: bool) -> Draft | None:
    f1 = w.pick("film")
    films = [f for f in w.by_kind["film"] if f is not f1]
    films = [f for f in films if (f.attrs["creator"] == f1.attrs["creator"]) == yes]
    f2 = _other(w, films)
    if f2 is None:
        return None
    f1, f2 = _ordered(w, f1, f2)
    q = f"Were {mention(f1)} and {mention(f2)} directed by the same person?"
    return yes_no_draft(q, yes, f1, f2)


def same_country(w: World, yes: bool) -> Draft | None:
    c1 = w.pick("city")
    cities = [c for c in w.by_kind["city"] if c is not c1]
    c2 = _other(w, [c for c in cities if (c.attrs["country"] == c1.attrs["country"]) == yes])
    if c2 is None:
        return None
    c1, c2 = _ordered(w, c1, c2)
    return yes_no_draft(f"Are {c1.name} and {c2.name} in the same country?", yes, c1, c2)


def both_profession(w: World, yes: bool) -> Draft | None:
    prof = str(w.rng.choice(list(PROFESSIONS)))
    pool = [p for p in w.by_kind["person"] if p.attrs["profession"] == prof]
    p1 = pool[int(w.rng.integers(len(pool)))]
    others = [p for p in w.by_kind["person"] if p is not p1]
    p2 = _other(w, [p for p in others if (p.attrs["profession"] == prof) == yes])
    if p2 is None:
        return None
    p1, p2 = _ordered(w, p1, p2)
    return yes_no_draft(f"Are {p1.name} and {p2.name} both {PROFESSIONS[prof][0]}?", yes, p1, p2)


def same_nationality(w: World, yes: bool) -> Draft | None:
    p1 = w.pick("person")
    people = [p for p in w.by_kind["person"] if p is not p1]
    same = p1.attrs["nationality"]
    p2 = _other(w, [p for p in people if (p.attrs["nationality"] == same) == yes])
    if p2 is None:
        return None
    p1, p2 = _ordered(w, p1, p2)
    return yes_no_draft(f"Are {p1.name} and {p2.name} of the same nationality?", yes, p1, p2)


# --- value comparisons: ``first`` puts the winner first in the question ----------------------
def _winner_at(first: bool, winner: Entity, loser: Entity) -> tuple[Entity, Entity, str]:
    return (winner, loser, position(True)) if first else (loser, winner, position(False))


def older_org_founded(w: World, first: bool) -> Draft | None:
    o1, o2 = (w.pick(str(w.rng.choice(list(ORG_KINDS)))) for _ in range(2))
    if o1 is o2 or o1.attrs["founded"] == o2.attrs["founded"]:
        return None
    old, new = sorted((o1, o2), key=lambda o: o.attrs["founded"])
    a, b, pos = _winner_at(first, old, new)
    q = f"In what year was the older of {a.name} and {b.name} founded?"
    support = ((a, "founded"), (b, "founded"))
    return Draft(q, str(old.attrs["founded"]), "comparison", support, pos)


def earlier_film_director(w: World, first: bool) -> Draft | None:
    f1, f2 = w.two("film")
    if f1.attrs["year"] == f2.attrs["year"] or f1.attrs["creator"] == f2.attrs["creator"]:
        return None
    early, late = sorted((f1, f2), key=lambda f: f.attrs["year"])
    a, b, pos = _winner_at(first, early, late)
    q = f"Who directed the earlier of the films {a.name} and {b.name}?"
    return Draft(q, early.attrs["creator"], "comparison", ((a, "def"), (b, "def")), pos)


def larger_city_country(w: World, first: bool) -> Draft | None:
    c1, c2 = w.two("city")
    if c1.attrs["country"] == c2.attrs["country"]:
        return None
    if c1.attrs["population"] == c2.attrs["population"]:
        return None
    small, big = sorted((c1, c2), key=lambda c: c.attrs["population"])
    a, b, pos = _winner_at(first, big, small)
    q = f"In which country is the more populous of {a.name} and {b.name}?"
    support = ((a, "population"), (b, "population"), (big, "def"))
    return Draft(q, big.attrs["country"], "comparison", support, pos)


def younger_person_birthplace(w: World, first: bool) -> Draft | None:
    p1, p2 = w.two("person")
    if p1.attrs["born"] == p2.attrs["born"]:
        return None
    old, young = sorted((p1, p2), key=lambda p: p.attrs["born"])
    a, b, pos = _winner_at(first, young, old)
    q = f"In which city was the younger of {a.name} and {b.name} born?"
    support = ((a, "def"), (b, "def"), (young, "birthplace"))
    return Draft(q, young.attrs["birthplace"], "comparison", support, pos)


def _bridge(f: Callable[[World], Draft | None], weight: float) -> Template:
    return Template(f.__name__, lambda w, _flag: f(w), weight, binary=False)


_WEIGHTS = {f.__name__: weight for f, weight in synth_gen1.TEMPLATES}  # generator 1's weights
_COMPARISONS: tuple[Callable[[World, bool], Draft | None], ...] = (
    same_director,
    same_country,
    both_profession,
    same_nationality,
    older_org_founded,
    earlier_film_director,
    larger_city_country,
    younger_person_birthplace,
)
TEMPLATES: tuple[Template, ...] = tuple(_bridge(f, _WEIGHTS[f.__name__]) for f in BRIDGE) + tuple(
    Template(f.__name__, f, _WEIGHTS[f.__name__], binary=True) for f in _COMPARISONS
)


def quotas(n: int, templates: tuple[Template, ...] = TEMPLATES) -> list[int]:
    """Questions per template summing to ``n``, proportional to weight (largest remainder),
    even for binary templates so their two outcomes can be equal."""
    total = sum(t.weight for t in templates)
    ideal = [n * t.weight / total for t in templates]
    units = [2 if t.binary else 1 for t in templates]
    got = [int(x // u) * u for x, u in zip(ideal, units, strict=True)]
    for i in sorted(range(len(templates)), key=lambda i: got[i] - ideal[i]):
        if sum(got) + units[i] <= n:
            got[i] += units[i]
    for i in (i for i, u in enumerate(units) if u == 1):  # an odd leftover goes to bridges
        if sum(got) < n:
            got[i] += 1
    if sum(got) != n:
        raise ValueError(f"cannot split {n} questions over the templates")
    return got


def _draft(world: World, t: Template, flag: bool, seen: set[_Key]) -> tuple[Draft, _Key] | None:
    for _ in range(TRIES):
        d = t.make(world, flag)
        if d is not None and acceptable(d):
            key = (t.name, frozenset(e.title for e, _ in d.support))
            if key not in seen:
                return d, key
    return None


def make_questions(world: World, split: str, n: int) -> list[QATask]:
    """``n`` distinct questions over ``world`` in a shuffled order: ``quotas(n)`` per template,
    each binary template's outcomes half one way and half the other. A bridge template that
    runs out of new questions (adaptations are few) hands its share to other bridges."""
    jobs = [(t, k % 2 == 0) for t, q in zip(TEMPLATES, quotas(n), strict=True) for k in range(q)]
    bridges = [t for t in TEMPLATES if not t.binary]
    weights = np.array([t.weight for t in bridges]) / sum(t.weight for t in bridges)
    seen: set[_Key] = set()
    out: list[QATask] = []
    for j in world.rng.permutation(len(jobs)):
        t, flag = jobs[int(j)]
        got = _draft(world, t, flag, seen)
        for _ in range(len(bridges) * 4 if not t.binary else 0):
            if got is not None:
                break
            t = bridges[int(world.rng.choice(len(bridges), p=weights))]
            got = _draft(world, t, flag, seen)
        if got is None:
            raise RuntimeError(f"{t.name}: no new question for {split}; lower n_questions")
        seen.add(got[1])
        out.append(to_task(got[0], split, len(out), t.name))
    return out
