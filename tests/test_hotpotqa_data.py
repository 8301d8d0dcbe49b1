"""The real-HotPotQA face: official-format loader, splits, corpus file and the env on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401 - registers the ids
from envs.hotpotqa.data import (
    DataError,
    OfficialData,
    QATask,
    bucket,
    load_corpus,
    load_questions,
    question_type,
)
from envs.hotpotqa.env import HotPotQAEnv

pytest.importorskip("bm25s")

FIXTURE = Path(__file__).parent / "data" / "hotpotqa" / "hotpot_dev_distractor_v1.json"


def _record(i: int) -> dict[str, Any]:
    return {
        "_id": f"q{i:04d}",
        "question": f"Where was person {i} born?",
        "answer": f"Town {i}",
        "type": "bridge",
        "level": "easy",
        "supporting_facts": [[f"Person {i}", 0]],
        "context": [[f"Person {i}", [f"Person {i} was born in Town {i}.", " They paint."]]],
    }


def test_loader_reads_the_official_format() -> None:
    qs = load_questions(FIXTURE)
    assert [q.answer for q in qs] == ["Paris", "no", "Nile"]
    q = qs[0]
    assert q.qid == "5a8b57f25542995d1e6f1371" and q.qtype == "bridge" and q.level == "medium"
    assert q.supporting == (("Carmen", 0), ("Georges Bizet", 1))
    assert [p.title for p in q.context][:2] == ["Giuseppe Verdi", "Carmen"]
    assert q.context[3].sentences[1] == "He was born in Paris and studied at the Conservatoire."


def test_missing_data_is_a_clear_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTPOTQA_DATA", raising=False)
    with pytest.raises(DataError, match="HOTPOTQA_DATA") as exc:
        HotPotQAEnv()
    assert "\n" not in str(exc.value)
    with pytest.raises(DataError, match="not found"):
        HotPotQAEnv(data="/nonexistent/hotpot")


def test_malformed_files_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not JSON"):
        load_questions(bad)
    bad.write_text(json.dumps([{"_id": "x", "question": "q?", "context": []}]))
    with pytest.raises(DataError, match="hides answers"):
        load_questions(bad)
    bad.write_text(json.dumps({"question": "q"}))
    with pytest.raises(DataError, match="JSON list"):
        load_questions(bad)


def test_env_var_single_file_is_the_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTPOTQA_DATA", str(FIXTURE))
    env = HotPotQAEnv()
    obs, info = env.reset(seed=2)
    assert obs.startswith("Question: Which river is longer")
    assert info["task_id"] == "5ae0185b55429942ec259c1b" and info["split"] == "test"
    with pytest.raises(DataError, match="only the test split"):
        env.reset(seed=0, options={"split": "train"})


def test_partitioned_file_and_directory_splits_are_disjoint(tmp_path: Path) -> None:
    records = [_record(i) for i in range(400)]
    one = tmp_path / "all.json"
    one.write_text(json.dumps(records))
    data = OfficialData(one, partition=True)
    ids = {s: {q.qid for q in data.tasks(s)} for s in ("train", "valid", "test")}
    assert not ids["train"] & ids["valid"] and not ids["train"] & ids["test"]
    assert not ids["valid"] & ids["test"]
    assert set().union(*ids.values()) == {r["_id"] for r in records}
    assert ids["test"] == {r["_id"] for r in records if bucket(r["_id"], 10) == 1}

    folder = tmp_path / "hotpot"
    folder.mkdir()
    (folder / "hotpot_train_v1.1.json").write_text(json.dumps(records))
    (folder / "hotpot_dev_distractor_v1.json").write_text(FIXTURE.read_text())
    data = OfficialData(folder)
    train = {q.qid for q in data.tasks("train")}
    valid = {q.qid for q in data.tasks("valid")}
    assert valid and not train & valid and train | valid == {r["_id"] for r in records}
    assert len(data.tasks("test")) == 3


def test_split_files_kwarg(tmp_path: Path) -> None:
    train = tmp_path / "mine.json"
    train.write_text(json.dumps([_record(i) for i in range(5)]))
    env = HotPotQAEnv(split_files={"train": str(train), "test": str(FIXTURE)})
    obs, info = env.reset(seed=1, options={"split": "train"})
    assert info["task_id"] == "q0001" and "person 1" in obs


def test_distractor_search_and_expert_on_fixture() -> None:
    env = HotPotQAEnv(data=FIXTURE)
    obs, info = env.reset(seed=2, options={"expert": True})
    obs, *_ = env.step("search[Thames]")
    assert obs.startswith("Could not find Thames. Similar: [")
    assert "'River Thames'" in obs and "'Thames Barrier'" in obs
    assert "Mount Kenya" not in obs  # only this question's paragraphs are searchable
    env.reset(seed=0)
    obs, *_ = env.step("search[georges bizet]")
    assert obs.startswith("Georges Bizet (1838 – 1875) was a French composer")
    assert "Halévy" not in obs  # only the first five sentences are shown
    obs, *_ = env.step("lookup[Halévy]")
    assert obs == "(Result 1 / 1) He married Geneviève Halévy in 1869."
    for seed in range(3):
        obs, info = env.reset(seed=seed, options={"expert": True})
        for _ in range(10):
            obs, reward, done, _, info = env.step(info["expert_action"])
            if done:
                break
        assert reward == 1.0 and info["won"] and info["metrics"] == {"em": 1.0, "f1": 1.0}


def test_fullwiki_corpus_file(tmp_path: Path) -> None:
    pages = [p for q in load_questions(FIXTURE) for p in q.context]
    corpus = tmp_path / "corpus.jsonl"
    lines = [json.dumps({"title": p.title, "text": " ".join(p.sentences)}) for p in pages]
    lines.append(json.dumps({"title": "Busseto", "paragraph": "Busseto is a town. It is small."}))
    corpus.write_text("\n".join(lines) + "\n")
    assert load_corpus(corpus)[-1].sentences == ("Busseto is a town.", "It is small.")
    env = HotPotQAEnv(data=FIXTURE, corpus=corpus)
    env.reset(seed=0)
    obs, *_ = env.step("search[Mount Kenya]")  # another question's page: shared corpus
    assert obs.startswith("Mount Kenya is an extinct volcano in Kenya.")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "x"}\n')
    with pytest.raises(DataError, match="needs 'title' and 'text'"):
        load_corpus(bad)


def test_check_env_with_fixture_data() -> None:
    env = gym.make("harness/HotPotQA-v0", data=str(FIXTURE))
    check_env(env.unwrapped)
    assert env.unwrapped.env_fingerprint() == HotPotQAEnv(data=FIXTURE).env_fingerprint()


def test_cli_missing_data_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.run import main

    monkeypatch.setenv("HOTPOTQA_DATA", str(tmp_path / "absent"))
    argv = ["--envs", "harness/HotPotQA-v0", "--agents", "random", "--episodes", "1"]
    code = main([*argv, "--out", str(tmp_path / "run"), "--leaderboard", ""])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: env 'harness/HotPotQA-v0'")
    assert "HotPotQA data not found" in err[-1]


def test_question_type_splits_comparisons_by_yes_no_answer() -> None:
    kinds = [question_type(q) for q in load_questions(FIXTURE)]
    assert kinds == ["bridge", "comparison-yesno", "comparison-value"]
    assert question_type(QATask("q", "?", "Yes.", "comparison")) == "comparison-yesno"
    assert question_type(QATask("q", "?", "yes")) == ""  # no type given: unknown


def test_env_reports_the_task_type() -> None:
    env = HotPotQAEnv(data=FIXTURE)
    kinds = []
    for i in range(3):
        _, info = env.reset(options={"task_index": i})
        _, _, _, _, after = env.step("search[Carmen]")
        assert after["task_type"] == info["task_type"]
        kinds.append(info["task_type"])
    assert kinds == ["bridge", "comparison-yesno", "comparison-value"]
