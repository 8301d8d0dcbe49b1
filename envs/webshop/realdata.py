"""Loader for WebShop's own data files (products, attributes, human instructions).

Reads ``items_shuffle.json`` (or ``items_shuffle_1000.json``), ``items_ins_v2.json`` (or
``items_ins_v2_1000.json``), ``items_human_ins.json`` and, if present, ``reviews.json`` from
one directory, and turns them into products and goals the way WebShop's ``load_products`` and
``get_goals`` do. Goals are shuffled with ``random.Random(233)`` as WebShop does, so goal
indices match WebShop's; splits are its index ranges: test ``[0, 500)``, valid
``[500, 1500)``, train ``[1500, end)``. WebShop draws the price of a ranged product and each
goal's budget with an unseeded RNG; here they come from ``seed`` (fixed per run).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from envs.webshop.catalog import Catalog, Goal, Product, Review, price_upper_for

PRODUCT_FILES = {"full": "items_shuffle.json", "1k": "items_shuffle_1000.json"}
ATTRIBUTE_FILES = {"full": "items_ins_v2.json", "1k": "items_ins_v2_1000.json"}
HUMAN_FILE = "items_human_ins.json"
REVIEW_FILE = "reviews.json"
GOAL_SHUFFLE_SEED = 233
SPLIT_SIZES = (500, 1000)  # test, valid; train is the rest
DATA_ENV = "WEBSHOP_DATA"


class WebShopDataError(FileNotFoundError):
    """WebShop's data files are missing or unreadable; the message says what to do."""


def _pick(folder: Path, names: Mapping[str, str], size: str) -> Path:
    order = [size] if size in names else ["full", "1k"]
    for key in order:
        if (folder / names[key]).is_file():
            return folder / names[key]
    wanted = " or ".join(names[k] for k in order)
    raise WebShopDataError(
        f"WebShop data not found: {folder} has no {wanted}; point {DATA_ENV} (or data_dir=) "
        "at the folder holding WebShop's items_shuffle*.json, items_ins_v2*.json and "
        f"{HUMAN_FILE}"
    )


def data_paths(data_dir: str | os.PathLike[str] | None, size: str = "auto") -> dict[str, Path]:
    """The data files to read (``size``: ``"full"``, ``"1k"`` or ``"auto"``: full if present)."""
    raw = data_dir or os.environ.get(DATA_ENV)
    if not raw:
        raise WebShopDataError(
            f"WebShop data not found: set {DATA_ENV} to the folder holding WebShop's "
            f"items_shuffle*.json, items_ins_v2*.json and {HUMAN_FILE} (or pass data_dir=)"
        )
    folder = Path(raw).expanduser()
    if not folder.is_dir():
        raise WebShopDataError(f"WebShop data not found: {folder} is not a directory")
    paths = {
        "products": _pick(folder, PRODUCT_FILES, size),
        "attributes": _pick(folder, ATTRIBUTE_FILES, size),
        "human": _pick(folder, {"full": HUMAN_FILE}, "full"),
    }
    if (folder / REVIEW_FILE).is_file():
        paths["reviews"] = folder / REVIEW_FILE
    return paths


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise WebShopDataError(f"cannot read {path}: {exc}") from exc


def parse_pricing(pricing: Any) -> tuple[list[float], str]:
    """WebShop's price parse: ``"$12.99"`` or ``"$10.00 - $20.00"``; missing means $100."""
    if not pricing:
        return [100.0], "$100.0"
    values = []
    for part in str(pricing).split("$")[1:]:
        digits = re.sub(r"[^\d.]", "", part)
        try:
            values.append(float(Decimal(digits)))
        except InvalidOperation:
            continue
    if not values:
        return [100.0], "$100.0"
    if len(values) == 1:
        return values, f"${values[0]}"
    return values[:2], f"${values[0]} to ${values[1]}"


def _options(raw: Any) -> dict[str, tuple[str, ...]]:
    options: dict[str, tuple[str, ...]] = {}
    for name, contents in (raw or {}).items():
        if contents is None:
            continue
        values = [str(c["value"]).strip().replace("/", " | ").lower() for c in contents]
        options[str(name).lower()] = tuple(values)
    return options


def _reviews(raw: Mapping[str, Any] | None) -> tuple[tuple[Review, ...], str]:
    if not raw:
        return (), "N.A."
    reviews = tuple(
        Review(
            title=str(r.get("title", "")),
            score=int(float(r.get("score", r.get("stars", 0)) or 0)),
            body=str(r.get("body", r.get("review", ""))),
        )
        for r in raw.get("reviews", [])
    )
    return reviews, str(raw.get("average_rating", "N.A."))


def build_product(
    p: Mapping[str, Any],
    attrs: Mapping[str, Any],
    reviews: Mapping[str, Any] | None,
    rng: np.random.Generator,
) -> Product:
    """One product the way WebShop's ``load_products`` builds it."""
    pricing, tag = parse_pricing(p.get("pricing"))
    price = pricing[0] if len(pricing) == 1 else float(rng.uniform(pricing[0], pricing[1]))
    small = p.get("small_description")
    bullets = small if isinstance(small, list) else [small or ""]
    review_list, rating = _reviews(reviews)
    return Product(
        asin=str(p["asin"]),
        title=str(p.get("name", "")),
        name=str(p.get("name", "")),
        category=str(p.get("category", "")),
        query=str(p.get("query", "")).lower().strip(),
        product_category=str(p.get("product_category", "")),
        price=price,
        price_tag=tag,
        options=_options(p.get("customization_options")),
        attributes=tuple(attrs.get("attributes") or ["DUMMY_ATTR"]),
        description=str(p.get("full_description") or ""),
        bullet_points=tuple(str(b) for b in bullets),
        reviews=review_list,
        rating=rating,
    )


def human_goals(
    products: Sequence[Product], human: Mapping[str, Any], rng: np.random.Generator
) -> list[Goal]:
    """WebShop's ``get_human_goals``: one goal per human instruction with attributes."""
    goals = []
    for prod in products:
        for ins in human.get(prod.asin, []):
            attributes = tuple(ins.get("instruction_attributes") or ())
            if not attributes:
                continue
            upper, suffix = price_upper_for(prod.price, rng)
            raw = ins.get("instruction_options") or []
            pairs = dict(raw) if isinstance(raw, Mapping) else {}
            values = list(pairs.values()) if pairs else list(raw)
            goals.append(
                Goal(
                    asin=prod.asin,
                    instruction=str(ins["instruction"]).strip(".") + suffix,
                    attributes=attributes,
                    option_values=tuple(str(v) for v in values),
                    price_upper=upper,
                    name=prod.name,
                    query=prod.query,
                    category=prod.category,
                    product_category=prod.product_category,
                    goal_options={str(k): str(v) for k, v in pairs.items()},
                    option_pairs=bool(pairs),
                )
            )
    return goals


def synthetic_goals(
    products: Sequence[Product], attrs: Mapping[str, Any], rng: np.random.Generator
) -> list[Goal]:
    """WebShop's ``get_synthetic_goals``: templated instruction x every option combination."""
    goals: list[Goal] = []
    counts: defaultdict[str, int] = defaultdict(int)
    for prod in products:
        entry = attrs.get(prod.asin) or {}
        text, attributes = (
            entry.get("instruction"),
            tuple(entry.get("instruction_attributes") or ()),
        )
        if not text or not attributes:
            continue
        upper, suffix = price_upper_for(prod.price, rng)
        names = sorted(prod.options)
        for combo in itertools.product(*(prod.options[n] for n in names)):
            chosen = dict(zip(names, combo, strict=True))
            opt_text = ", and ".join(f"{k}: {v}" for k, v in chosen.items())
            opt_text = f" with {opt_text}" if opt_text else ""
            goals.append(
                Goal(
                    asin=prod.asin,
                    instruction=f"{text}{opt_text}{suffix}",
                    attributes=attributes,
                    option_values=tuple(chosen.values()),
                    price_upper=upper,
                    name=prod.title,
                    query=prod.query,
                    category=prod.category,
                    product_category=prod.product_category,
                    goal_options=chosen,
                    option_pairs=True,
                )
            )
            for a in attributes:
                counts[a] += 1
    return [
        replace(g, weight=sum(1.0 / counts[a] for a in g.attributes) / len(g.attributes))
        for g in goals
    ]


def load_catalog(
    data_dir: str | os.PathLike[str] | None = None,
    size: str = "auto",
    goals: str = "human",
    seed: int = 0,
    split_sizes: tuple[int, int] = SPLIT_SIZES,
    num_products: int | None = None,
) -> Catalog:
    """Products and goal splits from WebShop's files (``goals``: ``human`` or ``synthetic``)."""
    if goals not in ("human", "synthetic"):
        raise ValueError(f"goals must be 'human' or 'synthetic', got {goals!r}")
    paths = data_paths(data_dir, size)
    raw_products = _read_json(paths["products"])
    attrs = _read_json(paths["attributes"])
    reviews = {r["asin"]: r for r in _read_json(paths["reviews"])} if "reviews" in paths else {}
    if num_products is not None:
        raw_products = raw_products[:num_products]
    rng = np.random.default_rng([seed, 0x3EB])
    products: dict[str, Product] = {}
    for p in raw_products:
        asin = str(p.get("asin", "nan"))
        if asin == "nan" or len(asin) > 10 or asin in products:
            continue
        products[asin] = build_product(p, attrs.get(asin) or {}, reviews.get(asin), rng)
    ordered = list(products.values())
    if goals == "human":
        goal_list = human_goals(ordered, _read_json(paths["human"]), rng)
    else:
        goal_list = synthetic_goals(ordered, attrs, rng)
    random.Random(GOAL_SHUFFLE_SEED).shuffle(goal_list)
    n_test, n_valid = split_sizes
    splits = {
        "test": goal_list[:n_test],
        "valid": goal_list[n_test : n_test + n_valid],
        "train": goal_list[n_test + n_valid :],
    }
    return Catalog(products, splits, source=f"webshop:{paths['products'].name}:{goals}")
