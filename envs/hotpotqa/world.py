"""A generated encyclopedia: fictional countries, cities, people, organisations and works,
each with a page whose sentences state its attributes (the world behind HotPotQASynth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from envs.hotpotqa.corpus import Page, words
from envs.hotpotqa.pages import write_all

ONSETS = words("b br c ch d dr f g gr h k kr l m n p pr r s sh st t tr v z")
VOWELS = words("a e i o u a e o ai ei ou")
CODAS = ["", "", "", "n", "r", "l", "s", "m", "nd", "rt", "sk"]
MALE = words(
    "Adrian Bruno Carlos Daniel Emil Felix Gustav Hugo Ivan Jonas Karl Leon Marco Nikolai "
    "Oscar Pavel Rafael Stefan Tomas Viktor Anton Elias Mateo Lukas"
)
FEMALE = words(
    "Alina Beatrice Clara Dora Elena Freya Greta Helena Irena Julia Katia Lena Maria Nora "
    "Olga Petra Rosa Sofia Tessa Vera Ada Ines Lucia Mira"
)
SURNAME_ENDS = ["", "ski", "son", "ez", "ov", "elli", "ard", "berg", "ani", "escu"]
COUNTRY_ENDS = {"ia": "ian", "land": "ish", "ora": "oran", "esh": "eshi", "ar": "ari"}
ADJ = words(
    "Silent Golden Broken Hidden Last Crimson Distant Frozen Burning Quiet Wild Hollow Bright "
    "Lost Northern Secret Silver Endless Paper Glass"
)
NOUN = words(
    "Harbour Garden Mirror Winter Tower Road Lantern Orchard Bridge Island Voyage Letter "
    "Kingdom Shadow Summer Circus Station Forest Crown Window Song Compass Feather"
)
PROFESSIONS = {  # profession: (plural, how many people per world)
    "film director": ("film directors", 30),
    "novelist": ("novelists", 30),
    "singer": ("singers", 28),
    "entrepreneur": ("entrepreneurs", 30),
    "painter": ("painters", 14),
    "architect": ("architects", 14),
    "physicist": ("physicists", 14),
}
ORG_KINDS = {  # kind: (description, name suffixes)
    "studio": ("film studio", ("Pictures", "Studios", "Films")),
    "publisher": ("publishing house", ("Press", "Books", "Publishing")),
    "label": ("record label", ("Records", "Music", "Sound")),
}
WORK_KINDS = {"film": 80, "novel": 60, "album": 50}
LAST_YEAR = 2020
SIZES = {"country": 6, "city": 36, "river": 14, "university": 10, "org": 11, "adaptations": 18}


@dataclass
class Entity:
    """One encyclopedia entry: kind, page title, display name, attributes and fact sentences."""

    kind: str
    name: str
    title: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)  # fact key -> sentence, page order

    def __post_init__(self) -> None:
        self.title = self.title or self.name

    def page(self) -> Page:
        """The page: title and its fact sentences in order."""
        return Page(self.title, tuple(self.facts.values()))

    def fact_index(self, key: str) -> int:
        """Sentence index of fact ``key`` on the page."""
        return list(self.facts).index(key)


class Names:
    """Fresh names from syllables; ``used`` is shared across splits so worlds stay disjoint."""

    def __init__(self, rng: np.random.Generator, used: set[str]) -> None:
        self.rng, self.used = rng, used

    def pick(self, seq: list[str] | tuple[str, ...]) -> str:
        """A uniform draw from ``seq``."""
        return seq[int(self.rng.integers(len(seq)))]

    def word(self, syllables: int) -> str:
        """A pronounceable made-up word."""
        parts = [self.pick(ONSETS) + self.pick(VOWELS) for _ in range(syllables)]
        return ("".join(parts) + self.pick(CODAS)).capitalize()

    def fresh(self, make: Any) -> str:
        """A name from ``make()`` not used before (in any split)."""
        for _ in range(1000):
            name = str(make())
            if name not in self.used and name.casefold() not in self.used:
                self.used.update((name, name.casefold()))
                return name
        raise RuntimeError("name space exhausted")


def _year(rng: np.random.Generator, lo: int, hi: int) -> int:
    return int(rng.integers(lo, hi + 1))


def _pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


class WorldBuilder:
    """Builds one split's world: entities with attributes and fact sentences."""

    def __init__(self, rng: np.random.Generator, used: set[str]) -> None:
        self.rng, self.names = rng, Names(rng, used)
        self.by_kind: dict[str, list[Entity]] = {}

    def add(self, e: Entity) -> Entity:
        """Register an entity under its kind."""
        self.by_kind.setdefault(e.kind, []).append(e)
        return e

    def build(self) -> dict[str, list[Entity]]:
        """Every entity of the world, by kind, with pages written."""
        self._places()
        self._people()
        self._orgs()
        self._works()
        self._write_pages()
        return self.by_kind

    def _places(self) -> None:
        rng, nm = self.rng, self.names
        for _ in range(SIZES["country"]):
            end = nm.pick(list(COUNTRY_ENDS))
            name = nm.fresh(lambda end=end: nm.word(2) + end)
            demonym = name[: -len(end)] + COUNTRY_ENDS[end]
            currency = f"{nm.fresh(lambda: nm.word(1))} {nm.pick(['crown', 'mark', 'florin'])}"
            self.add(Entity("country", name, attrs={"demonym": demonym, "currency": currency}))
        rivers = [nm.fresh(lambda: nm.word(2)) + " River" for _ in range(SIZES["river"])]
        countries = self.by_kind["country"]
        for i in range(SIZES["city"]):
            country = countries[i % len(countries)]
            self.add(
                Entity(
                    "city",
                    nm.fresh(lambda: nm.word(int(rng.integers(2, 4)))),
                    attrs={
                        "country": country.name,
                        "river": _pick(rng, rivers),
                        "founded": _year(rng, 700, 1900),
                        "population": int(rng.integers(50, 20000)) * 100,
                    },
                )
            )
        cities = self.by_kind["city"]
        for i, c in enumerate(countries):
            c.attrs["capital"] = cities[i].name  # city i lies in country i
            c.attrs["population"] = int(rng.integers(2, 90))
        for c in cities:
            c.attrs["twin"] = _pick(rng, [o.name for o in cities if o is not c])
        for city in rng.permutation(len(cities))[: SIZES["university"]]:
            self.add(
                Entity(
                    "university",
                    f"University of {cities[int(city)].name}",
                    attrs={
                        "city": cities[int(city)].name,
                        "founded": _year(rng, 1200, 1950),
                        "students": int(rng.integers(20, 600)) * 100,
                    },
                )
            )

    def _people(self) -> None:
        rng, nm = self.rng, self.names
        surnames = [
            nm.fresh(lambda: nm.word(2) + nm.pick(SURNAME_ENDS).lower()) for _ in range(110)
        ]
        cities = {c.name: c for c in self.by_kind["city"]}
        demonyms = {c.name: c.attrs["demonym"] for c in self.by_kind["country"]}
        unis = [u.name for u in self.by_kind["university"]]
        for prof, (_, count) in PROFESSIONS.items():
            for _ in range(count):
                female = bool(rng.integers(2))
                first_names = FEMALE if female else MALE
                name = nm.fresh(lambda fn=first_names: f"{nm.pick(fn)} {nm.pick(surnames)}")
                city = _pick(rng, list(cities.values()))
                country = city.attrs["country"]
                attrs = {
                    "female": female,
                    "profession": prof,
                    "born": _year(rng, 1900, 1960 if prof == "entrepreneur" else 1985),
                    "birthplace": city.name,
                    "country": country,
                    "nationality": demonyms[country],
                    "university": _pick(rng, unis),
                    "residence": _pick(rng, list(cities)),
                    "prize": f"{nm.word(2)} {nm.pick(['Prize', 'Medal', 'Award'])}",
                }
                self.add(Entity("person", name, attrs=attrs))

    def _people_of(self, profession: str) -> list[Entity]:
        return [p for p in self.by_kind["person"] if p.attrs["profession"] == profession]

    def _orgs(self) -> None:
        rng, nm = self.rng, self.names
        founders = self._people_of("entrepreneur")
        cities = [c.name for c in self.by_kind["city"]]
        order = [int(i) for i in rng.permutation(len(founders))]
        k = 0
        for kind, (_, suffixes) in ORG_KINDS.items():
            for _ in range(SIZES["org"]):
                founder = founders[order[k % len(founders)]]
                k += 1
                name = nm.fresh(lambda s=suffixes: f"{nm.word(2)} {nm.pick(s)}")
                founded = founder.attrs["born"] + int(rng.integers(25, 50))
                attrs = {
                    "founder": founder.name,
                    "founded": founded,
                    "city": _pick(rng, cities),
                    "employees": int(rng.integers(2, 400)) * 10,
                }
                org = self.add(Entity(kind, name, attrs=attrs))
                founder.attrs.setdefault("founded_orgs", []).append(org.name)

    def _title(self) -> str:
        nm = self.names
        patterns = (
            lambda: f"The {nm.pick(ADJ)} {nm.pick(NOUN)}",
            lambda: f"{nm.pick(ADJ)} {nm.pick(NOUN)}",
            lambda: "The {} and the {}".format(*self.rng.choice(NOUN, 2, replace=False)),
            lambda: f"{nm.pick(NOUN)} of {nm.word(2)}",
        )
        return nm.fresh(lambda: patterns[int(self.rng.integers(len(patterns)))]())

    def _works(self) -> None:
        rng = self.rng
        creators = {
            "film": ("film director", "studio"),
            "novel": ("novelist", "publisher"),
            "album": ("singer", "label"),
        }
        for kind, count in WORK_KINDS.items():
            prof, org_kind = creators[kind]
            people, orgs = self._people_of(prof), self.by_kind[org_kind]
            for i in range(count):
                creator = people[i % len(people)] if i < len(people) else _pick(rng, people)
                org = _pick(rng, orgs)
                lo = max(creator.attrs["born"] + 22, org.attrs["founded"])
                year = _year(rng, lo, max(lo, min(lo + 40, LAST_YEAR)))
                attrs = {"creator": creator.name, "org": org.name, "year": year}
                attrs["extra"] = int(rng.integers(8, 180))
                attrs["place"] = _pick(rng, self.by_kind["city"]).name
                self.add(Entity(kind, self._title(), attrs=attrs))
        novels, films = self.by_kind["novel"], self.by_kind["film"]
        for i in range(SIZES["adaptations"]):
            film, novel = films[i], novels[int(rng.integers(len(novels)))]
            if "adapted" in novel.attrs or film.attrs["year"] <= novel.attrs["year"]:
                continue
            self.names.used.discard(film.name)
            film.name = novel.name
            film.title, novel.title = f"{film.name} (film)", f"{novel.name} (novel)"
            film.attrs["based_on"], novel.attrs["adapted"] = novel.name, film.attrs["year"]
        person = {p.name: p for p in self.by_kind["person"]}
        org_of = {o.name: o for k in ORG_KINDS for o in self.by_kind[k]}
        for kind in WORK_KINDS:
            for w in self.by_kind[kind]:
                person[w.attrs["creator"]].attrs.setdefault("works", []).append(w.name)
                org_of[w.attrs["org"]].attrs.setdefault("works", []).append(w.name)

    def _write_pages(self) -> None:
        write_all(self.by_kind, self.rng)
