"""What runs on a worker: a fragment of a split, and the engine's partial results on it.

A fragment is the rows ``[start, stop)`` of one split (for a multilabel
split, those rows' lists), read from the split file through storage (a
local path, or the local copy of an ``s3://`` object) and copied into the
worker's memory with its threshold index, so later queries
on it read neither the file nor the network. Each function below runs the
same engine kernels the local views run, on the fragment's rows, and
returns a small partial result; the ``merge_…`` functions add partial
results up, and return a partial result again, so merges nest (a tree of
merges on the cluster). Nothing here imports dask: the Dask backend
(``api.backends.dask``) only decides where these functions run.

Why partial results merge exactly: confusion counts, per-threshold counts
and histograms are sums over rows; a page is the ``limit + 1`` smallest
order keys after the cursor, and the smallest keys of a union are the
smallest of each part's smallest keys; a label's precision steps and a
ranking's steps merge by score (``engine.ranking.merge_precision_steps``,
``merge_ranking_steps``), and the engine sums merged steps as it sums a
whole split's keys, float for float; a reliability diagram's sums of
confidences are exact integers (``engine.calibration.BinSums``), so they
add up in any order. A page's keys hold the row's position in the
split (``engine.select.order_key``), so a fragment works with local
positions and shifts its keys by ``start``: a global key ``g`` is the local
key ``g - start`` (positions stay below 2^32), hence ``key > after`` on the
fragment is ``local_key > after - start``.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import reduce
from pathlib import Path

import numpy as np
import pyarrow as pa

from evalql.api import limits
from evalql.engine.breakdown import (
    binned_counts,
    code_counts,
    confusion_by_bin,
    confusion_by_code,
    value_range,
)
from evalql.engine.calibration import BinSums, confidence_bin_sums
from evalql.engine.compare import Columns, changed_rows, count_changes, verdicts
from evalql.engine.confusion import label_totals
from evalql.engine.curves import (
    ThresholdCounts,
    confusion_counts_within,
    index_threshold_counts,
    threshold_counts,
)
from evalql.engine.histogram import confidence_histogram, index_confidence_histogram
from evalql.engine.index import ThresholdIndex
from evalql.engine.metrics import Totals
from evalql.engine.multilabel.counts import MultilabelThresholdCounts, multilabel_counts
from evalql.engine.multilabel.curves import multilabel_threshold_counts, pair_histogram
from evalql.engine.multilabel.index import LabelSetIndex
from evalql.engine.multilabel.rows import unlabeled_rows
from evalql.engine.ranking import (
    PrecisionSteps,
    RankingSteps,
    confidence_steps,
    precision_steps,
)
from evalql.engine.select import NO_CURSOR, Predicate, confidence_bits, select_by_scan
from evalql.engine.select_index import select_from_index
from evalql.storage.columns import categories, ids_digest, numbers
from evalql.storage.datasets import MulticlassColumns, MultilabelColumns, read_ids, read_split
from evalql.storage.filters import Condition, row_mask
from evalql.storage.model import SplitInfo
from evalql.storage.object_cache import ObjectCache

# Row masks of recent filters kept per fragment (each N/8..N bytes).
MASKS_KEPT = 8


@dataclass
class Fragment:
    """Rows ``[start, start + n_rows)`` of a split, owned by this process.

    ``index`` is the threshold index of a multiclass fragment's rows,
    ``sets_index`` the ``LabelSetIndex`` of a multilabel one (None when the
    labels are too many for a dense index); ``metadata`` the fragment's
    slice of the split's metadata columns, for row filters.
    """

    start: int
    n_labels: int
    columns: MulticlassColumns | MultilabelColumns
    metadata: pa.Table
    index: ThresholdIndex | None
    sets_index: LabelSetIndex | None = None
    _masks: OrderedDict[tuple[Condition, ...], np.ndarray] = field(
        default_factory=OrderedDict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def n_rows(self) -> int:
        """Rows of the fragment."""
        c = self.columns
        return c.n_rows if isinstance(c, MultilabelColumns) else int(c.actual.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes the fragment holds: columns, metadata and index."""
        index = sum(i.nbytes for i in (self.index, self.sets_index) if i is not None)
        return self.columns.nbytes + self.metadata.nbytes + index

    def __sizeof__(self) -> int:  # what Dask's memory accounting reads
        return self.nbytes

    def __getstate__(self) -> dict[str, object]:
        # Dask may copy a fragment to another worker; the lock and masks stay.
        state = dict(self.__dict__)
        state["_masks"], state["_lock"] = OrderedDict(), None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def mask(self, conditions: tuple[Condition, ...]) -> np.ndarray | None:
        """The fragment's row mask of ``conditions`` (None for none), kept for reuse."""
        if not conditions:
            return None
        with self._lock:
            found = self._masks.get(conditions)
            if found is not None:
                self._masks.move_to_end(conditions)
                return found
        computed = row_mask(self.metadata, conditions)
        assert computed is not None
        computed.flags.writeable = False
        with self._lock:
            self._masks[conditions] = computed
            while len(self._masks) > MASKS_KEPT:
                self._masks.popitem(last=False)
        return computed

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fragment's actual, predicted and confidence columns (read-only),
        in the order the engine's kernels take them (a multiclass fragment)."""
        c = self.columns
        assert isinstance(c, MulticlassColumns), "a multiclass fragment"
        return c.actual, c.predicted, c.confidence

    def label_sets(self) -> MultilabelColumns:
        """The fragment's CSR label columns (a multilabel fragment)."""
        assert isinstance(self.columns, MultilabelColumns), "a multilabel fragment"
        return self.columns


_objects: dict[str, ObjectCache] = {}
_objects_lock = threading.Lock()


def _object_cache(root: str) -> ObjectCache:
    # One per store root and process: a split's object is fetched once per
    # worker, however many of its fragments the worker loads.
    with _objects_lock:
        if root not in _objects:
            _objects[root] = ObjectCache(Path(root))
        return _objects[root]


def load_fragment(
    root: str, info: SplitInfo, labels: tuple[str, ...], start: int, stop: int,
    task: str = "multiclass",
) -> Fragment:
    """Read rows ``[start, stop)`` of split ``info`` (of a ``task`` model) and index them.

    The columns are copied out of the memory-mapped file, so the fragment
    lives in this process's memory (Dask keeps it as the task's result).
    A missing or damaged file raises storage's ``CorruptSplitError``.
    """
    data = read_split(Path(root), info, labels, task, _object_cache(root), rows=(start, stop))
    c = data.columns
    if isinstance(c, MultilabelColumns):
        sets = _owned_sets(c)
        k = len(labels)
        # As the server's split_cache builds it: only for a dense matrix.
        found = LabelSetIndex.build(sets, k) if limits.is_dense(k) else None
        return Fragment(start, k, sets, data.metadata, None, found)
    assert isinstance(c, MulticlassColumns), "a multiclass split"
    columns = MulticlassColumns(
        actual=_owned(c.actual), predicted=_owned(c.predicted), confidence=_owned(c.confidence),
    )
    k = len(labels)
    index = None
    if limits.is_dense(k):
        index = ThresholdIndex.build(columns.actual, columns.predicted, columns.confidence, k)
    return Fragment(start, k, columns, data.metadata, index)


def _owned_sets(c: MultilabelColumns) -> MultilabelColumns:
    # A slice's offsets index the whole file's lists: the fragment keeps its
    # own lists and offsets from 0 (row i's lists are the same codes).
    a, p = c.actual_offsets, c.predicted_offsets
    return MultilabelColumns(
        actual_offsets=_owned(a - a[0]), actual_codes=_owned(c.actual_codes[a[0] : a[-1]]),
        predicted_offsets=_owned(p - p[0]),
        predicted_codes=_owned(c.predicted_codes[p[0] : p[-1]]),
        predicted_confidence=_owned(c.predicted_confidence[p[0] : p[-1]]),
    )


def _owned(array: np.ndarray) -> np.ndarray:
    copy = np.array(array, copy=True)
    copy.flags.writeable = False
    return copy


# --- partial results -------------------------------------------------------------


def confusion_part(
    fragment: Fragment, conditions: tuple[Condition, ...], thresholds: Sequence[np.float32]
) -> np.ndarray:
    """The fragment's (K+1)x(K+1) confusion counts at each threshold: (P, K+1, K+1)."""
    k = fragment.n_labels
    if not conditions and fragment.index is not None:
        return np.stack([fragment.index.counts_at(t) for t in thresholds])
    return np.stack(confusion_counts_within(*fragment.arrays(), thresholds, k,
                                            limits.matrices_within(k),
                                            fragment.mask(conditions)))


def totals_part(
    fragment: Fragment, conditions: tuple[Condition, ...], threshold: float
) -> Totals:
    """The fragment's label totals (labels too many for a matrix)."""
    return label_totals(*fragment.arrays(), threshold, fragment.n_labels,
                        fragment.mask(conditions))


def curve_part(
    fragment: Fragment, conditions: tuple[Condition, ...], thresholds: np.ndarray
) -> ThresholdCounts:
    """The fragment's counts at each of a curve's thresholds."""
    if not conditions and fragment.index is not None:
        return index_threshold_counts(fragment.index, thresholds)
    return threshold_counts(*fragment.arrays(), thresholds, fragment.n_labels,
                            fragment.mask(conditions))


def histogram_part(
    fragment: Fragment, conditions: tuple[Condition, ...], edges: np.ndarray,
    actual_ok: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The fragment's predictions and right ones per confidence bin."""
    if not conditions and fragment.index is not None:
        return index_confidence_histogram(fragment.index, edges, actual_ok)
    return confidence_histogram(*fragment.arrays(), edges.astype(np.float32), actual_ok,
                                fragment.mask(conditions))


def select_part(
    fragment: Fragment, conditions: tuple[Condition, ...], threshold: float,
    predicate: Predicate, descending: bool, after: int, limit: int,
) -> tuple[np.ndarray, int]:
    """The fragment's ``limit + 1`` best order keys after ``after`` (split
    keys, ascending) and how many of its rows match."""
    local_after = after - fragment.start  # see the module docstring
    rows = fragment.mask(conditions)
    if rows is None and fragment.index is not None:
        page = select_from_index(fragment.index, threshold, predicate, descending, local_after,
                                 limit + 1)
    else:
        page = select_by_scan(*fragment.arrays(), confidence_bits(fragment.columns.confidence),
                              threshold, predicate, descending, local_after, limit + 1, rows)
    keys = np.asarray(page.keys, dtype=np.int64) + np.int64(fragment.start)
    return keys, int(page.total)


def reliability_part(
    fragment: Fragment, conditions: tuple[Condition, ...], bins: int, threshold: float,
    labels: np.ndarray | None,
) -> BinSums:
    """The fragment's top-label reliability sums from its confidences (exact
    sums, so any fragments add up to the split's, float for float)."""
    return confidence_bin_sums(*fragment.arrays(), fragment.n_labels, bins, threshold, labels,
                               fragment.mask(conditions))


def ids_digest_part(root: str, info: SplitInfo, start: int, stop: int) -> bytes:
    """The digest of the ids of rows ``[start, stop)`` (``storage.columns.ids_digest``),
    read from the split file's mapping: fragments do not keep their ids."""
    return ids_digest(read_ids(Path(root), info, _object_cache(root), (start, stop)))


def verdicts_part(
    fragment: Fragment, conditions: tuple[Condition, ...], threshold: float,
    actual_ok: np.ndarray | None,
) -> np.ndarray:
    """The fragment's verdict per row for a compare (``engine.compare.verdicts``):
    1 byte a row, what moves to the other run's fragment."""
    return verdicts(Columns(*fragment.arrays()), threshold, actual_ok, fragment.mask(conditions))


def changes_part(base: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Fixed and regressed rows of two runs' verdicts of the same rows (ids
    equal in the same order): ``engine.compare.count_changes`` without a join."""
    return np.array(count_changes(base, cand, None), dtype=np.int64)


# A multilabel view's counts at a threshold, as a partial result: per-label
# TP, support and kept predictions (K,), the rows per view (rows, answered,
# exact, answered exact) and the matrix when asked; all sums over rows.
LabelSetParts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


def label_set_counts_part(
    fragment: Fragment, conditions: tuple[Condition, ...], threshold: float,
    labels: np.ndarray | None, matrix: bool,
) -> LabelSetParts:
    """The fragment's multilabel counts (``engine.multilabel.counts.multilabel_counts``)."""
    index = _label_set_index(fragment, conditions, labels)
    if index is not None and matrix:
        counts = index.counts_at(threshold)  # a view of every row and label
    else:
        counts = multilabel_counts(fragment.label_sets(), threshold, fragment.n_labels,
                                   fragment.mask(conditions), labels, matrix)
    s = counts.summary
    rows = np.array([s.total, s.predicted, s.correct, s.answered_correct], dtype=np.int64)
    return counts.tp, counts.support, counts.predicted, rows, counts.matrix


def merge_label_set_counts(*parts: LabelSetParts) -> LabelSetParts:
    """Multilabel counts added up."""
    matrices = [p[4] for p in parts]
    matrix = None if any(m is None for m in matrices) else sum(matrices)
    return (*(sum(p[i] for p in parts) for i in range(4)), matrix)  # type: ignore[return-value]


def unlabeled_part(
    fragment: Fragment, conditions: tuple[Condition, ...], threshold: float,
    labels: np.ndarray | None,
) -> int:
    """The fragment's rows without an actual label of ``labels``
    (``engine.multilabel.rows.unlabeled_rows``)."""
    return unlabeled_rows(fragment.label_sets(), threshold, fragment.n_labels,
                          fragment.mask(conditions), labels)


def merge_counts(*parts: int) -> int:
    """Row counts added up."""
    return sum(parts)


def label_set_curve_part(
    fragment: Fragment, conditions: tuple[Condition, ...], thresholds: np.ndarray,
    labels: np.ndarray | None,
) -> MultilabelThresholdCounts:
    """The fragment's multilabel counts at each of a curve's thresholds."""
    index = _label_set_index(fragment, conditions, labels)
    if index is not None:
        return index.threshold_counts(thresholds)
    return multilabel_threshold_counts(fragment.label_sets(), thresholds, fragment.n_labels,
                                       fragment.mask(conditions), labels)


def _label_set_index(
    fragment: Fragment, conditions: tuple[Condition, ...], labels: np.ndarray | None,
) -> LabelSetIndex | None:
    # The index covers views of every row and label, as MultilabelView._index.
    return None if conditions or labels is not None else fragment.sets_index


def merge_label_set_curves(*parts: MultilabelThresholdCounts) -> MultilabelThresholdCounts:
    """Multilabel per-threshold counts added up (every part has the same
    thresholds and labels; the cumulative counts add up as their sums do)."""
    names = ("tp", "predicted", "support", "rows", "answered", "exact", "answered_exact")
    return replace(parts[0], **{n: sum(getattr(p, n) for p in parts) for n in names})


def pair_histogram_part(
    fragment: Fragment, conditions: tuple[Condition, ...], edges: np.ndarray,
    labels: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The fragment's predicted (row, label) pairs per confidence bin, and the right ones."""
    return pair_histogram(fragment.label_sets(), edges, fragment.n_labels,
                          fragment.mask(conditions), labels)


def changed_rows_part(
    base: np.ndarray, cand: np.ndarray, start: int, change: int, after: int, limit: int,
) -> tuple[np.ndarray, int]:
    """The first ``limit + 1`` positions (in the split) with ``change`` after
    split position ``after`` of a fragment pair's verdicts, starting at row
    ``start``: a part ``merge_keys`` merges (positions are keys here)."""
    local_after = max(after - start, NO_CURSOR)  # the module docstring's shift
    page = changed_rows(base, cand, None, change, local_after, limit + 1)
    return np.asarray(page.keys, dtype=np.int64) + np.int64(start), 0


# A breakdown's partial results: by value (a string or bool column), the
# values seen, rows of the view per value and null (last), and the matrices
# of every value's rows when they fit (else None); by bin, the same per bin.
ValueParts = tuple[list[object], np.ndarray, np.ndarray | None]
BinParts = tuple[np.ndarray, np.ndarray | None]


def value_slices_part(
    fragment: Fragment, conditions: tuple[Condition, ...], column: str, threshold: float,
    actual_ok: np.ndarray,
) -> ValueParts:
    """A breakdown by value on the fragment: every value with a row under the
    filter (whether or not the class filter keeps it: a slice's matrix holds
    those rows too), its rows of the view, and its matrix when they fit."""
    codes, values = categories(fragment.metadata, column)
    rows = fragment.mask(conditions)
    n, k = len(values), fragment.n_labels
    counts = code_counts(codes, n, fragment.columns.actual, actual_ok, rows)
    seen = code_counts(codes, n, None, None, rows)  # every row under the filter
    keep = np.flatnonzero(seen[:-1])
    matrices = None
    if limits.is_dense(k, n + 1):
        every = confusion_by_code(codes, n, *fragment.arrays(), threshold, k, rows)
        matrices = np.concatenate([every[keep], every[-1:]])
    return [values[i] for i in keep], np.append(counts[keep], counts[-1]), matrices


def merge_value_slices(*parts: ValueParts) -> ValueParts:
    """Breakdowns by value added up by value (each fragment has its own dictionary)."""
    order: dict[object, int] = {}
    for values, _, _ in parts:
        for value in values:
            order.setdefault(value, len(order))
    counts = np.zeros(len(order) + 1, dtype=np.int64)
    dense = all(m is not None for _, _, m in parts)
    matrices = None
    if dense and parts:
        size = parts[0][2].shape[1]  # type: ignore[union-attr]
        matrices = np.zeros((len(order) + 1, size, size), dtype=np.int64)
    for values, part_counts, part_matrices in parts:
        at = np.array([order[v] for v in values] + [len(order)], dtype=np.intp)
        counts[at] += part_counts
        if matrices is not None and part_matrices is not None:
            matrices[at] += part_matrices
    return list(order), counts, matrices


def column_range_part(
    fragment: Fragment, conditions: tuple[Condition, ...], column: str, kind: str,
    actual_ok: np.ndarray,
) -> tuple[tuple[float, float] | None, tuple[int, int] | None, int]:
    """The smallest and largest value of the view's rows (None: none), the
    column's ticks per second (time columns), and its null rows in the view."""
    values, valid, ticks = numbers(fragment.metadata, column, kind)
    rows = fragment.mask(conditions)
    actual = fragment.columns.actual
    found = value_range(values, valid, actual, actual_ok, rows)
    nulls = int(binned_counts(values, valid, np.zeros(2), actual, actual_ok, rows)[-1])
    return found, ticks, nulls


def merge_column_ranges(
    *parts: tuple[tuple[float, float] | None, tuple[int, int] | None, int],
) -> tuple[tuple[float, float] | None, tuple[int, int] | None, int]:
    """Ranges joined (the lowest low, the highest high), null rows added up."""
    found = [p[0] for p in parts if p[0] is not None]
    joined = (min(f[0] for f in found), max(f[1] for f in found)) if found else None
    return joined, parts[0][1], sum(p[2] for p in parts)


def bin_slices_part(
    fragment: Fragment, conditions: tuple[Condition, ...], column: str, kind: str,
    edges: np.ndarray, threshold: float, actual_ok: np.ndarray, dense: bool,
) -> BinParts:
    """A breakdown by bins of ``edges`` (as the filters compare them) on the
    fragment: rows of the view per bin, nulls last, and the bins' matrices
    when ``dense``."""
    values, valid, _ = numbers(fragment.metadata, column, kind)
    rows = fragment.mask(conditions)
    counts = binned_counts(values, valid, edges, fragment.columns.actual, actual_ok, rows)
    matrices = None
    if dense:
        matrices = confusion_by_bin(values, valid, edges, *fragment.arrays(), threshold,
                                    fragment.n_labels, rows)
    return counts, matrices


def merge_bin_slices(*parts: BinParts) -> BinParts:
    """Breakdowns by bins added up."""
    counts = sum(p[0] for p in parts)
    dense = all(p[1] is not None for p in parts)
    return counts, (sum(p[1] for p in parts) if dense else None)  # type: ignore[misc]


def steps_part(
    fragment: Fragment, conditions: tuple[Condition, ...], code: int
) -> PrecisionSteps:
    """Label ``code``'s kept TP and FP at each distinct confidence of the
    fragment's predictions (what threshold searches read)."""
    return precision_steps(*fragment.arrays(), code, fragment.mask(conditions))


def ranking_part(
    fragment: Fragment, conditions: tuple[Condition, ...], codes: np.ndarray
) -> RankingSteps:
    """The fragment's ranking of ``codes`` by confidence (a split without
    scores), as steps that merge (``engine.ranking.merge_ranking_steps``)."""
    return confidence_steps(*fragment.arrays(), codes, fragment.n_labels,
                            fragment.mask(conditions))


# --- merging ------------------------------------------------------------------------


def merge_sums(*parts: np.ndarray) -> np.ndarray:
    """Counts added up (confusion counts of several thresholds)."""
    return np.sum(np.stack(parts), axis=0)


def merge_totals(*parts: Totals) -> Totals:
    """Label totals added up."""
    return Totals(
        tp=sum(p.tp for p in parts), actual=sum(p.actual for p in parts),
        predicted=sum(p.predicted for p in parts), abstained=sum(p.abstained for p in parts),
    )


def merge_curves(*parts: ThresholdCounts) -> ThresholdCounts:
    """Per-threshold counts added up (every part has the same thresholds)."""
    return ThresholdCounts(
        thresholds=parts[0].thresholds,
        rows=sum(p.rows for p in parts), kept=sum(p.kept for p in parts),
        predicted=sum(p.predicted for p in parts), correct=sum(p.correct for p in parts),
    )


def merge_histograms(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Histograms added up."""
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


def merge_bin_sums(*parts: BinSums) -> BinSums:
    """Reliability sums added up (every part has the same bins)."""
    return reduce(operator.add, parts)


def merge_keys(limit: int, *parts: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """The ``limit + 1`` smallest keys of all parts (keys are distinct, being
    positions in one split), and every part's matches: a part again, so
    merges nest; ``engine.select.page_of`` makes the page of the last one."""
    keys = np.sort(np.concatenate([p[0] for p in parts]))[: limit + 1]
    return keys, sum(p[1] for p in parts)


def part_bytes(value: object) -> int:
    """Bytes of a partial result's arrays (what a query moves back per fragment)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(part_bytes(v) for v in value)
    if is_dataclass(value):  # Totals, ThresholdCounts, PrecisionSteps, RankingSteps, BinSums
        return sum(part_bytes(getattr(value, f.name)) for f in fields(value))
    return 8
