"""Loading splits as NumPy arrays: memory-mapped, zero-copy, cached.

A split file stores label codes against the split's own dictionary (written
into the file's schema metadata), so ingesting a split never rewrites another.
Loading maps those codes into the model's current label order; when the two
agree, which is the common case, the arrays are zero-copy views of the file.
A split's label columns are one of two types, by the model's task:
``MulticlassColumns`` (a label and a confidence a row) or
``MultilabelColumns`` (label sets as CSR arrays); ``SplitData.columns`` holds
exactly one of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from evalql.storage.catalog import Catalog
from evalql.storage.columns import ids_at
from evalql.storage.errors import CorruptSplitError, SplitChanged, StoreError
from evalql.storage.ingest import LABELS_KEY, SCORE_LABELS_KEY, TASK_KEY
from evalql.storage.mapping import Mapping
from evalql.storage.model import ModelInfo, SplitInfo
from evalql.storage.object_cache import ObjectCache
from evalql.storage.objects import is_object_path

_RESERVED = ("__id", "__actual", "__predicted", "__confidence", "__scores")

_CacheKey = tuple[str, int, tuple[str, ...]]
T = TypeVar("T")

# The memory budget's default: this fraction of physical memory (`evalql
# serve --memory` / EVALQL_MEMORY set another).
DEFAULT_MEMORY_FRACTION = 0.5


def physical_memory() -> int:
    """Bytes of physical memory (8 GiB where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 8 << 30


def default_budget() -> int:
    """The default memory budget: ``DEFAULT_MEMORY_FRACTION`` of physical memory."""
    return int(physical_memory() * DEFAULT_MEMORY_FRACTION)


# What each derived structure in ``SplitData.memo`` counts as, by its key
# (a string or a tuple starting with one); unknown keys count as "derived".
_KINDS = {
    "threshold-index": "indexes", "label-set-index": "indexes", "filters": "masks",
    "id-rank": "id_ranks", "join": "joins", "ranking": "rankings",
    "precision-steps": "rankings", "score-curves": "rankings", "breakdown-codes": "breakdowns",
    "breakdown-values": "breakdowns",
}


def _kind(key: Hashable) -> str:
    name = key[0] if isinstance(key, tuple) and key else key
    return _KINDS.get(name, "derived") if isinstance(name, str) else "derived"


def nbytes_of(value: object, mapping: Mapping | None = None) -> int:
    """Bytes a derived structure holds: arrays, Arrow data, anything with
    ``nbytes``, and tuples, lists and dicts of them (other values count 0).
    An array that is a view of ``mapping`` (the split's file) counts 0: its
    bytes are the split's, counted once as its columns."""
    if isinstance(value, (np.ndarray, pa.Array, pa.ChunkedArray)):
        return 0 if mapping is not None and mapping.holds(value) else int(value.nbytes)
    if isinstance(value, pa.Table):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(nbytes_of(v, mapping) for v in value)
    if isinstance(value, dict):
        return sum(nbytes_of(v, mapping) for v in value.values())
    size = getattr(value, "nbytes", None)
    return int(size) if isinstance(size, (int, np.integer)) else 0


def _sizes(key: Hashable, value: object, mapping: Mapping | None = None) -> dict[str, int]:
    """Bytes of one memo entry by kind; a value that holds several kinds
    (the filter cache: masks and filtered indexes) reports its own."""
    by_kind = getattr(value, "bytes_by_kind", None)
    if callable(by_kind):
        return dict(by_kind())
    return {_kind(key): nbytes_of(value, mapping)}


@dataclass(frozen=True)
class MulticlassColumns:
    """A multiclass split's columns, one label a row; codes in the model's order.

    Row i's actual label is ``actual[i]`` and its prediction ``predicted[i]``
    (-1 = None) with confidence ``confidence[i]``; ``scores`` is the (N, K)
    score matrix when the split has one.
    """

    task: ClassVar[str] = "multiclass"

    actual: np.ndarray  # int32, -1 = None
    predicted: np.ndarray  # int32, -1 = None
    confidence: np.ndarray  # float32
    scores: np.ndarray | None = None  # float32 (N, K) in the model's label order

    @property
    def nbytes(self) -> int:
        scores = 0 if self.scores is None else self.scores.nbytes
        return self.actual.nbytes + self.predicted.nbytes + self.confidence.nbytes + scores


@dataclass(frozen=True)
class MultilabelColumns:
    """A multilabel split's label sets in CSR form; codes in the model's order.

    Row i's actual labels are ``actual_codes[actual_offsets[i]:actual_offsets[i + 1]]``;
    its predicted labels and their confidences are the same slice of
    ``predicted_codes`` and ``predicted_confidence`` by ``predicted_offsets``.
    A row's lists hold distinct codes; an empty slice is the empty set (a null
    list in the input). Example: actual ``[["b"], [], ["a", "c"]]`` over labels
    ``(a, b, c)`` is offsets ``[0, 1, 1, 3]`` and codes ``[1, 0, 2]``.

    Why CSR rather than a row x label bitset: a scan over CSR costs O(labels
    per row), about 3 actual and 3 predicted codes a row in practice, while a
    bitset scan costs O(N x K) whatever the rows hold and grows with every
    label a model adds (10,000 labels: 2.5 KB a row for the two sets). Bits
    are smaller while K is small (50 labels: 7 bytes a row per set, against
    8 bytes of offsets plus 4 a code here), but they hold no confidence: a
    confidence per predicted label needs either a dense N x K float32 block
    (2 GB at 10M rows x 50 labels) or a CSR list anyway. CSR is also exactly
    an Arrow large_list array (offsets + values buffers), so loading stays
    zero-copy: the split file is the engine's input.
    """

    task: ClassVar[str] = "multilabel"

    actual_offsets: np.ndarray  # int64 (N + 1,)
    actual_codes: np.ndarray  # int32
    predicted_offsets: np.ndarray  # int64 (N + 1,)
    predicted_codes: np.ndarray  # int32
    predicted_confidence: np.ndarray  # float32, aligned with predicted_codes
    # float32 (N, K) in the model's label order: one probability per label and
    # row, when the split has scores
    scores: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return len(self.actual_offsets) - 1

    @property
    def nbytes(self) -> int:
        arrays = (
            self.actual_offsets, self.actual_codes, self.predicted_offsets,
            self.predicted_codes, self.predicted_confidence,
        )
        scores = 0 if self.scores is None else self.scores.nbytes
        return sum(a.nbytes for a in arrays) + scores

    def actual_of(self, row: int) -> np.ndarray:
        """The actual label codes of ``row`` (a view)."""
        return self.actual_codes[self.actual_offsets[row] : self.actual_offsets[row + 1]]

    def predicted_of(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The predicted label codes of ``row`` and their confidences (views)."""
        span = slice(self.predicted_offsets[row], self.predicted_offsets[row + 1])
        return self.predicted_codes[span], self.predicted_confidence[span]


# The label columns of a split: one type per task.
Columns = MulticlassColumns | MultilabelColumns


@dataclass(frozen=True)
class SplitData:
    """A split's rows: ids, label columns and metadata; codes index into
    ``labels`` (the model's order).

    ``columns`` is ``MulticlassColumns`` or ``MultilabelColumns``, by the
    model's task: code for one task reads only its own type of columns.
    The NumPy arrays are read-only (views of the memory-mapped file, or made
    read-only when remapped) because they are shared by every request.
    """

    info: SplitInfo
    labels: tuple[str, ...]
    ids: pa.Array  # string
    columns: Columns
    metadata: pa.Table
    # The file's mapping, when the columns are views of one.
    mapping: Mapping | None = field(default=None, repr=False, compare=False)

    _memo: dict[Hashable, Future[Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _memo_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )
    # Called when a derived structure is added or grows, so the SplitStore
    # holding this split can keep its budget (set by the store).
    _on_grow: list[Callable[[], None]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per split and key, shared by every thread and request.

        Structures derived from a split (an index, masks) live here so they
        are dropped when the split is evicted or replaced. Concurrent callers
        of one key wait for the first one's result instead of building twice.
        """
        with self._memo_lock:
            future = self._memo.get(key)
            owner = future is None
            if owner:
                future = self._memo[key] = Future()
        if owner:
            try:
                future.set_result(build())
            except BaseException as error:
                with self._memo_lock:
                    if self._memo.get(key) is future:
                        del self._memo[key]
                future.set_exception(error)
            self.grew()
        return future.result()

    def grew(self) -> None:
        """A derived structure was added or grew: the store re-checks its budget."""
        for callback in list(self._on_grow):
            callback()

    def _derived(self) -> list[tuple[Hashable, object]]:
        with self._memo_lock:
            entries = list(self._memo.items())
        return [(k, f.result()) for k, f in entries if f.done() and f.exception() is None]

    def derived_bytes_by_kind(self) -> dict[str, int]:
        """Bytes of the structures derived from this split (indexes, masks,
        id ranks, joins...), by kind."""
        total: dict[str, int] = {}
        for key, value in self._derived():
            for kind, size in _sizes(key, value, self.mapping).items():
                total[kind] = total.get(kind, 0) + size
        return total

    @property
    def derived_bytes(self) -> int:
        return sum(self.derived_bytes_by_kind().values())

    def trim(self, excess: int) -> int:
        """Drop derived structures until ``excess`` bytes are freed (or none
        is left); the bytes freed. A value with a ``trim`` of its own (the
        filter cache) drops its least recently used entries first; then
        whole entries go, oldest first. A request using one keeps it."""
        freed = 0
        entries = self._derived()
        for _, value in entries:
            own = getattr(value, "trim", None)
            if freed < excess and callable(own):
                freed += own(excess - freed)
        for key, value in entries:
            if freed >= excess:
                break
            size = sum(_sizes(key, value, self.mapping).values())
            if size == 0:
                continue
            with self._memo_lock:
                future = self._memo.pop(key, None)
            if future is not None:
                drop = getattr(value, "drop", None)
                if callable(drop):
                    drop()  # a background build not yet started is skipped
                freed += size
        return freed

    def drop_derived(self) -> None:
        """Forget every derived structure (the split is evicted)."""
        with self._memo_lock:
            entries = list(self._memo.values())
            self._memo.clear()
            self._on_grow.clear()
        for future in entries:
            if future.done() and future.exception() is None:
                drop = getattr(future.result(), "drop", None)
                if callable(drop):
                    drop()

    def ids_at(self, positions: np.ndarray) -> list[str]:
        """The ids at ``positions``; the ids' mapped pages are given back
        afterwards. A page of rows reads its ids at random places, and the
        kernel maps 64 KiB around each: kept, a drill-down of 100 pages of
        50 rows mapped every page of the ids (109 MB at 10M rows)."""
        found = ids_at(self.ids, positions)
        self.release(self.ids)
        return found

    def release(self, *arrays: np.ndarray | pa.Array | pa.ChunkedArray) -> int:
        """Give back the file's mapped pages under ``arrays`` (views of the
        split's file; copies are left alone); the bytes released. A later
        read maps them again."""
        return 0 if self.mapping is None else self.mapping.release(*arrays)

    @property
    def task(self) -> str:
        """"multiclass" or "multilabel", the model's."""
        return self.columns.task

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    @property
    def nbytes(self) -> int:
        """Bytes of every column (derived structures: ``derived_bytes``)."""
        return self.ids.nbytes + self.columns.nbytes + self.metadata.nbytes


class SplitStore:
    """Loads splits for the server: an LRU cache bounded by ``budget_bytes``.

    The budget (default: ``default_budget()``, half of physical memory)
    covers the loaded splits and everything derived from them in their memo:
    threshold indexes, masks and filtered indexes, id ranks, compare joins.
    Over it, the least recently used split goes with its derived structures;
    when one split is left, its derived structures go, least recently used
    first. A derived structure counts once built (``SplitData.grew``).

    Thread-safe: the server calls it from a thread pool, and two threads asking
    for the same split share one load. A single split larger than the budget
    is still served (and stays the only entry) rather than reloaded each time.

    Catalog lookups come from the Catalog's in-memory snapshot and split
    files are memory-mapped read-only, so serving never writes to the store
    (a full disk stops ingests, never queries). The one exception is a split
    kept on object storage: its first load copies it into the store's
    ``object-cache/`` (``storage.object_cache``), bounded by the same budget,
    or reads it into memory when the copy cannot be written.
    """

    def __init__(self, root: Path, budget_bytes: int | None = None) -> None:
        budget_bytes = default_budget() if budget_bytes is None else budget_bytes
        self.root = Path(root)
        self.catalog = Catalog(self.root)
        self.budget_bytes = budget_bytes
        self.objects = ObjectCache(self.root, budget_bytes)
        self._lock = threading.Lock()
        self._cache: OrderedDict[_CacheKey, SplitData] = OrderedDict()
        self._loading: dict[_CacheKey, Future[SplitData]] = {}

    @property
    def cached_bytes(self) -> int:
        """Bytes held by the cache now: splits and their derived structures."""
        return sum(self.cached_bytes_by_kind().values())

    def cached_bytes_by_kind(self) -> dict[str, int]:
        """Bytes held now by kind: ``{"splits": ..., "indexes": ..., "masks": ...}``."""
        with self._lock:
            loaded = list(self._cache.values())
        total = {"splits": sum(data.nbytes for data in loaded), "indexes": 0, "masks": 0}
        for data in loaded:
            for kind, size in data.derived_bytes_by_kind().items():
                total[kind] = total.get(kind, 0) + size
        return total

    def shrink(self) -> None:
        """Evict until the splits and their derived structures fit the budget:
        least recently used splits first, then the last split's derived
        structures. The last split's columns stay, however large."""
        evicted: list[SplitData] = []
        with self._lock:
            sizes = {k: d.nbytes + d.derived_bytes for k, d in self._cache.items()}
            total = sum(sizes.values())
            while total > self.budget_bytes and len(self._cache) > 1:
                key, data = self._cache.popitem(last=False)
                total -= sizes[key]
                evicted.append(data)
            last = next(reversed(self._cache.values()), None)
        for data in evicted:
            data.drop_derived()
        if last is not None and total > self.budget_bytes:
            last.trim(total - self.budget_bytes)

    def load(self, info: SplitInfo, model: ModelInfo | None = None) -> SplitData:
        """The data of split ``info``; CorruptSplitError when its file is unreadable.

        Pass a SplitInfo fresh from the catalog: a replaced split's old file is
        deleted, so a stale info fails with a StoreError that says so.

        The codes follow ``model``'s label order: pass the model as the caller
        resolved it, so an ingest that extends the model's labels meanwhile
        (a model without --labels has the sorted union of its splits' labels,
        so a new label shifts the codes after it) cannot change what the
        caller's codes mean. Without it, the catalog's current model.
        """
        model = model or self.catalog.model(info.model)
        if model is None:
            raise StoreError(f"model {info.model} does not exist")
        key = (info.path, info.version, model.labels)
        future, owner = self._claim(key)
        if not owner:
            return future.result()
        try:
            data = self._read(info, model.labels, model.task)
        except BaseException as error:
            self._settle(key, future, error=error)
            raise
        self._settle(key, future, data=data)
        return data

    def _read(self, info: SplitInfo, labels: tuple[str, ...], task: str) -> SplitData:
        try:
            return _read_split(self.root, info, labels, task, self.objects)
        except CorruptSplitError as error:
            # Not corrupt, only late: an ingest replaced the split (and deleted
            # its file) between the caller's catalog lookup and this read.
            current = self.catalog.split(*_names(info))
            if current is not None and current.version != info.version:
                name = "/".join(_names(info))
                message = f"split {name} was replaced while being read; ask again"
                raise SplitChanged(message) from error
            raise

    def _claim(self, key: _CacheKey) -> tuple[Future[SplitData], bool]:
        """A finished or pending load of ``key``, and whether the caller must run it."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                done: Future[SplitData] = Future()
                done.set_result(self._cache[key])
                return done, False
            if key in self._loading:
                return self._loading[key], False
            future = self._loading[key] = Future()
            return future, True

    def _settle(
        self, key: _CacheKey, future: Future[SplitData], data: SplitData | None = None,
        error: BaseException | None = None,
    ) -> None:
        with self._lock:
            del self._loading[key]
            if data is not None:
                self._insert(key, data)
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(data)

    def _insert(self, key: _CacheKey, data: SplitData) -> None:
        """Cache ``data``, dropping other versions of the same split (they will
        not be asked for again) and then the least recently used entries."""
        same_split = (data.info.model, data.info.run, data.info.name)
        for other in [k for k, v in self._cache.items() if _names(v.info) == same_split]:
            self._cache.pop(other).drop_derived()
        self._cache[key] = data
        data._on_grow.append(self._grew)
        total = sum(entry.nbytes + entry.derived_bytes for entry in self._cache.values())
        while total > self.budget_bytes and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            total -= evicted.nbytes + evicted.derived_bytes
            evicted.drop_derived()

    def _grew(self) -> None:
        self.shrink()


def _names(info: SplitInfo) -> tuple[str, str, str]:
    return info.model, info.run, info.name


def read_split(
    root: Path, info: SplitInfo, labels: tuple[str, ...], task: str,
    objects: ObjectCache | None = None, rows: tuple[int, int] | None = None,
) -> SplitData:
    """Split ``info``'s data read without a SplitStore (no catalog, no cache):
    for a process that has the file but not the store, such as a Dask worker
    loading its fragments (``api.backends.fragments``). ``rows`` (start,
    stop) reads only those rows: the file is mapped, sliced, and only the
    slice is decoded and checked. Errors as ``SplitStore.load``."""
    return _read_split(root, info, labels, task, objects, rows)


def _read_split(
    root: Path, info: SplitInfo, labels: tuple[str, ...], task: str = "multiclass",
    objects: ObjectCache | None = None, rows: tuple[int, int] | None = None,
) -> SplitData:
    """Map the split's file and decode it into the model's label order.

    A split on object storage is read through ``objects``, its local copy;
    a missing or damaged object is a CorruptSplitError as a local file is.
    """
    with _read_errors(root, info, objects):
        with _open(root, info, objects) as source:  # buffers keep the mapping alive
            mapping = Mapping.of(source)
            table = ipc.open_file(source).read_all()
        if rows is not None:
            if table.num_rows != info.row_count:
                raise ValueError(f"{table.num_rows} rows, the catalog says {info.row_count}")
            start, stop = rows
            table = table.slice(start, stop - start)
            info = replace(info, row_count=table.num_rows)
        return replace(_decode(table, info, labels, task), mapping=mapping)


def read_ids(
    root: Path, info: SplitInfo, objects: ObjectCache | None, rows: tuple[int, int],
) -> pa.Array:
    """The ids of rows ``[start, stop)`` of split ``info``, from its mapped file
    (zero-copy; nothing else decoded). Errors as ``read_split``."""
    with _read_errors(root, info, objects):
        with _open(root, info, objects) as source:
            table = ipc.open_file(source).read_all()
        if table.num_rows != info.row_count:
            raise ValueError(f"{table.num_rows} rows, the catalog says {info.row_count}")
        start, stop = rows
        return _single_chunk(table.column("__id").slice(start, stop - start))


@contextlib.contextmanager
def _read_errors(root: Path, info: SplitInfo, objects: ObjectCache | None) -> Iterator[None]:
    """A failure reading split ``info`` as one CorruptSplitError; a damaged
    local copy of an object is dropped, to be fetched again next time."""
    try:
        yield
    except (pa.ArrowException, OSError, ValueError, KeyError, IndexError) as error:
        if objects is not None and is_object_path(info.path):
            objects.discard(info.path)
        # The reason, not where the store lives: messages reach API users.
        reason = " ".join(str(error).replace(str(root), "<store>").split())
        name = "/".join(_names(info))
        raise CorruptSplitError(name, info.path, reason or type(error).__name__) from error


def _open(root: Path, info: SplitInfo, objects: ObjectCache | None) -> pa.NativeFile:
    """The split's file: in the store, or the local copy of its object."""
    if is_object_path(info.path):
        return (objects or ObjectCache(root)).open(info)
    return pa.memory_map(str(root / info.path))


def _decode(table: pa.Table, info: SplitInfo, labels: tuple[str, ...], task: str) -> SplitData:
    if table.num_rows != info.row_count:
        raise ValueError(f"{table.num_rows} rows, the catalog says {info.row_count}")
    metadata = table.schema.metadata or {}
    own = tuple(json.loads(metadata[LABELS_KEY]))
    lookup = _lookup(own, labels)
    file_task = metadata.get(TASK_KEY, b"multiclass").decode()
    if file_task != task:
        raise ValueError(f"the file holds a {file_task} split, but the model is {task}")
    scores = None
    if "__scores" in table.column_names:
        score_labels = tuple(json.loads(metadata[SCORE_LABELS_KEY]))
        scores = _scores(table.column("__scores"), score_labels, labels)
    if task == "multilabel":
        return _decode_multilabel(table, info, labels, _recoder(len(own), lookup), scores)
    columns = MulticlassColumns(
        actual=_recode(_numpy(table.column("__actual"), np.int32), len(own), lookup),
        predicted=_recode(_numpy(table.column("__predicted"), np.int32), len(own), lookup),
        confidence=_numpy(table.column("__confidence"), np.float32),
        scores=scores,
    )
    return _split_data(table, info, labels, columns)


def _decode_multilabel(
    table: pa.Table, info: SplitInfo, labels: tuple[str, ...],
    recode: Callable[[np.ndarray], np.ndarray], scores: np.ndarray | None,
) -> SplitData:
    actual_offsets, actual_codes = _csr(table.column("__actual"), np.int32)
    predicted_offsets, predicted_codes = _csr(table.column("__predicted"), np.int32)
    confidence_offsets, confidence = _csr(table.column("__confidence"), np.float32)
    if not np.array_equal(confidence_offsets, predicted_offsets):
        raise ValueError("the confidence lists are not aligned with the predicted lists")
    columns = MultilabelColumns(
        actual_offsets=actual_offsets,
        actual_codes=recode(actual_codes),
        predicted_offsets=predicted_offsets,
        predicted_codes=recode(predicted_codes),
        predicted_confidence=confidence,
        scores=scores,
    )
    return _split_data(table, info, labels, columns)


def _split_data(
    table: pa.Table, info: SplitInfo, labels: tuple[str, ...], columns: Columns
) -> SplitData:
    return SplitData(
        info=info,
        labels=labels,
        ids=_single_chunk(table.column("__id")),
        columns=columns,
        metadata=table.drop_columns([c for c in _RESERVED if c in table.column_names]),
    )


def _csr(column: pa.ChunkedArray, dtype: type[np.generic]) -> tuple[np.ndarray, np.ndarray]:
    """A large_list column as (int64 offsets, values), zero-copy.

    The offsets index into the whole values buffer (Arrow's ``values``, not
    ``flatten()``), so a sliced array needs no copy either. A full validation
    first: the kernels index with these offsets, and a corrupt file must not
    make them read out of bounds.
    """
    array = _single_chunk(column)
    if not pa.types.is_large_list(array.type) or array.null_count:
        raise ValueError(f"a label-set column is {array.type} with nulls, expected large_list")
    array.validate(full=True)
    offsets = array.offsets.to_numpy(zero_copy_only=True)
    values = array.values.to_numpy(zero_copy_only=True)
    if values.dtype != dtype:
        raise ValueError(f"a column holds {values.dtype}, expected {np.dtype(dtype)}")
    return offsets, values


def _recoder(n_own: int, lookup: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
    """Label-set codes into the model's order; checks the range, since the
    kernels index their counts with them (no -1 here: None is the empty set)."""

    def recode(codes: np.ndarray) -> np.ndarray:
        if len(codes) and (codes.min() < 0 or codes.max() >= n_own):
            raise ValueError(f"label codes outside [0, {n_own})")
        if lookup is None:
            return codes
        recoded = lookup[codes]
        recoded.flags.writeable = False
        return recoded

    return recode


def _lookup(own: tuple[str, ...], labels: tuple[str, ...]) -> np.ndarray | None:
    """Model code of each of the split's codes, None when they coincide."""
    if own == labels:
        return None
    index = {label: i for i, label in enumerate(labels)}
    missing = [label for label in own if label not in index]
    if missing:
        raise ValueError(f"label {missing[0]!r} of the split is not a label of the model")
    return np.array([index[label] for label in own], dtype=np.int32)


def _recode(codes: np.ndarray, n_own: int, lookup: np.ndarray | None) -> np.ndarray:
    """Codes in the model's order; checks the range first, because the engine
    indexes its count arrays with them and a corrupt file must not reach it."""
    if len(codes) and (codes.min() < -1 or codes.max() >= n_own):
        raise ValueError(f"label codes outside [-1, {n_own})")
    if lookup is None:
        return codes
    # Appending -1 makes code -1 (None) index the last entry, so None stays -1.
    recoded = np.append(lookup, np.int32(-1))[codes]
    recoded.flags.writeable = False
    return recoded


def _scores(column: pa.ChunkedArray, order: tuple[str, ...], labels: tuple[str, ...]) -> np.ndarray:
    """The (N, K) score matrix with columns in the model's label order; a label
    without a score of its own gets 0."""
    array = _single_chunk(column)
    k = array.type.list_size
    if k != len(order):
        raise ValueError(f"{k} scores a row, but {len(order)} score labels")
    matrix = array.flatten().to_numpy(zero_copy_only=True).reshape(len(array), k)
    if order == labels:
        return matrix
    index = {label: i for i, label in enumerate(labels)}
    placed = np.zeros((len(array), len(labels)), dtype=np.float32)
    placed[:, [index[label] for label in order]] = matrix
    placed.flags.writeable = False
    return placed


def _numpy(column: pa.ChunkedArray, dtype: type[np.generic]) -> np.ndarray:
    array = _single_chunk(column).to_numpy(zero_copy_only=True)
    if array.dtype != dtype:
        raise ValueError(f"a column is {array.dtype}, expected {np.dtype(dtype)}")
    return array


def _single_chunk(column: pa.ChunkedArray) -> pa.Array:
    # Ingest writes one record batch, so this is free; a multi-chunk file
    # (written by other tools) costs one copy.
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
