"""Parts shared by every HotPotQASynth generator: the world view questions are drawn from,
question drafts, the bridge templates, and turning a draft into a task."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envs.hotpotqa.corpus import Page
from envs.hotpotqa.data import QATask
from envs.hotpotqa.metrics import answer_in_text, normalize_answer
from envs.hotpotqa.world import ORG_KINDS, Entity

Fact = tuple[Entity, str]


@dataclass(frozen=True)
class Draft:
    """A question before checks: text, answer, type, supporting (entity, fact key) pairs and,
    for a comparison, its outcome."""

    question: str
    answer: str
    qtype: str
    support: tuple[Fact, ...]
    outcome: str = ""  # comparisons: "yes"/"no", or "first"/"second" (which entity wins)


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


def mention(e: Entity) -> str:
    """How a question names ``e`` ("the film X" for works, else the name)."""
    return f"the {e.kind} {e.name}" if e.kind in ("film", "novel", "album") else e.name


# --- bridge questions -------------------------------------------------------------------------
def film_director_birthplace(w: World) -> Draft:
    f = w.pick("film")
    d = w.get("person", f.attrs["creator"])
    q = f"In which city was the director of {mention(f)} born?"
    return Draft(q, d.attrs["birthplace"], "bridge", ((f, "def"), (d, "birthplace")))


def film_studio_founded(w: World) -> Draft:
    f = w.pick("film")
    s = w.org(f.attrs["org"])
    q = f"In what year was the studio that produced {mention(f)} founded?"
    return Draft(q, str(s.attrs["founded"]), "bridge", ((f, "org"), (s, "founded")))


def novel_author_university(w: World) -> Draft:
    n = w.pick("novel")
    a = w.get("person", n.attrs["creator"])
    q = f"At which university did the author of {mention(n)} study?"
    return Draft(q, a.attrs["university"], "bridge", ((n, "def"), (a, "university")))


def album_label_city(w: World) -> Draft:
    a = w.pick("album")
    label = w.org(a.attrs["org"])
    q = f"In which city is the record label that issued {mention(a)} based?"
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
    q = f"Who wrote the novel on which {mention(f)} is based?"
    return Draft(q, n.attrs["creator"], "bridge", ((f, "based_on"), (n, "def")))


def novel_publisher_founder(w: World) -> Draft:
    n = w.pick("novel")
    p = w.org(n.attrs["org"])
    q = f"Who founded the publishing house that published {mention(n)}?"
    return Draft(q, p.attrs["founder"], "bridge", ((n, "org"), (p, "founder")))


def person_university_founded(w: World) -> Draft:
    p = w.pick("person")
    u = w.get("university", p.attrs["university"])
    q = f"In what year was the university attended by {p.name} founded?"
    return Draft(q, str(u.attrs["founded"]), "bridge", ((p, "university"), (u, "founded")))


BRIDGE = (
    film_director_birthplace,
    film_studio_founded,
    novel_author_university,
    album_label_city,
    person_city_river,
    person_country_capital,
    org_founder_born,
    adaptation_author,
    novel_publisher_founder,
    person_university_founded,
)


def acceptable(d: Draft | None) -> bool:
    """A draft with a non-empty answer that does not occur in its question."""
    if d is None or not normalize_answer(d.answer):
        return False
    return not answer_in_text(d.answer, d.question)


def to_task(d: Draft, split: str, i: int, template: str) -> QATask:
    """Task ``i`` of ``split`` from draft ``d``: supporting facts as (title, sentence index)."""
    support: list[tuple[str, int]] = []
    for e, key in d.support:
        fact = (e.title, e.fact_index(key))
        if fact not in support:
            support.append(fact)
    return QATask(
        f"{split}-{i}",
        d.question,
        d.answer,
        d.qtype,
        "generated",
        tuple(support),
        template=template,
        outcome=d.outcome,
    )


def yes_no_draft(q: str, yes: bool, a: Entity, b: Entity) -> Draft:
    """A yes/no comparison of ``a`` and ``b``; its outcome is the answer itself."""
    answer = "yes" if yes else "no"
    return Draft(q, answer, "comparison", ((a, "def"), (b, "def")), answer)


def position(first: bool) -> str:
    """The outcome of a value comparison: whether the winner is named first or second."""
    return "first" if first else "second"
