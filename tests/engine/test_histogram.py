"""Histograms and per-group counts against plain NumPy."""

from __future__ import annotations

import numpy as np
from evalql.engine.histogram import (
    binned_counts,
    code_counts,
    confidence_histogram,
    confusion_by_bin,
    confusion_by_code,
    index_confidence_histogram,
    value_range,
)
from evalql.engine.index import ThresholdIndex
from evalql.engine.kernels import confusion_counts
from hypothesis import given, settings
from hypothesis import strategies as st

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
