"""engine.multilabel.counts against scikit-learn on label-indicator matrices,
and the multilabel confusion matrix against the naive reference.

Every test of tests/engine/multilabel also runs as plain Python with
NUMBA_DISABLE_JIT=1 (the last test), so the kernels' lines are exercised
outside Numba too.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    hamming_loss,
    multilabel_confusion_matrix,
)

from evalql.engine.arrays import row_mask
from evalql.engine.averaging import AVERAGED_METRICS, AVERAGES, average
from evalql.engine.confusion import as_threshold
from evalql.engine.jit import CORES, n_chunks
from evalql.engine.metrics import PER_LABEL, accuracy, submatrix
from evalql.engine.multilabel.columns import LabelSets, csr_arrays, filter_flags
from evalql.engine.multilabel.counts import (
    _multilabel_scan,
    multilabel_confusion,
    multilabel_counts,
)
from tests.engine.multilabel.sets import (
    JIT_DISABLED,
    ROOT,
    SETTINGS,
    MultilabelView,
    assert_summed,
    columns,
    masks,
    multilabel_views,
    random_sets,
    rows_in_view,
    sklearn_prf,
)
from tests.engine.strategies import class_filters
from tests.naive import naive_multilabel_confusion

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
    n = view.n_rows
    mask = row_mask(np.arange(n) % 3 != 0, n)
    selected = filter_flags(np.arange(0, view.n_labels, 2), view.n_labels)
    threshold = as_threshold(view.threshold)
    assert_summed(_multilabel_scan, n, chunks, *csr_arrays(view.sets), threshold, view.n_labels,
                  selected, *mask, True)


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


@pytest.mark.skipif(not JIT_DISABLED, reason="only meaningful with NUMBA_DISABLE_JIT=1")
def test_with_the_jit_disabled_the_kernels_are_plain_python_functions() -> None:
    assert not isinstance(_multilabel_scan, numba.core.dispatcher.Dispatcher)


@pytest.mark.skipif(JIT_DISABLED, reason="already running as plain Python")
def test_kernels_pass_these_tests_as_plain_python_with_the_jit_disabled() -> None:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    command = "-m pytest tests/engine/multilabel -q -p no:cacheprovider -rs".split()
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and "already running as plain Python" in skipped[0], result.stdout
