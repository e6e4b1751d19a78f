"""What a loaded split keeps besides its columns, and the background work that builds it.

Row masks of recent filters (bitsets, 1 bit a row), the threshold index of a
multiclass split (and of the rows a filter keeps), and the label-set index of
a multilabel split live in the split's memo (``SplitData.memo``), so they are evicted with the
split and never outlive a replace (a replaced split has a new version, hence
a new ``SplitData``).

One executor builds every index, on one thread named ``evalql-background…``
(so an index build waits for its kernels without jumping the compile queue,
see ``api.warmup``, and never takes more than one core from the requests).
Its work is bounded: one build per structure however many ask for it; at
most ``MAX_QUEUED`` waiting, beyond which the query scans and asks again
next time; a queued build whose filter or split has been evicted, or that
nobody asked for in ``STALE_SECONDS``, is skipped when its turn comes.

Everything here counts against the SplitStore's one memory budget: masks
and indexes report their bytes once built (``SplitData.grew``), and the
store evicts least recently used splits, then filters (``SplitData.trim``).
One policy answers every question, for metrics, curves, rows and histograms
alike: use the index if it is ready, else scan, and start building it. A
failed build falls back to the scan, is logged once, and is tried again
after ``RETRY_SECONDS``. A row filter is the exception to "start building":
the first time it is asked for, its counts come from one scan that tests the
filter row by row (``row_test``: a dictionary column's codes through a
lookup table), with no mask kept and no build queued, so one-off filters
cost one pass and leave nothing behind; its second use keeps its mask and
queues its index.

``MODE`` is the test switch: ``"index"`` waits for the index wherever one
applies, ``"scan"`` never uses one, ``"auto"`` (serving) is the policy above.
The environment variable ``EVALQL_INDEX_PATH`` sets it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from evalql.api import backends, limits
from evalql.api.warmup import BACKGROUND_THREADS
from evalql.engine.arrays import RowTest, pack_mask, unpack_mask
from evalql.engine.confusion import confusion_counts
from evalql.engine.curves import confusion_counts_within
from evalql.engine.index import ThresholdIndex
from evalql.engine.jit import count_rows
from evalql.engine.multilabel.index import LabelSetIndex
from evalql.storage.datasets import MulticlassColumns, MultilabelColumns, SplitData, SplitStore
from evalql.storage.filters import Condition, code_test, range_test, row_mask
from evalql.storage.model import ModelInfo, SplitInfo

log = logging.getLogger("evalql")

MODE = os.environ.get("EVALQL_INDEX_PATH", "auto")  # "auto" | "index" | "scan"
RETRY_SECONDS = 60.0
# Background builds waiting at most, all kinds together.
MAX_QUEUED = 4
# A queued build nobody asked for in this long is skipped when its turn comes.
STALE_SECONDS = 30.0
# Filters remembered as asked for once per split (their second use builds).
SEEN_FILTERS = 1024
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

T = TypeVar("T")

# --- the executor -------------------------------------------------------------

# The background thread runs at the lowest CPU priority (nice 19, on that
# thread only: Linux keeps nice per thread). No request waits for a build (a
# request scans meanwhile), but a build took the core a request's second row
# range needed: on 2 cores a new filter's page took 130 ms instead of 90 ms
# while the email filter's index built (over HTTP, machine shared). At nice
# 19 the build gets a core only when requests leave it free.
BACKGROUND_NICE = 19


def _lower_priority() -> None:
    """The executor's initializer: its thread yields the CPU to requests."""
    with contextlib.suppress(AttributeError, OSError):  # per-thread nice: Linux only
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)


_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{BACKGROUND_THREADS}-index",
                               initializer=_lower_priority)
_waiting: dict[str, int] = {"threshold-index": 0, "label-set-index": 0}
_waiting_lock = threading.Lock()


def queue_lengths() -> dict[str, int]:
    """Builds submitted and not yet started, by kind (for /metrics)."""
    with _waiting_lock:
        return dict(_waiting)


def _submit(kind: str, fn: Callable[[], T]) -> Future[T] | None:
    """``fn`` queued on the background thread; None when ``MAX_QUEUED``
    builds already wait (under ``MODE == "index"``, which waits, never)."""

    def started() -> T:
        with _waiting_lock:
            _waiting[kind] -= 1
        return fn()

    with _waiting_lock:
        if MODE != "index" and sum(_waiting.values()) >= MAX_QUEUED:
            return None
        _waiting[kind] += 1
    return _executor.submit(started)


class _Dropped(Exception):
    """A queued build skipped: its structure was evicted, or nobody wants it."""


class _Build(Generic[T]):
    """One structure built in the background: started on first use, tried
    again ``RETRY_SECONDS`` after a failure, which is logged once; skipped
    when dropped (evicted) or stale before its turn comes. ``on_done`` runs
    once it is built (the store counts its bytes)."""

    def __init__(self, kind: str, name: str, build: Callable[[], T],
                 on_done: Callable[[], None] | None = None) -> None:
        self.kind, self.name, self.build, self.on_done = kind, name, build, on_done
        self._future: Future[T] | None = None
        self._failed_at = 0.0
        self._logged = False
        self._dropped = False
        self._asked = time.monotonic()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        built = self.built()
        return 0 if built is None else int(getattr(built, "nbytes", 0))

    def drop(self) -> None:
        """Evicted: a build not yet started is skipped, none is started again."""
        self._dropped = True

    def built(self) -> T | None:
        """The structure if it is built; never starts a build."""
        future = self._future
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    def ready(self) -> T | None:
        """The structure if built (``MODE == "index"``: once built); else None,
        after starting its build if none is running."""
        with self._lock:
            self._asked = time.monotonic()
            if self._dropped:
                return self.built()
            future = self._future
            retry = future is not None and future.done() and future.exception() is not None
            if future is None or (retry and time.monotonic() - self._failed_at >= RETRY_SECONDS):
                future = _submit(self.kind, self._run)
                if future is None:  # the queue is full: scan, ask again next time
                    return None
                self._future = future
                if self.on_done is not None:
                    on_done = self.on_done
                    future.add_done_callback(lambda f: f.exception() is None and on_done())
        if MODE == "index":
            future.exception()  # waits; a failed build leaves the caller scanning
        return self.built()

    def _run(self) -> T:
        if self._dropped or time.monotonic() - self._asked > STALE_SECONDS:
            raise _Dropped(self.name)  # not a failure: asked again, it is queued again
        try:
            return self.build()
        except Exception:
            self._failed_at = time.monotonic()
            if not self._logged:
                self._logged = True
                log.exception("building the %s of %s failed; scanning instead", self.kind,
                              self.name)
            raise


# --- masks and indexes --------------------------------------------------------


@dataclass
class _Filtered:
    """A filter's row mask, kept as a bitset (``pack_mask``: 1 bit a row), and
    the threshold index of its rows, once built."""

    bits: np.ndarray
    n_rows: int
    index: _Build[ThresholdIndex] | None = None
    dropped: bool = False

    @property
    def mask(self) -> np.ndarray:
        """The bool mask (unpacked for each caller: 0.6 ms for 10M rows)."""
        mask = unpack_mask(self.bits, self.n_rows)
        mask.flags.writeable = False
        return mask

    @property
    def index_bytes(self) -> int:
        return 0 if self.index is None else self.index.nbytes

    @property
    def nbytes(self) -> int:
        return self.bits.nbytes + self.index_bytes

    def drop(self) -> None:
        self.dropped = True
        if self.index is not None:
            self.index.drop()


class _FilterCache:
    """Filters' masks and indexes of one split, least recently used first.

    Bounded by the store's one budget, not a budget of its own: a new entry
    or a finished index calls ``grew`` (``SplitData.grew``), and the store
    takes bytes back with ``trim``.
    """

    def __init__(self, grew: Callable[[], None]) -> None:
        self._grew = grew
        self._entries: OrderedDict[tuple[Condition, ...], _Filtered] = OrderedDict()
        # Filters asked for once, whose counts a scan tested row by row
        # without keeping a mask or queueing an index.
        self._seen: OrderedDict[tuple[Condition, ...], None] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: tuple[Condition, ...]) -> _Filtered | None:
        """The entry of ``key`` if there is one; never makes one."""
        with self._lock:
            return self._entries.get(key)

    def first_use(self, key: tuple[Condition, ...]) -> bool:
        """True the first time ``key`` is asked for (and remembered, among
        the last ``SEEN_FILTERS``); False once seen or kept."""
        with self._lock:
            if key in self._entries or key in self._seen:
                self._seen.pop(key, None)
                return False
            self._seen[key] = None
            if len(self._seen) > SEEN_FILTERS:
                self._seen.popitem(last=False)
            return True

    def get(self, key: tuple[Condition, ...], make: Callable[[], _Filtered]) -> _Filtered:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        entry = make()  # outside the lock: reading columns takes a while
        with self._lock:
            entry = self._entries.setdefault(key, entry)
            self._entries.move_to_end(key)
        self._grew()
        return entry

    def bytes_by_kind(self) -> dict[str, int]:
        with self._lock:
            entries = list(self._entries.values())
        return {"masks": sum(e.bits.nbytes for e in entries),
                "indexes": sum(e.index_bytes for e in entries)}

    def trim(self, excess: int) -> int:
        """Drop the least recently used entries until ``excess`` bytes are freed."""
        freed = 0
        with self._lock:
            while freed < excess and self._entries:
                _, entry = self._entries.popitem(last=False)
                freed += entry.nbytes
                entry.drop()
        return freed

    def drop(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            entry.drop()


_new_build = threading.Lock()


def _filter_cache(data: SplitData) -> _FilterCache:
    return data.memo("filters", lambda: _FilterCache(data.grew))


def _filtered(data: SplitData, conditions: tuple[Condition, ...]) -> _Filtered:
    def make() -> _Filtered:
        # A scan of each condition's column, counted against the request's
        # rows budget (api/context.py) like the kernels' scans.
        count_rows(data.n_rows * len(conditions))
        mask = row_mask(data.metadata, conditions)
        assert mask is not None
        bits = pack_mask(mask)
        bits.flags.writeable = False  # shared across requests
        # The bitset answers for the filter from now on: the pages of the
        # columns it read need not stay mapped.
        data.release(*(data.metadata.column(c.column) for c in conditions))
        return _Filtered(bits, data.n_rows)

    return _filter_cache(data).get(conditions, make)


def mask(data: SplitData, conditions: tuple[Condition, ...]) -> np.ndarray | None:
    """The row mask of ``conditions`` on the split (None for no conditions)."""
    return _filtered(data, conditions).mask if conditions else None


def threshold_index(
    data: SplitData, conditions: tuple[Condition, ...] = ()
) -> ThresholdIndex | None:
    """The threshold index of the rows ``conditions`` keep (every row for
    none), if ready; else None, and its build starts.

    None too for labels too many for a dense index, and under ``MODE == "scan"``.
    """
    columns = data.columns
    assert isinstance(columns, MulticlassColumns)
    if MODE == "scan" or not limits.is_dense(data.n_labels):
        return None
    name = "/".join((data.info.model, data.info.run, data.info.name))
    if not conditions:
        build = data.memo("threshold-index", lambda: _Build(
            "threshold-index", name, lambda: _index_rows(columns, data.n_labels, None),
            data.grew,
        ))
        return build.ready()
    # A filter asked for once never queues work: its counts come from a scan
    # that tests the filter row by row (``row_test``). The second time it is
    # asked for, its mask is kept and its index built.
    if MODE != "index" and _filter_cache(data).first_use(conditions):
        return None
    entry = _filtered(data, conditions)
    with _new_build:  # one build per filter, however many threads ask at once
        if entry.dropped:  # evicted already: this request scans
            return None
        if entry.index is None:
            # The build holds the bitset, not the entry: no reference cycle,
            # so an evicted entry's bytes go at once, not at the next gc.
            bits, n, k = entry.bits, entry.n_rows, data.n_labels
            entry.index = _Build("threshold-index", f"{name} (filtered)",
                                 lambda: _index_rows(columns, k, unpack_mask(bits, n)),
                                 data.grew)
    return entry.index.ready()


def row_test(data: SplitData, conditions: tuple[Condition, ...]) -> RowTest | None:
    """The rows ``conditions`` keep, as a scan tests them (None: every row).

    A kept mask's bitset when the filter has one. Else the filter tested
    inside the scan, when one of its conditions is an ``in`` on a dictionary
    column (its codes through a lookup table) or a range on an int64 or time
    column (its values against two bounds): those two in the scan, any
    others as a bitset, so a filter asked for once costs no mask pass and
    keeps nothing. Else the filter's mask, kept.
    """
    if not conditions:
        return None
    entry = _filter_cache(data).peek(conditions)
    if entry is not None:
        return RowTest(bits=entry.bits)
    codes = ranges = None
    rest: list[Condition] = []
    for condition in conditions:
        if codes is None and (codes := code_test(data.metadata, condition)) is not None:
            continue
        if ranges is None and (ranges := range_test(data.metadata, condition)) is not None:
            continue
        rest.append(condition)
    if codes is None and ranges is None:
        return RowTest(bits=_filtered(data, conditions).bits)
    others = row_mask(data.metadata, rest)
    return RowTest(
        codes=None if codes is None else codes.codes,
        keep=None if codes is None else codes.keep,
        bits=None if others is None else pack_mask(others),
        values=None if ranges is None else ranges.values,
        low=_INT64_MIN if ranges is None else ranges.low,
        high=_INT64_MAX if ranges is None else ranges.high,
    )


def _index_rows(
    columns: MulticlassColumns, n_labels: int, rows: np.ndarray | None
) -> ThresholdIndex:
    # One chunk: the build runs on the one background thread and leaves the
    # other cores to requests (0.2 s of one core for 10M rows). A filter's
    # index holds the split's numbers of its rows and reads the split's
    # confidences through them: 5 bytes a kept row, no copied columns.
    return ThresholdIndex.build(columns.actual, columns.predicted, columns.confidence, n_labels,
                                chunks=1, rows=None if rows is None else np.flatnonzero(rows))


def label_set_index(data: SplitData) -> LabelSetIndex | None:
    """The multilabel split's ``LabelSetIndex`` if ready; else None, and its
    build starts. None for labels too many for its matrix, and under
    ``MODE == "scan"``."""
    columns = data.columns
    assert isinstance(columns, MultilabelColumns)
    if MODE == "scan" or not limits.is_dense(data.n_labels):
        return None
    name = "/".join((data.info.model, data.info.run, data.info.name))
    build = data.memo("label-set-index", lambda: _Build(
        "label-set-index", name, lambda: LabelSetIndex.build(columns, data.n_labels), data.grew
    ))
    return build.ready()


# --- confusion counts, batched per request -----------------------------------

# What the request's DataLoader asks for: a multiclass split's confusion
# counts under a row filter at one (float32) threshold, coded in the label
# order of the model as the view resolved it (``SplitStore.load``).
CountsKey = tuple[SplitInfo, tuple[Condition, ...], np.float32, ModelInfo]


def confusion_batch(store: SplitStore, keys: Sequence[CountsKey]) -> list[object]:
    """The (K+1)x(K+1) confusion counts of each key, in the keys' order.

    Keys of one split, filter and model are answered together: by the index
    when it is ready, else by one scan that counts all their thresholds. A
    key whose split or filter fails gets its exception in place of counts.
    """
    Group = tuple[SplitInfo, tuple[Condition, ...], ModelInfo]
    groups: dict[Group, set[np.float32]] = {}
    for split, conditions, threshold, model in keys:
        groups.setdefault((split, conditions, model), set()).add(threshold)
    found: dict[CountsKey, object] = {}
    for (split, conditions, model), wanted in groups.items():
        thresholds = sorted(wanted)
        try:
            remote = backends.for_split(store, split)
            if remote is not None:  # the split's fragments, counted where they live
                counts = remote.confusion_at(split, conditions, thresholds)
            else:
                counts = confusion_at(store.load(split, model), conditions, thresholds)
        except Exception as error:  # noqa: BLE001 - one key's error, not the batch's
            counts = [error] * len(thresholds)
        found.update({(split, conditions, t, model): c
                      for t, c in zip(thresholds, counts, strict=True)})
    return [found[key] for key in keys]


def confusion_at(
    data: SplitData, conditions: tuple[Condition, ...], thresholds: Sequence[np.float32]
) -> list[np.ndarray]:
    """The confusion counts of the rows ``conditions`` keep at each of
    ``thresholds`` (ascending float32): from the index if it is ready, else
    one scan per as many thresholds as fit the dense-matrix budget."""
    index = threshold_index(data, conditions)
    if index is not None:
        return [index.counts_at(t) for t in thresholds]
    columns = data.columns
    assert isinstance(columns, MulticlassColumns)
    arrays = (columns.actual, columns.predicted, columns.confidence)
    k = data.n_labels
    if len(thresholds) == 1:  # a page: the filter tested inside the scan
        return [confusion_counts(*arrays, thresholds[0], k, row_test(data, conditions))]
    return confusion_counts_within(*arrays, thresholds, k, limits.matrices_within(k),
                                   mask(data, conditions))
