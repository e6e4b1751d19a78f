"""Breakdowns: rows and confusion counts per value code and per value bin,
against plain NumPy and the confusion counts of each slice's rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.arrays import RowTest, frozen, row_test
from evalql.engine.breakdown import (
    _binned_counts,
    _code_counts,
    _confusion_by_bin,
    _confusion_by_bin_masked,
    _confusion_by_code,
    _confusion_by_code_masked,
    binned_counts,
    code_counts,
    confusion_by_bin,
    confusion_by_code,
    value_range,
)
from evalql.engine.confusion import as_threshold, confusion_counts
from evalql.engine.histogram import bin_scale
from tests.engine.ranges import assert_summed, random_columns, rows_cut_into
from tests.engine.strategies import FEW


def test_groups_count_rows_and_confusion_matrices() -> None:
    rng = np.random.default_rng(2)
    n, k = 5000, 3
    actual = rng.integers(-1, k, n).astype(np.int32)
    predicted = rng.integers(-1, k, n).astype(np.int32)
    confidence = rng.random(n).astype(np.float32)
    codes = rng.integers(-1, 4, n).astype(np.int32)
    values = rng.integers(0, 100, n)
    valid = rng.random(n) > 0.1
    mask = rng.random(n) > 0.3
    every = np.ones(k + 1, dtype=bool)
    by_code = confusion_by_code(codes, 4, actual, predicted, confidence, 0.5, k, mask)
    for g, code in enumerate([0, 1, 2, 3, -1]):
        rows = mask & (codes == code)
        expected = confusion_counts(actual, predicted, confidence, 0.5, k, rows)
        np.testing.assert_array_equal(by_code[g], expected)
    assert code_counts(codes, 4, actual, every, mask).tolist() == by_code.sum(axis=(1, 2)).tolist()
    low, high = value_range(values, valid, actual, every, mask)
    assert (low, high) == (values[valid & mask].min(), values[valid & mask].max())
    edges = np.linspace(low, high, 6)
    by_bin = confusion_by_bin(values, valid, edges, actual, predicted, confidence, 0.5, k, mask)
    counted = binned_counts(values, valid, edges, actual, every, mask)
    assert counted.tolist() == by_bin.sum(axis=(1, 2)).tolist()
    for b in range(5):
        upper = values <= edges[b + 1] if b == 4 else values < edges[b + 1]
        rows = mask & valid & (values >= edges[b]) & upper
        assert counted[b] == rows.sum()
    assert counted[-1] == (mask & ~valid).sum()


@FEW
@given(st.integers(0, 300), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_every_cut_of_the_rows_into_ranges_gives_the_same_counts(
    n: int, chunks: int, seed: int
) -> None:
    rng, k = np.random.default_rng(seed), 3
    c = random_columns(rng, n, k)
    codes = frozen(rng.integers(-1, 4, n), np.int32)
    values = frozen(np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)), np.float64)
    valid = frozen(rng.random(n) > 0.1, np.bool_)
    edges = frozen(np.linspace(-1, 1, 5), np.float64)
    threshold = as_threshold(0.5)
    assert_summed(_code_counts, n, chunks, codes, 4, c.actual, c.every, k, *c.mask)
    assert_summed(_binned_counts, n, chunks, values, valid, True, edges, bin_scale(edges),
                  c.actual, c.every, k, *c.mask)
    test = row_test(c.mask[0], n)
    assert_summed(_confusion_by_code, n, chunks, codes, 4, c.actual, c.predicted, c.confidence,
                  threshold, k, *test)
    assert_summed(_confusion_by_bin, n, chunks, values, valid, True, edges, bin_scale(edges),
                  c.actual, c.predicted, c.confidence, threshold, k, *test)
    assert_summed(_confusion_by_code_masked, n, chunks, codes, 4, c.actual, c.predicted,
                  c.confidence, threshold, k, *c.mask)
    assert_summed(_confusion_by_bin_masked, n, chunks, values, valid, True, edges,
                  bin_scale(edges), c.actual, c.predicted, c.confidence, threshold, k, *c.mask)
    seen = values[valid & c.mask[0] & ~np.isnan(values)]
    expected = (seen.min(), seen.max()) if len(seen) else None
    with rows_cut_into(chunks):
        assert value_range(values, valid, c.actual, c.every, c.mask[0]) == expected


def test_integer_bin_edges_are_the_bounds_a_filter_means_clamped_to_int64() -> None:
    from evalql.engine.breakdown import bin_edges

    assert bin_edges(np.array([0.5, 2.5, 4.5]), np.dtype(np.int64)).tolist() == [1, 3, 4]
    top = float(2**63 - 1)  # rounds up to 2**63, past int64
    assert bin_edges(np.array([-top, 0.0, top]), np.dtype(np.int64)).tolist() == [
        -(2**63), 0, 2**63 - 1,
    ]
    assert bin_edges(np.array([0.5, 1.5]), np.dtype(np.float64)).tolist() == [0.5, 1.5]


def test_the_docstring_examples_hold_and_no_actual_column_keeps_every_row() -> None:
    # No actual column (a split breaking down rows it has no labels for).
    codes = np.array([0, 1, 1, -1], dtype=np.int32)
    assert code_counts(codes, 2, None, None).tolist() == [1, 2, 1]
    values = np.array([3, 1, 7])
    assert value_range(values, np.array([True, True, False]), None, None) == (1, 3)
    assert binned_counts(np.array([1, 2, 5]), None, np.array([1.0, 3.0, 5.0]), None,
                         None).tolist() == [2, 1, 0]


def test_columns_of_another_length_are_refused() -> None:
    n, k = 4, 2
    actual = predicted = np.zeros(n, dtype=np.int32)
    confidence = np.ones(n, dtype=np.float32)
    every = np.ones(k + 1, dtype=bool)
    values, edges = np.arange(n), np.array([0.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="valid has to be as long as the values"):
        value_range(values, np.ones(n + 1, dtype=bool), actual, every)
    with pytest.raises(ValueError, match="actual has to be as long as the values"):
        binned_counts(values, None, edges, actual[:2], every)
    with pytest.raises(ValueError, match="values have to be as long as the columns"):
        confusion_by_bin(values[:2], None, edges, actual, predicted, confidence, 0.5, k)
    with pytest.raises(ValueError, match="codes have to be as long as the columns"):
        confusion_by_code(codes=np.zeros(n + 1, np.int32), n_codes=1, actual=actual,
                          predicted=predicted, confidence=confidence, threshold=0.5,
                          n_labels=k)


def test_a_cell_of_more_than_65536_rows_counts_exactly() -> None:
    # A scan counts in uint16 and carries each wrap to int64: cells of
    # 65535, 65536, 65537 and 3 x 65536 + 5 rows, by code and by bin.
    sizes = [65_535, 65_536, 65_537, 3 * 65_536 + 5]
    group = np.repeat(np.arange(len(sizes)), sizes)
    n, k = group.shape[0], 2
    actual = (group % 2).astype(np.int32)
    predicted = np.zeros(n, dtype=np.int32)
    confidence = np.ones(n, dtype=np.float32)
    codes = group.astype(np.int32)
    by_code = confusion_by_code(codes, len(sizes), actual, predicted, confidence, 0.5, k)
    by_bin = confusion_by_bin(group.astype(np.float64), None,
                              np.arange(len(sizes) + 1, dtype=np.float64) - 0.5,
                              actual, predicted, confidence, 0.5, k)
    for counts in (by_code, by_bin):
        for g, size in enumerate(sizes):
            expected = np.zeros((k + 1, k + 1), dtype=np.int64)
            expected[g % 2, 0] = size
            assert (counts[g] == expected).all()
        assert counts[-1].sum() == 0
    # One range, as a serial scan of every row counts it (the wraps of one thread).
    one = _confusion_by_code(frozen(codes, np.int32), len(sizes), actual, predicted, confidence,
                             as_threshold(0.5), k, *row_test(None, n), 0, n)
    assert (one == by_code).all()


@FEW
@given(st.integers(0, 400), st.integers(0, 2**32 - 1))
def test_a_row_test_in_the_scan_counts_as_its_mask(n: int, seed: int) -> None:
    # Dictionary codes through a lookup table, a bitset and an int64 range,
    # alone and together, against the bool mask of the same rows.
    rng, k = np.random.default_rng(seed), 3
    actual = rng.integers(-1, k, n).astype(np.int32)
    predicted = rng.integers(-1, k, n).astype(np.int32)
    confidence = rng.random(n).astype(np.float32)
    groups = rng.integers(-1, 4, n).astype(np.int32)
    numbers = np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n))
    edges = np.linspace(-1, 1, 4)
    meta = rng.integers(0, 5, n).astype(np.int32)
    keep = rng.random(6) > 0.5
    bits = rng.random(n) > 0.3
    lengths = rng.integers(0, 100, n).astype(np.int64)
    low, high = sorted(int(x) for x in rng.integers(0, 100, 2))
    parts = {
        "codes": (dict(codes=meta, keep=keep), keep[meta]),
        "bits": (dict(bits=RowTest.of_mask(bits).bits), bits),
        "range": (dict(values=lengths, low=low, high=high), (lengths >= low) & (lengths <= high)),
    }
    for chosen in (["codes"], ["bits"], ["range"], ["codes", "bits", "range"]):
        fields: dict = {}
        mask = np.ones(n, dtype=bool)
        for name in chosen:
            fields.update(parts[name][0])
            mask &= parts[name][1]
        test = RowTest(**fields)
        assert (confusion_by_code(groups, 4, actual, predicted, confidence, 0.5, k, test)
                == confusion_by_code(groups, 4, actual, predicted, confidence, 0.5, k, mask)).all()
        assert (confusion_by_bin(numbers, None, edges, actual, predicted, confidence, 0.5, k, test)
                == confusion_by_bin(numbers, None, edges, actual, predicted, confidence, 0.5, k,
                                    mask)).all()
