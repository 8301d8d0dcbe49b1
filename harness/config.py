"""Run settings as one frozen dataclass, built from CLI flags and/or a TOML file."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from harness.errors import InputError


class ConfigError(InputError, ValueError):
    """A config file or value that cannot be used; the message names the file and field."""


def option_value(raw: str) -> Any:
    """A CLI option value: JSON when it parses (``4``, ``true``, ``[1, 2]``), else the text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def key_values(items: list[str], flag: str) -> dict[str, Any]:
    """``["k=4", "name=x"]`` from a repeated ``flag`` as a dict of option values."""
    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            raise ConfigError(f"{flag} {item!r}: expected KEY=VALUE")
        out[key] = option_value(raw)
    return out


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs. ``episodes=None`` means each env's default-suite count."""

    envs: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    episodes: int | None = None
    seed: int = 0
    max_steps: int = 50
    split: str = "test"
    out: str = ""
    resume: bool = False
    retry_errors: bool = False
    extend: bool = False
    workers: int = 1
    step_timeout_s: float = 300.0
    episode_timeout_s: float = 3600.0
    policy: str = ""
    leaderboard: str = "results/leaderboard.csv"
    report: bool = False
    suite: bool = False
    backend: str = "local"
    ray_address: str = ""
    ray_gpus: float = 0.0
    env_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    agent_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def validate(self) -> RunConfig:
        """Check value ranges; raise ConfigError naming the field."""
        checks = [
            ("episodes", self.episodes is None or self.episodes >= 1, "must be >= 1"),
            ("seed", self.seed >= 0, "must be >= 0"),
            ("max_steps", self.max_steps >= 1, "must be >= 1"),
            ("workers", self.workers >= 1, "must be >= 1"),
            ("split", self.split in ("train", "valid", "test"), "must be train, valid or test"),
            ("backend", self.backend in ("local", "ray"), "must be local or ray"),
            ("ray_gpus", self.ray_gpus >= 0, "must be >= 0"),
            ("step_timeout_s", self.step_timeout_s > 0, "must be > 0"),
            ("episode_timeout_s", self.episode_timeout_s > 0, "must be > 0"),
        ]
        for name, ok, why in checks:
            if not ok:
                raise ConfigError(f"config field {name!r} {why} (got {getattr(self, name)!r})")
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (tuples as lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


FIELD_TYPES = {f.name: f.type for f in fields(RunConfig)}
_WANT = {
    "tuple[str, ...]": "a list of strings",
    "dict[str, dict[str, Any]]": "a table of tables",
    "int": "an integer",
    "int | None": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
}


def _coerce(name: str, value: Any, source: str) -> Any:
    kind = str(FIELD_TYPES[name])
    bad = ConfigError(
        f"{source}: field {name!r} has the wrong type ({type(value).__name__}: {value!r}); "
        f"expected {_WANT[kind]}"
    )
    if kind.startswith("tuple"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise bad
        return tuple(value)
    if kind.startswith("dict"):
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise bad
        return {str(k): dict(v) for k, v in value.items()}
    expected: Any = {
        "int": int,
        "int | None": int,
        "float": (int, float),
        "str": str,
        "bool": bool,
    }[kind]
    if isinstance(value, bool) and kind != "bool":
        raise bad
    if not isinstance(value, expected):
        raise bad
    return float(value) if kind == "float" else value


def from_mapping(data: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Validated field values from a mapping; unknown fields are an error naming them."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in FIELD_TYPES:
            from envs.base import closest

            near = closest(key, list(FIELD_TYPES))
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(f"{source}: unknown field {key!r}{hint}")
        out[key] = _coerce(key, value, source)
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    """Field values from a TOML file; errors name the file (and field)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(p)!r} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from None
    source = f"config file {str(p)!r}"
    values = from_mapping(data, source=source)
    try:
        RunConfig(**values).validate()
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return values


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
        )
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(cfg: RunConfig) -> str:
    """The config as TOML that ``load_toml`` reads back (``None`` fields are omitted)."""
    lines = []
    for key, value in cfg.to_dict().items():
        if value is None:
            continue
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
