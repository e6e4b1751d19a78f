"""The counting kernels: the (K+1)² confusion matrix and per-label totals.

Kernels count; Python divides. Conventions shared by every kernel:

- label codes are int32, ``-1`` is None (no annotation / no prediction);
- confidences are float32 and a prediction is kept when ``confidence >= t``
  with ``t`` already rounded to float32;
- a confusion matrix has ``K + 1`` rows and columns, the last one for None,
  indexed ``counts[actual][predicted]``.

Kernels are private (``_name``) and pure; the public wrappers below fix dtypes
and package results. A kernel counts one range of rows into
its own buffer; ``jit.sum_rows`` runs one range per core and sums the buffers,
so no counter is ever shared between threads.
"""

from __future__ import annotations

import numpy as np

from evalql.engine.arrays import DROPPED, RowTest, columns, row_test
from evalql.engine.jit import inline_jit, jit, sum_rows
from evalql.engine.metrics import Totals

# A code plus DROPPED (1 << 40, engine.arrays) is past every label, and min()
# clips it to None: larger than any label count, small enough that sums of
# two stay far from overflow. ``dropped << 40`` below adds the same amount.


@inline_jit
def kept_code(predicted, confidence, threshold, n_labels):
    """The predicted cell of one prediction at ``threshold``, None as ``n_labels``.

    The one statement of abstention in the engine: a prediction is kept when
    ``confidence >= threshold``; otherwise, and when there is none (a
    negative code), it is None.
    """
    # Shifts, adds and min, not branches or selects: whether a row's
    # confidence clears the threshold is as unpredictable as a coin toss, and
    # a mispredicted branch per row doubled the scan (56 -> 28 ms of CPU a
    # core for 10M rows). A negative code (its sign bit, >> 63) or a dropped
    # prediction adds DROPPED, and min() brings it back to None.
    p = np.int64(predicted)
    dropped = np.int64(confidence < threshold) << 40
    return min(p + ((p >> 63) & DROPPED) + dropped, n_labels)


@inline_jit
def cell_of(actual, predicted, confidence, i, threshold, n_labels):
    """The confusion cell (a, p) of row ``i`` at ``threshold``, None as
    ``n_labels``: p as ``kept_code`` keeps it."""
    a = np.int64(actual[i])
    a = min(a + ((a >> 63) & DROPPED), n_labels)
    return a, kept_code(predicted[i], confidence[i], threshold, n_labels)


# How a scan drops the rows its RowTest rejects, written out in each
# row-at-a-time kernel (the breakdowns):
#     gone = 0
#     if use_codes: gone += drop[codes[i] & last]      (0, or DROPPED for a rejected value)
#     if use_words: gone += (bit i of words ^ 1) << 40  (DROPPED for a clear bit)
#     if use_values: gone += (values[i] outside [low, high]) << 40
# then the row's cell index plus ``gone``, clipped, is a dump cell past the
# real ones: no branch on the row (see ``engine.arrays.DROPPED``). The ifs
# are the same for every row, so they are predicted and cost nothing.
# An inline_jit helper for these lines made the scan 15x slower (430 ms
# against 29 ms of CPU for 10M rows, Numba 0.60): keep them in the loop.
# ``_confusion_counts`` does the same a block of rows at a time (below).

# --- the confusion matrix, a block of rows at a time --------------------------
#
# Counting a row at a time, the scan ran at 3.4 ns a row (10M rows, one core,
# 34 ms) against 1.1 ns to read its 12 bytes: the per-row arithmetic and
# selects, not memory, set its speed. So ``_confusion_counts`` works on
# blocks of BLOCK_ROWS rows in three loops:
#
# 1. ``_block_cells``: each row's cell index, ``a * (K + 1) + p``, in 32-bit
#    unsigned arithmetic with no branch and no table, so the loop runs one
#    SIMD lane a row (16 rows an instruction with AVX-512);
# 2. ``_block_gone``, only under a row filter: all ones for each row it
#    drops, also vectorised; the row's cell then becomes one of DUMP_CELLS
#    cells past the matrix (by row number, so that consecutive dropped rows
#    do not all add to one counter, whose increments would wait on each
#    other: 14 ms against 6 ms for 10M rows, 65% of them dropped);
# 3. the histogram: ``counts[cell] += 1``, the one loop that cannot vectorise.
#
# What vectorising needs, measured on 10M rows: indices Numba knows are not
# negative (a ``range`` over a slice, not ``lo + j``, which Numba wraps when
# negative: the vectorised loop then gathered each row, and a gather is slow
# here, 13 ns a row); no ``min`` whose result is unpredictable in a scalar
# loop (LLVM made it a branch: 7.5 ns a row); and no table looked up per row
# (a gather again): a dictionary filter of at most 64 codes is one 64-bit
# word of kept codes, shifted by the row's code; a larger one is looked up in
# the scalar loop 3.
BLOCK_ROWS = 1024
DUMP_CELLS = 8  # a power of two
# A matrix of at most this many cells (K <= 7) is counted in 4 copies, row j
# of a block into copy j % 4, summed at the end: with so few cells
# consecutive rows often hit the same counter, and each increment waits for
# the one before (10M rows, one core, no filter: K = 2 16.3 -> 12.6 ms, K =
# 7 14.0 -> 12.4 ms; under a filter, whose dropped rows are spread already,
# no change; K = 10 and 100 gain nothing or lose up to 1 ms: one copy).
COPIES_CELLS = 64
# Cell indices are uint32 and the dump cells sit past the (K+1)^2 real ones.
MAX_CELLS = 2**32 - DUMP_CELLS
# A condition's 0 or 1 times ONES is a mask of 0 or all ones (a product,
# not 0 - x, which overflows when the kernels run as Python).
ONES = np.uint32(0xFFFFFFFF)


@jit
def _block_cells(actual, predicted, confidence, threshold, n_labels, lo, m, cells):
    # cell_of's rule in unsigned 32-bit arithmetic: a negative code is past
    # every label as uint32, and so is a prediction under the threshold (its
    # code ORed with all ones), so min() clips both to None (K).
    size, k = np.uint32(n_labels + 1), np.uint32(n_labels)
    act, pre, con = actual[lo:lo + m], predicted[lo:lo + m], confidence[lo:lo + m]
    for j in range(m):
        a = min(np.uint32(act[j]), k)
        p = min(np.uint32(pre[j]) | (np.uint32(con[j] < threshold) * ONES), k)
        cells[j] = a * size + p


@jit
def _keep_word(drop):
    # A ``RowTest`` code table of at most 64 entries as one word: bit c set
    # when code c is kept. The table is padded to a power of two, so a
    # row's ``code & last`` reads the bit of the entry the table would.
    word = np.uint64(0)
    for c in range(min(drop.shape[0], 64)):
        if drop[c] == 0:
            word |= np.uint64(1) << np.uint64(c)
    return word


@jit
def _block_gone(lo, m, codes, keep, last, words, values, low, high, gone):
    # gone[j]: all ones when row lo + j fails a test, else 0. ``keep`` is
    # ``_keep_word``'s word (a small code table); a larger table is looked
    # up in the histogram loop instead.
    for j in range(m):
        gone[j] = np.uint32(0)
    if codes.shape[0] > 0 and last < 64:
        cod = codes[lo:lo + m]
        for j in range(m):
            kept = (keep >> np.uint64(cod[j] & last)) & np.uint64(1)
            gone[j] |= (np.uint32(kept) ^ np.uint32(1)) * ONES
    if values.shape[0] > 0:
        val = values[lo:lo + m]
        for j in range(m):
            gone[j] |= np.uint32((val[j] < low) | (val[j] > high)) * ONES
    if words.shape[0] > 0:
        # A word's 64 rows at a time when the block starts on a word (every
        # block but a range's first): the inner loop vectorises, the word
        # read once. Else, and for the last partial word, row by row.
        full = m >> 6 if lo & 63 == 0 else 0
        first = lo >> 6
        for w in range(full):
            word = words[first + w]
            for b in range(64):
                kept = np.uint32((word >> b) & 1)
                gone[w * 64 + b] |= (kept ^ np.uint32(1)) * ONES
        for j in range(full * 64, m):
            i = lo + j
            kept = np.uint32((words[i >> 6] >> (i & 63)) & 1)
            gone[j] |= (kept ^ np.uint32(1)) * ONES


@jit
def _confusion_counts(actual, predicted, confidence, threshold, n_labels, codes, drop, words,
                      values, bounds, lo, hi):
    size = n_labels + 1
    dump = np.uint32(size * size)  # dropped rows land past the matrix
    copies = 4 if size * size <= COPIES_CELLS else 1
    stride = size * size + DUMP_CELLS
    counts = np.zeros(copies * stride, dtype=np.int64)
    cells = np.empty(BLOCK_ROWS, dtype=np.uint32)
    gone = np.empty(BLOCK_ROWS, dtype=np.uint32)
    filtered = codes.shape[0] > 0 or words.shape[0] > 0 or values.shape[0] > 0
    last = drop.shape[0] - 1
    keep = _keep_word(drop)
    # A table of more than 64 codes: all ones for each dropped code, read in
    # the histogram loop. Loaded from memory, the mask is a number to LLVM,
    # not a comparison it would turn into a branch (150 codes, 10M rows: 2.0
    # ns a row; 5.6 with the comparison, a mispredicted branch per row).
    table = codes.shape[0] > 0 and last >= 64
    reject = np.zeros(drop.shape[0] if table else 0, dtype=np.uint32)
    for c in range(reject.shape[0]):
        reject[c] = ONES if drop[c] != 0 else np.uint32(0)
    spread = np.uint32(DUMP_CELLS - 1)
    # Blocks start on multiples of BLOCK_ROWS (but the first), so a block's
    # bits are whole words of ``words``.
    start = lo
    while start < hi:
        m = min(BLOCK_ROWS - start % BLOCK_ROWS, hi - start)
        _block_cells(actual, predicted, confidence, threshold, n_labels, start, m, cells)
        if filtered:
            _block_gone(start, m, codes, keep, last, words, values, bounds[0], bounds[1], gone)
            for j in range(m):  # a dropped row's cell: dump + (j % DUMP_CELLS)
                cell = cells[j]
                cells[j] = cell ^ ((cell ^ (dump + (np.uint32(j) & spread))) & gone[j])
        if table:
            cod = codes[start:start + m]
            for j in range(m):
                cell, out = cells[j], reject[cod[j] & last]
                counts[cell ^ ((cell ^ (dump + (np.uint32(j) & spread))) & out)] += 1
        elif copies == 1:
            for j in range(m):
                counts[cells[j]] += 1
        else:
            for j in range(m):
                counts[(j & 3) * stride + cells[j]] += 1
        start += m
    total = counts[:size * size].copy()
    for c in range(1, copies):
        total += counts[c * stride:c * stride + size * size]
    return total.reshape(size, size)


def kept_predictions(
    predicted: np.ndarray, confidence: np.ndarray, threshold: float
) -> np.ndarray:
    """Which rows keep their prediction at ``threshold``: ``kept_code``'s rule, vectorized.

    Example: predicted ``[0, 1, -1]``, confidence ``[0.9, 0.2, 1.0]``, t = 0.5
    gives ``[True, False, False]``.
    """
    return (np.asarray(predicted) >= 0) & (np.asarray(confidence) >= as_threshold(threshold))


def as_threshold(threshold: float) -> np.float32:
    """Round a threshold to float32, the precision confidences are stored in.

    So a confidence written as 0.7 is kept at ``t = 0.7``: compiled code
    compares in float64, where ``float(np.float32(0.7)) < 0.7``, so ``t`` has to
    be rounded the way the stored confidence was.
    """
    return np.float32(threshold)


def confusion_counts(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | RowTest | None = None,
) -> np.ndarray:
    """Count rows per (actual, predicted) cell at a threshold, in one pass.

    Parameters
    ----------
    actual, predicted : int32 arrays of label codes, ``-1`` = None.
    confidence : float32 array, the confidence of ``predicted``.
    threshold : a prediction is kept when ``confidence >= threshold``;
        otherwise the row counts as predicted None (abstained).
    n_labels : K, the number of labels; codes are ``0 .. K-1``.
    mask : optional bool array, only rows where it is True are counted; or a
        ``RowTest``, a filter tested inside the scan (no mask pass first).

    Returns
    -------
    counts : int64 array of shape ``(K + 1, K + 1)``, ``counts[a, p]``, with
        index K standing for None.

    Example: actual ``[0, 1]``, predicted ``[0, 0]``, confidence ``[0.9, 0.2]``,
    threshold 0.5, K = 2 gives ``[[1, 0, 0], [0, 0, 1], [0, 0, 0]]``.
    """
    # Codes are checked against K at ingest; lengths are checked here.
    actual, predicted, confidence = columns(actual, predicted, confidence)
    if (n_labels + 1) ** 2 > MAX_CELLS:
        raise ValueError(f"{n_labels} labels: too many for a dense confusion matrix")
    n = actual.shape[0]
    return sum_rows(
        _confusion_counts, n, actual, predicted, confidence, as_threshold(threshold),
        n_labels, *row_test(mask, n),
    )


@jit
def _block_codes(actual, predicted, confidence, threshold, n_labels, lo, m, acts, pres):
    # cell_of's rule, a block at a time in uint32 as ``_block_cells`` has it:
    # each row's actual and kept predicted code apart (None as K).
    k = np.uint32(n_labels)
    act, pre, con = actual[lo:lo + m], predicted[lo:lo + m], confidence[lo:lo + m]
    for j in range(m):
        acts[j] = min(np.uint32(act[j]), k)
        pres[j] = min(np.uint32(pre[j]) | (np.uint32(con[j] < threshold) * ONES), k)


@jit
def _label_totals(actual, predicted, confidence, threshold, n_labels, codes, drop, words,
                  values, bounds, lo, hi):
    # ``_confusion_counts``' three loops, with two codes a row instead of a
    # cell: a row's counters per actual label (rows, diagonal, abstained) sit
    # side by side, so its four increments touch two cache lines, not four
    # (10M rows, K = 10,000, one core: 57 -> 25 ms against one row at a time).
    # Dropped rows go to DUMP_CELLS codes past None, dropped at the end.
    dump, k = np.uint32(n_labels + 1), np.uint32(n_labels)
    width = n_labels + 1 + DUMP_CELLS
    by_actual = np.zeros(width * 4, dtype=np.int64)  # rows, tp, abstained, (padding)
    by_predicted = np.zeros(width, dtype=np.int64)
    acts = np.empty(BLOCK_ROWS, dtype=np.uint32)
    pres = np.empty(BLOCK_ROWS, dtype=np.uint32)
    gone = np.empty(BLOCK_ROWS, dtype=np.uint32)
    filtered = codes.shape[0] > 0 or words.shape[0] > 0 or values.shape[0] > 0
    last = drop.shape[0] - 1
    keep = _keep_word(drop)
    table = codes.shape[0] > 0 and last >= 64  # as in _confusion_counts
    reject = np.zeros(drop.shape[0] if table else 0, dtype=np.uint32)
    for c in range(reject.shape[0]):
        reject[c] = ONES if drop[c] != 0 else np.uint32(0)
    spread = np.uint32(DUMP_CELLS - 1)
    start = lo
    while start < hi:
        m = min(BLOCK_ROWS - start % BLOCK_ROWS, hi - start)
        _block_codes(actual, predicted, confidence, threshold, n_labels, start, m, acts, pres)
        if filtered:
            _block_gone(start, m, codes, keep, last, words, values, bounds[0], bounds[1], gone)
            if table:
                cod = codes[start:start + m]
                for j in range(m):
                    gone[j] |= reject[cod[j] & last]
            for j in range(m):  # a dropped row's codes: dump + (j % DUMP_CELLS)
                to = dump + (np.uint32(j) & spread)
                acts[j] = acts[j] ^ ((acts[j] ^ to) & gone[j])
                pres[j] = pres[j] ^ ((pres[j] ^ to) & gone[j])
        for j in range(m):
            a, p = acts[j], pres[j]
            by_actual[a * 4] += 1
            by_actual[a * 4 + 1] += np.int64(p == a)
            by_actual[a * 4 + 2] += np.int64(p == k)
            by_predicted[p] += 1
        start += m
    # Rows: 0 = tp (diagonal), 1 = per actual, 2 = per predicted, 3 = abstained per actual.
    size = n_labels + 1
    sums = np.zeros((4, size), dtype=np.int64)
    for a in range(size):
        sums[0, a] = by_actual[a * 4 + 1]
        sums[1, a] = by_actual[a * 4]
        sums[2, a] = by_predicted[a]
        sums[3, a] = by_actual[a * 4 + 2]
    sums[0, n_labels] = 0  # (None, None) is not a label's true positive
    return sums


def label_totals(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | RowTest | None = None,
) -> Totals:
    """The confusion matrix's diagonal, row sums, column sums and None column.

    Everything but the matrix itself in O(K) memory, for label sets too large
    for a (K+1)^2 matrix. Arguments as for ``confusion_counts``.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    n = actual.shape[0]
    sums = sum_rows(
        _label_totals, n, actual, predicted, confidence, as_threshold(threshold),
        n_labels, *row_test(mask, n),
    )
    return Totals(tp=sums[0, :n_labels], actual=sums[1], predicted=sums[2], abstained=sums[3])
