"""The WebShop text envs: pages, actions, nonsense input, oracle, restore, check_env, runs."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("bm25s")
pytest.importorskip("Stemmer")
pytest.importorskip("spacy")

import envs  # noqa: F401
from envs.base import EnvSnapshot
from envs.webshop import reward as rw
from envs.webshop.env import WebShopEnv, WebShopSynthEnv, WebShopTextEnv
from harness.run import main as run_main
from tests.test_webshop_loader import write_fixture

ASIN_ACTION = re.compile(r"click\[(B0[0-9A-Z]{8})\]")


@pytest.fixture(scope="module")
def env() -> WebShopSynthEnv:
    return WebShopSynthEnv(use_cache=False)


def play_oracle(env: WebShopTextEnv, max_steps: int = 30) -> tuple[float, bool, int]:
    """Follow the expert to the end; return reward, won and steps."""
    _, info = env.reset(seed=env._reset_seed, options={**env._reset_options, "expert": True})
    reward = 0.0
    for t in range(max_steps):
        _, reward, done, _, info = env.step(info["expert_action"])
        if done:
            return reward, bool(info["won"]), t + 1
    return reward, bool(info["won"]), max_steps


def search(env: WebShopTextEnv, seed: int = 0) -> tuple[str, dict]:
    env.reset(seed=seed)
    obs, _, _, _, info = env.step("search[body lotion]")
    return obs, info


def test_start_page(env: WebShopSynthEnv) -> None:
    obs, info = env.reset(seed=3, options={"split": "valid"})
    assert obs == f"WebShop [SEP] Instruction: [SEP] {info['task']} [SEP] Search"
    assert info["admissible_actions"] == ["search[<query>]"]
    assert info["task_id"] == "valid-3" and info["split"] == "valid" and not info["won"]


def test_results_pages(env: WebShopSynthEnv) -> None:
    obs, info = search(env)
    head = f"Instruction: [SEP] {info['task']} [SEP] Back to Search [SEP] "
    assert obs.startswith(head + "Page 1 (Total results: 50) [SEP] Next > [SEP] B0")
    acts = info["admissible_actions"]
    assert acts[:2] == ["click[Back to Search]", "click[Next >]"]
    assert len([a for a in acts if ASIN_ACTION.fullmatch(a)]) == 10
    first = ASIN_ACTION.fullmatch(acts[2])
    assert first is not None
    product = env.catalog.products[first.group(1)]
    assert f"{product.asin} [SEP] {product.title} [SEP] {product.price_tag}" in obs
    for page in range(2, 6):
        obs, _, _, _, info = env.step("click[Next >]")
        assert f"Page {page} (Total results: 50) [SEP] < Prev" in obs
    assert "click[Next >]" not in info["admissible_actions"]
    obs, _, _, _, info = env.step("click[< prev]")  # clicks are case-insensitive
    assert "Page 4 (Total results: 50)" in obs and not info["invalid_action"]


def test_item_sub_pages_and_purchase(env: WebShopSynthEnv) -> None:
    _, info = search(env)
    asin = ASIN_ACTION.fullmatch(info["admissible_actions"][2]).group(1)  # type: ignore[union-attr]
    product = env.catalog.products[asin]
    obs, _, _, _, info = env.step(f"click[{asin.lower()}]")
    assert obs.endswith(
        f"{product.title} [SEP] Price: {product.price_tag} [SEP] Rating: {product.rating} "
        "[SEP] Description [SEP] Features [SEP] Reviews [SEP] Buy Now"
    )
    name, values = next(iter(product.options.items()))
    assert f"[SEP] < Prev [SEP] {name} [SEP] {' [SEP] '.join(values)}" in obs
    assert f"click[{values[1]}]" in info["admissible_actions"]
    env.step(f"click[{values[1]}]")
    obs, _, _, _, _ = env.step("click[Description]")
    assert obs.endswith(f"Back to Search [SEP] < Prev [SEP] {product.description}")
    obs, _, _, _, _ = env.step("click[< Prev]")
    obs, _, _, _, _ = env.step("click[Features]")
    assert obs.endswith(" [SEP] ".join(product.bullet_points))
    env.step("click[< Prev]")
    obs, reward, done, _, info = env.step("click[Buy Now]")
    assert done and obs.startswith("Thank you for shopping with us!")
    assert f"{name}: {values[1]}" in obs
    assert info["metrics"]["reward"] == reward and info["won"] == (reward >= 1 - 1e-9)
    assert info["score"] == reward and info["admissible_actions"] == []
    obs, reward, done, _, info = env.step("click[Buy Now]")
    assert done and reward == 0.0 and info["invalid_action"]


@pytest.mark.parametrize(
    "action",
    ["", "buy now", "click[nothing here]", "search[]", "click[]", "[x]", "search[[a]", "🛒"],
)
def test_nonsense_is_invalid_and_harmless(env: WebShopSynthEnv, action: str) -> None:
    before, _ = search(env)
    obs, reward, done, _, info = env.step(action)
    assert info["invalid_action"] and reward == 0.0 and not done
    assert obs.startswith("Invalid action!")
    assert env.step("click[Next >]")[0].startswith(before.split("Page 1")[0])


def test_search_only_from_search_page(env: WebShopSynthEnv) -> None:
    search(env)
    obs, _, _, _, info = env.step("search[lamp]")
    assert info["invalid_action"] and "Back to Search" in obs
    obs, _, _, _, info = env.step("click[Back to Search]")
    assert obs.startswith("WebShop [SEP]") and not info["invalid_action"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_any_string_is_legal(env: WebShopSynthEnv, action: str) -> None:
    env.reset(seed=1)
    obs, reward, _, _, info = env.step(action)
    assert isinstance(obs, str) and isinstance(reward, float)
    assert info["invalid_action"] or action.strip().lower().startswith("search[")


def test_oracle_wins_on_generated_tasks(env: WebShopSynthEnv) -> None:
    wins, n = 0, 0
    for split in ("test", "valid", "train"):
        for seed in range(0, 400, 20):
            env.reset(seed=seed, options={"split": split})
            wins += play_oracle(env)[1]
            n += 1
    assert wins / n >= 0.95


def test_deterministic_episodes() -> None:
    a, b = WebShopSynthEnv(use_cache=False), WebShopSynthEnv(use_cache=False)
    for e in (a, b):
        e.reset(seed=11, options={"expert": True})
    traj_a = [a.step(a.expert_action() or "")[0] for _ in range(4)]
    traj_b = [b.step(b.expert_action() or "")[0] for _ in range(4)]
    assert traj_a == traj_b


def test_restore_equals_replay(env: WebShopSynthEnv) -> None:
    _, info = env.reset(seed=5, options={"expert": True})
    for _ in range(2):
        _, _, _, _, info = env.step(info["expert_action"])
    snap = env.snapshot()
    obs_at, info_at = env.render(), info
    rest = []
    for _ in range(6):
        obs, r, done, _, info = env.step(info["expert_action"])
        rest.append((obs, r, done))
        if done:
            break
    env.reset(seed=99)  # elsewhere entirely
    obs, info = env.restore(snap)
    assert obs == obs_at and info["admissible_actions"] == info_at["admissible_actions"]
    assert info["expert_action"] == info_at["expert_action"] and env.history == snap.actions
    again = []
    for _ in rest:
        o, r, d, _, info = env.step(info["expert_action"])
        again.append((o, r, d))
    assert again == rest
    replayed, _ = env.restore(EnvSnapshot(snap.seed, snap.options, snap.actions))  # no engine
    assert replayed == obs_at


def test_check_env_synthetic(env: WebShopSynthEnv) -> None:
    check_env(env)


def test_check_env_and_oracle_on_real_format_files(tmp_path: Path) -> None:
    write_fixture(tmp_path)
    check_env(gym.make("harness/WebShop-v0", data_dir=str(tmp_path), split_sizes=(4, 2)).unwrapped)
    real = WebShopEnv(data_dir=str(tmp_path), split_sizes=(8, 0))
    for seed in range(8):
        real.reset(seed=seed)
        goal = real.catalog.goals("test")[seed]
        reward, won, _ = play_oracle(real)
        has_options = bool(real.catalog.products[goal.asin].options)
        assert won == has_options and reward == (1.0 if has_options else 0.5)


def test_harness_run_records_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QHARNESS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    args = ["--envs", "harness/WebShopSynth-v0", "--agents", "random", "expert"]
    assert run_main([*args, "--episodes", "2", "--out", str(out), "--leaderboard", ""]) == 0
    with (out / "episodes.csv").open() as f:
        rows = list(csv.DictReader(f))
    expert = [r for r in rows if r["agent"] == "expert"]
    assert len(rows) == 4 and all(r["success"] in ("True", "1", "true") for r in expert)
    assert all(float(r["metric_reward"]) == 1.0 for r in expert)


def test_reward_rule_option_and_fingerprint(env: WebShopSynthEnv) -> None:
    """``reward=`` picks the option rule, enters the fingerprint and is checked."""
    finer = WebShopSynthEnv(reward="finer-options")
    assert env.reward_rule == "webshop" and finer.reward_rule == "finer-options"
    assert env.env_fingerprint() != finer.env_fingerprint()
    assert WebShopSynthEnv().env_fingerprint() == env.env_fingerprint()
    with pytest.raises(ValueError, match="reward must be one of"):
        WebShopSynthEnv(reward="master")
    made = gym.make("harness/WebShopSynth-v0", reward="finer-options")
    assert made.unwrapped.reward_rule == "finer-options"
    made.close()


def _near_size(e: WebShopSynthEnv) -> tuple[int, dict[str, str]]:
    """A test goal with a size option, and its options with the size swapped for another
    of the target's sizes that fuzzy-matches it (e.g. 6 for 6.5)."""
    for i, g in enumerate(e.catalog.goals("test")):
        want = g.goal_options.get("size")
        sizes = e.catalog.products[g.asin].options.get("size", ())
        for w in sizes:
            if want and w != want and rw.fuzzy(w, want) > rw.FUZZY_THRESHOLD:
                return i, {**g.goal_options, "size": w}
    raise AssertionError("no test goal with a near size")


def test_buy_uses_the_env_reward_rule() -> None:
    """Buying a goal's target with a near size scores per the env's rule."""
    r_option = {}
    for rule in ("webshop", "finer-options"):
        e = WebShopSynthEnv(reward=rule)
        i, chosen = _near_size(e)
        _, info = e.reset(seed=i, options={"expert": True})
        while info["expert_action"] != "click[Buy Now]":
            _, _, _, _, info = e.step(info["expert_action"])
        for value in chosen.values():
            e.step(f"click[{value}]")
        r_option[rule] = e.step("click[Buy Now]")[4]["metrics"]["r_option"]
    k = len(chosen)
    assert r_option == {"webshop": 1.0, "finer-options": pytest.approx((k - 1) / k)}
