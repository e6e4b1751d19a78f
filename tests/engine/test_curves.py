"""Counts at many thresholds in one pass equal one scan per threshold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.confusion import confusion_counts
from evalql.engine.curves import (
    ThresholdCounts,
    confusion_counts_at,
    confusion_counts_within,
    grid,
    index_threshold_counts,
    threshold_counts,
)
from evalql.engine.index import ThresholdIndex
from evalql.engine.metrics import Totals
from tests.engine.strategies import SETTINGS, THRESHOLDS, View, masks, views

# Sorted thresholds, with repeats and round values that meet confidences exactly.
THRESHOLD_LISTS = st.lists(THRESHOLDS, min_size=1, max_size=12).map(sorted)


def assert_totals_equal(counts: ThresholdCounts, j: int, matrix: np.ndarray) -> None:
    expected, got = Totals.of_matrix(matrix), counts.totals(j)
    for field in ("tp", "actual", "predicted", "abstained"):
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), field)


def scan(view: View, t: float, mask: np.ndarray | None = None) -> np.ndarray:
    return confusion_counts(view.actual, view.predicted, view.confidence, t, view.n_labels, mask)


@SETTINGS
@given(data=st.data(), view=views(), thresholds=THRESHOLD_LISTS)
def test_one_scan_gives_the_totals_and_matrices_of_every_threshold_as_one_scan_each(
    data: st.DataObject, view: View, thresholds: list[float]
) -> None:
    mask = data.draw(masks(len(view.actual)))
    columns = (view.actual, view.predicted, view.confidence, np.array(thresholds), view.n_labels)
    counts = threshold_counts(*columns, mask)
    matrices = confusion_counts_at(*columns, mask)
    assert matrices.shape == (len(thresholds), view.n_labels + 1, view.n_labels + 1)
    for j, t in enumerate(thresholds):
        expected = scan(view, t, mask)
        assert_totals_equal(counts, j, expected)
        np.testing.assert_array_equal(matrices[j], expected)


@SETTINGS
@given(data=st.data(), view=views(), thresholds=THRESHOLD_LISTS,
       matrices=st.integers(0, 5))
def test_thresholds_in_batches_within_a_matrix_budget_give_one_scan_each(
    data: st.DataObject, view: View, thresholds: list[float], matrices: int
) -> None:
    mask = data.draw(masks(len(view.actual)))
    counts = confusion_counts_within(view.actual, view.predicted, view.confidence,
                                     np.array(thresholds, np.float32), view.n_labels, matrices,
                                     mask)
    assert len(counts) == len(thresholds)
    for matrix, t in zip(counts, thresholds, strict=True):
        np.testing.assert_array_equal(matrix, scan(view, t, mask))


@SETTINGS
@given(view=views(), thresholds=THRESHOLD_LISTS)
def test_the_index_gives_the_totals_of_every_threshold(
    view: View, thresholds: list[float]
) -> None:
    index = ThresholdIndex.build(view.actual, view.predicted, view.confidence, view.n_labels)
    counts = index_threshold_counts(index, np.array(thresholds))
    for j, t in enumerate(thresholds):
        assert_totals_equal(counts, j, scan(view, t))


def test_a_grid_threshold_equal_to_a_confidence_keeps_that_prediction() -> None:
    # 0.7 is grid(11)[7]; a confidence stored as float32(0.7) meets it exactly.
    codes = np.zeros(3, dtype=np.int32)
    confidence = np.array([0.7, 0.69999, 0.71], dtype=np.float32)
    thresholds = grid(11)
    assert thresholds[7] == 0.7
    counts = threshold_counts(codes, codes, confidence, thresholds, 1)
    index = index_threshold_counts(ThresholdIndex.build(codes, codes, confidence, 1), thresholds)
    for c in (counts, index):
        assert c.totals(7).tp[0] == 2
        assert c.totals(8).tp[0] == 0


def test_many_thresholds_between_two_confidences_are_each_exact() -> None:
    # Thresholds packed into one lookup slice still bucket each row exactly.
    confidence = np.array([0.50001, 0.50003, 0.50005], dtype=np.float32)
    codes = np.zeros(3, dtype=np.int32)
    thresholds = np.linspace(0.5, 0.50006, 7)
    counts = threshold_counts(codes, codes, confidence, thresholds, 1)
    expected = [int((confidence >= np.float32(t)).sum()) for t in thresholds]
    assert [int(counts.totals(j).tp[0]) for j in range(7)] == expected


def test_the_grid_spaces_points_evenly_from_zero_to_one() -> None:
    np.testing.assert_array_equal(grid(5), [0.0, 0.25, 0.5, 0.75, 1.0])
    assert grid(101)[1] == 0.01
    with pytest.raises(ValueError, match="at least 2 points"):
        grid(1)


def test_thresholds_out_of_order_are_refused() -> None:
    codes = np.zeros(2, dtype=np.int32)
    with pytest.raises(ValueError, match="ascending"):
        threshold_counts(codes, codes, np.ones(2, np.float32), np.array([0.5, 0.2]), 1)


def test_an_empty_view_has_zero_counts_at_every_threshold() -> None:
    empty = np.zeros(0, dtype=np.int32)
    counts = threshold_counts(empty, empty, np.zeros(0, np.float32), grid(3), 2)
    assert counts.totals(1).actual.sum() == 0 and counts.kept.shape == (3, 3)

