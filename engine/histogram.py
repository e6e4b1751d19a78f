"""The confidence histogram: rows with a prediction, and those right, per bin.

A view's rows here are those that pass the row mask and whose actual label is
accepted by ``actual_ok`` (bool, K + 1 entries, index K = None): that is how a
class filter restricts the rows that ``total`` counts. Kernels count; the
caller turns counts into bins.

A value falls into bin ``i`` of ``edges`` when ``edges[i] <= x < edges[i + 1]``,
the last bin also taking ``x == edges[-1]``; values outside every bin (and
NaN) are not counted. ``bin_of``, ``bin_scale`` and ``in_view`` state that rule
and the view's rows once, for the breakdowns (``engine.breakdown``) and the
multilabel pair histogram too.
"""

from __future__ import annotations

import numpy as np

from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.index import READ_WHOLE, ThresholdIndex, kept_at_each
from evalql.engine.jit import inline_jit, jit, sum_rows


@inline_jit
def bin_of(x, edges, scale):
    """The bin of ``x`` (see the module docstring), or -1.

    ``scale`` is ``bins / (edges[-1] - edges[0])``: for equal-width edges the
    first guess is right but for rounding, which the comparisons fix, so a row
    costs O(1) instead of a bisection's mispredicted branches.
    """
    bins = edges.shape[0] - 1
    if not (x >= edges[0] and x <= edges[bins]):  # also refuses NaN
        return -1
    b = min(max(np.int64((x - edges[0]) * scale), 0), bins - 1)
    while b > 0 and x < edges[b]:
        b -= 1
    while b < bins - 1 and x >= edges[b + 1]:
        b += 1
    return b


@inline_jit
def in_view(i, actual, actual_ok, n_labels, mask, use_mask):
    # No actual column (length 0): every row is the view's, the mask aside.
    ok = True
    if actual.shape[0] > 0:
        a = actual[i]
        ok = actual_ok[a if a >= 0 else n_labels]
    if use_mask:
        ok &= mask[i]
    return ok


def bin_scale(edges: np.ndarray) -> float:
    """``bin_of``'s ``scale`` for ``edges``: bins per unit, 0 for zero-width edges."""
    width = float(edges[-1]) - float(edges[0])
    return (len(edges) - 1) / width if width > 0 else 0.0


@jit
def _confidence_histogram(actual, predicted, confidence, edges, scale, actual_ok, n_labels,
                          mask, use_mask, lo, hi):
    counts = np.zeros((2, edges.shape[0] - 1), dtype=np.int64)
    for i in range(lo, hi):
        ok = in_view(i, actual, actual_ok, n_labels, mask, use_mask) & (predicted[i] >= 0)
        b = bin_of(confidence[i], edges, scale)
        if ok & (b >= 0):
            counts[0, b] += 1
            counts[1, b] += predicted[i] == actual[i]
    return counts


def confidence_histogram(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    edges: np.ndarray,
    actual_ok: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a prediction, and those predicted right, per confidence bin.

    Parameters
    ----------
    actual, predicted : int32 label codes, ``-1`` = None.
    confidence : float32, the confidence of ``predicted``.
    edges : float32 bin edges, ascending; compared in float32 like a threshold,
        so a confidence written as 0.7 lands in the bin starting at 0.7.
    actual_ok : bool (K + 1,), the actual labels of the view's rows.
    mask : optional bool row filter.

    Returns
    -------
    count, correct : int64 arrays, one entry per bin.

    Example: predicted ``[0, 0, -1]``, actual ``[0, 1, 0]``, confidences
    ``[0.9, 0.2, 1.0]``, edges ``[0, 0.5, 1]`` give count ``[1, 1]``,
    correct ``[0, 1]``.

    Notes
    -----
    Every row with a prediction counts, whatever the threshold (a prediction
    below the threshold is abstained, but it has a confidence), so the bins
    from the threshold up add up to the view's ``predicted`` when the
    threshold is an edge. Rows without a prediction count in no bin.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    n = actual.shape[0]
    edges = frozen(edges, np.float32)
    counts = sum_rows(
        _confidence_histogram, n, actual, predicted, confidence, edges, bin_scale(edges),
        frozen(actual_ok, np.bool_), len(actual_ok) - 1, *row_mask(mask, n),
    )
    return counts[0], counts[1]


@jit
def _index_histogram(offsets, order, confidence, sample, n_labels, edges, scale, actual_ok):
    size = n_labels + 1
    bins = edges.shape[0] - 1
    counts = np.zeros((2, bins), dtype=np.int64)
    # Rows at or above each bin's low edge, and above the last bin's high
    # edge (the last bin includes it): a bin is the difference of two.
    lows = np.empty(bins + 1, dtype=edges.dtype)
    lows[:bins] = edges[:bins]
    lows[bins] = _above_top(edges[bins])
    at = np.empty(bins + 1, dtype=np.int64)
    buffer = np.empty(READ_WHOLE, dtype=np.float32)
    firsts, lasts = np.empty(bins + 1, dtype=np.int64), np.empty(bins + 1, dtype=np.int64)
    for a in range(size):
        if not actual_ok[a]:
            continue
        for p in range(n_labels):  # the runs of rows with a prediction
            lo, hi = offsets[a * size + p], offsets[a * size + p + 1]
            if hi - lo <= bins:  # short run: bin each row
                for j in range(lo, hi):
                    b = bin_of(confidence[order[j]], edges, scale)
                    if b >= 0:
                        counts[0, b] += 1
                        counts[1, b] += p == a
                continue
            kept_at_each(order, confidence, sample, lo, hi, lows, at, buffer, firsts, lasts)
            for b in range(bins):
                counts[0, b] += at[b] - at[b + 1]
                if p == a:
                    counts[1, b] += at[b] - at[b + 1]
    return counts


@jit
def _above_top(top):
    # The last bin includes its high edge: count from just above it.
    return np.nextafter(top, np.float32(np.inf))


def index_confidence_histogram(
    index: ThresholdIndex, edges: np.ndarray, actual_ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``confidence_histogram`` of a split without a row mask, from its threshold
    index: per run with a prediction, bins + 1 searches on the index's sample
    (a run of up to ``READ_WHOLE`` rows read once instead) rather than a scan
    of every row."""
    edges = frozen(edges, np.float32)
    counts = _index_histogram(
        frozen(index.offsets, np.int64), frozen(index.order, np.int32),
        frozen(index.confidence, np.float32), frozen(index.sample, np.float32),
        index.n_labels, edges, bin_scale(edges), frozen(actual_ok, np.bool_),
    )
    return counts[0], counts[1]

