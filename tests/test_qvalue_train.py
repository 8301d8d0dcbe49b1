"""Both Q-model trainers on tiny models and a learnable toy: the loss falls, held-out pairs are
ranked above chance, the saved model reloads from safetensors + card, and a Q-guided agent
built on it reranks and is re-scored to the same choices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scoring.q.pairs import HELDOUT, TRAIN, Pair, write_pairs
from scoring.text import STATE_FORMAT


def toy_pairs() -> list[Pair]:
    """Learnable toy: in the dark, 'light lamp' beats 'read book'; in the light, the reverse.
    Held-out pairs come from other tasks (rooms) than the training ones."""
    out = []
    for t in range(24):
        dark = t % 2 == 0
        good, bad = ("light lamp", "read book") if dark else ("read book", "light lamp")
        obs = f"Room {t}. It is {'dark' if dark else 'bright'} here."
        split = HELDOUT if t >= 16 else TRAIN
        out.append(Pair("toy", f"t{t}", "get through", (), obs, good, bad, 1.0, 0.0, 2, 2, split))
    return out


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.jsonl"
    write_pairs(path, toy_pairs(), {"sources": [{"proposer": "toy", "policy": ""}]})
    return path


@pytest.mark.model
def test_encoder_learns_toy_and_round_trips(pairs_file: Path, tmp_path: Path) -> None:
    from qvalue.train import main
    from scoring.models import load_scorer, read_card

    out = tmp_path / "enc"
    argv = ["--pairs", str(pairs_file), "--kind", "encoder", "--out", str(out)]
    argv += ["--max-steps", "12", "--epochs", "100", "--batch-size", "8", "--max-length", "32"]
    argv += ["--train-layers", "1", "--lr", "3e-4", "--head-lr", "3e-3", "--save-dtype", "float16"]
    assert main(argv) == 0
    card = read_card(out)
    assert card["kind"] == "encoder" and card["pair_data"]["heldout_pairs"] == 8
    curve = card["loss_curve"]
    assert sum(curve[-3:]) < sum(curve[:3])
    assert card["heldout_accuracy"] > 0.5
    by_task, n_task = card["heldout_accuracy_by_task"], card["heldout_pairs_by_task"]
    assert set(by_task) == set(n_task) and sum(n_task.values()) == 8
    mean = sum(by_task[t] * n_task[t] for t in by_task) / 8
    assert mean == pytest.approx(card["heldout_accuracy"])
    assert card["envs"] == ["toy"] and card["hyperparameters"]["train_layers"] == 1
    assert card["hyperparameters"]["state_format"] == STATE_FORMAT  # trained on format 2
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "model.safetensors"]
    assert (out / "model.safetensors").stat().st_size < 10 * 2**20  # top layer + head, fp16

    scorer = load_scorer(str(out), device="cpu")
    assert scorer.cfg.state_format == STATE_FORMAT  # type: ignore[attr-defined]
    from scoring.base import State

    dark = State("get through", (), "Room 99. It is dark here.")
    bright = State("get through", (), "Room 98. It is bright here.")
    s = scorer.score([dark, bright], [["read book", "light lamp"], ["read book", "light lamp"]])
    assert s[0][1] > s[0][0] and s[1][0] > s[1][1]

    # a Q-guided agent on KeyChest with this scorer; rescoring the run reproduces its choices
    from harness.analysis.rescore import rescore_run
    from harness.run import main as run_main

    run = tmp_path / "run"
    opts = [f"admissible-q.scorer={out}", "admissible-q.k=4"]
    argv = ["--envs", "harness/KeyChest-v0", "--agents", "admissible-q", "--episodes", "1"]
    argv += ["--max-steps", "6", "--out", str(run), "--leaderboard", ""]
    argv += [x for o in opts for x in ("--agent-opt", o)]
    assert run_main(argv) == 0
    steps = [json.loads(x) for x in next((run / "trajectories").glob("*.jsonl")).open()]
    assert scorer.name in steps[0]["candidates"][0]["scores"]
    summary = rescore_run(run, scorer)
    assert summary["decisions"] == 6 and summary["differ"] == 0


@pytest.mark.model
def test_lm_dpo_learns_toy_with_shared_prefix_scoring(pairs_file: Path, tmp_path: Path) -> None:
    from qvalue.train import main
    from scoring.models import load_scorer, read_card
    from scoring.q.lm import DPOScorer
    from scoring.q.tiny_lm import make_tiny_lm

    base = make_tiny_lm(tmp_path / "base", hidden=32, layers=1, heads=2)
    out = tmp_path / "dpo"
    argv = ["--pairs", str(pairs_file), "--kind", "lm-dpo", "--out", str(out), "--base", str(base)]
    argv += ["--max-steps", "24", "--batch-size", "8", "--lr", "2e-3", "--max-length", "128"]
    assert main(argv) == 0
    card = read_card(out)
    assert card["kind"] == "lm-dpo" and card["base"]["path"] == str(base.resolve())
    curve = card["loss_curve"]
    assert sum(curve[-4:]) < sum(curve[:4])
    assert card["heldout_accuracy"] > 0.5
    assert (out / "model.safetensors").exists() and not list(out.glob("*.bin"))

    scorer = load_scorer(str(out), device="cpu")
    assert isinstance(scorer, DPOScorer) and scorer.cfg.state_format == STATE_FORMAT
    prompt = "Task: get through\nObservation: Room 7. It is dark here.\nAction:"
    acts = ["read book", "light lamp", "look", "go north"]
    naive, shared = scorer.score_naive(prompt, acts), scorer.score_shared(prompt, acts)
    assert max(abs(a - b) for a, b in zip(naive, shared, strict=True)) < 1e-4


@pytest.mark.model
def test_lm_dpo_lora_trains_an_adapter(pairs_file: Path, tmp_path: Path) -> None:
    from qvalue.train import main
    from scoring.models import load_scorer
    from scoring.q.tiny_lm import make_tiny_lm

    base = make_tiny_lm(tmp_path / "base", hidden=32, layers=1, heads=2)
    out = tmp_path / "lora"
    argv = ["--pairs", str(pairs_file), "--kind", "lm-dpo", "--out", str(out), "--base", str(base)]
    argv += ["--max-steps", "2", "--batch-size", "4", "--lora", "--lora-r", "4"]
    assert main(argv) == 0
    assert (out / "adapter_model.safetensors").exists()
    scorer = load_scorer(str(out), device="cpu")
    prompt = "Task: t\nObservation: o\nAction:"
    a, b = scorer.score_naive(prompt, ["x", "yy"]), scorer.score_shared(prompt, ["x", "yy"])  # type: ignore[attr-defined]
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-4


def test_missing_pairs_and_base_are_clear_errors(tmp_path: Path, pairs_file: Path, capsys) -> None:
    from qvalue.train import main

    assert main(["--pairs", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "m")]) == 2
    assert "scoring.q.pairs" in capsys.readouterr().err
    argv = ["--pairs", str(pairs_file), "--kind", "lm-dpo", "--out", str(tmp_path / "m")]
    assert main(argv) == 2
    assert "--base" in capsys.readouterr().err


@pytest.mark.model
def test_lm_dpo_lora_on_the_local_gguf_round_trips(tmp_path: Path) -> None:
    """A few LoRA DPO steps on SmolLM2 from the local policy's GGUF: a small adapter that
    reloads to the same Q values; with the adapter off, policy = reference and Q is 0."""
    pytest.importorskip("gguf")
    from scoring.base import State
    from scoring.models import load_scorer, write_card
    from scoring.q import lm
    from scoring.text import lm_prompt

    pairs = toy_pairs()
    train = [p for p in pairs if p.split == TRAIN][:6]
    cfg = lm.DPOSettings(base="local", lr=1e-3, max_steps=2, batch_size=2, max_length=128,
                         lora=True, lora_r=4)  # fmt: skip
    out = tmp_path / "adapter"
    stats, trained = lm.train(train, cfg, out, device="cpu", log=lambda s: None)
    assert stats["steps"] == 2 and all(x == x for x in stats["losses"])
    saved = sorted(p.name for p in out.iterdir())
    assert "adapter_model.safetensors" in saved and not [n for n in saved if n.endswith(".bin")]
    assert sum((out / n).stat().st_size for n in saved) < 20 * 2**20
    write_card(out, {"kind": "lm-dpo", "hyperparameters": lm.settings_dict(cfg)})

    states = [State("get through", (), f"Room {r}. It is {w} here.") for r, w in
              ((90, "dark"), (91, "bright"))]  # fmt: skip
    acts = [["light lamp", "read book", "look around the room"]] * 2
    before = trained.score(states, acts)
    assert any(q != 0.0 for row in before for q in row)  # two steps moved the adapter
    reloaded = load_scorer(str(out), device="cpu")
    assert isinstance(reloaded, lm.DPOScorer)
    after = reloaded.score(states, acts)
    assert max(abs(a - b) for ra, rb in zip(before, after, strict=True)
               for a, b in zip(ra, rb, strict=True)) < 1e-6  # fmt: skip
    prompt = lm_prompt(states[0])
    naive = reloaded.score_naive(prompt, acts[0])
    assert max(abs(a - b) for a, b in zip(naive, after[0], strict=True)) < 1e-4
    with reloaded.policy.disable_adapter():
        off = reloaded.score(states, acts)
    assert off == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
