"""The WebShop real-data loader on small files written in WebShop's own formats."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

pytest.importorskip("bm25s")
pytest.importorskip("Stemmer")

import envs  # noqa: F401
from envs.webshop import reward as rw
from envs.webshop.realdata import (
    WebShopDataError,
    data_paths,
    load_catalog,
    parse_pricing,
)

NAMES = ["hoodie", "deodorant", "lotion", "sneaker", "teapot", "lamp", "mug", "scarf"]


def _product(i: int, **over: Any) -> dict[str, Any]:
    """One entry of items_shuffle*.json (fields as in WebShop's scraped data)."""
    name = NAMES[i % len(NAMES)]
    entry = {
        "asin": f"B0TEST{i:04d}",
        "name": f"Brand{i} Cozy {name.title()} for Everyday Use",
        "product_category": f"Home & Kitchen › Category{i % 3} › {name.title()}s",
        "category": ["beauty", "fashion", "garden"][i % 3],
        "query": f" {name}s ",
        "full_description": f"A {name} that is soft and sturdy.",
        "pricing": f"${10 + i}.99",
        "images": [f"https://example.invalid/{i}.jpg"],
        "customization_options": {
            "Color": [{"value": "Navy/Blue", "image": None}, {"value": "Red", "image": None}],
            "Size": [{"value": "Small", "image": None}, {"value": "Large", "image": None}],
        },
        "small_description": [f"Machine wash {name}", "Second bullet"],
        "brand": "Brand",
        "product_information": {},
    }
    entry.update(over)
    return entry


def write_fixture(folder: Path, n: int = 8, suffix: str = "_1000") -> Path:
    """Products, attributes, human instructions and reviews in WebShop's file formats."""
    products = [_product(i) for i in range(n)]
    products[1]["pricing"] = "$10.00 - $20.00"
    products[2]["pricing"] = ""
    products[3]["customization_options"] = None
    products[3]["small_description"] = "single bullet"
    products.append(_product(0))  # duplicate asin: skipped
    products.append(_product(99, asin="nan"))  # bad asin: skipped
    attrs = {
        p["asin"]: {
            "attributes": ["machine wash", "soft material"],
            "instruction": f"i want a soft {NAMES[i % len(NAMES)]}",
            "instruction_attributes": ["soft material"],
        }
        for i, p in enumerate(products[:n])
        if i != 4
    }
    human = {
        p["asin"]: [
            {
                "asin": p["asin"],
                "instruction": f"i need a machine wash {NAMES[i % len(NAMES)]} in navy.",
                "instruction_attributes": ["machine wash"],
                "instruction_options": ["navy | blue", "large"],
                "attributes": ["machine wash"],
                "options": [],
                "assignment_id": f"A{i}",
            },
            {
                "asin": p["asin"],
                "instruction": "no attributes: skipped",
                "instruction_attributes": [],
                "instruction_options": [],
            },
        ]
        for i, p in enumerate(products[:n])
    }
    reviews = [
        {
            "asin": products[0]["asin"],
            "reviews": [{"title": "Nice", "stars": "5", "review": "Love it"}],
            "average_rating": 5.0,
        }
    ]
    for name, data in [
        (f"items_shuffle{suffix}.json", products),
        (f"items_ins_v2{suffix}.json", attrs),
        ("items_human_ins.json", human),
        ("reviews.json", reviews),
    ]:
        (folder / name).write_text(json.dumps(data))
    return folder


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return write_fixture(tmp_path)


def test_products_as_webshop_builds_them(data_dir: Path) -> None:
    cat = load_catalog(data_dir, split_sizes=(3, 2))
    assert list(cat.products) == [f"B0TEST{i:04d}" for i in range(8)]  # dupes, 'nan' out
    p0, p1, p2, p3, p4 = (cat.products[f"B0TEST{i:04d}"] for i in range(5))
    assert p0.title == p0.name == "Brand0 Cozy Hoodie for Everyday Use"
    assert p0.query == "hoodies" and p0.price == 10.99 and p0.price_tag == "$10.99"
    assert p0.options == {"color": ("navy | blue", "red"), "size": ("small", "large")}
    assert p0.bullet_points == ("Machine wash hoodie", "Second bullet")
    assert p0.reviews[0].score == 5 and p0.reviews[0].body == "Love it" and p0.rating == "5.0"
    assert p1.price_tag == "$10.0 to $20.0" and 10.0 <= p1.price <= 20.0
    assert (p2.price, p2.price_tag) == (100.0, "$100.0")
    assert p3.options == {} and p3.bullet_points == ("single bullet",)
    assert p4.attributes == ("DUMMY_ATTR",)  # no entry in items_ins_v2
    assert p0.search_text().startswith("brand0 cozy hoodie for everyday use a hoodie")


def test_human_goals_order_and_splits(data_dir: Path) -> None:
    cat = load_catalog(data_dir, split_sizes=(3, 2))
    goals = [*cat.goals("test"), *cat.goals("valid"), *cat.goals("train")]
    assert [len(cat.goals(s)) for s in ("test", "valid", "train")] == [3, 2, 3]
    expected = [f"B0TEST{i:04d}" for i in range(8)]  # one goal per product, in file order
    random.Random(233).shuffle(expected)  # WebShop: random.seed(233); random.shuffle(goals)
    assert [g.asin for g in goals] == expected
    g = next(g for g in goals if g.asin == "B0TEST0000")
    assert g.instruction.startswith("i need a machine wash hoodie in navy, and price lower than")
    assert g.instruction.endswith(f"{g.price_upper:.2f} dollars")
    assert g.price_upper in (20.0, 30.0, 40.0, 50.0) and g.price_upper > 10.99
    assert g.attributes == ("machine wash",) and g.option_values == ("navy | blue", "large")
    assert g.name == "Brand0 Cozy Hoodie for Everyday Use" and g.goal_options == {}
    assert not g.option_pairs  # master scores a human goal's option list as values


def test_loader_is_deterministic(data_dir: Path) -> None:
    a, b = load_catalog(data_dir, seed=3), load_catalog(data_dir, seed=3)
    assert [g.to_dict() for g in a.goals("test")] == [g.to_dict() for g in b.goals("test")]


def test_synthetic_goals_from_attribute_file(data_dir: Path) -> None:
    cat = load_catalog(data_dir, goals="synthetic", split_sizes=(1000, 0))
    goals = cat.goals("test")
    # 4 option combinations for products with colour x size, 1 for the one without options
    assert len(goals) == 4 * 6 + 1  # product 4 has no instruction in items_ins_v2
    g = next(g for g in goals if g.asin == "B0TEST0000" and g.goal_options["size"] == "large")
    assert "i want a soft hoodie with color: " in g.instruction
    assert ", and size: large, and price lower than" in g.instruction
    # master passes a synthetic goal's dict options as (name, value) pairs
    assert g.option_pairs and all(x.option_pairs for x in goals)
    assert rw.goal_options_as_passed(g) == tuple(g.goal_options.items())


def test_human_goal_with_dict_options_is_scored_as_pairs(tmp_path: Path) -> None:
    write_fixture(tmp_path)
    human_file = tmp_path / "items_human_ins.json"
    human = json.loads(human_file.read_text())
    first = next(iter(human))
    human[first][0]["instruction_options"] = {"color": "navy | blue", "size": "large"}
    human_file.write_text(json.dumps(human))
    cat = load_catalog(tmp_path)
    g = next(g for split in cat.splits.values() for g in split if g.asin == first)
    assert g.option_pairs and g.option_values == ("navy | blue", "large")
    assert rw.goal_options_as_passed(g) == (("color", "navy | blue"), ("size", "large"))


def test_prefers_full_files_and_size_choice(tmp_path: Path) -> None:
    write_fixture(tmp_path, n=6, suffix="")
    write_fixture(tmp_path, n=5, suffix="_1000")
    assert data_paths(tmp_path)["products"].name == "items_shuffle.json"
    assert data_paths(tmp_path, "1k")["products"].name == "items_shuffle_1000.json"
    assert len(load_catalog(tmp_path, size="1k").products) == 5


def test_missing_data_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBSHOP_DATA", raising=False)
    with pytest.raises(WebShopDataError, match="set WEBSHOP_DATA") as e1:
        load_catalog()
    with pytest.raises(WebShopDataError, match="not a directory"):
        load_catalog(tmp_path / "nope")
    with pytest.raises(WebShopDataError, match=r"items_shuffle\.json or items_shuffle_1000") as e2:
        load_catalog(tmp_path)
    assert "\n" not in str(e1.value) and "\n" not in str(e2.value)
    (tmp_path / "items_shuffle_1000.json").write_text("{not json")
    (tmp_path / "items_ins_v2_1000.json").write_text("{}")
    (tmp_path / "items_human_ins.json").write_text("{}")
    with pytest.raises(WebShopDataError, match="cannot read"):
        load_catalog(tmp_path)


def test_env_reads_webshop_data_variable(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBSHOP_DATA", str(data_dir))
    env = gym.make("harness/WebShop-v0", split_sizes=(3, 2))
    obs, info = env.reset(seed=0)
    assert obs.startswith("WebShop [SEP] Instruction: [SEP] ") and obs.endswith(" [SEP] Search")
    assert info["task_id"] == "test-0"


def test_parse_pricing() -> None:
    assert parse_pricing("$1,299.00") == ([1299.0], "$1299.0")
    assert parse_pricing(None) == ([100.0], "$100.0")
    assert parse_pricing("$5.00 - $7.50 - $9") == ([5.0, 7.5], "$5.0 to $7.5")
