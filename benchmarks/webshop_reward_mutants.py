"""Mutation check of ``envs/webshop/reward.py``: ``python benchmarks/webshop_reward_mutants.py``.

Makes one mutant per change point (comparison flipped or made inclusive, ``and``/``or``
swapped, ``not`` dropped, ``+``/``-`` and ``*``/``/`` swapped, ``any``/``all`` swapped, a
number moved by one step, a non-docstring string replaced), runs the reward tests against each
mutant in a scratch copy of the repository, and prints how many the tests kill (a test
failed or errored) and which survive. Nothing in the working tree is changed.
"""

from __future__ import annotations

import ast
import copy
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path("envs/webshop/reward.py")
TESTS = ["tests/test_webshop_reward.py", "tests/test_webshop_reward_master.py"]
FLIP = {
    ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
}  # fmt: skip
BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}


def _docstrings(tree: ast.Module) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        value = first.value if isinstance(first, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            out.add(id(value))
    return out


def _points(tree: ast.Module) -> Iterator[tuple[ast.AST, str, object]]:
    """(node, what, replacement payload) for every change point."""
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in FLIP:
                    yield node, f"{type(op).__name__}->{FLIP[type(op)].__name__}", i
        elif isinstance(node, ast.BoolOp):
            yield node, "and<->or", None
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "drop not", None
        elif isinstance(node, ast.BinOp) and type(node.op) in BINOP:
            yield node, f"{type(node.op).__name__}->{BINOP[type(node.op)].__name__}", None
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("any", "all"):
            yield node, "any<->all", None
        elif isinstance(node, ast.Constant) and id(node) not in docs:
            v = node.value
            if isinstance(v, bool) or v is None:
                continue
            if isinstance(v, int | float):
                step = 1 if isinstance(v, int) else 0.1
                yield node, f"{v!r}+{step}", v + step
                yield node, f"{v!r}-{step}", v - step
            elif isinstance(v, str) and v:
                yield node, f"{v[:20]!r}->'XX'", "XX"


def mutants(source: str) -> Iterator[tuple[str, str]]:
    """(label, mutated source) for each change point of ``source``."""
    tree = ast.parse(source)
    n_points = len(list(_points(tree)))
    for k in range(n_points):
        mutated = copy.deepcopy(tree)
        node, what, payload = list(_points(mutated))[k]
        if isinstance(node, ast.Compare):
            assert isinstance(payload, int)
            node.ops[payload] = FLIP[type(node.ops[payload])]()
        elif isinstance(node, ast.BoolOp):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif isinstance(node, ast.UnaryOp):
            node.op = ast.UAdd()  # +x: truthiness kept, negation gone
            node.operand = ast.Call(ast.Name("bool", ast.Load()), [node.operand], [])
        elif isinstance(node, ast.BinOp):
            node.op = BINOP[type(node.op)]()
        elif isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            node.func.id = "all" if node.func.id == "any" else "any"
        elif isinstance(node, ast.Constant):
            node.value = payload
        line = getattr(node, "lineno", 0)
        yield f"line {line}: {what}", ast.unparse(ast.fix_missing_locations(mutated))


def run(scratch: Path) -> bool:
    """True when the tests fail (the mutant is killed)."""
    env = {**os.environ, "PYTHONPATH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS]
    try:
        done = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        return True
    return done.returncode != 0


def main() -> None:
    """Run every mutant; print the kill count and the survivors."""
    source = (ROOT / TARGET).read_text()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "repo"
        ignore = shutil.ignore_patterns(".git", ".venv", "results", "__pycache__", ".hypothesis")
        shutil.copytree(ROOT, scratch, ignore=ignore)
        if not run(scratch):
            print("baseline: tests pass on the unmutated module")
        else:
            sys.exit("the tests fail on the unmutated module: fix that first")
        killed, survived = 0, []
        for label, text in mutants(source):
            (scratch / TARGET).write_text(text)
            if run(scratch):
                killed += 1
            else:
                survived.append(label)
            print(f"{'killed ' if not survived or survived[-1] != label else 'SURVIVED'} {label}")
        total = killed + len(survived)
        print(f"\n{killed} of {total} mutants killed; {len(survived)} survived:")
        for label in survived:
            print(f"  {label}")


if __name__ == "__main__":
    main()
