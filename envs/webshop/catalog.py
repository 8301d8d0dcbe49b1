"""The WebShop data model: products, goals and a catalog with its goal splits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PRICE_RANGE = tuple(10.0 * i for i in range(1, 100))
NO_PRICE_LIMIT = 1_000_000.0


@dataclass(frozen=True)
class Review:
    """One product review."""

    title: str
    score: int
    body: str


@dataclass(frozen=True)
class Product:
    """A product as WebShop shows and scores it.

    ``title`` is shown on pages (WebShop's ``Title``); ``name`` feeds the type reward (the raw
    product name; equal to the title in WebShop's loader). ``price`` is the price charged:
    one draw inside ``pricing`` when it is a range. ``options`` maps a lowercased option name
    to its values in page order.
    """

    asin: str
    title: str
    name: str
    category: str
    query: str
    product_category: str
    price: float
    price_tag: str
    options: Mapping[str, tuple[str, ...]]
    attributes: tuple[str, ...]
    description: str
    bullet_points: tuple[str, ...]
    reviews: tuple[Review, ...] = ()
    rating: str = "N.A."

    def search_text(self) -> str:
        """The text WebShop indexes: title, description, first bullet point and options."""
        opts = ", and ".join(f"{k}: {', '.join(v)}" for k, v in self.options.items())
        first = self.bullet_points[0] if self.bullet_points else ""
        return " ".join([self.title, self.description, first, opts]).lower()

    def option_name_of(self, value: str) -> str | None:
        """The option group holding ``value`` (case-insensitive), if any."""
        low = value.lower()
        for name, values in self.options.items():
            if any(v.lower() == low for v in values):
                return name
        return None


@dataclass(frozen=True)
class Goal:
    """An instruction with what the reward checks.

    ``goal_options`` maps option names to values where known (generated goals); human goals
    only list values (``option_values``), as WebShop's ``instruction_options`` do.
    ``option_pairs`` marks goals whose options WebShop holds as a dict (its synthetic goals):
    its released reward then scores the ``(name, value)`` pairs, not the values.
    """

    asin: str
    instruction: str
    attributes: tuple[str, ...]
    option_values: tuple[str, ...]
    price_upper: float
    name: str
    query: str
    category: str
    product_category: str
    goal_options: Mapping[str, str] = field(default_factory=dict)
    weight: float = 1.0
    option_pairs: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for records and fingerprints)."""
        return {
            "asin": self.asin,
            "instruction": self.instruction,
            "attributes": list(self.attributes),
            "option_values": list(self.option_values),
            "price_upper": self.price_upper,
            "goal_options": dict(self.goal_options),
            "option_pairs": self.option_pairs,
        }


@dataclass(frozen=True)
class Catalog:
    """Products by asin, in catalog order, and goals per split."""

    products: Mapping[str, Product]
    splits: Mapping[str, Sequence[Goal]]
    source: str

    def goals(self, split: str) -> Sequence[Goal]:
        """The goals of ``split`` (empty if none)."""
        return self.splits.get(split, ())

    def product(self, asin: str) -> Product | None:
        """The product with ``asin`` (any case), or None."""
        return self.products.get(asin.upper()) or self.products.get(asin)


def price_upper_for(price: float, rng: np.random.Generator) -> tuple[float, str]:
    """WebShop's budget: the larger of two distinct draws from the next four ten-dollar steps
    above ``price``; returns the bound and the instruction suffix (no bound, empty suffix,
    when fewer than two steps remain)."""
    steps = [p for p in PRICE_RANGE if p > price][:4]
    if len(steps) < 2:
        return NO_PRICE_LIMIT, ""
    i, j = rng.choice(len(steps), size=2, replace=False)
    upper = steps[max(int(i), int(j))]
    return upper, f", and price lower than {upper:.2f} dollars"
