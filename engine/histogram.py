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

import numpy as np

from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.index import ThresholdIndex, kept_prefix
from evalql.engine.jit import inline_jit, jit, map_rows, sum_rows
from evalql.engine.kernels import as_threshold, cell_of


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


@jit
def _confidence_histogram(actual, predicted, confidence, edges, scale, actual_ok, n_labels,
                          mask, use_mask, lo, hi):
    counts = np.zeros((2, edges.shape[0] - 1), dtype=np.int64)
    for i in range(lo, hi):
        ok = _in_view(i, actual, actual_ok, n_labels, mask, use_mask) & (predicted[i] >= 0)
        b = _bin_of(confidence[i], edges, scale)
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
        _confidence_histogram, n, actual, predicted, confidence, edges, _scale(edges),
        frozen(actual_ok, np.bool_), len(actual_ok) - 1, *row_mask(mask, n),
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
            above = kept_prefix(sorted_conf, lo, hi, _above_top(edges[bins]))
            for b in range(bins - 1, -1, -1):
                at_low = kept_prefix(sorted_conf, lo, hi, edges[b])
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
    edges = frozen(edges, np.float32)
    counts = _index_histogram(
        frozen(index.offsets, np.int64), frozen(index.sorted_conf, np.float32),
        index.n_labels, edges, _scale(edges), frozen(actual_ok, np.bool_),
    )
    return counts[0], counts[1]


@jit
def _code_counts(codes, n_codes, actual, actual_ok, n_labels, mask, use_mask, lo, hi):
    counts = np.zeros(n_codes + 1, dtype=np.int64)
    for i in range(lo, hi):
        if _in_view(i, actual, actual_ok, n_labels, mask, use_mask):
            code = codes[i]
            counts[code if code >= 0 else n_codes] += 1
    return counts


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
    codes = frozen(codes, np.int32)
    n = codes.shape[0]
    return sum_rows(
        _code_counts, n, codes, int(n_codes), *_actual(actual, actual_ok, n),
        *row_mask(mask, n),
    )


@jit
def _value_range(values, valid, use_valid, actual, actual_ok, n_labels, mask, use_mask, lo, hi):
    # (lowest, highest, how many) of rows lo .. hi-1, the bounds as float64;
    # they mean nothing when none is seen.
    low = high = np.float64(0.0)
    seen = 0
    for i in range(lo, hi):
        x = values[i]
        if (use_valid and not valid[i]) or x != x:
            continue
        if not _in_view(i, actual, actual_ok, n_labels, mask, use_mask):
            continue
        if seen == 0 or x < low:
            low = x
        if seen == 0 or x > high:
            high = x
        seen += 1
    return low, high, seen


@jit
def _binned_counts(values, valid, use_valid, edges, scale, actual, actual_ok, n_labels,
                   mask, use_mask, lo, hi):
    bins = edges.shape[0] - 1
    counts = np.zeros(bins + 1, dtype=np.int64)
    for i in range(lo, hi):
        if not _in_view(i, actual, actual_ok, n_labels, mask, use_mask):
            continue
        if use_valid and not valid[i]:
            counts[bins] += 1
            continue
        b = _bin_of(values[i], edges, scale)
        if b >= 0:
            counts[b] += 1
    return counts


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
    values, flags, use_valid = _values(values, valid)
    n = values.shape[0]
    parts = map_rows(
        _value_range, n, values, flags, use_valid, *_actual(actual, actual_ok, n),
        *row_mask(mask, n),
    )
    seen = [(low, high) for low, high, count in parts if count > 0]
    if not seen:
        return None
    low, high = min(low for low, _ in seen), max(high for _, high in seen)
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
    values, flags, use_valid = _values(values, valid)
    n = values.shape[0]
    edges = frozen(edges, np.float64)
    return sum_rows(
        _binned_counts, n, values, flags, use_valid, edges, _scale(edges),
        *_actual(actual, actual_ok, n), *row_mask(mask, n),
    )


def _values(
    values: np.ndarray, valid: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(values, valid flags, use_valid) as kernels take them: int64 or float64
    values (two specialisations only), read-only."""
    dtype = np.int64 if np.issubdtype(np.asarray(values).dtype, np.integer) else np.float64
    values, flags = frozen(values, dtype), frozen(valid, np.bool_)
    if valid is not None and flags.shape != values.shape:
        raise ValueError("valid has to be as long as the values")
    return values, flags, valid is not None


def _actual(
    actual: np.ndarray | None, actual_ok: np.ndarray | None, n_rows: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The kernels' (actual, actual_ok, K); no actual column is a length-0 one."""
    if actual is None or actual_ok is None:
        return frozen(None, np.int32), frozen(np.ones(1), np.bool_), 0
    if len(actual) != n_rows:
        raise ValueError("actual has to be as long as the values")
    return frozen(actual, np.int32), frozen(actual_ok, np.bool_), len(actual_ok) - 1


# --- confusion counts per group: every slice of a breakdown in one pass -------


@inline_jit
def _tally(counts, g, i, actual, predicted, confidence, threshold, n_labels):
    a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
    counts[g, a, p] += 1


@jit
def _confusion_by_code(codes, n_codes, actual, predicted, confidence, threshold, n_labels,
                       mask, use_mask, lo, hi):
    size = n_labels + 1
    counts = np.zeros((n_codes + 1, size, size), dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        g = codes[i] if codes[i] >= 0 else n_codes
        _tally(counts, g, i, actual, predicted, confidence, threshold, n_labels)
    return counts


@jit
def _confusion_by_bin(values, valid, use_valid, edges, scale, actual, predicted, confidence,
                      threshold, n_labels, mask, use_mask, lo, hi):
    size = n_labels + 1
    bins = edges.shape[0] - 1
    counts = np.zeros((bins + 1, size, size), dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        g = bins if use_valid and not valid[i] else _bin_of(values[i], edges, scale)
        if g >= 0:
            _tally(counts, g, i, actual, predicted, confidence, threshold, n_labels)
    return counts


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
    actual, predicted, confidence = columns(actual, predicted, confidence)
    n = actual.shape[0]
    return sum_rows(
        _confusion_by_code, n, _codes(codes, n), int(n_codes), actual, predicted,
        confidence, as_threshold(threshold), int(n_labels), *row_mask(mask, n),
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
    values, flags, use_valid = _values(values, valid)
    actual, predicted, confidence = columns(actual, predicted, confidence)
    n = actual.shape[0]
    if values.shape != (n,):
        raise ValueError("values have to be as long as the columns")
    edges = frozen(edges, np.float64)
    return sum_rows(
        _confusion_by_bin, n, values, flags, use_valid, edges, _scale(edges), actual,
        predicted, confidence, as_threshold(threshold), int(n_labels), *row_mask(mask, n),
    )


def _codes(codes: np.ndarray, n_rows: int) -> np.ndarray:
    codes = frozen(codes, np.int32)
    if codes.shape != (n_rows,):
        raise ValueError("codes have to be as long as the columns")
    return codes

