"""WebShop's purchase reward pinned on hand-worked cases."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

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


def test_finer_options_colours_normalised_and_size_exact() -> None:
    product = replace(LOTION, options={"color": ("navy blue",), "size": ("x-large",)})
    # 6ba9969: "navy blue" and "blue" both normalise to "blue"; sizes match exactly only
    assert rw.option_matches(product, ["blue", "xx-large"], {"color": "navy blue"}) == 1
    assert rw.option_matches(product, ["blue", "xx-large"], {"size": "x-large"}) == 0
    assert rw.option_matches(product, ["blue", "x-large"], {"size": "x-large"}) == 1
    assert rw.fuzzy("x large", "xx large") > rw.FUZZY_THRESHOLD  # fuzzy would have matched


def test_normalize_color_first_listed_wins() -> None:
    assert rw.normalize_color("black forest") == "black"
    assert rw.normalize_color("violet lavender") == "lavender"
    assert rw.normalize_color("webshop") == "webshop"


def test_fuzzy_follows_thefuzz_019_processing() -> None:
    assert rw.fuzzy("Machine Wash", "machine-wash") == 100
    assert rw.fuzzy("gluten free", "free gluten") == 100
    assert rw.fuzzy("", "anything") == 0
    assert rw.fuzzy("-", "-") == 0  # nothing left after processing
    assert rw.fuzzy("abc", "xyz") == 0  # no shared token or character
    # underscores are word characters in thefuzz 0.19 (rapidfuzz's processing splits them)
    assert rw.fuzzy("x_large", "x large") == 71
    # best of the three difflib ratios: "large" vs "large x", 2*5/12 = 83.3 -> 83
    assert rw.fuzzy("x-large", ("size", "large")) == 83
    # a pair is scored through str(): "('color', 'navy blue')" -> color navy blue
    assert rw.fuzzy("blue", ("color", "navy blue")) == 100


@pytest.mark.parametrize(
    ("query", "category", "desired", "purchased", "r_type"),
    [
        ("other", "Beauty & Personal Care › Other", "a b c d e", "a", 0.5),  # 1 category
        ("other", "X › Y", " ".join("abcdefghij"), "a", 0.5),  # title score 1/10, not < 0.1
        ("body lotion", "A › B", "a b c d e", "a x", 1.0),  # query match
        ("other", "Beauty & Personal Care › Skin Care › Other", "a b", "x", 0.0),  # no nouns
        ("other", "Beauty & Personal Care › Skin Care", "a b c d e", "a", 1.0),  # 2 categories
        ("other", "X › Y", "a b c d e", "a", 0.5),  # title score 0.2, not > 0.2
        ("other", "X › Y", "a b c", "a", 1.0),  # title score 1/3 > 0.2
        ("other", "X › Y", "a b c d", "a", 1.0),  # title score 1/4 > 0.2
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
    assert "lotion" in rw.nouns("Lumen Body Lotion - Long Lasting")  # PROPN
    assert rw.nouns("a soft cotton shirt") == ("cotton", "shirt")  # NOUN
    assert rw.nouns("") == ()


def test_metrics_are_floats() -> None:
    m = rw.get_reward(LOTION, GOAL, 12.0, FULL).metrics()
    keys = {"reward", "r_type", "r_att", "r_price", "query_match", "category_match"}
    assert set(m) == keys | {"title_score", "r_option"}
    assert (
        "r_option"
        not in rw.get_reward(LOTION, replace(GOAL, option_values=()), 12.0, FULL).metrics()
    )
    assert m["reward"] == pytest.approx(1.0) and m["r_option"] == 1.0
    assert all(isinstance(v, float) for v in m.values())


# --- boundaries of the released rule (reward="webshop") vs 6ba9969 ("finer-options") -------
def _opt_goal(values: tuple[str, ...], attrs: tuple[str, ...] = ("long lasting",)) -> Goal:
    return replace(GOAL, attributes=attrs, option_values=values)


def test_price_equal_to_budget_is_within() -> None:
    assert rw.get_reward(LOTION, GOAL, 20.0, FULL).r_price is True
    assert rw.get_reward(LOTION, GOAL, 20.01, FULL).r_price is False


@pytest.mark.parametrize(
    ("goal_value", "chosen", "webshop", "finer"),
    [
        ("6", "6.5", 1, 0),  # "6" vs "6 5": token subset, ratio 100 > 85; 6ba9969: exact only
        ("xx-large", "x-large", 1, 0),  # ratio 93 > 85
        ("6", "6", 1, 1),
        ("8", "7.5", 0, 0),
    ],
)
def test_size_is_fuzzy_in_master_exact_in_finer(
    goal_value: str, chosen: str, webshop: int, finer: int
) -> None:
    goal = _opt_goal((goal_value,))
    info = rw.get_reward(LOTION, goal, 12.0, {"size": chosen})
    assert info.n_option_matches == webshop
    assert info.reward == pytest.approx((1 + webshop + 1) / 3)
    assert rw.get_reward(
        LOTION, goal, 12.0, {"size": chosen}, "finer-options"
    ).n_option_matches == (finer)


def test_option_found_only_in_title() -> None:
    # "long lasting" is in the title, not among the goal options: 6ba9969 counts it, master not
    goal = _opt_goal(("vanilla",))
    chosen = {"scent": "long lasting"}
    assert rw.get_reward(LOTION, goal, 12.0, chosen).n_option_matches == 0
    assert rw.get_reward(LOTION, goal, 12.0, chosen, "finer-options").n_option_matches == 1


def test_underscores_and_hyphens_in_option_values() -> None:
    # a hyphen becomes a space; an underscore stays inside its token (thefuzz 0.19)
    assert rw.goal_option_matches(["x large"], ["x-large"]) == 1
    assert rw.goal_option_matches(["x large"], ["x_large"]) == 0
    assert rw.goal_option_matches(["x_large"], ["x_large"]) == 1


def test_duplicate_goal_options_count_each_time() -> None:
    goal = _opt_goal(("lavender", "lavender"))
    info = rw.get_reward(LOTION, goal, 12.0, {"scent": "lavender"})
    assert (info.n_option_matches, info.r_option) == (2, 1.0)
    assert info.reward == pytest.approx(1.0)  # (1 + 2 + 1) / (1 + 2 + 1)
    finer = rw.get_reward(LOTION, goal, 12.0, {"scent": "lavender"}, "finer-options")
    assert finer.n_option_matches == 1 and finer.reward == pytest.approx(3 / 4)


def test_goal_without_options() -> None:
    # master: chosen options cannot count; 6ba9969 counts one found in the text (reward > 1)
    goal = _opt_goal(())
    info = rw.get_reward(LOTION, goal, 12.0, {"scent": "long lasting"})
    assert info.r_option is None and info.n_option_matches == 0
    assert info.reward == pytest.approx(1.0)  # (1 + 0 + 1) / (1 + 0 + 1)
    finer = rw.get_reward(LOTION, goal, 12.0, {"scent": "long lasting"}, "finer-options")
    assert finer.reward == pytest.approx(3 / 2)


def test_each_goal_option_needs_one_chosen_match() -> None:
    # one chosen value can satisfy several goal options; unmatched goal options cost
    assert rw.goal_option_matches(["navy blue"], ["blue", "dark blue"]) == 2
    assert rw.goal_option_matches(["lavender", "8 fl oz"], ["lavender", "16 fl oz"]) == 1
    assert rw.goal_option_matches([], ["lavender"]) == 0


def test_colours_normalised_on_both_sides() -> None:
    # "navy blue" -> "blue", "blue jeans" -> "blue": equal after normalising, not before
    assert rw.fuzzy("navy blue", "blue jeans") <= rw.FUZZY_THRESHOLD
    assert rw.goal_option_matches(["navy blue"], ["blue jeans"]) == 1


def test_pairs_form_scores_name_value_tuples() -> None:
    # master passes goal_options.items() for dict goals: the tuple is what thefuzz sees
    pairs = replace(
        GOAL, option_values=("large",), goal_options={"size": "large"}, option_pairs=True
    )
    assert rw.goal_options_as_passed(pairs) == (("size", "large"),)
    chosen = {"scent": "lavender", "size": "x-large"}
    assert rw.get_reward(LOTION, pairs, 12.0, chosen).n_option_matches == 0  # ratio 83
    values = replace(pairs, option_pairs=False)
    assert rw.get_reward(LOTION, values, 12.0, chosen).n_option_matches == 1  # ratio 100
    # a pair holding an exact colour word normalises to that word (tuple membership)
    assert rw.normalize_color(("color", "black")) == "black"
    assert rw.normalize_color(("color", "navy blue")) == ("color", "navy blue")


def test_unknown_rule_rejected() -> None:
    why = "reward must be one of ['webshop', 'finer-options'], got 'finer'"
    with pytest.raises(ValueError, match=re.escape(why)):
        rw.get_reward(LOTION, GOAL, 12.0, FULL, "finer")


def test_only_characters_128_to_255_are_dropped() -> None:
    # thefuzz 0.19 drops U+0080-U+00FF before processing; U+0100 is a letter and stays
    assert rw.fuzzy("a\u00ffb", "ab") == 100
    assert rw.fuzzy("a\u0080b", "ab") == 100
    assert rw.fuzzy("a\u0100b", "ab") < 100
    assert rw.fuzzy("a\u007fb", "a b") == 100  # DEL is a non-word character: a space


def test_threshold_is_strictly_above_85() -> None:
    # generated-catalog values scoring exactly 85 and 86
    assert rw.fuzzy("fast charging", "charging case") == 85
    assert rw.fuzzy("15 feet", "10 feet") == 86
    assert rw.goal_option_matches(["fast charging"], ["charging case"]) == 0
    assert rw.goal_option_matches(["15 feet"], ["10 feet"]) == 1
    assert rw.option_matches(LOTION, ["charging case"], {"style": "fast charging"}) == 0
    assert rw.option_matches(LOTION, ["10 feet"], {"style": "15 feet"}) == 1
    assert (
        rw.attribute_matches(replace(LOTION, attributes=("fast charging",)), ["charging case"]) == 0
    )


def test_goal_name_without_nouns_scores_title_02(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rw, "nouns", lambda text: tuple(text.split()))
    product = replace(LOTION, query="x", product_category="X › Y")
    r_type, _, _, title_score = rw.type_reward(product, replace(GOAL, name=""))
    assert (r_type, title_score) == (0.5, 0.2)


def test_missing_spacy_pipeline_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    def missing(name: str) -> None:
        raise ImportError(name)

    rw._nlp.cache_clear()
    monkeypatch.setattr(importlib, "import_module", missing)
    try:
        with pytest.raises(ImportError, match=re.escape("pip install 'qharness[webshop]'")):
            rw._nlp()
    finally:
        monkeypatch.undo()
        rw._nlp.cache_clear()


def test_attribute_across_bullet_points() -> None:
    # bullet points are joined with a space before the substring test
    product = replace(LOTION, attributes=(), bullet_points=("so soft", "cotton blend"))
    assert rw.attribute_matches(product, ["soft cotton"]) == 1


def test_goal_without_attributes_has_r_att_zero() -> None:
    # WebShop's goals always have attributes (it would divide by zero); here r_att is 0.0
    info = rw.get_reward(LOTION, replace(GOAL, attributes=()), 12.0, FULL)
    assert info.r_att == 0.0 and info.reward == pytest.approx(1.0)  # (0 + 2 + 1) / (0 + 2 + 1)
