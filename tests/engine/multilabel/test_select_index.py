"""engine.multilabel.select_index: a label's pages walked from the index equal
the scan's (select_flagged over match_rows), page after page by cursor."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.multilabel.index import LabelSetIndex
from evalql.engine.multilabel.rows import RowTests, label_confidence, match_rows
from evalql.engine.multilabel.select_index import label_rows_from_index
from evalql.engine.select import NO_CURSOR, Page, confidence_bits, select_flagged
from tests.engine.multilabel.sets import SETTINGS, MultilabelView, label_sets, multilabel_views

OUTCOMES = [(True, True), (False, True), (True, False), (False, False)]  # TP FP FN TN


def row_tests(label: int, actual_is: bool, kept_is: bool) -> RowTests:
    return RowTests(
        actual_has=label if actual_is else None, actual_lacks=None if actual_is else label,
        predicted_has=label if kept_is else None, predicted_lacks=None if kept_is else label,
    )


def all_pages(view: MultilabelView, index: LabelSetIndex, label: int, actual_is: bool,
              kept_is: bool, descending: bool, limit: int) -> None:
    sets = view.sets
    flags = match_rows(sets, view.threshold, view.n_labels, row_tests(label, actual_is, kept_is))
    bits = confidence_bits(label_confidence(sets, label))
    total = int(flags.sum())
    after, seen = NO_CURSOR, 0
    while True:
        scan: Page = select_flagged(flags, bits, descending, after, limit)
        walk = label_rows_from_index(index, label, actual_is, kept_is, view.threshold,
                                     descending, after, limit, total)
        np.testing.assert_array_equal(walk.rows, scan.rows)
        np.testing.assert_array_equal(walk.keys, scan.keys)
        assert (walk.total, walk.has_next) == (scan.total, scan.has_next)
        seen += len(scan.rows)
        if not scan.has_next:
            break
        after = int(scan.keys[-1])
    assert seen == total


@SETTINGS
@given(view=multilabel_views(), data=st.data(), block=st.integers(1, 4))
def test_every_outcome_page_by_page_equals_the_scan(view: MultilabelView, data: st.DataObject,
                                                     block: int) -> None:
    # Small blocks: the walk steps over blocks the checkpoints rule out.
    index = LabelSetIndex.build(view.sets, view.n_labels, block=block)
    assert index is not None
    label = data.draw(st.integers(0, view.n_labels - 1))
    limit = data.draw(st.integers(1, 4))
    for actual_is, kept_is in OUTCOMES:
        for descending in (True, False):
            all_pages(view, index, label, actual_is, kept_is, descending, limit)


def test_ties_at_zero_and_one_keep_the_scan_order() -> None:
    # Confidence 0 predictions tie with rows that do not predict the label.
    actual = [[0], [], [0, 1], [1], [0], []]
    predicted = [[0], [0, 1], [1], [0], [], [0]]
    confidence = [[0.0], [1.0, 0.5], [0.5], [1.0], [], [0.0]]
    view = MultilabelView(actual, predicted, confidence, 0.0, 2)
    for block in (1, 2, 256):
        index = LabelSetIndex.build(label_sets(actual, predicted, confidence), 2, block=block)
        assert index is not None
        for_each_page(view, index)


def for_each_page(view: MultilabelView, index: LabelSetIndex) -> None:
    for label in (0, 1):
        for actual_is, kept_is in OUTCOMES:
            for descending in (True, False):
                for limit in (1, 2, 10):
                    all_pages(view, index, label, actual_is, kept_is, descending, limit)
