"""Q models behind the Scorer protocol: model cards, and loading a scorer from a spec.

A trained model dir holds safetensors weights and ``card.json`` (format, kind, pair-data hash,
envs, policy, hyperparameters, held-out pair accuracy). Loading reads only safetensors and
JSON: nothing is unpickled. Scorer specs: a name in ``SCORERS`` (installed packages add
scorers through the ``harness.scorers`` entry-point group: a factory with no required
arguments returning a Scorer); a model dir; ``bundled:NAME`` (a dir under
``scoring/q/artifacts``); ``auto`` / ``auto:KIND`` (the bundled ``<family>-<kind>`` model of
each state's env family, KIND ``encoder`` by default); or ``module:factory``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from envs.files import atomic_write
from envs.registry import Registry
from scoring.base import Scorer, State

CARD = "card.json"
CARD_FORMAT = "qharness-qmodel"
CARD_VERSION = 1
KINDS = ("encoder", "lm-dpo")
ARTIFACTS = Path(__file__).resolve().parent / "q" / "artifacts"

SCORERS: Registry[Any] = Registry("scorer", "harness.scorers")
"""Scorers by name: the model-free baselines and plug-ins; model dirs, ``bundled:NAME`` and
``module:factory`` need no entry."""
SCORERS.register("proposer-order", "scoring.baselines:ProposerOrder", "the proposer's own top")
SCORERS.register("finish-first", "scoring.baselines:FinishFirst", "a terminal candidate first")


AUTO = "auto"
BUNDLE_FAMILIES = ("keychest", "alfworld", "textworld", "webshop", "hotpotqa")
"""Env families with a bundle recipe (``python -m qvalue.bundle --family F``)."""


def how_to_get(family: str, kind: str) -> str:
    """What to do when ``family`` has no bundled ``kind`` model."""
    if family in BUNDLE_FAMILIES:
        return f"build it with python -m qvalue.bundle --family {family} --kind {kind}"
    return (
        f"train one for this family (python -m qvalue.pipeline, or qvalue.collect + pairs + "
        f"train --kind {kind}) and pass scorer=DIR"
    )


def bundled_name(family: str, kind: str) -> str:
    """The bundled model of an env family: ``<family>-<kind>`` under ``ARTIFACTS``."""
    return f"{family}-{kind}"


def bundled_models() -> list[str]:
    """Names of the bundled model dirs (those with a card)."""
    return sorted(p.parent.name for p in ARTIFACTS.glob(f"*/{CARD}"))


class AutoScorer:
    """``auto``: scores each state with the bundled model of its env's family
    (``envs.registration.env_family``), loaded on first use; the name says which model."""

    def __init__(self, kind: str = "encoder", device: str = "auto") -> None:
        if kind not in KINDS:
            raise ValueError(f"scorer auto:{kind}: the kind must be one of {', '.join(KINDS)}")
        self.kind, self.device = kind, device
        self._models: dict[str, Scorer] = {}
        self.name = f"q:{AUTO}-{kind}"

    def check_env(self, env_id: str) -> str:
        """The bundled model name for ``env_id``'s family; FileNotFoundError (saying how to
        build it) when none is bundled. Loads nothing."""
        from envs.registration import env_family

        family = env_family(env_id)
        name = bundled_name(family, self.kind)
        if not (ARTIFACTS / name / CARD).exists():
            raise FileNotFoundError(
                f"scorer auto: no bundled {self.kind} model for env family {family!r} "
                f"({env_id}); bundled: {', '.join(bundled_models()) or 'none'}; "
                f"{how_to_get(family, self.kind)}"
            )
        return name

    def model_for(self, env_id: str) -> Scorer:
        """The bundled model of ``env_id``'s family, loaded once."""
        name = self.check_env(env_id)
        if name not in self._models:
            self._models[name] = load_scorer(f"bundled:{name}", self.device, f"q:{name}")
        return self._models[name]

    def score(self, states: Sequence[State], actions: Sequence[Sequence[str]]) -> list[list[float]]:
        """Each state by its family's model (one batch per family, results in input order)."""
        out: list[list[float]] = [[] for _ in states]
        by_env: dict[str, list[int]] = {}
        for i, st in enumerate(states):
            by_env.setdefault(st.env_id, []).append(i)
        for env_id, idx in by_env.items():
            model = self.model_for(env_id)
            self.name = model.name
            scores = model.score([states[i] for i in idx], [actions[i] for i in idx])
            for i, sc in zip(idx, scores, strict=True):
                out[i] = sc
        return out


def write_card(out: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write ``card.json`` (format and version added) atomically; return it."""
    full = {"format": CARD_FORMAT, "format_version": CARD_VERSION, **card}
    atomic_write(out / CARD, json.dumps(full, indent=2, sort_keys=True))
    return full


def read_card(path: str | Path) -> dict[str, Any]:
    """The card of a model dir; a clear error when it is not one."""
    p = Path(path)
    if not (p / CARD).exists():
        raise FileNotFoundError(
            f"{str(p)!r} is not a Q model dir (no {CARD}): train one with python -m qvalue.train"
        )
    card = json.loads((p / CARD).read_text(encoding="utf-8"))
    if card.get("format") != CARD_FORMAT or card.get("kind") not in KINDS:
        raise ValueError(f"{p / CARD} is not a {CARD_FORMAT} card of kind {'/'.join(KINDS)}")
    return dict(card)


def resolve_path(spec: str) -> Path | None:
    """The model dir a spec names (a path or ``bundled:NAME``), or None for factory specs."""
    if spec.startswith("bundled:"):
        return ARTIFACTS / spec.split(":", 1)[1]
    if ":" in spec and not Path(spec).exists():
        return None
    return Path(spec)


_LOAD_LOCK = threading.Lock()


def _checked(scorer: Any, spec: str) -> Scorer:
    """``scorer`` if it has ``score()``, else a TypeError naming the factory."""
    if not callable(getattr(scorer, "score", None)):
        raise TypeError(f"scorer factory {spec!r} returned an object without score()")
    return scorer


def load_scorer(spec: str, device: str = "auto", name: str = "") -> Scorer:
    """A scorer from a model dir, ``bundled:NAME`` or ``module:factory`` (thread-safe: the
    first lazy import of transformers from two worker threads at once can fail)."""
    with _LOAD_LOCK:
        return _load_scorer(spec, device, name)


def _load_scorer(spec: str, device: str, name: str) -> Scorer:
    if not spec:
        raise ValueError(
            "no scorer given: pass a trained Q model dir (python -m qvalue.train), "
            "bundled:NAME, module:factory, or a named scorer (proposer-order, finish-first, "
            "harness.scorers plug-ins)"
        )
    if spec in SCORERS.entries():
        return _checked(SCORERS.get(spec)(), spec)
    if spec == AUTO or spec.startswith(AUTO + ":"):
        return AutoScorer(spec.partition(":")[2] or "encoder", device)
    path = resolve_path(spec)
    if path is None:
        from envs.registry import load_object

        return _checked(load_object(spec)(), spec)
    card = read_card(path)
    label = name or f"q:{path.name}"
    if card["kind"] == "encoder":
        from scoring.q import encoder
        from scoring.q.lm import pick_device

        return encoder.load(path, card, device=pick_device(device), name=label)
    from scoring.q import lm

    return lm.load(path, card, device=device, name=label)
