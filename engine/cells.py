"""The non-empty cells of a confusion matrix too large to hold dense.

With K = 10,000 labels the (K+1)² matrix has 10⁸ cells (800 MB of int64),
yet a split of N rows fills at most N of them. Rows grouped by actual label
(``rows_by_actual``: a counting sort, built once per split, with the
predicted and confidence columns copied in group order, 12 bytes a row) let
one sequential pass count each actual label's row of the matrix in a
(K+1)-long scratch array and emit only its non-zero cells: O(N + cells)
time, O(K + cells) memory, at any threshold. (Reading the columns through
the grouped positions instead is a cache miss a row for rare labels: 50 ns
a row measured at 1M rows, against a few ns sequentially.) The cells are
those of ``engine.confusion.confusion_counts``, entry for entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, row_mask
from evalql.engine.confusion import as_threshold, kept_code
from evalql.engine.jit import count_rows, jit


@dataclass(frozen=True)
class RowsByActual:
    """Row positions grouped by actual label (None, code -1, last as K), each
    group in split order: group ``a`` is ``rows[starts[a]:starts[a + 1]]``;
    ``predicted`` and ``confidence`` are those rows' columns, in that order."""

    rows: np.ndarray  # int32 positions, (N,)
    starts: np.ndarray  # int64, (K + 2,)
    predicted: np.ndarray  # int32, (N,)
    confidence: np.ndarray  # float32, (N,)

    @property
    def nbytes(self) -> int:
        return sum(int(v.nbytes) for v in (self.rows, self.starts, self.predicted,
                                           self.confidence))


@jit
def _group_by_actual(actual, predicted, confidence, n_labels):
    size = n_labels + 1
    starts = np.zeros(size + 1, dtype=np.int64)
    for i in range(actual.shape[0]):
        a = actual[i]
        starts[(a if a >= 0 else n_labels) + 1] += 1
    for a in range(size):
        starts[a + 1] += starts[a]
    fill = starts[:size].copy()
    rows = np.empty(actual.shape[0], dtype=np.int32)
    grouped_predicted = np.empty(actual.shape[0], dtype=np.int32)
    grouped_confidence = np.empty(actual.shape[0], dtype=np.float32)
    for i in range(actual.shape[0]):
        a = actual[i]
        a = a if a >= 0 else n_labels
        j = fill[a]
        rows[j], grouped_predicted[j], grouped_confidence[j] = i, predicted[i], confidence[i]
        fill[a] = j + 1
    return rows, starts, grouped_predicted, grouped_confidence


def rows_by_actual(
    actual: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, n_labels: int
) -> RowsByActual:
    """Group rows by actual label (a stable counting sort, O(N + K)).

    Example: actual ``[1, -1, 0, 1]``, K = 2 gives rows ``[2, 0, 3, 1]`` and
    starts ``[0, 1, 3, 4]`` (label 0, label 1, None).
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    return RowsByActual(*_group_by_actual(actual, predicted, confidence, n_labels))


@jit
def _cells(rows, starts, predicted, confidence, threshold, n_labels, m, use_mask):
    # predicted and confidence in group order: read sequentially.
    size = n_labels + 1
    scratch = np.zeros(size + 1, dtype=np.int64)  # the last: masked-out rows
    capacity = 1024
    out_a = np.empty(capacity, dtype=np.int64)
    out_p = np.empty(capacity, dtype=np.int64)
    out_n = np.empty(capacity, dtype=np.int64)
    d = 0
    for a in range(size):
        lo, hi = starts[a], starts[a + 1]
        # Count the group's row of the matrix, without a branch on the row
        # (engine.confusion.kept_code; a masked-out row goes to the dump).
        for j in range(lo, hi):
            p = kept_code(predicted[j], confidence[j], threshold, n_labels)
            if use_mask:
                p += np.int64(not m[rows[j]]) * size
            scratch[min(p, size)] += 1
        # Emit and clear its non-zero cells: every p seen is in the group
        # again, so a second read of it (in cache) finds them all.
        if d + (hi - lo) + 1 > capacity:
            while d + (hi - lo) + 1 > capacity:
                capacity *= 2
            out_a = _grown(out_a, d, capacity)
            out_p = _grown(out_p, d, capacity)
            out_n = _grown(out_n, d, capacity)
        for j in range(lo, hi):
            p = np.int64(predicted[j])
            p = p if p >= 0 else n_labels
            for q in (p, n_labels):
                if scratch[q] > 0:
                    out_a[d], out_p[d], out_n[d] = a, q, scratch[q]
                    scratch[q] = 0
                    d += 1
        scratch[size] = 0
    return out_a[:d].copy(), out_p[:d].copy(), out_n[:d].copy()


@jit
def _grown(values, used, capacity):
    out = np.empty(capacity, dtype=values.dtype)
    out[:used] = values[:used]
    return out


@dataclass(frozen=True)
class Cells:
    """Non-empty cells of a confusion matrix: ``count`` rows in (actual, predicted),
    None as K. Grouped by actual label; inside a group in no particular order."""

    actual: np.ndarray  # int64
    predicted: np.ndarray  # int64
    count: np.ndarray  # int64, > 0


def sparse_confusion(
    groups: RowsByActual,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | None = None,
) -> Cells:
    """The non-empty cells of ``confusion_counts(actual, predicted, confidence,
    threshold, n_labels, mask)``, with ``groups = rows_by_actual(actual,
    predicted, confidence, n_labels)``.

    Example: actual ``[0, 1]``, predicted ``[0, 0]``, confidence ``[0.9, 0.2]``,
    threshold 0.5, K = 2 gives cells (0, 0): 1 and (1, None = 2): 1.
    """
    n = groups.rows.shape[0]
    m, use_mask = row_mask(mask, n)
    count_rows(n)
    a, p, c = _cells(groups.rows, groups.starts, groups.predicted, groups.confidence,
                     as_threshold(threshold), n_labels, m, use_mask)
    return Cells(a, p, c)


def largest_cells(
    cells: Cells, index: np.ndarray, min_count: int, off_diagonal: bool, first: int
) -> Cells:
    """The ``first`` largest cells among rows and columns ``index`` (label codes,
    None = K last, as ``engine.metrics.submatrix`` takes them), with at least
    ``min_count`` rows and, if ``off_diagonal``, actual != predicted; largest
    first, ties in the order of ``index`` (row, then column). Codes are
    returned as positions in ``index``, as in the submatrix.
    """
    position = np.full(int(max(index.max(), cells.actual.max(initial=0),
                               cells.predicted.max(initial=0))) + 1, -1, dtype=np.int64)
    position[index] = np.arange(len(index))
    a, p = position[cells.actual], position[cells.predicted]
    keep = (a >= 0) & (p >= 0) & (cells.count >= max(min_count, 1))
    if off_diagonal:
        keep &= a != p
    a, p, count = a[keep], p[keep], cells.count[keep]
    if len(count) > first:
        # Every cell as large as the first-th largest, then the exact order of those.
        floor = np.partition(count, len(count) - first)[len(count) - first]
        keep = count >= floor
        a, p, count = a[keep], p[keep], count[keep]
    order = np.lexsort((p, a, -count))[:first]
    return Cells(a[order], p[order], count[order])
