"""House rules that keep the library usable from Python: nothing prints outside a CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.foundation_helpers import ROOT

PACKAGES = ("envs", "agents", "harness", "qvalue")
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
