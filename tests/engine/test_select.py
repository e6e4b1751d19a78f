"""Paging by scan: the scan pages through exactly the rows a naive
filter-and-sort finds, in the same order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.select import (
    NO_CURSOR,
    SAME_LABEL,
    Predicate,
    _heap_push_bounded,
    confidence_bits,
    select_by_scan,
    select_flagged,
)
from tests.engine.pages import naive_rows, predicates, walk
from tests.engine.ranges import rows_cut_into
from tests.engine.strategies import FEW, View, views


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


def test_rank_order_sorts_by_the_given_bits_then_position() -> None:
    codes = np.zeros(4, dtype=np.int32)
    confidence = np.ones(4, dtype=np.float32)
    rank = np.array([2, 0, 3, 1], dtype=np.int32)
    page = select_by_scan(
        codes, codes, confidence, rank, 0.0, Predicate.every(1), False, NO_CURSOR, 10
    )
    assert page.rows.tolist() == [1, 3, 0, 2]


@FEW
@given(st.lists(st.integers(-(2**62), 2**62), unique=True, max_size=40), st.integers(1, 8))
def test_a_bounded_heap_keeps_the_smallest_keys_whatever_their_order(
    keys: list[int], cap: int
) -> None:
    heap = np.empty(cap, dtype=np.int64)
    size = np.int64(0)
    for key in keys:
        size = _heap_push_bounded(heap, size, np.int64(key))
    assert sorted(heap[:size].tolist()) == sorted(keys)[:cap]
    if size:  # a max-heap: its top is the largest key it keeps
        assert heap[0] == max(heap[:size])


def test_predicates_matching_differently_have_different_fingerprints() -> None:
    every = Predicate.every(2)
    assert every.fingerprint() == Predicate.every(2).fingerprint()
    no_none = Predicate(every.actual_ok, np.array([True, True, False]))
    same_label = Predicate(every.actual_ok, every.predicted_ok, SAME_LABEL)
    prints = {p.fingerprint() for p in (every, no_none, same_label)}
    assert len(prints) == 3
