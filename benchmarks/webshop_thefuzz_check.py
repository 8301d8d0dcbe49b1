"""Our ``fuzzy`` vs thefuzz 0.19.0 itself (the version WebShop ``master`` pins).

Usage (thefuzz 0.19.0 is not a project dependency; put it in a scratch folder)::

    pip install --no-deps --target /tmp/thefuzz019 thefuzz==0.19.0
    THEFUZZ_PATH=/tmp/thefuzz019 python benchmarks/webshop_thefuzz_check.py

Pairs: every option value, ``(name, value)`` pair and attribute of the generated catalog
(seed 0) against a few hand-picked awkward strings (underscores, hyphens, accents, ``™``,
apostrophes, empty), plus 200,000 random pairs of those values (``random.Random(0)``).
Prints how many pairs score differently.
"""

from __future__ import annotations

import os
import random
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs.webshop import reward as rw
from envs.webshop.synth import build_synthetic

AWKWARD: list[object] = [
    "x_large", "x-large", "machine_wash", "Café", "6.5", "", "  ", "a™b", ("size", "6"), "men's 9",
]  # fmt: skip


def main() -> None:
    """Print the number of pairs compared and how many differ."""
    sys.path.insert(0, os.environ.get("THEFUZZ_PATH", ""))
    warnings.simplefilter("ignore")  # thefuzz 0.19 warns that it uses difflib
    from thefuzz import fuzz  # type: ignore[import-not-found, import-untyped, unused-ignore]

    cat = build_synthetic(0)
    values: set[object] = set()
    for p in cat.products.values():
        values.update(p.attributes)
        for name, vs in p.options.items():
            values.update(vs)
            values.update((name, v) for v in vs)
    pool = [*sorted(values, key=str), *AWKWARD]
    rng = random.Random(0)
    pairs = [(a, b) for a in AWKWARD for b in pool]
    pairs += [(rng.choice(pool), rng.choice(pool)) for _ in range(200_000)]
    differ = sum(fuzz.token_set_ratio(a, b) != rw.fuzzy(a, b) for a, b in pairs)
    print(f"thefuzz 0.19.0 vs envs.webshop.reward.fuzzy: {len(pairs)} pairs, {differ} differ")


if __name__ == "__main__":
    main()
