"""The multilabel threshold index: a view of every row and label, matrix
included, counted at any threshold without a scan (``LabelSetIndex``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import frozen
from evalql.engine.confusion import as_threshold
from evalql.engine.curves import as_thresholds
from evalql.engine.index import kept_prefix
from evalql.engine.jit import (
    chunk_bounds,
    inline_jit,
    jit,
    map_ranges,
    map_rows,
    n_chunks,
)
from evalql.engine.multilabel.columns import LabelSetColumns, csr_arrays, joined
from evalql.engine.multilabel.counts import (
    MultilabelCounts,
    MultilabelThresholdCounts,
    package_counts,
)

_TOP = 0x7FFFFFFF
_ROW_BITS = 0xFFFFFFFF


@inline_jit
def _descending_key(bits, row):
    # Sorts by confidence descending, then by row: as engine.select keys it.
    b = max(np.int64(bits), np.int64(0))  # -0.0 sorts as 0.0
    return np.uint64(((_TOP - b) << 32) | np.int64(row))


@jit
def _prediction_keys(predicted_offsets, predicted_codes, confidence_bits, n_labels):
    # A counting sort of the predictions by label: each label's keys in one run.
    starts = np.zeros(n_labels + 1, dtype=np.int64)
    for j in range(predicted_codes.shape[0]):
        starts[predicted_codes[j] + 1] += 1
    for c in range(n_labels):
        starts[c + 1] += starts[c]
    cursor = starts[:-1].copy()
    keys = np.empty(predicted_codes.shape[0], dtype=np.uint64)
    for i in range(predicted_offsets.shape[0] - 1):
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            code = predicted_codes[j]
            keys[cursor[code]] = _descending_key(confidence_bits[j], i)
            cursor[code] += 1
    return keys, starts


@jit
def _top_keys(top):
    # Keys of the rows with a prediction (top >= 0) by top confidence.
    n = 0
    for i in range(top.shape[0]):
        n += top[i] >= 0
    keys = np.empty(n, dtype=np.uint64)
    n = 0
    bits = top.view(np.int32)
    for i in range(top.shape[0]):
        if top[i] >= 0:
            keys[n] = _descending_key(bits[i], i)
            n += 1
    return keys


@jit
def _unkey(keys, lo, hi):
    # (confidence bits, row) of the ``_descending_key`` keys lo .. hi-1.
    bits = np.empty(hi - lo, dtype=np.int32)
    rows = np.empty(hi - lo, dtype=np.int32)
    for m in range(lo, hi):
        bits[m - lo] = np.int32(_TOP - np.int64(keys[m] >> np.uint64(32)))
        rows[m - lo] = np.int32(keys[m] & np.uint64(_ROW_BITS))
    return bits, rows


@jit
def _row_bounds(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence, n_labels,
):
    # Per row: its top confidence (-1 without predictions) and the interval
    # (lo, hi] of thresholds where its kept set equals its actual set, lo the
    # highest confidence of a prediction that is not actual (-1 if none), hi
    # the lowest of one that is (2 if none); rows never exact get lo = hi = 2.
    n = actual_offsets.shape[0] - 1
    top = np.full(n, -1.0, dtype=np.float32)
    lo = np.full(n, -1.0, dtype=np.float32)
    hi = np.full(n, 2.0, dtype=np.float32)
    stamp = np.full(n_labels, -1, dtype=np.int64)
    for i in range(n):
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            stamp[actual_codes[j]] = i
        found = 0
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            c = confidence[j]
            top[i] = max(top[i], c)
            if stamp[predicted_codes[j]] == i:
                found += 1
                hi[i] = min(hi[i], c)
            else:
                lo[i] = max(lo[i], c)
        if found < actual_offsets[i + 1] - actual_offsets[i] or lo[i] >= hi[i]:
            lo[i] = 2.0
            hi[i] = 2.0
    return top, lo, hi


@inline_jit
def _add_actual(vector, row, actual_offsets, actual_codes, n_labels):
    """Add row's actual labels to ``vector`` (index K when it has none)."""
    lo, hi = actual_offsets[row], actual_offsets[row + 1]
    if lo == hi:
        vector[n_labels] += 1
    for j in range(lo, hi):
        vector[actual_codes[j]] += 1


@jit
def _block_sums(rows, run_offsets, block, checkpoint_offsets, actual_offsets, actual_codes,
                n_labels, lo, hi):
    # Checkpoints lo .. hi-1 as block sums: checkpoint b of a run holds the
    # actual labels of its block b - 1 (nothing for b = 0).
    out = np.zeros((hi - lo, n_labels + 1), dtype=np.int32)
    for c in range(lo, hi):
        r = np.searchsorted(checkpoint_offsets, c, side="right") - 1
        b = c - checkpoint_offsets[r]
        if b == 0:
            continue
        start = run_offsets[r] + (b - 1) * block
        for m in range(start, start + block):
            _add_actual(out[c - lo], rows[m], actual_offsets, actual_codes, n_labels)
    return out


@jit
def _running_sums(sums, checkpoint_offsets):
    # Block sums into checkpoints: a running sum along each run, in place.
    for r in range(checkpoint_offsets.shape[0] - 1):
        for c in range(checkpoint_offsets[r] + 1, checkpoint_offsets[r + 1]):
            sums[c] += sums[c - 1]
    return sums


@inline_jit
def _actual_of_prefix(vector, conf, rows, checkpoints, start, end, first_checkpoint, block,
                      threshold, actual_offsets, actual_codes, n_labels):
    """The actual labels of a run's entries with confidence >= threshold, into
    ``vector``: the checkpoint below, plus the few entries after it. Returns
    how many entries that is."""
    n = kept_prefix(conf, start, end, threshold)
    b = n // block
    for a in range(n_labels + 1):
        vector[a] = checkpoints[first_checkpoint + b, a]
    for m in range(start + b * block, start + n):
        _add_actual(vector, rows[m], actual_offsets, actual_codes, n_labels)
    return n


@jit
def _index_counts(conf, rows, run_offsets, checkpoints, checkpoint_offsets, block,
                  top_conf, top_rows, top_checkpoints, actual_offsets, actual_codes, n_labels,
                  threshold):
    size = n_labels + 1
    matrix = np.zeros((size, size), dtype=np.int64)
    kept = np.zeros(n_labels, dtype=np.int64)
    column = np.zeros(size, dtype=np.int64)
    for j in range(n_labels):
        kept[j] = _actual_of_prefix(
            column, conf, rows, checkpoints, run_offsets[j], run_offsets[j + 1],
            checkpoint_offsets[j], block, threshold, actual_offsets, actual_codes, n_labels,
        )
        matrix[:, j] = column
    # int64, not literal zeros, which would compile kept_prefix once more.
    zero = np.int64(0)
    answered = _actual_of_prefix(
        column, top_conf, top_rows, top_checkpoints, zero, np.int64(top_conf.shape[0]), zero,
        block, threshold, actual_offsets, actual_codes, n_labels,
    )
    return matrix, kept, answered, column


def _unkeyed(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, row) of each ``_descending_key`` key, read-only."""
    parts = map_rows(_unkey, len(keys), frozen(keys, np.uint64))
    bits = joined([bits for bits, _ in parts])
    rows = joined([rows for _, rows in parts])
    return frozen(bits.view(np.float32), np.float32), frozen(rows, np.int32)


def _checkpoints(
    rows: np.ndarray,
    run_offsets: np.ndarray,
    block: int,
    checkpoint_offsets: np.ndarray,
    actual_offsets: np.ndarray,
    actual_codes: np.ndarray,
    n_labels: int,
) -> np.ndarray:
    """Per run, the actual labels of its first m entries for m = 0, block,
    2 block, ...: ranges of checkpoints' block sums side by side (each in its
    own buffer), then a running sum along each run. Read-only int32."""
    n = int(checkpoint_offsets[-1])
    bounds = chunk_bounds(n, n_chunks(n * block))  # a checkpoint sums a block of entries
    sums = joined(map_ranges(
        _block_sums, bounds, rows, run_offsets, int(block), checkpoint_offsets,
        actual_offsets, actual_codes, int(n_labels),
    ))
    return frozen(_running_sums(sums, checkpoint_offsets), np.int32)


# Entries between two checkpoints: the most a query adds up one by one per run.
INDEX_BLOCK = 256
# Checkpoints take (entries / block) x (K + 1) int32 counts; the block grows
# with K to stay under this, and past MAX_INDEX_BLOCK the index is not built.
INDEX_CHECKPOINT_BYTES = 64 << 20
MAX_INDEX_BLOCK = 8192


@dataclass(frozen=True)
class LabelSetIndex:
    """A multilabel split arranged so that ``multilabel_counts`` of all its rows
    and labels, matrix included, at any threshold costs O(K (log N + block))
    instead of a scan.

    - Predictions grouped by label, each label's run by confidence descending
      (``conf``, ``rows``): at t the kept predictions of label j are a prefix
      of its run, found by binary search; that prefix's length is j's kept
      count. Every ``block`` entries a checkpoint holds how many of the rows
      so far have each actual label (index K: rows with none), so the matrix
      column of j (rows with a actual and j kept) is a checkpoint plus fewer
      than ``block`` rows added up one by one; its entry (j, j) is j's TP.
    - Rows with a prediction by their top confidence, checkpointed alike:
      rows with a kept label are a prefix, and support minus its actual
      labels is the None column (rows with a actual and nothing kept).
    - Each row's exact-match interval lo < t <= hi (``lo`` and ``hi`` sorted
      apart): exact matches at t are #(lo < t) - #(hi < t).

    Memory: about 8 bytes a prediction, 8 a row, 8 a row's interval, and
    checkpoints of (predictions / block) x (K + 1) int32. Only views with no
    row mask and no class filter use it: a class filter changes which rows
    have a kept label on S and which are exact on S.
    """

    n_labels: int
    n_rows: int
    support: np.ndarray  # int64 (K,)
    unlabeled: int  # rows with no actual label
    run_offsets: np.ndarray  # int64 (K + 1,): label j's predictions are [j], [j + 1]
    conf: np.ndarray  # float32, descending within each run
    rows: np.ndarray  # int32, each prediction's row
    checkpoints: np.ndarray  # int32 (C, K + 1)
    checkpoint_offsets: np.ndarray  # int64 (K + 1,): label j's checkpoints
    top_conf: np.ndarray  # float32 descending: rows with a prediction, by top confidence
    top_rows: np.ndarray  # int32
    top_checkpoints: np.ndarray  # int32 (C', K + 1)
    lo: np.ndarray  # float32 ascending, rows that can be exact
    hi: np.ndarray  # float32 ascending
    block: int
    columns: LabelSetColumns

    @classmethod
    def build(
        cls, columns: LabelSetColumns, n_labels: int, block: int = INDEX_BLOCK
    ) -> LabelSetIndex | None:
        """The index of ``columns`` (a few seconds at 10M rows); None when its
        checkpoints would not fit ``INDEX_CHECKPOINT_BYTES`` even at
        ``MAX_INDEX_BLOCK`` entries a block."""
        actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence = (
            csr_arrays(columns)
        )
        n_rows = len(actual_offsets) - 1
        n_predictions = len(predicted_codes)
        while (n_predictions // block + n_labels + 1) * (n_labels + 1) * 4 > (
            INDEX_CHECKPOINT_BYTES
        ):
            block *= 2
            if block > MAX_INDEX_BLOCK:
                return None
        keys, run_offsets = _prediction_keys(
            predicted_offsets, predicted_codes, confidence.view(np.int32), n_labels
        )
        for j in range(n_labels):
            keys[run_offsets[j] : run_offsets[j + 1]].sort()
        run_offsets = frozen(run_offsets, np.int64)
        conf, rows = _unkeyed(keys)
        del keys
        top, lo, hi = _row_bounds(
            actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
            n_labels,
        )
        top_keys = _top_keys(frozen(top, np.float32))
        top_keys.sort()
        top_conf, top_rows = _unkeyed(top_keys)
        del top_keys
        possible = lo < 2.0
        checkpoint_offsets = frozen(
            np.concatenate([[0], np.cumsum(np.diff(run_offsets) // block + 1)]), np.int64
        )
        checkpoints = _checkpoints(
            rows, run_offsets, block, checkpoint_offsets, actual_offsets, actual_codes, n_labels
        )
        top_checkpoints = _checkpoints(
            top_rows, frozen(np.array([0, len(top_rows)]), np.int64), block,
            frozen(np.array([0, len(top_rows) // block + 1]), np.int64),
            actual_offsets, actual_codes, n_labels,
        )
        support = np.bincount(actual_codes, minlength=n_labels).astype(np.int64)
        return cls(
            n_labels=n_labels, n_rows=n_rows, support=support,
            unlabeled=int(np.count_nonzero(np.diff(actual_offsets) == 0)),
            run_offsets=run_offsets, conf=conf, rows=rows, checkpoints=checkpoints,
            checkpoint_offsets=checkpoint_offsets, top_conf=top_conf, top_rows=top_rows,
            top_checkpoints=top_checkpoints, lo=np.sort(lo[possible]),
            hi=np.sort(hi[possible]), block=block, columns=columns,
        )

    @property
    def nbytes(self) -> int:
        arrays = (self.run_offsets, self.conf, self.rows, self.checkpoints,
                  self.top_conf, self.top_rows, self.top_checkpoints, self.lo, self.hi)
        return sum(a.nbytes for a in arrays)

    def counts_at(self, threshold: float) -> MultilabelCounts:
        """``multilabel_counts(columns, threshold, K, matrix=True)``, exactly."""
        t = as_threshold(threshold)
        k = self.n_labels
        actual_offsets, actual_codes = csr_arrays(self.columns)[:2]
        matrix, kept, answered, top_actual = _index_counts(
            self.conf, self.rows, self.run_offsets, self.checkpoints,
            self.checkpoint_offsets, self.block, self.top_conf, self.top_rows,
            self.top_checkpoints, actual_offsets, actual_codes, k, t,
        )
        # Nothing kept: rows with a actual, minus those with a kept label.
        matrix[:k, k] = self.support - top_actual[:k]
        matrix[k, k] = self.unlabeled - top_actual[k]
        exact = int(np.searchsorted(self.lo, t, "left") - np.searchsorted(self.hi, t, "left"))
        # An exact row without a kept label is one with neither: the (None, None) cell.
        per_view = np.array([self.n_rows, answered, exact, exact - matrix[k, k]])
        tp = np.diagonal(matrix)[:k].copy()
        return package_counts(tp, self.support.copy(), kept, np.arange(k), per_view, matrix)

    def threshold_counts(self, thresholds: np.ndarray) -> MultilabelThresholdCounts:
        """``multilabel_threshold_counts`` of every row and label, one
        ``counts_at`` a threshold (under a millisecond each at 10M rows)."""
        t = as_thresholds(thresholds)
        points = [self.counts_at(float(v)) for v in t]
        return MultilabelThresholdCounts(
            thresholds=t,
            tp=np.array([c.tp for c in points]).reshape(len(t), self.n_labels),
            predicted=np.array([c.predicted for c in points]).reshape(len(t), self.n_labels),
            support=self.support.copy(),
            labels=np.arange(self.n_labels),
            rows=self.n_rows,
            answered=np.array([c.summary.predicted for c in points], dtype=np.int64),
            exact=np.array([c.summary.correct for c in points], dtype=np.int64),
            answered_exact=np.array([c.summary.answered_correct for c in points],
                                    dtype=np.int64),
        )
