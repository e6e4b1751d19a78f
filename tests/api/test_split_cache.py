"""api/split_cache.py: indexes answer as the scan does; the switch and the
failure policy (scan, log once, try again later)."""

from __future__ import annotations

import logging
import os
import sys
import threading

import numpy as np
import pytest

from evalql.api import split_cache
from evalql.engine import curves
from evalql.engine.confusion import as_threshold, confusion_counts
from evalql.storage.datasets import SplitData, SplitStore
from evalql.storage.filters import Condition


def load(store) -> SplitData:
    splits = SplitStore(store)
    return splits.load(splits.catalog.split("m", "v1", "test"))


def test_a_filtered_index_counts_what_the_masked_scan_counts(store, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "index")
    data = load(store)
    conditions = (Condition("channel", isin=("chat",)),)
    index = split_cache.threshold_index(data, conditions)
    mask = split_cache.mask(data, conditions)
    assert index is not None and mask.sum() == 4
    c = data.columns
    for t in (0.0, 0.3, 0.35, 0.6, 0.61, 1.0):
        expected = confusion_counts(c.actual, c.predicted, c.confidence, t, 3, mask)
        np.testing.assert_array_equal(index.counts_at(as_threshold(t)), expected)
        [batched] = split_cache.confusion_at(data, conditions, [as_threshold(t)])
        np.testing.assert_array_equal(batched, expected)


def test_the_scan_switch_never_builds_an_index(store, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "scan")
    data = load(store)
    assert split_cache.threshold_index(data) is None
    assert split_cache.threshold_index(data, (Condition("channel", isin=("chat",)),)) is None
    assert "threshold-index" not in data._memo


def test_one_batch_counts_every_threshold_of_a_filter_in_one_scan(store, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "scan")
    scans: list[np.ndarray] = []
    real = curves.confusion_counts_at  # the scan confusion_counts_within runs

    def spy(*args, **kwargs):
        scans.append(np.array(args[3]))
        return real(*args, **kwargs)

    monkeypatch.setattr(curves, "confusion_counts_at", spy)
    splits = SplitStore(store)
    split = splits.catalog.split("m", "v1", "test")
    chat = (Condition("channel", isin=("chat",)),)
    model = splits.catalog.model("m")
    keys = [(split, chat, as_threshold(t), model) for t in (0.9, 0.5, 0.9)]
    keys.append((split, (), as_threshold(0), model))
    counts = split_cache.confusion_batch(splits, keys)
    assert len(scans) == 1 and scans[0].tolist() == [np.float32(0.5), np.float32(0.9)]
    np.testing.assert_array_equal(counts[0], counts[2])
    assert counts[3].sum() == 8 and counts[1].sum() == 4


def test_a_failed_build_scans_is_logged_once_and_is_tried_again_later(
    store, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(split_cache, "MODE", "index")
    calls = []

    def broken(*args, **kwargs):
        calls.append(threading.current_thread().name)
        raise MemoryError("no room for the index")

    monkeypatch.setattr(split_cache.ThresholdIndex, "build", broken)
    data = load(store)
    with caplog.at_level(logging.ERROR, logger="evalql"):
        assert split_cache.threshold_index(data) is None  # the caller scans
        assert split_cache.threshold_index(data) is None  # not tried again at once
        [counts] = split_cache.confusion_at(data, (), [as_threshold(0.5)])
    assert counts.sum() == 8
    assert len(calls) == 1 and calls[0].startswith("evalql-background")
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1
    monkeypatch.undo()  # the real build again
    monkeypatch.setattr(split_cache, "MODE", "index")
    monkeypatch.setattr(split_cache, "RETRY_SECONDS", 0.0)
    assert split_cache.threshold_index(data) is not None  # built on the retry


@pytest.mark.parametrize("mode", ["auto", "index"])
def test_builds_are_counted_by_kind_while_they_wait(store, monkeypatch, mode) -> None:
    monkeypatch.setattr(split_cache, "MODE", mode)
    assert set(split_cache.queue_lengths()) == {"threshold-index", "label-set-index"}
    data = load(store)
    split_cache.threshold_index(data)
    if mode == "index":
        assert split_cache.queue_lengths()["threshold-index"] == 0


def test_a_filter_asked_for_once_keeps_nothing_and_queues_nothing(store, monkeypatch) -> None:
    monkeypatch.setattr(split_cache, "MODE", "auto")
    data = load(store)
    chat = (Condition("channel", isin=("chat",)),)
    cache = split_cache._filter_cache(data)
    [once] = split_cache.confusion_at(data, chat, [as_threshold(0.5)])
    assert cache.peek(chat) is None and sum(split_cache.queue_lengths().values()) == 0
    # the second use keeps the mask, as a bitset, and builds the filter's index
    [twice] = split_cache.confusion_at(data, chat, [as_threshold(0.5)])
    entry = cache.peek(chat)
    assert entry is not None and entry.bits.dtype == np.int64 and entry.index is not None
    split_cache._executor.submit(lambda: None).result()  # the build is done
    np.testing.assert_array_equal(once, twice)
    assert entry.mask.sum() == 4 and entry.bits.nbytes == 8


@pytest.mark.parametrize("conditions", [
    (Condition("channel", isin=("chat",)),),
    (Condition("channel", isin=("chat", "mail", "none of these")),),
    (Condition("channel", isin=("chat",)), Condition("channel", is_null=False)),
    (Condition("channel", isin=()),),
    (Condition("length", gt=25, lte=70),),
    (Condition("length", gte=1e30),),
    (Condition("channel", isin=("email",)), Condition("length", lt=55)),
    (Condition("length", gt=15), Condition("channel", isin=("chat",)),
     Condition("length", lte=70), Condition("channel", is_null=False)),
])
def test_a_filter_tested_inside_the_scan_counts_what_its_mask_counts(
    store, monkeypatch, conditions
) -> None:
    monkeypatch.setattr(split_cache, "MODE", "scan")
    data = load(store)
    test = split_cache.row_test(data, conditions)
    assert test is not None and (test.codes is not None or test.values is not None)
    assert split_cache._filter_cache(data).peek(conditions) is None
    mask = split_cache.mask(data, conditions)
    c = data.columns
    for t in (0.0, 0.35, 0.6, 1.0):
        expected = confusion_counts(c.actual, c.predicted, c.confidence, t, 3, mask)
        np.testing.assert_array_equal(
            confusion_counts(c.actual, c.predicted, c.confidence, t, 3, test), expected)
    # once kept, the mask's bitset answers
    assert split_cache.row_test(data, conditions).codes is None


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice is Linux's")
def test_builds_run_at_the_lowest_cpu_priority() -> None:
    # A build never takes a core a request needs: its thread runs at nice 19,
    # and the other threads keep theirs.
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    future = split_cache._submit("threshold-index",
                                 lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert future is not None and future.result() == split_cache.BACKGROUND_NICE
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
