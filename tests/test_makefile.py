"""The Makefile as a new user runs it: serve's variables, and a clean that keeps data."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def evalql_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(".venv/bin/evalql ")]


def test_make_serve_passes_port_and_data_to_demo_and_serve() -> None:
    done = make("-n", "serve", "PORT=8001", "DATA=/tmp/my store")
    assert done.returncode == 0, done.stderr
    assert evalql_lines(done.stdout) == [
        '.venv/bin/evalql demo --if-empty --data "/tmp/my store"',
        '.venv/bin/evalql serve --host "127.0.0.1" --port "8001" --data "/tmp/my store"',
    ]


def test_make_serve_defaults_to_port_8000_and_evalql_data_ignoring_port_in_the_environment() -> None:
    # PORT and HOST in the environment are someone else's: only the command line counts.
    env = {k: v for k, v in os.environ.items() if k != "EVALQL_DATA"} | {"PORT": "5000", "HOST": "x"}
    done = subprocess.run(
        ["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )
    assert evalql_lines(done.stdout) == [
        '.venv/bin/evalql demo --if-empty --data "evalql-data"',
        '.venv/bin/evalql serve --host "127.0.0.1" --port "8000" --data "evalql-data"',
    ]


def test_make_clean_removes_the_venv_and_caches_but_keeps_every_store(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    removed = [
        ".venv/bin/python", ".pytest_cache/v/x", ".hypothesis/examples/x", ".ruff_cache/x",
        "build/lib/x.py", "evalql.egg-info/PKG-INFO", "api/__pycache__/cli.cpython-311.pyc",
        "engine/__pycache__/confusion.nbi",
    ]
    kept = ["evalql-data/catalog.sqlite", "evalql-data/splits/a.arrow", "my-store/catalog.sqlite",
            "api/cli.py", "engine/confusion.py"]
    for name in removed + kept:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    done = make("clean", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted([*kept, "Makefile"])
    assert not (tmp_path / ".venv").exists() and not (tmp_path / "api" / "__pycache__").exists()


def test_make_serve_takes_the_store_from_evalql_data_when_data_is_not_given() -> None:
    env = os.environ | {"EVALQL_DATA": "/srv/evalql"}
    done = subprocess.run(
        ["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )
    assert evalql_lines(done.stdout)[0] == '.venv/bin/evalql demo --if-empty --data "/srv/evalql"'
