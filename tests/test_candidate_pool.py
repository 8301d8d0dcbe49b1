"""The candidate pool of react-q, react-rank and finish-first (``agents.pool``): de-duplicated
after normalisation, without last step's unchanged-observation action unless nothing else is
left, and always holding the policy's greedy action; with the scripted fake LLM and envs."""

from __future__ import annotations

from typing import Any

from agents.base import Candidate, Step, Turn
from agents.pool import GREEDY, candidate_pool, stuck_action
from agents.react import ReActAgent
from scoring.rerank import QRerankAgent, make_finish_first, make_react_q, make_react_rank
from tests.fakes import FakeCountEnv
from tests.fakes_llm import FakeLLM
from tests.fakes_qvalue import FakeTableScorer

ACTS = ["take key", "look", "go north", "open chest", "inventory"]


def step(history: tuple[Turn, ...] = (), obs: str = "You see a key.") -> Step:
    return Step(len(history), obs, {"task": "Take the key.", "admissible_actions": ACTS}, history)


def actions(cands: list[Candidate]) -> list[str]:
    return [c.action for c in cands]


def test_duplicates_after_normalisation_keep_the_first() -> None:
    ranked = [Candidate("Go North", -1.0), Candidate("go north.", -0.5), Candidate("look", -2.0)]
    assert actions(candidate_pool(ranked, step())) == ["Go North", "look"]


def test_an_action_that_changed_nothing_is_not_proposed_again_unless_alone() -> None:
    stuck = step((Turn("You see a key.", "Look"),))  # 'Look' left the observation unchanged
    assert stuck_action(stuck) == "look" and stuck_action(step()) is None
    moved = step((Turn("You are outside.", "look"),))
    assert stuck_action(moved) is None
    ranked = [Candidate("look"), Candidate("take key"), Candidate("go north")]
    assert actions(candidate_pool(ranked, stuck, k=2)) == ["take key", "go north"]
    assert actions(candidate_pool(ranked, moved, k=2)) == ["look", "take key"]
    assert actions(candidate_pool([Candidate("look.")], stuck)) == ["look."]  # nothing else


def test_the_greedy_action_is_always_in_the_pool() -> None:
    ranked = [Candidate(a, -float(i)) for i, a in enumerate(ACTS)]
    top = candidate_pool(ranked, step(), k=2, greedy=Candidate("look"))
    assert actions(top) == ["take key", "look"] and top[1].details[GREEDY]
    assert top[1].logprob == -1.0  # the ranked candidate, marked
    late = candidate_pool(ranked, step(), k=2, greedy=Candidate("inventory"))
    assert actions(late) == ["take key", "inventory"]  # below k: it takes the last place
    new = candidate_pool(ranked, step(), k=3, greedy=Candidate("examine key"))
    assert actions(new) == ["take key", "look", "examine key"]
    assert actions(candidate_pool(ranked, step(), k=1, greedy=Candidate("Open chest."))) == [
        "open chest"
    ]
    stuck = step((Turn("You see a key.", "inventory"),))  # greedy but it changed nothing
    assert actions(candidate_pool(ranked, stuck, k=2, greedy=Candidate("inventory"))) == [
        "take key",
        "look",
    ]


def scripted_llm(samples: list[str], greedy: str, **kw: Any) -> FakeLLM:
    """Sampled replies (temperature > 0) cycle through ``samples``; greedy ones say ``greedy``."""
    count = [0]

    def reply(prompt: Any, opts: dict[str, Any]) -> str:
        if not opts.get("temperature"):
            return f"Thought: the obvious.\nAction: {greedy}"
        count[0] += 1
        return f"Thought: maybe.\nAction: {samples[(count[0] - 1) % len(samples)]}"

    return FakeLLM(reply_fn=reply, **kw)


def test_react_sampling_pool_merges_spellings_and_adds_the_unsampled_greedy_action() -> None:
    llm = scripted_llm(["take key", "Take key.", "look", "take key"], greedy="go north")
    agent = ReActAgent(llm=llm, propose_mode="sample")  # type: ignore[arg-type]
    agent.reset("Take the key.", 0)
    cands = agent.propose(step(), 2)
    assert actions(cands) == ["take key", "go north"]
    assert cands[0].details["count"] == 3  # of the 2k = 4 samples: 'take key' x2, 'Take key.'
    assert cands[1].details[GREEDY] and cands[1].details["source"] == "greedy"
    assert [c["temperature"] for c in llm.calls] == [1.0, 0.0]  # samples, then the greedy reply


def test_react_score_pool_takes_acts_choice_without_another_call() -> None:
    scores = {"take key": -1.0, "look": -0.5, "go north": -3.0}
    llm = FakeLLM(["Thought: x.\nAction: look"], scores=scores)
    agent = ReActAgent(llm=llm)  # type: ignore[arg-type]  # act and propose both score
    agent.reset("Take the key.", 0)
    cands = agent.propose(step(), 2)
    assert actions(cands) == ["look", "take key"] and cands[0].details[GREEDY]
    assert len(llm.calls) == 1  # the thought only: act's choice is the top-scored action
    stuck = agent.propose(step((Turn("You see a key.", "look"),)), 2)
    assert actions(stuck) == ["take key", "go north"]  # 'look' changed nothing last step


def test_react_score_pool_adds_the_grammar_policys_greedy_action() -> None:
    """With a grammar policy, act generates under the grammar: its action can score low."""
    scores = {"take key": -1.0, "look": -0.5, "go north": -3.0}
    llm = scripted_llm([], greedy="go north", scores=scores, grammar=True)
    agent = ReActAgent(llm=llm)  # type: ignore[arg-type]
    agent.reset("Take the key.", 0)
    assert agent.act(step()).action == "go north"
    cands = agent.propose(step(), 2)
    assert actions(cands) == ["look", "go north"] and cands[1].details[GREEDY]


def scripted_react(policy: str = "") -> ReActAgent:
    """A ReAct proposer over the scripted fake LLM (a ``module:factory`` proposer spec)."""
    llm = scripted_llm(["look", "Look.", "take key", "look"], greedy="inventory")
    return ReActAgent(llm=llm, propose_mode="sample")  # type: ignore[arg-type]


def q_table() -> FakeTableScorer:
    return FakeTableScorer({"take key": 1.0, "inventory": 2.0}, "q")


def test_react_q_and_its_controls_share_one_pool() -> None:
    proposer = "tests.test_candidate_pool:scripted_react"
    agents = [
        make_react_q(proposer=proposer, k=2, scorer="tests.test_candidate_pool:q_table"),
        make_react_rank(proposer=proposer, k=2),
        make_finish_first(proposer=proposer, k=2),
    ]
    for s in (step(), step((Turn("You see a key.", "look"),))):
        pools = []
        for agent in agents:
            agent.reset("Take the key.", 0)
            pools.append(actions(list(agent.act(s).candidates)))
        assert pools[0] == pools[1] == pools[2], pools
        assert "inventory" in pools[0]  # the greedy action, never sampled
        assert len({a.lower().rstrip(".") for a in pools[0]}) == len(pools[0])
    assert pools[0] == ["take key", "inventory"]  # 'look' changed nothing: out


def test_the_unchanged_observation_rule_gets_a_reranker_out_of_a_loop() -> None:
    """FakeCountEnv: 'wait' leaves the observation as it was. A scorer that prefers 'wait'
    waits forever over the raw candidates; over the pool it waits at most once in a row."""

    class Both:
        def propose(self, step: Step, k: int) -> list[Candidate]:
            return [Candidate("wait"), Candidate("Wait"), Candidate("next")]

    scorer = FakeTableScorer({"wait": 1.0, "Wait": 1.0}, "q")
    for pool, won in ((False, False), (True, True)):
        agent = QRerankAgent(Both(), scorer, k=3, pool=pool)
        env = FakeCountEnv(n=3)
        obs, info = env.reset(seed=0)
        history: tuple[Turn, ...] = ()
        for t in range(8):
            d = agent.act(Step(t, obs, info, history))
            if pool:
                assert len(d.candidates) == (1 if history and history[-1].action == "wait" else 2)
            history += (Turn(obs, d.action),)
            obs, _, done, _, info = env.step(d.action)
            if done:
                break
        assert bool(info.get("won")) is won
        assert [t.action for t in history][:4] == (["wait", "next"] * 2 if pool else ["wait"] * 4)
