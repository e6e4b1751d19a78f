"""A threshold index: the confusion matrix at any threshold without a scan.

The rows of a split are grouped by confusion cell (actual, predicted at
threshold 0) and, inside each cell, ordered by confidence descending (ties by
position in the split). At a threshold t the rows of cell (a, p) that keep
their prediction are a prefix of that cell's run, found by one binary search;
the rest move to (a, None). The whole matrix then costs (K+1)^2 binary
searches, O(K^2 log N), independent of N. The same order serves drill-down:
the first page of a cell at t is the start of its run.

The index keeps 4 bytes a row, the row numbers, and one byte a row more:
the confidence at every ``SAMPLE_EVERY``-th position. A row's confidence is
read through its number from the split's column, which the index refers to
and does not copy. A search runs on the sample first, then counts the rows
of one stride (at most 4) through their numbers. Those reads land anywhere
in the column, so lookups cost more than when the index copied the
confidences beside the row numbers (8 bytes a row): on 10M x 100, CPU of a
matrix's lookup, 0.30-0.45 ms against 0.17 (0.46-0.78 ms with a sample of
every 16th confidence, 4.25 bytes a row); the index holds 50 MB instead of
80.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, frozen
from evalql.engine.jit import chunk_bounds, inline_jit, jit, map_ranges, n_chunks

# The build: a counting sort of the rows by cell (each row written once, into
# its cell's run), then each run sorted as one 64-bit integer a row, the
# confidence's descending-order bits above the row number. Integer order is
# then (confidence descending, position), so ties need no stable sort, and
# NumPy sorts 64-bit integers with SIMD (x86-simd-sort: about 0.1 s for 10M)
# where an argsort of floats through an index took 2 s.
_LOW32 = np.int64(0xFFFFFFFF)

# One sampled confidence per this many positions of the index: 1 byte a
# row; a lookup then counts one stride, 4 rows at most, through the order
# (every 16th: 0.25 bytes a row, and a slower lookup: module docstring).
SAMPLE_EVERY = 4


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


@inline_jit
def _row(rows, use_rows, i):
    # The i-th indexed row: rows[i] for a filter's rows, else i itself.
    return np.int64(rows[i]) if use_rows else np.int64(i)


@jit
def _cell_sizes(actual, predicted, rows, use_rows, n_labels, lo, hi):
    sizes = np.zeros((n_labels + 1) ** 2, dtype=np.int64)
    for i in range(lo, hi):
        sizes[_cell(actual, predicted, _row(rows, use_rows, i), n_labels)] += 1
    return sizes


@jit
def _scatter_by_cell(actual, predicted, conf_bits, rows, use_rows, n_labels, chunk_starts,
                     chunk_los, packed, lo, hi):
    """Rows ``lo:hi`` (the chunk starting at ``lo``) written into that
    chunk's slots of their cells' runs, as (descending bits << 32 | row)."""
    c = 0
    while chunk_los[c] != lo:
        c += 1
    cursor = chunk_starts[c].copy()
    for i in range(lo, hi):
        r = _row(rows, use_rows, i)
        cell = _cell(actual, predicted, r, n_labels)
        # Wraps past the sign bit for the top half of the 32 bits: the caller
        # sorts these words as unsigned.
        packed[cursor[cell]] = (_descending(conf_bits[r]) << 32) | r
        cursor[cell] += 1
    return 0


@jit
def _unpack(packed, order, sample_bits, lo, hi):
    """Row numbers back from the sorted words, and every ``SAMPLE_EVERY``-th
    word's confidence (as bits: -0.0 comes back as 0.0, which it equals)."""
    for j in range(lo, hi):
        word = packed[j]
        order[j] = np.int32(word & _LOW32)
        if j % SAMPLE_EVERY == 0:
            b = (_LOW32 - ((word >> 32) & _LOW32)) ^ 0x80000000  # the float's bits, unsigned
            b = b - (np.int64(1) << 32) if b >= (np.int64(1) << 31) else b
            sample_bits[j // SAMPLE_EVERY] = np.int32(b ^ ((b >> 31) & 0x7FFFFFFF))
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


@inline_jit
def _stride(sample, lo, hi, threshold):
    """``(first, last)``: rows of run ``lo:hi`` before ``first`` are kept at
    ``threshold``, rows from ``last`` on are not, as the sample tells."""
    g_lo = (lo + SAMPLE_EVERY - 1) // SAMPLE_EVERY
    g_hi = (hi + SAMPLE_EVERY - 1) // SAMPLE_EVERY
    left, right = g_lo, g_hi
    while left < right:
        mid = (left + right) >> 1
        if sample[mid] >= threshold:
            left = mid + 1
        else:
            right = mid
    first = lo if left == g_lo else (left - 1) * SAMPLE_EVERY + 1
    last = hi if left == g_hi else left * SAMPLE_EVERY
    return first, last


@inline_jit
def kept_in_run(order, confidence, sample, lo, hi, threshold):
    """How many rows of the index's run ``lo:hi`` (confidence descending)
    have a confidence ``>= threshold``: ``kept_prefix`` over the confidences
    read through ``order``, its search first narrowed by ``sample`` (the
    confidence at every ``SAMPLE_EVERY``-th position) to one stride.
    """
    first, last = _stride(sample, lo, hi, threshold)
    # Counted, not searched: the stride's reads are independent, so the CPU
    # overlaps their cache misses, where a search waits for each in turn.
    kept = first - lo
    for j in range(first, last):
        kept += confidence[order[j]] >= threshold
    return kept


# A run this short is read once, whole, when several thresholds are asked of
# it (curves, histograms): its rows' confidences are independent reads, which
# the CPU overlaps, where a search per threshold waits for one read after
# another. Measured on 10M x 100, a 101-point curve: 70 ms of one core by
# searches alone, 22 ms with runs up to 1,024 rows read whole (14 ms with the
# confidences copied beside the row numbers).
READ_WHOLE = 1024


@inline_jit
def kept_at_each(order, confidence, sample, lo, hi, thresholds, kept, buffer, firsts, lasts):
    """``kept[j]``: rows of run ``lo:hi`` with confidence ``>= thresholds[j]``,
    for ascending ``thresholds``. Scratch the caller allocates once:
    ``buffer`` (float32, ``READ_WHOLE``), ``firsts`` and ``lasts`` (int64, as
    many as thresholds).

    A run of at most ``READ_WHOLE`` rows is read once and merged with the
    thresholds; a longer one is cut by the sample for every threshold
    first, then each cut's stride is counted, reads independent of each other.
    """
    points = thresholds.shape[0]
    n = hi - lo
    if n <= buffer.shape[0]:
        for i in range(n):
            buffer[i] = confidence[order[lo + i]]
        i = n
        for j in range(points):
            while i > 0 and buffer[i - 1] < thresholds[j]:
                i -= 1
            kept[j] = i
        return
    g_lo = (lo + SAMPLE_EVERY - 1) // SAMPLE_EVERY
    g_hi = (hi + SAMPLE_EVERY - 1) // SAMPLE_EVERY
    left = g_hi
    for j in range(points):
        # Thresholds ascend, so the first sample below one only moves back.
        right, left = left, g_lo
        while left < right:
            mid = (left + right) >> 1
            if sample[mid] >= thresholds[j]:
                left = mid + 1
            else:
                right = mid
        firsts[j] = lo if left == g_lo else (left - 1) * SAMPLE_EVERY + 1
        lasts[j] = hi if left == g_hi else left * SAMPLE_EVERY
    for j in range(points):
        count = firsts[j] - lo
        for i in range(firsts[j], lasts[j]):
            count += confidence[order[i]] >= thresholds[j]
        kept[j] = count


@jit
def _counts_at(offsets, order, confidence, sample, n_labels, threshold):
    size = n_labels + 1
    counts = np.zeros((size, size), dtype=np.int64)
    # Two passes: every run cut by the sample first, then the cuts' rows
    # read, so one run's reads need not wait for another's search (0.66 ms
    # against 0.87 ms of one core for 10M x 100 on a loaded machine, when
    # the sample was every 16th confidence).
    firsts = np.empty(size * size, dtype=np.int64)
    lasts = np.empty(size * size, dtype=np.int64)
    for cell in range(size * size):
        if cell % size == n_labels:  # the None column keeps every row: no search
            continue
        firsts[cell], lasts[cell] = _stride(sample, offsets[cell], offsets[cell + 1], threshold)
    for a in range(size):
        for p in range(size):
            cell = a * size + p
            lo, hi = offsets[cell], offsets[cell + 1]
            if p == n_labels:
                counts[a, p] += hi - lo
                continue
            kept = firsts[cell] - lo
            for j in range(firsts[cell], lasts[cell]):
                kept += confidence[order[j]] >= threshold
            counts[a, p] += kept
            counts[a, n_labels] += hi - lo - kept
    return counts


@dataclass(frozen=True)
class ThresholdIndex:
    """Rows ordered by (cell, confidence descending, position).

    ``offsets[c] : offsets[c + 1]`` is the run of cell ``c = a * (K+1) + p``
    (None as K) in ``order``: row numbers into ``confidence`` (the split's
    column, not a copy; a filter's index holds the split's numbers of its
    rows). ``sample[g]`` is the confidence of row ``order[g * SAMPLE_EVERY]``.
    """

    n_labels: int
    offsets: np.ndarray  # int64, (K+1)^2 + 1
    order: np.ndarray  # int32 row numbers
    confidence: np.ndarray  # float32, the column ``order`` indexes (not counted in nbytes)
    sample: np.ndarray  # float32, ceil(len(order) / SAMPLE_EVERY)

    @classmethod
    def build(
        cls, actual: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, n_labels: int,
        chunks: int | None = None, rows: np.ndarray | None = None,
    ) -> ThresholdIndex:
        """Index a split's columns (int32 codes, -1 = None; float32 confidence).

        ``rows``: the row numbers to index, ascending (a filter's rows);
        None for every row. ``chunks``: row ranges sorted side by side
        (default one per core; the background builder passes 1, so a build
        never takes the core a request needs).
        """
        actual, predicted, confidence = columns(actual, predicted, confidence)
        if actual.shape[0] >= 1 << 31:
            raise ValueError("a threshold index holds fewer than 2^31 rows")
        use_rows = rows is not None
        picked = frozen(rows, np.int64)
        n = picked.shape[0] if use_rows else actual.shape[0]
        # The kernels read the columns at these numbers: out of range, they
        # would read past them.
        if use_rows and n and (picked.min() < 0 or picked.max() >= actual.shape[0]):
            raise ValueError("rows have to be row numbers of the columns")
        bounds = chunk_bounds(n, n_chunks(n) if chunks is None else chunks)
        sizes = np.array(map_ranges(_cell_sizes, bounds, actual, predicted, picked, use_rows,
                                    n_labels))
        offsets = np.zeros(sizes.shape[1] + 1, dtype=np.int64)
        np.cumsum(sizes.sum(axis=0), out=offsets[1:])
        # Chunk k's slots in a cell's run follow the earlier chunks' rows of it.
        starts = offsets[:-1] + np.cumsum(sizes, axis=0) - sizes
        chunk_los = np.array([lo for lo, _ in bounds], dtype=np.int64)
        packed = np.empty(n, dtype=np.int64)
        map_ranges(_scatter_by_cell, bounds, actual, predicted, confidence.view(np.int32),
                   picked, use_rows, n_labels, starts, chunk_los, packed)
        # Ranges of cells holding about the same number of rows each: cell
        # sizes are skewed, so equal numbers of cells would leave a core idle.
        n_cells = offsets.shape[0] - 1
        cuts = np.searchsorted(offsets, np.linspace(0, n, len(bounds) + 1)[1:-1]).tolist()
        edges = [0, *(min(c, n_cells) for c in cuts), n_cells]
        map_ranges(_sort_runs, list(zip(edges[:-1], edges[1:], strict=True)),
                   packed.view(np.uint64), offsets)
        order = np.empty(n, dtype=np.int32)
        sample = np.empty(-(-n // SAMPLE_EVERY), dtype=np.float32)
        map_ranges(_unpack, bounds, packed, order, sample.view(np.int32))
        del packed
        for array in (offsets, order, sample):
            array.flags.writeable = False  # shared by every request
        return cls(n_labels, offsets, order, confidence, sample)

    @property
    def nbytes(self) -> int:
        """Bytes the index holds (the confidence column is the split's)."""
        return self.offsets.nbytes + self.order.nbytes + self.sample.nbytes

    def counts_at(self, threshold: np.float32) -> np.ndarray:
        """The (K+1)x(K+1) confusion counts at ``threshold`` (already float32)."""
        return _counts_at(self.offsets, self.order, self.confidence, self.sample, self.n_labels,
                          np.float32(threshold))

