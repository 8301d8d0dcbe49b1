"""HotPotQASynth generator 1 (``harness/HotPotQASynth-v0``), kept bit for bit: templates drawn
by weight, and comparisons whose outcome is left to chance. Its yes/no answers are lopsided
per template (e.g. two random people rarely share a nationality), so answering by template
beats chance; generator 2 (``synth_balanced``) fixes that. Do not change what this module
draws: ``tests/test_hotpotqa_synth_versions.py`` pins its output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from envs.hotpotqa.data import QATask
from envs.hotpotqa.synth_templates import (
    Draft,
    World,
    acceptable,
    adaptation_author,
    album_label_city,
    film_director_birthplace,
    film_studio_founded,
    mention,
    novel_author_university,
    novel_publisher_founder,
    org_founder_born,
    person_city_river,
    person_country_capital,
    person_university_founded,
    position,
    to_task,
    yes_no_draft,
)
from envs.hotpotqa.world import ORG_KINDS, PROFESSIONS


def _yes(w: World) -> bool:
    return bool(w.rng.integers(2))


# --- comparison questions ---------------------------------------------------------------------
def same_director(w: World) -> Draft | None:
    if _yes(w):
        directors = [p for p in w.by_kind["person"] if len(p.attrs.get("works", [])) >= 2]
        directors = [p for p in directors if p.attrs["profession"] == "film director"]
        if not directors:
            return None
        d = directors[int(w.rng.integers(len(directors)))]
        i, j = w.rng.choice(len(d.attrs["works"]), 2, replace=False)
        f1, f2 = (w.get("film", d.attrs["works"][int(k)]) for k in (i, j))
    else:
        f1, f2 = w.two("film")
    same = f1.attrs["creator"] == f2.attrs["creator"]
    q = f"Were {mention(f1)} and {mention(f2)} directed by the same person?"
    return yes_no_draft(q, same, f1, f2)


def same_country(w: World) -> Draft:
    c1, c2 = w.two("city")
    if _yes(w):
        others = [c for c in w.by_kind["city"] if c is not c1]
        others = [c for c in others if c.attrs["country"] == c1.attrs["country"]]
        c2 = others[int(w.rng.integers(len(others)))] if others else c2
    same = c1.attrs["country"] == c2.attrs["country"]
    q = f"Are {c1.name} and {c2.name} in the same country?"
    return yes_no_draft(q, same, c1, c2)


def both_profession(w: World) -> Draft:
    prof = str(w.rng.choice(list(PROFESSIONS)))
    pool = [p for p in w.by_kind["person"] if p.attrs["profession"] == prof]
    i, j = w.rng.choice(len(pool), 2, replace=False)
    p1, p2 = pool[int(i)], pool[int(j)]
    if not _yes(w):
        p2 = w.pick("person")
    both = p1.attrs["profession"] == p2.attrs["profession"] == prof and p1 is not p2
    q = f"Are {p1.name} and {p2.name} both {PROFESSIONS[prof][0]}?"
    return yes_no_draft(q, both, p1, p2)


def same_nationality(w: World) -> Draft:
    p1, p2 = w.two("person")
    same = p1.attrs["nationality"] == p2.attrs["nationality"]
    q = f"Are {p1.name} and {p2.name} of the same nationality?"
    return yes_no_draft(q, same, p1, p2)


def older_org_founded(w: World) -> Draft | None:
    o1, o2 = (w.pick(str(w.rng.choice(list(ORG_KINDS)))) for _ in range(2))
    if o1 is o2 or o1.attrs["founded"] == o2.attrs["founded"]:
        return None
    year = min(o1.attrs["founded"], o2.attrs["founded"])
    q = f"In what year was the older of {o1.name} and {o2.name} founded?"
    first = o1.attrs["founded"] == year
    support = ((o1, "founded"), (o2, "founded"))
    return Draft(q, str(year), "comparison", support, position(first))


def earlier_film_director(w: World) -> Draft | None:
    f1, f2 = w.two("film")
    if f1.attrs["year"] == f2.attrs["year"] or f1.attrs["creator"] == f2.attrs["creator"]:
        return None
    first = min((f1, f2), key=lambda f: f.attrs["year"])
    q = f"Who directed the earlier of the films {f1.name} and {f2.name}?"
    support = ((f1, "def"), (f2, "def"))
    return Draft(q, first.attrs["creator"], "comparison", support, position(first is f1))


def larger_city_country(w: World) -> Draft | None:
    c1, c2 = w.two("city")
    if c1.attrs["country"] == c2.attrs["country"]:
        return None
    if c1.attrs["population"] == c2.attrs["population"]:
        return None
    big = max((c1, c2), key=lambda c: c.attrs["population"])
    q = f"In which country is the more populous of {c1.name} and {c2.name}?"
    support = ((c1, "population"), (c2, "population"), (big, "def"))
    return Draft(q, big.attrs["country"], "comparison", support, position(big is c1))


def younger_person_birthplace(w: World) -> Draft | None:
    p1, p2 = w.two("person")
    if p1.attrs["born"] == p2.attrs["born"]:
        return None
    young = max((p1, p2), key=lambda p: p.attrs["born"])
    q = f"In which city was the younger of {p1.name} and {p2.name} born?"
    support = ((p1, "def"), (p2, "def"), (young, "birthplace"))
    return Draft(q, young.attrs["birthplace"], "comparison", support, position(young is p1))


TEMPLATES: tuple[tuple[Callable[[World], Draft | None], float], ...] = (
    (film_director_birthplace, 1.0),
    (film_studio_founded, 1.0),
    (novel_author_university, 1.0),
    (album_label_city, 1.0),
    (person_city_river, 1.0),
    (person_country_capital, 1.0),
    (org_founder_born, 1.0),
    (adaptation_author, 0.6),
    (novel_publisher_founder, 1.0),
    (person_university_founded, 1.0),
    (same_director, 1.0),
    (same_country, 0.8),
    (both_profession, 1.0),
    (same_nationality, 0.8),
    (older_org_founded, 1.0),
    (earlier_film_director, 1.0),
    (larger_city_country, 1.0),
    (younger_person_birthplace, 1.0),
)


def make_questions(world: World, split: str, n: int) -> list[QATask]:
    """``n`` distinct questions over ``world``, none containing its answer: each a draw of a
    template by weight, duplicates and failed drafts skipped."""
    weights = np.array([wt for _, wt in TEMPLATES])
    weights /= weights.sum()
    seen: set[str] = set()
    out: list[QATask] = []
    for _ in range(n * 50):
        if len(out) >= n:
            break
        make = TEMPLATES[int(world.rng.choice(len(TEMPLATES), p=weights))][0]
        d = make(world)
        if d is None or d.question in seen or not acceptable(d):
            continue
        seen.add(d.question)
        out.append(to_task(d, split, len(out), make.__name__))
    if len(out) < n:
        raise RuntimeError(f"only {len(out)} distinct questions for {split}; lower n_questions")
    return out
