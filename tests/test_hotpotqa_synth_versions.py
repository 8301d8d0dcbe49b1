"""HotPotQASynth generator versions: generator 1 (``harness/HotPotQASynth-v0``) stays bit for
bit what it was when newer generators were added."""

from __future__ import annotations

import hashlib
import json

import pytest

from envs.hotpotqa.corpus import Page
from envs.hotpotqa.data import QATask
from envs.hotpotqa.synth import build_synth

pytest.importorskip("bm25s")

# SHA-256 of each split of build_synth(seed=0) at generator 1, computed at commit 9da0d1e
# (before generator 2 existed) with split_digest below.
V0_DIGESTS = {
    "train": "3c05c9a5d05b9915aa45c00f6e134a80cc87fcdb1def4858e7e88d52af07e024",
    "valid": "3dbf5aa30773ea5995489eb35a4e9df1a015464df8c8b972d888bf94551d8ae9",
    "test": "a7e546b75c970186dea2c4c42607b19e83f8da21242732c20dc4c213f31cade0",
}


def _page(p: Page) -> list:
    return [p.title, list(p.sentences)]


def split_digest(pages: list[Page], tasks: list[QATask]) -> str:
    """Hash of every page and every task field an episode can show or score against."""
    rows = [
        [t.qid, t.question, t.answer, t.qtype, t.level]
        + [[list(s) for s in t.supporting], [_page(p) for p in t.context]]
        for t in tasks
    ]
    blob = json.dumps([[_page(p) for p in pages], rows], ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_generator_1_is_unchanged() -> None:
    data = build_synth(seed=0)
    got = {split: split_digest(*data[split]) for split in V0_DIGESTS}
    assert got == V0_DIGESTS
