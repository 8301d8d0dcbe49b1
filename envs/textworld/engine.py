"""One loaded TextWorld/Inform game on the real engine, with cheap state capture and restore.

``textworld.start`` stacks Python wrappers (state tracking, Inform 7 data, game data) over
Jericho's Z-machine. A state is the Z-machine's memory (Jericho ``get_state``) plus the
wrappers' own fields, with the quest tracker copied; restoring sets them back. That costs a
copy of TextWorld's ``GameProgression`` instead of a reset and a replay of every action.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

try:
    import textworld
    from textworld import EnvInfos
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "the TextWorld envs need the textworld package: pip install 'qharness[textworld]'"
    ) from exc

from envs.textworld.threads import per_thread_parsers

ENGINE_SEED = 1234  # Z-machine RNG seed (Jericho treats 0 as "random"): games replay exactly
# Fields of TextWorld's wrapper layers that change while playing (see envs/wrappers/tw_inform7).
_LAYER_FIELDS = (
    "state",
    "_prev_state",
    "_tracked_infos",
    "_last_action",
    "_previous_winning_policy",
    "_current_winning_policy",
    "_moves",
    "_game_progression",
    "_reset",
)
# Inform meta commands that would desynchronise the engine from TextWorld's tracker or block
# on a yes/no question; they are refused without reaching the interpreter.
META_VERBS = frozenset(
    {"quit", "q", "restart", "restore", "save", "undo", "script", "unscript", "transcript"}
)
# Standard Inform library replies to commands it could not parse or carry out; used to spot
# invalid actions in games without TextWorld's game data (no admissible commands there).
PARSER_ERRORS = (
    "that's not a verb i recognise",
    "i didn't understand that sentence",
    "you can't see any such thing",
    "i beg your pardon",
    "you can't go that way",
    "i only understood you as far as",
    "you seem to want to",
    "that's not something you need to refer to",
)
MAX_COMMAND = 180  # Jericho truncates commands longer than ~198 bytes


@dataclass(frozen=True)
class EngineState:
    """A captured engine state: Z-machine memory and each wrapper layer's fields."""

    zmachine: Any
    layers: tuple[dict[str, Any], ...]
    expert: bool


def clean_command(action: str) -> str:
    """One line of printable text: whitespace runs (newlines too) become one space; no
    backslash (Frotz reads a line starting with one as an interpreter command and waits
    for more input, forever)."""
    if not action.isprintable():
        action = "".join(c if c.isprintable() else " " for c in action)
    if "\\" in action:
        action = action.replace("\\", " ")
    return " ".join(action.split())[:MAX_COMMAND]


def is_refused(cmd: str) -> bool:
    """Meta commands (save, restart, undo, ...) and TextWorld's own ``tw-`` debug commands."""
    first = cmd.split(" ", 1)[0].lower()
    return first in META_VERBS or first.startswith("tw-")


def is_parser_error(reply: str) -> bool:
    """Whether ``reply`` is one of the Inform library's can't-parse / can't-do messages."""
    head = reply.lstrip().lower()
    return head.startswith(PARSER_ERRORS)


def _is_art(line: str) -> bool:
    chars = [c for c in line if not c.isspace()]
    return not chars or sum(c.isalpha() for c in chars) < 0.3 * len(chars)


def strip_banner(text: str) -> str:
    """Drop TextWorld's leading ASCII-art banner (lines that are mostly symbols)."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and _is_art(lines[i]):
        i += 1
    return "\n".join(lines[i:]) if i > 2 else text


def clean_feedback(text: str) -> str:
    """The engine's reply without the ASCII banner, the trailing ``>`` prompt and status line."""
    head, sep, last = text.rstrip().rpartition("\n")
    if last.lstrip().startswith(">"):
        text = head if sep else ""
    return strip_banner(text.strip()).strip()


class Engine:
    """A game file started on TextWorld's engine; the expert's infos are switched per reset."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.infos = EnvInfos(
            admissible_commands=True, objective=True, max_score=True, won=True, lost=True
        )
        per_thread_parsers()  # games load in several worker threads at once
        with warnings.catch_warnings():  # Jericho: "not fully supported" (TextWorld tracks)
            warnings.simplefilter("ignore")
            self.env = textworld.start(path, self.infos)
        self.layers: list[Any] = []
        layer: Any = self.env
        while layer is not None:
            self.layers.append(layer)
            layer = layer.__dict__.get("_wrapped_env")
        self.jericho = self.layers[-1]  # textworld's JerichoEnv
        self.jericho.seed(ENGINE_SEED)
        self.tracker = next((x for x in self.layers if "_game_progression" in x.__dict__), None)
        self.started = False  # the interpreter runs only after a first reset

    @property
    def tracked(self) -> bool:
        """Whether TextWorld's game data (its ``.json``) is loaded: expert and exact validity."""
        return self.tracker is not None

    @property
    def expert(self) -> bool:
        """Whether the current episode tracks quests for the expert's policy commands."""
        return bool(self.infos.policy_commands)

    def reset(self, expert: bool) -> Any:
        """Restart the game; ``expert`` asks TextWorld to track quests for policy commands."""
        self.infos.policy_commands = bool(expert and self.tracked)
        self.started = True
        return self.env.reset()

    def step(self, cmd: str) -> Any:
        """Send one (clean, not refused) command; returns TextWorld's game state dict."""
        state, _, _ = self.env.step(cmd)
        return state

    def moves(self) -> int | None:
        """State-changing actions so far (TextWorld's tracker), or None without game data."""
        return None if self.tracker is None else self.tracker._moves

    def capture(self) -> EngineState:
        """The current state (cost: one Z-machine memory read and one tracker copy)."""
        layers = tuple(_copy_fields(x.__dict__) for x in self.layers)
        return EngineState(self.jericho._jericho.get_state(), layers, self.expert)

    def apply(self, saved: EngineState) -> None:
        """Return to ``saved`` (it stays usable: mutable parts are copied again)."""
        if not self.started:  # Jericho sets up the Z-machine on reset only
            self.reset(saved.expert)
        self.infos.policy_commands = saved.expert
        self.jericho._jericho.set_state(saved.zmachine)
        for layer, fields in zip(self.layers, saved.layers, strict=True):
            layer.__dict__.update(_copy_fields(fields))

    def close(self) -> None:
        """Stop the interpreter."""
        self.env.close()


def _copy_fields(d: dict[str, Any]) -> dict[str, Any]:
    out = {k: d[k] for k in _LAYER_FIELDS if k in d}
    if out.get("_game_progression") is not None:
        out["_game_progression"] = out["_game_progression"].copy()
    if out.get("_tracked_infos") is not None:
        out["_tracked_infos"] = list(out["_tracked_infos"])
    return out
