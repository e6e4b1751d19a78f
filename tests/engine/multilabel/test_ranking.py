"""engine.multilabel.ranking: every label's AP and ROC AUC against
scikit-learn on its indicator column, and its precision steps against the counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import average_precision_score, roc_auc_score

from evalql.engine.multilabel.counts import multilabel_counts
from evalql.engine.multilabel.ranking import (
    label_precision_steps,
    label_steps,
    rank_label_sets,
    rank_label_sets_by_scores,
)
from evalql.engine.multilabel.rows import label_confidence
from evalql.engine.ranking import average_precision, roc_auc
from tests.engine.multilabel.sets import SETTINGS, MultilabelView, label_sets, multilabel_views
from tests.engine.strategies import CONFIDENCES, masks
from tests.engine.test_score_curves import assert_curves_match


@SETTINGS
@given(data=st.data(), view=multilabel_views(min_rows=1))
def test_average_precision_and_roc_auc_equal_scikit_learn_on_the_indicator_column(
    data: st.DataObject, view: MultilabelView
) -> None:
    mask = data.draw(masks(view.n_rows))
    in_view = np.ones(view.n_rows, bool) if mask is None else mask
    r = rank_label_sets(view.sets, np.arange(view.n_labels), view.n_labels, mask)
    ap, auc = average_precision(r), roc_auc(r)
    y, _ = view.indicators()
    for c in range(view.n_labels):
        truth = y[in_view, c]
        score = label_confidence(view.sets, c)[in_view]
        if truth.all() or not truth.any():
            assert np.isnan(ap[c]) and np.isnan(auc[c])
            continue
        assert ap[c] == pytest.approx(average_precision_score(truth, score))
        assert auc[c] == pytest.approx(roc_auc_score(truth, score))


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_precision_steps_are_the_labels_kept_tp_and_fp_at_each_of_its_confidences(
    data: st.DataObject, view: MultilabelView
) -> None:
    label = data.draw(st.integers(0, view.n_labels - 1))
    mask = data.draw(masks(view.n_rows))
    steps = label_precision_steps(view.sets, label, mask)
    assert (np.diff(steps.thresholds) < 0).all()
    for t, tp, fp in zip(steps.thresholds, steps.tp, steps.fp, strict=True):
        c = multilabel_counts(view.sets, float(t), view.n_labels, mask).label_counts([label])
        assert (tp, fp) == (c.tp[0], c.fp[0])


@st.composite
def scored_multilabel_views(draw: st.DrawFn) -> tuple[MultilabelView, np.ndarray]:
    """A view with an (N, K) score matrix, ties and zeros included."""
    view = draw(multilabel_views(min_rows=1))
    shape = (view.n_rows, view.n_labels)
    return view, draw(hnp.arrays(np.float32, shape, elements=CONFIDENCES))


@SETTINGS
@given(data=st.data(), case=scored_multilabel_views())
def test_with_scores_ap_and_auc_equal_scikit_learn_on_each_labels_score_column(
    data: st.DataObject, case: tuple[MultilabelView, np.ndarray]
) -> None:
    view, scores = case
    mask = data.draw(masks(view.n_rows))
    in_view = np.ones(view.n_rows, bool) if mask is None else mask
    r = rank_label_sets_by_scores(view.sets, scores, np.arange(view.n_labels), mask)
    ap, auc = average_precision(r), roc_auc(r)
    y, _ = view.indicators()
    for c in range(view.n_labels):
        truth, score = y[in_view, c], scores[in_view, c]
        if truth.all() or not truth.any():
            assert np.isnan(ap[c]) and np.isnan(auc[c])
            continue
        assert ap[c] == pytest.approx(average_precision_score(truth, score))
        assert auc[c] == pytest.approx(roc_auc_score(truth, score))


@SETTINGS
@given(data=st.data(), case=scored_multilabel_views(), points=st.integers(2, 60))
def test_label_steps_give_scikit_learns_roc_and_pr_vertices(
    data: st.DataObject, case: tuple[MultilabelView, np.ndarray], points: int
) -> None:
    view, scores = case
    mask = data.draw(masks(view.n_rows))
    in_view = np.ones(view.n_rows, bool) if mask is None else mask
    y, _ = view.indicators()
    for c in range(view.n_labels):
        truth = y[in_view, c]
        by_scores = label_steps(view.sets, c, mask, scores)
        assert_curves_match(by_scores, truth, scores[in_view, c], points)
        by_confidence = label_steps(view.sets, c, mask)
        assert_curves_match(by_confidence, truth, label_confidence(view.sets, c)[in_view], points)


def test_scores_have_to_be_a_matrix_of_the_rows() -> None:
    sets = label_sets([[0], []], [[0], [0]], [[0.9], [0.5]])
    with pytest.raises(ValueError, match="N rows"):
        rank_label_sets_by_scores(sets, np.zeros((3, 1), np.float32), [0])
