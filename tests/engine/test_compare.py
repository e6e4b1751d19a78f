"""Comparing two runs row by row: verdicts, fixed and regressed rows, counted and listed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalql.engine import compare
from evalql.engine.compare import (
    FIXED,
    REGRESSED,
    Columns,
    changed_rows,
    count_changes,
    verdicts,
)
from evalql.engine.select import NO_CURSOR
from tests.engine.ranges import rows_cut_into

# rows: right->right, wrong->right, right->wrong, abstained->right, right->unlabeled
# (not judged: a row without ground truth is never fixed or regressed)
BASE = Columns(
    np.array([0, 0, 1, 1, 0], dtype=np.int32),
    np.array([0, 1, 1, 1, 0], dtype=np.int32),
    np.array([0.9, 0.9, 0.9, 0.2, 0.9], dtype=np.float32),
)
CAND = Columns(
    np.array([0, 0, 1, 1, -1], dtype=np.int32),
    np.array([0, 0, 0, 1, 0], dtype=np.int32),
    np.array([0.9, 0.9, 0.9, 0.9, 0.9], dtype=np.float32),
)


def test_a_row_is_right_when_its_kept_prediction_is_its_actual_label() -> None:
    assert verdicts(BASE, 0.5).tolist() == [1, 0, 1, 0, 1]
    assert verdicts(CAND, 0.5).tolist() == [1, 1, 0, 1, -1]
    assert verdicts(BASE, 0.0).tolist() == [1, 0, 1, 1, 1]


def test_rows_outside_the_class_or_row_filter_are_not_judged() -> None:
    only_label_0 = np.array([True, False, False])  # labels 0, 1, then None
    assert verdicts(BASE, 0.5, only_label_0).tolist() == [1, 0, -1, -1, 1]
    assert verdicts(CAND, 0.5, only_label_0).tolist() == [1, 1, -1, -1, -1]
    mask = np.array([True, False, True, True, False])
    assert verdicts(BASE, 0.5, None, mask).tolist() == [1, -1, 1, 0, -1]


def test_a_tasks_right_flags_become_verdicts_with_the_row_filter() -> None:
    right = np.array([True, False, True, False])
    assert compare.verdicts_of(right).tolist() == [1, 0, 1, 0]
    mask = np.array([True, True, False, False])
    assert compare.verdicts_of(right, mask).tolist() == [1, 0, -1, -1]
    assert right.tolist() == [True, False, True, False]  # the flags are left alone


def test_changes_are_counted_and_listed_by_position() -> None:
    base, cand = verdicts(BASE, 0.5), verdicts(CAND, 0.5)
    # Until the Trust issue row 4 (right -> unlabeled) was regressed: now the
    # candidate cannot judge it, so it is neither.
    assert count_changes(base, cand, None) == (2, 1)
    assert changed_rows(base, cand, None, FIXED, NO_CURSOR, 10).rows.tolist() == [1, 3]
    page = changed_rows(base, cand, None, REGRESSED, NO_CURSOR, 1)
    assert page.rows.tolist() == [2] and not page.has_next
    assert changed_rows(base, cand, None, REGRESSED, 2, 1).rows.tolist() == []
    # joined: base row i is candidate row join[i]; row 0 has no partner
    join = np.array([-1, 0, 1, 2, 3], dtype=np.int32)
    assert count_changes(base, cand, join) == (1, 0)
    with rows_cut_into(3):  # the ranges' counts add up to the same
        assert count_changes(base, cand, None) == (2, 1)
        assert count_changes(base, cand, join) == (1, 0)


def test_a_row_without_ground_truth_on_either_side_is_never_fixed_or_regressed() -> None:
    # unlabeled -> right, right -> unlabeled, unlabeled -> unlabeled
    base = Columns(np.array([-1, 0, -1], np.int32), np.array([0, 0, 0], np.int32),
                   np.ones(3, np.float32))
    cand = Columns(np.array([0, -1, -1], np.int32), np.array([0, 0, 0], np.int32),
                   np.ones(3, np.float32))
    b, c = verdicts(base, 0.5), verdicts(cand, 0.5)
    assert b.tolist() == [-1, 1, -1] and c.tolist() == [1, -1, -1]
    assert count_changes(b, c, None) == (0, 0)


def test_rows_not_judged_on_either_side_change_nothing() -> None:
    base = np.array([0, -1, 0, 1], dtype=np.int8)
    cand = np.array([-1, 1, 1, 0], dtype=np.int8)
    assert count_changes(base, cand, None) == (1, 1)
    assert changed_rows(base, cand, None, FIXED, NO_CURSOR, 10).rows.tolist() == [2]


def test_an_id_missing_from_the_candidate_is_never_read() -> None:
    # As Python (the kernels' py_func), reading the empty candidate would raise IndexError.
    base = np.array([0, 1, 0], dtype=np.int8)
    cand = np.zeros(0, dtype=np.int8)
    join = np.full(3, -1, dtype=np.int32)
    # (With NUMBA_DISABLE_JIT=1 the kernels are Python functions already.)
    count_pairs = getattr(compare._count_pairs, "py_func", compare._count_pairs)
    rows_in_cell = getattr(compare._rows_in_cell, "py_func", compare._rows_in_cell)
    counts = count_pairs(join, True, base, cand, 0, 3)
    assert counts.tolist() == [0, 0, 0, 2, 0, 0, 1, 0, 0]  # (wrong, none) twice, (right, none)
    cell = compare._CELL[FIXED]
    assert rows_in_cell(join, True, base, cand, cell, -1, 5).tolist() == []
    assert count_changes(base, cand, join) == (0, 0)


def test_lengths_that_do_not_line_up_are_refused() -> None:
    with pytest.raises(ValueError, match="as long"):
        count_changes(np.zeros(3, np.int8), np.zeros(2, np.int8), None)
    with pytest.raises(ValueError, match="one candidate row"):
        count_changes(np.zeros(3, np.int8), np.zeros(2, np.int8), np.zeros(2, np.int32))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_counts_and_pages_agree_with_numpy(data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 60))
    m = data.draw(st.integers(0, 60))
    base = np.array(data.draw(st.lists(st.integers(-1, 1), min_size=n, max_size=n)), np.int8)
    cand = np.array(data.draw(st.lists(st.integers(-1, 1), min_size=m, max_size=m)), np.int8)
    join = np.array(data.draw(st.lists(st.integers(-1, m - 1), min_size=n, max_size=n)), np.int32)
    partner = np.where(join >= 0, cand[np.maximum(join, 0)] if m else -1, -1)
    judged = (join >= 0) & (base >= 0) & (partner >= 0)
    fixed = judged & (base == 0) & (partner == 1)
    regressed = judged & (base == 1) & (partner == 0)
    assert count_changes(base, cand, join) == (int(fixed.sum()), int(regressed.sum()))
    for change, want in ((FIXED, fixed), (REGRESSED, regressed)):
        rows, after = [], NO_CURSOR
        while True:  # walk every page of 3
            page = changed_rows(base, cand, join, change, after, 3)
            rows += page.rows.tolist()
            if not page.has_next:
                break
            after = int(page.rows[-1])
        assert rows == np.flatnonzero(want).tolist()
