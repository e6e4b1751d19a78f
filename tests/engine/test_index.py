"""The threshold index answers exactly what a scan answers."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from evalql.engine.confusion import as_threshold, confusion_counts
from evalql.engine.index import ThresholdIndex
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
    # int64 cell offsets; an int32 row number and a float32 confidence a row
    assert index.nbytes == 8 * (size * size + 1) + 8 * len(view.actual)
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
    np.testing.assert_array_equal(index.sorted_conf, confidence[order])  # -0.0 == 0.0
    assert index.order.dtype == np.int32 and index.sorted_conf.dtype == np.float32


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
