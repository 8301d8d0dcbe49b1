"""Checks run before the first episode: any setting that cannot work fails here, as one line.

Names (envs, agents), option names (with did-you-mean) and values (each agent is built once),
options addressed to envs or agents outside the run, policy specs, the size of the plan and
the output paths; each env is made once (``env_fingerprints``), each agent built once.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

from agents.registry import AGENTS, UnknownOption, option_names
from envs.base import closest, fingerprint
from envs.registration import load_env_plugins, missing, spec
from envs.registry import UnknownName, load_object
from harness.config import RunConfig
from harness.errors import InputError, one_line
from harness.leaderboard import read_board
from harness.rundir import check_out_dir

MAX_EPISODES = 1_000_000
"""The most episodes one run may plan (a bigger plan is a typo, and would not fit in memory)."""

GYM_MAKE_OPTIONS = ("max_episode_steps", "render_mode", "disable_env_checker", "autoreset")
"""Options ``gym.make`` takes itself, for any env."""


class BadInput(InputError):
    """A user error: printed as one line, exit code 2."""


def check_names(cfg: RunConfig) -> None:
    """Unknown envs or agents, or envs missing their extra or data: a one-line BadInput."""
    if cfg.resume and not cfg.out:
        raise BadInput("--resume needs --out DIR: the run directory to continue")
    load_env_plugins()
    for env_id in cfg.envs:
        check_env_id(env_id)
        s = spec(env_id)
        why = missing(s) if s else None
        if why and not cfg.env_options.get(env_id):
            raise BadInput(f"env {env_id!r} {why}")
    for name in cfg.agents:
        try:
            AGENTS.check(name)
            if name not in AGENTS.entries():  # a module:factory spec: it must import
                load_object(name)
        except UnknownName as exc:
            raise BadInput(f"{exc} (python -m harness.run --list shows all)") from None
        except Exception as exc:
            raise BadInput(f"agent {name!r} cannot be loaded: {one_line(exc)}") from None


def check_env_id(env_id: str) -> None:
    """An id Gymnasium does not know (after importing a ``module:`` prefix): BadInput with
    did-you-mean."""
    if bare_env_id(env_id) not in gym.registry:
        ids = sorted(gym.registry)
        near = closest(env_id, [i for i in ids if i.startswith("harness/")] or ids)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise BadInput(f"unknown env {env_id!r}{hint} (python -m harness.run --list shows all)")


def bare_env_id(env_id: str) -> str:
    """The Gymnasium id of ``env_id``; for Gymnasium's ``module:id`` form the module is imported
    first (it registers the id), as ``gym.make`` would."""
    module, sep, bare = env_id.partition(":")
    if not sep:
        return env_id
    try:
        importlib.import_module(module)
    except Exception as exc:
        raise BadInput(
            f"env {env_id!r}: cannot import module {module!r}: {one_line(exc)}"
        ) from None
    return bare


def check_targets(cfg: RunConfig) -> None:
    """Options addressed to an env or agent that is not in the run are an error."""
    for flag, given, in_run in (
        ("--env-opt", cfg.env_options, cfg.envs),
        ("--agent-opt", cfg.agent_options, cfg.agents),
    ):
        for name in given:
            if name not in in_run:
                near = closest(name, list(in_run), n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise BadInput(
                    f"{flag} for {name!r}, which is not in this run ({', '.join(in_run)}){hint}"
                )


def check_env_options(cfg: RunConfig) -> None:
    """Env option names the env's constructor does not take: BadInput with did-you-mean."""
    for env_id, opts in cfg.env_options.items():
        entry = gym.spec(env_id).entry_point
        factory: Any = entry
        with contextlib.suppress(Exception):
            factory = load_object(entry) if isinstance(entry, str) else entry
        names = option_names(factory)
        names = None if names is None else list(dict.fromkeys([*names, *GYM_MAKE_OPTIONS]))
        for key in opts:
            if names is not None and key not in names:
                near = closest(key, names, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise BadInput(
                    f"env {env_id!r} has no option {key!r}{hint} "
                    f"(its options: {', '.join(names) or 'none'})"
                )


def check_policies(cfg: RunConfig, options: Callable[[str], dict[str, Any]]) -> None:
    """Every policy spec the run would use parses, with valid options and model argument."""
    from agents.llm.spec import PolicySpecError, parse_spec

    specs = {cfg.policy} if cfg.policy else set()
    specs |= {str(options(a)["policy"]) for a in cfg.agents if "policy" in options(a)}
    for text in sorted(specs):
        try:
            parsed = parse_spec(text)
        except PolicySpecError as exc:
            raise BadInput(str(exc)) from None
        if parsed.kind == "local" and parsed.model and not _local_model_ok(parsed.model):
            raise BadInput(
                f"policy {text!r}: model file {parsed.model!r} not found: give a .gguf path "
                "or owner/repo/file.gguf"
            )
        _check_adapter(text, parsed.kwargs().get("adapter", ""))
        _check_backend(text, parsed)


def policy_adapters(
    cfg: RunConfig, options: Callable[[str], dict[str, Any]]
) -> dict[str, dict[str, str]]:
    """For each policy spec of the run that sets ``adapter=``: env id -> the adapter it runs
    with (``name@sha256[:12]``, ``none`` where ``auto`` finds no bundled one), for run.json."""
    from agents.llm.adapters import adapter_label
    from agents.llm.spec import parse_spec

    specs = {cfg.policy} if cfg.policy else set()
    specs |= {str(options(a)["policy"]) for a in cfg.agents if "policy" in options(a)}
    out: dict[str, dict[str, str]] = {}
    for text in sorted(specs):
        if "adapter" in parse_spec(text).kwargs():
            out[text] = {e: adapter_label(text, e) or "none" for e in cfg.envs}
    return out


def _check_adapter(text: str, adapter: str) -> None:
    """A local policy's ``adapter=`` names an adapter that exists (``auto`` always does)."""
    from agents.llm.adapters import AUTO, resolve_adapter
    from agents.llm.base import LLMError

    if adapter and adapter != AUTO:
        try:
            resolve_adapter(adapter)
        except LLMError as exc:
            raise BadInput(f"policy {text!r}: {exc}") from None


NEEDS = {"local": ("xllamacpp", "local"), "hf": ("transformers", "hf"), "openai": ("openai", "")}
"""The module each policy kind imports, and the extra that installs it."""


def _check_backend(text: str, parsed: Any) -> None:
    """The backend's package is installed; an openai client can be made (API key present)."""
    import importlib.util

    if parsed.kind not in NEEDS:  # a plug-in backend: its factory checks what it needs
        return
    module, extra = NEEDS[parsed.kind]
    if importlib.util.find_spec(module) is None:
        how = f"pip install 'qharness[{extra}]'" if extra else f"pip install {module}"
        raise BadInput(f"policy {text!r} needs the {module} package: {how}")
    if parsed.kind == "openai":  # no network: checks the options and the API key
        from agents.llm.spec import build_policy

        try:
            build_policy(parsed).close()
        except Exception as exc:
            raise BadInput(f"policy {text!r}: {one_line(exc)}") from None


def _local_model_ok(arg: str) -> bool:
    parts = arg.split("/")
    hub = len(parts) >= 3 and arg.endswith(".gguf") and not arg.startswith(("/", ".", "~"))
    return hub or Path(arg).expanduser().is_file()


def check_agents(
    cfg: RunConfig, build: Callable[[str], Any], pairs: Sequence[tuple[str, str]] = ()
) -> None:
    """Build each agent once (option names and values checked), check that its scorers have a
    model for every env it will play (``pairs``: (env, agent)), then close it."""
    for name in cfg.agents:
        opts = cfg.agent_options.get(name, {})
        with_opts = f" with options {opts}" if opts else ""
        try:
            agent = build(name)
        except UnknownOption as exc:
            raise BadInput(str(exc)) from None
        except Exception as exc:
            raise BadInput(f"agent {name!r} cannot be built{with_opts}: {one_line(exc)}") from None
        try:
            for env_id in (e for e, a in pairs if a == name):
                for scorer in agent_scorers(agent):
                    check = getattr(scorer, "check_env", None)
                    if callable(check):
                        check(env_id)
        except Exception as exc:
            raise BadInput(f"agent {name!r}{with_opts}: {exc}") from None
        finally:
            close = getattr(agent, "close", None)
            if callable(close):
                with contextlib.suppress(Exception):
                    close()


def agent_scorers(agent: Any) -> list[Any]:
    """The scorers of a reranking agent (its ``scorer``, or a composed scorer's parts)."""
    scorer = getattr(agent, "scorer", None)
    if scorer is None:
        return []
    parts = getattr(scorer, "parts", None)
    return [p for p, _ in parts] if parts else [scorer]


def check_plan_size(total: int) -> None:
    """A plan too large to hold (``--episodes 1000000000000``) is an error."""
    if total > MAX_EPISODES:
        raise BadInput(
            f"the run plans {total:,} episodes, more than the {MAX_EPISODES:,} one run may "
            "hold: lower --episodes (or split the run)"
        )


def check_outputs(cfg: RunConfig) -> None:
    """Output paths that cannot be files: ``--out`` naming a file, ``--leaderboard`` a dir."""
    if cfg.leaderboard and Path(cfg.leaderboard).is_dir():
        raise BadInput(
            f"--leaderboard {cfg.leaderboard!r} is a directory: give a CSV file path "
            "(or '' to skip the cross-run leaderboard)"
        )
    if cfg.out and Path(cfg.out).exists() and not Path(cfg.out).is_dir():
        raise BadInput(f"--out {cfg.out!r} is a file: give a directory")
    if cfg.out:
        check_out_dir(cfg.out)
    if cfg.leaderboard:
        read_board(cfg.leaderboard)  # one of ours, every row readable


def env_fingerprints(
    cfg: RunConfig, make_env: Callable[[str], gym.Env[Any, Any]]
) -> dict[str, str]:
    """Fingerprint of each env (its own data/version hash plus the options it was made with)."""
    out = {}
    for env_id in cfg.envs:
        opts = cfg.env_options.get(env_id, {})
        try:
            env = make_env(env_id)
        except Exception as exc:  # bad options or missing data: one line, exit 2
            with_opts = f" with options {opts}" if opts else ""
            raise BadInput(f"env {env_id!r} cannot be made{with_opts}: {one_line(exc)}") from None
        try:
            own = getattr(env.unwrapped, "env_fingerprint", lambda: "none")()
        finally:
            env.close()
        out[env_id] = fingerprint(env_id, own, opts)
    return out
