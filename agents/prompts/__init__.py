"""ReAct prompt files, one per env family: ``<family>.toml`` in this directory.

Each file holds ``prefixes`` (env ids starting with any of them use the file),
``instructions`` (the system text), ``example`` (a worked transcript in
``Task/Observation/Thought/Action`` lines) and optionally ``action_gbnf`` (a GBNF grammar
for one action, used to constrain llama.cpp policies when the env lists no admissible
actions). ``default.toml`` serves every other env. Edit freely; a user file can be given
with the agent option ``prompt_file``.
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
    prefixes: tuple[str, ...]
    instructions: str
    example: str
    action_gbnf: str = ""


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
    return PromptSet(
        name=p.stem,
        prefixes=tuple(str(x) for x in data.get("prefixes", [])),
        instructions=data["instructions"].strip(),
        example=str(data.get("example", "")).strip(),
        action_gbnf=str(data.get("action_gbnf", "")).strip(),
    )


def prompt_for(env_id: str, directory: str | Path = HERE) -> PromptSet:
    """The prompt file whose longest prefix matches ``env_id`` (else ``default.toml``)."""
    best: PromptSet | None = None
    best_len = -1
    for f in sorted(Path(directory).glob("*.toml")):
        ps = read_prompt(f)
        for pre in ps.prefixes:
            if env_id.startswith(pre) and len(pre) > best_len:
                best, best_len = ps, len(pre)
    return best or read_prompt(Path(directory) / "default.toml")
