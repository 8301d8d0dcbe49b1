"""``reward="webshop"`` against a plain reference of WebShop ``master``'s ``get_reward``
(``web_agent_site/engine/goal.py`` at d149d0d, thefuzz 0.19.0), written here from reading it,
on purchases drawn from the generated catalog."""

from __future__ import annotations

import functools
import itertools
from dataclasses import replace
from difflib import SequenceMatcher

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("spacy")

from envs.webshop import reward as rw
from envs.webshop.catalog import Catalog, Goal, Product
from envs.webshop.synth import build_synthetic

COLOURS = rw.COLOR_SET


# --- the reference ------------------------------------------------------------------------
def ref_clean(x: object) -> str:
    """thefuzz 0.19 full_process: str(), drop U+0080-U+00FF, keep word chars, lowercase."""
    s = "".join(c for c in str(x) if not 128 <= ord(c) <= 255)
    s = "".join(c if c.isalnum() or c == "_" else " " for c in s)
    return s.lower().strip()


def ref_ratio(a: str, b: str) -> int:
    if a == b:
        return 100
    if len(a) == 0 or len(b) == 0:
        return 0
    return round(SequenceMatcher(None, a, b).ratio() * 100)


@functools.cache
def ref_token_set_ratio(x: object, y: object) -> int:
    a, b = ref_clean(x), ref_clean(y)
    if len(a) == 0 or len(b) == 0:
        return 0
    ta, tb = set(a.split()), set(b.split())
    common = " ".join(sorted(ta & tb))
    left = (common + " " + " ".join(sorted(ta - tb))).strip()
    right = (common + " " + " ".join(sorted(tb - ta))).strip()
    return max(ref_ratio(common, left), ref_ratio(common, right), ref_ratio(left, right))


def ref_colour(x: object) -> object:
    for c in COLOURS:
        if c in x:  # type: ignore[operator]
            return c
    return x


@functools.cache
def ref_nouns(text: str) -> tuple[str, ...]:
    return tuple(t.text.lower() for t in rw._nlp()(text) if t.pos_ in ("PNOUN", "NOUN", "PROPN"))


def ref_r_type(product: Product, goal: Goal) -> float:
    query_match = product.query == goal.query
    p_cat = [x.strip() for x in product.product_category.split("›")]
    g_cat = [x.strip() for x in goal.product_category.split("›")]
    category_match = len(set(p_cat) & set(g_cat)) >= 2
    bought, wanted = ref_nouns(product.name), ref_nouns(goal.name)
    score = 0.2 if len(wanted) == 0 else len(set(bought) & set(wanted)) / len(wanted)
    r = 1.0
    if not (query_match or category_match or score > 0.2):
        r = 0.5
    if score < 0.1:
        r = 0.1
    if score == 0.0:
        r = 0.0
    return r


def ref_reward(product: Product, goal: Goal, price: float, chosen: dict[str, str]) -> float:
    n_att = 0
    for g in goal.attributes:
        hit = any(ref_token_set_ratio(p, g) > 85 for p in product.attributes)
        if not hit and (
            g in product.title.lower()
            or g in " ".join(product.bullet_points).lower()
            or g in product.description.lower()
        ):
            hit = True
        n_att += hit
    goal_options = (
        list(goal.goal_options.items()) if goal.option_pairs else list(goal.option_values)
    )
    bought = [ref_colour(v) for v in chosen.values()]
    n_opt = 0
    for g in [ref_colour(o) for o in goal_options]:
        for p in bought:
            if ref_token_set_ratio(p, g) > 85:
                n_opt += 1
                break
    price_ok = price <= goal.price_upper
    total = (n_att + n_opt + price_ok) / (len(goal.attributes) + len(goal_options) + 1)
    return total * ref_r_type(product, goal)


# --- purchases from the generated catalog ------------------------------------------------
@functools.cache
def catalog() -> Catalog:
    return build_synthetic(seed=7, n_products=300, goals_per_split={"train": 300})


@st.composite
def purchases(draw: st.DrawFn) -> tuple[Product, Goal, float, dict[str, str]]:
    cat = catalog()
    goals = [g for split in cat.splits.values() for g in split]
    goal = draw(st.sampled_from(goals))
    target = cat.products[goal.asin]
    product = draw(st.one_of(st.just(target), st.sampled_from(list(cat.products.values()))))
    chosen = {}
    for name, values in product.options.items():
        value = draw(st.one_of(st.none(), st.sampled_from(values)))
        if value is not None:
            chosen[name] = value
    form = draw(st.sampled_from(["as built", "pairs", "no options", "duplicated"]))
    if form == "pairs":  # WebShop's synthetic goals: dict options, scored as pairs
        goal = replace(goal, option_pairs=True)
    elif form == "no options":
        goal = replace(goal, option_values=(), goal_options={})
    elif form == "duplicated":
        goal = replace(goal, option_values=goal.option_values * 2)
    price = draw(
        st.sampled_from(
            [product.price, goal.price_upper, goal.price_upper + 0.01, goal.price_upper - 0.01]
        )
    )
    return product, goal, price, chosen


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(purchases())
def test_reward_equals_master_reference(
    purchase: tuple[Product, Goal, float, dict[str, str]],
) -> None:
    product, goal, price, chosen = purchase
    assert rw.get_reward(product, goal, price, chosen).reward == ref_reward(
        product, goal, price, chosen
    )


def test_every_option_choice_on_test_targets() -> None:
    """Every combination of option values (each group chosen or not) on each test goal's
    target, in both goal forms, scores as the reference."""
    cat = catalog()
    n = 0
    for goal in cat.goals("test"):
        product = cat.products[goal.asin]
        groups = [[None, *values] for values in product.options.values()]
        for combo in itertools.product(*groups):
            chosen = {k: v for k, v in zip(product.options, combo, strict=True) if v}
            for g in (goal, replace(goal, option_pairs=True)):
                got = rw.get_reward(product, g, product.price, chosen).reward
                assert got == ref_reward(product, g, product.price, chosen), (g, chosen)
                n += 1
    assert n > 1000
