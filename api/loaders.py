"""Structures derived from a loaded split, built once and kept with it.

They live in the split's memo (``SplitData.memo``), so they are evicted with
the split and never outlive a replace: a replaced split has a new version,
hence a new ``SplitData``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from evalql.engine.index import ThresholdIndex
from evalql.storage.datasets import SplitData
from evalql.storage.filters import Condition, row_mask

# Row masks (and threshold indexes) of recent filters, per split: moving the
# threshold slider under a fixed filter reuses them instead of re-reading the
# metadata columns and rescanning.
FILTER_CACHE_BYTES = 512 << 20

# One background thread builds filtered indexes, so building never takes more
# than one core from the request threads.
_BUILDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalql-background-index")


def threshold_index(data: SplitData) -> ThresholdIndex:
    """The split's threshold index (built on first use, 0.4–1.3 s at 10M rows)."""
    return _index_build(data).result()


def ready_threshold_index(data: SplitData) -> ThresholdIndex | None:
    """The split's threshold index if it is built; else start building it and
    return None, so the caller scans (about 10 ms at 10M rows) instead of
    waiting: the first query after a cold start does not pay for the index."""
    build = _index_build(data)
    return build.result() if build.done() else None


def _index_build(data: SplitData) -> Future[ThresholdIndex]:
    def build() -> ThresholdIndex:
        return ThresholdIndex.build(data.actual, data.predicted, data.confidence, data.n_labels)

    return data.memo("threshold-index-build", lambda: _BUILDER.submit(build))


@dataclass
class _Filtered:
    """A filter's row mask and, once built, the threshold index of its rows."""

    mask: np.ndarray
    index: Future[ThresholdIndex] | None = None

    @property
    def nbytes(self) -> int:
        built = self.index is not None and self.index.done() and not self.index.exception()
        return self.mask.nbytes + (self.index.result().nbytes if built else 0)


class _FilterCache:
    """An LRU of filters' masks and indexes, bounded in bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[tuple[Condition, ...], _Filtered] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Condition, ...]) -> _Filtered | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[Condition, ...], entry: _Filtered) -> None:
        with self._lock:
            self._entries[key] = entry
        self.shrink()

    def shrink(self) -> None:
        """Drop the least recently used entries until the cache fits its budget."""
        with self._lock:
            used = sum(e.nbytes for e in self._entries.values())
            while used > self.budget and len(self._entries) > 1:
                used -= self._entries.popitem(last=False)[1].nbytes


def _filter_cache(data: SplitData) -> _FilterCache:
    return data.memo("filters", lambda: _FilterCache(FILTER_CACHE_BYTES))


def _filtered(data: SplitData, conditions: tuple[Condition, ...]) -> _Filtered:
    cache = _filter_cache(data)
    entry = cache.get(conditions)
    if entry is None:
        mask = row_mask(data.metadata, conditions)
        mask.flags.writeable = False  # shared across requests
        entry = _Filtered(mask)
        cache.put(conditions, entry)
    return entry


def cached_mask(data: SplitData, conditions: tuple[Condition, ...]) -> np.ndarray | None:
    """The row mask of ``conditions`` on the split (None for no conditions)."""
    return _filtered(data, conditions).mask if conditions else None


def filtered_index(
    data: SplitData, conditions: tuple[Condition, ...], wait: bool = False
) -> ThresholdIndex | None:
    """The threshold index of the rows ``conditions`` keep, once it is built.

    The first call starts building it in the background and returns None, so
    the request that asked scans instead of waiting; later requests under the
    same filter (a threshold slider) then get index answers. ``wait=True``
    blocks until it is built.
    """
    entry = _filtered(data, conditions)
    if entry.index is None:
        entry.index = _BUILDER.submit(_build_subset_index, data, entry.mask)
    if wait or entry.index.done():
        index = entry.index.result()
        _filter_cache(data).shrink()  # the index now counts in the budget
        return index
    return None


def _build_subset_index(data: SplitData, mask: np.ndarray) -> ThresholdIndex:
    return ThresholdIndex.build(
        data.actual[mask], data.predicted[mask], data.confidence[mask], data.n_labels
    )
