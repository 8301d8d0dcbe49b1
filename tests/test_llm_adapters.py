"""``adapter=`` of the local policy: resolving names, paths and ``auto``, cards, listing, the
policy's name, the react agent's per-env choice and the run's record. No server starts
(``LocalBackend`` is lazy) except in the ``model`` test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.llm import adapters
from agents.llm.adapters import (
    ADAPTER_FILE,
    AdapterCard,
    adapter_for_env,
    adapter_label,
    bundled_adapters,
    card_rows,
    check_base,
    read_card,
    resolve_adapter,
    resolve_auto,
)
from agents.llm.base import LLMError

KEYCHEST = "harness/KeyChest-v0"
TEXTWORLD = "harness/TextWorld-Simple-v0"


def write_gguf(path: Path, **meta: str) -> Path:
    """A GGUF with metadata only (no tensors)."""
    gguf = pytest.importorskip("gguf")
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_type("adapter")
    for key, val in meta.items():
        w.add_string(key, val)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in bundle dir with ``keychest-sft`` (file contents do not matter here)."""
    root = tmp_path / "bundled"
    (root / "keychest-sft").mkdir(parents=True)
    write_gguf(root / "keychest-sft" / ADAPTER_FILE)
    card = {"name": "keychest-sft", "family": "keychest", "demos": 120, "train_time_s": 61.5,
            "heldout_token_accuracy": 0.8125, "lora_r": 16, "new_field": 1}  # fmt: skip
    (root / "keychest-sft" / "card.json").write_text(json.dumps(card))
    (root / "empty-sft").mkdir()  # no adapter.gguf: not listed
    monkeypatch.setattr(adapters, "ADAPTERS", root)
    return root


def test_card_tolerates_missing_and_unknown_fields(tmp_path: Path) -> None:
    assert read_card(tmp_path) == AdapterCard()
    (tmp_path / "card.json").write_text(json.dumps({"name": "x", "targets": ["q_proj"], "z": 2}))
    card = read_card(tmp_path)
    assert (card.name, card.targets, card.demos, card.extra) == ("x", ("q_proj",), None, {"z": 2})
    again = AdapterCard.from_dict(card.to_dict())
    assert again == card and card.to_dict()["format"] == "qharness-policy-adapter"


def test_resolve_names_paths_and_errors(bundled: Path, tmp_path: Path) -> None:
    assert resolve_adapter("") is None and resolve_adapter("none") is None
    by_name = resolve_adapter("keychest-sft")
    assert by_name is not None and by_name.card.demos == 120
    assert (
        by_name.label.startswith("keychest-sft@")
        and len(by_name.label) == len("keychest-sft@") + 12
    )
    assert resolve_adapter(str(bundled / "keychest-sft")) == by_name  # the dir
    assert resolve_adapter(str(bundled / "keychest-sft" / ADAPTER_FILE)) == by_name  # its file
    loose = write_gguf(tmp_path / "mine.gguf", **{"general.name": "other"})
    found = resolve_adapter(str(loose))
    assert found is not None and found.name == "mine" and found.sha256 != by_name.sha256
    with pytest.raises(LLMError, match=r"not found.*bundled: keychest-sft"):
        resolve_adapter("alfworld-sft")
    with pytest.raises(LLMError, match=r"has no adapter\.gguf"):
        resolve_adapter("empty-sft")
    with pytest.raises(LLMError, match="resolved per env"):
        resolve_adapter("auto")
    assert bundled_adapters() == ["keychest-sft"]


def test_auto_is_the_family_adapter_or_none(bundled: Path) -> None:
    assert adapter_for_env(KEYCHEST) == "keychest-sft" and adapter_for_env(TEXTWORLD) == ""
    spec = "local?threads=1&adapter=auto&ctx=2048"
    assert resolve_auto(spec, KEYCHEST) == "local?threads=1&adapter=keychest-sft&ctx=2048"
    assert resolve_auto(spec, TEXTWORLD) == "local?threads=1&ctx=2048"
    assert resolve_auto("local?adapter=auto", TEXTWORLD) == "local"
    assert resolve_auto("local?adapter=mine", TEXTWORLD) == "local?adapter=mine"
    assert resolve_auto("openai:m", KEYCHEST) == "openai:m"
    assert adapter_label(spec, TEXTWORLD) == ""
    assert adapter_label(spec, KEYCHEST) == resolve_adapter("keychest-sft").label  # type: ignore[union-attr]


def test_policy_name_and_react_per_env(bundled: Path) -> None:
    from agents.llm.spec import close_policies, get_policy
    from agents.react import ReActAgent

    label = resolve_adapter("keychest-sft").label  # type: ignore[union-attr]
    try:
        assert get_policy("local?adapter=keychest-sft").name == f"local?adapter={label}"
        agent = ReActAgent(policy="local?adapter=auto")
        assert agent.llm_for(KEYCHEST).name == f"local?adapter={label}"
        assert agent.llm_for(TEXTWORLD).name == "local"
        assert agent.llm_for(KEYCHEST) is get_policy("local?adapter=keychest-sft")
    finally:
        close_policies()


def test_check_base_refuses_another_model(bundled: Path, tmp_path: Path) -> None:
    found = resolve_adapter("keychest-sft")
    assert found is not None
    model = tmp_path / "model.gguf"
    model.write_bytes(b"weights")
    check_base(found, model)  # the card names no base: nothing to check
    named = type(found)(found.path, found.name, found.sha256, AdapterCard(base_sha256="ab" * 32))
    with pytest.raises(LLMError, match="trained on a base model with sha256 abababababab"):
        check_base(named, model)
    check_base(named, model, model_sha256="ab" * 32)
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03")
    with pytest.raises(LLMError, match="not a readable GGUF"):
        check_base(type(found)(broken, "b", "00"), model)


def test_listing_and_bundle_list(bundled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qvalue.bundle import main

    rows = card_rows()
    assert rows[2].startswith("| keychest-sft | policy-adapter | keychest | 120 | 0.812 | 62 s |")
    assert main(["--list"]) == 0
    assert "| keychest-sft | policy-adapter |" in capsys.readouterr().out


def test_write_bundle_exports_and_merges_the_card(tmp_path: Path) -> None:
    pytest.importorskip("safetensors")
    from tests.test_lora_gguf import tiny_base_gguf, tiny_peft

    base = tiny_base_gguf(tmp_path / "base.gguf")
    card = adapters.write_bundle(
        tiny_peft(tmp_path / "peft"),
        tmp_path / "keychest-sft",
        {"family": "keychest", "demos": 10, "lora_r": 999},
        base=base,
    )
    assert (card.name, card.family, card.demos, card.lora_r) == ("keychest-sft", "keychest", 10, 4)
    assert read_card(tmp_path / "keychest-sft") == card
    found = resolve_adapter(str(tmp_path / "keychest-sft"))
    assert found is not None and found.sha256 == card.extra["adapter_sha256"]
    check_base(found, base)  # the GGUF's recorded base is this one
    with pytest.raises(LLMError, match="trained on a base model"):
        check_base(found, tmp_path / "keychest-sft" / "card.json")


def test_preflight_names_a_missing_adapter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.run import main

    argv = ["--envs", KEYCHEST, "--agents", "react", "--policy", "local?adapter=/no/such.gguf"]
    code = main([*argv, "--episodes", "1", "--out", str(tmp_path / "run")])
    assert code == 2 and "adapter '/no/such.gguf' not found" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.model
def test_react_run_records_the_adapter(tmp_path: Path) -> None:
    """A ReAct run on KeyChest with a random adapter (r 4, all seven projections) exported for
    the real SmolLM2: llama.cpp serves it, and run.json and every step name it with its sha."""
    pytest.importorskip("xllamacpp")
    pytest.importorskip("safetensors")
    from agents.llm.local import default_model_path
    from agents.llm.lora_gguf import export_lora, random_lora
    from agents.llm.spec import close_policies
    from harness.run import main

    peft = random_lora(tmp_path / "peft", default_model_path(), r=4, std=0.01)
    gguf = export_lora(peft, tmp_path / "tiny-lora.gguf").path
    label = resolve_adapter(str(gguf)).label  # type: ignore[union-attr]
    spec, out = f"local?adapter={gguf}&parallel=1&ctx=2048", tmp_path / "run"
    argv = ["--envs", KEYCHEST, "--agents", "react", "--policy", spec, "--episodes", "1"]
    argv += ["--max-steps", "2", "--out", str(out), "--leaderboard", ""]
    try:
        assert main(argv) == 0
    finally:
        close_policies()
    assert json.loads((out / "run.json").read_text())["policy_adapters"] == {
        spec: {KEYCHEST: label}
    }
    [rec] = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert rec["error"] == ""
    traj = next((out / "trajectories").glob("*.jsonl")).read_text().splitlines()
    steps = [json.loads(x) for x in traj][:-1]
    assert steps and all(s["meta"]["policy"] == f"local?adapter={label}" for s in steps)
