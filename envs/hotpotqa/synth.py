"""HotPotQASynth: multi-hop questions over a generated encyclopedia (NOT the HotPotQA data).

Each split has its own world (disjoint entity names across splits, so disjoint pages and
questions). Bridge questions reach the answer through a second page; comparison questions
compare two entities (yes/no, or a value of the entity that wins the comparison). Every
answer is checked not to appear in its question. Deterministic given ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from envs.hotpotqa.corpus import Page
from envs.hotpotqa.data import QATask
from envs.hotpotqa.metrics import answer_in_text, normalize_answer
from envs.hotpotqa.world import ORG_KINDS, PROFESSIONS, Entity, WorldBuilder

GENERATOR_VERSION = 1
SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}
DEFAULT_QUESTIONS = 600
Fact = tuple[Entity, str]


@dataclass(frozen=True)
class Draft:
    """A question before checks: text, answer, type and supporting (entity, fact key) pairs."""

    question: str
    answer: str
    qtype: str
    support: tuple[Fact, ...]


class World:
    """One split's entities with lookups by kind and name."""

    def __init__(self, by_kind: dict[str, list[Entity]], rng: np.random.Generator) -> None:
        self.by_kind, self.rng = by_kind, rng
        self.named = {(e.kind, e.name): e for es in by_kind.values() for e in es}

    def pick(self, kind: str) -> Entity:
        """A uniform draw of an entity of ``kind``."""
        es = self.by_kind[kind]
        return es[int(self.rng.integers(len(es)))]

    def two(self, kind: str) -> tuple[Entity, Entity]:
        """Two distinct entities of ``kind``."""
        i, j = self.rng.choice(len(self.by_kind[kind]), 2, replace=False)
        return self.by_kind[kind][int(i)], self.by_kind[kind][int(j)]

    def get(self, kind: str, name: str) -> Entity:
        """The entity of ``kind`` called ``name``."""
        return self.named[(kind, name)]

    def org(self, name: str) -> Entity:
        """The organisation called ``name`` (any organisation kind)."""
        return next(self.named[(k, name)] for k in ORG_KINDS if (k, name) in self.named)

    def pages(self) -> list[Page]:
        """Every page of the world."""
        return [e.page() for es in self.by_kind.values() for e in es]


def _mention(e: Entity) -> str:
    return f"the {e.kind} {e.name}" if e.kind in ("film", "novel", "album") else e.name


def _yes(w: World) -> bool:
    return bool(w.rng.integers(2))


# --- bridge questions -------------------------------------------------------------------------
def film_director_birthplace(w: World) -> Draft:
    f = w.pick("film")
    d = w.get("person", f.attrs["creator"])
    q = f"In which city was the director of {_mention(f)} born?"
    return Draft(q, d.attrs["birthplace"], "bridge", ((f, "def"), (d, "birthplace")))


def film_studio_founded(w: World) -> Draft:
    f = w.pick("film")
    s = w.org(f.attrs["org"])
    q = f"In what year was the studio that produced {_mention(f)} founded?"
    return Draft(q, str(s.attrs["founded"]), "bridge", ((f, "org"), (s, "founded")))


def novel_author_university(w: World) -> Draft:
    n = w.pick("novel")
    a = w.get("person", n.attrs["creator"])
    q = f"At which university did the author of {_mention(n)} study?"
    return Draft(q, a.attrs["university"], "bridge", ((n, "def"), (a, "university")))


def album_label_city(w: World) -> Draft:
    a = w.pick("album")
    label = w.org(a.attrs["org"])
    q = f"In which city is the record label that issued {_mention(a)} based?"
    return Draft(q, label.attrs["city"], "bridge", ((a, "org"), (label, "def")))


def person_city_river(w: World) -> Draft:
    p = w.pick("person")
    c = w.get("city", p.attrs["birthplace"])
    q = f"Which river flows through the city where {p.name} was born?"
    return Draft(q, c.attrs["river"], "bridge", ((p, "birthplace"), (c, "river")))


def person_country_capital(w: World) -> Draft:
    p = w.pick("person")
    c = w.get("country", p.attrs["country"])
    q = f"What is the capital of the country where {p.name} was born?"
    return Draft(q, c.attrs["capital"], "bridge", ((p, "birthplace"), (c, "def")))


def org_founder_born(w: World) -> Draft:
    o = w.pick(str(w.rng.choice(list(ORG_KINDS))))
    f = w.get("person", o.attrs["founder"])
    q = f"In what year was the founder of {o.name} born?"
    return Draft(q, str(f.attrs["born"]), "bridge", ((o, "founder"), (f, "def")))


def adaptation_author(w: World) -> Draft | None:
    films = [f for f in w.by_kind["film"] if "based_on" in f.attrs]
    if not films:
        return None
    f = films[int(w.rng.integers(len(films)))]
    n = w.get("novel", f.attrs["based_on"])
    q = f"Who wrote the novel on which {_mention(f)} is based?"
    return Draft(q, n.attrs["creator"], "bridge", ((f, "based_on"), (n, "def")))


def novel_publisher_founder(w: World) -> Draft:
    n = w.pick("novel")
    p = w.org(n.attrs["org"])
    q = f"Who founded the publishing house that published {_mention(n)}?"
    return Draft(q, p.attrs["founder"], "bridge", ((n, "org"), (p, "founder")))


def person_university_founded(w: World) -> Draft:
    p = w.pick("person")
    u = w.get("university", p.attrs["university"])
    q = f"In what year was the university attended by {p.name} founded?"
    return Draft(q, str(u.attrs["founded"]), "bridge", ((p, "university"), (u, "founded")))


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
    q = f"Were {_mention(f1)} and {_mention(f2)} directed by the same person?"
    return Draft(q, "yes" if same else "no", "comparison", ((f1, "def"), (f2, "def")))


def same_country(w: World) -> Draft:
    c1, c2 = w.two("city")
    if _yes(w):
        others = [c for c in w.by_kind["city"] if c is not c1]
        others = [c for c in others if c.attrs["country"] == c1.attrs["country"]]
        c2 = others[int(w.rng.integers(len(others)))] if others else c2
    same = c1.attrs["country"] == c2.attrs["country"]
    q = f"Are {c1.name} and {c2.name} in the same country?"
    return Draft(q, "yes" if same else "no", "comparison", ((c1, "def"), (c2, "def")))


def both_profession(w: World) -> Draft:
    prof = str(w.rng.choice(list(PROFESSIONS)))
    pool = [p for p in w.by_kind["person"] if p.attrs["profession"] == prof]
    i, j = w.rng.choice(len(pool), 2, replace=False)
    p1, p2 = pool[int(i)], pool[int(j)]
    if not _yes(w):
        p2 = w.pick("person")
    both = p1.attrs["profession"] == p2.attrs["profession"] == prof and p1 is not p2
    q = f"Are {p1.name} and {p2.name} both {PROFESSIONS[prof][0]}?"
    return Draft(q, "yes" if both else "no", "comparison", ((p1, "def"), (p2, "def")))


def same_nationality(w: World) -> Draft:
    p1, p2 = w.two("person")
    same = p1.attrs["nationality"] == p2.attrs["nationality"]
    q = f"Are {p1.name} and {p2.name} of the same nationality?"
    return Draft(q, "yes" if same else "no", "comparison", ((p1, "def"), (p2, "def")))


def older_org_founded(w: World) -> Draft | None:
    o1, o2 = (w.pick(str(w.rng.choice(list(ORG_KINDS)))) for _ in range(2))
    if o1 is o2 or o1.attrs["founded"] == o2.attrs["founded"]:
        return None
    year = min(o1.attrs["founded"], o2.attrs["founded"])
    q = f"In what year was the older of {o1.name} and {o2.name} founded?"
    return Draft(q, str(year), "comparison", ((o1, "founded"), (o2, "founded")))


def earlier_film_director(w: World) -> Draft | None:
    f1, f2 = w.two("film")
    if f1.attrs["year"] == f2.attrs["year"] or f1.attrs["creator"] == f2.attrs["creator"]:
        return None
    first = min((f1, f2), key=lambda f: f.attrs["year"])
    q = f"Who directed the earlier of the films {f1.name} and {f2.name}?"
    return Draft(q, first.attrs["creator"], "comparison", ((f1, "def"), (f2, "def")))


def larger_city_country(w: World) -> Draft | None:
    c1, c2 = w.two("city")
    if c1.attrs["country"] == c2.attrs["country"]:
        return None
    if c1.attrs["population"] == c2.attrs["population"]:
        return None
    big = max((c1, c2), key=lambda c: c.attrs["population"])
    q = f"In which country is the more populous of {c1.name} and {c2.name}?"
    return Draft(
        q,
        big.attrs["country"],
        "comparison",
        ((c1, "population"), (c2, "population"), (big, "def")),
    )


def younger_person_birthplace(w: World) -> Draft | None:
    p1, p2 = w.two("person")
    if p1.attrs["born"] == p2.attrs["born"]:
        return None
    young = max((p1, p2), key=lambda p: p.attrs["born"])
    q = f"In which city was the younger of {p1.name} and {p2.name} born?"
    support = ((p1, "def"), (p2, "def"), (young, "birthplace"))
    return Draft(q, young.attrs["birthplace"], "comparison", support)


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


def _task(d: Draft, split: str, i: int) -> QATask:
    support: list[tuple[str, int]] = []
    for e, key in d.support:
        fact = (e.title, e.fact_index(key))
        if fact not in support:
            support.append(fact)
    return QATask(f"{split}-{i}", d.question, d.answer, d.qtype, "generated", tuple(support))


def make_questions(world: World, split: str, n: int) -> list[QATask]:
    """``n`` distinct questions over ``world``, none containing its answer."""
    weights = np.array([wt for _, wt in TEMPLATES])
    weights /= weights.sum()
    seen: set[str] = set()
    out: list[QATask] = []
    for _ in range(n * 50):
        if len(out) >= n:
            break
        make = TEMPLATES[int(world.rng.choice(len(TEMPLATES), p=weights))][0]
        d = make(world)
        if d is None or d.question in seen or not normalize_answer(d.answer):
            continue
        if answer_in_text(d.answer, d.question):
            continue
        seen.add(d.question)
        out.append(_task(d, split, len(out)))
    if len(out) < n:
        raise RuntimeError(f"only {len(out)} distinct questions for {split}; lower n_questions")
    return out


def build_synth(
    seed: int = 0, n_questions: int = DEFAULT_QUESTIONS
) -> dict[str, tuple[list[Page], list[QATask]]]:
    """Pages and questions of every split (train, valid, test), deterministic by ``seed``."""
    used: set[str] = set()
    out = {}
    for split, code in SPLIT_CODES.items():
        rng = np.random.default_rng([seed, code, GENERATOR_VERSION])
        world = World(WorldBuilder(rng, used).build(), rng)
        out[split] = (world.pages(), make_questions(world, split, n_questions))
    return out
