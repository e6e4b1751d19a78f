"""Breakdowns: a view's rows per value code or value bin, and their confusion counts.

A breakdown slices a view by a metadata column: ``code_counts`` and
``confusion_by_code`` by a dictionary-coded column (code ``-1`` = null,
counted last), ``value_range``, ``binned_counts`` and ``confusion_by_bin`` by
a numeric one (int64 or float64; nulls counted last). Bins and the view's rows
are those of ``engine.histogram`` (``bin_of``, ``in_view``): ``actual`` and
``actual_ok`` may be None in the row counts (``code_counts``, ``value_range``,
``binned_counts``), and every row of the mask is then the view's, as in a
multilabel view, whose class filter drops no row. Kernels count; the caller
turns counts into slices.
"""

from __future__ import annotations

import math

import numpy as np

from evalql.engine.arrays import RowTest, columns, frozen, row_mask, row_test
from evalql.engine.confusion import as_threshold, cell_of
from evalql.engine.histogram import bin_of, bin_scale, in_view
from evalql.engine.jit import inline_jit, jit, map_rows, sum_rows


@jit
def _code_counts(codes, n_codes, actual, actual_ok, n_labels, mask, use_mask, lo, hi):
    counts = np.zeros(n_codes + 1, dtype=np.int64)
    for i in range(lo, hi):
        if in_view(i, actual, actual_ok, n_labels, mask, use_mask):
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
    # (lowest, highest, how many) of rows lo .. hi-1, in the values' own type
    # (an int64 above 2**53 would round as a float64); they mean nothing when
    # none is seen.
    low = high = values[:0].sum()
    seen = 0
    for i in range(lo, hi):
        x = values[i]
        if (use_valid and not valid[i]) or x != x:
            continue
        if not in_view(i, actual, actual_ok, n_labels, mask, use_mask):
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
        if not in_view(i, actual, actual_ok, n_labels, mask, use_mask):
            continue
        if use_valid and not valid[i]:
            counts[bins] += 1
            continue
        b = bin_of(values[i], edges, scale)
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

    Bin b is ``[edges[b], edges[b+1])``, the last one closed. Integers are
    compared with the edges exactly, as ``where`` compares them (see
    ``bin_edges``), so a bin holds exactly the rows its slice's filter
    ``gte: edges[b], lt: edges[b+1]`` (``lte`` for the last) selects.
    Example: values ``[1, 2, 5]``, edges ``[1, 3, 5]`` gives ``[2, 1, 0]``.
    """
    values, flags, use_valid = _values(values, valid)
    n = values.shape[0]
    edges = bin_edges(edges, values.dtype)
    return sum_rows(
        _binned_counts, n, values, flags, use_valid, edges, bin_scale(edges),
        *_actual(actual, actual_ok, n), *row_mask(mask, n),
    )


def bin_edges(edges: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float64 ``edges`` as kernels compare them with values of ``dtype``.

    For int64 values, the integer bounds a filter with those edges means:
    ``x >= e`` and ``x < e`` hold exactly when they hold for ``ceil(e)``, and
    the last bin's ``x <= e`` when it holds for ``floor(e)``. Compared as
    int64, a value above 2**53 (every nanosecond timestamp) lands in the bin
    its slice's ``where`` selects; compared as float64, it may not.
    Example: edges ``[0.5, 2.5, 4.5]`` for int64 give ``[1, 3, 4]``.
    """
    edges = np.asarray(edges, dtype=np.float64)
    if dtype != np.int64:
        return frozen(edges, np.float64)
    bounds = [math.ceil(e) for e in edges[:-1]] + [math.floor(edges[-1])]
    # A bound past int64's range (float(2**63 - 1) is 2**63) means the same
    # as the range's end to an int64 value.
    low, high = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    return frozen(np.array([min(max(b, low), high) for b in bounds], dtype=np.int64), np.int64)


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


# --- confusion counts per slice: every slice of a breakdown in one pass -------


# A thread counts in uint16 and adds 65536 to an int64 counter, touched
# once per 65536 hits, when one wraps to 0; the two are added at the end, so
# the counts are exact. 51 x 101 x 101 counters a thread are 1 MB so,
# against 4.2 MB in int64, more than the 2 MB L2 a core here. One core's CPU
# for 10M rows x 100 labels, 50 groups, quiet box (thread_time, min of 6):
# int64 61-62 ms, uint16 45-48 ms (Numba 0.60).
_WRAP = 65536


@inline_jit
def _tally(small, big, k):
    v = np.int64(small[k]) + 1
    small[k] = v & (_WRAP - 1)
    if v == _WRAP:  # wrapped: almost never, so a predicted branch
        big[k] += _WRAP


@inline_jit
def _merged(small, big, groups, size):
    for k in range(big.shape[0]):
        big[k] += small[k]
    return big.reshape((groups, size, size))


# The view's row filter is tested inside the scan (``RowTest``: dictionary
# codes through a lookup table, a bitset, an int64 range), as
# ``engine.confusion`` does, so a breakdown under a filter needs no mask
# pass. Unlike there, a dropped row is skipped by a branch, not counted into
# a dump cell: every dropped row's increment of one uint16 cell made a chain
# of dependent loads and stores (10M rows, 13% kept: 85 ms of one core's CPU
# into a dump cell, 37-41 ms skipped, 26-32 ms for the old bool-mask kernel
# without its mask pass). The lines are written out in each kernel (see
# ``engine.confusion`` for why).
@jit
def _confusion_by_code(groups, n_groups, actual, predicted, confidence, threshold, n_labels,
                       codes, drop, words, values, bounds, lo, hi):
    size = n_labels + 1
    small = np.zeros((n_groups + 1) * size * size, dtype=np.uint16)
    big = np.zeros((n_groups + 1) * size * size, dtype=np.int64)
    use_codes, use_words = codes.shape[0] > 0, words.shape[0] > 0
    use_values, low, high = values.shape[0] > 0, bounds[0], bounds[1]
    last = drop.shape[0] - 1
    for i in range(lo, hi):
        gone = np.int64(0)
        if use_codes:
            gone += drop[codes[i] & last]
        if use_words:
            gone += ((words[i >> 6] >> (i & 63)) & 1 ^ 1) << 40
        if use_values:
            gone += np.int64((values[i] < low) | (values[i] > high)) << 40
        if gone != 0:
            continue
        g = groups[i] if groups[i] >= 0 else n_groups
        a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
        _tally(small, big, (g * size + a) * size + p)
    return _merged(small, big, n_groups + 1, size)


@jit
def _confusion_by_bin(numbers, valid, use_valid, edges, scale, actual, predicted, confidence,
                      threshold, n_labels, codes, drop, words, values, bounds, lo, hi):
    size = n_labels + 1
    bins = edges.shape[0] - 1
    small = np.zeros((bins + 1) * size * size, dtype=np.uint16)
    big = np.zeros((bins + 1) * size * size, dtype=np.int64)
    use_codes, use_words = codes.shape[0] > 0, words.shape[0] > 0
    use_values, low, high = values.shape[0] > 0, bounds[0], bounds[1]
    last = drop.shape[0] - 1
    for i in range(lo, hi):
        gone = np.int64(0)
        if use_codes:
            gone += drop[codes[i] & last]
        if use_words:
            gone += ((words[i >> 6] >> (i & 63)) & 1 ^ 1) << 40
        if use_values:
            gone += np.int64((values[i] < low) | (values[i] > high)) << 40
        if gone != 0:
            continue
        g = bins if use_valid and not valid[i] else bin_of(numbers[i], edges, scale)
        if g < 0:  # NaN: in no bin
            continue
        a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
        _tally(small, big, (g * size + a) * size + p)
    return _merged(small, big, bins + 1, size)


# Every row, or a bool mask: a loop with a mask flag, faster without a
# filter than the RowTest loop (one core, 10M rows: 45-48 against 52-54 ms).
@jit
def _confusion_by_code_masked(groups, n_groups, actual, predicted, confidence, threshold,
                              n_labels, mask, use_mask, lo, hi):
    size = n_labels + 1
    small = np.zeros((n_groups + 1) * size * size, dtype=np.uint16)
    big = np.zeros((n_groups + 1) * size * size, dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        g = groups[i] if groups[i] >= 0 else n_groups
        a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
        _tally(small, big, (g * size + a) * size + p)
    return _merged(small, big, n_groups + 1, size)


@jit
def _confusion_by_bin_masked(numbers, valid, use_valid, edges, scale, actual, predicted,
                             confidence, threshold, n_labels, mask, use_mask, lo, hi):
    size = n_labels + 1
    bins = edges.shape[0] - 1
    small = np.zeros((bins + 1) * size * size, dtype=np.uint16)
    big = np.zeros((bins + 1) * size * size, dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        g = bins if use_valid and not valid[i] else bin_of(numbers[i], edges, scale)
        if g >= 0:
            a, p = cell_of(actual, predicted, confidence, i, threshold, n_labels)
            _tally(small, big, (g * size + a) * size + p)
    return _merged(small, big, bins + 1, size)


def confusion_by_code(
    codes: np.ndarray,
    n_codes: int,
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | RowTest | None = None,
) -> np.ndarray:
    """The confusion counts of every value's rows, in one pass.

    Returns int64 ``(n_codes + 1, K + 1, K + 1)``: ``[g]`` is the matrix of the
    rows with code g (as ``engine.confusion.confusion_counts`` counts it), the
    last one that of the null rows (code -1). Every row passing ``mask`` (a
    bool mask, or a ``RowTest`` tested inside the scan) counts, whatever its
    actual label. The result has (n_codes + 1)(K + 1)^2
    cells per thread, so the caller bounds it.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    n = actual.shape[0]
    common = (n, _codes(codes, n), int(n_codes), actual, predicted, confidence,
              as_threshold(threshold), int(n_labels))
    if isinstance(mask, RowTest):
        return sum_rows(_confusion_by_code, *common, *row_test(mask, n))
    return sum_rows(_confusion_by_code_masked, *common, *row_mask(mask, n))


def confusion_by_bin(
    values: np.ndarray,
    valid: np.ndarray | None,
    edges: np.ndarray,
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | RowTest | None = None,
) -> np.ndarray:
    """``confusion_by_code`` with bins of ``edges`` for codes (as ``binned_counts``
    bins), the null rows last."""
    values, flags, use_valid = _values(values, valid)
    actual, predicted, confidence = columns(actual, predicted, confidence)
    n = actual.shape[0]
    if values.shape != (n,):
        raise ValueError("values have to be as long as the columns")
    edges = bin_edges(edges, values.dtype)
    common = (n, values, flags, use_valid, edges, bin_scale(edges), actual, predicted,
              confidence, as_threshold(threshold), int(n_labels))
    if isinstance(mask, RowTest):
        return sum_rows(_confusion_by_bin, *common, *row_test(mask, n))
    return sum_rows(_confusion_by_bin_masked, *common, *row_mask(mask, n))


def _codes(codes: np.ndarray, n_rows: int) -> np.ndarray:
    codes = frozen(codes, np.int32)
    if codes.shape != (n_rows,):
        raise ValueError("codes have to be as long as the columns")
    return codes
