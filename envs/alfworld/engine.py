"""One ALFWorld game on TextWorld's PDDL backend, named and planned by ALFWorld's own pieces.

The engine is exactly what ALFWorld plays: ``textworld.start`` on a ``game.tw-pddl`` file with
ALFWorld's ``AlfredDemangler`` (object ids become "apple 1", "countertop 2"). Repeated pure
work inside TextWorld is removed once per process (``speed_up_engine``). The planner
expert is the Fast Downward re-plan that ALFWorld's ``AlfredExpert(PLANNER)`` reads from
TextWorld's ``policy_commands``; here it runs only when asked (it costs a planner call).
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs.textworld.threads import per_thread_parsers

DATA_ENV = "ALFWORLD_DATA"
NOTHING_HAPPENS = "Nothing happens."  # the engine's answer to any command it cannot apply


def import_alfworld() -> None:
    """Import ``alfworld`` without letting it rewrite ``$ALFWORLD_DATA``.

    ``alfworld.info`` (run by ``import alfworld``) sets ``ALFWORLD_DATA`` to ``~/.cache/alfworld``
    and creates that folder; this keeps the user's environment as it was.
    """
    if "alfworld.info" in sys.modules:
        return
    saved = os.environ.get(DATA_ENV)
    os.environ[DATA_ENV] = tempfile.gettempdir()
    try:
        import alfworld.info  # noqa: F401
    finally:
        if saved is None:
            os.environ.pop(DATA_ENV, None)
        else:
            os.environ[DATA_ENV] = saved


# TextWorld parses with shared module-level parsers and Fast Downward translates with module-level
# state: engines in several threads take this lock to load games and to fill the caches below.
ENGINE_LOCK = threading.RLock()
_PATCHED = False


def _memo(fn: Any, maxsize: int, fresh: Any = None) -> Any:
    """``fn`` cached by its arguments (LRU, computed under ENGINE_LOCK); ``fresh`` maps a cached
    value to what callers get (e.g. a deep copy)."""
    cache: OrderedDict[Any, Any] = OrderedDict()

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted(kwargs.items())))
        with ENGINE_LOCK:
            if key in cache:
                cache.move_to_end(key)
            else:
                cache[key] = fn(*args, **kwargs)
                if len(cache) > maxsize:
                    cache.popitem(last=False)
            value = cache[key]
        return fresh(value) if fresh else value

    return wrapped


def speed_up_engine() -> None:
    """Remove three repeated, pure computations of TextWorld's PDDL backend (process-wide).

    TextWorld (1) re-parses every command template and feedback rule at every step, (2) deep-copies
    the entity records in every grammar context it builds (nothing mutates them), and (3)
    re-translates the PDDL problem to SAS at every reset. Here parses are cached and handed out as
    deep copies (callers mutate the symbols), contexts copy their dicts but share the records, and
    translations are cached per (domain, problem) text. Steps get ~6x and resets ~7x faster;
    transcripts are identical to ALFWorld's own env run without these changes
    (tests/test_alfworld_data.py compares them in a separate process).
    """
    global _PATCHED
    with ENGINE_LOCK:
        if _PATCHED:
            return
        import fast_downward
        import textworld.envs.pddl.textgen as textgen
        from textworld.logic import Rule

        def copy_context(context: dict[str, Any]) -> dict[str, Any]:
            return {
                "state": context["state"],
                "facts": context["facts"],
                "variables": dict(context["variables"]),
                "mapping": dict(context["mapping"]),
                "entity_infos": context["entity_infos"],
            }

        parse = textgen._parse_and_convert
        textgen._parse_and_convert = _memo(
            lambda text, rule_name="symbols", **_: parse(text, rule_name=rule_name),
            maxsize=4096,
            fresh=copy.deepcopy,
        )
        textgen.copy_context = copy_context
        query = _memo(Rule.parse_conjunctive_query.__func__, maxsize=4096)
        Rule.parse_conjunctive_query = classmethod(query)
        fast_downward.pddl2sas = _memo(fast_downward.pddl2sas, maxsize=16)
        _PATCHED = True


def alfworld_dir() -> Path:
    """The installed ``alfworld`` package directory (domain, grammar, layouts)."""
    import_alfworld()
    import alfworld

    return Path(alfworld.__file__).parent


@dataclass(frozen=True)
class EngineState:
    """What one reset or step of the engine returns."""

    observation: str
    admissible: list[str]
    won: bool
    applied: bool  # False when the command matched no applicable action ("Nothing happens.")


class AlfredEngine:
    """A loaded ALFWorld game: TextWorld's ``PddlEnv`` wrapped by ALFWorld's ``AlfredDemangler``."""

    def __init__(self) -> None:
        self._env: Any = None
        self.path: str | None = None

    def load(self, path: str | os.PathLike[str]) -> None:
        """Load a ``game.tw-pddl`` file (no-op when it is already loaded)."""
        path = str(path)
        if self._env is not None and path == self.path:
            return
        import_alfworld()
        import textworld
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler

        per_thread_parsers()
        speed_up_engine()
        self.close()
        infos = textworld.EnvInfos(admissible_commands=True, won=True)
        with ENGINE_LOCK:
            self._env = textworld.start(path, infos, wrappers=[AlfredDemangler()])
        self.path = path

    def _state(self, gs: Any) -> EngineState:
        return EngineState(
            observation=str(gs.feedback),
            admissible=list(gs["admissible_commands"]),
            won=bool(gs["won"]),
            applied=gs.get("_last_action") is not None,
        )

    def reset(self) -> EngineState:
        """Start the loaded game from its initial state."""
        return self._state(self._env.reset())

    def step(self, command: str) -> EngineState:
        """Apply one text command; an inapplicable one leaves the state as it was."""
        gs, _, _ = self._env.step(command)
        return self._state(gs)

    def plan(self) -> list[str]:
        """ALFWorld's planner expert: an optimal command sequence from the current state
        ([] when the goal is reached or unreachable)."""
        pddl = self._env.unwrapped
        return list(pddl._pddl_state.replan(pddl._entity_infos))

    @property
    def raw(self) -> Any:
        """The TextWorld environment itself (for benchmarks)."""
        return self._env

    def close(self) -> None:
        """Release the game."""
        if self._env is not None:
            self._env.close()
        self._env, self.path = None, None
