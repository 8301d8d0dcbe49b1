"""Fixture runs for report tests: real runs on KeyChest, a fake reranking agent, and a
hand-written run with candidates, rubric verdicts, an error and a missing trajectory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from agents.base import Candidate, Decision, Step
from envs.base import EXPERT_ACTION
from harness.records import EpisodeRecord, StepRecord
from harness.run import main as run_main
from harness.store import RunStore, trajectory_name

KEYCHEST = "harness/KeyChest-v0"
FAKE_RERANKER = "tests.report_fixtures:FakeRerankAgent"
HAND_ENV = "fixture/Handwritten-v0"
HOSTILE = '<script>alert("x")</script></details><img src="http://example.com/x.png">'


class FakeRerankAgent:
    """Fake reranking agent (tests only): candidates are the admissible actions with made-up
    logprobs; a fake "q" score prefers the expert action; it follows "q" 70% of the time."""

    wants_expert = True

    def __init__(self) -> None:
        self._rng = np.random.default_rng(0)

    def reset(self, task: str, seed: int) -> None:
        """Seed from the episode."""
        self._rng = np.random.default_rng([seed, 7])

    def act(self, step: Step) -> Decision:
        """Score the admissible actions and pick one."""
        acts = step.admissible_actions[:5] or ["look"]
        expert = step.info.get(EXPERT_ACTION)
        if expert and expert not in acts:
            acts = [*acts[:4], str(expert)]
        lps = self._rng.normal(-2.0, 1.0, len(acts))
        q = [
            0.8 + 0.2 * self._rng.random() if a == expert else 0.4 * self._rng.random()
            for a in acts
        ]
        cands = tuple(
            Candidate(
                a,
                float(lp),
                {"q": float(s), "rubric": float(a == expert)},
                {"rubric": {"makes progress": "yes" if a == expert else "no"}},
            )
            for a, lp, s in zip(acts, lps, q, strict=True)
        )
        pick = int(np.argmax(q)) if self._rng.random() < 0.7 else int(np.argmax(lps))
        return Decision(acts[pick], "fake thought", 50, 5, cands)


def real_run(out: Path, agents: list[str], episodes: int, *extra: str) -> Path:
    """A run made by ``python -m harness.run`` on KeyChest."""
    argv = ["--envs", KEYCHEST, "--agents", *agents, "--episodes", str(episodes)]
    argv += ["--max-steps", "20", "--out", str(out), "--leaderboard", "", *extra]
    assert run_main(argv) == 0
    return out


def _record(seed: int, success: bool, reward: float, steps: int, error: str = "") -> EpisodeRecord:
    return EpisodeRecord(
        HAND_ENV, "hand-reranker", seed, f"t{seed}", "test", success, reward, steps, 0, 10, 2,
        0.5, error,
    )  # fmt: skip


def _cand(action: str, lp: float | None, **scores: float) -> dict[str, object]:
    return Candidate(action, lp, scores, {"verdicts": {"safe": "yes", "note": HOSTILE}}).to_dict()


HAND_STEPS = [
    # chosen "b" is not the top-logprob candidate "a"
    StepRecord(0, "obs 0 " + HOSTILE, "b", 0.0, HOSTILE, candidates=[
        _cand("a", -0.1, q=0.2), _cand("b", -1.0, q=0.9)]),
    # no logprobs at all; chosen "c" scored 0.5
    StepRecord(1, "obs 1", "c", 0.5, "t1", candidates=[_cand("c", None, q=0.5),
                                                       _cand("d", None, q=0.1)]),
    # chosen "z" is not among the candidates
    StepRecord(2, "obs 2", "z", 0.0, None, candidates=[_cand("x", -0.2, q=0.3)]),
    # chosen "e" ties with "f" for the top logprob: not counted as differing
    StepRecord(3, "obs 3", "e", 0.5, None, candidates=[_cand("e", -0.5, q=0.7),
                                                       _cand("f", -0.5, q=0.6)]),
    StepRecord(4, "obs 4", "plain", 0.0),
]  # fmt: skip


def hand_run(out: Path) -> Path:
    """A hand-written run: one reranked episode, one error episode, one missing trajectory."""
    store = RunStore(out)
    store.open(resume=False)
    (out / "run.json").write_text(json.dumps({"env_fingerprints": {HAND_ENV: "hand01"}}))
    terminal = StepRecord(5, "final " + HOSTILE, "", 0.0, meta={"terminal": True})
    store.append(_record(0, True, 1.0, 5), [*HAND_STEPS, terminal])
    store.append(_record(1, False, 0.0, 0, error="RuntimeError: provider <down> & out"), [])
    store.append(_record(2, False, 0.0, 3), [StepRecord(0, "o", "a", 0.0)])
    (out / "trajectories" / trajectory_name(HAND_ENV, "hand-reranker", 2)).unlink()
    return out


def empty_run(out: Path) -> Path:
    """A run dir whose episode log is empty and that has no run.json."""
    out.mkdir(parents=True)
    (out / "episodes.jsonl").write_text("")
    return out
