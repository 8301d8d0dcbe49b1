"""``python -m qvalue.sft``: SFT of the real SmolLM2 on demonstrations, exported for llama.cpp."""

from __future__ import annotations

import json

import pytest

from agents.demos import write_demos
from qvalue.sft import demos_hash, main


def test_missing_demos_or_file_out_is_one_line_exit_2(tmp_path, capsys):
    assert main(["--family", "keychest", "--demos", str(tmp_path / "no.jsonl"), "--out", "x"]) == 2
    assert "python -m agents.demos" in capsys.readouterr().err
    demos = tmp_path / "d.jsonl"
    demos.write_text("")
    out = tmp_path / "file"
    out.write_text("keep")
    assert main(["--family", "keychest", "--demos", str(demos), "--out", str(out)]) == 2
    assert out.read_text() == "keep"
    capsys.readouterr()
    # a bad --init is refused before the base model loads, and nothing is written
    run = ["--family", "keychest", "--demos", str(demos), "--out", str(tmp_path / "new")]
    assert main([*run, "--init", str(tmp_path / "none")]) == 2
    assert "holds no trained LoRA" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


@pytest.mark.model
@pytest.mark.slow
def test_sft_trains_a_lora_and_bundles_a_llamacpp_adapter(tmp_path):
    pytest.importorskip("trl")
    demos, held = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    write_demos("harness/KeyChest-v0", demos, tasks=2)
    write_demos("harness/KeyChest-v0", held, tasks=2, first_seed=100, split="test")
    more = tmp_path / "more.jsonl"  # a second file is pooled (a DAgger round's)
    write_demos("harness/KeyChest-v0", more, tasks=1, first_seed=2)
    out = tmp_path / "sft"
    args = ["--family", "keychest", "--demos", str(demos), str(more), "--heldout", str(held)]
    args += ["--out", str(out), "--max-samples", "4", "--lora-r", "4", "--lora-layers", "2"]
    assert main([*args, "--heldout-samples", "3", "--threads", "2"]) == 0
    card = json.loads((out / "bundle" / "card.json").read_text())
    assert card["name"] == "keychest-sft" and card["demos"] == 4
    assert card["train_steps"] >= 1 and card["loss_curve"] is not None
    assert 0.0 <= card["heldout"]["token_accuracy"] <= 1.0 and card["heldout"]["samples"] == 3
    assert card["lora_r"] == 4 and card["adapter_bytes"] > 0
    assert card["demo_file"] == "train.jsonl, more.jsonl" and card["demo_episodes"] == 3
    assert card["demo_hash"] == demos_hash([demos, more]) != demos_hash([demos])
    assert (out / "bundle" / "adapter.gguf").stat().st_size == card["adapter_bytes"]
    assert (out / "peft" / "adapter_config.json").is_file()
    # a DAgger round's warm start: the earlier LoRA (its shape, not --lora-r) trains on
    warm = tmp_path / "warm"
    again = ["--family", "keychest", "--demos", str(more), "--out", str(warm), "--threads", "2"]
    warm_args = ["--per-file", "1", "--epochs", "3", "--grad-accum", "1", "--lr", "1e-2"]
    assert main([*again, "--init", str(out), *warm_args, "--lora-r", "8"]) == 0
    card2 = json.loads((warm / "bundle" / "card.json").read_text())
    init = card2["recipe"]["init"]
    assert init["run"] == str(out) and init["adapter_sha256"] == card["adapter_sha256"]
    assert card2["lora_r"] == 4 and card2["adapter_sha256"] != card["adapter_sha256"]
    assert card2["demos"] == 1 and card2["recipe"]["per_file"] == 1
    assert main([*again, "--init", str(tmp_path / "none")]) == 2


@pytest.mark.model
def test_reply_loss_matches_the_full_logits_loss_on_the_real_model():
    """The reply-only logits give the loss the full logits give, for a batch whose replies
    start at different positions (right padding, as trl's collator pads)."""
    torch = pytest.importorskip("torch")
    from qvalue.sft import reply_loss
    from scoring.q.lm import load_base

    model, tok = load_base("local", torch.float32)
    texts = ["Task: open the chest.\nAction:", "Observation: a key.\nThought: take it\nAction:"]
    replies = [" take key", " open chest with key now"]
    rows = [tok(t + r)["input_ids"] for t, r in zip(texts, replies, strict=True)]
    starts = [len(tok(t)["input_ids"]) for t in texts]
    width = max(map(len, rows))
    ids = torch.full((2, width), tok.eos_token_id)
    mask = torch.zeros((2, width), dtype=torch.long)
    labels = torch.full((2, width), -100)
    for i, (row, start) in enumerate(zip(rows, starts, strict=True)):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
        labels[i, start : len(row)] = torch.tensor(row[start:])
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
        lean, right, n = reply_loss(model, batch)
    assert n == int((labels[:, 1:] != -100).sum()) and 0 <= right <= n
    assert abs(float(lean) - float(full)) < 1e-4
    with pytest.raises(ValueError, match="no reply tokens"):
        reply_loss(model, {"input_ids": ids, "labels": torch.full_like(labels, -100)})


def test_reply_action_reads_the_action_line_only():
    from qvalue.sft import reply_action

    assert reply_action("Thought: go to the fridge\nAction: open fridge 1") == "open fridge 1"
    assert reply_action("Thought: Action: is not here") == ""
    assert reply_action("Thought: x\n  Action:  take key  \nObservation: y") == "take key"


def test_eval_only_without_heldout_or_adapter_is_one_line_exit_2(tmp_path, capsys):
    demos = tmp_path / "d.jsonl"
    demos.write_text("")
    args = ["--family", "keychest", "--demos", str(demos), "--out", str(tmp_path / "o")]
    assert main([*args, "--eval-only"]) == 2
    assert "--heldout" in capsys.readouterr().err
    assert main([*args, "--eval-only", "--heldout", str(demos)]) == 2
    assert "no trained adapter" in capsys.readouterr().err
