"""Crash tests: an ingest killed (SIGKILL) while it validates, writes or commits
leaves a store that opens, lists no partial split, loses its orphans at the
next write, and takes a retry; eight concurrent ingests all land.

The kill is deterministic: EVALQL_TEST_PAUSE=<stage> (a test-only hook in
storage/ingest.py) makes the ingest say "paused at <stage>" and sleep there.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evalql.storage.catalog import Catalog
from evalql.storage.datasets import SplitStore
from evalql.storage.ingest import PAUSE_VARIABLE
from tests.storage.conftest import predictions, write

pytestmark = pytest.mark.slow

BIG_ROWS = 1_000_000
LABELS = np.array([f"label{i}" for i in range(20)])
TIMEOUT = 180.0


def generated(path: Path, rows: int, seed: int = 0) -> Path:
    """A Parquet file of ``rows`` predictions with a metadata column."""
    rng = np.random.default_rng(seed)
    table = pa.table({
        "id": pa.array(np.arange(rows)),
        "actual": pa.array(LABELS[rng.integers(0, len(LABELS), rows)]),
        "predicted": pa.array(LABELS[rng.integers(0, len(LABELS), rows)]),
        "confidence": pa.array(rng.random(rows, dtype=np.float32)),
        "region": pa.array(np.array(["eu", "us", "apac"])[rng.integers(0, 3, rows)]),
    })
    pq.write_table(table, path)
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated(tmp_path_factory.mktemp("inputs") / "big.parquet", BIG_ROWS)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with one split already in it, which no crash may disturb."""
    root = tmp_path / "store"
    assert evalql("ingest", str(write(predictions(), tmp_path / "small.parquet")),
                  "--model", "m", "--run", "r", "--split", "base", "--data", str(root))[0] == 0
    return root


def evalql(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    done = subprocess.run(command(args), capture_output=True, text=True, timeout=TIMEOUT,
                          env=env or os.environ.copy())
    return done.returncode, done.stdout, done.stderr


def command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "evalql.api.cli", *args]


def ingest_args(path: Path, root: Path, split: str) -> list[str]:
    return ["ingest", str(path), "--model", "m", "--run", "r", "--split", split,
            "--data", str(root)]


def kill_when_paused(args: Sequence[str], stage: str) -> None:
    """Run ``evalql args`` until it pauses at ``stage``, then SIGKILL it."""
    env = os.environ | {PAUSE_VARIABLE: stage}
    with subprocess.Popen(command(args), env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            said = _read_line(process, TIMEOUT)
            assert said == f"{PAUSE_VARIABLE}: paused at {stage}\n", said
        finally:
            process.kill()  # SIGKILL: no cleanup of any kind runs
            process.wait()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=1.0):
            return process.stderr.readline()
    return "<nothing within the timeout>"


def stray_files(root: Path) -> list[str]:
    """Files in tmp/ and splits/ that the catalog does not list."""
    listed = Catalog(root, create=False).paths()
    found = [p.relative_to(root).as_posix() for d in ("tmp", "splits") for p in (root / d).iterdir()]
    return sorted(path for path in found if path not in listed)


@pytest.mark.parametrize("stage", ["validate", "write", "commit"])
def test_an_ingest_killed_at_any_stage_leaves_a_store_that_opens_and_takes_a_retry(
    store: Path, big: Path, stage: str
) -> None:
    kill_when_paused(ingest_args(big, store, "big"), stage)

    catalog = Catalog(store, create=False)  # the store opens...
    assert [s.name for s in catalog.splits("m", "r")] == ["base"]  # ...with no partial split
    assert SplitStore(store).load(catalog.split("m", "r", "base")).n_rows == 4
    catalog.close()
    if stage != "validate":
        assert stray_files(store) != []  # the killed ingest's files, until the next write

    status, out, err = evalql(*ingest_args(big, store, "big"))  # the retry: a write command
    assert (status, err) == (0, "")
    assert out.startswith(f"ingested {BIG_ROWS:,} rows into m/r/big")
    assert stray_files(store) == []
    catalog = Catalog(store, create=False)
    assert [s.name for s in catalog.splits("m", "r")] == ["base", "big"]
    assert SplitStore(store).load(catalog.split("m", "r", "big")).n_rows == BIG_ROWS
    assert evalql("check", "--data", str(store))[0] == 0


def test_orphans_of_a_killed_ingest_are_removed_by_check_repair_too(
    store: Path, big: Path
) -> None:
    kill_when_paused(ingest_args(big, store, "big"), "commit")
    orphans = stray_files(store)
    status, out, _ = evalql("check", "--data", str(store))
    assert status == 1 and all(f"orphan {path}" in out for path in orphans)
    status, out, _ = evalql("check", "--repair", "--data", str(store))
    assert status == 0 and all(f"removed orphan {path}" in out for path in orphans)
    assert stray_files(store) == []


def test_a_crash_never_disturbs_an_ingest_running_beside_it(store: Path, big: Path) -> None:
    env = os.environ | {PAUSE_VARIABLE: "write"}
    with subprocess.Popen(command(ingest_args(big, store, "slow")), env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as live:
        try:
            assert _read_line(live, TIMEOUT).endswith("paused at write\n")
            staged = stray_files(store)
            # Another write command, while the paused ingest holds its files.
            status, _, err = evalql(*ingest_args(big, store, "other"))
            assert (status, err) == (0, "")
            assert all((store / path).exists() for path in staged)
        finally:
            live.kill()
            live.wait()


def test_eight_concurrent_ingest_processes_into_one_new_store_all_land(tmp_path: Path) -> None:
    root = tmp_path / "store"
    files = [generated(tmp_path / f"part{i}.parquet", 100_000, seed=i) for i in range(8)]
    processes = [
        subprocess.Popen(command(ingest_args(path, root, f"part{i}")), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for i, path in enumerate(files)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=TIMEOUT)
        results.append((process.returncode, err))
    assert results == [(0, "")] * 8
    catalog = Catalog(root, create=False)
    assert [s.name for s in catalog.splits("m", "r")] == [f"part{i}" for i in range(8)]
    store = SplitStore(root)
    assert all(store.load(s).n_rows == 100_000 for s in catalog.splits("m", "r"))
    assert stray_files(root) == [] and os.listdir(root / "tmp") == []
    assert evalql("check", "--data", str(root))[0] == 0
