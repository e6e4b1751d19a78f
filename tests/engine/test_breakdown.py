"""Breakdowns: rows and confusion counts per value code and per value bin,
against plain NumPy and the confusion counts of each slice's rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalql.engine import jit
from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.breakdown import (
    _binned_counts,
    _code_counts,
    _confusion_by_bin,
    _confusion_by_code,
    binned_counts,
    code_counts,
    confusion_by_bin,
    confusion_by_code,
    value_range,
)
from evalql.engine.confusion import as_threshold, confusion_counts
from evalql.engine.histogram import bin_scale
from evalql.engine.jit import chunk_bounds

FEW = settings(max_examples=60, deadline=None)


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
    # Calls the kernels range by range, so merging the ranges' results is
    # exercised even on one core; the mask leaves the first ranges without a
    # row, whose bounds the merge must ignore.
    rng = np.random.default_rng(seed)
    k = 3
    actual, predicted, confidence = columns(
        rng.integers(-1, k, n), rng.integers(-1, k, n), rng.random(n)
    )
    codes = frozen(rng.integers(-1, 4, n), np.int32)
    values = frozen(np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)), np.float64)
    valid = frozen(rng.random(n) > 0.1, np.bool_)
    mask = row_mask((rng.random(n) > 0.3) & (np.arange(n) > n // 2), n)
    every = frozen(np.ones(k + 1), np.bool_)
    edges = frozen(np.linspace(-1, 1, 5), np.float64)
    threshold = as_threshold(0.5)
    bounds = chunk_bounds(n, chunks)

    def summed(kernel: Callable[..., Any], *args: Any) -> None:
        parts = [kernel(*args, lo, hi) for lo, hi in bounds]
        np.testing.assert_array_equal(sum(parts), kernel(*args, 0, n))

    summed(_code_counts, codes, 4, actual, every, k, *mask)
    summed(_binned_counts, values, valid, True, edges, bin_scale(edges), actual, every, k, *mask)
    summed(_confusion_by_code, codes, 4, actual, predicted, confidence, threshold, k, *mask)
    summed(_confusion_by_bin, values, valid, True, edges, bin_scale(edges), actual, predicted,
           confidence, threshold, k, *mask)
    seen = values[valid & mask[0] & ~np.isnan(values)]
    expected = (seen.min(), seen.max()) if len(seen) else None
    with pytest.MonkeyPatch.context() as patch:  # value_range cut into `chunks` ranges
        patch.setattr(jit, "n_chunks", lambda n_rows: chunks)
        assert value_range(values, valid, actual, every, mask[0]) == expected


def test_integer_bin_edges_are_the_bounds_a_filter_means_clamped_to_int64() -> None:
    from evalql.engine.breakdown import bin_edges

    assert bin_edges(np.array([0.5, 2.5, 4.5]), np.dtype(np.int64)).tolist() == [1, 3, 4]
    top = float(2**63 - 1)  # rounds up to 2**63, past int64
    assert bin_edges(np.array([-top, 0.0, top]), np.dtype(np.int64)).tolist() == [
        -(2**63), 0, 2**63 - 1,
    ]
    assert bin_edges(np.array([0.5, 1.5]), np.dtype(np.float64)).tolist() == [0.5, 1.5]
