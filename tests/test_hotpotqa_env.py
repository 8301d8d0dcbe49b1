"""ReAct tool semantics of the HotPotQA envs, nonsense actions, suggested actions, state
restore, check_env, and a short run through the harness runner."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envs  # noqa: F401 - registers the ids
from agents.baselines import ExpertAgent, RandomAgent
from envs.hotpotqa.actions import parse_action, similar_titles
from envs.hotpotqa.env import HotPotQASynthEnv
from envs.hotpotqa.synth_balanced import TEMPLATES
from harness.runner import EpisodeJob, play_episode

pytest.importorskip("bm25s")

SYNTH = "harness/HotPotQASynth-v1"


@pytest.fixture(scope="module")
def env() -> HotPotQASynthEnv:
    return HotPotQASynthEnv()


@pytest.fixture(scope="module")
def pair() -> tuple[HotPotQASynthEnv, HotPotQASynthEnv]:
    return HotPotQASynthEnv(), HotPotQASynthEnv()


def _film_task(env: HotPotQASynthEnv) -> int:
    tasks = env.tasks("test")
    return next(i for i, t in enumerate(tasks) if "director of the film" in t.question)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("search[Ed Wood]", ("search", "Ed Wood")),
        ("  Search [ Ed Wood ]  ", ("search", "Ed Wood")),
        ("LOOKUP[born]", ("lookup", "born")),
        ("Action 2: Finish[yes]", ("finish", "yes")),
        ("finish['Paris']", ("finish", "Paris")),
        ("search[Ed Wood", ("search", "Ed Wood")),  # a stop sequence ate the bracket
        ("finish[a [b] c]", ("finish", "a [b] c")),
        ("think[I need X]\nObservation: ...", ("think", "I need X")),
        ("Thought 1: I should search.\nAction 1: Search[Ed Wood]", ("search", "Ed Wood")),
        ("finish[Paris] because it says so", ("finish", "Paris")),
        ("go north", None),
        ("", None),
        ("searchEd Wood]", None),
    ],
)
def test_parse_action(text: str, parsed: tuple[str, str] | None) -> None:
    assert parse_action(text) == parsed


def test_first_observation_and_info(env: HotPotQASynthEnv) -> None:
    obs, info = env.reset(seed=0)
    assert obs == f"Question: {info['task']}"
    assert info["won"] is False and info["score"] == 0.0 and info["max_score"] == 1.0
    assert info["metrics"] == {"em": 0.0, "f1": 0.0} and info["task_id"] == "test-0"
    assert "expert_action" not in info


def test_search_exact_page_similar_titles_and_lookup(env: HotPotQASynthEnv) -> None:
    task = env.tasks("test")[_film_task(env)]
    film, _ = task.supporting[0]
    page = env.corpus_for("test", task).get(film)
    assert page is not None
    env.reset(options={"task_index": _film_task(env)})
    obs, reward, done, _, info = env.step(f"search[{film.upper()}]")
    assert obs == " ".join(page.sentences[:5]) and not done and reward == 0.0
    assert not info["invalid_action"]
    obs, *_ = env.step(f"search[{film} zzz]")
    assert obs.startswith(f"Could not find {film} zzz. Similar: [")
    assert similar_titles(obs)[0] == film  # the title match ranks first
    # a failed search keeps the open page (as in ReAct)
    hits = page.lookup("it")
    for k, i in enumerate(hits, 1):
        obs, *_ = env.step("lookup[it]")
        assert obs == f"(Result {k} / {len(hits)}) {page.sentences[i]}"
    assert env.step("lookup[it]")[0] == "No more results."
    assert env.step("lookup[It]")[0].startswith("(Result 1 /")  # a new keyword restarts
    assert env.step("think[hmm]")[0] == "Nice thought."


def test_lookup_without_page_and_nonsense_actions(env: HotPotQASynthEnv) -> None:
    env.reset(seed=1)
    obs, _, _, _, info = env.step("lookup[born]")
    assert obs == "No more results." and not info["invalid_action"]
    for bad in ("go north", "", "search[]", "lookup[  ]", "\x00\x01", "x" * 5000):
        obs, reward, done, trunc, info = env.step(bad)
        assert info["invalid_action"] and not done and not trunc and reward == 0.0
        assert "search[entity]" in obs and "finish[answer]" in obs and len(obs) < 400


def test_finish_rewards_exact_match_and_records_f1(env: HotPotQASynthEnv) -> None:
    idx = next(i for i, t in enumerate(env.tasks("test")) if " " in t.answer)
    gold = env.tasks("test")[idx].answer
    env.reset(options={"task_index": idx})
    obs, reward, done, _, info = env.step(f"finish[ the {gold.upper()}! ]")
    assert (reward, done, info["won"], info["score"]) == (1.0, True, True, 1.0)
    assert obs == "Episode finished, reward = 1" and info["admissible_actions"] == []
    assert env.step("search[x]")[2] is True  # stays over
    env.reset(options={"task_index": idx})
    _, reward, done, _, info = env.step(f"finish[{gold.split()[0]}]")
    assert reward == 0.0 and done and not info["won"]
    assert info["metrics"]["em"] == 0.0 and 0.0 < info["metrics"]["f1"] < 1.0


def test_suggested_actions_are_concrete_and_optional(env: HotPotQASynthEnv) -> None:
    idx = next(i for i, t in enumerate(env.tasks("test")) if t.answer == "yes")
    _, info = env.reset(options={"task_index": idx})
    acts = info["admissible_actions"]
    assert any(a.startswith("search[") for a in acts)
    assert "finish[yes]" in acts and "finish[no]" in acts
    for junk in ("search[Zzz Qqq]", "lookup[zzz]", "blah", "think[Hmm]"):
        obs, *_, info = env.step(junk)
        words = {"Could", "Similar", "Invalid", "Valid", "No", "Nice", "Zzz Qqq", "Hmm"}
        assert not {a[a.index("[") + 1 : -1] for a in info["admissible_actions"]} & words, obs
    plain = HotPotQASynthEnv(suggest_actions=False)
    assert plain.reset(seed=0)[1]["admissible_actions"] == []


def test_restore_equals_replay_and_is_a_real_snapshot(env: HotPotQASynthEnv) -> None:
    _, info = env.reset(seed=7, options={"expert": True})
    env.step(info["expert_action"])
    env.step("lookup[was]")
    snap = env.snapshot()
    assert snap.engine is not None and len(snap.actions) == 2
    future = [env.step(a)[0] for a in ("lookup[was]", "search[nothing here]", "think[x]")]
    other = HotPotQASynthEnv()
    other.reset(seed=99, options={"split": "train"})

    def no_replay(action: str) -> None:
        raise AssertionError(f"restore replayed {action!r}")

    other._step_text = no_replay  # type: ignore[assignment,method-assign]
    obs, info = other.restore(snap)
    del other._step_text
    assert obs == snap.engine.obs and other.history == snap.actions
    assert info["task_id"] == "test-7" and info["split"] == "test"
    assert [other.step(a)[0] for a in ("lookup[was]", "search[nothing here]", "think[x]")] == future


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 599),
    picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=8),
    cut=st.integers(0, 8),
)
def test_restore_matches_replay_property(
    pair: tuple[HotPotQASynthEnv, HotPotQASynthEnv], seed: int, picks: list[int], cut: int
) -> None:
    env, ref = pair
    _, info = env.reset(seed=seed, options={"expert": True})
    for p in picks[: cut % (len(picks) + 1)]:
        acts = [*info["admissible_actions"], info["expert_action"] or "x", "lookup[the]", "??"]
        _, _, done, _, info = env.step(acts[p % len(acts)])
        if done:
            break
    snap = env.snapshot()
    fast = ref.restore(snap)
    slow = ref.restore(type(snap)(snap.seed, snap.options, snap.actions))  # replay path
    assert fast[0] == slow[0] == env.render()
    keys = ("admissible_actions", "won", "score", "invalid_action", "metrics", "expert_action")
    assert {k: fast[1].get(k) for k in keys} == {k: slow[1].get(k) for k in keys}


def test_check_env_synth() -> None:
    check_env(gym.make(SYNTH).unwrapped)


def test_runner_plays_expert_and_random(env: HotPotQASynthEnv) -> None:
    win = play_episode(env, ExpertAgent(), EpisodeJob(SYNTH, "expert", 3), "test", 20)
    assert win.record.success and win.record.metrics == {"em": 1.0, "f1": 1.0}
    rnd = play_episode(env, RandomAgent(), EpisodeJob(SYNTH, "random", 3), "test", 20)
    assert rnd.record.steps >= 1 and set(rnd.record.metrics) == {"em", "f1"}
    assert rnd.record.invalid_actions == 0  # suggestions are all well-formed actions


def test_task_type_follows_the_template(env: HotPotQASynthEnv) -> None:
    yes_no = {"same_director", "same_country", "both_profession", "same_nationality"}
    binary = {t.name for t in TEMPLATES if t.binary}
    kinds = set()
    for i, task in enumerate(env.tasks("test")[:80]):
        _, info = env.reset(options={"task_index": i})
        want = "bridge"
        if task.template in binary:
            want = "comparison-yesno" if task.template in yes_no else "comparison-value"
        assert info["task_type"] == want, task
        kinds.add(want)
        snap = env.snapshot()
        env.step("finish[yes]")
        assert env.restore(snap)[1]["task_type"] == want
    assert kinds == {"bridge", "comparison-yesno", "comparison-value"}
