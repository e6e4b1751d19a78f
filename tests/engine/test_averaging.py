"""engine.averaging against scikit-learn, and the invariances it must keep."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.averaging import AVERAGED_METRICS, AVERAGES, average
from evalql.engine.metrics import PER_LABEL, label_counts, summary
from tests.engine.strategies import SETTINGS, View, class_filters, names, views
from tests.oracle import assert_averages_match


@SETTINGS
@given(data=st.data(), view=views(min_rows=1))
def test_macro_micro_and_weighted_averages_match_scikit_learn(
    data: st.DataObject, view: View
) -> None:
    labels = data.draw(class_filters(view.n_labels))
    c = label_counts(view.counts(), labels)
    assert_averages_match(c, names(view.actual), names(view.answers()), names(labels))


@SETTINGS
@given(data=st.data(), view=views())
def test_macro_is_the_mean_of_per_label_values_with_null_as_zero(
    data: st.DataObject, view: View
) -> None:
    c = label_counts(view.counts(), data.draw(class_filters(view.n_labels)))
    for metric in AVERAGED_METRICS:
        values = [0.0 if np.isnan(v) else float(v) for v in PER_LABEL[metric](c)]
        expected = sum(values) / len(values)
        assert average(metric, c, "MACRO") == pytest.approx(expected, rel=0, abs=1e-12)


@SETTINGS
@given(data=st.data(), view=views())
def test_weighted_is_the_support_weighted_mean_with_null_as_zero(
    data: st.DataObject, view: View
) -> None:
    c = label_counts(view.counts(), data.draw(class_filters(view.n_labels)))
    total_support = int(c.support.sum())
    for metric in AVERAGED_METRICS:
        values = [0.0 if np.isnan(v) else float(v) for v in PER_LABEL[metric](c)]
        weighted = sum(v * int(w) for v, w in zip(values, c.support, strict=True))
        # no support at all: every value is 0 (TP = 0), and so is the average
        expected = weighted / total_support if total_support else 0.0
        assert average(metric, c, "WEIGHTED") == pytest.approx(expected, rel=0, abs=1e-12)


@SETTINGS
@given(view=views(min_rows=1))
def test_micro_equals_accuracy_when_every_row_has_a_label_and_a_prediction(
    view: View,
) -> None:
    # the multiclass identity micro-P = micro-R = micro-F1 = accuracy; None breaks it
    complete = dataclasses.replace(
        view,
        actual=np.maximum(view.actual, 0),
        predicted=np.maximum(view.predicted, 0),
        threshold=0.0,
    )
    counts = complete.counts()
    c = label_counts(counts, np.arange(view.n_labels))
    for metric in AVERAGED_METRICS:
        assert average(metric, c, "MICRO") == pytest.approx(summary(counts).accuracy, abs=1e-12)


def test_micro_counts_abstentions_as_misses_and_unlabeled_rows_as_false_alarms() -> None:
    view = View(
        actual=np.array([0, 0, 1, -1, -1], dtype=np.int32),
        predicted=np.array([0, 1, 1, 0, -1], dtype=np.int32),
        confidence=np.array([0.9, 0.2, 0.9, 0.9, 0.9], dtype=np.float32),
        threshold=0.5,
        n_labels=2,
    )
    c = label_counts(view.counts(), [0, 1])
    # TP = 2; FP = 1 (the unlabeled row predicted 0); FN = 1 (the abstention)
    assert average("precision", c, "MICRO") == 2 / 3
    assert average("recall", c, "MICRO") == 2 / 3
    assert average("f1", c, "MICRO") == 4 / 6


def test_a_class_filter_really_changes_the_averages() -> None:
    view = View(
        actual=np.array([0, 0, 1, 1, 2, -1], dtype=np.int32),
        predicted=np.array([0, 1, 1, 1, 0, 2], dtype=np.int32),
        confidence=np.ones(6, dtype=np.float32),
        threshold=0.0,
        n_labels=3,
    )
    counts = view.counts()
    everything, only_1 = label_counts(counts, [0, 1, 2]), label_counts(counts, [1])
    assert average("precision", everything, "MACRO") == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert average("precision", only_1, "MACRO") == pytest.approx(2 / 3)
    assert average("recall", everything, "WEIGHTED") == pytest.approx(3 / 5)
    assert average("recall", only_1, "WEIGHTED") == 1.0


def test_an_empty_view_averages_to_zero_as_scikit_learn_s_zero_division_does() -> None:
    c = label_counts(np.zeros((4, 4), dtype=np.int64), [0, 1, 2])
    for metric in AVERAGED_METRICS:
        for how in AVERAGES:
            assert average(metric, c, how) == 0.0


def test_unknown_metric_or_average_is_refused_with_the_valid_options() -> None:
    c = label_counts(np.eye(3, dtype=np.int64), [0, 1])
    with pytest.raises(ValueError, match="average has to be one of"):
        average("f1", c, "SAMPLES")
    with pytest.raises(ValueError, match="metric has to be one of"):
        average("accuracy", c, "MACRO")


def test_a_class_filter_without_labels_averages_to_zero() -> None:
    counts = View(
        actual=np.array([0, 1], dtype=np.int32),
        predicted=np.array([0, 0], dtype=np.int32),
        confidence=np.ones(2, dtype=np.float32),
        threshold=0.0,
        n_labels=2,
    ).counts()
    nothing = label_counts(counts, np.array([], dtype=np.intp))
    for metric in AVERAGED_METRICS:
        for how in AVERAGES:
            assert average(metric, nothing, how) == 0.0, (metric, how)
