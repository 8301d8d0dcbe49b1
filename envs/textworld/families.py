"""The four TextWorld challenge families: difficulty settings, defaults and split seed ranges.

A game is fixed by (family, difficulty, split, index): TextWorld's generator gets the challenge
settings below and the game seed ``SPLIT_OFFSETS[split] + index``. The seed ranges of the
splits are disjoint; tw-simple and tw-cooking also draw their test games from TextWorld's own
held-out distributions (test foods), so those differ from train games by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SPLIT_OFFSETS = {"train": 0, "valid": 1_000_000, "test": 2_000_000}
MAX_TASKS_PER_SPLIT = 1_000_000  # the gap between split offsets: ranges never overlap
DEFAULT_TASKS_PER_SPLIT = 1000

COOKING_SKILLS = ("recipe", "take", "cook", "cut", "open", "drop", "go")  # TextWorld's order
COOKING_FLAGS = ("cook", "cut", "open", "drop")
COOKING_GO = (1, 6, 9, 12)
SIMPLE_REWARDS = ("dense", "balanced", "sparse")
SIMPLE_GOALS = ("detailed", "brief", "none")

Difficulty = str | int | Mapping[str, Any]


@dataclass(frozen=True)
class Family:
    """One challenge family: its TextWorld challenge name, default difficulty and parser.

    ``parse`` turns a difficulty (int, str or mapping) into (label, challenge settings without
    the split); the label names the cache folder and goes into the env fingerprint.
    """

    name: str
    challenge: str
    default: str | int
    help: str
    parse: Callable[[Any], tuple[str, dict[str, Any]]]

    def settings(self, difficulty: Difficulty | None, split: str) -> tuple[str, dict[str, Any]]:
        """(label, full challenge settings) for ``difficulty`` (None: the default) and split."""
        raw = self.default if difficulty is None else difficulty
        try:
            label, settings = self.parse(raw)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(
                f"bad difficulty {raw!r} for TextWorld {self.name}: {exc}; expected {self.help}"
            ) from None
        if self.name == "simple":
            settings["test"] = split == "test"
        elif self.name == "cooking":
            settings.update(split=split, recipe_seed=0)
        return label, settings


def _level(lo: int, hi: int) -> Callable[[Any], tuple[str, dict[str, Any]]]:
    def parse(raw: Any) -> tuple[str, dict[str, Any]]:
        text = str(raw).strip().lower().removeprefix("level")
        if not text.isdigit() or not lo <= int(text) <= hi:
            raise ValueError(f"level must be an integer in {lo}..{hi}")
        return f"level{int(text)}", {"level": int(text)}

    return parse


def _simple(raw: Any) -> tuple[str, dict[str, Any]]:
    parts = str(raw).strip().lower().split("+")
    rewards, goal = parts[0], parts[1] if len(parts) > 1 else "detailed"
    if len(parts) > 2 or rewards not in SIMPLE_REWARDS or goal not in SIMPLE_GOALS:
        raise ValueError("unknown rewards or goal")
    return f"{rewards}+{goal}", {"rewards": rewards, "goal": goal}


def _cooking(raw: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(raw, Mapping):
        skills = {str(k): v for k, v in raw.items()}
    else:
        skills = {}
        for part in str(raw).strip().lower().split("+"):
            name = part.rstrip("0123456789")
            skills[name] = int(part[len(name) :]) if part[len(name) :] else True
    unknown = set(skills) - set(COOKING_SKILLS)
    if unknown:
        raise ValueError(f"unknown skills {sorted(unknown)}")
    recipe, take, go = (
        int(skills.get("recipe", 1)),
        int(skills.get("take", 0)),
        int(skills.get("go", 1)),
    )
    if recipe < 1 or not 0 <= take <= recipe or go not in COOKING_GO:
        raise ValueError("need recipe >= 1, 0 <= take <= recipe and go in 1|6|9|12")
    settings: dict[str, Any] = {"recipe": recipe, "take": take, "go": go}
    settings.update({f: bool(skills.get(f, False)) for f in COOKING_FLAGS})
    label = "+".join(
        f"{k}{settings[k]}" if k in ("recipe", "take", "go") else k
        for k in COOKING_SKILLS
        if settings[k]
    )
    return label, settings


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "simple",
            "tw-simple",
            "dense+detailed",
            "REWARDS[+GOAL], rewards dense|balanced|sparse, goal detailed|brief|none",
            _simple,
        ),
        Family("coin_collector", "tw-coin_collector", 7, "a level 1..300", _level(1, 300)),
        Family("treasure_hunter", "tw-treasure_hunter", 10, "a level 1..30", _level(1, 30)),
        Family(
            "cooking",
            "tw-cooking",
            "recipe1+take1+open+go1",
            "skills like 'recipe1+take1+open+go1' (recipe N, take N <= recipe, go 1|6|9|12, "
            "flags open cook cut drop)",
            _cooking,
        ),
    )
}


def family(name: str) -> Family:
    """The family called ``name`` (one-line error listing the known ones)."""
    if name not in FAMILIES:
        raise ValueError(f"unknown TextWorld family {name!r}: use one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


def game_seed(split: str, index: int, tasks_per_split: int) -> int:
    """TextWorld's generation seed of game ``index`` of ``split`` (disjoint ranges per split)."""
    if not 0 <= index < tasks_per_split <= MAX_TASKS_PER_SPLIT:
        raise ValueError(f"game index {index} outside 0..{tasks_per_split - 1}")
    return SPLIT_OFFSETS[split] + index
