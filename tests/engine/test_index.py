"""The threshold index answers exactly what a scan answers."""

from __future__ import annotations

import numpy as np
from hypothesis import given

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
