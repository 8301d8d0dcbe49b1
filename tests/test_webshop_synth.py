"""The generated WebShop catalog: size, determinism, disjoint splits, instruction style, cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("bm25s")

from envs.webshop.catalog import Catalog
from envs.webshop.reward import normalize_color
from envs.webshop.store import cache_key, load_or_build
from envs.webshop.synth import build_synthetic
from envs.webshop.vocab import OPENERS

SMALL = {"test": 40, "valid": 40, "train": 80}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_synthetic(0)


def test_catalog_size_and_fields(catalog: Catalog) -> None:
    products = list(catalog.products.values())
    assert len(products) >= 1000
    assert len({p.category for p in products}) >= 5
    for p in products:
        assert p.title and p.description and p.attributes and p.price > 0
        assert re.fullmatch(r"B0[0-9A-Z]{8}", p.asin)
        assert p.options and all(len(v) >= 2 for v in p.options.values())
        text = " ".join([p.title, *p.bullet_points, p.description]).lower()
        for values in p.options.values():
            assert not any(v in text for v in values)  # no option counts by text alone
            assert len({normalize_color(v) for v in values}) == len(values)
    assert [len(catalog.goals(s)) for s in ("test", "valid", "train")] == [500, 500, 2000]


def test_deterministic_by_seed() -> None:
    a = build_synthetic(7, n_products=300, goals_per_split=SMALL)
    b = build_synthetic(7, n_products=300, goals_per_split=SMALL)
    c = build_synthetic(8, n_products=300, goals_per_split=SMALL)
    assert a == b
    assert [g.instruction for g in a.goals("test")] == [g.instruction for g in b.goals("test")]
    assert list(a.products) != list(c.products)


def test_splits_are_disjoint(catalog: Catalog) -> None:
    targets = {s: {g.asin for g in catalog.goals(s)} for s in ("test", "valid", "train")}
    texts = {s: {g.instruction for g in catalog.goals(s)} for s in ("test", "valid", "train")}
    for x, y in [("test", "valid"), ("test", "train"), ("valid", "train")]:
        assert not targets[x] & targets[y]
        assert not texts[x] & texts[y]
    assert all(len(texts[s]) == len(catalog.goals(s)) for s in texts)  # no duplicates


def test_instructions_in_webshop_style(catalog: Catalog) -> None:
    pattern = re.compile(
        rf"^({'|'.join(map(re.escape, OPENERS))}) an? .+, and price lower than \d+0\.00 dollars$"
    )
    for g in catalog.goals("test"):
        target = catalog.products[g.asin]
        assert pattern.match(g.instruction), g.instruction
        assert all(a in g.instruction for a in g.attributes)
        assert all(v in g.instruction for v in g.option_values)
        assert set(g.attributes) <= set(target.attributes)
        assert all(v in target.options[k] for k, v in g.goal_options.items())
        assert set(g.goal_options) == set(target.options)
        assert target.price <= g.price_upper
        assert (g.name, g.query) == (target.name, target.query)


def test_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QHARNESS_CACHE", str(tmp_path))
    built, index = load_or_build(3, 300)
    path = tmp_path / "webshop" / f"{cache_key(3, 300)}.pkl"
    assert path.is_file()
    loaded, index2 = load_or_build(3, 300)
    assert loaded == built
    query = built.goals("test")[0].instruction
    assert index2.search(query) == index.search(query)
    path.write_bytes(b"garbage")  # a broken cache is rebuilt
    assert load_or_build(3, 300)[0] == built


def test_too_few_products_rejected() -> None:
    with pytest.raises(ValueError, match="n_products must be"):
        build_synthetic(0, n_products=10)


def test_attributes_of_a_type_cannot_be_confused() -> None:
    # a goal attribute must not be credited by a different attribute of the same product type
    from envs.webshop.reward import FUZZY_THRESHOLD, fuzzy
    from envs.webshop.vocab import TYPES

    for t in TYPES:
        for a in t.attributes:
            for b in t.attributes:
                if a != b:
                    assert fuzzy(a, b) <= FUZZY_THRESHOLD and a not in b, (t.noun, a, b)
