"""A threshold index: the confusion matrix at any threshold without a scan.

The rows of a split are grouped by confusion cell (actual, predicted at
threshold 0) and, inside each cell, ordered by confidence descending (ties by
position in the split). At a threshold t the rows of cell (a, p) that keep
their prediction are a prefix of that cell's run, found by one binary search;
the rest move to (a, None). The whole matrix then costs (K+1)^2 binary
searches, O(K^2 log N), independent of N. The same order serves drill-down:
the first page of a cell at t is the start of its run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns
from evalql.engine.jit import jit, map_ranges, n_chunks


@jit
def _cell_offsets(actual, predicted, n_labels):
    size = n_labels + 1
    offsets = np.zeros(size * size + 1, dtype=np.int64)
    for i in range(actual.shape[0]):
        a = actual[i] if actual[i] >= 0 else n_labels
        p = predicted[i] if predicted[i] >= 0 else n_labels
        offsets[a * size + p + 1] += 1
    for c in range(size * size):
        offsets[c + 1] += offsets[c]
    return offsets


@jit
def _scatter_by_cell(actual, predicted, n_labels, offsets):
    size = n_labels + 1
    cursor = offsets[:-1].copy()
    order = np.empty(actual.shape[0], dtype=np.int32)
    for i in range(actual.shape[0]):
        a = actual[i] if actual[i] >= 0 else n_labels
        p = predicted[i] if predicted[i] >= 0 else n_labels
        cell = a * size + p
        order[cursor[cell]] = i
        cursor[cell] += 1
    return order


@jit
def _sort_cells(order, confidence, offsets, sorted_conf, lo_cell, hi_cell):
    # Within a cell rows are in split order already (the scatter is stable),
    # so a stable sort on -confidence gives confidence descending, ties by
    # position. Cells are independent: each thread sorts its own range of
    # cells, writing only their runs.
    for c in range(lo_cell, hi_cell):
        lo, hi = offsets[c], offsets[c + 1]
        if hi - lo < 1:
            continue
        rows = order[lo:hi].copy()
        keys = -confidence[rows]
        perm = np.argsort(keys, kind="mergesort")
        for j in range(hi - lo):
            order[lo + j] = rows[perm[j]]
            sorted_conf[lo + j] = confidence[rows[perm[j]]]
    return 0


@jit
def kept_prefix(sorted_conf, lo, hi, threshold):
    """How many of ``sorted_conf[lo:hi]`` (descending) are ``>= threshold``.

    A cell run's kept predictions are its prefix: one binary search.
    """
    left, right = lo, hi
    while left < right:
        mid = (left + right) >> 1
        if sorted_conf[mid] >= threshold:
            left = mid + 1
        else:
            right = mid
    return left - lo


@jit
def _counts_at(offsets, sorted_conf, n_labels, threshold):
    size = n_labels + 1
    counts = np.zeros((size, size), dtype=np.int64)
    for a in range(size):
        for p in range(size):
            lo = offsets[a * size + p]
            hi = offsets[a * size + p + 1]
            if hi == lo:
                continue
            if p == n_labels:
                counts[a, p] += hi - lo
                continue
            kept = kept_prefix(sorted_conf, lo, hi, threshold)
            counts[a, p] += kept
            counts[a, n_labels] += hi - lo - kept
    return counts


@dataclass(frozen=True)
class ThresholdIndex:
    """Rows ordered by (cell, confidence descending, position).

    ``offsets[c] : offsets[c + 1]`` is the run of cell ``c = a * (K+1) + p``
    (None as K) in ``order`` (row numbers) and ``sorted_conf``.
    """

    n_labels: int
    offsets: np.ndarray  # int64, (K+1)^2 + 1
    order: np.ndarray  # int32 row numbers
    sorted_conf: np.ndarray  # float32, aligned with order

    @classmethod
    def build(
        cls, actual: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, n_labels: int
    ) -> ThresholdIndex:
        """Index a split's columns (int32 codes, -1 = None; float32 confidence)."""
        actual, predicted, confidence = columns(actual, predicted, confidence)
        offsets = _cell_offsets(actual, predicted, n_labels)
        order = _scatter_by_cell(actual, predicted, n_labels, offsets)
        sorted_conf = np.empty(order.shape[0], dtype=np.float32)
        # Ranges of cells holding about the same number of rows each: cell
        # sizes are skewed, so equal numbers of cells would leave a core idle.
        n_cells = offsets.shape[0] - 1
        parts = n_chunks(order.shape[0])
        cuts = np.searchsorted(offsets, np.linspace(0, offsets[-1], parts + 1)[1:-1]).tolist()
        edges = [0, *(min(c, n_cells) for c in cuts), n_cells]
        bounds = list(zip(edges[:-1], edges[1:], strict=True))
        map_ranges(_sort_cells, bounds, order, confidence, offsets, sorted_conf)
        for array in (offsets, order, sorted_conf):
            array.flags.writeable = False  # shared by every request
        return cls(n_labels, offsets, order, sorted_conf)

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + self.order.nbytes + self.sorted_conf.nbytes

    def counts_at(self, threshold: np.float32) -> np.ndarray:
        """The (K+1)x(K+1) confusion counts at ``threshold`` (already float32)."""
        return _counts_at(self.offsets, self.sorted_conf, self.n_labels, np.float32(threshold))
