"""engine.multilabel.curves: a curve's counts equal the counts at each of its
thresholds, and the pair histogram bins every predicted pair."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.arrays import frozen
from evalql.engine.curves import as_thresholds, bucket_lookup
from evalql.engine.histogram import bin_scale
from evalql.engine.multilabel.counts import multilabel_counts
from evalql.engine.multilabel.curves import (
    _multilabel_curve,
    _pair_histogram,
    multilabel_threshold_counts,
    pair_histogram,
)
from tests.engine.multilabel.sets import (
    SETTINGS,
    MultilabelView,
    filters,
    kernel_inputs,
    multilabel_views,
)
from tests.engine.ranges import assert_summed
from tests.engine.strategies import THRESHOLDS


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_counts_at_many_thresholds_equal_the_counts_at_each(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels, mask = data.draw(filters(view))
    thresholds = np.sort(np.array(data.draw(st.lists(THRESHOLDS, min_size=1, max_size=6))))
    curve = multilabel_threshold_counts(view.sets, thresholds, view.n_labels, mask, labels)
    for j, t in enumerate(thresholds):
        got = curve.at(j)
        one = multilabel_counts(view.sets, float(t), view.n_labels, mask, labels)
        assert got.summary == one.summary, t
        for name in ("tp", "support", "predicted", "labels"):
            np.testing.assert_array_equal(getattr(got, name), getattr(one, name))


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_the_pair_histogram_bins_every_predicted_pair_of_the_filters_labels(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels, mask = data.draw(filters(view))
    chosen = view.chosen(labels)
    edges = np.linspace(0, 1, 5).astype(np.float32)
    count, correct = pair_histogram(view.sets, edges, view.n_labels, mask, labels)
    expected = np.zeros((2, 4), dtype=np.int64)
    for i in range(view.n_rows):
        if mask is not None and not mask[i]:
            continue
        for code, c in zip(view.predicted[i], view.confidence[i], strict=True):
            if code in chosen:
                b = min(int(np.searchsorted(edges, np.float32(c), side="right")) - 1, 3)
                expected[0, b] += 1
                expected[1, b] += code in view.actual[i]
    assert count.tolist() == expected[0].tolist() and correct.tolist() == expected[1].tolist()


@SETTINGS
@given(view=multilabel_views(), chunks=st.integers(1, 9))
def test_every_cut_of_the_rows_into_ranges_gives_the_same_curve_and_histogram(
    view: MultilabelView, chunks: int
) -> None:
    n, k = view.n_rows, kernel_inputs(view)
    t = as_thresholds(np.sort([0.0, 0.5, view.threshold, 1.0]))
    assert_summed(_multilabel_curve, n, chunks, *k.arrays, t, bucket_lookup(t), view.n_labels,
                  k.selected, *k.mask)
    edges = frozen(np.linspace(0, 1, 4), np.float32)
    assert_summed(_pair_histogram, n, chunks, *k.arrays, edges, bin_scale(edges), view.n_labels,
                  k.selected, *k.mask)
