"""Average precision, ROC AUC, precision steps and top-k against scikit-learn
and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import average_precision_score, roc_auc_score, top_k_accuracy_score

from evalql.engine.confusion import confusion_counts
from evalql.engine.metrics import label_counts, precision
from evalql.engine.ranking import (
    PrecisionSteps,
    Ranking,
    average_precision,
    confidence_steps,
    merge_precision_steps,
    merge_ranking_steps,
    precision_steps,
    rank_by_confidence,
    rank_by_scores,
    ranking_of_steps,
    roc_auc,
    threshold_for_precision,
    top_k_hits,
)
from tests.engine.strategies import CONFIDENCES, SETTINGS, View, masks, views


@st.composite
def scored_views(draw: st.DrawFn) -> tuple[View, np.ndarray]:
    """A view and an (N, K) score matrix whose values tie often."""
    view = draw(views())
    shape = (len(view.actual), view.n_labels)
    return view, draw(hnp.arrays(np.float32, shape, elements=CONFIDENCES))


def assert_matches_scikit_learn(
    r: Ranking, actual: np.ndarray, score_of: dict[int, np.ndarray]
) -> None:
    ap, auc = average_precision(r), roc_auc(r)
    for i, c in enumerate(r.labels):
        y = actual == c
        if y.all() or not y.any():
            assert math.isnan(ap[i]) and math.isnan(auc[i])
            continue
        assert ap[i] == pytest.approx(average_precision_score(y, score_of[c]), rel=1e-12)
        assert auc[i] == pytest.approx(roc_auc_score(y, score_of[c]), rel=1e-12)


@SETTINGS
@given(data=st.data(), case=scored_views())
def test_average_precision_and_roc_auc_of_scores_match_scikit_learn(
    data: st.DataObject, case: tuple[View, np.ndarray]
) -> None:
    view, scores = case
    mask = data.draw(masks(len(view.actual)))
    rows = np.ones(len(view.actual), bool) if mask is None else mask
    labels = np.arange(view.n_labels)
    r = rank_by_scores(scores, view.actual, labels, mask)
    assert_matches_scikit_learn(r, view.actual[rows], {c: scores[rows, c] for c in labels})


@SETTINGS
@given(data=st.data(), view=views())
def test_without_scores_the_score_is_the_confidence_of_the_predicted_label(
    data: st.DataObject, view: View
) -> None:
    mask = data.draw(masks(len(view.actual)))
    rows = np.ones(len(view.actual), bool) if mask is None else mask
    labels = np.arange(view.n_labels)
    r = rank_by_confidence(
        view.actual, view.predicted, view.confidence, labels, view.n_labels, mask
    )
    score_of = {
        c: np.where(view.predicted == c, view.confidence, 0)[rows] for c in labels
    }
    assert_matches_scikit_learn(r, view.actual[rows], score_of)


def test_a_label_with_no_positives_or_no_negatives_has_no_ranking_metrics() -> None:
    actual = np.array([0, 0, 0], dtype=np.int32)
    scores = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], dtype=np.float32)
    r = rank_by_scores(scores, actual, np.array([0, 1]))
    assert np.isnan(average_precision(r)).all() and np.isnan(roc_auc(r)).all()


def test_an_empty_view_has_no_ranking_metrics() -> None:
    empty = np.zeros(0, dtype=np.int32)
    r = rank_by_confidence(empty, empty, np.zeros(0, np.float32), np.array([0]), 1)
    assert np.isnan(average_precision(r)).all() and np.isnan(roc_auc(r)).all()


def test_negative_zero_scores_tie_with_zero() -> None:
    actual = np.array([0, 1, 0, 1], dtype=np.int32)
    scores = np.array([[-0.0, 0], [0.0, 0], [0.5, 0], [0.0, 0]], dtype=np.float32)
    r = rank_by_scores(scores, actual, np.array([0]))
    y, s = actual == 0, np.array([0.0, 0.0, 0.5, 0.0])
    assert roc_auc(r)[0] == pytest.approx(roc_auc_score(y, s))
    assert average_precision(r)[0] == pytest.approx(average_precision_score(y, s))


def test_tied_scores_form_one_step() -> None:
    # Two positives and two negatives all at 0.5: one step at precision 1/2.
    actual = np.array([0, 0, 1, 1], dtype=np.int32)
    scores = np.full((4, 2), 0.5, dtype=np.float32)
    r = rank_by_scores(scores, actual, np.array([0]))
    assert average_precision(r)[0] == 0.5 and roc_auc(r)[0] == 0.5


@SETTINGS
@given(data=st.data(), view=views())
def test_precision_steps_count_what_a_scan_counts_at_each_confidence(
    data: st.DataObject, view: View
) -> None:
    label = data.draw(st.integers(0, view.n_labels - 1))
    mask = data.draw(masks(len(view.actual)))
    steps = precision_steps(view.actual, view.predicted, view.confidence, label, mask)
    own = (view.predicted == label) & (True if mask is None else mask)
    assert list(steps.thresholds) == sorted(set(view.confidence[own]), reverse=True)
    for t, tp, fp in zip(steps.thresholds, steps.tp, steps.fp, strict=True):
        c = label_counts(_scan(view, t, mask), [label])
        assert (tp, fp) == (c.tp[0], c.fp[0])


def _cuts(data: st.DataObject, n: int) -> list[tuple[int, int]]:
    """Row ranges covering ``0..n`` in order, some of them empty (fragments)."""
    points = sorted(data.draw(st.lists(st.integers(0, n), max_size=4)))
    bounds = [0, *points, n]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


@SETTINGS
@given(data=st.data(), view=views())
def test_rankings_of_parts_merge_into_the_ranking_of_the_whole(
    data: st.DataObject, view: View
) -> None:
    """Steps of row ranges, merged and summed, give the whole ranking float for
    float (the Dask backend's fragments rely on it)."""
    mask = data.draw(masks(len(view.actual)))
    labels = np.arange(view.n_labels)
    whole = rank_by_confidence(
        view.actual, view.predicted, view.confidence, labels, view.n_labels, mask
    )
    parts = [
        confidence_steps(view.actual[lo:hi], view.predicted[lo:hi], view.confidence[lo:hi],
                         labels, view.n_labels, None if mask is None else mask[lo:hi])
        for lo, hi in _cuts(data, len(view.actual))
    ]
    merged = ranking_of_steps(merge_ranking_steps(*parts))
    for field in ("labels", "positives", "negatives", "precision_sum", "pairs2"):
        assert np.array_equal(getattr(merged, field), getattr(whole, field)), field


@SETTINGS
@given(data=st.data(), view=views())
def test_precision_steps_of_parts_merge_into_the_steps_of_the_whole(
    data: st.DataObject, view: View
) -> None:
    label = data.draw(st.integers(0, view.n_labels - 1))
    whole = precision_steps(view.actual, view.predicted, view.confidence, label)
    merged = merge_precision_steps(*(
        precision_steps(view.actual[lo:hi], view.predicted[lo:hi], view.confidence[lo:hi], label)
        for lo, hi in _cuts(data, len(view.actual))
    ))
    assert merged.thresholds.tobytes() == whole.thresholds.tobytes()
    assert np.array_equal(merged.tp, whole.tp) and np.array_equal(merged.fp, whole.fp)


def test_merged_precision_steps_add_up_at_each_confidence() -> None:
    f32 = np.float32
    merged = merge_precision_steps(
        PrecisionSteps(np.array([0.9, 0.5], f32), np.array([1, 1]), np.array([0, 1])),
        PrecisionSteps(np.array([0.5], f32), np.array([1]), np.array([0])),
    )
    assert merged.thresholds.tolist() == [f32(0.9), f32(0.5)]
    assert merged.tp.tolist() == [1, 2] and merged.fp.tolist() == [0, 1]


def _scan(view: View, t: float, mask: np.ndarray | None) -> np.ndarray:
    return confusion_counts(view.actual, view.predicted, view.confidence, t, view.n_labels, mask)


@SETTINGS
@given(data=st.data(), view=views(min_rows=1))
def test_the_threshold_for_a_precision_is_the_lowest_that_reaches_it(
    data: st.DataObject, view: View
) -> None:
    label = data.draw(st.integers(0, view.n_labels - 1))
    goal = data.draw(st.sampled_from([0.0, 0.5, 0.75, 0.9, 1.0]) | st.floats(0, 1))
    steps = precision_steps(view.actual, view.predicted, view.confidence, label)
    found = threshold_for_precision(steps, goal)
    # Brute force: the label's counts change only at its own confidences, so
    # those and 0 are every threshold worth trying.
    own = view.confidence[view.predicted == label]
    candidates = sorted({0.0, *(float(c) for c in own)})
    reaching = [
        t for t in candidates
        if precision(label_counts(_scan(view, t, None), [label]))[0] >= goal
    ]
    assert found == (min(reaching) if reaching else None)


def test_the_threshold_for_a_precision_is_exact_between_grid_points() -> None:
    actual = np.array([0, 0, 1, 0], dtype=np.int32)
    predicted = np.zeros(4, dtype=np.int32)
    confidence = np.array([0.93, 0.917, 0.912, 0.3], dtype=np.float32)
    steps = precision_steps(actual, predicted, confidence, 0)
    assert threshold_for_precision(steps, 0.95) == np.float32(0.917)
    assert threshold_for_precision(steps, 0.7) == 0
    assert threshold_for_precision(precision_steps(actual, predicted - 1, confidence, 0), 0) is None


@SETTINGS
@given(data=st.data(), case=scored_views())
def test_top_k_hits_count_rows_with_fewer_than_k_higher_scores(
    data: st.DataObject, case: tuple[View, np.ndarray]
) -> None:
    view, scores = case
    k = data.draw(st.integers(1, view.n_labels))
    mask = data.draw(masks(len(view.actual)))
    hits, total = top_k_hits(scores, view.actual, k, mask)
    rows = range(len(view.actual)) if mask is None else np.flatnonzero(mask)
    expected = sum(
        1 for i in rows
        if view.actual[i] >= 0 and (scores[i] > scores[i, view.actual[i]]).sum() < k
    )
    # rows without an actual label are not counted, as for accuracy (Trust
    # issue; they used to count as misses)
    labeled = sum(1 for i in rows if view.actual[i] >= 0)
    assert (hits, total) == (expected, labeled)


def test_top_k_hits_match_scikit_learn_without_ties() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random((300, 5)).astype(np.float32)
    actual = rng.integers(0, 5, 300).astype(np.int32)
    for k in (1, 2, 4):
        hits, total = top_k_hits(scores, actual, k)
        assert hits / total == pytest.approx(
            top_k_accuracy_score(actual, scores, k=k, labels=range(5))
        )


def test_top_k_with_a_class_filter_counts_only_its_rows() -> None:
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], dtype=np.float32)
    actual = np.array([0, 0, 1], dtype=np.int32)
    assert top_k_hits(scores, actual, 1, selected=np.array([0])) == (1, 2)
    assert top_k_hits(scores, actual, 1, selected=np.array([1])) == (0, 1)


def test_scores_that_are_not_one_row_a_label_are_refused() -> None:
    actual = np.zeros(3, dtype=np.int32)
    with pytest.raises(ValueError, match=r"scores have to be an \(N, K\) matrix"):
        rank_by_scores(np.zeros((2, 2), np.float32), actual, np.array([0]))
    with pytest.raises(ValueError, match=r"scores have to be an \(N, K\) matrix"):
        top_k_hits(np.zeros(3, np.float32), actual, 1)
