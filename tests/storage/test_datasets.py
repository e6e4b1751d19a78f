"""SplitStore: corrupt files stay local, the LRU respects its budget, loads are shared."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import evalql.storage.datasets
from evalql.storage.catalog import Catalog
from evalql.storage.datasets import SplitData, SplitStore
from evalql.storage.errors import CorruptSplitError, StoreError
from evalql.storage.ingest import IngestOptions, ingest_table
from evalql.storage.model import SplitInfo
from tests.storage.conftest import predictions


def split(root: Path, name: str) -> SplitInfo:
    info = Catalog(root).split("m", "r", name)
    assert info is not None
    return info


@pytest.fixture
def three(root: Path) -> Path:
    """A store with three splits of the same size: a, b, c."""
    for name in "abc":
        ingest_table(root, predictions(), "m", "r", name)
    return root


def test_a_corrupt_file_fails_only_its_own_split(three: Path) -> None:
    (three / split(three, "a").path).write_bytes(b"not arrow at all")
    store = SplitStore(three)
    with pytest.raises(CorruptSplitError) as caught:
        store.load(split(three, "a"))
    assert "m/r/a" in str(caught.value) and split(three, "a").path in str(caught.value)
    assert store.load(split(three, "b")).n_rows == 4


def test_a_truncated_file_is_reported_as_corrupt(three: Path) -> None:
    path = three / split(three, "a").path
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptSplitError, match="m/r/a"):
        SplitStore(three).load(split(three, "a"))


def test_a_missing_file_is_reported_as_corrupt(three: Path) -> None:
    (three / split(three, "a").path).unlink()
    with pytest.raises(CorruptSplitError, match="m/r/a"):
        SplitStore(three).load(split(three, "a"))


def test_a_split_replaced_before_it_is_read_says_so(three: Path) -> None:
    stale = split(three, "a")
    ingest_table(three, predictions(), "m", "r", "a", IngestOptions(replace=True))
    with pytest.raises(StoreError, match="m/r/a was replaced") as caught:
        SplitStore(three).load(stale)
    assert not isinstance(caught.value, CorruptSplitError)


def test_label_codes_out_of_range_never_reach_the_engine(three: Path) -> None:
    info = split(three, "a")
    bad = pa.table({
        "__id": pa.array(["0", "1", "2", "3"]),
        "__actual": pa.array([0, 1, 2, 99], pa.int32()),
        "__predicted": pa.array([0, 0, 0, 0], pa.int32()),
        "__confidence": pa.array([1.0] * 4, pa.float32()),
    }).replace_schema_metadata({b"evalql.labels": json.dumps(["bird", "cat", "dog"])})
    with ipc.new_file(str(three / info.path), bad.schema) as writer:
        writer.write_table(bad)
    with pytest.raises(CorruptSplitError, match="out"):
        SplitStore(three).load(info)


def test_the_cache_returns_the_same_data_until_evicted(three: Path) -> None:
    store = SplitStore(three)
    first = store.load(split(three, "a"))
    assert store.load(split(three, "a")) is first


def test_the_least_recently_used_split_is_evicted_under_a_small_budget(three: Path) -> None:
    size = SplitStore(three).load(split(three, "a")).nbytes
    store = SplitStore(three, budget_bytes=2 * size)
    a = store.load(split(three, "a"))
    b = store.load(split(three, "b"))
    assert store.load(split(three, "a")) is a  # a is now the most recent
    store.load(split(three, "c"))  # evicts b
    assert store.cached_bytes <= 2 * size
    assert store.load(split(three, "a")) is a
    assert store.load(split(three, "b")) is not b


def test_a_split_larger_than_the_budget_is_still_served(three: Path) -> None:
    store = SplitStore(three, budget_bytes=1)
    assert store.load(split(three, "a")).n_rows == 4
    assert store.load(split(three, "b")).n_rows == 4


def test_a_replaced_split_drops_its_old_version_from_the_cache(three: Path) -> None:
    store = SplitStore(three)
    store.load(split(three, "a"))
    before = store.cached_bytes
    ingest_table(three, predictions(), "m", "r", "a", IngestOptions(replace=True))
    assert store.load(split(three, "a")).info.version == 2
    assert store.cached_bytes == before


def test_threads_asking_for_the_same_split_share_one_load(
    three: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    read = evalql.storage.datasets._read_split
    lock = threading.Lock()

    def slow_read(*args: object) -> SplitData:
        with lock:
            calls.append(args)
        time.sleep(0.05)  # long enough for every thread to arrive while loading
        return read(*args)

    monkeypatch.setattr(evalql.storage.datasets, "_read_split", slow_read)
    store = SplitStore(three)
    info = split(three, "a")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.load(info), range(8)))
    assert len(calls) == 1
    assert all(result is results[0] for result in results)


def test_a_failed_load_is_reported_to_every_waiting_thread_and_retried_later(
    three: Path,
) -> None:
    info = split(three, "a")
    path = three / info.path
    good = path.read_bytes()
    path.write_bytes(b"garbage")
    store = SplitStore(three)
    with pytest.raises(CorruptSplitError):
        store.load(info)
    path.write_bytes(good)
    assert store.load(info).n_rows == 4
