"""A multilabel view at many thresholds in one scan, and its predicted pairs
by confidence: the curve's counts and the confidence histogram."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalql.engine.arrays import frozen, row_mask
from evalql.engine.curves import as_thresholds, bucket, bucket_lookup, kept_after
from evalql.engine.histogram import bin_of, bin_scale
from evalql.engine.jit import jit, sum_rows
from evalql.engine.multilabel.columns import (
    LabelSetColumns,
    csr_arrays,
    filter_codes,
    filter_flags,
)
from evalql.engine.multilabel.counts import MultilabelThresholdCounts, stamp_actual


@jit
def _multilabel_curve(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    thresholds, lookup, n_labels, selected, mask, use_mask, lo, hi,
):
    # A predicted label of bucket b (= #{j : thresholds[j] <= confidence}) is
    # kept at thresholds 0 .. b-1. Per label: kept and hit pairs by bucket.
    # Per row (on S): the top bucket (answered below it), and the interval of
    # thresholds [lo, hi) where the kept set equals the actual set, added to
    # a difference array: lo = the highest bucket of a predicted non-actual
    # label (it must be dropped), hi = the lowest bucket of an actual label
    # (it must be kept; 0 when one is not predicted at all).
    points = thresholds.shape[0]
    kept = np.zeros((points + 1, n_labels), dtype=np.int64)
    hits = np.zeros((points + 1, n_labels), dtype=np.int64)
    support = np.zeros(n_labels, dtype=np.int64)
    answered = np.zeros(points + 1, dtype=np.int64)
    exact = np.zeros(points + 1, dtype=np.int64)
    answered_exact = np.zeros(points + 1, dtype=np.int64)
    rows = 0
    stamp = np.full(n_labels, -1, dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        rows += 1
        n_actual = stamp_actual(i, actual_offsets, actual_codes, selected, stamp, support)
        top = 0
        first_actual = points
        last_other = 0
        n_found = 0
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            code = predicted_codes[j]
            b = bucket(confidence[j], thresholds, lookup)
            is_actual = stamp[code] == i
            kept[b, code] += 1
            if is_actual:
                hits[b, code] += 1
            if selected[code]:
                top = max(top, b)
                if is_actual:
                    n_found += 1
                    first_actual = min(first_actual, b)
                else:
                    last_other = max(last_other, b)
        if n_found < n_actual:
            first_actual = 0
        answered[top] += 1
        if last_other < first_actual:
            exact[last_other] += 1
            exact[first_actual] -= 1
            if n_actual > 0:
                answered_exact[last_other] += 1
                answered_exact[first_actual] -= 1
    return kept, hits, support, answered, exact, answered_exact, rows


@jit
def _pair_histogram(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    edges, scale, n_labels, selected, mask, use_mask, lo, hi,
):
    counts = np.zeros((2, edges.shape[0] - 1), dtype=np.int64)
    stamp = np.full(n_labels, -1, dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            stamp[actual_codes[j]] = i
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            code = predicted_codes[j]
            b = bin_of(confidence[j], edges, scale)
            if selected[code] and b >= 0:
                counts[0, b] += 1
                counts[1, b] += stamp[code] == i
    return counts


def multilabel_threshold_counts(
    columns: LabelSetColumns,
    thresholds: np.ndarray,
    n_labels: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> MultilabelThresholdCounts:
    """``multilabel_counts`` at every one of ``thresholds`` (ascending), in one scan.

    Parameters as for ``multilabel_counts``; a predicted label is kept at
    ``t`` when ``confidence >= float32(t)``.

    Notes
    -----
    A predicted label of bucket ``b = #{j : thresholds[j] <= confidence}`` is
    kept at thresholds ``0 .. b-1``, so per-label counts are cumulative sums
    of histograms over buckets (as ``engine.curves.threshold_counts``). A row
    is an exact match on S exactly for the thresholds above its highest
    non-actual prediction's bucket and below its lowest actual label's
    bucket: an interval, added to a difference array. Memory is
    ``2 (P + 1) K`` counts per thread. Nothing divides here; the 0/0 cases
    are those of ``multilabel_counts``.
    """
    arrays = csr_arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = row_mask(mask, n_rows)
    codes = filter_codes(labels, n_labels)
    t = as_thresholds(thresholds)
    # t and the lookup as engine.curves passes them to bucket: one compiled bucket.
    kept, hits, support, answered, exact, answered_exact, rows = sum_rows(
        _multilabel_curve, n_rows, *arrays, t, bucket_lookup(t), n_labels,
        filter_flags(codes, n_labels), flags, use_mask,
    )
    points = len(t)
    return MultilabelThresholdCounts(
        thresholds=t,
        tp=kept_after(hits),
        predicted=kept_after(kept),
        support=support,
        labels=codes,
        rows=int(rows),
        answered=kept_after(answered),
        exact=np.cumsum(exact)[:points],
        answered_exact=np.cumsum(answered_exact)[:points],
    )


def pair_histogram(
    columns: LabelSetColumns,
    edges: np.ndarray,
    n_labels: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted (row, label) pairs of the labels in S per confidence bin, and
    those whose label is actual in the row.

    ``edges`` are float32, ascending, compared in float32 like a threshold
    (bins as ``engine.histogram``: the last includes its high edge). Every
    predicted pair counts, also one below a threshold (it has a confidence),
    so from a threshold t that is an edge up, the bins add up to the sum of
    the labels' kept predictions (TP + FP) and of their TP at t.

    Example: actual ``[[0], []]``, predicted ``[[0, 1], [0]]`` with confidences
    ``[[0.9, 0.2], [0.7]]``, edges ``[0, 0.5, 1]`` give count ``[1, 2]`` and
    correct ``[0, 1]``.
    """
    arrays = csr_arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = row_mask(mask, n_rows)
    edges = frozen(edges, np.float32)
    selected = filter_flags(filter_codes(labels, n_labels), n_labels)
    counts = sum_rows(
        _pair_histogram, n_rows, *arrays, edges, bin_scale(edges), n_labels, selected, flags,
        use_mask,
    )
    return counts[0], counts[1]
