"""evalql ingest allocates Arrow memory from jemalloc (see api/cli.py
_reusing_allocator), unless ARROW_DEFAULT_MEMORY_POOL chooses; checked in a
child process, so this one keeps its pool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.api.conftest import small_table

PROGRAM = """
import sys
import pyarrow as pa
from evalql.api.cli import main
status = main(["ingest", sys.argv[1], "--model", "m", "--run", "r", "--split", "s",
               "--data", sys.argv[2]])
print(status, pa.default_memory_pool().backend_name)
"""


def pool_after_ingest(tmp_path: Path, **env: str) -> str:
    source = tmp_path / "preds.parquet"
    pq.write_table(small_table(), source)
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(source), str(tmp_path / "store")],
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"} | env,
    )
    assert done.returncode == 0, done.stderr
    status, pool = done.stdout.strip().splitlines()[-1].split()
    assert status == "0"
    return pool


def test_ingest_allocates_from_jemalloc(tmp_path: Path) -> None:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    assert pool_after_ingest(tmp_path) == "jemalloc"


def test_the_environment_chooses_when_it_names_a_pool(tmp_path: Path) -> None:
    assert pool_after_ingest(tmp_path, ARROW_DEFAULT_MEMORY_POOL="system") == "system"
