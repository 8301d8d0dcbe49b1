"""HotPotQA-style envs with ReAct's Wikipedia tool semantics over a local corpus.

``search[entity]`` opens the page titled ``entity`` (case-insensitive) and shows its first
five sentences, or answers "Could not find <entity>. Similar: [...]" with up to five BM25
titles; ``lookup[keyword]`` shows the next sentence of the open page containing the keyword
("(Result i / n) ..."); ``think[...]`` is a no-op; ``finish[answer]`` ends the episode with
reward = exact match (official normalisation). ``info["metrics"]`` holds ``em`` and ``f1``;
``info["task_type"]`` is the question's type: ``bridge``, ``comparison-yesno`` or
``comparison-value``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from envs.base import (
    ADMISSIBLE_ACTIONS,
    INVALID_ACTION,
    MAX_SCORE,
    SPLIT,
    TASK,
    TASK_ID,
    TASK_TYPE,
    WON,
    EnvSnapshot,
    TextEnv,
    fingerprint,
    package_version,
    task_index,
)
from envs.hotpotqa.actions import HELP, candidates, parse_action
from envs.hotpotqa.corpus import Corpus, Page
from envs.hotpotqa.data import OfficialData, QATask, load_corpus, question_type
from envs.hotpotqa.metrics import exact_match, f1_score
from envs.hotpotqa.oracle import expert_step, intro_facts
from envs.hotpotqa.synth import DEFAULT_QUESTIONS, LATEST_GENERATOR, build_synth, check_generator

METRICS = "metrics"


@dataclass(frozen=True)
class QAState:
    """Everything that changes during an episode (the engine part of a snapshot)."""

    split: str
    index: int
    page: str | None
    lookup_kw: str | None
    lookup_cnt: int
    seen: frozenset[tuple[str, int]]
    answer: str | None
    obs: str
    score: float
    won: bool
    invalid: bool


class WikiQAEnv(TextEnv):
    """Question answering by searching a local encyclopedia (subclasses supply tasks/corpus).

    ``suggest_actions=True`` lists concrete candidate actions in ``admissible_actions``
    (searches for names seen, lookups of question words, finishes with yes/no or names and
    years seen); they are suggestions: any string is a legal action.
    """

    def __init__(self, suggest_actions: bool = True, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        self.suggest_actions = suggest_actions
        self._split, self._index = "test", 0
        self._qa = QATask("", "", "")
        self._corpus = Corpus([])
        self._clear()

    # --- to implement ---------------------------------------------------------------------
    def tasks(self, split: str) -> list[QATask]:
        """The questions of ``split``."""
        raise NotImplementedError

    def corpus_for(self, split: str, task: QATask) -> Corpus:
        """The searchable pages for ``task``."""
        raise NotImplementedError

    # --- episode ----------------------------------------------------------------------------
    def _clear(self) -> None:
        self._page: Page | None = None
        self._lookup_kw: str | None = None
        self._lookup_cnt = 0
        self._seen: set[tuple[str, int]] = set()
        self._answer: str | None = None
        self._invalid = False

    def _load(self, split: str, index: int) -> None:
        self._split, self._index = split, index
        self._qa = self.tasks(split)[index]
        self._corpus = self.corpus_for(split, self._qa)

    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        n = len(self.tasks(split))
        self._load(split, task_index(seed, n, self.np_random, options))
        self._clear()
        obs = f"Question: {self._qa.question}"
        return obs, self._info(obs)

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        if self._answer is not None:
            obs = f"Episode finished, reward = {int(self._won)}"
            return obs, 0.0, True, self._info(obs)
        parsed = parse_action(action)
        self._invalid = parsed is None or (parsed[0] in ("search", "lookup") and not parsed[1])
        reward, done = 0.0, False
        if parsed is None or self._invalid:
            obs = f"Invalid action: {action.strip()[:200]}. {HELP}"
        elif parsed[0] == "search":
            obs = self._search(parsed[1])
        elif parsed[0] == "lookup":
            obs = self._lookup(parsed[1])
        elif parsed[0] == "think":
            obs = "Nice thought."
        else:
            self._answer = parsed[1]
            reward, done = exact_match(parsed[1], self._qa.answer), True
            obs = f"Episode finished, reward = {int(reward)}"
        return obs, reward, done, self._info(obs, won=bool(reward) if done else None)

    def _search(self, entity: str) -> str:
        page = self._corpus.get(entity)
        if page is None:
            return f"Could not find {entity}. Similar: {self._corpus.similar(entity)}."
        self._page, self._lookup_kw, self._lookup_cnt = page, None, 0
        self._seen.update(intro_facts(page))
        return page.intro()

    def _lookup(self, keyword: str) -> str:
        if keyword != self._lookup_kw:
            self._lookup_kw, self._lookup_cnt = keyword, 0
        hits = self._page.lookup(keyword) if self._page else []
        if self._lookup_cnt >= len(hits):
            return "No more results."
        i = hits[self._lookup_cnt]
        self._lookup_cnt += 1
        assert self._page is not None
        self._seen.add((self._page.title, i))
        return f"(Result {self._lookup_cnt} / {len(hits)}) {self._page.sentences[i]}"

    def _info(self, obs: str, won: bool | None = None) -> dict[str, Any]:
        given = self._answer
        info: dict[str, Any] = {
            TASK: self._qa.question,
            TASK_ID: self._qa.qid,
            TASK_TYPE: question_type(self._qa),
            MAX_SCORE: 1.0,
            INVALID_ACTION: self._invalid,
            METRICS: {
                "em": exact_match(given, self._qa.answer) if given is not None else 0.0,
                "f1": f1_score(given, self._qa.answer) if given is not None else 0.0,
            },
            ADMISSIBLE_ACTIONS: (
                candidates(self._qa.question, obs, self._page)
                if self.suggest_actions and given is None
                else []
            ),
        }
        if won is not None:
            info[WON] = won
        return info

    def expert_action(self) -> str | None:
        """The oracle's next action (None once the episode is over)."""
        if self._answer is not None:
            return None
        return expert_step(
            self._qa,
            self._corpus.get,
            self._page,
            self._seen,
            (self._lookup_kw, self._lookup_cnt),
        )

    # --- state restore ----------------------------------------------------------------------
    def snapshot(self) -> EnvSnapshot:
        """A real snapshot: the reset arguments, actions so far and the small episode state."""
        state = QAState(
            self._split,
            self._index,
            self._page.title if self._page else None,
            self._lookup_kw,
            self._lookup_cnt,
            frozenset(self._seen),
            self._answer,
            self._last_obs,
            self._score,
            self._won,
            self._invalid,
        )
        return EnvSnapshot(self._reset_seed, dict(self._reset_options), self.history, state)

    def restore(self, snap: EnvSnapshot) -> tuple[str, dict[str, Any]]:
        """Return to ``snap`` directly from its state (no replay); O(1) in episode length."""
        st = snap.engine
        if not isinstance(st, QAState):
            return super().restore(snap)
        self._reset_seed, self._reset_options = snap.seed, dict(snap.options)
        self._want_expert = bool(snap.options.get("expert", False))
        self._actions = list(snap.actions)
        self._load(st.split, st.index)
        self._page = self._corpus.get(st.page) if st.page is not None else None
        self._lookup_kw, self._lookup_cnt = st.lookup_kw, st.lookup_cnt
        self._seen, self._answer, self._invalid = set(st.seen), st.answer, st.invalid
        self._score, self._won, self._last_obs = st.score, st.won, st.obs
        info = self._info(st.obs, won=st.won)
        self._split = st.split
        info.setdefault(SPLIT, st.split)
        return st.obs, self._complete(info, invalid=st.invalid)


class HotPotQASynthEnv(WikiQAEnv):
    """Generated multi-hop questions over a generated encyclopedia (not HotPotQA's data).

    ``generator``: 1 is ``harness/HotPotQASynth-v0`` (lopsided yes/no per template), 2 is
    ``harness/HotPotQASynth-v1`` (every comparison template 50/50 within each split).
    """

    def __init__(
        self,
        seed: int = 0,
        n_questions: int = DEFAULT_QUESTIONS,
        generator: int = LATEST_GENERATOR,
        suggest_actions: bool = True,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(suggest_actions=suggest_actions, render_mode=render_mode)
        self.world_seed, self.n_questions = seed, n_questions
        self.generator = check_generator(generator)  # fails at construction, not first reset
        self._data: dict[str, tuple[list[Page], list[QATask]]] | None = None
        self._corpora: dict[str, Corpus] = {}

    def _built(self) -> dict[str, tuple[list[Page], list[QATask]]]:
        if self._data is None:
            self._data = build_synth(self.world_seed, self.n_questions, self.generator)
        return self._data

    def tasks(self, split: str) -> list[QATask]:
        """The generated questions of ``split``."""
        return self._built()[split][1]

    def corpus_for(self, split: str, task: QATask) -> Corpus:
        """The split's whole encyclopedia (every page not supporting a question distracts)."""
        if split not in self._corpora:
            self._corpora[split] = Corpus(self._built()[split][0])
        return self._corpora[split]

    def env_fingerprint(self) -> str:
        """Generator version and settings."""
        return fingerprint("HotPotQASynth", self.generator, self.world_seed, self.n_questions)


class HotPotQAEnv(WikiQAEnv):
    """The real HotPotQA questions (official JSON files; see ``envs.hotpotqa.data`` for splits).

    Distractor setting: each question's own context paragraphs are the searchable pages.
    With ``corpus=PATH`` (JSON lines of ``{title, text}``) every question searches that corpus
    instead (fullwiki setting).
    """

    def __init__(
        self,
        data: str | os.PathLike[str] | None = None,
        corpus: str | os.PathLike[str] | None = None,
        split_files: dict[str, str] | None = None,
        partition: bool = False,
        suggest_actions: bool = True,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(suggest_actions=suggest_actions, render_mode=render_mode)
        self.data = OfficialData(data, split_files, partition, prefer_fullwiki=corpus is not None)
        self.corpus_path = corpus
        self._shared: Corpus | None = None
        self._own: tuple[str, Corpus] | None = None

    def tasks(self, split: str) -> list[QATask]:
        """The questions of ``split`` from the official files."""
        return self.data.tasks(split)

    def corpus_for(self, split: str, task: QATask) -> Corpus:
        """The shared corpus when given, else the question's own context paragraphs."""
        if self.corpus_path is not None:
            if self._shared is None:
                self._shared = Corpus(load_corpus(self.corpus_path))
            return self._shared
        if self._own is None or self._own[0] != task.qid:
            self._own = (task.qid, Corpus(task.context))
        return self._own[1]

    def env_fingerprint(self) -> str:
        """Data files (names and sizes), the corpus file and the package version."""
        corpus = os.path.basename(str(self.corpus_path)) if self.corpus_path else "distractor"
        return fingerprint("HotPotQA", self.data.describe(), corpus, package_version("bm25s"))
