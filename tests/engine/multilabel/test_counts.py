"""engine.multilabel against scikit-learn on label-indicator matrices, and the
multilabel confusion matrix against the naive reference.

scikit-learn sees a view as MultiLabelBinarizer(classes=labels) matrices of
the actual sets (Y) and the kept predicted sets (P); a class filter S is
``labels=S`` (column indices) for the per-label metrics and ``[:, S]`` for
the row-level ones. Also run as plain Python with NUMBA_DISABLE_JIT=1 (the
last test), so the kernels' lines are exercised outside Numba too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    hamming_loss,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.preprocessing import MultiLabelBinarizer

from evalql.engine import jit
from evalql.engine.arrays import frozen, row_mask
from evalql.engine.averaging import AVERAGED_METRICS, AVERAGES, average
from evalql.engine.curves import _lookup, _thresholds
from evalql.engine.histogram import _scale
from evalql.engine.jit import CORES, chunk_bounds, n_chunks
from evalql.engine.kernels import as_threshold
from evalql.engine.metrics import PER_LABEL, accuracy, submatrix
from evalql.engine.multilabel import (
    FN,
    FP,
    OUTCOMES,
    OUTSIDE,
    TN,
    TP,
    LabelSetIndex,
    LabelSets,
    RowTests,
    _arrays,
    _label_confidence,
    _label_outcomes,
    _match_sets,
    _multilabel_curve,
    _multilabel_scan,
    _pair_histogram,
    _selected,
    _top_confidence,
    cell_rows,
    exact_match_rows,
    label_confidence,
    label_outcome_rows,
    label_outcomes,
    label_precision_steps,
    match_rows,
    multilabel_confusion,
    multilabel_counts,
    multilabel_threshold_counts,
    pair_histogram,
    rank_label_sets,
    top_confidence,
)
from evalql.engine.ranking import average_precision, roc_auc
from tests.engine.strategies import CONFIDENCES, ROUND_VALUES, THRESHOLDS, class_filters
from tests.naive import kept, naive_multilabel_confusion

ROOT = Path(__file__).resolve().parents[2]
JIT_DISABLED = bool(numba.config.DISABLE_JIT) or os.environ.get("NUMBA_DISABLE_JIT") == "1"
# As plain Python the point is to run every kernel line, which a few examples do.
SETTINGS = settings(max_examples=25 if JIT_DISABLED else 100, deadline=None)


@dataclass(frozen=True)
class MultilabelView:
    """Rows of label codes (distinct within a row, in any order) at a threshold."""

    actual: list[list[int]]
    predicted: list[list[int]]
    confidence: list[list[float]]
    threshold: float
    n_labels: int

    @property
    def sets(self) -> LabelSets:
        return LabelSets.from_lists(self.actual, self.predicted, self.confidence)

    @property
    def n_rows(self) -> int:
        return len(self.actual)

    def kept(self) -> list[list[int]]:
        """The predicted sets after dropping labels below the threshold."""
        return [
            [p for p, c in zip(row, conf, strict=True) if kept(c, self.threshold)]
            for row, conf in zip(self.predicted, self.confidence, strict=True)
        ]

    def indicators(self, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Y and P as scikit-learn's label-indicator matrices, rows in the view only."""
        names = [f"L{c}" for c in range(self.n_labels)]
        binarizer = MultiLabelBinarizer(classes=names)
        y = binarizer.fit_transform([[names[c] for c in row] for row in self.actual])
        p = binarizer.fit_transform([[names[c] for c in row] for row in self.kept()])
        if mask is not None:
            y, p = y[mask], p[mask]
        return y, p

    def counts(
        self, mask: np.ndarray | None = None, labels: list[int] | None = None, matrix: bool = False
    ):
        return multilabel_counts(self.sets, self.threshold, self.n_labels, mask, labels, matrix)


@st.composite
def multilabel_views(draw: st.DrawFn, min_rows: int = 0, max_rows: int = 40) -> MultilabelView:
    n_labels = draw(st.integers(2, 6))
    n_rows = draw(st.integers(min_rows, max_rows))
    label_set = st.lists(st.integers(0, n_labels - 1), unique=True, max_size=n_labels)
    actual = draw(st.lists(label_set, min_size=n_rows, max_size=n_rows))
    predicted = draw(st.lists(label_set, min_size=n_rows, max_size=n_rows))
    confidence = [
        draw(st.lists(CONFIDENCES, min_size=len(row), max_size=len(row))) for row in predicted
    ]
    return MultilabelView(actual, predicted, confidence, draw(THRESHOLDS), n_labels)


@st.composite
def masks(draw: st.DrawFn, n_rows: int) -> np.ndarray | None:
    """No mask, or a random row mask."""
    if draw(st.booleans()):
        return None
    return draw(hnp.arrays(np.bool_, n_rows))


def sklearn_prf(y: np.ndarray, p: np.ndarray, labels: list[int], average: str | None) -> tuple:
    """scikit-learn with zero_division at its default; its 0/0 warning is expected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return precision_recall_fscore_support(y, p, labels=labels, average=average)


def columns(matrix: np.ndarray, labels: list[int]) -> np.ndarray:
    """``matrix[:, labels]``; one column as a 1-D vector, which scikit-learn
    reads as binary labels with the same meaning."""
    picked = matrix[:, labels]
    return picked.ravel() if len(labels) == 1 else picked


def rows_in_view(view: MultilabelView, mask: np.ndarray | None) -> int:
    return view.n_rows if mask is None else int(mask.sum())


# --- per label and averages against scikit-learn -----------------------------


@SETTINGS
@given(data=st.data(), view=multilabel_views(min_rows=1))
def test_per_label_precision_recall_f1_and_support_match_scikit_learn(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    assume(rows_in_view(view, mask) > 0)
    c = view.counts(mask).label_counts(labels)
    expected = sklearn_prf(*view.indicators(mask), labels, None)
    undefined = {
        "precision": c.tp + c.fp == 0,
        "recall": c.tp + c.fn == 0,
        "f1": c.tp + c.fp + c.fn == 0,
    }
    for metric, sklearn_values in zip(("precision", "recall", "f1"), expected[:3], strict=True):
        values = PER_LABEL[metric](c)
        np.testing.assert_array_equal(np.isnan(values), undefined[metric], err_msg=metric)
        np.testing.assert_allclose(
            np.nan_to_num(values), sklearn_values, rtol=0, atol=1e-12, err_msg=metric
        )
    np.testing.assert_array_equal(c.support, expected[3])


@SETTINGS
@given(data=st.data(), view=multilabel_views(min_rows=1))
def test_per_label_tp_fp_fn_tn_match_multilabel_confusion_matrix(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    assume(rows_in_view(view, mask) > 0)
    c = view.counts(mask).label_counts(labels)
    matrices = multilabel_confusion_matrix(*view.indicators(mask), labels=labels)
    np.testing.assert_array_equal(c.tn, matrices[:, 0, 0])
    np.testing.assert_array_equal(c.fp, matrices[:, 0, 1])
    np.testing.assert_array_equal(c.fn, matrices[:, 1, 0])
    np.testing.assert_array_equal(c.tp, matrices[:, 1, 1])
    assert c.n == rows_in_view(view, mask)


@SETTINGS
@given(data=st.data(), view=multilabel_views(min_rows=1))
def test_macro_micro_and_weighted_averages_match_scikit_learn(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    assume(rows_in_view(view, mask) > 0)
    c = view.counts(mask).label_counts(labels)
    y, p = view.indicators(mask)
    for how in AVERAGES:
        expected = sklearn_prf(y, p, labels, how.lower())
        for metric, value in zip(AVERAGED_METRICS, expected[:3], strict=True):
            assert average(metric, c, how) == pytest.approx(value, rel=0, abs=1e-12), (metric, how)


# --- row level against scikit-learn ------------------------------------------


@SETTINGS
@given(data=st.data(), view=multilabel_views(min_rows=1))
def test_hamming_score_and_subset_accuracy_match_scikit_learn(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    assume(rows_in_view(view, mask) > 0)
    summary = view.counts(mask, labels).summary
    y, p = view.indicators(mask)
    chosen = list(range(view.n_labels)) if labels is None else labels
    expected_loss = hamming_loss(columns(y, chosen), columns(p, chosen))
    assert summary.hamming_loss == pytest.approx(expected_loss, rel=0, abs=1e-12)
    assert summary.hamming_score == pytest.approx(1 - expected_loss, rel=0, abs=1e-12)
    assert summary.accuracy == summary.hamming_score
    expected_subset = accuracy_score(columns(y, chosen), columns(p, chosen))
    assert summary.subset_accuracy == pytest.approx(expected_subset, rel=0, abs=1e-12)


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_total_predicted_and_exact_rows_count_as_the_spec_says(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    summary = view.counts(mask, labels).summary
    chosen = set(range(view.n_labels)) if labels is None else set(labels)
    in_view = [i for i in range(view.n_rows) if mask is None or mask[i]]
    actual = [set(view.actual[i]) & chosen for i in in_view]
    answers = [set(view.kept()[i]) & chosen for i in in_view]
    assert summary.total == len(in_view)
    assert summary.predicted == sum(1 for a in answers if a)
    assert summary.correct == sum(1 for a, p in zip(actual, answers, strict=True) if a == p)
    assert summary.answered_correct == sum(
        1 for a, p in zip(actual, answers, strict=True) if p and a == p
    )
    assert summary.decisions == len(in_view) * len(chosen)


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_macro_per_label_accuracy_is_the_hamming_score(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(class_filters(view.n_labels))
    counts = view.counts(labels=labels)
    per_label = accuracy(counts.label_counts())
    if view.n_rows == 0:
        assert np.isnan(per_label).all() and np.isnan(counts.summary.hamming_score)
    else:
        assert per_label.mean() == pytest.approx(counts.summary.hamming_score, rel=0, abs=1e-12)


def test_rows_with_neither_actual_nor_predicted_labels_are_exact_but_not_answered() -> None:
    sets = LabelSets.from_lists([[], [], [0]], [[], [1], [0]], [[], [0.2], [0.9]])
    summary = multilabel_counts(sets, 0.5, 2).summary
    # Row 1's only prediction is dropped at t = 0.5, which makes it exact too.
    assert (summary.total, summary.predicted, summary.correct) == (3, 1, 3)
    assert summary.answered_correct == 1
    assert summary.subset_accuracy == 1.0 and summary.selective_accuracy == 1.0
    assert summary.hamming_score == 1.0 and summary.coverage == pytest.approx(1 / 3)


def test_an_empty_view_has_zero_counts_and_undefined_ratios() -> None:
    sets = LabelSets.from_lists([[0], [1]], [[0], [0]])
    counts = multilabel_counts(sets, 0.5, 2, mask=np.zeros(2, dtype=np.bool_))
    assert counts.tp.tolist() == counts.support.tolist() == counts.predicted.tolist() == [0, 0]
    summary = counts.summary
    assert (summary.total, summary.predicted, summary.correct) == (0, 0, 0)
    for ratio in ("coverage", "subset_accuracy", "hamming_score", "selective_accuracy"):
        assert np.isnan(getattr(summary, ratio)), ratio
    no_rows = LabelSets.from_lists([], [])
    assert multilabel_counts(no_rows, 0.5, 3).summary.total == 0
    assert multilabel_confusion(no_rows, 0.5, 3).tolist() == [[0] * 4] * 4


def test_an_empty_class_filter_makes_every_row_exact_and_the_hamming_score_undefined() -> None:
    sets = LabelSets.from_lists([[0], [1]], [[1], []])
    summary = multilabel_counts(sets, 0.0, 2, labels=[]).summary
    assert (summary.correct, summary.predicted, summary.decisions) == (2, 0, 0)
    assert np.isnan(summary.hamming_score)


def test_the_class_filter_looks_only_at_its_labels_on_both_sides() -> None:
    # Row 0 is wrong on label 1 only: exact under the filter [0], not without it.
    sets = LabelSets.from_lists([[0, 1], [2]], [[0], [2]])
    assert multilabel_counts(sets, 0.0, 3).summary.correct == 1
    filtered = multilabel_counts(sets, 0.0, 3, labels=[0]).summary
    assert (filtered.correct, filtered.predicted, filtered.decisions) == (2, 1, 2)


def test_a_confidence_written_as_0_7_is_kept_at_threshold_0_7() -> None:
    assert float(np.float32(0.7)) < 0.7
    sets = LabelSets.from_lists([[0]], [[0]], [[0.7]])
    assert multilabel_counts(sets, 0.7, 1).tp.tolist() == [1]
    assert multilabel_counts(sets, 0.70001, 1).tp.tolist() == [0]


def test_docstring_examples_hold() -> None:
    sets = LabelSets.from_lists([[0, 1], []], [[1, 2], [2]], [[0.9, 0.3], [0.8]])
    counts = multilabel_counts(sets, 0.5, 3)
    assert counts.tp.tolist() == [0, 1, 0]
    assert counts.support.tolist() == [1, 1, 0]
    assert counts.predicted.tolist() == [0, 1, 1]
    summary = counts.summary
    assert (summary.total, summary.predicted, summary.correct) == (2, 2, 0)
    assert summary.hamming_score == pytest.approx(4 / 6)
    assert multilabel_confusion(sets, 0.5, 3).tolist() == [
        [0, 1, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 1, 0],
    ]
    simple = LabelSets.from_lists([[0], [1], []], [[0], [0], []])
    rows = {o: label_outcome_rows(simple, 0.0, 0, o).tolist() for o in OUTCOMES}
    assert rows == {"TP": [0], "FP": [1], "FN": [], "TN": [2]}


# --- the confusion matrix against the naive reference ------------------------


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_confusion_matrix_equals_the_naive_reference(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    expected = naive_multilabel_confusion(
        view.actual, view.predicted, view.confidence, view.threshold, view.n_labels, mask, labels
    )
    counts = multilabel_confusion(view.sets, view.threshold, view.n_labels, mask, labels)
    assert counts.dtype == np.int64
    assert counts.tolist() == expected
    together = view.counts(mask, labels, matrix=True)
    assert together.matrix.tolist() == expected
    assert together.summary == view.counts(mask, labels).summary


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_the_matrix_diagonal_is_tp_and_its_none_cells_are_fp_and_fn(
    data: st.DataObject, view: MultilabelView
) -> None:
    mask = data.draw(masks(view.n_rows))
    matrix = multilabel_confusion(view.sets, view.threshold, view.n_labels, mask)
    c = view.counts(mask).label_counts()
    k = view.n_labels
    np.testing.assert_array_equal(np.diagonal(matrix)[:k], c.tp)
    assert (matrix[k, :k] <= c.fp).all() and (matrix[:k, k] <= c.fn).all()
    # Rows without actual labels: each kept label there is a false positive.
    unlabeled = [i for i in range(view.n_rows) if not view.actual[i] and (mask is None or mask[i])]
    for j in range(k):
        assert matrix[k, j] == sum(j in view.kept()[i] for i in unlabeled)


def test_a_class_filter_then_submatrix_keeps_the_filters_labels_and_none() -> None:
    sets = LabelSets.from_lists([[0, 2], [1]], [[2], [0]])
    matrix = multilabel_confusion(sets, 0.0, 3, labels=[2, 0])
    # Filtered to {0, 2}: row 1 has no actual label left and predicts 0.
    assert submatrix(matrix, np.array([2, 0])).tolist() == [[1, 0, 0], [1, 0, 0], [0, 1, 0]]


# --- drill-down helpers --------------------------------------------------------


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_outcome_rows_of_a_label_match_its_counts_and_partition_the_view(
    data: st.DataObject, view: MultilabelView
) -> None:
    mask = data.draw(masks(view.n_rows))
    label = data.draw(st.integers(0, view.n_labels - 1))
    c = view.counts(mask).label_counts([label])
    rows = {o: label_outcome_rows(view.sets, view.threshold, label, o, mask) for o in OUTCOMES}
    expected = {"TP": c.tp, "FP": c.fp, "FN": c.fn, "TN": c.tn}
    for outcome, positions in rows.items():
        assert len(positions) == int(expected[outcome][0]), outcome
        assert positions.dtype == np.int64 and (np.diff(positions) > 0).all()
    in_view = [i for i in range(view.n_rows) if mask is None or mask[i]]
    assert sorted(np.concatenate(list(rows.values())).tolist()) == in_view
    for i in rows["TP"]:
        assert label in view.actual[i] and label in view.kept()[i]
    for i in rows["FP"]:
        assert label not in view.actual[i] and label in view.kept()[i]
    outcomes = label_outcomes(view.sets, view.threshold, label, mask)
    assert outcomes.dtype == np.int8 and (outcomes == OUTSIDE).sum() == view.n_rows - len(in_view)


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_the_rows_of_every_matrix_cell_are_as_many_as_its_count(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    matrix = multilabel_confusion(view.sets, view.threshold, view.n_labels, mask, labels)
    k = view.n_labels
    for a in range(-1, k):
        for p in range(-1, k):
            rows = cell_rows(view.sets, view.threshold, k, a, p, mask, labels)
            assert len(rows) == matrix[a if a >= 0 else k, p if p >= 0 else k], (a, p)
            assert rows.dtype == np.int64 and (np.diff(rows) > 0).all()
            for i in rows:
                assert mask is None or mask[i]
                assert a < 0 or a in view.actual[i]
                assert p < 0 or p in view.kept()[i]


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_exact_match_rows_flag_the_rows_whose_sets_are_equal(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    flags = exact_match_rows(view.sets, view.threshold, view.n_labels, mask, labels)
    chosen = set(range(view.n_labels)) if labels is None else set(labels)
    expected = [
        (mask is None or bool(mask[i]))
        and set(view.actual[i]) & chosen == set(view.kept()[i]) & chosen
        for i in range(view.n_rows)
    ]
    assert flags.dtype == np.bool_ and flags.tolist() == expected
    assert int(flags.sum()) == view.counts(mask, labels).summary.correct


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_label_confidence_is_the_predicted_labels_confidence_or_zero(
    data: st.DataObject, view: MultilabelView
) -> None:
    label = data.draw(st.integers(0, view.n_labels - 1))
    got = label_confidence(view.sets, label)
    expected = [
        float(np.float32(dict(zip(p, c, strict=True)).get(label, 0.0)))
        for p, c in zip(view.predicted, view.confidence, strict=True)
    ]
    assert got.dtype == np.float32 and got.tolist() == expected


@st.composite
def row_tests(draw: st.DrawFn, n_labels: int) -> RowTests:
    """Any combination of tests, each on or off."""
    codes = st.none() | st.integers(0, n_labels - 1)
    flags = st.none() | st.booleans()
    return RowTests(
        actual_has=draw(codes), actual_lacks=draw(codes), actual_empty=draw(flags),
        predicted_has=draw(codes), predicted_lacks=draw(codes),
        predicted_empty=draw(flags), exact=draw(flags),
    )


def naive_match(view: MultilabelView, tests: RowTests, i: int, chosen: set[int]) -> bool:
    a, p = set(view.actual[i]) & chosen, set(view.kept()[i]) & chosen
    checks = (
        (tests.actual_has, lambda: tests.actual_has in a),
        (tests.actual_lacks, lambda: tests.actual_lacks not in a),
        (tests.actual_empty, lambda: (not a) == tests.actual_empty),
        (tests.predicted_has, lambda: tests.predicted_has in p),
        (tests.predicted_lacks, lambda: tests.predicted_lacks not in p),
        (tests.predicted_empty, lambda: (not p) == tests.predicted_empty),
        (tests.exact, lambda: (a == p) == tests.exact),
    )
    return all(check() for value, check in checks if value is not None)


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_match_rows_runs_every_test_on_the_filters_labels(
    data: st.DataObject, view: MultilabelView
) -> None:
    tests = data.draw(row_tests(view.n_labels))
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    chosen = set(range(view.n_labels)) if labels is None else set(labels)
    flags = match_rows(view.sets, view.threshold, view.n_labels, tests, mask, labels)
    expected = [
        (mask is None or bool(mask[i])) and naive_match(view, tests, i, chosen)
        for i in range(view.n_rows)
    ]
    assert flags.dtype == np.bool_ and flags.tolist() == expected


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_a_labels_tp_fp_fn_tn_tests_match_as_many_rows_as_it_counts(
    data: st.DataObject, view: MultilabelView
) -> None:
    label = data.draw(st.integers(0, view.n_labels - 1))
    mask = data.draw(masks(view.n_rows))
    c = view.counts(mask).label_counts([label])
    cases = {
        "tp": RowTests(actual_has=label, predicted_has=label),
        "fp": RowTests(actual_lacks=label, predicted_has=label),
        "fn": RowTests(actual_has=label, predicted_lacks=label),
        "tn": RowTests(actual_lacks=label, predicted_lacks=label),
    }
    for name, tests in cases.items():
        flags = match_rows(view.sets, view.threshold, view.n_labels, tests, mask)
        assert flags.sum() == getattr(c, name)[0], name


def test_a_label_code_outside_the_labels_is_refused() -> None:
    with pytest.raises(ValueError, match="label codes"):
        match_rows(LabelSets.from_lists([[0]], [[0]]), 0.5, 1, RowTests(actual_has=1))


@SETTINGS
@given(view=multilabel_views())
def test_top_confidence_is_the_highest_kept_confidence_or_zero(view: MultilabelView) -> None:
    got = top_confidence(view.sets, view.threshold)
    expected = [
        max((np.float32(c) for c in conf if kept(c, view.threshold)), default=np.float32(0))
        for conf in view.confidence
    ]
    assert got.dtype == np.float32 and got.tolist() == [float(v) for v in expected]


def test_an_unknown_outcome_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="outcome has to be one of"):
        label_outcome_rows(LabelSets.from_lists([[0]], [[0]]), 0.5, 0, "CORRECT")


# --- ranking, thresholds, histogram ----------------------------------------------


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


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_counts_at_many_thresholds_equal_the_counts_at_each(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
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
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(masks(view.n_rows))
    chosen = set(range(view.n_labels)) if labels is None else set(labels)
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
    import evalql.engine.multilabel as multilabel

    monkeypatch.setattr(multilabel, "INDEX_CHECKPOINT_BYTES", 16)
    assert LabelSetIndex.build(LabelSets.from_lists([[0]], [[0]]), 40) is None


# --- invariances, chunking and inputs -----------------------------------------


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_row_order_and_order_within_a_row_do_not_change_the_counts(
    data: st.DataObject, view: MultilabelView
) -> None:
    order = data.draw(st.permutations(range(view.n_rows)))
    reversed_rows = [list(reversed(row)) for row in view.predicted]
    reversed_conf = [list(reversed(row)) for row in view.confidence]
    shuffled = MultilabelView(
        [list(reversed(view.actual[i])) for i in order],
        [reversed_rows[i] for i in order],
        [reversed_conf[i] for i in order],
        view.threshold,
        view.n_labels,
    )
    a, b = view.counts(), shuffled.counts()
    for name in ("tp", "support", "predicted"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.summary == b.summary
    np.testing.assert_array_equal(
        multilabel_confusion(view.sets, view.threshold, view.n_labels),
        multilabel_confusion(shuffled.sets, shuffled.threshold, shuffled.n_labels),
    )


@SETTINGS
@given(view=multilabel_views(), chunks=st.integers(1, 9))
def test_every_cut_of_the_rows_into_ranges_gives_the_same_counts(
    view: MultilabelView, chunks: int
) -> None:
    # Calls the kernels range by range, so merging the ranges' results is
    # exercised even on a machine with one core, and with more ranges than rows.
    n = view.n_rows
    bounds = chunk_bounds(n, chunks)

    def each_range(kernel: Callable[..., Any], *args: Any) -> tuple[list[Any], Any]:
        return [kernel(*args, lo, hi) for lo, hi in bounds], kernel(*args, 0, n)

    def assert_summed(kernel: Callable[..., Any], *args: Any) -> None:
        parts, whole = each_range(kernel, *args)
        for i, one in enumerate(whole):
            np.testing.assert_array_equal(sum(part[i] for part in parts), one)

    def assert_joined(kernel: Callable[..., Any], *args: Any) -> None:
        parts, whole = each_range(kernel, *args)
        np.testing.assert_array_equal(np.concatenate(parts), whole)

    arrays = _arrays(view.sets)
    mask = row_mask(np.arange(n) % 3 != 0, n)
    selected = _selected(np.arange(0, view.n_labels, 2), view.n_labels)
    threshold = as_threshold(view.threshold)
    assert_summed(_multilabel_scan, *arrays, threshold, view.n_labels, selected, *mask, True)
    exact = frozen(RowTests(exact=True).array(), np.int64)
    assert_joined(_match_sets, *arrays, threshold, view.n_labels, selected, exact, *mask)
    assert_joined(_label_outcomes, *arrays, threshold, np.int32(0), *mask)
    assert_joined(_label_confidence, *arrays[2:], np.int32(0))
    assert_joined(_top_confidence, arrays[2], arrays[4], threshold)
    t = _thresholds(np.sort([0.0, 0.5, view.threshold, 1.0]))
    assert_summed(_multilabel_curve, *arrays, t, _lookup(t), view.n_labels, selected, *mask)
    edges = frozen(np.linspace(0, 1, 4), np.float32)
    pairs = (*arrays, edges, _scale(edges), view.n_labels, selected, *mask)
    parts, whole = each_range(_pair_histogram, *pairs)
    np.testing.assert_array_equal(sum(parts), whole)


def random_sets(n_rows: int, n_labels: int, seed: int) -> tuple[LabelSets, np.ndarray, np.ndarray]:
    """About two labels a row on each side, with indicator matrices Y and the
    predicted confidences (0 where not predicted) as a vectorised reference."""
    rng = np.random.default_rng(seed)
    y = rng.random((n_rows, n_labels)) < 2 / n_labels
    predicted = rng.random((n_rows, n_labels)) < 2 / n_labels
    ties = rng.choice(np.array(ROUND_VALUES, dtype=np.float32), (n_rows, n_labels))
    uniform = rng.random((n_rows, n_labels), dtype=np.float32)
    confidence = np.where(rng.random((n_rows, n_labels)) < 0.5, ties, uniform)
    confidence = np.where(predicted, confidence, np.float32(0))

    def csr(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = np.nonzero(present)
        offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int64)
        return offsets, cols.astype(np.int32)

    actual_offsets, actual_codes = csr(y)
    predicted_offsets, predicted_codes = csr(predicted)
    sets = LabelSets(
        actual_offsets, actual_codes, predicted_offsets, predicted_codes,
        confidence[predicted].astype(np.float32),
    )
    return sets, y, np.where(predicted, confidence, np.float32(-1))


@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.7, 1.0, 0.3141])
def test_large_inputs_use_several_chunks_and_equal_a_vectorised_reference(
    threshold: float,
) -> None:
    n_rows = 30_000 if JIT_DISABLED else 100_003
    sets, y, confidence = random_sets(n_rows, n_labels=7, seed=7)
    assert JIT_DISABLED or n_chunks(n_rows) == CORES  # plain Python scans fewer rows
    mask = np.random.default_rng(8).random(n_rows) < 0.6
    p = confidence >= np.float32(threshold)
    counts = multilabel_counts(sets, threshold, 7, mask)
    ym, pm = y[mask], p[mask]
    np.testing.assert_array_equal(counts.tp, (ym & pm).sum(axis=0))
    np.testing.assert_array_equal(counts.support, ym.sum(axis=0))
    np.testing.assert_array_equal(counts.predicted, pm.sum(axis=0))
    assert counts.summary.total == mask.sum()
    assert counts.summary.correct == (ym == pm).all(axis=1).sum()
    assert counts.summary.predicted == pm.any(axis=1).sum()
    exact = exact_match_rows(sets, threshold, 7, mask)
    np.testing.assert_array_equal(exact, mask & (y == p).all(axis=1))
    outcomes = np.where(y[:, 2], np.where(p[:, 2], TP, FN), np.where(p[:, 2], FP, TN))
    np.testing.assert_array_equal(label_outcomes(sets, threshold, 2, mask),
                                  np.where(mask, outcomes, OUTSIDE))
    np.testing.assert_array_equal(label_confidence(sets, 2), np.maximum(confidence[:, 2], 0))
    top = np.where(p, confidence, 0).max(axis=1).astype(np.float32)
    np.testing.assert_array_equal(top_confidence(sets, threshold), top)


def test_read_only_arrays_are_accepted_as_arrow_hands_them_over() -> None:
    sets, y, confidence = random_sets(500, 4, seed=1)
    for array in vars(sets).values():
        array.flags.writeable = False
    mask = np.ones(500, dtype=np.bool_)
    mask.flags.writeable = False
    counts = multilabel_counts(sets, 0.5, 4, mask)
    np.testing.assert_array_equal(counts.support, y.sum(axis=0))
    assert multilabel_confusion(sets, 0.5, 4, mask).shape == (5, 5)
    assert exact_match_rows(sets, 0.5, 4, mask).shape == (500,)
    assert label_outcomes(sets, 0.5, 1, mask).shape == (500,)
    assert label_confidence(sets, 1).shape == (500,)


def test_columns_of_the_wrong_shape_are_refused() -> None:
    good = LabelSets.from_lists([[0]], [[0]], [[0.5]])
    with pytest.raises(ValueError, match="same length"):
        multilabel_counts(LabelSets(*list(vars(good).values())[:4], np.ones(2)), 0.5, 1)
    short = LabelSets(np.zeros(3, np.int64), *list(vars(good).values())[1:])
    with pytest.raises(ValueError, match="offsets"):
        multilabel_confusion(short, 0.5, 1)
    beyond = LabelSets(np.array([0, 5]), *list(vars(good).values())[1:])
    with pytest.raises(ValueError, match="within"):
        exact_match_rows(beyond, 0.5, 1)
    with pytest.raises(ValueError, match="mask"):
        multilabel_counts(good, 0.5, 1, mask=np.ones(3, dtype=np.bool_))
    with pytest.raises(ValueError, match="label codes"):
        multilabel_counts(good, 0.5, 1, labels=[1])


@pytest.mark.skipif(not JIT_DISABLED, reason="only meaningful with NUMBA_DISABLE_JIT=1")
def test_with_the_jit_disabled_the_kernels_are_plain_python_functions() -> None:
    for kernel in (_multilabel_scan, _match_sets):
        assert not isinstance(kernel, numba.core.dispatcher.Dispatcher)


@pytest.mark.skipif(JIT_DISABLED, reason="already running as plain Python")
def test_kernels_pass_these_tests_as_plain_python_with_the_jit_disabled() -> None:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    command = "-m pytest tests/engine/test_multilabel.py -q -p no:cacheprovider -rs".split()
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "already running as plain Python" in skipped[0], result.stdout
