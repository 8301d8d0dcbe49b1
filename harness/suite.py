"""The default suite (``python -m harness.run`` with no arguments): which agents run, where."""

from __future__ import annotations

# Agents of the default suite (python -m harness.run with no arguments), in order.
DEFAULT_AGENTS: tuple[str, ...] = ("random", "expert", "react", "admissible-q")
# In the default suite these agents run only on these envs (time budget: the embedded LLM
# takes 1-4 s a step on 2 cores, ~80 s a WebShop episode; the bundled Q model was trained on
# KeyChest only).
SUITE_AGENT_ENVS: dict[str, tuple[str, ...]] = {
    "react": ("harness/KeyChest-v0", "harness/HotPotQASynth-v1"),
    "admissible-q": ("harness/KeyChest-v0",),
}
SUITE_MAX_STEPS = 20
