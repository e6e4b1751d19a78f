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
  cell at each threshold is a prefix: a run of up to ``READ_WHOLE`` rows is
  read once for all thresholds, a longer one searched on the index's sample
  and at most a stride counted a threshold; the pass costs about
  ``points x (K+1)^2`` searches, whatever N;
- the columns and a row mask: one scan of the rows.

The compact result, ``ThresholdCounts``, keeps per threshold only what the
metrics read (kept predictions per actual label, per predicted label, and
correct ones per label), so it stays ``points x K`` even for many labels, and
hands each threshold's ``engine.metrics.Totals`` to the one definition of
every metric; ``confusion_counts_at`` gives whole matrices for a few
thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, row_mask
from evalql.engine.confusion import as_threshold, confusion_counts
from evalql.engine.index import READ_WHOLE, ThresholdIndex, kept_at_each
from evalql.engine.jit import chunk_bounds, jit, map_ranges, n_chunks, sum_rows
from evalql.engine.metrics import Totals

# Confidences are bucketed through a table over this many equal slices of
# [0, 1], then refined by comparing with the thresholds themselves, so a
# bucket costs O(1) for an even grid and stays exact for any thresholds.
LOOKUP_SLICES = 4096


@jit
def bucket(confidence, thresholds, lookup):
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


@jit
def _index_curve(offsets, order, confidence, sample, n_labels, thresholds, lo_cell, hi_cell):
    size = n_labels + 1
    points = thresholds.shape[0]
    kept = np.zeros((points, size), dtype=np.int64)
    predicted = np.zeros((points, size), dtype=np.int64)
    correct = np.zeros((points, size), dtype=np.int64)
    at = np.empty(points, dtype=np.int64)
    buffer = np.empty(READ_WHOLE, dtype=np.float32)
    firsts, lasts = np.empty(points, dtype=np.int64), np.empty(points, dtype=np.int64)
    for cell in range(lo_cell, hi_cell):
        a, p = cell // size, cell % size
        lo, hi = offsets[cell], offsets[cell + 1]
        if p == n_labels or hi == lo:
            continue
        kept_at_each(order, confidence, sample, lo, hi, thresholds, at, buffer, firsts, lasts)
        for j in range(points):
            if at[j] == 0:  # thresholds ascend: none kept from here on
                break
            kept[j, a] += at[j]
            predicted[j, p] += at[j]
            if a == p:
                correct[j, p] += at[j]
    return kept, predicted, correct


@jit
def _scan_curve(actual, predicted, confidence, mask, use_mask, thresholds, lookup, n_labels,
                lo, hi):
    size = n_labels + 1
    buckets = thresholds.shape[0] + 1
    rows = np.zeros(size, dtype=np.int64)
    kept = np.zeros((buckets, size), dtype=np.int64)
    by_predicted = np.zeros((buckets, size), dtype=np.int64)
    correct = np.zeros((buckets, size), dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        a = actual[i] if actual[i] >= 0 else n_labels
        rows[a] += 1
        p = predicted[i]
        if p < 0:
            continue
        b = bucket(confidence[i], thresholds, lookup)
        kept[b, a] += 1
        by_predicted[b, p] += 1
        if a == p:
            correct[b, p] += 1
    return rows, kept, by_predicted, correct


@jit
def _scan_matrices(actual, predicted, confidence, mask, use_mask, thresholds, lookup, n_labels,
                   lo, hi):
    size = n_labels + 1
    buckets = thresholds.shape[0] + 1
    hist = np.zeros((buckets, size, size), dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        a = actual[i] if actual[i] >= 0 else n_labels
        p = predicted[i]
        if p < 0:
            hist[0, a, n_labels] += 1
        else:
            hist[bucket(confidence[i], thresholds, lookup), a, p] += 1
    return hist


def grid(points: int) -> np.ndarray:
    """``points`` thresholds evenly spaced over [0, 1], as float64 ``j / (points - 1)``.

    These are the values a client would type; kernels see them rounded by
    ``as_threshold``, exactly as ``metrics(threshold: t)`` rounds ``t``.
    Example: ``grid(5)`` gives ``[0, 0.25, 0.5, 0.75, 1]``.
    """
    if points < 2:
        raise ValueError(f"a grid needs at least 2 points, got {points}")
    return np.arange(points, dtype=np.float64) / (points - 1)


def as_thresholds(thresholds: np.ndarray) -> np.ndarray:
    """float32 thresholds, checked ascending (ties allowed)."""
    values = np.asarray([as_threshold(t) for t in np.asarray(thresholds, dtype=np.float64)],
                        dtype=np.float32)
    if np.any(np.diff(values) < 0):
        raise ValueError("thresholds have to be ascending")
    return values


def bucket_lookup(thresholds: np.ndarray) -> np.ndarray:
    """Per slice s of [0, 1], the number of thresholds <= s / LOOKUP_SLICES."""
    edges = np.arange(LOOKUP_SLICES + 1, dtype=np.float64) / LOOKUP_SLICES
    return np.searchsorted(thresholds.astype(np.float64), edges, side="right").astype(np.int64)


def kept_after(hist: np.ndarray) -> np.ndarray:
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

    Costs about ``P x (K+1)^2`` searches inside cell runs (short runs read
    whole once), no pass over the split's rows.
    Example: an index of confidences ``[0.9, 0.2]``, both cell (0, 0), at
    thresholds ``[0, 0.5, 1]`` keeps ``[2, 1, 0]`` rows.
    """
    t = as_thresholds(thresholds)
    k = index.n_labels
    size = k + 1
    bounds = chunk_bounds(size * size, n_chunks(index.order.shape[0]))
    parts = map_ranges(_index_curve, bounds, index.offsets, index.order, index.confidence,
                       index.sample, k, t)
    kept, predicted, correct = (sum(p[i] for p in parts) for i in range(3))
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
    Equal, threshold by threshold, to what ``engine.confusion.confusion_counts``
    gives; nothing here divides, so there is no 0/0 case.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    t = as_thresholds(thresholds)
    n = actual.shape[0]
    m, use_mask = row_mask(mask, n)
    rows, kept, by_predicted, correct = sum_rows(
        _scan_curve, n, actual, predicted, confidence, m, use_mask, t, bucket_lookup(t), n_labels
    )
    k = n_labels
    return ThresholdCounts(
        t, rows, kept_after(kept), kept_after(by_predicted)[:, :k], kept_after(correct)[:, :k]
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
    actual, predicted, confidence = columns(actual, predicted, confidence)
    t = as_thresholds(thresholds)
    n = actual.shape[0]
    m, use_mask = row_mask(mask, n)
    hist = sum_rows(
        _scan_matrices, n, actual, predicted, confidence, m, use_mask, t, bucket_lookup(t), n_labels
    )
    rows = hist.sum(axis=(0, 2))
    counts = kept_after(hist)
    counts[:, :, n_labels] = rows - counts[:, :, :n_labels].sum(axis=2)
    return counts


def confusion_counts_within(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    thresholds: Sequence[float],
    n_labels: int,
    matrices: int,
    mask: np.ndarray | None = None,
) -> list[np.ndarray]:
    """The ``(K+1) x (K+1)`` confusion counts at each of ``thresholds``, holding
    at most ``matrices`` matrices per thread at once (the caller's memory
    bound): as few scans as that allows.

    A scan of P thresholds keeps P + 1 matrices (``confusion_counts_at``), so
    each takes ``matrices - 1`` thresholds, at least one; a single threshold
    is ``confusion_counts``'s scan.
    """
    room = max(1, matrices - 1)
    counts: list[np.ndarray] = []
    for start in range(0, len(thresholds), room):
        part = np.array(thresholds[start : start + room], dtype=np.float32)
        if len(part) == 1:
            counts.append(confusion_counts(actual, predicted, confidence, part[0], n_labels, mask))
        else:
            counts.extend(
                confusion_counts_at(actual, predicted, confidence, part, n_labels, mask)
            )
    return counts
