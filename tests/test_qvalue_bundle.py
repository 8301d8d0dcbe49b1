"""qvalue.bundle: one recipe per env family, recorded in the card; --list reads the cards."""

from __future__ import annotations

import pytest

from envs.registration import env_family
from qvalue.bundle import ENCODER, FAMILIES, LEGACY_RECIPE, LM_DPO, Recipe, main, recipe_card
from qvalue.collect import CollectSettings, parse_args, settings_from_args


def _settings(recipe: Recipe, env_id: str) -> CollectSettings:
    argv = ["--env", env_id, "--tasks", str(recipe.tasks), *recipe.collect, "--out", "x"]
    return settings_from_args(parse_args(argv))


def test_every_family_recipe_searches_its_own_envs_with_the_policy() -> None:
    assert set(FAMILIES) == {"keychest", "alfworld", "textworld", "webshop", "hotpotqa"}
    for family, recipe in FAMILIES.items():
        assert {env_family(e) for e in recipe.envs} == {family}
        s = _settings(recipe, recipe.envs[0])
        # Zhai et al.: the policy to be guided proposes 5 samples and plays every rollout
        assert s.proposer == "react" and s.policy.startswith("local?adapter=auto")
        assert (s.mcts.iterations, s.mcts.k, s.mcts.depth) == (30, 5, 15)
        assert s.mcts.rollout == "policy" and s.mcts.rollout_step == "decide"
        assert 0.0 < s.mcts.gamma < 1.0
        assert s.proposer_options == {"propose_mode": "sample", "samples": 5}
        assert recipe.pairs[recipe.pairs.index("--rule") + 1] == "best-path+margin"
        old = _settings(recipe.version("v1"), recipe.envs[0])  # the recipe before, reachable
        assert (old.mcts.rollout, old.mcts.gamma, old.mcts.k) == ("expert", 1.0, 3)
        assert old.proposer_options == {"admissible": 2} and old.policy == "local"
    card = recipe_card(FAMILIES["alfworld"], LM_DPO, "alfworld")
    assert card["command"] == "python -m qvalue.bundle --family alfworld --kind lm-dpo"
    assert card["gamma"] == 0.95
    assert card["train"] == LM_DPO and "--lora" in LM_DPO and "--beta" in LM_DPO
    assert recipe_card(FAMILIES["webshop"], ENCODER)["envs"] == ["harness/WebShopSynth-v0"]
    v1 = recipe_card(FAMILIES["keychest"].version("v1", tasks=300), ENCODER, "keychest", "v1")
    assert v1["command"].endswith("--kind encoder --recipe v1 --tasks 300")
    assert v1["gamma"] == 1.0 and v1["collect"][:2] == ["--tasks", "300"]
    legacy = _settings(LEGACY_RECIPE, "harness/KeyChest-v0")  # keychest-minilm as it was built
    assert (legacy.proposer, legacy.policy, legacy.mcts.rollout) == ("admissible", "", "random")
    assert legacy.mcts.gamma == 1.0


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
