"""Fast checks of the TextWorld envs' pure parts: difficulties, split seeds, cache entries."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from envs.textworld.families import (
    FAMILIES,
    MAX_TASKS_PER_SPLIT,
    SPLIT_OFFSETS,
    family,
    game_seed,
)
from envs.textworld.generate import GAME_FILES, MANIFEST, _sha256, load_entry, publish


def test_default_difficulties_parse_and_pass_the_split() -> None:
    labels = {name: f.settings(None, "test")[0] for name, f in FAMILIES.items()}
    assert labels == {
        "simple": "dense+detailed",
        "coin_collector": "level7",
        "treasure_hunter": "level10",
        "cooking": "recipe1+take1+open+go1",
    }
    assert FAMILIES["cooking"].settings(None, "valid")[1]["split"] == "valid"
    assert FAMILIES["simple"].settings(None, "test")[1]["test"] is True
    assert FAMILIES["simple"].settings(None, "train")[1]["test"] is False


@pytest.mark.parametrize(
    ("name", "raw", "label"),
    [
        ("cooking", "recipe2+take2+cut+cook+go6", "recipe2+take2+cook+cut+go6"),
        ("cooking", {"recipe": 1, "open": True}, "recipe1+open+go1"),
        ("coin_collector", 12, "level12"),
        ("treasure_hunter", "level3", "level3"),
        ("simple", "sparse+brief", "sparse+brief"),
    ],
)
def test_difficulty_labels(name: str, raw: object, label: str) -> None:
    assert FAMILIES[name].settings(raw, "train")[0] == label  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("cooking", "recipe1+take2"),
        ("cooking", "go5"),
        ("cooking", "fly"),
        ("coin_collector", 0),
        ("treasure_hunter", "31"),
        ("simple", "dense+loud"),
    ],
)
def test_bad_difficulty_is_a_one_line_error(name: str, raw: object) -> None:
    with pytest.raises(ValueError, match="bad difficulty") as err:
        FAMILIES[name].settings(raw, "test")  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_unknown_family() -> None:
    with pytest.raises(ValueError, match="use one of simple"):
        family("zork")


def test_split_seed_ranges_are_disjoint() -> None:
    ranges = sorted((off, off + MAX_TASKS_PER_SPLIT) for off in SPLIT_OFFSETS.values())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))
    assert game_seed("valid", 3, 10) == SPLIT_OFFSETS["valid"] + 3
    with pytest.raises(ValueError):
        game_seed("test", 10, 10)


def _fake_entry(root: Path, name: str, payload: bytes, seed: int = 7) -> Path:
    d = root / name
    d.mkdir()
    for f in GAME_FILES:
        (d / f).write_bytes(payload + f.encode())
    files = {f: _sha256(d / f) for f in GAME_FILES}
    (d / MANIFEST).write_text(json.dumps({"files": files, "seed": seed, "content_key": "k"}))
    return d


def test_load_entry_detects_truncated_missing_and_garbled_files(tmp_path: Path) -> None:
    entry = _fake_entry(tmp_path, "e", b"x" * 100)
    assert load_entry(entry, 7) is not None
    assert load_entry(entry, 8) is None  # built for another seed
    z8 = entry / GAME_FILES[0]
    z8.write_bytes(z8.read_bytes()[:10])
    assert load_entry(entry) is None
    entry = _fake_entry(tmp_path, "f", b"y")
    (entry / GAME_FILES[1]).unlink()
    assert load_entry(entry) is None
    entry = _fake_entry(tmp_path, "g", b"z")
    (entry / MANIFEST).write_text("{not json")
    assert load_entry(entry) is None


def test_publish_keeps_an_intact_entry_and_replaces_a_corrupt_one(tmp_path: Path) -> None:
    final = _fake_entry(tmp_path, "final", b"first")
    tmp = _fake_entry(tmp_path, ".tmp-1", b"second")
    ref = publish(tmp, final, 7)  # another builder won the race: its entry stays
    assert Path(ref.path).read_bytes() == b"first" + GAME_FILES[0].encode()
    (final / GAME_FILES[1]).unlink()
    ref = publish(tmp, final, 7)  # the entry there is broken: ours replaces it
    assert Path(ref.path).read_bytes() == b"second" + GAME_FILES[0].encode()
    assert not tmp.exists()


def test_command_and_feedback_cleaning() -> None:
    pytest.importorskip("textworld")
    from envs.textworld.engine import clean_command, clean_feedback, is_parser_error, is_refused

    assert clean_command("  look\n\tinventory \x00") == "look inventory"
    assert len(clean_command("x" * 1000)) <= 180
    assert clean_command(" \\help") == "help"
    assert is_refused("RESTART") and is_refused("tw-trace-actions") and not is_refused("look")
    assert clean_feedback("You open it.\n\n>      -= Kitchen =-0/2") == "You open it."
    assert clean_feedback(">    -= Kitchen =-0/1") == ""
    assert is_parser_error("That's not a verb I recognise.") and not is_parser_error("Taken.")


def test_textworld_logic_parses_in_several_threads_at_once() -> None:
    """TextWorld's shared TatSu parser, swapped for per-thread parsers: four threads parsing
    rules at once get exactly what one thread gets (no IndexError/TypeError in tatsu)."""
    import threading

    logic = pytest.importorskip("textworld.logic")
    from envs.textworld.threads import PerThreadParser, per_thread_parsers

    per_thread_parsers()
    assert isinstance(logic._PARSER, PerThreadParser)
    texts = [f"take{i} :: at(o, r{i}) & $in(P, r{i}) -> in(o, I{i})" for i in range(40)]
    want = [str(logic.Rule.parse(t)) for t in texts]
    got: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def parse_all(k: int) -> None:
        try:
            got[k] = [str(logic.Rule.parse(t)) for t in texts * 5]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=parse_all, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(got[k] == want * 5 for k in range(4))
