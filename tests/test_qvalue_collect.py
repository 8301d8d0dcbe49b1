"""``python -m qvalue.collect`` on KeyChest: trees on disk, resume, train split only."""

from __future__ import annotations

import json
from pathlib import Path

from agents.llm.spec import parse_spec
from qvalue.collect import main, parse_args, settings_from_args
from qvalue.train import collection_gamma
from scoring.q.pairs import main as pairs_main
from scoring.q.pairs import read_pairs
from scoring.q.trees import load_trees

ARGS = ["--env", "harness/KeyChest-v0", "--iterations", "20", "--k", "4", "--depth", "12"]
ARGS += ["--proposer", "admissible"]  # no LLM: the default proposer is the local policy


def test_collect_resume_and_pairs(tmp_path: Path) -> None:
    out = tmp_path / "c"
    assert main([*ARGS, "--tasks", "2", "--out", str(out)]) == 0
    assert main([*ARGS, "--tasks", "2", "--out", str(out)]) == 2  # exists, no --resume
    assert main([*ARGS, "--tasks", "3", "--out", str(out), "--resume"]) == 0
    lines = [json.loads(x) for x in (out / "tasks.jsonl").read_text().splitlines()]
    assert [x["seed"] for x in lines] == [0, 1, 2]  # the first two were not searched again
    assert all(x["task_id"].startswith("train-") for x in lines)
    nodes = load_trees(out)
    roots = [n for n in nodes if n["parent_id"] is None]
    assert len(roots) == 3 and all(r["visits"] == 20 for r in roots)
    first = roots[0]
    assert first["candidates"] and first["children"] and "history" in first
    assert pairs_main([str(out), "--out", str(tmp_path / "p.jsonl"), "--margin", "0.0"]) == 0
    pairs, meta = read_pairs(tmp_path / "p.jsonl")
    assert meta["sources"][0]["proposer"] == "admissible"
    assert all(p.q_chosen > p.q_rejected for p in pairs)


def test_collect_refuses_other_splits_and_changed_settings(tmp_path: Path, capsys) -> None:
    out = tmp_path / "c"
    assert main([*ARGS, "--tasks", "1", "--out", str(out), "--split", "test"]) == 2
    assert "train split only" in capsys.readouterr().err
    assert main([*ARGS, "--tasks", "1", "--out", str(out)]) == 0
    assert main([*ARGS, "--depth", "13", "--tasks", "1", "--out", str(out), "--resume"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert main(["--env", "harness/Nope-v0", "--out", str(out)]) == 2


def test_collect_in_worker_processes(tmp_path: Path) -> None:
    out = tmp_path / "c"
    assert main([*ARGS, "--tasks", "2", "--workers", "2", "--out", str(out)]) == 0
    assert sorted(
        json.loads(x)["seed"] for x in (out / "tasks.jsonl").read_text().splitlines()
    ) == [0, 1]


def test_defaults_are_the_papers_recipe_on_the_policy_to_be_guided() -> None:
    ns = parse_args(["--env", "harness/KeyChest-v0", "--out", "x"])
    s = settings_from_args(ns)
    assert (s.proposer, s.policy) == ("react", "local?adapter=auto&parallel=5")
    m = s.mcts
    assert (m.iterations, m.k, m.depth, m.rollout) == (30, 5, 15, "policy")
    assert m.gamma == 0.95 and (m.rollout_step, m.restore) == ("decide", "snapshot")
    assert s.proposer_options == {"propose_mode": "sample", "samples": 5}  # one request a node
    assert parse_spec(s.policy).kwargs() == {"adapter": "auto", "parallel": 5}
    old = settings_from_args(
        parse_args(["--env", "harness/KeyChest-v0", "--out", "x", "--expand", "score"])
    )
    assert old.proposer_options == {"propose_mode": "score"}
    given = ["--proposer-opt", "samples=8", "--proposer-opt", "admissible=2"]
    mixed = settings_from_args(parse_args(["--env", "harness/KeyChest-v0", "--out", "x", *given]))
    assert mixed.proposer_options == {"propose_mode": "sample", "samples": 8, "admissible": 2}
    assert settings_from_args(parse_args([*ARGS, "--out", "x"])).proposer_options == {}


def test_gamma_is_recorded_and_runs_from_before_the_new_settings_resume(tmp_path: Path) -> None:
    out = tmp_path / "c"
    assert main([*ARGS, "--tasks", "1", "--gamma", "0.9", "--out", str(out)]) == 0
    stored = json.loads((out / "collect.json").read_text())
    assert stored["settings"]["mcts"]["gamma"] == 0.9
    # a run written before rollout_step / restore existed searched with whole proposals
    for key in ("rollout_step", "restore"):
        del stored["settings"]["mcts"][key]
    (out / "collect.json").write_text(json.dumps(stored))
    again = [*ARGS, "--tasks", "2", "--gamma", "0.9", "--out", str(out), "--resume"]
    assert main(again) == 2  # the default decide steps would search otherwise
    assert main([*again, "--rollout-step", "propose", "--restore", "replay"]) == 0
    assert pairs_main([str(out), "--out", str(tmp_path / "p.jsonl")]) == 0
    _, meta = read_pairs(tmp_path / "p.jsonl")
    assert meta["sources"][0]["mcts"]["gamma"] == 0.9  # a model card lists the sources
    assert collection_gamma(meta["sources"]) == 0.9  # and states gamma on its own line
    assert collection_gamma([*meta["sources"], {"mcts": {"gamma": 1.0}}]) == [0.9, 1.0]
    assert collection_gamma([{"proposer": "admissible"}]) is None  # pairs from older runs
    assert meta["settings"]["rule"] == "best-path+margin"
