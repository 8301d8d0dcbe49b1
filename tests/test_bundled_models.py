"""Every bundled Q model: a card that says how it was made, within the size limit, and it loads
and scores (lm-dpo adapters on the local policy's own SmolLM2 GGUF)."""

from __future__ import annotations

import math

import pytest

from scoring.base import State
from scoring.models import ARTIFACTS, BUNDLE_FAMILIES, bundled_models, load_scorer, read_card
from scoring.text import LEGACY_FORMAT, STATE_FORMAT

LIMIT_MB = 20


@pytest.mark.parametrize("name", bundled_models())
def test_bundled_model_card_size_and_scores(name: str) -> None:
    card = read_card(ARTIFACTS / name)
    size = sum(f.stat().st_size for f in (ARTIFACTS / name).iterdir()) / 2**20
    assert size <= LIMIT_MB, f"{name}: {size:.1f} MB"
    assert card["pair_data"]["hash"] and card["heldout_accuracy"] is not None
    family = name.removesuffix(f"-{card['kind']}")
    if family in BUNDLE_FAMILIES:  # a family model (keychest-minilm is admissible-q's own)
        command = f"python -m qvalue.bundle --family {family} --kind {card['kind']}"
        assert card["recipe"]["command"] == command
        by_task = card["heldout_accuracy_by_task"]
        assert sum(card["heldout_pairs_by_task"].values()) == card["pair_data"]["heldout_pairs"]
        assert set(by_task) == set(card["heldout_pairs_by_task"])
    env_id = card["envs"][0]
    state = State("Reach the goal.", (), "You are in a room. Exits: north.", env_id)
    scorer = load_scorer(f"bundled:{name}", device="cpu")
    scores = scorer.score([state], [["look", "go north"]])
    assert len(scores[0]) == 2 and all(math.isfinite(s) for s in scores[0])
    # the state format it was trained on, as its card says (format 1: the task may be cut)
    assert card["hyperparameters"]["state_format"] in (LEGACY_FORMAT, STATE_FORMAT)
    assert scorer.cfg.state_format == card["hyperparameters"]["state_format"]  # type: ignore[attr-defined]


def test_every_family_has_an_encoder_bundled() -> None:
    """react-q's default (scorer=auto) needs one per family."""
    assert {f"{f}-encoder" for f in BUNDLE_FAMILIES} <= set(bundled_models())
