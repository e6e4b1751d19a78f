"""Histograms and per-group counts against plain NumPy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalql.engine import jit
from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.histogram import (
    _binned_counts,
    _code_counts,
    _confidence_histogram,
    _confusion_by_bin,
    _confusion_by_code,
    _scale,
    binned_counts,
    code_counts,
    confidence_histogram,
    confusion_by_bin,
    confusion_by_code,
    index_confidence_histogram,
    value_range,
)
from evalql.engine.index import ThresholdIndex
from evalql.engine.jit import chunk_bounds
from evalql.engine.kernels import as_threshold, confusion_counts
from tests.engine.strategies import View, views

FEW = settings(max_examples=60, deadline=None)


def naive_histogram(view: View, edges: np.ndarray, actual_ok: np.ndarray) -> tuple[list, list]:
    bins = len(edges) - 1
    count, correct = [0] * bins, [0] * bins
    for a, p, c in zip(view.actual, view.predicted, view.confidence, strict=True):
        if p < 0 or not actual_ok[a if a >= 0 else view.n_labels]:
            continue
        b = next(i for i in range(bins) if c < edges[i + 1] or i == bins - 1)
        count[b] += 1
        correct[b] += int(p == a)
    return count, correct


@FEW
@given(views(), st.integers(1, 12), st.data())
def test_confidence_histogram_by_scan_and_by_index_agree_with_a_loop(
    view: View, bins: int, data: st.DataObject
) -> None:
    flags = st.lists(st.booleans(), min_size=view.n_labels + 1, max_size=view.n_labels + 1)
    actual_ok = np.array(data.draw(flags), dtype=bool)
    edges = np.linspace(0, 1, bins + 1).astype(np.float32)
    expected = naive_histogram(view, edges, actual_ok)
    scan = confidence_histogram(view.actual, view.predicted, view.confidence, edges, actual_ok)
    index = ThresholdIndex.build(view.actual, view.predicted, view.confidence, view.n_labels)
    walked = index_confidence_histogram(index, edges, actual_ok)
    for found in (scan, walked):
        assert [c.tolist() for c in found] == [expected[0], expected[1]]


def test_a_confidence_on_an_edge_opens_the_next_bin_and_one_closes_the_last() -> None:
    confidence = np.array([0.7, 1.0, 0.0], dtype=np.float32)
    codes = np.zeros(3, dtype=np.int32)
    edges = np.linspace(0, 1, 11).astype(np.float32)
    count, _ = confidence_histogram(codes, codes, confidence, edges, np.ones(2, dtype=bool))
    assert np.flatnonzero(count).tolist() == [0, 7, 9]


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
    edges32 = frozen(np.linspace(0, 1, 5), np.float32)
    edges = frozen(np.linspace(-1, 1, 5), np.float64)
    threshold = as_threshold(0.5)
    bounds = chunk_bounds(n, chunks)

    def summed(kernel: Callable[..., Any], *args: Any) -> None:
        parts = [kernel(*args, lo, hi) for lo, hi in bounds]
        np.testing.assert_array_equal(sum(parts), kernel(*args, 0, n))

    summed(_confidence_histogram, actual, predicted, confidence, edges32, _scale(edges32),
           every, k, *mask)
    summed(_code_counts, codes, 4, actual, every, k, *mask)
    summed(_binned_counts, values, valid, True, edges, _scale(edges), actual, every, k, *mask)
    summed(_confusion_by_code, codes, 4, actual, predicted, confidence, threshold, k, *mask)
    summed(_confusion_by_bin, values, valid, True, edges, _scale(edges), actual, predicted,
           confidence, threshold, k, *mask)
    seen = values[valid & mask[0] & ~np.isnan(values)]
    expected = (seen.min(), seen.max()) if len(seen) else None
    with pytest.MonkeyPatch.context() as patch:  # value_range cut into `chunks` ranges
        patch.setattr(jit, "n_chunks", lambda n_rows: chunks)
        assert value_range(values, valid, actual, every, mask[0]) == expected
