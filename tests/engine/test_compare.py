"""Comparing two runs row by row: fixed and regressed rows, counted and listed."""

from __future__ import annotations

import numpy as np

from evalql.engine.compare import FIXED, REGRESSED, Columns, changed_rows, count_changes
from evalql.engine.select import NO_CURSOR
from tests.engine.ranges import rows_cut_into


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
