"""engine.agreement (and the per-label F-beta, specificity and false positive
rate of engine.metrics) against scikit-learn.

The agreement metrics judge the rows whose actual label is in the class
filter S; scikit-learn sees those rows' labels as strings, a prediction of
None as a sentinel string. F-beta and the normalised matrix see every row of
the view, None as a sentinel that is never in ``labels=``, as the per-label
table does (tests/engine/test_metrics.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import (
    balanced_accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    fbeta_score,
    matthews_corrcoef,
    multilabel_confusion_matrix,
    recall_score,
)

from evalql.engine.agreement import (
    balanced_accuracy,
    cohen_kappa,
    disagreement,
    f_beta_average,
    f_beta_averages,
    judged_matrix,
    kappa_order,
    kappa_weights,
    normalized,
)
from evalql.engine.agreement import (
    matthews_corrcoef as engine_mcc,
)
from evalql.engine.averaging import average
from evalql.engine.metrics import (
    Totals,
    f_beta,
    false_positive_rate,
    label_counts,
    specificity,
    submatrix,
)
from tests.engine.strategies import NONE_NAME, SETTINGS, View, class_filters, names, views
from tests.oracle import quietly

SKLEARN_WEIGHTS = {"NONE": None, "LINEAR": "linear", "QUADRATIC": "quadratic"}
BETAS = st.sampled_from([0.0, 0.5, 1.0, 2.0, math.inf]) | st.floats(0, 10)


def judged(view: View, labels: list[int]) -> tuple[list[str], list[str]]:
    """The rows whose actual label is in S, as scikit-learn sees them."""
    rows = [i for i, a in enumerate(view.actual) if a in labels]
    answers = view.answers()
    return names([view.actual[i] for i in rows]), names([answers[i] for i in rows])


def assert_agreement_matches_scikit_learn(view: View, labels: list[int] | None) -> None:
    counts = view.counts()
    s = list(range(view.n_labels)) if labels is None else labels
    y_true, y_pred = judged(view, s)
    bal, mcc = balanced_accuracy(counts, labels), engine_mcc(counts, labels)
    if not y_true:
        assert math.isnan(bal) and math.isnan(mcc)
        assert all(math.isnan(cohen_kappa(counts, labels, w)) for w in SKLEARN_WEIGHTS)
        return
    assert bal == pytest.approx(quietly(balanced_accuracy_score, y_true, y_pred), abs=1e-12)
    expected_mcc = quietly(matthews_corrcoef, y_true, y_pred)
    if math.isnan(mcc):  # undefined: scikit-learn says 0.0
        assert expected_mcc == 0.0 and (len(set(y_true)) == 1 or len(set(y_pred)) == 1)
    else:
        assert mcc == pytest.approx(expected_mcc, abs=1e-12)
    order = [*names(kappa_order(view.n_labels, labels)[:-1]), NONE_NAME]
    for weights, sklearn_weights in SKLEARN_WEIGHTS.items():
        expected = quietly(cohen_kappa_score, y_true, y_pred, labels=order,
                           weights=sklearn_weights)
        kappa = cohen_kappa(counts, labels, weights)
        assert (math.isnan(kappa) and math.isnan(expected)) or kappa == pytest.approx(
            expected, abs=1e-12), weights


@SETTINGS
@given(data=st.data(), view=views())
def test_balanced_accuracy_mcc_and_kappa_match_scikit_learn_on_the_judged_rows(
    data: st.DataObject, view: View
) -> None:
    labels = data.draw(st.none() | class_filters(view.n_labels))
    assert_agreement_matches_scikit_learn(view, labels)


@SETTINGS
@given(data=st.data(), view=views(min_rows=1))
def test_agreement_does_not_depend_on_row_order(data: st.DataObject, view: View) -> None:
    order = data.draw(st.permutations(range(len(view.actual))))
    shuffled = View(view.actual[order], view.predicted[order], view.confidence[order],
                    view.threshold, view.n_labels)
    for metric in (balanced_accuracy, engine_mcc, cohen_kappa):
        np.testing.assert_equal(metric(shuffled.counts()), metric(view.counts()))


@SETTINGS
@given(view=views())
def test_the_class_filter_with_every_label_equals_no_filter(view: View) -> None:
    counts, every = view.counts(), list(range(view.n_labels))
    for metric in (balanced_accuracy, engine_mcc, cohen_kappa):
        np.testing.assert_equal(metric(counts, every), metric(counts))


def test_unlabeled_rows_are_left_out_of_the_agreement_metrics() -> None:
    # Rows 0-3 are judged (two right, two wrong); the unlabeled rows would
    # change every metric if they counted.
    view = View(
        actual=np.array([0, 0, 1, 1, -1, -1, -1], dtype=np.int32),
        predicted=np.array([0, 1, 1, 0, 0, 0, -1], dtype=np.int32),
        confidence=np.ones(7, dtype=np.float32), threshold=0.0, n_labels=2,
    )
    without = View(view.actual[:4], view.predicted[:4], view.confidence[:4], 0.0, 2)
    for metric in (balanced_accuracy, engine_mcc, cohen_kappa):
        assert metric(view.counts()) == metric(without.counts())
    assert balanced_accuracy(view.counts()) == 0.5


def test_a_filter_changes_the_answer_and_predictions_outside_it_stay_errors() -> None:
    # Label 2 is outside S = [0, 1]: its rows leave, a prediction of 2 for an
    # actual 0 stays a wrong answer (a class of its own for MCC and kappa).
    view = View(
        actual=np.array([0, 0, 0, 1, 1, 2, 2], dtype=np.int32),
        predicted=np.array([0, 0, 2, 1, 0, 2, 2], dtype=np.int32),
        confidence=np.ones(7, dtype=np.float32), threshold=0.0, n_labels=3,
    )
    assert balanced_accuracy(view.counts(), [0, 1]) == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert balanced_accuracy(view.counts(), [0, 1]) != balanced_accuracy(view.counts())
    assert_agreement_matches_scikit_learn(view, [0, 1])
    assert_agreement_matches_scikit_learn(view, [1, 0])


def test_kappa_weights_are_scikit_learns() -> None:
    assert kappa_weights(3, "NONE").tolist() == [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    assert kappa_weights(3, "LINEAR").tolist() == [[0, 1, 2], [1, 0, 1], [2, 1, 0]]
    assert kappa_weights(3, "QUADRATIC").tolist() == [[0, 1, 4], [1, 0, 1], [4, 1, 0]]
    with pytest.raises(ValueError, match="weights has to be one of"):
        kappa_weights(3, "CUBIC")
    with pytest.raises(ValueError, match="weights has to be one of"):
        cohen_kappa(np.ones((3, 3), dtype=np.int64), None, "CUBIC")


@SETTINGS
@given(size=st.integers(1, 8), data=st.data(), weights=st.sampled_from(list(SKLEARN_WEIGHTS)))
def test_kappa_sums_equal_the_sums_over_the_weight_matrix(
    size: int, data: st.DataObject, weights: str
) -> None:
    matrix = np.array(data.draw(st.lists(st.integers(0, 10**6), min_size=size * size,
                                         max_size=size * size))).reshape(size, size)
    w = kappa_weights(size, weights)
    rows, cols = matrix.sum(axis=1), matrix.sum(axis=0)
    observed, expected = disagreement(matrix, weights)
    assert observed == np.sum(w * matrix)  # exact
    if rows.sum():
        assert expected == pytest.approx(cols @ w @ rows / rows.sum(), rel=1e-12, abs=1e-9)


def test_weighted_kappa_orders_the_filter_then_the_other_labels_then_none() -> None:
    assert kappa_order(4, np.array([2, 0])).tolist() == [2, 0, 1, 3, 4]
    assert kappa_order(2).tolist() == [0, 1, 2]
    counts = np.arange(9).reshape(3, 3)
    # S = [1]: rows and columns [1, 0, None]; only the row of label 1 is judged
    assert judged_matrix(counts, np.array([1])).tolist() == [[4, 3, 5], [0, 0, 0], [0, 0, 0]]


def test_balanced_accuracy_needs_only_the_totals() -> None:
    view = View(
        actual=np.array([0, 1, 1, 2, -1], dtype=np.int32),
        predicted=np.array([0, 1, -1, 0, 2], dtype=np.int32),
        confidence=np.ones(5, dtype=np.float32), threshold=0.0, n_labels=3,
    )
    counts = view.counts()
    assert balanced_accuracy(Totals.of_matrix(counts), [1, 2]) == balanced_accuracy(counts, [1, 2])
    assert balanced_accuracy(counts) == pytest.approx((1 + 0.5 + 0) / 3)


# --- edge cases -------------------------------------------------------------


def view_of(actual: list[int], predicted: list[int], n_labels: int) -> View:
    return View(np.array(actual, dtype=np.int32), np.array(predicted, dtype=np.int32),
                np.ones(len(actual), dtype=np.float32), 0.0, n_labels)


def test_a_single_class_has_no_correlation_or_kappa_but_a_balanced_accuracy() -> None:
    view = view_of([0, 0, 0], [0, 0, -1], 1)
    assert balanced_accuracy(view.counts()) == pytest.approx(2 / 3)
    # one actual class: MCC is 0/0 (scikit-learn says 0.0)
    assert math.isnan(engine_mcc(view.counts()))
    assert_agreement_matches_scikit_learn(view, None)
    # perfect agreement on the one class: kappa is 0/0 as well
    assert math.isnan(cohen_kappa(view_of([0, 0], [0, 0], 1).counts()))


def test_a_label_with_no_positives_is_left_out_of_balanced_accuracy() -> None:
    view = view_of([0, 0, 1, 1], [0, 2, 1, 0], 3)  # label 2 is predicted, never actual
    assert balanced_accuracy(view.counts()) == pytest.approx((0.5 + 0.5) / 2)
    assert_agreement_matches_scikit_learn(view, None)
    assert_agreement_matches_scikit_learn(view, [2, 0])


def test_every_row_abstained() -> None:
    view = view_of([0, 1, 1], [-1, -1, -1], 2)
    assert balanced_accuracy(view.counts()) == 0.0
    assert math.isnan(engine_mcc(view.counts()))  # one predicted class: None
    assert cohen_kappa(view.counts()) == 0.0
    assert_agreement_matches_scikit_learn(view, None)
    c = label_counts(view.counts(), [0, 1])
    for how in ("MACRO", "MICRO", "WEIGHTED"):
        assert f_beta_average(c, 2.0, how) == 0.0


def test_every_row_unlabeled_leaves_nothing_to_judge() -> None:
    view = view_of([-1, -1, -1], [0, 1, -1], 2)
    counts = view.counts()
    assert math.isnan(balanced_accuracy(counts)) and math.isnan(engine_mcc(counts))
    assert all(math.isnan(cohen_kappa(counts, None, w)) for w in SKLEARN_WEIGHTS)
    # still false positives of what they predict
    c = label_counts(counts, [0, 1])
    assert c.fp.tolist() == [1, 1] and specificity(c).tolist() == [2 / 3, 2 / 3]
    assert f_beta_average(c, 1.0, "MACRO") == 0.0


def test_two_labels_and_a_thousand_labels_match_scikit_learn() -> None:
    rng = np.random.default_rng(7)
    for n_labels, n_rows in ((2, 50), (1000, 4000)):
        actual = rng.integers(-1, n_labels, n_rows).astype(np.int32)
        predicted = np.where(rng.random(n_rows) < 0.6, actual,
                             rng.integers(-1, n_labels, n_rows)).astype(np.int32)
        view = View(actual, predicted, rng.random(n_rows).astype(np.float32), 0.3, n_labels)
        assert_agreement_matches_scikit_learn(view, None)
        labels = list(rng.permutation(n_labels)[: max(1, n_labels // 3)])
        assert_agreement_matches_scikit_learn(view, labels)
        assert_f_beta_matches(view, labels, 0.5)
        assert_normalized_matches(view, labels)


# --- F-beta ---------------------------------------------------------------


def assert_f_beta_matches(view: View, labels: list[int], beta: float) -> None:
    c = label_counts(view.counts(), labels)
    y_true, y_pred, sklearn_labels = names(view.actual), names(view.answers()), names(labels)
    per_label = f_beta(c, beta)
    expected = quietly(fbeta_score, y_true, y_pred, beta=beta, labels=sklearn_labels,
                       average=None)
    np.testing.assert_allclose(np.nan_to_num(per_label), expected, rtol=0, atol=1e-12)
    for how in ("MACRO", "MICRO", "WEIGHTED"):
        expected = quietly(fbeta_score, y_true, y_pred, beta=beta, labels=sklearn_labels,
                           average=how.lower())
        assert f_beta_average(c, beta, how) == pytest.approx(expected, abs=1e-12), how


@SETTINGS
@given(data=st.data(), view=views(min_rows=1), beta=BETAS)
def test_f_beta_per_label_and_averaged_matches_scikit_learn(
    data: st.DataObject, view: View, beta: float
) -> None:
    assert_f_beta_matches(view, data.draw(class_filters(view.n_labels)), beta)


@SETTINGS
@given(data=st.data(), view=views(min_rows=1))
def test_f_beta_with_beta_one_is_f1_and_its_averages(data: st.DataObject, view: View) -> None:
    c = label_counts(view.counts(), data.draw(class_filters(view.n_labels)))
    for how in ("MACRO", "MICRO", "WEIGHTED"):
        assert f_beta_average(c, 1.0, how) == pytest.approx(average("f1", c, how), abs=1e-15)


def test_f_beta_is_null_exactly_where_its_denominator_is_zero() -> None:
    c = label_counts(view_of([0, 1, 1], [0, 0, -1], 3).counts(), [0, 1, 2])
    # label 1: never predicted (TP + FP = 0) but with support; label 2: nothing
    assert np.isnan(f_beta(c, 0.0)).tolist() == [False, True, True]
    assert np.isnan(f_beta(c, 1.0)).tolist() == [False, False, True]
    assert np.isnan(f_beta(c, math.inf)).tolist() == [False, False, True]
    with pytest.raises(ValueError, match="beta"):
        f_beta(c, -1.0)


def test_f_beta_averages_take_many_resamples_at_once() -> None:
    views_ = [view_of([0, 1, 1, 0], [0, 1, 0, -1], 2), view_of([0, 0, 1], [1, 0, 1], 2)]
    counts = [label_counts(v.counts(), [0, 1]) for v in views_]
    stacked = label_counts(views_[0].counts(), [0, 1])
    stacked = type(stacked)(stacked.labels, np.stack([c.tp for c in counts]),
                            np.stack([c.fp for c in counts]), np.stack([c.fn for c in counts]), 0)
    for how in ("MACRO", "MICRO", "WEIGHTED"):
        np.testing.assert_allclose(f_beta_averages(stacked, 2.0, how),
                                   [f_beta_average(c, 2.0, how) for c in counts], rtol=1e-15)
    with pytest.raises(ValueError, match="average has to be one of"):
        f_beta_average(counts[0], 1.0, "SAMPLES")
    nothing = label_counts(views_[0].counts(), [])
    assert f_beta_average(nothing, 1.0, "MACRO") == f_beta_average(nothing, 1.0, "WEIGHTED") == 0


# --- specificity and false positive rate ----------------------------------


@SETTINGS
@given(data=st.data(), view=views(min_rows=1))
def test_specificity_and_false_positive_rate_match_scikit_learn(
    data: st.DataObject, view: View
) -> None:
    labels = data.draw(class_filters(view.n_labels))
    c = label_counts(view.counts(), labels)
    y_true, y_pred = names(view.actual), names(view.answers())
    mcm = multilabel_confusion_matrix(y_true, y_pred, labels=names(labels))
    tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
    undefined = tn + fp == 0
    np.testing.assert_array_equal(np.isnan(specificity(c)), undefined)
    np.testing.assert_array_equal(np.isnan(false_positive_rate(c)), undefined)
    for i, label in enumerate(names(labels)):
        if undefined[i]:
            continue
        negative = [t != label for t in y_true]
        expected = recall_score(negative, [p != label for p in y_pred])
        assert specificity(c)[i] == pytest.approx(expected, abs=1e-12)
        assert false_positive_rate(c)[i] == pytest.approx(1 - expected, abs=1e-12)


# --- the normalised matrix --------------------------------------------------


def assert_normalized_matches(view: View, labels: list[int]) -> None:
    matrix = submatrix(view.counts(), labels)
    y_true, y_pred = names(view.actual), names(view.answers())
    sklearn_labels = [*names(labels), NONE_NAME]
    # scikit-learn refuses a matrix whose actual values are all outside its
    # labels; test_empty_rows_and_columns_normalise_to_zero covers empty rows.
    if not set(y_true) & set(sklearn_labels):
        return
    for how in ("TRUE", "PRED", "ALL"):
        expected = confusion_matrix(y_true, y_pred, labels=sklearn_labels,
                                    normalize=how.lower())
        np.testing.assert_allclose(normalized(matrix, how), expected, rtol=0, atol=1e-15)
    assert normalized(matrix, "NONE") is matrix


@SETTINGS
@given(data=st.data(), view=views(min_rows=1))
def test_the_normalised_matrix_matches_scikit_learn(data: st.DataObject, view: View) -> None:
    assert_normalized_matches(view, data.draw(class_filters(view.n_labels)))


def test_empty_rows_and_columns_normalise_to_zero() -> None:
    matrix = np.array([[2, 0], [0, 0]])
    assert normalized(matrix, "TRUE").tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert normalized(matrix, "PRED").tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert normalized(np.zeros((2, 2), dtype=np.int64), "ALL").tolist() == [[0, 0], [0, 0]]
    with pytest.raises(ValueError, match="normalize has to be one of"):
        normalized(matrix, "ROWS")
