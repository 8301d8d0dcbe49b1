"""One ALFWorld game on TextWorld's PDDL backend, named and planned by ALFWorld's own pieces.

The engine is exactly what ALFWorld plays: ``textworld.start`` on a ``game.tw-pddl`` file with
ALFWorld's ``AlfredDemangler`` (object ids become "apple 1", "countertop 2"). The planner
expert is the Fast Downward re-plan that ALFWorld's ``AlfredExpert(PLANNER)`` reads from
TextWorld's ``policy_commands``; here it runs only when asked (it costs a planner call).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

        self.close()
        infos = textworld.EnvInfos(admissible_commands=True, won=True)
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
