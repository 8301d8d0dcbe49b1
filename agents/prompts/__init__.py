"""ReAct prompt files, one per env family: ``<family>.toml`` in this directory.

A file is named after the env family it serves (the ``family`` an env declares where it is
registered, see ``envs.registration.env_family``). Each holds ``instructions`` (the system
text), ``example`` (a worked transcript in
``Task/Observation/Thought/Action`` lines) and optionally ``action_gbnf`` (a GBNF grammar
for one action, used to constrain llama.cpp policies when the env lists no admissible
actions), and optionally ``notes``: the name of a note maker (``agents.notes``) whose one-line
summary of what the agent has observed is shown before the current observation (to policies
that use it, see the ``react`` option ``notes``). ``default.toml`` serves every other env.
Edit freely; a user file can be given with the agent option ``prompt_file``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


class PromptFileError(ValueError):
    """A prompt file that is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class PromptSet:
    """The prompt material of one env family."""

    name: str
    instructions: str
    example: str
    action_gbnf: str = ""
    notes: str = ""


def read_prompt(path: str | Path) -> PromptSet:
    """Parse one prompt file."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PromptFileError(f"prompt file {str(p)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise PromptFileError(f"prompt file {str(p)!r} is not valid TOML: {exc}") from None
    if not isinstance(data.get("instructions"), str):
        raise PromptFileError(f"prompt file {str(p)!r} needs an 'instructions' string")
    notes = str(data.get("notes", "")).strip()
    if notes:
        from agents.notes import NOTE_MAKERS

        if notes not in NOTE_MAKERS:
            have = ", ".join(sorted(NOTE_MAKERS))
            raise PromptFileError(f"prompt file {str(p)!r}: notes {notes!r} is not one of {have}")
    return PromptSet(
        name=p.stem,
        instructions=data["instructions"].strip(),
        example=str(data.get("example", "")).strip(),
        action_gbnf=str(data.get("action_gbnf", "")).strip(),
        notes=notes,
    )


def prompt_for(env_id: str, directory: str | Path = HERE) -> PromptSet:
    """The prompt file of the env's declared family, ``<family>.toml`` (else ``default.toml``)."""
    from envs.registration import env_family

    path = Path(directory) / f"{env_family(env_id)}.toml"
    return read_prompt(path if path.exists() else Path(directory) / "default.toml")
