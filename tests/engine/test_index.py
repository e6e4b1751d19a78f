"""The threshold index answers exactly what a scan answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from evalql.engine.confusion import as_threshold, confusion_counts
from evalql.engine.curves import grid, index_threshold_counts, threshold_counts
from evalql.engine.histogram import confidence_histogram, index_confidence_histogram
from evalql.engine.index import READ_WHOLE, SAMPLE_EVERY, ThresholdIndex
from tests.engine.strategies import SETTINGS, View, views


@SETTINGS
@given(views())
def test_index_counts_equal_scan_counts_at_any_threshold(view: View) -> None:
    index = ThresholdIndex.build(view.actual, view.predicted, view.confidence, view.n_labels)
    for t in (view.threshold, 0.0, 0.25, 0.5, 0.7, 1.0):
        expected = confusion_counts(view.actual, view.predicted, view.confidence, t, view.n_labels)
        np.testing.assert_array_equal(index.counts_at(as_threshold(t)), expected)


@SETTINGS
@given(views(min_rows=1))
def test_each_cell_run_is_ordered_by_confidence_then_position(view: View) -> None:
    index = ThresholdIndex.build(view.actual, view.predicted, view.confidence, view.n_labels)
    assert sorted(index.order.tolist()) == list(range(len(view.actual)))
    size = view.n_labels + 1
    # int64 cell offsets, an int32 row number a row and a float32 sampled
    # confidence every SAMPLE_EVERY rows; the confidences are the split's
    n = len(view.actual)
    assert index.nbytes == 8 * (size * size + 1) + 4 * n + 4 * -(-n // SAMPLE_EVERY)
    assert index.confidence is not None and np.shares_memory(index.confidence, view.confidence)
    for a in range(-1, view.n_labels):
        for p in range(-1, view.n_labels):
            cell = (a % size) * size + p % size  # None (-1) is index K
            rows = index.order[index.offsets[cell]:index.offsets[cell + 1]]
            assert np.all(view.actual[rows] == a) and np.all(view.predicted[rows] == p)
            keys = [(-float(view.confidence[r]), int(r)) for r in rows]
            assert keys == sorted(keys)


def test_ties_at_the_threshold_are_kept() -> None:
    confidence = np.array([0.7, 0.7, 0.69999, 1.0], dtype=np.float32)
    codes = np.zeros(4, dtype=np.int32)
    index = ThresholdIndex.build(codes, codes, confidence, 1)
    np.testing.assert_array_equal(index.counts_at(as_threshold(0.7)), [[3, 1], [0, 0]])


TINY = float(np.nextafter(np.float32(0), np.float32(1)))  # the smallest denormal
EDGES = [0.0, -0.0, 1.0, TINY, 2 * TINY, float(np.finfo(np.float32).tiny),  # smallest normal
         float(np.float32(np.finfo(np.float32).tiny) - np.float32(TINY)),  # largest denormal
         float(np.nextafter(np.float32(1), np.float32(0))), 0.5, 0.7]
EDGE_CONFIDENCES = st.sampled_from([float(np.float32(v)) for v in EDGES]) | st.floats(
    0, 1, width=32)


def reference_index(view: View) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, order) by NumPy's lexsort: cell, then confidence descending, then position."""
    k = view.n_labels
    a = np.where(view.actual < 0, k, view.actual).astype(np.int64)
    p = np.where(view.predicted < 0, k, view.predicted).astype(np.int64)
    cell = a * (k + 1) + p
    order = np.lexsort((np.arange(len(cell)), -view.confidence.astype(np.float64), cell))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=(k + 1) ** 2))])
    return offsets, order


@SETTINGS
@given(data=st.data(), view=views(), chunks=st.integers(1, 3), signed=st.booleans())
def test_the_radix_built_index_equals_a_lexsort_on_edge_values(
    data: st.DataObject, view: View, chunks: int, signed: bool
) -> None:
    """Ties, 0, -0.0, 1 and denormals; with ``signed``, confidences outside
    [0, 1] too (ingest refuses them, the index still orders them)."""
    values = EDGE_CONFIDENCES | (st.floats(-3, 3, width=32) if signed else EDGE_CONFIDENCES)
    confidence = data.draw(hnp.arrays(np.float32, len(view.actual), elements=values))
    view = View(view.actual, view.predicted, confidence, view.threshold, view.n_labels)
    index = ThresholdIndex.build(view.actual, view.predicted, confidence, view.n_labels, chunks)
    offsets, order = reference_index(view)
    np.testing.assert_array_equal(index.offsets, offsets)
    np.testing.assert_array_equal(index.order, order)
    sampled = confidence[order][::SAMPLE_EVERY]
    np.testing.assert_array_equal(index.sample, sampled)  # -0.0 == 0.0
    assert index.order.dtype == np.int32 and index.sample.dtype == np.float32


def test_a_large_index_built_in_chunks_equals_one_built_whole() -> None:
    rng = np.random.default_rng(3)
    n, k = 200_003, 5
    codes = rng.integers(-1, k, (2, n)).astype(np.int32)
    confidence = rng.choice(np.array(EDGES, dtype=np.float32), n)
    view = View(codes[0], codes[1], confidence, 0.5, k)
    offsets, order = reference_index(view)
    for chunks in (1, 2, 4):
        index = ThresholdIndex.build(codes[0], codes[1], confidence, k, chunks)
        np.testing.assert_array_equal(index.offsets, offsets)
        np.testing.assert_array_equal(index.order, order)


def test_counts_through_the_sampled_confidences_equal_a_scan_on_long_runs_with_ties() -> None:
    """Runs of thousands of rows, ties spanning many strides of the sample,
    thresholds at the sampled values themselves and just beside them."""
    rng = np.random.default_rng(14)
    n, k = 60_001, 3
    codes = rng.integers(-1, k, (2, n)).astype(np.int32)
    values = np.array([0.0, 0.25, 0.5, 0.5000001, 0.75, 1.0], dtype=np.float32)
    confidence = np.where(rng.random(n) < 0.5, rng.choice(values, n),
                          rng.random(n, dtype=np.float32)).astype(np.float32)
    index = ThresholdIndex.build(codes[0], codes[1], confidence, k)
    up, down = np.float32(np.inf), np.float32(-np.inf)
    thresholds = np.concatenate([values, np.nextafter(values, up), np.nextafter(values, down),
                                 index.sample[::97]])
    for t in thresholds:
        expected = confusion_counts(codes[0], codes[1], confidence, float(t), k)
        np.testing.assert_array_equal(index.counts_at(np.float32(t)), expected)


@SETTINGS
@given(view=views(), data=st.data())
def test_an_index_of_a_filters_rows_counts_what_a_masked_scan_counts(
    view: View, data: st.DataObject
) -> None:
    """``rows``: the split's numbers of the rows a filter keeps; the index
    orders them as an index of those rows alone would, by their numbers."""
    mask = data.draw(hnp.arrays(np.bool_, len(view.actual)))
    rows = np.flatnonzero(mask)
    index = ThresholdIndex.build(view.actual, view.predicted, view.confidence, view.n_labels,
                                 rows=rows)
    kept = View(view.actual[mask], view.predicted[mask], view.confidence[mask], view.threshold,
                view.n_labels)
    offsets, order = reference_index(kept)
    np.testing.assert_array_equal(index.offsets, offsets)
    np.testing.assert_array_equal(index.order, rows[order])
    for t in (view.threshold, 0.0, 0.5, 1.0):
        expected = confusion_counts(view.actual, view.predicted, view.confidence, t,
                                    view.n_labels, mask)
        np.testing.assert_array_equal(index.counts_at(as_threshold(t)), expected)


def test_rows_outside_the_columns_are_refused() -> None:
    codes, confidence = np.zeros(3, dtype=np.int32), np.ones(3, dtype=np.float32)
    for rows in ([0, 3], [-1, 1]):
        with pytest.raises(ValueError, match="row numbers"):
            ThresholdIndex.build(codes, codes, confidence, 1, rows=np.array(rows))


def test_curves_and_histograms_of_runs_longer_than_read_whole_equal_scans() -> None:
    """Runs past ``READ_WHOLE`` rows are cut by the sample for every
    threshold; shorter ones are read whole: both give a scan's counts, with
    thresholds on sampled values and ties across strides."""
    rng = np.random.default_rng(5)
    n, k = 40_000, 2
    actual = rng.integers(-1, k, n).astype(np.int32)
    # Label 0's cells are long, label 1's a few hundred rows each.
    predicted = np.where(rng.random(n) < 0.97, 0, rng.integers(-1, k, n)).astype(np.int32)
    ties = np.array([0.0, 0.3, 0.5, 1.0], dtype=np.float32)
    confidence = np.where(rng.random(n) < 0.3, rng.choice(ties, n),
                          rng.random(n, dtype=np.float32)).astype(np.float32)
    index = ThresholdIndex.build(actual, predicted, confidence, k)
    assert np.diff(index.offsets).max() > READ_WHOLE
    thresholds = np.unique(np.concatenate([ties, index.sample[::11], grid(101)]))
    walked = index_threshold_counts(index, thresholds)
    scanned = threshold_counts(actual, predicted, confidence, thresholds, k)
    for j in range(len(thresholds)):
        for field in ("tp", "actual", "predicted", "abstained"):
            np.testing.assert_array_equal(getattr(walked.totals(j), field),
                                          getattr(scanned.totals(j), field))
    edges = np.array([0.0, 0.3, 0.31, 0.5, 0.9, 1.0], dtype=np.float32)
    every = np.ones(k + 1, dtype=bool)
    by_index = index_confidence_histogram(index, edges, every)
    by_scan = confidence_histogram(actual, predicted, confidence, edges, every)
    for found, expected in zip(by_index, by_scan, strict=True):
        np.testing.assert_array_equal(found, expected)
