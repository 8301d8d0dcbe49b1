"""qvalue.bundle: one recipe per env family, recorded in the card; --list reads the cards."""

from __future__ import annotations

import pytest

from envs.registration import env_family
from qvalue.bundle import ENCODER, FAMILIES, LM_DPO, main, recipe_card


def test_every_family_recipe_searches_its_own_envs_with_the_policy() -> None:
    assert set(FAMILIES) == {"keychest", "alfworld", "textworld", "webshop", "hotpotqa"}
    for family, recipe in FAMILIES.items():
        assert {env_family(e) for e in recipe.envs} == {family}
        flags = dict(zip(recipe.collect[::2], recipe.collect[1::2], strict=True))
        assert flags["--proposer"] == "react" and flags["--policy"] == "local"
        assert flags["--proposer-opt"] == "admissible=2"
    card = recipe_card(FAMILIES["alfworld"], LM_DPO)
    assert card["command"] == "python -m qvalue.bundle --family alfworld --kind lm-dpo"
    assert card["train"] == LM_DPO and "--lora" in LM_DPO and "--beta" in LM_DPO
    assert recipe_card(FAMILIES["webshop"], ENCODER)["envs"] == ["harness/WebShopSynth-v0"]


def test_list_prints_the_bundled_cards_and_bad_flags_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "| keychest-minilm | encoder | harness/KeyChest-v0 |" in out
    with pytest.raises(SystemExit) as exc:
        main(["--kind", "lm-dpo"])  # the legacy model is an encoder
    assert exc.value.code == 2
    assert "name a --family" in capsys.readouterr().err
