"""Histograms over a view's rows: confidence bins, value bins, value counts.

A view's rows here are those that pass the row mask and whose actual label is
accepted by ``actual_ok`` (bool, K + 1 entries, index K = None): that is how a
class filter restricts the rows that ``total`` counts. ``actual`` and
``actual_ok`` may be None in the row counts (``code_counts``, ``value_range``,
``binned_counts``): every row of the mask is then the view's, as in a
multilabel view, whose class filter drops no row. Kernels count; the caller
turns counts into bins and slices.

A value falls into bin ``i`` of ``edges`` when ``edges[i] <= x < edges[i + 1]``,
the last bin also taking ``x == edges[-1]``; values outside every bin (and
NaN) are not counted.
"""

from __future__ import annotations

import numba
import numpy as np
from evalql.engine.index import ThresholdIndex, _kept_prefix
from evalql.engine.jit import inline_jit, jit, n_chunks, parallel_jit
from evalql.engine.kernels import _chunk_bounds, as_threshold, cell_of
from evalql.engine.selection import frozen


@inline_jit
def _bin_of(x, edges, scale):
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
def _in_view(i, actual, actual_ok, n_labels, mask, use_mask):
    # No actual column (length 0): every row is the view's, the mask aside.
    ok = True
    if actual.shape[0] > 0:
        a = actual[i]
        ok = actual_ok[a if a >= 0 else n_labels]
    if use_mask:
        ok &= mask[i]
    return ok


def _scale(edges: np.ndarray) -> float:
    width = float(edges[-1]) - float(edges[0])
    return (len(edges) - 1) / width if width > 0 else 0.0


@parallel_jit
def _confidence_histogram(actual, predicted, confidence, edges, scale, actual_ok, n_labels,
                          mask, use_mask, chunks):
    partial = np.zeros((chunks, 2, edges.shape[0] - 1), dtype=np.int64)
    n = actual.shape[0]
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        for i in range(lo, hi):
            ok = _in_view(i, actual, actual_ok, n_labels, mask, use_mask) & (predicted[i] >= 0)
            b = _bin_of(confidence[i], edges, scale)
            if ok & (b >= 0):
                partial[c, 0, b] += 1
                partial[c, 1, b] += predicted[i] == actual[i]
    return partial.sum(axis=0)


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
    edges = np.asarray(edges, dtype=np.float32)
    counts = _confidence_histogram(
        frozen(actual, np.int32), frozen(predicted, np.int32),
        frozen(confidence, np.float32), edges, _scale(edges),
        np.asarray(actual_ok, dtype=np.bool_), len(actual_ok) - 1, _flags(mask),
        mask is not None, n_chunks(len(actual)),
    )
    return counts[0], counts[1]


@jit
def _index_histogram(offsets, sorted_conf, n_labels, edges, scale, actual_ok):
    size = n_labels + 1
    bins = edges.shape[0] - 1
    counts = np.zeros((2, bins), dtype=np.int64)
    for a in range(size):
        if not actual_ok[a]:
            continue
        for p in range(n_labels):  # the runs of rows with a prediction
            lo, hi = offsets[a * size + p], offsets[a * size + p + 1]
            if hi - lo <= bins:  # short run: bin each row
                for j in range(lo, hi):
                    b = _bin_of(sorted_conf[j], edges, scale)
                    if b >= 0:
                        counts[0, b] += 1
                        counts[1, b] += p == a
                continue
            # Long run (confidence descending): a bin is the difference of two
            # binary searches, "rows at or above its low edge" minus its high's.
            above = _kept_prefix(sorted_conf, lo, hi, _above_top(edges[bins]))
            for b in range(bins - 1, -1, -1):
                at_low = _kept_prefix(sorted_conf, lo, hi, edges[b])
                counts[0, b] += at_low - above
                if p == a:
                    counts[1, b] += at_low - above
                above = at_low
    return counts


@jit
def _above_top(top):
    # The last bin includes its high edge: count from just above it.
    return np.nextafter(top, np.float32(np.inf))


def index_confidence_histogram(
    index: ThresholdIndex, edges: np.ndarray, actual_ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``confidence_histogram`` of a split without a row mask, from its threshold
    index: per run with a prediction, bins + 1 binary searches (or a pass over
    a run shorter than that) instead of a scan of every row."""
    edges = np.asarray(edges, dtype=np.float32)
    counts = _index_histogram(
        index.offsets, index.sorted_conf, index.n_labels, edges, _scale(edges),
        np.asarray(actual_ok, dtype=np.bool_),
    )
    return counts[0], counts[1]


@parallel_jit
def _code_counts(codes, n_codes, actual, actual_ok, n_labels, mask, use_mask, chunks):
    partial = np.zeros((chunks, n_codes + 1), dtype=np.int64)
    n = codes.shape[0]
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        for i in range(lo, hi):
            if _in_view(i, actual, actual_ok, n_labels, mask, use_mask):
                code = codes[i]
                partial[c, code if code >= 0 else n_codes] += 1
    return partial.sum(axis=0)


def code_counts(
    codes: np.ndarray,
    n_codes: int,
    actual: np.ndarray | None,
    actual_ok: np.ndarray | None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Rows of the view per value code (int32, ``-1`` = null, counted last).

    Example: codes ``[0, 1, 1, -1]``, n_codes 2, every row gives ``[1, 2, 1]``.
    """
    return _code_counts(
        frozen(codes, np.int32), n_codes, *_actual(actual, actual_ok, len(codes)),
        _flags(mask), mask is not None, n_chunks(len(codes)),
    )


@parallel_jit
def _value_range(values, valid, use_valid, actual, actual_ok, n_labels, mask, use_mask, chunks):
    lows = np.zeros(chunks, dtype=np.float64)
    highs = np.zeros(chunks, dtype=np.float64)
    seen = np.zeros(chunks, dtype=np.int64)
    n = values.shape[0]
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        for i in range(lo, hi):
            x = values[i]
            if (use_valid and not valid[i]) or x != x:
                continue
            if not _in_view(i, actual, actual_ok, n_labels, mask, use_mask):
                continue
            if seen[c] == 0 or x < lows[c]:
                lows[c] = x
            if seen[c] == 0 or x > highs[c]:
                highs[c] = x
            seen[c] += 1
    return lows, highs, seen


@parallel_jit
def _binned_counts(values, valid, use_valid, edges, scale, actual, actual_ok, n_labels,
                   mask, use_mask, chunks):
    bins = edges.shape[0] - 1
    partial = np.zeros((chunks, bins + 1), dtype=np.int64)
    n = values.shape[0]
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        for i in range(lo, hi):
            if not _in_view(i, actual, actual_ok, n_labels, mask, use_mask):
                continue
            if use_valid and not valid[i]:
                partial[c, bins] += 1
                continue
            b = _bin_of(values[i], edges, scale)
            if b >= 0:
                partial[c, b] += 1
    return partial.sum(axis=0)


def value_range(
    values: np.ndarray,
    valid: np.ndarray | None,
    actual: np.ndarray | None,
    actual_ok: np.ndarray | None,
    mask: np.ndarray | None = None,
) -> tuple[int | float, int | float] | None:
    """The smallest and largest valid, non-NaN value among the view's rows.

    ``values`` is int64 or float64; ``valid`` (bool) marks non-null rows, None
    when all are. None when the view has no such value.
    Example: values ``[3, 1, 7]``, valid ``[True, True, False]`` gives ``(1, 3)``.
    """
    values, flags = _values(values, valid)
    lows, highs, seen = _value_range(
        values, flags, valid is not None, *_actual(actual, actual_ok, len(values)),
        _flags(mask), mask is not None, n_chunks(len(values)),
    )
    some = seen > 0
    if not some.any():
        return None
    low, high = lows[some].min(), highs[some].max()
    if values.dtype == np.int64:
        return int(low), int(high)  # exact: compare them as the column's integers
    return float(low), float(high)


def binned_counts(
    values: np.ndarray,
    valid: np.ndarray | None,
    edges: np.ndarray,
    actual: np.ndarray | None,
    actual_ok: np.ndarray | None,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Rows of the view per bin of ``edges`` (float64), nulls counted last.

    Integers are compared with the float64 edges as float64, as Arrow compares
    an integer column with a float bound, so a bin holds exactly the rows a
    ``gte``/``lt`` filter with its edges selects.
    Example: values ``[1, 2, 5]``, edges ``[1, 3, 5]`` gives ``[2, 1, 0]``.
    """
    values, flags = _values(values, valid)
    edges = np.asarray(edges, dtype=np.float64)
    return _binned_counts(
        values, flags, valid is not None, edges, _scale(edges),
        *_actual(actual, actual_ok, len(values)), _flags(mask), mask is not None,
        n_chunks(len(values)),
    )


def _values(values: np.ndarray, valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    # Two specialisations only: int64 and float64.
    dtype = np.int64 if np.issubdtype(values.dtype, np.integer) else np.float64
    return frozen(values, dtype), _flags(valid)


def _flags(mask: np.ndarray | None) -> np.ndarray:
    return frozen(mask, np.bool_)


def _actual(
    actual: np.ndarray | None, actual_ok: np.ndarray | None, n_rows: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The kernels' (actual, actual_ok, K); no actual column is a length-0 one."""
    if actual is None or actual_ok is None:
        return frozen(None, np.int32), np.ones(1, dtype=np.bool_), 0
    if len(actual) != n_rows:
        raise ValueError("actual has to be as long as the values")
    return frozen(actual, np.int32), np.asarray(actual_ok, dtype=np.bool_), len(actual_ok) - 1


# --- confusion counts per group: every slice of a breakdown in one pass -------


@inline_jit
def _tally(partial, c, g, i, actual, predicted, confidence, threshold, n_labels):
    a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
    partial[c, g, a, p] += 1


@parallel_jit
def _confusion_by_code(codes, n_codes, actual, predicted, confidence, threshold, n_labels,
                       mask, use_mask, chunks):
    size = n_labels + 1
    partial = np.zeros((chunks, n_codes + 1, size, size), dtype=np.int64)
    n = actual.shape[0]
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        for i in range(lo, hi):
            if use_mask and not mask[i]:
                continue
            g = codes[i] if codes[i] >= 0 else n_codes
            _tally(partial, c, g, i, actual, predicted, confidence, threshold, n_labels)
    return partial.sum(axis=0)


@parallel_jit
def _confusion_by_bin(values, valid, use_valid, edges, scale, actual, predicted, confidence,
                      threshold, n_labels, mask, use_mask, chunks):
    size = n_labels + 1
    bins = edges.shape[0] - 1
    partial = np.zeros((chunks, bins + 1, size, size), dtype=np.int64)
    n = actual.shape[0]
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        for i in range(lo, hi):
            if use_mask and not mask[i]:
                continue
            g = bins if use_valid and not valid[i] else _bin_of(values[i], edges, scale)
            if g >= 0:
                _tally(partial, c, g, i, actual, predicted, confidence, threshold, n_labels)
    return partial.sum(axis=0)


def confusion_by_code(
    codes: np.ndarray,
    n_codes: int,
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """The confusion counts of every value's rows, in one pass.

    Returns int64 ``(n_codes + 1, K + 1, K + 1)``: ``[g]`` is the matrix of the
    rows with code g (as ``engine.kernels.confusion_counts`` counts it), the
    last one that of the null rows (code -1). Every row passing ``mask``
    counts, whatever its actual label. The result has (n_codes + 1)(K + 1)^2
    cells per thread, so the caller bounds it.
    """
    return _confusion_by_code(
        frozen(codes, np.int32), n_codes, *_columns(actual, predicted, confidence),
        as_threshold(threshold), n_labels, _flags(mask), mask is not None,
        n_chunks(len(actual)),
    )


def confusion_by_bin(
    values: np.ndarray,
    valid: np.ndarray | None,
    edges: np.ndarray,
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """``confusion_by_code`` with bins of ``edges`` for codes (as ``binned_counts``
    bins), the null rows last."""
    values, flags = _values(values, valid)
    edges = np.asarray(edges, dtype=np.float64)
    return _confusion_by_bin(
        values, flags, valid is not None, edges, _scale(edges),
        *_columns(actual, predicted, confidence), as_threshold(threshold), n_labels,
        _flags(mask), mask is not None, n_chunks(len(actual)),
    )


def _columns(actual, predicted, confidence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        frozen(actual, np.int32),
        frozen(predicted, np.int32),
        frozen(confidence, np.float32),
    )


def warm() -> None:
    """Load (or compile) this module's kernels, for the server's start, with
    read-only columns as the store hands them out."""
    codes, confidence, mask = np.zeros(4, np.int32), np.ones(4, np.float32), np.ones(4, bool)
    for array in (codes, confidence, mask):
        array.flags.writeable = False
    every = np.ones(2, dtype=bool)
    edges = np.linspace(0.0, 1.0, 3)
    index = ThresholdIndex.build(codes, codes, confidence, 1)
    index_confidence_histogram(index, edges, every)
    for rows in (None, mask):
        confidence_histogram(codes, codes, confidence, edges, every, rows)
        code_counts(codes, 1, codes, every, rows)
        confusion_by_code(codes, 1, codes, codes, confidence, 0.5, 1, rows)
        for values in (np.zeros(4, np.int64), np.zeros(4, np.float64)):
            for valid in (None, mask):
                value_range(values, valid, codes, every, rows)
                binned_counts(values, valid, edges, codes, every, rows)
                confusion_by_bin(values, valid, edges, codes, codes, confidence, 0.5, 1, rows)
