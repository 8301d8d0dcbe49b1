"""WebShop's purchase reward pinned on hand-worked cases."""

from __future__ import annotations

from dataclasses import replace

import pytest

pytest.importorskip("rapidfuzz")
pytest.importorskip("spacy")

from envs.webshop import reward as rw
from envs.webshop.catalog import Goal, Product

LOTION = Product(
    asin="B000000001",
    title="Lumen Body Lotion - Long Lasting",
    name="Lumen Body Lotion - Long Lasting",
    category="beauty",
    query="body lotion",
    product_category="Beauty & Personal Care › Skin Care › Body",
    price=12.0,
    price_tag="$12.00",
    options={"scent": ("lavender", "citrus"), "size": ("8 fl oz", "16 fl oz")},
    attributes=("long lasting", "fragrance free", "shea butter"),
    description="A rich cream for every day.",
    bullet_points=("Made with care",),
)
GOAL = Goal(
    asin="B000000001",
    instruction="i need a long lasting and fragrance free body lotion",
    attributes=("long lasting", "fragrance free"),
    option_values=("lavender", "8 fl oz"),
    price_upper=20.0,
    name=LOTION.name,
    query="body lotion",
    category="beauty",
    product_category=LOTION.product_category,
)
EARBUDS = replace(
    LOTION,
    asin="B000000002",
    title="Sonic Wireless Earbuds - Noise Cancelling",
    name="Sonic Wireless Earbuds - Noise Cancelling",
    category="electronics",
    query="wireless earbuds",
    product_category="Electronics › Headphones › Earbuds",
    options={"color": ("black", "white")},
    attributes=("noise cancelling",),
    description="Clear sound.",
    bullet_points=("Charging case included",),
)
FULL = {"scent": "lavender", "size": "8 fl oz"}


def test_full_match_is_one() -> None:
    # (2 attributes + 2 options + price) / (2 + 2 + 1), type factor 1
    info = rw.get_reward(LOTION, GOAL, 12.0, FULL)
    assert info.reward == pytest.approx(1.0)
    assert (info.n_attr_matches, info.n_option_matches, info.r_price) == (2, 2, True)
    assert info.r_type == 1.0 and info.query_match and info.category_match


def test_missing_option() -> None:
    # size never chosen: (2 + 1 + 1) / 5
    assert rw.get_reward(LOTION, GOAL, 12.0, {"scent": "lavender"}).reward == pytest.approx(0.8)


def test_wrong_option_value() -> None:
    # citrus matches no goal option and is not in the product text: (2 + 1 + 1) / 5
    chosen = {"scent": "citrus", "size": "8 fl oz"}
    assert rw.get_reward(LOTION, GOAL, 12.0, chosen).reward == pytest.approx(0.8)


def test_over_budget() -> None:
    # price 25 > 20: (2 + 2 + 0) / 5
    info = rw.get_reward(LOTION, GOAL, 25.0, FULL)
    assert info.reward == pytest.approx(0.8) and info.r_price is False


def test_missing_attribute() -> None:
    # "paraben free" is neither an attribute nor in the text: (2 + 2 + 1) / (3 + 2 + 1)
    goal = replace(GOAL, attributes=(*GOAL.attributes, "paraben free"))
    info = rw.get_reward(LOTION, goal, 12.0, FULL)
    assert info.reward == pytest.approx(5 / 6) and info.r_att == pytest.approx(2 / 3)


def test_wrong_type_scores_zero() -> None:
    # no shared query, category elements or title nouns: r_type 0, so reward 0
    assert not set(rw.nouns(EARBUDS.name)) & set(rw.nouns(GOAL.name))
    info = rw.get_reward(EARBUDS, GOAL, 12.0, {"color": "black"})
    assert (info.r_type, info.reward, info.title_score) == (0.0, 0.0, 0.0)
    assert not info.query_match and not info.category_match


def test_attribute_found_in_text_or_by_fuzzy_ratio() -> None:
    # "rich cream" only in the description; "long-lasting" fuzzy-equal to "long lasting"
    goal = replace(GOAL, attributes=("rich cream", "long-lasting"))
    assert rw.attribute_matches(LOTION, goal.attributes) == 2
    assert rw.attribute_matches(LOTION, ("wireless",)) == 0


def test_colours_normalised_and_size_exact() -> None:
    product = replace(LOTION, options={"color": ("navy blue",), "size": ("x-large",)})
    # "navy blue" and "blue" both normalise to "blue"; sizes match exactly only
    assert rw.option_matches(product, ["blue", "xx-large"], {"color": "navy blue"}) == 1
    assert rw.option_matches(product, ["blue", "xx-large"], {"size": "x-large"}) == 0
    assert rw.option_matches(product, ["blue", "x-large"], {"size": "x-large"}) == 1
    assert rw.fuzzy("x large", "xx large") > rw.FUZZY_THRESHOLD  # fuzzy would have matched


def test_normalize_color_first_listed_wins() -> None:
    assert rw.normalize_color("black forest") == "black"
    assert rw.normalize_color("violet lavender") == "lavender"
    assert rw.normalize_color("webshop") == "webshop"


def test_fuzzy_follows_thefuzz_processing() -> None:
    assert rw.fuzzy("Machine Wash", "machine-wash") == 100
    assert rw.fuzzy("gluten free", "free gluten") == 100
    assert rw.fuzzy("", "anything") == 0


@pytest.mark.parametrize(
    ("query", "category", "desired", "purchased", "r_type"),
    [
        ("body lotion", "A › B", "a b c d e", "a x", 1.0),  # query match
        ("other", "Beauty & Personal Care › Skin Care › Other", "a b", "x", 0.0),  # no nouns
        ("other", "Beauty & Personal Care › Skin Care", "a b c d e", "a", 1.0),  # 2 categories
        ("other", "X › Y", "a b c d e", "a", 0.5),  # title score 0.2, not > 0.2
        ("other", "X › Y", "a b c", "a", 1.0),  # title score 1/3 > 0.2
        ("other", "X › Y", " ".join("abcdefghijk"), "a", 0.1),  # 1/11 < 0.1
        ("body lotion", "X › Y", " ".join("abcdefghijk"), "a", 0.1),  # < 0.1 even if query
        ("other", "X › Y", "", "a", 0.5),  # goal without nouns: title score 0.2
    ],
)
def test_type_reward_branches(
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    category: str,
    desired: str,
    purchased: str,
    r_type: float,
) -> None:
    # fake noun tagger (unit test of the branch logic only): a name's nouns are its words
    monkeypatch.setattr(rw, "nouns", lambda text: tuple(text.split()))
    product = replace(LOTION, query=query, product_category=category, name=purchased)
    goal = replace(GOAL, name=desired)
    assert rw.type_reward(product, goal)[0] == r_type


def test_nouns_from_spacy() -> None:
    assert "lotion" in rw.nouns("Lumen Body Lotion - Long Lasting")
    assert rw.nouns("") == ()


def test_metrics_are_floats() -> None:
    m = rw.get_reward(LOTION, GOAL, 12.0, FULL).metrics()
    assert m["reward"] == pytest.approx(1.0) and m["r_option"] == 1.0
    assert all(isinstance(v, float) for v in m.values())
