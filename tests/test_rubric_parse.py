"""Rubric parsing from messy model output, template rubrics and their checks."""

from __future__ import annotations

import pytest

from agents.base import Turn
from scoring.base import State
from scoring.rubric.rubrics import parse_rubric, template_rubric
from scoring.rubric.scorer import RubricScorer, parse_verdict
from scoring.rubric.templates import budget, family_of, product_type


def texts(items: list[tuple[str, float]]) -> list[str]:
    return [t for t, _ in items]


def weights(items: list[tuple[str, float]]) -> list[float]:
    return [round(w, 4) for _, w in items]


def test_numbered_list_with_weights() -> None:
    out = parse_rubric(
        "Here are the criteria:\n1. Search for the album title (weight: 0.5)\n"
        "2) Do not repeat a search (weight: 0.3)\n3. Finish with a seen answer (weight=0.2)"
    )
    assert texts(out) == [
        "Search for the album title",
        "Do not repeat a search",
        "Finish with a seen answer",
    ]
    assert weights(out) == [0.5, 0.3, 0.2]


def test_bullets_markdown_and_percent() -> None:
    out = parse_rubric(
        "**Rubric**\n- **Names the product type** (60%)\n* Keeps under the budget (40%)\n"
    )
    assert texts(out) == ["Names the product type", "Keeps under the budget"]
    assert weights(out) == [0.6, 0.4]


def test_percent_mixed_with_fractions() -> None:
    out = parse_rubric("- names the product type (weight: 0.5)\n- keeps under the budget (25%)")
    assert weights(out) == [0.6667, 0.3333]


def test_header_sentence_without_colon_dropped() -> None:
    out = parse_rubric("Sure, here is a rubric for this task\n- opens the chest\n- takes the key")
    assert texts(out) == ["opens the chest", "takes the key"]


def test_missing_weights_become_equal() -> None:
    out = parse_rubric("- opens the chest first\n- takes the key before leaving\n• looks around")
    assert texts(out) == ["opens the chest first", "takes the key before leaving", "looks around"]
    assert weights(out) == [0.3333] * 3


def test_single_word_lines_and_headers_dropped() -> None:
    out = parse_rubric("Criteria:\n\nSure!\n- ok\n- moves toward the kitchen\n")
    assert texts(out) == ["moves toward the kitchen"]
    assert weights(out) == [1.0]


def test_partial_weights_filled_with_mean() -> None:
    out = parse_rubric("- picks the red option (weight: 0.6)\n- clicks buy now at the end")
    assert weights(out) == [0.5, 0.5]


def test_trailing_number_and_bracket_weights() -> None:
    out = parse_rubric("1. searches the entity - 3\n2. avoids repeats [1]")
    assert texts(out) == ["searches the entity", "avoids repeats"]
    assert weights(out) == [0.75, 0.25]


def test_json_list_of_objects() -> None:
    raw = 'Sure: [{"criterion": "search the question entity", "weight": 2}, ' + (
        '{"text": "finish with a seen answer"}]'
    )
    out = parse_rubric(raw)
    assert texts(out) == ["search the question entity", "finish with a seen answer"]
    assert weights(out) == [0.5, 0.5]


def test_json_dict_forms() -> None:
    assert texts(parse_rubric('{"criteria": ["take the key first", "open the chest"]}')) == [
        "take the key first",
        "open the chest",
    ]
    out = parse_rubric('{"take the key first": 0.7, "open the chest": 0.3}')
    assert weights(out) == [0.7, 0.3]


def test_duplicates_removed() -> None:
    out = parse_rubric(
        "- Do not repeat a search.\n- do not repeat a search\n- Do not repeat a search!!\n"
        "- Finish with an answer seen on a page"
    )
    assert texts(out) == ["Do not repeat a search.", "Finish with an answer seen on a page"]


def test_too_many_keeps_heaviest_in_order() -> None:
    names = ["opens doors", "takes keys", "reads signs", "avoids loops", "eats food", "finds coins"]
    lines = "\n".join(f"- {n} (weight: {i})" for i, n in enumerate(names, 1))
    out = parse_rubric(lines, max_criteria=3)
    assert texts(out) == ["avoids loops", "eats food", "finds coins"]
    assert sum(w for _, w in out) == pytest.approx(1.0)


@pytest.mark.parametrize("raw", ["", "   \n\n", "yes", "1. 2. 3.", "{]", "[]", "- !!\n- 42"])
def test_garbage_gives_nothing(raw: str) -> None:
    assert parse_rubric(raw) == []


def test_negative_weight_dropped() -> None:
    assert texts(parse_rubric("- avoid loops (weight: -1)\n- reads the page")) == ["reads the page"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Yes.", 1.0),
        (" no, it does not", 0.0),
        ("8/10", 0.8),
        ("0.25", 0.25),
        ("75", 0.75),
        ("True", 1.0),
        ("0.2, yes in part", 0.2),  # the first of a number and a yes/no counts
        ("-1", 0.0),  # clamped to [0, 1]
        ("hmm", None),
    ],
)
def test_parse_verdict(text: str, want: float | None) -> None:
    assert parse_verdict(text) == want


def test_template_families_and_weights() -> None:
    assert family_of("harness/WebShopSynth-v0") == "webshop"
    assert family_of("harness/HotPotQA-v0") == "hotpotqa"
    assert family_of("harness/ALFWorld-v0") == family_of("harness/KeyChest-v0") == "textgame"
    for env in ("harness/WebShop-v0", "harness/HotPotQA-v0", "harness/TextWorld-v0"):
        r = template_rubric(env)
        assert sum(c.weight for c in r.criteria) == pytest.approx(1.0)
        assert all(c.check for c in r.criteria)


TASK_WS = (
    "i need a moisture wicking and classic fit t-shirt, color: white in size xx-large, "
    "and price lower than 70.00 dollars"
)
RESULTS = (
    "Instruction: [SEP] x [SEP] Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next > "
    "[SEP] B0AAAAAAA1 [SEP] Zephyra T-Shirt - Classic Fit [SEP] $26.87 [SEP] B0AAAAAAA2 "
    "[SEP] Steel Kettle [SEP] $80.00"
)
PRODUCT = (
    "Instruction: [SEP] x [SEP] Back to Search [SEP] < Prev [SEP] color [SEP] white [SEP] red "
    "[SEP] size [SEP] x-large [SEP] xx-large [SEP] Zephyra T-Shirt [SEP] Price: $26.87 "
    "[SEP] Buy Now"
)


def verdicts(env: str, state: State, actions: list[str]) -> list[dict[str, float | None]]:
    _, det = RubricScorer().score_details([state], [actions])
    return [d["verdicts"] for d in det[0]]


def test_webshop_checks() -> None:
    assert product_type(TASK_WS) == "t-shirt" and budget(TASK_WS) == 70.0
    env = "harness/WebShopSynth-v0"
    v = verdicts(env, State(TASK_WS, (), "Search", env), ["search[white t-shirt]", "search[mug]"])
    assert v[0]["search_type"] == 1.0 and v[1]["search_type"] == 0.0
    v = verdicts(env, State(TASK_WS, (), RESULTS, env), ["click[B0AAAAAAA1]", "click[B0AAAAAAA2]"])
    assert (v[0]["price_ok"], v[0]["click_type"]) == (1.0, 1.0)
    assert (v[1]["price_ok"], v[1]["click_type"]) == (0.0, 0.0)
    hist = (Turn(RESULTS, "click[B0AAAAAAA1]"),)
    acts = ["click[white]", "click[red]", "click[x-large]", "click[Buy Now]"]
    v = verdicts(env, State(TASK_WS, hist, PRODUCT, env), acts)
    assert [x["options_match"] for x in v[:3]] == [1.0, 0.0, 0.0]  # x-large is not xx-large
    assert v[3]["buy_after_options"] == 0.0 and v[3]["options_match"] is None
    hist2 = (*hist, Turn(PRODUCT, "click[white]"), Turn(PRODUCT, "click[xx-large]"))
    assert (
        verdicts(env, State(TASK_WS, hist2, PRODUCT, env), ["click[Buy Now]"])[0][
            "buy_after_options"
        ]
        == 1.0
    )
    v = verdicts(env, State(TASK_WS, (), RESULTS, env), ["click[Buy Now]", "click[SEP]"])
    assert v[0]["buy_after_options"] == 0.0 and v[0]["on_page"] == 0.0
    assert v[1]["on_page"] == 0.0
    search_page = State(TASK_WS, (), "WebShop [SEP] Instruction: [SEP] x [SEP] Search", env)
    assert verdicts(env, search_page, ["search[t-shirt]"])[0]["on_page"] == 1.0
    on_results = State(TASK_WS, (), RESULTS, env)
    assert verdicts(env, on_results, ["search[t-shirt]"])[0]["on_page"] == 0.0
    assert verdicts(env, on_results, ["click[Next >]"])[0]["on_page"] == 1.0


def test_hotpotqa_checks() -> None:
    env = "harness/HotPotQASynth-v0"
    q = "In which city is the label that issued Shadow of Bigom based?"
    page = "Shadow of Bigom is an album. It was issued by the label Pourosk Music."
    s0 = State(q, (), f"Question: {q}", env)
    v = verdicts(env, s0, ["search[Shadow of Bigom]", "search[Paris]", "finish[Paris]"])
    assert v[0]["search_grounded"] == 1.0 and v[1]["search_grounded"] == 0.0
    assert v[2]["finish_grounded"] == 0.0 and v[2]["no_early_finish"] == 0.0
    s1 = State(q, (Turn(f"Question: {q}", "search[Shadow of Bigom]"),), page, env)
    v = verdicts(
        env, s1, ["search[Pourosk Music]", "search[Shadow of Bigom]", "finish[Pourosk Music]"]
    )
    assert v[0]["search_grounded"] == 1.0 and v[0]["no_repeat_search"] == 1.0
    assert v[1]["no_repeat_search"] == 0.0
    assert v[2]["finish_grounded"] == 1.0 and v[2]["no_early_finish"] == 1.0


def test_textgame_checks() -> None:
    env = "harness/KeyChest-v0"
    task = "Find the key, unlock the chest and take the coin."
    here = "You are in the garden. Exits: east, west."
    hist = (
        Turn(here, "open door"),
        Turn("You can't see any such thing. You are in the garden.", "go east"),
        Turn("You are in the pantry.", "go west"),
    )
    s = State(task, hist, here, env)
    v = verdicts(env, s, ["take key", "open door", "go east", "go west", "look"])
    assert v[0]["mentions_task"] == 1.0 and v[2]["mentions_task"] is None
    assert v[1]["no_repeat_failed"] == 0.0
    assert v[2]["explores"] == 0.0 and v[3]["explores"] == 1.0  # east already taken from here
    assert v[4]["no_routine_loop"] is None
    s2 = State(task, (Turn(here, "look"),), here, env)
    assert verdicts(env, s2, ["look"])[0]["no_routine_loop"] == 0.0
