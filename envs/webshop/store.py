"""On-disk cache of the generated WebShop catalog and its BM25 index (rebuilt when stale).

The key hashes the generator's arguments, the source of the modules that shape the catalog
and the index, and the versions of ``bm25s`` and ``PyStemmer``; a cache that cannot be read
is rebuilt. Root: ``envs.cache.cache_dir("webshop")`` (``$QHARNESS_CACHE`` moves it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from envs.base import fingerprint, package_version
from envs.cache import cache_dir
from envs.webshop.catalog import Catalog
from envs.webshop.search import ProductSearch

_SHAPING_MODULES = ("catalog.py", "synth.py", "vocab.py", "search.py", "reward.py", "store.py")


def _source_hash() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in _SHAPING_MODULES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def cache_key(seed: int, n_products: int) -> str:
    """The cache file stem for a generated catalog."""
    versions = [package_version(p) for p in ("bm25s", "pystemmer", "numpy")]
    return f"synth-{fingerprint(seed, n_products, _source_hash(), versions)}"


def index_catalog(catalog: Catalog) -> ProductSearch:
    """A BM25 index over the catalog's products."""
    asins = list(catalog.products)
    return ProductSearch(asins, [catalog.products[a].search_text() for a in asins])


def load_or_build(
    seed: int, n_products: int, use_cache: bool = True
) -> tuple[Catalog, ProductSearch]:
    """The generated catalog and its index, from the cache when a fresh one is there."""
    from envs.webshop.synth import build_synthetic

    if not use_cache:
        catalog = build_synthetic(seed, n_products)
        return catalog, index_catalog(catalog)
    path = cache_dir("webshop") / f"{cache_key(seed, n_products)}.pkl"
    if path.is_file():
        with contextlib.suppress(Exception), path.open("rb") as f:
            catalog, index = pickle.load(f)
            if isinstance(catalog, Catalog) and isinstance(index, ProductSearch):
                return catalog, index
    catalog = build_synthetic(seed, n_products)
    index = index_catalog(catalog)
    _write(path, (catalog, index))
    return catalog, index


def _write(path: Path, obj: object) -> None:
    """Write ``obj`` to ``path`` atomically; a failed write leaves no file behind."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
