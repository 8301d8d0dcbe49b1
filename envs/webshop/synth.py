"""A generated WebShop-style catalog and goals (not WebShop's data; never compare numbers).

Products of 30 types over 6 categories get a brand, title, attributes (some only in the bullet
points or description), option groups with values, a price (sometimes a range) and reviews.
Goals follow WebShop's instruction style: "i need a long lasting body lotion in lavender
scent, size: 8 fl oz, and price lower than 30.00 dollars". Target products are split
between test / valid / train, so the splits share no target and no instruction. Everything is
drawn from ``np.random.default_rng`` seeded by ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from envs.webshop.catalog import Catalog, Goal, Product, Review, price_upper_for
from envs.webshop.reward import EXACT_MATCH_OPTS, FUZZY_THRESHOLD, fuzzy, normalize_color
from envs.webshop.vocab import (
    BRANDS,
    FILLERS,
    OPENERS,
    REVIEW_TEXTS,
    TYPES,
    ProductType,
)

SPLIT_SHARES = {"test": 0.2, "valid": 0.2, "train": 0.6}
DEFAULT_GOALS = {"test": 500, "valid": 500, "train": 2000}
ASIN_CHARS = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
GENERATOR_VERSION = 1


def _pick(rng: np.random.Generator, items: Sequence[str], k: int) -> list[str]:
    idx = sorted(rng.permutation(len(items))[:k].tolist())
    return [items[i] for i in idx]


def _distinct(values: Sequence[str], exact: bool) -> list[str]:
    """Values whose WebShop-normalised forms cannot be confused with an earlier one."""
    kept: list[str] = []
    for v in values:
        n = normalize_color(v)
        if exact:
            clash = any(normalize_color(k) == n for k in kept)
        else:
            clash = any(fuzzy(normalize_color(k), n) > FUZZY_THRESHOLD for k in kept)
        if not clash:
            kept.append(v)
    return kept


def _asin(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        asin = "B0" + "".join(rng.choice(ASIN_CHARS, size=8))
        if asin not in taken:
            taken.add(asin)
            return asin


def make_product(t: ProductType, rng: np.random.Generator, asin: str) -> Product:
    """One product of type ``t``."""
    brand = BRANDS[int(rng.integers(len(BRANDS)))]
    head = t.title_nouns[int(rng.integers(len(t.title_nouns)))]
    attrs = [t.attributes[int(i)] for i in rng.permutation(len(t.attributes))[: rng.integers(3, 6)]]
    in_title = attrs[: int(rng.integers(1, 3))]
    title = f"{brand} {head} - " + ", ".join(a.title() for a in in_title)
    bullets = [
        f"{a.capitalize()}: {FILLERS[int(rng.integers(len(FILLERS)))].lower()}" for a in attrs
    ]
    rng.shuffle(bullets)
    hidden = [a for a in attrs if a not in in_title]
    desc = f"The {brand} {t.noun} is made for daily life."
    if hidden:
        desc += f" It offers {' and '.join(hidden[:2])}."
    desc += f" {FILLERS[int(rng.integers(len(FILLERS)))]}."
    text = " ".join([title, *bullets, desc]).lower()
    options: dict[str, tuple[str, ...]] = {}
    for name, pool in t.options:
        values = _pick(rng, pool, int(rng.integers(2, 6)))
        values = [v for v in values if v not in text]
        values = _distinct(values, exact=name in EXACT_MATCH_OPTS)
        if len(values) >= 2:
            options[name] = tuple(values)
    low, high = t.price
    price = round(float(rng.uniform(low, high)), 2)
    tag = f"${price:.2f}"
    if rng.random() < 0.2:
        top = round(price * float(rng.uniform(1.1, 1.5)), 2)
        tag = f"${price:.2f} to ${top:.2f}"
        price = round(float(rng.uniform(price, top)), 2)
    n_rev = int(rng.integers(0, 4))
    picks = [REVIEW_TEXTS[int(i)] for i in rng.choice(len(REVIEW_TEXTS), n_rev, replace=False)]
    reviews = tuple(Review(a, s, b) for a, s, b in picks)
    rating = f"{np.mean([r.score for r in reviews]):.1f}" if reviews else "N.A."
    return Product(
        asin=asin,
        title=title,
        name=title,
        category=t.category,
        query=t.query,
        product_category=t.product_category,
        price=price,
        price_tag=tag,
        options=options,
        attributes=tuple(attrs),
        description=desc,
        bullet_points=tuple(bullets),
        reviews=reviews,
        rating=rating,
    )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _option_text(name: str, value: str, rng: np.random.Generator) -> str:
    if name == "color":
        forms = [f" in {value}", f" in {value} color", f", color: {value}"]
    elif name == "size":
        forms = [f" in size {value}", f", size: {value}", f" in {value} size"]
    else:
        forms = [f" with {name} {value}", f", {name}: {value}"]
    return forms[int(rng.integers(len(forms)))]


def make_goal(p: Product, t: ProductType, rng: np.random.Generator) -> Goal:
    """A goal whose target is ``p``: some of its attributes, one value per option group."""
    attrs = _pick(rng, p.attributes, int(rng.integers(2, min(3, len(p.attributes)) + 1)))
    chosen = {name: values[int(rng.integers(len(values)))] for name, values in p.options.items()}
    upper, suffix = price_upper_for(p.price, rng)
    described = f"{' and '.join(attrs)} {t.noun}"
    if rng.random() < 0.3:
        described = f"{t.noun} that is {' and '.join(attrs)}"
    opener = OPENERS[int(rng.integers(len(OPENERS)))]
    opts = "".join(_option_text(k, v, rng) for k, v in chosen.items())
    return Goal(
        asin=p.asin,
        instruction=f"{opener} {_article(described)} {described}{opts}{suffix}",
        attributes=tuple(attrs),
        option_values=tuple(chosen.values()),
        price_upper=upper,
        name=p.name,
        query=p.query,
        category=p.category,
        product_category=p.product_category,
        goal_options=chosen,
    )


def build_synthetic(
    seed: int = 0, n_products: int = 1200, goals_per_split: dict[str, int] | None = None
) -> Catalog:
    """The generated catalog with disjoint goal splits, deterministic in its arguments."""
    if n_products < len(TYPES) * 5:
        raise ValueError(f"n_products must be >= {len(TYPES) * 5}, got {n_products}")
    wanted = {**DEFAULT_GOALS, **(goals_per_split or {})}
    rng = np.random.default_rng([seed, GENERATOR_VERSION])
    taken: set[str] = set()
    products: dict[str, Product] = {}
    pools: dict[str, list[tuple[Product, ProductType]]] = {s: [] for s in SPLIT_SHARES}
    per_type = [n_products // len(TYPES) + (i < n_products % len(TYPES)) for i in range(len(TYPES))]
    for t, n in zip(TYPES, per_type, strict=True):
        made = [make_product(t, rng, _asin(rng, taken)) for _ in range(n)]
        products.update((p.asin, p) for p in made)
        n_test, n_valid = round(n * SPLIT_SHARES["test"]), round(n * SPLIT_SHARES["valid"])
        order = rng.permutation(n)
        for rank, i in enumerate(order):
            split = "test" if rank < n_test else "valid" if rank < n_test + n_valid else "train"
            pools[split].append((made[int(i)], t))
    seen: set[str] = set()
    splits: dict[str, list[Goal]] = {}
    for k, split in enumerate(SPLIT_SHARES):
        grng = np.random.default_rng([seed, GENERATOR_VERSION, k])
        goals: list[Goal] = []
        pool = pools[split]
        for _ in range(wanted[split] * 20):
            if len(goals) >= wanted[split]:
                break
            p, t = pool[int(grng.integers(len(pool)))]
            g = make_goal(p, t, grng)
            if g.instruction not in seen:
                seen.add(g.instruction)
                goals.append(g)
        splits[split] = goals
    return Catalog(products, splits, source=f"synthetic:v{GENERATOR_VERSION}:seed{seed}")
