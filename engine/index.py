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
from evalql.engine.jit import chunk_bounds, inline_jit, jit, map_ranges, n_chunks

# The build: a counting sort of the rows by cell (each row written once, into
# its cell's run), then each run sorted as one 64-bit integer a row, the
# confidence's descending-order bits above the row number. Integer order is
# then (confidence descending, position), so ties need no stable sort, and
# NumPy sorts 64-bit integers with SIMD (x86-simd-sort: about 0.1 s for 10M)
# where an argsort of floats through an index took 2 s.
_LOW32 = np.int64(0xFFFFFFFF)


@inline_jit
def _descending(bits):
    """A float32's bits (as int32) as 32 bits whose unsigned order is the
    float's descending order; -0.0 ties with 0.0, as a comparison does."""
    b = np.int64(bits)
    b = b if b != -2147483648 else 0
    # IEEE floats order as sign-magnitude integers: flipping the magnitude of
    # negatives and the sign bit of all gives ascending unsigned order.
    ascending = ((b ^ ((b >> 31) & 0x7FFFFFFF)) ^ 0x80000000) & _LOW32
    return _LOW32 - ascending


@inline_jit
def _cell(actual, predicted, i, n_labels):
    a = np.int64(actual[i])
    p = np.int64(predicted[i])
    a = a if a >= 0 else n_labels
    p = p if p >= 0 else n_labels
    return a * (n_labels + 1) + p


@jit
def _cell_sizes(actual, predicted, n_labels, lo, hi):
    sizes = np.zeros((n_labels + 1) ** 2, dtype=np.int64)
    for i in range(lo, hi):
        sizes[_cell(actual, predicted, i, n_labels)] += 1
    return sizes


@jit
def _scatter_by_cell(actual, predicted, conf_bits, n_labels, chunk_starts, chunk_los, packed,
                     lo, hi):
    """Rows ``lo:hi`` (the chunk starting at ``lo``) written into that
    chunk's slots of their cells' runs, as (descending bits << 32 | row)."""
    c = 0
    while chunk_los[c] != lo:
        c += 1
    cursor = chunk_starts[c].copy()
    for i in range(lo, hi):
        cell = _cell(actual, predicted, i, n_labels)
        # Wraps past the sign bit for the top half of the 32 bits: the caller
        # sorts these words as unsigned.
        packed[cursor[cell]] = (_descending(conf_bits[i]) << 32) | i
        cursor[cell] += 1
    return 0


@jit
def _unpack(packed, order, conf_bits, lo, hi):
    """Row numbers and confidences (as bits) back from the sorted words."""
    for j in range(lo, hi):
        word = packed[j]
        order[j] = np.int32(word & _LOW32)
        b = (_LOW32 - ((word >> 32) & _LOW32)) ^ 0x80000000  # the float's bits, unsigned
        b = b - (np.int64(1) << 32) if b >= (np.int64(1) << 31) else b
        conf_bits[j] = np.int32(b ^ ((b >> 31) & 0x7FFFFFFF))
    return 0


def _sort_runs(words: np.ndarray, offsets: np.ndarray, lo_cell: int, hi_cell: int) -> None:
    """Sort each cell's run of ``words`` (uint64) in place; NumPy releases the GIL."""
    for c in range(lo_cell, hi_cell):
        lo, hi = offsets[c], offsets[c + 1]
        if hi - lo > 1:
            words[lo:hi].sort()


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
        cls, actual: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, n_labels: int,
        chunks: int | None = None,
    ) -> ThresholdIndex:
        """Index a split's columns (int32 codes, -1 = None; float32 confidence).

        ``chunks``: row ranges sorted side by side (default one per core;
        the background builder passes 1, so a build never takes the core a
        request needs).
        """
        actual, predicted, confidence = columns(actual, predicted, confidence)
        n = actual.shape[0]
        if n >= 1 << 31:
            raise ValueError("a threshold index holds fewer than 2^31 rows")
        bounds = chunk_bounds(n, n_chunks(n) if chunks is None else chunks)
        sizes = np.array(map_ranges(_cell_sizes, bounds, actual, predicted, n_labels))
        offsets = np.zeros(sizes.shape[1] + 1, dtype=np.int64)
        np.cumsum(sizes.sum(axis=0), out=offsets[1:])
        # Chunk k's slots in a cell's run follow the earlier chunks' rows of it.
        starts = offsets[:-1] + np.cumsum(sizes, axis=0) - sizes
        chunk_los = np.array([lo for lo, _ in bounds], dtype=np.int64)
        packed = np.empty(n, dtype=np.int64)
        map_ranges(_scatter_by_cell, bounds, actual, predicted, confidence.view(np.int32),
                   n_labels, starts, chunk_los, packed)
        # Ranges of cells holding about the same number of rows each: cell
        # sizes are skewed, so equal numbers of cells would leave a core idle.
        n_cells = offsets.shape[0] - 1
        cuts = np.searchsorted(offsets, np.linspace(0, n, len(bounds) + 1)[1:-1]).tolist()
        edges = [0, *(min(c, n_cells) for c in cuts), n_cells]
        map_ranges(_sort_runs, list(zip(edges[:-1], edges[1:], strict=True)),
                   packed.view(np.uint64), offsets)
        order, sorted_conf = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.float32)
        map_ranges(_unpack, bounds, packed, order, sorted_conf.view(np.int32))
        del packed
        for array in (offsets, order, sorted_conf):
            array.flags.writeable = False  # shared by every request
        return cls(n_labels, offsets, order, sorted_conf)

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + self.order.nbytes + self.sorted_conf.nbytes

    def counts_at(self, threshold: np.float32) -> np.ndarray:
        """The (K+1)x(K+1) confusion counts at ``threshold`` (already float32)."""
        return _counts_at(self.offsets, self.sorted_conf, self.n_labels, np.float32(threshold))
