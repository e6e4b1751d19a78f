"""engine.multilabel.index: the index counts exactly what a scan counts."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.multilabel import index as multilabel_index
from evalql.engine.multilabel.counts import multilabel_counts
from evalql.engine.multilabel.curves import multilabel_threshold_counts
from evalql.engine.multilabel.index import LabelSetIndex
from tests.engine.multilabel.sets import SETTINGS, MultilabelView, label_sets, multilabel_views
from tests.engine.ranges import rows_cut_into
from tests.engine.strategies import THRESHOLDS


@SETTINGS
@given(
    data=st.data(), view=multilabel_views(), block=st.integers(1, 4), ranges=st.integers(1, 4)
)
def test_the_index_counts_exactly_what_a_scan_counts_at_any_threshold(
    data: st.DataObject, view: MultilabelView, block: int, ranges: int
) -> None:
    with rows_cut_into(ranges):  # built in `ranges` ranges side by side
        index = LabelSetIndex.build(view.sets, view.n_labels, block=block)
    assert index is not None and index.block == block
    # The docstring's memory: 8 bytes a prediction (confidence, row), 8 a row
    # with a prediction, 8 a row that can be exact, the int32 checkpoints of
    # K + 1 counts, and the int64 offsets of the K label runs.
    checkpoints = len(index.checkpoints) + len(index.top_checkpoints)
    assert index.nbytes == (
        8 * len(view.sets.predicted_codes) + 8 * len(index.top_rows) + 8 * len(index.lo)
        + 4 * (view.n_labels + 1) * checkpoints + 8 * (view.n_labels + 1)
    )
    thresholds = np.sort(np.array(data.draw(st.lists(THRESHOLDS, min_size=1, max_size=4))))
    for t in thresholds:
        got = index.counts_at(float(t))
        scan = multilabel_counts(view.sets, float(t), view.n_labels, matrix=True)
        assert got.summary == scan.summary, t
        for name in ("tp", "support", "predicted", "labels", "matrix"):
            np.testing.assert_array_equal(getattr(got, name), getattr(scan, name))
    curve = index.threshold_counts(thresholds)
    one_pass = multilabel_threshold_counts(view.sets, thresholds, view.n_labels)
    for name in ("tp", "predicted", "support", "answered", "exact", "answered_exact"):
        np.testing.assert_array_equal(getattr(curve, name), getattr(one_pass, name))


def test_an_index_whose_checkpoints_would_not_fit_is_not_built(monkeypatch) -> None:
    monkeypatch.setattr(multilabel_index, "INDEX_CHECKPOINT_BYTES", 16)
    assert LabelSetIndex.build(label_sets([[0]], [[0]]), 40) is None
