"""engine.score_curves against scikit-learn's roc_curve and precision_recall_curve."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import precision_recall_curve, roc_curve

from evalql.engine import score_curves
from evalql.engine.score_curves import (
    LabelSteps,
    pr_curve,
    steps_from_confidence,
    steps_from_scores,
    vertex_indices,
)
from tests.engine.strategies import CONFIDENCES, SETTINGS, View, views
from tests.oracle import quietly

POINTS = st.sampled_from([2, 3, 5, 101]) | st.integers(2, 400)


@st.composite
def scored_views(draw: st.DrawFn) -> tuple[View, np.ndarray]:
    view = draw(views())
    shape = (len(view.actual), view.n_labels)
    return view, draw(hnp.arrays(np.float32, shape, elements=CONFIDENCES))


def sklearn_curves(y: np.ndarray, score: np.ndarray) -> tuple:
    """Both curves, scikit-learn's warnings about a missing class silenced."""
    return quietly(roc_curve, y, score, drop_intermediate=False), quietly(
        precision_recall_curve, y, score
    )


def assert_curves_match(steps: LabelSteps, y: np.ndarray, score: np.ndarray, points: int) -> None:
    roc = score_curves.roc_curve(steps, points)
    pr = pr_curve(steps, points)
    if y.size == 0:
        assert roc.thresholds.size == pr.thresholds.size == 0
        return
    (fpr, tpr, roc_t), (precision, recall, pr_t) = sklearn_curves(y, score)
    keep = vertex_indices(len(roc_t), points)
    assert len(keep) <= points and keep[0] == 0 and keep[-1] == len(roc_t) - 1
    np.testing.assert_array_equal(roc.thresholds, roc_t[keep])
    np.testing.assert_allclose(roc.false_positive_rate, fpr[keep], rtol=1e-15)
    np.testing.assert_allclose(roc.true_positive_rate, tpr[keep], rtol=1e-15)
    # scikit-learn's PR arrays run the other way and end in a point without
    # a threshold; reversed, that point comes first, at +inf here.
    np.testing.assert_array_equal(pr.thresholds, np.concatenate([[np.inf], pr_t[::-1]])[keep])
    np.testing.assert_allclose(pr.precision, precision[::-1][keep], rtol=1e-15)
    if y.any():
        np.testing.assert_allclose(pr.recall, recall[::-1][keep], rtol=1e-15)
    else:  # scikit-learn says 1 throughout (and warns); the recall is 0/0
        assert np.isnan(pr.recall).all()


@SETTINGS
@given(data=st.data(), case=scored_views(), points=POINTS)
def test_curves_from_scores_match_scikit_learn_at_the_kept_vertices(
    data: st.DataObject, case: tuple[View, np.ndarray], points: int
) -> None:
    view, scores = case
    label = data.draw(st.integers(0, view.n_labels - 1))
    mask = data.draw(st.none() | hnp.arrays(np.bool_, len(view.actual)))
    rows = np.ones(len(view.actual), bool) if mask is None else mask
    steps = steps_from_scores(scores, view.actual, label, mask)
    assert_curves_match(steps, view.actual[rows] == label, scores[rows, label], points)


@SETTINGS
@given(data=st.data(), view=views(), points=POINTS)
def test_without_scores_the_score_is_the_confidence_where_the_label_is_predicted(
    data: st.DataObject, view: View, points: int
) -> None:
    label = data.draw(st.integers(0, view.n_labels - 1))
    mask = data.draw(st.none() | hnp.arrays(np.bool_, len(view.actual)))
    rows = np.ones(len(view.actual), bool) if mask is None else mask
    steps = steps_from_confidence(view.actual, view.predicted, view.confidence, label, mask)
    score = np.where(view.predicted == label, view.confidence, np.float32(0))
    assert_curves_match(steps, view.actual[rows] == label, score[rows], points)


def test_vertices_are_evenly_spaced_with_both_ends_kept() -> None:
    assert vertex_indices(10, 4).tolist() == [0, 3, 6, 9]
    assert vertex_indices(3, 101).tolist() == [0, 1, 2]
    assert vertex_indices(1000, 2).tolist() == [0, 999]
    with pytest.raises(ValueError, match="points"):
        vertex_indices(5, 1)
    with pytest.raises(ValueError, match="scores"):
        steps_from_scores(np.ones((2, 1), np.float32), np.zeros(3, np.int32), 0)


def test_a_label_with_no_negatives_has_no_false_positive_rate() -> None:
    actual = np.zeros(3, dtype=np.int32)
    scores = np.array([[0.9], [0.4], [0.4]], dtype=np.float32)
    roc = score_curves.roc_curve(steps_from_scores(scores, actual, 0), 101)
    assert roc.thresholds.tolist() == [np.inf, np.float32(0.9), np.float32(0.4)]
    assert np.isnan(roc.false_positive_rate).all()
    assert roc.true_positive_rate.tolist() == [0, 1 / 3, 1]


def test_every_row_abstained_or_unlabeled() -> None:
    actual = np.array([0, 1, -1], dtype=np.int32)
    none = np.full(3, -1, dtype=np.int32)
    steps = steps_from_confidence(actual, none, np.ones(3, np.float32), 0)
    # every row scores 0: one step at 0 where all rows are kept
    assert steps.thresholds.tolist() == [0.0]
    assert (steps.tp.tolist(), steps.fp.tolist()) == ([1], [2])
    unlabeled = steps_from_confidence(none, np.zeros(3, np.int32), np.ones(3, np.float32), 0)
    assert unlabeled.positives == 0 and np.isnan(pr_curve(unlabeled, 5).recall).all()


def test_a_thousand_labels() -> None:
    rng = np.random.default_rng(9)
    scores = rng.dirichlet(np.full(1000, 0.1), 2000).astype(np.float32)
    actual = rng.integers(-1, 1000, 2000).astype(np.int32)
    label = int(np.bincount(actual[actual >= 0]).argmax())
    steps = steps_from_scores(scores, actual, label)
    assert_curves_match(steps, actual == label, scores[:, label], 101)
