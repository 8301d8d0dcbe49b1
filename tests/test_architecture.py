"""House rules: layers import only downward, and nothing prints outside a CLI."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.foundation_helpers import ROOT

PACKAGES = ("envs", "agents", "scoring", "harness", "qvalue")
LAYERS = {name: rank for rank, name in enumerate(PACKAGES)}
"""Bottom to top: envs <- agents <- scoring <- harness <- qvalue (the Q commands)."""
CLI_MODULES = {"harness/run.py"}  # the thin shell over harness.api: printing is its job


def _prints_outside_main(path: Path) -> list[str]:
    """``function:line`` of each ``print(...)`` not inside a function named ``main``."""
    found: list[str] = []

    def walk(node: ast.AST, fn: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            name = fn
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = fn or child.name  # the outermost function decides
            is_print = isinstance(child, ast.Call) and getattr(child.func, "id", None) == "print"
            if is_print and name != "main":
                found.append(f"{name or '<module>'}:{child.lineno}")
            walk(child, name)

    walk(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_library_function_prints(package: str) -> None:
    """Library code reports through return values, exceptions and the ``qharness`` logger;
    only CLI ``main`` functions (and the CLI module itself) print."""
    offenders = {
        str(p.relative_to(ROOT)): hits
        for p in sorted((ROOT / package).rglob("*.py"))
        if str(p.relative_to(ROOT)) not in CLI_MODULES and (hits := _prints_outside_main(p))
    }
    assert not offenders, offenders


def test_the_print_finder_finds_prints(tmp_path: Path) -> None:
    """The control: a print in a helper is found, one in ``main`` is allowed."""
    src = tmp_path / "m.py"
    src.write_text("def helper():\n    print('x')\n\ndef main():\n    print('ok')\n")
    assert _prints_outside_main(src) == ["helper:2"]


LAZY_TARGET = re.compile(r"^([a-z_]+)(\.[a-z_]\w*)*:[A-Za-z_][\w.]*$")
"""A ``package.module:attr`` string: what registries load lazily (an import in disguise)."""


def _imported_packages(path: Path) -> list[tuple[str, int]]:
    """``(top-level package, line)`` of every absolute import in ``path`` (lazy ones too) and
    of every ``package.module:attr`` string naming one of the layers."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name.split(".")[0], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module.split(".")[0], node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            hit = LAZY_TARGET.match(node.value)
            if hit and hit.group(1) in LAYERS:
                found.append((hit.group(1), node.lineno))
    return found


def _upward_imports(package: str, root: Path = ROOT) -> list[str]:
    """``file:line -> package`` for each import of a layer above ``package``."""
    rank = LAYERS[package]
    return [
        f"{p.relative_to(root)}:{line} -> {top}"
        for p in sorted((root / package).rglob("*.py"))
        for top, line in _imported_packages(p)
        if LAYERS.get(top, -1) > rank
    ]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_from_a_layer_above_it(package: str) -> None:
    """envs <- agents <- scoring <- harness <- qvalue: each imports only from itself and below
    (at module level or inside a function)."""
    assert not _upward_imports(package)


def test_the_layer_check_finds_an_upward_import(tmp_path: Path) -> None:
    """The control: a lazy import of harness inside agents is found; one of envs is not."""
    pkg = tmp_path / "agents"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        "import envs.base\n\ndef f():\n    from harness import api\n\n"
        'R = ("scoring.rerank:make", "envs.toy:Env", "not a target")\n'
    )
    assert _upward_imports("agents", tmp_path) == [
        "agents/m.py:4 -> harness",
        "agents/m.py:6 -> scoring",
    ]
