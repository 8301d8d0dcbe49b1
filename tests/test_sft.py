"""``python -m qvalue.sft``: SFT of the real SmolLM2 on demonstrations, exported for llama.cpp."""

from __future__ import annotations

import json

import pytest

from agents.demos import write_demos
from qvalue.sft import main


def test_missing_demos_or_file_out_is_one_line_exit_2(tmp_path, capsys):
    assert main(["--family", "keychest", "--demos", str(tmp_path / "no.jsonl"), "--out", "x"]) == 2
    assert "python -m agents.demos" in capsys.readouterr().err
    demos = tmp_path / "d.jsonl"
    demos.write_text("")
    out = tmp_path / "file"
    out.write_text("keep")
    assert main(["--family", "keychest", "--demos", str(demos), "--out", str(out)]) == 2
    assert out.read_text() == "keep"


@pytest.mark.model
@pytest.mark.slow
def test_sft_trains_a_lora_and_bundles_a_llamacpp_adapter(tmp_path):
    pytest.importorskip("trl")
    demos, held = tmp_path / "train.jsonl", tmp_path / "test.jsonl"
    write_demos("harness/KeyChest-v0", demos, tasks=2)
    write_demos("harness/KeyChest-v0", held, tasks=2, first_seed=100, split="test")
    out = tmp_path / "sft"
    args = ["--family", "keychest", "--demos", str(demos), "--heldout", str(held)]
    args += ["--out", str(out), "--max-samples", "4", "--lora-r", "4", "--lora-layers", "2"]
    assert main([*args, "--heldout-samples", "3", "--threads", "2"]) == 0
    card = json.loads((out / "bundle" / "card.json").read_text())
    assert card["name"] == "keychest-sft" and card["demos"] == 4
    assert card["train_steps"] >= 1 and card["loss_curve"] is not None
    assert 0.0 <= card["heldout"]["token_accuracy"] <= 1.0 and card["heldout"]["samples"] == 3
    assert card["lora_r"] == 4 and card["adapter_bytes"] > 0 and card["demo_hash"]
    assert (out / "bundle" / "adapter.gguf").stat().st_size == card["adapter_bytes"]
    assert (out / "peft" / "adapter_config.json").is_file()
