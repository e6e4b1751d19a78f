"""engine.calibration against scikit-learn's brier_score_loss, log_loss and
calibration_curve."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from evalql.engine.calibration import (
    LOG_LOSS_EPS,
    ReliabilityBins,
    calibration_edges,
    expected_calibration_error,
    reliability_from_confidence,
    reliability_from_scores,
    score_losses,
    upper_bin_of,
)
from tests.engine.strategies import SETTINGS, View, class_filters, views

BINS = st.sampled_from([1, 2, 4, 10, 15]) | st.integers(1, 40)


@st.composite
def scored(draw: st.DrawFn, zeros: bool = True) -> tuple[View, np.ndarray, np.ndarray | None]:
    """A view, its (N, K) float32 probabilities and maybe a row mask.

    Probabilities are small integer weights over their sum, so ties and
    (with ``zeros``) exact zeros and ones happen often.
    """
    view = draw(views())
    n, k = len(view.actual), view.n_labels
    weights = draw(hnp.arrays(np.int64, (n, k), elements=st.integers(0 if zeros else 1, 5)))
    weights[weights.sum(axis=1) == 0, 0] = 1
    scores = (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
    mask = draw(st.none() | hnp.arrays(np.bool_, n))
    return view, scores, mask


def judged_rows(view: View, labels: list[int] | None, mask: np.ndarray | None) -> np.ndarray:
    rows = view.actual >= 0
    if labels is not None:
        rows &= np.isin(view.actual, labels)
    return rows if mask is None else rows & mask


def not_summing_to_one(metric, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    """scikit-learn's answer on float64 copies of float32 probabilities, whose
    rows sum to 1 within float32's rounding only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The y_prob values do not sum to one")
        return metric(*args, **kwargs)


# --- Brier score and log loss ----------------------------------------------


@SETTINGS
@given(data=st.data(), case=scored())
def test_brier_score_matches_scikit_learn(data: st.DataObject, case: tuple) -> None:
    view, scores, mask = case
    labels = data.draw(st.none() | class_filters(view.n_labels))
    rows = judged_rows(view, labels, mask)
    got = score_losses(scores, view.actual, labels, mask)
    assert got.rows == rows.sum()
    if not rows.any():
        assert math.isnan(got.brier) and math.isnan(got.log_loss)
        return
    y, p = view.actual[rows], scores[rows].astype(np.float64)
    k = view.n_labels
    if k == 1:  # scikit-learn reads one column as the positive class's probability
        expected = brier_score_loss(y == 0, p[:, 0])
    else:
        expected = not_summing_to_one(brier_score_loss, y, p, labels=range(k))
    assert got.brier == pytest.approx(expected, rel=1e-12, abs=1e-15)


@SETTINGS
@given(data=st.data(), case=scored())
def test_log_loss_matches_scikit_learn_on_the_stored_float32_scores(
    data: st.DataObject, case: tuple
) -> None:
    view, scores, mask = case
    labels = data.draw(st.none() | class_filters(view.n_labels))
    rows = judged_rows(view, labels, mask)
    got = score_losses(scores, view.actual, labels, mask)
    if not rows.any() or view.n_labels == 1:
        return  # scikit-learn's log_loss needs two labels; see the K = 1 test
    # scikit-learn clips and sums float32 scores in float32: about 1e-7 apart
    expected = log_loss(view.actual[rows], scores[rows], labels=range(view.n_labels))
    assert got.log_loss == pytest.approx(expected, rel=2e-6, abs=1e-6)


@SETTINGS
@given(case=scored(zeros=False))
def test_log_loss_away_from_the_clip_matches_scikit_learn_in_float64(case: tuple) -> None:
    view, scores, _ = case
    rows = view.actual >= 0
    if not rows.any() or view.n_labels == 1:
        return
    expected = not_summing_to_one(log_loss, view.actual[rows], scores[rows].astype(np.float64),
                                  labels=range(view.n_labels))
    assert score_losses(scores, view.actual).log_loss == pytest.approx(expected, rel=1e-12)


def test_losses_of_a_single_label_and_of_certain_answers() -> None:
    actual = np.array([0, 0, -1], dtype=np.int32)
    one = np.array([[1.0], [0.25], [0.5]], dtype=np.float32)
    got = score_losses(one, actual)
    assert got.rows == 2 and got.brier == pytest.approx((0 + 0.75**2) / 2)
    assert got.log_loss == pytest.approx((-math.log(1 - LOG_LOSS_EPS) - math.log(0.25)) / 2)
    # a certain wrong answer costs -log(eps), not infinity
    wrong = score_losses(np.array([[0.0, 1.0]], dtype=np.float32), np.array([0], np.int32))
    assert wrong.log_loss == pytest.approx(-math.log(LOG_LOSS_EPS))
    assert wrong.brier == pytest.approx(1.0)  # (1 + 1) halved for two labels


def test_every_row_unlabeled_has_no_losses() -> None:
    got = score_losses(np.full((3, 2), 0.5, dtype=np.float32), np.full(3, -1, np.int32))
    assert got.rows == 0 and math.isnan(got.brier) and math.isnan(got.log_loss)


# --- reliability -------------------------------------------------------------


def assert_bins_match(got: ReliabilityBins, y: np.ndarray, p: np.ndarray, bins: int) -> None:
    """Non-empty bins as calibration_curve's, counts as a searchsorted."""
    edges = calibration_edges(bins)
    np.testing.assert_array_equal(got.edges, edges)
    np.testing.assert_array_equal(
        got.count, np.bincount(np.searchsorted(edges[1:-1], p), minlength=bins))
    filled = got.count > 0
    assert np.isnan(got.accuracy()[~filled]).all()
    assert np.isnan(got.mean_probability()[~filled]).all()
    if not filled.any():
        assert math.isnan(expected_calibration_error(got))
        return
    prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    np.testing.assert_allclose(got.accuracy()[filled], prob_true, rtol=1e-12)
    np.testing.assert_allclose(got.mean_probability()[filled], prob_pred, rtol=1e-12)
    weights = got.count[filled] / got.count.sum()
    ece = float(np.sum(weights * np.abs(prob_true - prob_pred)))
    assert expected_calibration_error(got) == pytest.approx(ece, rel=1e-9, abs=1e-12)


@SETTINGS
@given(data=st.data(), view=views(), bins=BINS)
def test_top_label_reliability_from_confidence_matches_calibration_curve(
    data: st.DataObject, view: View, bins: int
) -> None:
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(st.none() | hnp.arrays(np.bool_, len(view.actual)))
    got = reliability_from_confidence(view.actual, view.predicted, view.confidence,
                                      view.n_labels, bins, view.threshold, labels, mask)
    kept = np.array(view.answers()) >= 0
    rows = judged_rows(view, labels, mask) & kept
    assert_bins_match(got, (view.predicted == view.actual)[rows], view.confidence[rows], bins)


@SETTINGS
@given(case=scored(), bins=BINS)
def test_binary_reliability_from_scores_is_calibration_curve_of_the_positive_label(
    case: tuple, bins: int
) -> None:
    view, scores, mask = case
    positive = view.n_labels - 1
    got = reliability_from_scores(scores, view.actual, bins, None, mask, positive=positive)
    rows = judged_rows(view, None, mask)
    assert_bins_match(got, (view.actual == positive)[rows], scores[rows, positive], bins)


@SETTINGS
@given(data=st.data(), case=scored(), bins=BINS)
def test_top_label_reliability_from_scores_uses_the_highest_score(
    data: st.DataObject, case: tuple, bins: int
) -> None:
    view, scores, mask = case
    labels = data.draw(st.none() | class_filters(view.n_labels))
    got = reliability_from_scores(scores, view.actual, bins, labels, mask)
    rows = judged_rows(view, labels, mask)
    top = scores.argmax(axis=1)  # the first highest on ties
    assert_bins_match(got, (top == view.actual)[rows], scores.max(axis=1)[rows], bins)


def test_a_probability_on_an_inner_edge_falls_in_the_lower_bin() -> None:
    actual = np.zeros(4, dtype=np.int32)
    confidence = np.array([0.0, 0.5, 0.75, 1.0], dtype=np.float32)
    got = reliability_from_confidence(actual, actual, confidence, 1, 4)
    assert got.count.tolist() == [1, 1, 1, 1]  # [0, .25] (.25, .5] (.5, .75] (.75, 1]
    assert expected_calibration_error(got) == pytest.approx((1 + 0.5 + 0.25 + 0) / 4)


@SETTINGS
@given(p=st.floats(0, 1) | st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]),
       bins=BINS, guess=st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_the_bin_is_right_whatever_the_first_guess(p: float, bins: int, guess: float) -> None:
    # The scale only makes the first guess; the comparisons settle the bin.
    edges = calibration_edges(bins)
    assert upper_bin_of(p, edges, guess * bins) == np.searchsorted(edges[1:-1], p)


def test_rows_without_ground_truth_or_a_kept_prediction_are_left_out() -> None:
    actual = np.array([0, -1, 1, 1], dtype=np.int32)
    predicted = np.array([0, 0, -1, 1], dtype=np.int32)
    confidence = np.array([0.9, 0.9, 1.0, 0.3], dtype=np.float32)
    got = reliability_from_confidence(actual, predicted, confidence, 2, 2, threshold=0.5)
    assert got.count.tolist() == [0, 1] and got.hits.tolist() == [0, 1]
    assert got.low.tolist() == [0, 0.5] and got.high.tolist() == [0.5, 1]
    nothing = reliability_from_confidence(actual, np.full(4, -1, np.int32), confidence, 2, 2)
    assert nothing.count.sum() == 0 and math.isnan(expected_calibration_error(nothing))
    with pytest.raises(ValueError, match="bins"):
        calibration_edges(0)
    with pytest.raises(ValueError, match="scores"):
        score_losses(np.ones(4, np.float32), actual)


def test_a_thousand_labels() -> None:
    rng = np.random.default_rng(5)
    scores = rng.dirichlet(np.full(1000, 0.05), 600).astype(np.float32)
    actual = rng.integers(-1, 1000, 600).astype(np.int32)
    rows = actual >= 0
    got = score_losses(scores, actual)
    expected = not_summing_to_one(brier_score_loss, actual[rows], scores[rows].astype(np.float64),
                                  labels=range(1000))
    assert got.brier == pytest.approx(expected, rel=1e-10)  # 600k terms summed in two orders
    bins = reliability_from_scores(scores, actual, 15)
    assert_bins_match(bins, (scores.argmax(axis=1) == actual)[rows], scores.max(axis=1)[rows], 15)
