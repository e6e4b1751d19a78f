"""Paging by walking the threshold index: the walk pages through exactly the
rows a naive filter-and-sort finds, in the same order, and agrees with the scan."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.confusion import confusion_counts
from evalql.engine.index import ThresholdIndex
from evalql.engine.select import (
    NO_CURSOR,
    Predicate,
    confidence_bits,
    matching_total,
    select_by_scan,
)
from evalql.engine.select_index import select_from_index
from tests.engine.pages import naive_rows, predicates, walk
from tests.engine.strategies import FEW, View, views


@FEW
@given(st.data(), views(), st.booleans(), st.integers(1, 7))
def test_index_pages_walk_the_matching_rows_in_order(
    data: st.DataObject, view: View, descending: bool, limit: int
) -> None:
    predicate = data.draw(predicates(view.n_labels))
    index = ThresholdIndex.build(view.actual, view.predicted, view.confidence, view.n_labels)
    expected = naive_rows(view, predicate, descending)
    rows, totals = walk(
        lambda after, n: select_from_index(index, view.threshold, predicate, descending, after, n),
        limit,
    )
    assert rows == expected
    assert set(totals) == {len(expected)}


@FEW
@given(st.data(), views(), st.booleans(), st.integers(1, 7))
def test_index_pages_under_a_row_mask_skip_the_rows_outside_it(
    data: st.DataObject, view: View, descending: bool, limit: int
) -> None:
    predicate = data.draw(predicates(view.n_labels))
    n = len(view.actual)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    index = ThresholdIndex.build(view.actual, view.predicted, view.confidence, view.n_labels)
    expected = naive_rows(view, predicate, descending, mask)
    rows, totals = walk(
        lambda after, k: select_from_index(
            index, view.threshold, predicate, descending, after, k, mask
        ),
        limit,
    )
    assert rows == expected
    assert set(totals) == {-1}  # the caller counts them on the view's matrix:
    assert matching_total(view.counts(mask), predicate) == len(expected)


def test_a_cell_total_equals_the_confusion_count() -> None:
    rng = np.random.default_rng(3)
    n, k = 2000, 4
    actual = rng.integers(-1, k, n).astype(np.int32)
    predicted = rng.integers(-1, k, n).astype(np.int32)
    confidence = rng.choice([0.2, 0.5, 0.7, 1.0], n).astype(np.float32)
    counts = confusion_counts(actual, predicted, confidence, 0.5, k)
    index = ThresholdIndex.build(actual, predicted, confidence, k)
    for a in range(k + 1):
        for p in range(k + 1):
            only_a = np.arange(k + 1) == a
            only_p = np.arange(k + 1) == p
            page = select_from_index(index, 0.5, Predicate(only_a, only_p), True, NO_CURSOR, 5)
            assert page.total == counts[a, p]


def test_scan_uses_several_threads_on_large_inputs_and_agrees_with_the_index() -> None:
    rng = np.random.default_rng(5)
    n, k = 200_000, 3  # above the one-chunk size, so the per-thread heaps merge
    actual = rng.integers(-1, k, n).astype(np.int32)
    predicted = rng.integers(-1, k, n).astype(np.int32)
    confidence = rng.random(n).astype(np.float32)
    index = ThresholdIndex.build(actual, predicted, confidence, k)
    predicate = Predicate.every(k)
    for descending in (True, False):
        scan = select_by_scan(
            actual, predicted, confidence, confidence_bits(confidence), 0.3, predicate,
            descending, NO_CURSOR, 100,
        )
        walked = select_from_index(index, 0.3, predicate, descending, NO_CURSOR, 100)
        np.testing.assert_array_equal(scan.rows, walked.rows)
        assert scan.total == walked.total == n


def test_negative_zero_confidence_sorts_as_zero() -> None:
    codes = np.zeros(3, dtype=np.int32)
    confidence = np.array([0.0, -0.0, 0.5], dtype=np.float32)
    index = ThresholdIndex.build(codes, codes, confidence, 1)
    page = select_from_index(index, 0.0, Predicate.every(1), False, NO_CURSOR, 10)
    assert page.rows.tolist() == [0, 1, 2]


def test_the_worked_example_of_the_module_docstring_holds() -> None:
    actual = np.array([0, 0, 0, 1, 0, 0, 0], dtype=np.int32)
    predicted = np.array([0, 1, 0, 1, 0, -1, 1], dtype=np.int32)
    confidence = np.array([0.9, 0.8, 0.4, 0.7, 0.6, 0.0, 0.3], dtype=np.float32)
    index = ThresholdIndex.build(actual, predicted, confidence, 2)
    assert index.order.tolist() == [0, 4, 2, 1, 6, 5, 3]
    abstained = Predicate(np.array([True, False, False]), np.array([False, False, True]))
    first = select_from_index(index, 0.5, abstained, True, NO_CURSOR, 2)
    assert (first.rows.tolist(), first.total, first.has_next) == ([2, 6], 3, True)
    bits = int(confidence_bits(np.float32(0.3)))
    assert int(first.keys[-1]) == ((0x7FFFFFFF - bits) << 32) | 6
    second = select_from_index(index, 0.5, abstained, True, int(first.keys[-1]), 2)
    assert (second.rows.tolist(), second.has_next) == ([5], False)
    kept = Predicate(np.array([True, False, False]), np.array([True, False, False]))
    assert select_from_index(index, 0.5, kept, True, NO_CURSOR, 5).rows.tolist() == [0, 4]
