"""Row selection: the index walk and the scan page through exactly the rows a
naive filter-and-sort finds, in the same order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalql.engine import jit
from evalql.engine.index import ThresholdIndex
from evalql.engine.kernels import confusion_counts
from evalql.engine.selection import (
    ANY_RELATION,
    FIXED,
    NO_CURSOR,
    OTHER_LABEL,
    REGRESSED,
    SAME_LABEL,
    Columns,
    Predicate,
    changed_rows,
    confidence_bits,
    count_changes,
    matching_total,
    select_by_scan,
    select_flagged,
    select_from_index,
)
from tests.engine.strategies import View, views

FEW = settings(max_examples=60, deadline=None)


@st.composite
def predicates(draw: st.DrawFn, n_labels: int) -> Predicate:
    size = n_labels + 1
    flags = st.lists(st.booleans(), min_size=size, max_size=size)
    return Predicate(
        np.array(draw(flags), dtype=np.bool_),
        np.array(draw(flags), dtype=np.bool_),
        draw(st.sampled_from([ANY_RELATION, SAME_LABEL, OTHER_LABEL])),
    )


def naive_rows(view: View, predicate: Predicate, descending: bool, mask=None) -> list[int]:
    """Matching rows sorted by (confidence, position), confidence descending or not."""
    k = view.n_labels
    found = []
    for i, (a, p) in enumerate(zip(view.actual, view.answers(), strict=True)):
        a = k if a < 0 else int(a)
        p = k if p < 0 else p
        if mask is not None and not mask[i]:
            continue
        if not (predicate.actual_ok[a] and predicate.predicted_ok[p]):
            continue
        if predicate.relation == SAME_LABEL and not (a == p and a < k):
            continue
        if predicate.relation == OTHER_LABEL and not (a != p and a < k and p < k):
            continue
        found.append(i)
    sign = -1 if descending else 1
    return sorted(found, key=lambda i: (sign * float(view.confidence[i]), i))


@contextmanager
def rows_cut_into(ranges: int) -> Iterator[None]:
    """Scans cut into ``ranges`` ranges of rows whatever their number, so that
    merging the ranges' heaps is exercised on small inputs and on one core."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jit, "n_chunks", lambda n_rows: ranges)
        yield


def walk(select, limit: int) -> tuple[list[int], list[int]]:
    """Every page of ``select(after, limit)``; the rows and each page's total."""
    rows: list[int] = []
    totals = []
    after = NO_CURSOR
    while True:
        page = select(after, limit)
        assert len(page.rows) <= limit
        rows += page.rows.tolist()
        totals.append(page.total)
        if not page.has_next:
            return rows, totals
        assert len(page.rows) == limit
        after = int(page.keys[-1])


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


@FEW
@given(st.data(), views(), st.booleans(), st.integers(1, 7), st.booleans(), st.integers(1, 5))
def test_scan_pages_walk_the_matching_rows_in_order(
    data: st.DataObject, view: View, descending: bool, limit: int, masked: bool, ranges: int
) -> None:
    predicate = data.draw(predicates(view.n_labels))
    n = len(view.actual)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    mask = mask if masked else None
    expected = naive_rows(view, predicate, descending, mask)
    bits = confidence_bits(view.confidence)
    with rows_cut_into(ranges):
        rows, totals = walk(
            lambda after, k: select_by_scan(
                view.actual, view.predicted, view.confidence, bits, view.threshold,
                predicate, descending, after, k, mask,
            ),
            limit,
        )
    assert rows == expected
    assert set(totals) == {len(expected)}


@FEW
@given(st.data(), st.integers(0, 40), st.booleans(), st.integers(1, 7), st.integers(1, 5))
def test_flagged_pages_walk_the_flagged_rows_in_key_order(
    data: st.DataObject, n: int, descending: bool, limit: int, ranges: int
) -> None:
    flags = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    confidence = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n)),
        dtype=np.float32,
    )
    sign = -1 if descending else 1
    expected = sorted(np.flatnonzero(flags).tolist(), key=lambda i: (sign * confidence[i], i))
    with rows_cut_into(ranges):
        rows, totals = walk(
            lambda after, k: select_flagged(
                flags, confidence_bits(confidence), descending, after, k
            ),
            limit,
        )
    assert rows == expected
    assert set(totals) == {len(expected)}


def test_flagged_selection_uses_several_threads_on_large_inputs() -> None:
    rng = np.random.default_rng(5)
    n = 200_000
    flags = rng.random(n) < 0.3
    confidence = rng.choice(np.float32([0.1, 0.5, 0.9]), n)
    page = select_flagged(flags, confidence_bits(confidence), True, NO_CURSOR, 1000)
    expected = sorted(np.flatnonzero(flags), key=lambda i: (-confidence[i], i))[:1000]
    assert page.rows.tolist() == expected and page.total == flags.sum() and page.has_next


def test_flags_and_sort_bits_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="the same length"):
        select_flagged(np.ones(3, bool), np.zeros(2, np.int32), True, NO_CURSOR, 1)


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


def test_rank_order_sorts_by_the_given_bits_then_position() -> None:
    codes = np.zeros(4, dtype=np.int32)
    confidence = np.ones(4, dtype=np.float32)
    rank = np.array([2, 0, 3, 1], dtype=np.int32)
    page = select_by_scan(
        codes, codes, confidence, rank, 0.0, Predicate.every(1), False, NO_CURSOR, 10
    )
    assert page.rows.tolist() == [1, 3, 0, 2]


def test_negative_zero_confidence_sorts_as_zero() -> None:
    codes = np.zeros(3, dtype=np.int32)
    confidence = np.array([0.0, -0.0, 0.5], dtype=np.float32)
    index = ThresholdIndex.build(codes, codes, confidence, 1)
    page = select_from_index(index, 0.0, Predicate.every(1), False, NO_CURSOR, 10)
    assert page.rows.tolist() == [0, 1, 2]


def test_changes_are_counted_and_listed_by_position() -> None:
    # rows: right->right, wrong->right, right->wrong, abstained->right, right->unlabeled
    base = Columns(
        np.array([0, 0, 1, 1, 0], dtype=np.int32),
        np.array([0, 1, 1, 1, 0], dtype=np.int32),
        np.array([0.9, 0.9, 0.9, 0.2, 0.9], dtype=np.float32),
    )
    cand = Columns(
        np.array([0, 0, 1, 1, -1], dtype=np.int32),
        np.array([0, 0, 0, 1, 0], dtype=np.int32),
        np.array([0.9, 0.9, 0.9, 0.9, 0.9], dtype=np.float32),
    )
    assert count_changes(base, cand, None, 0.5) == (2, 2)
    assert changed_rows(base, cand, None, 0.5, FIXED, NO_CURSOR, 10).rows.tolist() == [1, 3]
    page = changed_rows(base, cand, None, 0.5, REGRESSED, NO_CURSOR, 1)
    assert page.rows.tolist() == [2] and page.has_next
    assert changed_rows(base, cand, None, 0.5, REGRESSED, 2, 1).rows.tolist() == [4]
    # joined: base row i is candidate row join[i]; row 0 has no partner
    join = np.array([-1, 0, 1, 2, 3], dtype=np.int32)
    assert count_changes(base, cand, join, 0.5) == (1, 0)
    with rows_cut_into(3):  # the ranges' counts add up to the same
        assert count_changes(base, cand, None, 0.5) == (2, 2)
        assert count_changes(base, cand, join, 0.5) == (1, 0)
