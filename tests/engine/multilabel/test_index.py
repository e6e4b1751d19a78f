"""engine.multilabel.index: the index counts exactly what a scan counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine import jit
from evalql.engine.multilabel import index as multilabel_index
from evalql.engine.multilabel.columns import LabelSets
from evalql.engine.multilabel.counts import multilabel_counts
from evalql.engine.multilabel.curves import multilabel_threshold_counts
from evalql.engine.multilabel.index import LabelSetIndex
from tests.engine.multilabel.sets import (
    SETTINGS,
    MultilabelView,
    multilabel_views,
)
from tests.engine.strategies import THRESHOLDS


@SETTINGS
@given(
    data=st.data(), view=multilabel_views(), block=st.integers(1, 4), ranges=st.integers(1, 4)
)
def test_the_index_counts_exactly_what_a_scan_counts_at_any_threshold(
    data: st.DataObject, view: MultilabelView, block: int, ranges: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:  # built in `ranges` ranges side by side
        patch.setattr(jit, "n_chunks", lambda n_rows: ranges)
        index = LabelSetIndex.build(view.sets, view.n_labels, block=block)
    assert index is not None and index.block == block
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
    assert LabelSetIndex.build(LabelSets.from_lists([[0]], [[0]]), 40) is None
