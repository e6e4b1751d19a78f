"""A full disk stops writes with one line and never stops reads.

The tests mount a small tmpfs and fill it, so they need root and a working
``mount``; elsewhere they skip with one line saying so.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from evalql.api.app import create_app
from evalql.storage.catalog import Catalog
from evalql.storage.datasets import SplitStore
from evalql.storage.errors import io_reason
from evalql.storage.health import store_health
from evalql.storage.ingest import ingest_table
from tests.storage.conftest import predictions, snapshot

DISK_BYTES = 8 << 20
NO_SPACE = os.strerror(errno.ENOSPC)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """An empty 8 MiB file system of its own, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("disk-full tests need root to mount a small tmpfs; skipped")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount_point)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        reason = " ".join(mounted.stderr.split()) or f"exit {mounted.returncode}"
        pytest.skip(f"disk-full tests cannot mount a tmpfs here ({reason}); skipped")
    try:
        yield mount_point
    finally:
        # Lazy: a split still memory-mapped by this process keeps it busy.
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Write a file until at most ``leave`` bytes are free on ``disk``."""
    filler = disk / "filler"
    with open(filler, "wb") as file:
        for chunk in (1 << 20, 4096, 1):
            try:
                while free(disk) - chunk >= leave:
                    file.write(b"\0" * chunk)
                    file.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC
    return filler


def free(disk: Path) -> int:
    stats = os.statvfs(disk)
    return stats.f_bavail * stats.f_frsize


def many_rows(path: Path, rows: int = 200_000) -> Path:
    rng = np.random.default_rng(0)
    labels = np.array(["cat", "dog", "bird"])
    pq.write_table(pa.table({
        "id": pa.array(np.arange(rows)),
        "actual": pa.array(labels[rng.integers(0, 3, rows)]),
        "predicted": pa.array(labels[rng.integers(0, 3, rows)]),
        "confidence": pa.array(rng.random(rows)),
        "note": pa.array([f"row {i}" for i in range(rows)]),
    }), path)
    return path


def test_every_read_works_on_a_full_disk(disk: Path) -> None:
    root = disk / "store"
    ingest_table(root, predictions(), "m", "r", "s")
    ingest_table(root, predictions(), "m", "r", "s2")
    open_before = Catalog(root, create=False)
    assert open_before.split("m", "r", "s") is not None
    fill(disk)
    assert free(disk) == 0

    for catalog in (open_before, Catalog(root, create=False)):  # one open before, one after
        assert [m.name for m in catalog.models()] == ["m"]
        assert [s.name for s in catalog.splits("m", "r")] == ["s", "s2"]
        assert SplitStore(root).load(catalog.split("m", "r", "s2")).n_rows == 4
    listed = subprocess.run([sys.executable, "-m", "evalql.api.cli", "models", "--data", str(root)],
                            capture_output=True, text=True)
    assert (listed.returncode, listed.stderr) == (0, "")
    assert listed.stdout.splitlines()[1:] == ["  r/s  4 rows", "  r/s2  4 rows"]
    with TestClient(create_app(root)) as client:
        query = '{ model(name: "m") { run(name: "r") { split(name: "s") { metrics { total } } } } }'
        answer = client.post("/graphql", json={"query": query}).json()
    assert answer == {"data": {"model": {"run": {"split": {"metrics": {"total": 4}}}}}}
    assert store_health(root) == (False, f"cannot write the store at {root.resolve()}: {NO_SPACE}")


@pytest.mark.parametrize("leave", [0, 256 << 10], ids=["full", "filled by the ingest"])
def test_an_ingest_on_a_full_disk_fails_with_one_line_and_leaves_the_store_as_it_was(
    disk: Path, tmp_path: Path, leave: int
) -> None:
    root = disk / "store"
    ingest_table(root, predictions(), "m", "r", "s")
    big = many_rows(tmp_path / "big.parquet")  # on another disk
    filler = fill(disk, leave)
    before = snapshot(root)

    command = [sys.executable, "-m", "evalql.api.cli", "ingest", str(big), "--model", "m",
               "--run", "r", "--split", "big", "--data", str(root)]
    failed = subprocess.run(command, capture_output=True, text=True)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == f"evalql ingest: cannot write the store at {root.resolve()}: {NO_SPACE}\n"
    assert snapshot(root) == before

    filler.unlink()  # space again: the same command now lands
    assert subprocess.run(command, capture_output=True, text=True).returncode == 0
    assert Catalog(root, create=False).split("m", "r", "big").row_count == 200_000


def test_a_full_disk_reported_by_sqlite_reads_as_the_system_says_it() -> None:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = 13  # SQLITE_FULL
    assert io_reason(error) == NO_SPACE
    assert io_reason(OSError(errno.ENOSPC, NO_SPACE, "/s/tmp/x.arrow")) == NO_SPACE
