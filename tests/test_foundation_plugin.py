"""Plug-in agents: an installed package adds one through the ``harness.agents`` entry-point
group and runs by name; ``module.path:factory`` specs work on the command line."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.foundation_helpers import ROOT, run_cli

PLUGIN_SRC = ROOT / "tests" / "plugin_pkg"
FACTORY = "tests.foundation_helpers:slow_agent"


def _pip_install(target: Path, what: Path, *flags: str) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    cmd += [*flags, "--target", str(target), str(what)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def build_wheel_by_hand(src: Path, dest: Path) -> Path:
    """A py3-none-any wheel of the plug-in, zipped from its pyproject.toml (no build backend).

    Used where the venv has no setuptools for ``--no-build-isolation`` (Python >= 3.12 venvs
    ship none) and build isolation cannot fetch one (offline)."""
    project = tomllib.loads((src / "pyproject.toml").read_text())["project"]
    name, version = project["name"].replace("-", "_"), project["version"]
    info = f"{name}-{version}.dist-info"
    eps = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items())
        for group, entries in project["entry-points"].items()
    )
    files = {
        "tiny_plugin.py": (src / "tiny_plugin.py").read_bytes(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {project['name']}\n"
        f"Version: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: qharness-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": eps.encode(),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


def install_plugin(tmp: Path, by_hand: bool = False) -> Path:
    """Install tests/plugin_pkg into ``tmp/site`` offline; return that directory."""
    src, site = tmp / "plugin_src", tmp / "site"
    shutil.copytree(PLUGIN_SRC, src)  # a build writes build/ and *.egg-info next to the source
    if by_hand or importlib.util.find_spec("setuptools") is None:
        _pip_install(site, build_wheel_by_hand(src, tmp))
    else:
        _pip_install(site, src, "--no-build-isolation")
    assert (site / "tiny_plugin.py").exists()
    return site


def _pythonpath(site: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def _board(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as fh:
        return {row["agent"]: row for row in csv.DictReader(fh)}


def test_plugin_by_entry_point_and_factory_spec(tmp_path: Path) -> None:
    site = install_plugin(tmp_path)
    env = _pythonpath(site)
    listing = run_cli("--list", env=env)
    assert listing.returncode == 0
    assert "tiny-plugin" in listing.stdout and "plug-in from tiny-plugin" in listing.stdout

    out, board = tmp_path / "run", tmp_path / "board.csv"
    proc = run_cli(
        *("--envs", "harness/KeyChest-v0", "--agents", "tiny-plugin", FACTORY),
        *("--episodes", "3", "--max-steps", "10", "--out", out, "--leaderboard", board),
        *("--agent-opt", f"{FACTORY}.delay_s=0"),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    rows = _board(out / "leaderboard.csv")
    assert set(rows) == {"tiny-plugin", FACTORY}
    for row in rows.values():
        assert row["episodes"] == "3" and row["errors"] == "0"
    assert set(_board(board)) == {"tiny-plugin", FACTORY}
    traj = (out / "trajectories").glob("harness_KeyChest-v0__tiny-plugin__*.jsonl")
    assert len(list(traj)) == 3
    assert (
        '"thought": "tiny plug-in"'
        in next((out / "trajectories").glob("*tiny-plugin__0.jsonl")).read_text()
    )


def test_plugin_name_unknown_without_the_install(tmp_path: Path) -> None:
    """The control: without the installed package the name does not resolve (exit 2)."""
    out = tmp_path / "run"
    proc = run_cli(
        *("--agents", "tiny-plugin", "--envs", "harness/KeyChest-v0", "--out", out),
        *("--leaderboard", ""),
    )
    assert proc.returncode == 2
    assert "unknown agent 'tiny-plugin'" in proc.stderr and not out.exists()


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None, reason="the by-hand wheel is the main path"
)
def test_hand_built_wheel_fallback_installs(tmp_path: Path) -> None:
    """The fallback install (no build backend) gives the same entry point."""
    site = install_plugin(tmp_path, by_hand=True)
    listing = run_cli("--list", env=_pythonpath(site))
    assert listing.returncode == 0 and "plug-in from tiny-plugin" in listing.stdout


def test_plugin_env_through_the_cli_by_entry_point_and_by_module_id(tmp_path: Path) -> None:
    """The installed env runs by its id and passes --check-env; the same env from its source
    dir (not installed: no entry point) runs in Gymnasium's ``module:id`` form."""
    site = install_plugin(tmp_path)
    env = _pythonpath(site)
    listing = run_cli("--list", env=env)
    assert "tiny/Echo-v0" in listing.stdout and "plug-in from tiny-plugin" in listing.stdout
    checked = run_cli("--check-env", "tiny/Echo-v0", env=env)
    assert checked.returncode == 0 and "passes the text-env contract" in checked.stdout
    out = tmp_path / "run"
    proc = run_cli(
        *("--envs", "tiny/Echo-v0", "--agents", "tiny-plugin", "--episodes", "3"),
        *("--out", out, "--leaderboard", ""),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert _board(out / "leaderboard.csv")["tiny-plugin"]["episodes"] == "3"
    scored = tmp_path / "scored"  # the installed scorer, by its entry-point name
    proc = run_cli(
        *("--envs", "tiny/Echo-v0", "--agents", "admissible-q", "--episodes", "3"),
        *("--agent-opt", "admissible-q.scorer=tiny-shortest", "--agent-opt", "admissible-q.k=3"),
        *("--out", scored, "--leaderboard", ""),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    steps = [json.loads(x) for x in next((scored / "trajectories").glob("*__0.jsonl")).open()]
    # shortest first: "pear" and "plum" (4 letters) beat "apple"; the scores are the plug-in's
    assert steps[0]["action"] in ("pear", "plum") and steps[0]["candidates"]

    source = {"PYTHONPATH": os.pathsep.join([str(PLUGIN_SRC), str(ROOT)])}
    module_id = "tiny_plugin:tiny/Echo-v0"
    assert "tiny/Echo-v0" not in run_cli("--list", env=source).stdout  # no entry point here
    checked = run_cli("--check-env", module_id, env=source)
    assert checked.returncode == 0, checked.stderr
    out2 = tmp_path / "run2"
    proc = run_cli(
        *("--envs", module_id, "--agents", "tiny_plugin:make_agent", "--episodes", "2"),
        *("--out", out2, "--leaderboard", ""),
        env=source,
    )
    assert proc.returncode == 0, proc.stderr
    assert _board(out2 / "leaderboard.csv")["tiny_plugin:make_agent"]["env_id"] == module_id
