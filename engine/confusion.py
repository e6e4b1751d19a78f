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

from evalql.engine.arrays import columns, row_mask
from evalql.engine.jit import inline_jit, jit, sum_rows
from evalql.engine.metrics import Totals


@inline_jit
def cell_of(actual, predicted, confidence, i, threshold, n_labels):
    """The confusion cell (a, p) of row ``i`` at ``threshold``, None as ``n_labels``.

    The one statement of abstention in the engine: a prediction is kept when
    ``confidence >= threshold``; otherwise, and when there is none, p is None.
    """
    a = actual[i] if actual[i] >= 0 else n_labels
    p = predicted[i]
    # `|` and a select, not `or` and a branch: scans stay branch-free.
    p = n_labels if (p < 0) | (confidence[i] < threshold) else p
    return a, p


@jit
def _confusion_counts(actual, predicted, confidence, threshold, n_labels, mask, use_mask, lo, hi):
    size = n_labels + 1
    counts = np.zeros((size, size), dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
        counts[a, p] += 1
    return counts


def kept_predictions(
    predicted: np.ndarray, confidence: np.ndarray, threshold: float
) -> np.ndarray:
    """Which rows keep their prediction at ``threshold``: ``cell_of``'s rule, vectorized.

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
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Count rows per (actual, predicted) cell at a threshold, in one pass.

    Parameters
    ----------
    actual, predicted : int32 arrays of label codes, ``-1`` = None.
    confidence : float32 array, the confidence of ``predicted``.
    threshold : a prediction is kept when ``confidence >= threshold``;
        otherwise the row counts as predicted None (abstained).
    n_labels : K, the number of labels; codes are ``0 .. K-1``.
    mask : optional bool array; only rows where it is True are counted.

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
    flags, use_mask = row_mask(mask, n)
    return sum_rows(
        _confusion_counts, n, actual, predicted, confidence, as_threshold(threshold),
        n_labels, flags, use_mask,
    )


@jit
def _label_totals(actual, predicted, confidence, threshold, n_labels, mask, use_mask, lo, hi):
    # Rows: 0 = tp (diagonal), 1 = per actual, 2 = per predicted, 3 = abstained per actual.
    sums = np.zeros((4, n_labels + 1), dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
        sums[1, a] += 1
        sums[2, p] += 1
        if p == n_labels:
            sums[3, a] += 1
        elif p == a:
            sums[0, a] += 1
    return sums


def label_totals(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | None = None,
) -> Totals:
    """The confusion matrix's diagonal, row sums, column sums and None column.

    Everything but the matrix itself in O(K) memory, for label sets too large
    for a (K+1)^2 matrix. Arguments as for ``confusion_counts``.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    n = actual.shape[0]
    flags, use_mask = row_mask(mask, n)
    sums = sum_rows(
        _label_totals, n, actual, predicted, confidence, as_threshold(threshold),
        n_labels, flags, use_mask,
    )
    return Totals(tp=sums[0, :n_labels], actual=sums[1], predicted=sums[2], abstained=sums[3])
