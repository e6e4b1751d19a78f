"""One memory budget: loaded splits and everything derived from them (masks,
indexes, id ranks, joins), least recently used first across splits; and
bounded background builds (one per key, at most a few queued, skipped once
evicted)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from evalql.api import split_cache
from evalql.api.app import create_app
from evalql.api.settings import ServeSettings, parse_memory
from evalql.engine.confusion import as_threshold
from evalql.storage.datasets import SplitStore, default_budget, physical_memory
from evalql.storage.filters import Condition
from evalql.storage.ingest import IngestOptions, ingest_table

N = 4000
LABELS = ("a", "b", "c")


def _table(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": [f"r{i}" for i in range(N)],
        "actual": pa.array(rng.choice(LABELS, N)),
        "predicted": pa.array(rng.choice(LABELS, N)),
        "confidence": pa.array(rng.random(N)),
        "length": pa.array(rng.integers(0, 1000, N), pa.int64()),
    })


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ingest_table(tmp_path, _table(1), "m", "r", "s1", IngestOptions(), source="t")
    ingest_table(tmp_path, _table(2), "m", "r", "s2", IngestOptions(), source="t")
    return tmp_path


def _longer(i: int) -> tuple[Condition, ...]:
    return (Condition("length", gte=float(i)),)


def _split_bytes(root: Path) -> int:
    store = SplitStore(root)
    return store.load(store.catalog.split("m", "r", "s1")).nbytes


def test_many_filters_keep_the_cache_within_a_tiny_budget(root: Path, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "index")
    budget = _split_bytes(root) + 150_000  # the split and a few masks and indexes
    store = SplitStore(root, budget)
    split = store.catalog.split("m", "r", "s1")
    for i in range(40):
        data = store.load(split)
        assert split_cache.threshold_index(data, _longer(i)) is not None
        split_cache.mask(data, _longer(i))
        assert store.cached_bytes <= budget
    kinds = store.cached_bytes_by_kind()
    assert kinds["splits"] > 0 and kinds["masks"] > 0 and kinds["indexes"] > 0
    assert 0 < len(split_cache._filter_cache(data)._entries) < 40
    assert sum(kinds.values()) == store.cached_bytes <= budget


def test_derived_structures_count_and_go_with_their_split(root: Path, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "index")
    store = SplitStore(root, 1 << 30)
    data = store.load(store.catalog.split("m", "r", "s1"))
    before = store.cached_bytes
    index = split_cache.threshold_index(data)
    assert index is not None
    split_cache.mask(data, _longer(10))
    data.memo("id-rank", lambda: np.zeros(N, np.int32))
    kinds = store.cached_bytes_by_kind()
    bitset = -(-N // 64) * 8  # a kept mask is a bitset, 1 bit a row in 64-bit words
    assert kinds["indexes"] >= index.nbytes and kinds["masks"] == bitset
    assert kinds["id_ranks"] == 4 * N
    assert store.cached_bytes == before + kinds["indexes"] + bitset + 4 * N


def test_eviction_is_least_recently_used_across_splits(root: Path, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "index")
    size = _split_bytes(root)
    store = SplitStore(root, 2 * size + 2 * N)
    s1, s2 = store.catalog.split("m", "r", "s1"), store.catalog.split("m", "r", "s2")
    a = store.load(s1)
    split_cache.mask(a, _longer(1))
    b = store.load(s2)
    split_cache.mask(b, _longer(1))
    assert store.load(s1) is a  # s1 is now the most recent
    # s1's derived bytes grow past the budget: s2, the least recent, goes whole
    data = store.load(s1)
    assert split_cache.threshold_index(data, _longer(2)) is not None
    assert store.cached_bytes <= 2 * size + 2 * N
    assert store.load(s1) is a
    assert store.load(s2) is not b
    assert b._memo == {}  # its derived structures went with it


def _blocked() -> threading.Event:
    """Occupies the background thread until the event is set."""
    gate = threading.Event()
    split_cache._executor.submit(gate.wait)
    return gate


def test_background_builds_are_deduplicated_and_the_queue_is_bounded(
    root: Path, monkeypatch
) -> None:
    monkeypatch.setattr(split_cache, "MODE", "auto")
    store = SplitStore(root, 1 << 30)
    data = store.load(store.catalog.split("m", "r", "s1"))
    gate = _blocked()
    try:
        assert split_cache.threshold_index(data, _longer(0)) is None
        assert sum(split_cache.queue_lengths().values()) == 0  # asked once: no build
        for _ in range(3):  # three more requests for one filter queue one build
            assert split_cache.threshold_index(data, _longer(0)) is None
        assert sum(split_cache.queue_lengths().values()) == 1
        for i in range(1, 20):  # beyond MAX_QUEUED the query scans, nothing queued
            for _ in range(2):
                assert split_cache.threshold_index(data, _longer(i)) is None
        assert sum(split_cache.queue_lengths().values()) == split_cache.MAX_QUEUED
        # answers are still right while the index waits: the scan
        [counts] = split_cache.confusion_at(data, _longer(500), [as_threshold(0.5)])
        assert counts.sum() == split_cache.mask(data, _longer(500)).sum()
    finally:
        gate.set()
    split_cache._executor.submit(lambda: None).result()  # the queue drains
    assert sum(split_cache.queue_lengths().values()) == 0


def test_a_queued_build_of_an_evicted_filter_is_skipped(root: Path, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "auto")
    store = SplitStore(root, 1 << 30)
    data = store.load(store.catalog.split("m", "r", "s1"))
    built: list[int] = []
    real = split_cache._index_rows
    monkeypatch.setattr(split_cache, "_index_rows",
                        lambda *args: built.append(1) or real(*args))
    gate = _blocked()
    try:
        for _ in range(2):  # the second use queues the build
            split_cache.threshold_index(data, _longer(0))
        entry = split_cache._filter_cache(data)._entries[_longer(0)]
        data.trim(1 << 40)  # evicts every derived structure
        assert entry.dropped
    finally:
        gate.set()
    split_cache._executor.submit(lambda: None).result()
    assert built == []
    assert entry.index is not None and entry.index.built() is None


QUERY = """query($where: [RowFilter!], $split: String!) { model(name: "m") { run(name: "r") {
    split(name: $split) { metrics(threshold: 0.4, where: $where) { total accuracy } } } } }"""


@pytest.mark.parametrize("mode", ["index", "auto"])
def test_answers_are_the_same_under_a_tiny_budget(root: Path, monkeypatch, mode: str) -> None:
    monkeypatch.setattr(split_cache, "MODE", mode)

    def answers(memory: int) -> list[dict]:
        out = []
        with TestClient(create_app(root, settings=ServeSettings(allowed_hosts=("*",),
                                                                memory=memory))) as client:
            for i in range(0, 1000, 50):
                for name in ("s1", "s2"):
                    where = [{"column": "length", "gte": i}]
                    body = client.post("/graphql", json={
                        "query": QUERY, "variables": {"where": where, "split": name}}).json()
                    assert "errors" not in body, body
                    out.append(body["data"])
        return out

    assert answers(1) == answers(1 << 30)


def test_the_budget_is_a_size_or_a_share_of_memory() -> None:
    assert parse_memory("8GiB") == 8 << 30
    assert parse_memory("40%") == int(physical_memory() * 0.4)
    assert ServeSettings().memory == default_budget() == physical_memory() // 2
    with pytest.raises(ValueError):
        parse_memory("0%")
    with pytest.raises(ValueError):
        parse_memory("lots")


def test_serve_takes_the_budget_from_the_flag_or_the_variable(monkeypatch) -> None:
    import argparse

    from evalql.api.settings import add_arguments, from_arguments

    def memory(*argv: str) -> int:
        parser = argparse.ArgumentParser()
        parser.add_argument("--host", default="127.0.0.1")
        add_arguments(parser)
        return from_arguments(parser.parse_args(list(argv))).memory

    assert memory() == default_budget()
    assert memory("--memory", "2GiB") == 2 << 30
    monkeypatch.setenv("EVALQL_MEMORY", "10%")
    assert memory() == int(physical_memory() * 0.1)
    assert memory("--memory", "1MiB") == 1 << 20
