"""Page text of the generated encyclopedia: each entity's attributes written as sentences."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.hotpotqa.world import Entity

ORG_DESC = {"studio": "film studio", "publisher": "publishing house", "label": "record label"}
WORK_NOUN = {"film director": "films", "novelist": "novels", "singer": "albums"}


def _listing(items: list[str]) -> str:
    items = items[:3]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _n(rng: np.random.Generator, lo: int, hi: int) -> int:
    return int(rng.integers(lo, hi + 1))


def _person(e: Entity, rng: np.random.Generator) -> dict[str, str]:
    a = e.attrs
    he, his = ("She", "Her") if a["female"] else ("He", "His")
    facts = {
        "def": f"{e.name} (born {a['born']}) is a {a['nationality']} {a['profession']}.",
        "birthplace": f"{he} was born in {a['birthplace']}, {a['country']}.",
        "university": f"{he} studied at the {a['university']}.",
        "residence": f"{he} lives in {a['residence']}.",
        "prize": f"In {a['born'] + 40} {he.lower()} received the {a['prize']}.",
        "languages": f"{he} speaks {_n(rng, 2, 6)} languages.",
        "children": f"{he} has {_n(rng, 1, 5)} children.",
    }
    if a.get("works"):
        facts["works"] = f"{his} {WORK_NOUN[a['profession']]} include {_listing(a['works'])}."
    if a.get("founded_orgs"):
        facts["orgs"] = f"{he} founded {_listing(a['founded_orgs'])}."
    return facts


def _work(e: Entity, nationality: str, rng: np.random.Generator) -> dict[str, str]:
    a = e.attrs
    if e.kind == "film":
        facts = {
            "def": f"{e.name} is a {a['year']} {nationality} film directed by {a['creator']}.",
            "org": f"It was produced by {a['org']}.",
            "place": f"The film is set in {a['place']}.",
            "extra": f"It runs for {a['extra']} minutes.",
            "budget": f"It was made on a budget of {_n(rng, 1, 90)} million.",
        }
        if "based_on" in a:
            facts["based_on"] = "The film is an adaptation of the novel of the same name."
        return facts
    if e.kind == "novel":
        facts = {
            "def": f"{e.name} is a {a['year']} novel by {nationality} writer {a['creator']}.",
            "org": f"It was published by {a['org']}.",
            "place": f"The story takes place in {a['place']}.",
            "extra": f"The first edition ran to {a['extra'] * 3} pages.",
            "copies": f"It has sold about {_n(rng, 2, 900)} thousand copies.",
        }
        if "adapted" in a:
            facts["adapted"] = f"It was adapted into a film in {a['adapted']}."
        return facts
    return {
        "def": f"{e.name} is an album by {nationality} singer {a['creator']}.",
        "year": f"It was released in {a['year']}.",
        "org": f"It was issued by the label {a['org']}.",
        "place": f"It was recorded in {a['place']}.",
        "extra": f"It contains {a['extra'] % 12 + 6} tracks.",
        "length": f"Its running time is {_n(rng, 30, 75)} minutes.",
    }


def _place(e: Entity, country_of: dict[str, str], rng: np.random.Generator) -> dict[str, str]:
    a = e.attrs
    if e.kind == "country":
        return {
            "def": f"{e.name} is a country whose capital is {a['capital']}.",
            "language": f"Its official language is {a['demonym']}.",
            "currency": f"Its currency is the {a['currency']}.",
            "population": f"It has a population of about {a['population']} million.",
            "area": f"It covers {_n(rng, 20, 900)} thousand square kilometres.",
        }
    if e.kind == "city":
        return {
            "def": f"{e.name} is a city in {a['country']}.",
            "river": f"It lies on the {a['river']}.",
            "founded": f"It was founded in {a['founded']}.",
            "population": f"It has a population of {a['population']:,}.",
            "twin": f"{e.name} is twinned with {a['twin']}.",
            "elevation": f"It lies {_n(rng, 2, 1900)} metres above sea level.",
        }
    return {
        "def": f"The {e.name} is a public university in {a['city']}, {country_of[a['city']]}.",
        "founded": f"It was founded in {a['founded']}.",
        "students": f"It has about {a['students']:,} students.",
        "campus": f"Its main campus covers {_n(rng, 10, 400)} hectares.",
    }


def _org(e: Entity, rng: np.random.Generator) -> dict[str, str]:
    a = e.attrs
    facts = {
        "def": f"{e.name} is a {ORG_DESC[e.kind]} based in {a['city']}.",
        "founded": f"It was founded in {a['founded']}.",
        "founder": f"Its founder is {a['founder']}.",
        "employees": f"It employs about {a['employees']} people.",
        "revenue": f"Its annual revenue is about {_n(rng, 1, 500)} million.",
    }
    if a.get("works"):
        facts["works"] = f"Its catalogue includes {_listing(a['works'])}."
    return facts


def write_all(by_kind: dict[str, list[Entity]], rng: np.random.Generator) -> None:
    """Write every entity's fact sentences: the definition first, the rest in random order."""
    people = {p.name: p for p in by_kind["person"]}
    country_of = {c.name: c.attrs["country"] for c in by_kind["city"]}
    for kind, entities in by_kind.items():
        for e in entities:
            if kind == "person":
                facts = _person(e, rng)
            elif kind in ("film", "novel", "album"):
                facts = _work(e, people[e.attrs["creator"]].attrs["nationality"], rng)
            elif kind in ORG_DESC:
                facts = _org(e, rng)
            else:
                facts = _place(e, country_of, rng)
            rest = [k for k in facts if k != "def"]
            order = ["def"] + [rest[int(i)] for i in rng.permutation(len(rest))]
            e.facts = {k: facts[k] for k in order}
