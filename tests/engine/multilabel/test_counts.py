"""engine.multilabel.counts against scikit-learn on label-indicator matrices,
and the multilabel confusion matrix against the naive reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    hamming_loss,
)

from evalql.engine.metrics import accuracy, submatrix
from evalql.engine.multilabel.counts import _multilabel_scan, multilabel_counts
from tests.engine.multilabel.sets import (
    SETTINGS,
    MultilabelView,
    columns,
    filters,
    kernel_inputs,
    label_sets,
    large_view,
    multilabel_views,
)
from tests.engine.ranges import assert_summed
from tests.engine.strategies import class_filters, masks
from tests.naive import naive_multilabel_confusion
from tests.oracle import assert_averages_match, assert_outcomes_match, assert_per_label_matches

# --- per label and averages against scikit-learn -----------------------------


@SETTINGS
@given(data=st.data(), view=multilabel_views(min_rows=1))
def test_per_label_counts_values_and_averages_match_scikit_learn(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels, mask = data.draw(filters(view, optional=False))
    assume(view.rows(mask))
    c = view.counts(mask).label_counts(labels)
    y, p = view.indicators(mask)
    assert c.n == len(view.rows(mask))
    assert_outcomes_match(c, y, p, labels)
    assert_per_label_matches(c, y, p, labels)
    assert_averages_match(c, y, p, labels)


# --- row level against scikit-learn ------------------------------------------


@SETTINGS
@given(data=st.data(), view=multilabel_views(min_rows=1))
def test_hamming_score_and_subset_accuracy_match_scikit_learn(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels, mask = data.draw(filters(view))
    assume(view.rows(mask))
    summary = view.counts(mask, labels).summary
    y, p = view.indicators(mask)
    chosen = sorted(view.chosen(labels))
    expected_loss = hamming_loss(columns(y, chosen), columns(p, chosen))
    assert summary.hamming_score == pytest.approx(1 - expected_loss, rel=0, abs=1e-12)
    assert summary.accuracy == summary.hamming_score
    expected_subset = accuracy_score(columns(y, chosen), columns(p, chosen))
    assert summary.subset_accuracy == pytest.approx(expected_subset, rel=0, abs=1e-12)


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_total_predicted_and_exact_rows_count_as_the_spec_says(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels, mask = data.draw(filters(view))
    counts = view.counts(mask, labels)
    summary = counts.summary
    chosen = view.chosen(labels)
    in_view = view.rows(mask)
    actual = [set(view.actual[i]) & chosen for i in in_view]
    answers = [set(view.kept()[i]) & chosen for i in in_view]
    assert summary.total == counts.total == len(in_view)
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
    sets = label_sets([[], [], [0]], [[], [1], [0]], [[], [0.2], [0.9]])
    summary = multilabel_counts(sets, 0.5, 2).summary
    # Row 1's only prediction is dropped at t = 0.5, which makes it exact too.
    assert (summary.total, summary.predicted, summary.correct) == (3, 1, 3)
    assert summary.answered_correct == 1
    assert summary.subset_accuracy == 1.0 and summary.selective_accuracy == 1.0
    assert summary.hamming_score == 1.0 and summary.coverage == pytest.approx(1 / 3)


def test_an_empty_view_has_zero_counts_and_undefined_ratios() -> None:
    sets = label_sets([[0], [1]], [[0], [0]])
    counts = multilabel_counts(sets, 0.5, 2, mask=np.zeros(2, dtype=np.bool_))
    assert counts.tp.tolist() == counts.support.tolist() == counts.predicted.tolist() == [0, 0]
    summary = counts.summary
    assert (summary.total, summary.predicted, summary.correct) == (0, 0, 0)
    for ratio in ("coverage", "subset_accuracy", "hamming_score", "selective_accuracy"):
        assert np.isnan(getattr(summary, ratio)), ratio
    no_rows = label_sets([], [])
    nothing = multilabel_counts(no_rows, 0.5, 3, matrix=True)
    assert nothing.summary.total == 0
    assert nothing.matrix is not None and nothing.matrix.tolist() == [[0] * 4] * 4


def test_an_empty_class_filter_makes_every_row_exact_and_the_hamming_score_undefined() -> None:
    sets = label_sets([[0], [1]], [[1], []])
    summary = multilabel_counts(sets, 0.0, 2, labels=[]).summary
    assert (summary.correct, summary.predicted, summary.decisions) == (2, 0, 0)
    assert np.isnan(summary.hamming_score)


def test_the_class_filter_looks_only_at_its_labels_on_both_sides() -> None:
    # Row 0 is wrong on label 1 only: exact under the filter [0], not without it.
    sets = label_sets([[0, 1], [2]], [[0], [2]])
    assert multilabel_counts(sets, 0.0, 3).summary.correct == 1
    filtered = multilabel_counts(sets, 0.0, 3, labels=[0]).summary
    assert (filtered.correct, filtered.predicted, filtered.decisions) == (2, 1, 2)


def test_a_confidence_written_as_0_7_is_kept_at_threshold_0_7() -> None:
    assert float(np.float32(0.7)) < 0.7
    sets = label_sets([[0]], [[0]], [[0.7]])
    assert multilabel_counts(sets, 0.7, 1).tp.tolist() == [1]
    assert multilabel_counts(sets, 0.70001, 1).tp.tolist() == [0]


def test_docstring_examples_hold() -> None:
    sets = label_sets([[0, 1], []], [[1, 2], [2]], [[0.9, 0.3], [0.8]])
    counts = multilabel_counts(sets, 0.5, 3)
    assert counts.tp.tolist() == [0, 1, 0]
    assert counts.support.tolist() == [1, 1, 0]
    assert counts.predicted.tolist() == [0, 1, 1]
    summary = counts.summary
    assert (summary.total, summary.predicted, summary.correct) == (2, 2, 0)
    assert summary.hamming_score == pytest.approx(4 / 6)
    assert multilabel_counts(sets, 0.5, 3, matrix=True).matrix.tolist() == [
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
    labels, mask = data.draw(filters(view))
    expected = naive_multilabel_confusion(
        view.actual, view.predicted, view.confidence, view.threshold, view.n_labels, mask, labels
    )
    together = view.counts(mask, labels, matrix=True)
    assert together.matrix is not None and together.matrix.dtype == np.int64
    assert together.matrix.tolist() == expected
    # Counting the matrix in the same pass changes nothing else.
    alone = view.counts(mask, labels)
    assert together.summary == alone.summary and alone.matrix is None
    for name in ("tp", "support", "predicted"):
        np.testing.assert_array_equal(getattr(together, name), getattr(alone, name))


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_the_matrix_diagonal_is_tp_and_its_none_cells_are_fp_and_fn(
    data: st.DataObject, view: MultilabelView
) -> None:
    mask = data.draw(masks(view.n_rows))
    matrix = view.matrix(mask)
    c = view.counts(mask).label_counts()
    k = view.n_labels
    np.testing.assert_array_equal(np.diagonal(matrix)[:k], c.tp)
    assert (matrix[k, :k] <= c.fp).all() and (matrix[:k, k] <= c.fn).all()
    # Rows without actual labels: each kept label there is a false positive.
    unlabeled = [i for i in range(view.n_rows) if not view.actual[i] and (mask is None or mask[i])]
    for j in range(k):
        assert matrix[k, j] == sum(j in view.kept()[i] for i in unlabeled)


def test_a_class_filter_then_submatrix_keeps_the_filters_labels_and_none() -> None:
    sets = label_sets([[0, 2], [1]], [[2], [0]])
    matrix = multilabel_counts(sets, 0.0, 3, labels=[2, 0], matrix=True).matrix
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
    np.testing.assert_array_equal(view.matrix(), shuffled.matrix())


@SETTINGS
@given(view=multilabel_views(), chunks=st.integers(1, 9))
def test_every_cut_of_the_rows_into_ranges_gives_the_same_counts(
    view: MultilabelView, chunks: int
) -> None:
    k = kernel_inputs(view)
    assert_summed(_multilabel_scan, view.n_rows, chunks, *k.arrays, k.threshold, view.n_labels,
                  k.selected, *k.mask, True)


@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.7, 1.0, 0.3141])
def test_large_inputs_use_several_chunks_and_equal_a_vectorised_reference(
    threshold: float,
) -> None:
    large = large_view(threshold)
    mask = large.mask
    counts = multilabel_counts(large.sets, threshold, large.n_labels, mask)
    ym, pm = large.y[mask], large.p[mask]
    np.testing.assert_array_equal(counts.tp, (ym & pm).sum(axis=0))
    np.testing.assert_array_equal(counts.support, ym.sum(axis=0))
    np.testing.assert_array_equal(counts.predicted, pm.sum(axis=0))
    assert counts.summary.total == mask.sum()
    assert counts.summary.correct == (ym == pm).all(axis=1).sum()
    assert counts.summary.predicted == pm.any(axis=1).sum()
