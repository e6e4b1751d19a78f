"""Counts at many thresholds at once: the threshold slider's curve in one pass.

Moving the threshold only moves rows from a cell (a, p) to (a, None), so every
threshold's confusion counts follow from one pass that finds, for each row
with a prediction, how many of the (ascending) thresholds keep it:
``bucket = #{j : thresholds[j] <= confidence}``. A row of bucket ``b`` is kept
at thresholds ``0 .. b-1`` and abstains from ``b`` on; a histogram over
buckets and a cumulative sum give every threshold's counts.

Two sources feed that pass:

- a ``ThresholdIndex`` (of all rows, or of a row filter's rows once built):
  each cell's run is already ordered by confidence, so the kept count of a
  cell at each threshold is a binary search and the pass costs
  ``points x (K+1)^2`` searches, independent of N;
- the columns and a row mask: one scan of the rows.

The compact result, ``ThresholdCounts``, keeps per threshold only what the
metrics read (kept predictions per actual label, per predicted label, and
correct ones per label), so it stays ``points x K`` even for many labels, and
hands each threshold's ``engine.metrics.Totals`` to the one definition of
every metric; ``confusion_counts_at`` gives whole matrices for a few
thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from evalql.engine.index import ThresholdIndex, _kept_prefix
from evalql.engine.jit import jit, n_chunks, parallel_jit
from evalql.engine.kernels import _chunk_bounds, as_threshold
from evalql.engine.metrics import Totals

# Confidences are bucketed through a table over this many equal slices of
# [0, 1], then refined by comparing with the thresholds themselves, so a
# bucket costs O(1) for an even grid and stays exact for any thresholds.
LOOKUP_SLICES = 4096


@jit
def _bucket(confidence, thresholds, lookup):
    # #{j : thresholds[j] <= confidence}: the lookup entry of the confidence's
    # slice counts the thresholds at or below the slice's lower edge (which is
    # <= confidence), and the loop adds those between the edge and the value.
    slices = lookup.shape[0] - 1
    s = int(confidence * slices)
    if s < 0:
        s = 0
    elif s > slices:
        s = slices
    b = lookup[s]
    while b < thresholds.shape[0] and thresholds[b] <= confidence:
        b += 1
    return b


@parallel_jit
def _index_curve(offsets, sorted_conf, n_labels, thresholds, chunks):
    size = n_labels + 1
    points = thresholds.shape[0]
    n_cells = offsets.shape[0] - 1
    kept = np.zeros((chunks, points, size), dtype=np.int64)
    predicted = np.zeros((chunks, points, size), dtype=np.int64)
    correct = np.zeros((chunks, points, size), dtype=np.int64)
    for c in numba.prange(chunks):
        lo_cell, hi_cell = _chunk_bounds(n_cells, chunks, c)
        for cell in range(lo_cell, hi_cell):
            a, p = cell // size, cell % size
            lo, hi = offsets[cell], offsets[cell + 1]
            if p == n_labels or hi == lo:
                continue
            end = hi
            for j in range(points):
                # Kept counts only shrink as thresholds rise: search what is left.
                n_kept = _kept_prefix(sorted_conf, lo, end, thresholds[j])
                if n_kept == 0:
                    break
                end = lo + n_kept
                kept[c, j, a] += n_kept
                predicted[c, j, p] += n_kept
                if a == p:
                    correct[c, j, p] += n_kept
    return kept.sum(axis=0), predicted.sum(axis=0), correct.sum(axis=0)


@parallel_jit
def _scan_curve(actual, predicted, confidence, mask, thresholds, lookup, n_labels, chunks):
    size = n_labels + 1
    buckets = thresholds.shape[0] + 1
    rows = np.zeros((chunks, size), dtype=np.int64)
    kept = np.zeros((chunks, buckets, size), dtype=np.int64)
    by_predicted = np.zeros((chunks, buckets, size), dtype=np.int64)
    correct = np.zeros((chunks, buckets, size), dtype=np.int64)
    n = actual.shape[0]
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        for i in range(lo, hi):
            if mask.shape[0] > 0 and not mask[i]:
                continue
            a = actual[i] if actual[i] >= 0 else n_labels
            rows[c, a] += 1
            p = predicted[i]
            if p < 0:
                continue
            b = _bucket(confidence[i], thresholds, lookup)
            kept[c, b, a] += 1
            by_predicted[c, b, p] += 1
            if a == p:
                correct[c, b, p] += 1
    return rows.sum(axis=0), kept.sum(axis=0), by_predicted.sum(axis=0), correct.sum(axis=0)


@parallel_jit
def _scan_matrices(actual, predicted, confidence, mask, thresholds, lookup, n_labels, chunks):
    size = n_labels + 1
    buckets = thresholds.shape[0] + 1
    hist = np.zeros((chunks, buckets, size, size), dtype=np.int64)
    n = actual.shape[0]
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        for i in range(lo, hi):
            if mask.shape[0] > 0 and not mask[i]:
                continue
            a = actual[i] if actual[i] >= 0 else n_labels
            p = predicted[i]
            if p < 0:
                hist[c, 0, a, n_labels] += 1
            else:
                hist[c, _bucket(confidence[i], thresholds, lookup), a, p] += 1
    return hist.sum(axis=0)


def grid(points: int) -> np.ndarray:
    """``points`` thresholds evenly spaced over [0, 1], as float64 ``j / (points - 1)``.

    These are the values a client would type; kernels see them rounded by
    ``as_threshold``, exactly as ``metrics(threshold: t)`` rounds ``t``.
    Example: ``grid(5)`` gives ``[0, 0.25, 0.5, 0.75, 1]``.
    """
    if points < 2:
        raise ValueError(f"a grid needs at least 2 points, got {points}")
    return np.arange(points, dtype=np.float64) / (points - 1)


def _thresholds(thresholds: np.ndarray) -> np.ndarray:
    """float32 thresholds, checked ascending (ties allowed)."""
    values = np.asarray([as_threshold(t) for t in np.asarray(thresholds, dtype=np.float64)],
                        dtype=np.float32)
    if np.any(np.diff(values) < 0):
        raise ValueError("thresholds have to be ascending")
    return values


def _lookup(thresholds: np.ndarray) -> np.ndarray:
    """Per slice s of [0, 1], the number of thresholds <= s / LOOKUP_SLICES."""
    edges = np.arange(LOOKUP_SLICES + 1, dtype=np.float64) / LOOKUP_SLICES
    return np.searchsorted(thresholds.astype(np.float64), edges, side="right").astype(np.int64)


def _mask_or_empty(mask: np.ndarray | None, n: int) -> np.ndarray:
    # Kernels take an empty mask for "every row", so one compiled kernel
    # serves both cases.
    if mask is None:
        return np.zeros(0, dtype=np.bool_)
    if np.shape(mask) != (n,):
        raise ValueError("mask has to be as long as the columns")
    return np.asarray(mask, dtype=np.bool_)


def _kept_after(hist: np.ndarray) -> np.ndarray:
    """From a histogram over buckets 0..P, the count kept at each threshold
    j = 0..P-1: the rows of buckets above j."""
    after = np.cumsum(hist[::-1], axis=0)[::-1]
    return after[1:]


@dataclass(frozen=True)
class ThresholdCounts:
    """What the metrics of a view read, at each of several thresholds.

    Label codes index the last axis; index K (None) exists only in ``rows``
    and ``kept``. All counts are int64.
    """

    thresholds: np.ndarray  # float32 (P,), ascending
    rows: np.ndarray  # (K+1,) rows per actual label, whatever the prediction
    kept: np.ndarray  # (P, K+1) rows with a kept prediction, per actual label
    predicted: np.ndarray  # (P, K) kept predictions per predicted label
    correct: np.ndarray  # (P, K) kept predictions equal to the actual label

    def totals(self, j: int) -> Totals:
        """The ``Totals`` of the confusion matrix at threshold ``j``.

        The None column gets what is not kept: rows predicted None, and
        predictions below the threshold.
        """
        total = int(self.rows.sum())
        kept = self.kept[j]
        return Totals(
            tp=self.correct[j],
            actual=self.rows,
            predicted=np.append(self.predicted[j], total - int(kept.sum())),
            abstained=self.rows - kept,
        )


def index_threshold_counts(index: ThresholdIndex, thresholds: np.ndarray) -> ThresholdCounts:
    """``ThresholdCounts`` of all the index's rows at ascending ``thresholds``.

    Costs ``P x (K+1)^2`` binary searches inside cell runs, no pass over rows.
    Example: an index of confidences ``[0.9, 0.2]``, both cell (0, 0), at
    thresholds ``[0, 0.5, 1]`` keeps ``[2, 1, 0]`` rows.
    """
    t = _thresholds(thresholds)
    k = index.n_labels
    size = k + 1
    chunks = n_chunks(index.order.shape[0])
    kept, predicted, correct = _index_curve(index.offsets, index.sorted_conf, k, t, chunks)
    starts = index.offsets[0 : size * size : size]
    ends = index.offsets[size : size * size + 1 : size]
    return ThresholdCounts(t, ends - starts, kept, predicted[:, :k], correct[:, :k])


def threshold_counts(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    thresholds: np.ndarray,
    n_labels: int,
    mask: np.ndarray | None = None,
) -> ThresholdCounts:
    """``ThresholdCounts`` of the rows where ``mask`` holds, in one scan.

    Parameters
    ----------
    actual, predicted : int32 label codes, ``-1`` = None.
    confidence : float32, the confidence of ``predicted``.
    thresholds : ascending; a prediction is kept at ``t`` when
        ``confidence >= float32(t)``.
    n_labels : K.
    mask : optional bool array; only rows where it is True count.

    Notes
    -----
    Equal, threshold by threshold, to what ``engine.kernels.confusion_counts``
    gives; nothing here divides, so there is no 0/0 case.
    """
    actual, predicted, confidence = _columns(actual, predicted, confidence)
    t = _thresholds(thresholds)
    m = _mask_or_empty(mask, actual.shape[0])
    chunks = n_chunks(actual.shape[0])
    rows, kept, by_predicted, correct = _scan_curve(
        actual, predicted, confidence, m, t, _lookup(t), n_labels, chunks
    )
    k = n_labels
    return ThresholdCounts(
        t, rows, _kept_after(kept), _kept_after(by_predicted)[:, :k], _kept_after(correct)[:, :k]
    )


def confusion_counts_at(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    thresholds: np.ndarray,
    n_labels: int,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """The ``(K+1) x (K+1)`` confusion counts at each of ``thresholds``, in one scan.

    Returns an int64 array of shape ``(P, K+1, K+1)``, entry ``j`` equal to
    ``confusion_counts(..., thresholds[j], ...)``. Memory is ``(P+1) (K+1)^2``
    counts per thread, so callers batch a few thresholds, not a curve.
    """
    actual, predicted, confidence = _columns(actual, predicted, confidence)
    t = _thresholds(thresholds)
    m = _mask_or_empty(mask, actual.shape[0])
    chunks = n_chunks(actual.shape[0])
    hist = _scan_matrices(actual, predicted, confidence, m, t, _lookup(t), n_labels, chunks)
    rows = hist.sum(axis=(0, 2))
    counts = _kept_after(hist)
    counts[:, :, n_labels] = rows - counts[:, :, :n_labels].sum(axis=2)
    return counts


def _columns(
    actual: np.ndarray, predicted: np.ndarray, confidence: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    actual = np.asarray(actual, dtype=np.int32)
    predicted = np.asarray(predicted, dtype=np.int32)
    confidence = np.asarray(confidence, dtype=np.float32)
    if not actual.shape == predicted.shape == confidence.shape:
        raise ValueError("actual, predicted and confidence have to be the same length")
    return actual, predicted, confidence
