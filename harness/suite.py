"""The default suite (``python -m harness.run`` with no arguments): which agents run, where,
and how long the LLM agents may play (the whole suite fits in 15 minutes on 2 CPU cores)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scoring.models import AUTO

# Agents of the default suite, in order.
DEFAULT_AGENTS: tuple[str, ...] = ("random", "expert", "react", "react-q", "admissible-q")
# One env per offline family for the LLM agents (the embedded SmolLM2 takes 1-3 s a step on
# 2 cores); admissible-q's bundled model (keychest-minilm) was trained on KeyChest only.
FAMILY_ENVS: tuple[str, ...] = (
    "harness/KeyChest-v0",
    "harness/HotPotQASynth-v1",
    "harness/WebShopSynth-v0",
    "harness/ALFWorldGen-v0",
    "harness/TextWorld-Simple-v0",
)
SUITE_AGENT_ENVS: dict[str, tuple[str, ...]] = {
    "react": FAMILY_ENVS,
    "react-q": FAMILY_ENVS,
    "admissible-q": ("harness/KeyChest-v0",),
}
# (episodes per env, max steps) of the LLM agents in the suite: react and react-q play the
# same seeds, so the run ends with their paired difference per env.
SUITE_AGENT_LIMITS: dict[str, tuple[int, int]] = {"react": (3, 8), "react-q": (3, 8)}
SUITE_MAX_STEPS = 20
# The policy of the suite's LLM agents: each family's bundled SFT adapter, the base model where
# a family has none (``--policy local`` runs the base model everywhere).
SUITE_POLICY = "local?adapter=auto"
# The bundled model kind an agent needs on an env (its family's); without one the suite leaves
# that agent out there (with a note) instead of failing.
SUITE_NEEDS_MODEL: dict[str, str] = {"react-q": "encoder"}


def needed_kind(agent: str, options: Mapping[str, Any]) -> str | None:
    """The bundled model kind ``agent`` needs with ``options`` (None: none, e.g. a scorer dir)."""
    if agent not in SUITE_NEEDS_MODEL:
        return None
    spec = str(options.get("scorer", AUTO))
    if spec == AUTO:
        return SUITE_NEEDS_MODEL[agent]
    return spec.partition(":")[2] or None if spec.startswith(AUTO + ":") else None


def suite_agent_envs(
    agent_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """``SUITE_AGENT_ENVS`` less the envs whose family lacks the bundled model an agent needs
    with its options (``scorer=auto`` or ``auto:KIND``), and one note per pair left out."""
    from envs.registration import env_family
    from scoring.models import bundled_models, bundled_name, how_to_get

    have = set(bundled_models())
    out: dict[str, tuple[str, ...]] = {}
    notes = []
    for agent, envs in SUITE_AGENT_ENVS.items():
        kind = needed_kind(agent, (agent_options or {}).get(agent, {}))
        keep = []
        for e in envs:
            name = bundled_name(env_family(e), kind) if kind else ""
            if kind and name not in have:
                notes.append(
                    f"{agent} left out on {e}: no bundled model {name} "
                    f"({how_to_get(env_family(e), kind)})"
                )
            else:
                keep.append(e)
        out[agent] = tuple(keep)
    return out, notes
