"""The harness's on-disk cache (generated games, task sets, model files).

Root: ``$QHARNESS_CACHE`` if set, else ``$XDG_CACHE_HOME/qharness``, else ``~/.cache/qharness``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache root directory (not created)."""
    if os.environ.get("QHARNESS_CACHE"):
        return Path(os.environ["QHARNESS_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "qharness"


def cache_dir(*parts: str, root: str | os.PathLike[str] | None = None) -> Path:
    """``<root or cache_root()>/<parts...>``, created if missing."""
    path = Path(root).expanduser() if root else cache_root()
    path = path.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
