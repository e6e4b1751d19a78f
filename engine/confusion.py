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


# How a scan drops the rows its RowTest rejects, written out in each kernel:
#     gone = 0
#     if use_codes: gone += drop[codes[i] & last]      (0, or DROPPED for a rejected value)
#     if use_words: gone += (bit i of words ^ 1) << 40  (DROPPED for a clear bit)
#     if use_values: gone += (values[i] outside [low, high]) << 40
# then the row's cell index plus ``gone``, clipped, is a dump cell past the
# real ones: no branch on the row (see ``engine.arrays.DROPPED``). The ifs
# are the same for every row, so they are predicted and cost nothing.
# An inline_jit helper for these lines made the scan 15x slower (430 ms
# against 29 ms of CPU for 10M rows, Numba 0.60): keep them in the loop.


@jit
def _confusion_counts(actual, predicted, confidence, threshold, n_labels, codes, drop, words,
                      values, bounds, lo, hi):
    size = n_labels + 1
    dump = size * size  # dropped rows land here, past the matrix
    counts = np.zeros(dump + 1, dtype=np.int64)
    use_codes, use_words = codes.shape[0] > 0, words.shape[0] > 0
    use_values, low, high = values.shape[0] > 0, bounds[0], bounds[1]
    last = drop.shape[0] - 1
    for i in range(lo, hi):
        a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
        gone = np.int64(0)
        if use_codes:
            gone += drop[codes[i] & last]
        if use_words:
            gone += ((words[i >> 6] >> (i & 63)) & 1 ^ 1) << 40
        if use_values:
            gone += np.int64((values[i] < low) | (values[i] > high)) << 40
        counts[min(a * size + p + gone, dump)] += 1
    return counts[:dump].reshape(size, size)


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
    n = actual.shape[0]
    return sum_rows(
        _confusion_counts, n, actual, predicted, confidence, as_threshold(threshold),
        n_labels, *row_test(mask, n),
    )


@jit
def _label_totals(actual, predicted, confidence, threshold, n_labels, codes, drop, words,
                  values, bounds, lo, hi):
    # Rows: 0 = tp (diagonal), 1 = per actual, 2 = per predicted, 3 = abstained per actual;
    # column K + 1 is the dump of dropped rows.
    dump = n_labels + 1
    sums = np.zeros((4, dump + 1), dtype=np.int64)
    use_codes, use_words = codes.shape[0] > 0, words.shape[0] > 0
    use_values, low, high = values.shape[0] > 0, bounds[0], bounds[1]
    last = drop.shape[0] - 1
    for i in range(lo, hi):
        a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
        gone = np.int64(0)
        if use_codes:
            gone += drop[codes[i] & last]
        if use_words:
            gone += ((words[i >> 6] >> (i & 63)) & 1 ^ 1) << 40
        if use_values:
            gone += np.int64((values[i] < low) | (values[i] > high)) << 40
        a, p = min(a + gone, dump), min(p + gone, dump)
        sums[1, a] += 1
        sums[2, p] += 1
        sums[3, a] += np.int64(p == n_labels)
        sums[0, a] += np.int64((p == a) & (p != n_labels))
    return sums[:, :dump].copy()


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
