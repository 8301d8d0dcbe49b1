"""The ``react`` agent: Thought/Action turns from an LLM policy, and candidate proposals.

Each step builds a prompt from the env family's prompt file (``agents/prompts/``), the task,
the newest history that fits ``history_tokens``, the family's notes line where its prompt file
names a note maker (``agents.notes``; option ``notes``, by default for adapter policies only)
and the current observation (plus the valid actions when the env lists them), and asks the
policy for ``Thought: ...`` and ``Action: ...``. How the action is chosen (``choice``):

- ``grammar``: the reply is generated under a GBNF grammar (``Thought: <line>`` then
  ``Action: <one admissible action>``, or the family's ``action_gbnf`` for free-text envs);
  needs a llama.cpp policy (``local`` or a llama.cpp server);
- ``score``: the thought is generated, then every admissible action is scored by the
  policy's log-probability after ``Action:`` and the best is taken;
- ``free``: free generation, parsed and mapped by the rule in ``agents/react_text.py``;
- ``auto`` (default): ``grammar`` where supported, else ``score`` when the env lists
  admissible actions and the policy can score them (``hf``), else ``free``.

The valid actions are listed in the prompt only in ``free`` mode unless ``show_actions``
says otherwise: under a grammar or scoring the constraint already keeps the action valid,
and with SmolLM2-135M the listed ``look`` drew almost every choice (measured: the
top-scored first action was ``look`` in 4 of 4 KeyChest states with the list, a move
in 4 of 4 without it).

``propose(step, k)`` (the ``scoring.base.Proposer`` protocol) returns up to ``k`` distinct
candidates with the policy's log-probability: by scoring all admissible actions when the
policy can score (``propose_mode='score'``), else by sampling ``n`` replies
(``propose_mode='sample'``); ``auto`` picks the first that applies. The candidates form the
pool of ``agents.pool``: de-duplicated after ``normalize``, without last step's action when it
left the observation unchanged (unless nothing else is left), and always with the policy's
greedy action (what ``act`` takes at temperature 0). The cost of the last ``act``/``propose``
call is in ``last_usage``.

``decide(step)`` is ``act`` without recording the thought in the episode: a tree search's
rollout step from any state. A greedy turn (temperature 0) is asked for once per episode and
state (``reuse_greedy``): in a search, a node's greedy candidate is its rollout's first step,
and the greedy child's rollout repeats its parent's.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any

from agents.base import Candidate, Decision, Step
from agents.baselines import fill_template
from agents.llm.base import LLM, LLMResult, Message
from agents.pool import candidate_pool
from agents.prompts import PromptSet, prompt_for, read_prompt
from agents.react_text import map_action, normalize, parse_reply, render_history

CHOICES = ("auto", "grammar", "score", "free")
FORMAT = (
    "Answer with exactly two lines, as in the example: a line starting with 'Thought:' that "
    "says in one short sentence what to do next, then a line starting with 'Action:' that "
    "gives one action."
)


HISTORY_TOKENS = 800
ADAPTER_HISTORY_TOKENS = 400
"""History window (estimated tokens) of the base policy and of an SFT adapter policy: the
adapter's prompt (no example, shorter window) is the one its demonstrations were written
with (``agents.demos``), and it keeps CPU training affordable (~550 real tokens a step)."""


def is_adapter_spec(policy: str) -> bool:
    """Whether a policy spec names an SFT adapter (``local?adapter=...``)."""
    return "adapter=" in policy


def _switch(name: str, value: object) -> str:
    """A yes/no/auto option as given (``True``/``False`` from a config file accepted)."""
    if str(value) not in ("auto", "yes", "no", "True", "False"):
        raise ValueError(f"react {name} must be auto, yes or no, got {value!r}")
    return str(value)


def _on(value: str, auto: bool) -> bool:
    """Whether a yes/no/auto option is on, ``auto`` deciding for ``auto``."""
    return auto if value == "auto" else value in ("yes", "True")


@dataclass
class Usage:
    """Tokens, latency and calls spent by one ``act`` or ``propose``."""

    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    calls: int = 0

    def add(self, r: LLMResult) -> LLMResult:
        """Count one policy call."""
        self.input_tokens += r.input_tokens
        self.output_tokens += r.output_tokens
        self.latency_s += r.latency_s
        self.calls += 1
        return r


@dataclass
class _Episode:
    task: str = ""
    seed: int = 0
    thoughts: list[str | None] = field(default_factory=list)
    # greedy turns by everything their prompt is made of: a tree search asks for the same
    # state's greedy turn again (a node's greedy candidate was its rollout's first step)
    greedy: dict[tuple[Any, ...], tuple[str, str, str, str]] = field(default_factory=dict)


class ReActAgent:
    """ReAct over any policy spec (``local``, ``openai:...``, ``hf:...``)."""

    def __init__(
        self,
        policy: str = "local",
        temperature: float = 0.0,
        max_tokens: int = 96,
        history_tokens: int | None = None,
        k: int = 4,
        choice: str = "auto",
        propose_mode: str = "auto",
        propose_temperature: float = 1.0,
        samples: int = 0,
        reuse_greedy: bool = True,
        fuzzy_threshold: float = 0.8,
        show_actions: bool | None = None,
        history_thoughts: bool = True,
        thought_chars: int = 100,
        max_obs_chars: int = 1500,
        prompt_file: str = "",
        sample_seed: int = 0,
        example: str = "auto",
        notes: str = "auto",
        llm: LLM | None = None,
    ) -> None:
        if choice not in CHOICES:
            raise ValueError(f"react choice must be one of {', '.join(CHOICES)}, got {choice!r}")
        if propose_mode not in ("auto", "score", "sample"):
            raise ValueError(f"propose_mode must be auto, score or sample, got {propose_mode!r}")
        self.policy_spec = policy
        self._llm = llm
        self._env_id = ""  # the env of the current act/propose (for llm_for)
        self._adapted: dict[str, bool] = {}
        self._llms: dict[str, LLM] = {}  # env id -> its policy instance
        self.temperature, self.max_tokens = float(temperature), int(max_tokens)
        self.k = int(k)
        self.history_tokens = None if history_tokens is None else int(history_tokens)
        self.choice, self.propose_mode = choice, propose_mode
        self.propose_temperature = float(propose_temperature)
        if int(samples) < 0:
            raise ValueError(f"react samples must be >= 0 (0: twice k), got {samples!r}")
        self.samples = int(samples)
        self.reuse_greedy = bool(reuse_greedy)
        self.fuzzy_threshold = float(fuzzy_threshold)
        self.show_actions, self.history_thoughts = show_actions, bool(history_thoughts)
        self.thought_chars, self.max_obs_chars = int(thought_chars), int(max_obs_chars)
        self.prompt_file = prompt_file
        self.sample_seed = int(sample_seed)
        self.example, self.notes = _switch("example", example), _switch("notes", notes)
        self._prompts: dict[str, PromptSet] = {}
        self._ep = _Episode()
        self.last_usage = Usage()

    @property
    def llm(self) -> LLM:
        """The policy for the env being played (``llm_for`` of the current step's env)."""
        return self.llm_for(self._env_id)

    def llm_for(self, env_id: str) -> LLM:
        """The shared policy instance of ``policy`` for ``env_id``: ``adapter=auto`` becomes
        the bundled adapter of the env's family (``agents.llm.adapters.resolve_auto``), or no
        adapter (the base model) when that family has none; other specs are used as given."""
        if self._llm is not None:
            return self._llm
        if env_id not in self._llms:
            from agents.llm.adapters import resolve_auto
            from agents.llm.spec import get_policy

            self._llms[env_id] = get_policy(resolve_auto(self.policy_spec, env_id))
        return self._llms[env_id]

    def reset(self, task: str, seed: int) -> None:
        """Forget the previous episode."""
        self._ep = _Episode(task, seed)

    # --- prompt -----------------------------------------------------------------------------
    def prompts(self, env_id: str) -> PromptSet:
        """The prompt set for an env id (cached)."""
        if env_id not in self._prompts:
            self._prompts[env_id] = (
                read_prompt(self.prompt_file) if self.prompt_file else prompt_for(env_id)
            )
        return self._prompts[env_id]

    def messages(self, step: Step, prefill: str = "") -> list[Message]:
        """System + user message for ``step`` (and a trailing assistant prefill if given)."""
        ps = self.prompts(step.env_id)
        thoughts = self._ep.thoughts if self.history_thoughts else []
        note = ""
        if ps.notes and self.shows_notes(step.env_id):
            from agents.notes import NOTE_MAKERS

            note = NOTE_MAKERS[ps.notes](step.task or self._ep.task, step.history, step.observation)
        hist = render_history(
            step.history,
            step.observation,
            thoughts,
            self.history_budget(step.env_id),
            self.llm.count_tokens,
            self.max_obs_chars,
            notes=note,
        )
        user = []
        if ps.example and self.shows_example(step.env_id):
            user.append(f"Example:\n{ps.example}\n\nNow your episode.")
        user.append(f"Task: {step.task or self._ep.task}")
        user.append(hist.text)
        show = self._mode(step) == "free" if self.show_actions is None else self.show_actions
        if show and step.admissible_actions:
            user.append("Valid actions: " + " | ".join(step.admissible_actions))
        msgs: list[Message] = [
            {"role": "system", "content": f"{ps.instructions}\n\n{FORMAT}"},
            {"role": "user", "content": "\n".join(user)},
        ]
        return _prefilled(msgs, prefill)

    def uses_adapter(self, env_id: str = "") -> bool:
        """Whether the policy runs an SFT adapter on ``env_id`` (``adapter=auto`` resolved for
        its family: a family without a bundled adapter runs the base model)."""
        if env_id not in self._adapted:
            spec = self.policy_spec
            if "adapter=auto" in spec and env_id:
                from agents.llm.adapters import resolve_auto

                spec = resolve_auto(spec, env_id)
            self._adapted[env_id] = is_adapter_spec(spec)
        return self._adapted[env_id]

    def shows_example(self, env_id: str = "") -> bool:
        """Whether prompts carry the family's few-shot example: ``yes``/``no``, or ``auto``:
        yes unless the policy runs an SFT adapter there, which learned the format from
        demonstrations written without it (``agents.demos``)."""
        return _on(self.example, auto=not self.uses_adapter(env_id))

    def shows_notes(self, env_id: str = "") -> bool:
        """Whether prompts carry the family's notes line (``agents.notes``), where its prompt
        file names one: ``yes``/``no``, or ``auto``: only for an SFT adapter policy, whose
        demonstrations were written with them; the base model's prompt stays as it was."""
        return _on(self.notes, auto=self.uses_adapter(env_id))

    def history_budget(self, env_id: str = "") -> int:
        """The history window: ``history_tokens`` when given, else the adapter window for an
        adapter policy and the base window otherwise."""
        if self.history_tokens is not None:
            return self.history_tokens
        return ADAPTER_HISTORY_TOKENS if self.uses_adapter(env_id) else HISTORY_TOKENS

    def grammar(self, step: Step) -> str | None:
        """GBNF for ``Thought: <one sentence>`` + ``Action: <action>`` (None when nothing
        constrains). The thought is one sentence of at most ``thought_chars`` characters:
        small models otherwise fill the line with repetitions."""
        acts = step.admissible_actions
        free = self.prompts(step.env_id).action_gbnf
        if acts:
            action = " | ".join(json.dumps(a) for a in dict.fromkeys(acts))
        elif free:
            action = free
        else:
            return None
        thought = f'[^\\n.]{{1,{self.thought_chars}}} "."'  # one sentence
        return f'root ::= " " {thought} "\\nAction: " action\naction ::= {action}'

    def _mode(self, step: Step) -> str:
        if self.choice != "auto":
            return self.choice
        constrained = bool(step.admissible_actions or self.prompts(step.env_id).action_gbnf)
        if constrained and self.llm.supports_grammar:  # i.e. grammar(step) is not None
            return "grammar"
        if step.admissible_actions and self.llm.supports_scoring:
            return "score"
        return "free"

    def _seed(self, step: Step, salt: int = 0) -> int:
        base = self._ep.seed * 1_000_003 + self.sample_seed * 999_983
        return (base + step.t * 31 + salt) % (2**31)

    # --- acting -----------------------------------------------------------------------------
    def act(self, step: Step) -> Decision:
        """One ReAct turn; the decision carries thought, tokens and how the action was chosen."""
        decision = self.decide(step)
        self._ep.thoughts.append(decision.thought or None)
        return decision

    def decide(self, step: Step) -> Decision:
        """``act``'s decision without recording its thought in the episode: one policy turn
        from any state (a tree search's rollout step), at the agent's temperature."""
        usage, t0 = Usage(), time.perf_counter()
        self._env_id = step.env_id
        mode = self._mode(step)
        llm = self.llm
        thought, action, raw, rule = self._decide(step, mode, self.temperature, usage)
        self.last_usage = usage
        meta: dict[str, Any] = {
            "mode": mode,
            "mapped": rule,
            "reply": raw[:1000],
            "llm_latency_s": round(usage.latency_s, 4),
            "llm_calls": usage.calls,
            "policy": getattr(llm, "name", self.policy_spec),
            "agent_s": round(time.perf_counter() - t0, 4),
        }
        return Decision(action, thought, usage.input_tokens, usage.output_tokens, meta=meta)

    def _decide(
        self, step: Step, mode: str, temperature: float, usage: Usage
    ) -> tuple[str, str, str, str]:
        """Thought, action (templates filled), raw reply and mapping rule of one turn; a
        greedy turn (temperature 0) is asked for once per episode and state (unless
        ``reuse_greedy`` is off)."""
        if temperature != 0.0 or not self.reuse_greedy:
            return self._decide_now(step, mode, temperature, usage)
        key: tuple[Any, ...] = (mode, step.env_id, step.task, step.history, step.observation)
        key += (tuple(step.admissible_actions), tuple(self._ep.thoughts))
        if key not in self._ep.greedy:
            self._ep.greedy[key] = self._decide_now(step, mode, temperature, usage)
        return self._ep.greedy[key]

    def _decide_now(
        self, step: Step, mode: str, temperature: float, usage: Usage
    ) -> tuple[str, str, str, str]:
        llm = self.llm
        prefill = "Thought:" if llm.supports_prefill else ""
        if mode == "score" and step.admissible_actions:
            thought, action, raw = self._act_by_score(step, usage)
            rule = "score"
        else:
            gram = self.grammar(step) if mode == "grammar" else None
            res = usage.add(
                llm.generate(
                    self.messages(step, prefill),
                    temperature=temperature,
                    max_tokens=self.max_tokens,
                    stop=["\nObservation", "\nTask:"],
                    grammar=gram,
                    seed=self._seed(step),
                )
            )
            raw = res.text
            parsed = parse_reply(prefill + raw if prefill else raw)
            mapped = map_action(parsed.action, step.admissible_actions, self.fuzzy_threshold)
            thought, action, rule = parsed.thought, mapped.action, mapped.rule
        return thought, fill_template(action, step.task), raw, rule  # e.g. search[<query>]

    def _thought(self, step: Step, msgs: list[Message], usage: Usage) -> str:
        llm = self.llm
        prefill = "Thought:" if llm.supports_prefill else ""
        res = usage.add(
            llm.generate(
                _prefilled(msgs, prefill),
                temperature=0.0,
                max_tokens=min(self.max_tokens, 64),
                stop=["\n", "Action:"],
                seed=self._seed(step, 1),
            )
        )
        return parse_reply(prefill + res.text).thought or res.text.strip()

    def _act_by_score(self, step: Step, usage: Usage) -> tuple[str, str, str]:
        msgs = self.messages(step)  # built once for the thought and the scoring prompt
        thought = self._thought(step, msgs, usage)
        acts = step.admissible_actions
        scores = self._score(msgs, thought, acts, usage)
        best = max(range(len(acts)), key=lambda i: scores[i])
        return thought, acts[best], f"Thought: {thought}\nAction: {acts[best]}"

    def _score(
        self, msgs: list[Message], thought: str, acts: list[str], usage: Usage
    ) -> list[float]:
        t0 = time.perf_counter()
        prompt = _prefilled(msgs, f"Thought: {thought}\nAction:")
        scores = self.llm.score_continuations(prompt, [" " + a for a in acts])
        usage.latency_s += time.perf_counter() - t0
        usage.calls += len(acts)  # one request per action, each sending the whole prompt
        sent = self.llm.count_tokens("\n".join(str(m["content"]) for m in prompt))
        usage.input_tokens += sum(sent + self.llm.count_tokens(a) for a in acts)
        return scores

    # --- proposing --------------------------------------------------------------------------
    def propose(self, step: Step, k: int | None = None) -> list[Candidate]:
        """Up to ``k`` distinct candidate actions, best first, with logprobs where known.

        ``score``: the greedy thought, then all admissible actions scored, best first
        (``logprob`` = summed token log-probability of the action after ``Action:``).
        ``sample``: ``samples`` (default ``2k``) replies sampled at ``propose_temperature`` in
        one request, parsed and mapped;
        ordered by how often each action came up, then by logprob (that of the action's
        tokens in the reply, when the policy returns token logprobs).

        The pool (``agents.pool``): one candidate per normalised action; the action that
        left the observation unchanged last step only when nothing else is left; and the
        policy's greedy action always in (``details["greedy"]``), i.e. what ``act`` takes at
        temperature 0: the top-scored action when ``act`` scores too, else one more greedy
        call in ``act``'s mode; if the ranking put it below ``k``, it takes the last place.
        """
        k = int(k or self.k)
        usage = Usage()
        self._env_id = step.env_id
        mode = self.propose_mode
        if mode == "auto":
            can_score = bool(step.admissible_actions) and self.llm.supports_scoring
            mode = "score" if can_score else "sample"
        greedy: Candidate | None = None
        top_is_greedy = False  # act scores too: its choice is the top-scored action
        if mode == "score" and step.admissible_actions:
            msgs = self.messages(step)
            thought = self._thought(step, msgs, usage)
            acts = list(dict.fromkeys(step.admissible_actions))
            scores = self._score(msgs, thought, acts, usage)
            order = sorted(range(len(acts)), key=lambda i: -scores[i])
            ranked = [
                Candidate(acts[i], scores[i], details={"source": "score", "thought": thought})
                for i in order
            ]
            top_is_greedy = self._mode(step) == "score"  # same thought, same scores
            greedy = None if top_is_greedy else self._greedy(step, usage)
        else:
            # the greedy reply right after the samples: the server finds the same prompt
            # cached in the slot that just ran it (beside them, another slot would evaluate
            # the whole prompt again: measured ~2.5 s for 320 tokens on a busy 2-core CPU)
            ranked = self._propose_by_sampling(step, k, usage)
            greedy = self._greedy(step, usage)
        ranked = [dataclasses.replace(c, action=fill_template(c.action, step.task)) for c in ranked]
        if top_is_greedy:
            greedy = ranked[0]
        self.last_usage = usage
        return candidate_pool(ranked, step, k, greedy)

    def _greedy(self, step: Step, usage: Usage) -> Candidate | None:
        """The action ``act`` takes at temperature 0, as a candidate (None: no action)."""
        thought, action, _, _ = self._decide(step, self._mode(step), 0.0, usage)
        if not action:
            return None
        return Candidate(action, details={"source": "greedy", "thought": thought})

    def _propose_by_sampling(self, step: Step, k: int, usage: Usage) -> list[Candidate]:
        """Every distinct action (after ``normalize``) of ``samples`` (default ``2k``) sampled
        replies (one request), ranked."""
        llm = self.llm
        prefill = "Thought:" if llm.supports_prefill else ""
        gram = self.grammar(step) if llm.supports_grammar else None
        res = usage.add(
            llm.generate(
                self.messages(step, prefill),
                n=self.samples or 2 * k,
                temperature=self.propose_temperature,
                max_tokens=self.max_tokens,
                stop=["\nObservation", "\nTask:"],
                logprobs=True,
                grammar=gram,
                seed=self._seed(step, 2),
            )
        )
        seen: dict[str, dict[str, Any]] = {}
        for comp in res.completions:
            parsed = parse_reply(prefill + comp.text)
            mapped = map_action(parsed.action, step.admissible_actions, self.fuzzy_threshold)
            if not mapped.action or (mapped.rule == "none" and step.admissible_actions):
                continue  # inadmissible samples are not proposed
            entry = seen.setdefault(  # the first spelling of each normalised action
                normalize(mapped.action),
                {"action": mapped.action, "count": 0, "logprob": None, "thought": parsed.thought},
            )
            entry["count"] += 1
            pos = comp.text.rfind(parsed.action) if parsed.action else -1
            lp = comp.span_logprob(pos, pos + len(parsed.action)) if pos >= 0 else None
            if lp is not None and (entry["logprob"] is None or lp > entry["logprob"]):
                entry["logprob"] = lp
        ranked = sorted(
            seen.items(),
            key=lambda kv: (
                -kv[1]["count"],
                -(kv[1]["logprob"] if kv[1]["logprob"] is not None else -1e9),
            ),
        )
        return [
            Candidate(
                e["action"],
                e["logprob"],
                details={"source": "sample", "count": e["count"], "thought": e["thought"]},
            )
            for _, e in ranked
        ]


def _prefilled(msgs: list[Message], prefill: str) -> list[Message]:
    """``msgs`` with a trailing assistant message ``prefill`` (unchanged when it is empty)."""
    return [*msgs, {"role": "assistant", "content": prefill}] if prefill else msgs
