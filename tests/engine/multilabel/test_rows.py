"""engine.multilabel.rows: the drill-down's rows against a plain reading of
the label sets, and as many as the counts say."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.arrays import frozen
from evalql.engine.multilabel.rows import (
    RowTests,
    _label_confidence,
    _match_sets,
    _top_confidence,
    label_confidence,
    match_rows,
    top_confidence,
    unlabeled_rows,
)
from tests.engine.multilabel.sets import (
    SETTINGS,
    MultilabelView,
    filters,
    kernel_inputs,
    label_sets,
    large_view,
    multilabel_views,
)
from tests.engine.ranges import assert_joined
from tests.engine.strategies import masks
from tests.naive import kept


def cell_tests(actual: int, predicted: int) -> RowTests:
    """The rows behind the matrix cell (actual, predicted), -1 for None, as the
    drill-down asks for them: i actual (or none of S), j kept (or none of S)."""
    return RowTests(
        actual_has=actual if actual >= 0 else None,
        actual_empty=True if actual < 0 else None,
        predicted_has=predicted if predicted >= 0 else None,
        predicted_empty=True if predicted < 0 else None,
    )


def outcome_tests(label: int) -> dict[str, RowTests]:
    """A label's TP, FP, FN and TN rows, as the drill-down asks for them."""
    return {
        "tp": RowTests(actual_has=label, predicted_has=label),
        "fp": RowTests(actual_lacks=label, predicted_has=label),
        "fn": RowTests(actual_has=label, predicted_lacks=label),
        "tn": RowTests(actual_lacks=label, predicted_lacks=label),
    }


def test_the_docstring_examples_hold() -> None:
    simple = label_sets([[0], [1], []], [[0], [0], []])
    assert match_rows(simple, 0.0, 2, RowTests(exact=True)).tolist() == [True, False, True]
    rows = {name: np.flatnonzero(match_rows(simple, 0.0, 2, tests)).tolist()
            for name, tests in outcome_tests(0).items()}
    assert rows == {"tp": [0], "fp": [1], "fn": [], "tn": [2]}
    confident = label_sets([[], [], []], [[0, 1], [0], []], [[0.9, 0.3], [0.2], []])
    assert top_confidence(confident, 0.5).tolist() == [np.float32(0.9), 0, 0]


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_a_labels_outcome_rows_match_its_counts_and_partition_the_view(
    data: st.DataObject, view: MultilabelView
) -> None:
    mask = data.draw(masks(view.n_rows))
    label = data.draw(st.integers(0, view.n_labels - 1))
    c = view.counts(mask).label_counts([label])
    flags = {
        name: match_rows(view.sets, view.threshold, view.n_labels, tests, mask)
        for name, tests in outcome_tests(label).items()
    }
    for name, found in flags.items():
        assert found.sum() == getattr(c, name)[0], name
    in_view = np.ones(view.n_rows, bool) if mask is None else mask
    # Each row of the view has exactly one outcome, a row outside it none.
    np.testing.assert_array_equal(sum(f.astype(int) for f in flags.values()), in_view)
    for i in np.flatnonzero(flags["tp"]):
        assert label in view.actual[i] and label in view.kept()[i]
    for i in np.flatnonzero(flags["fp"]):
        assert label not in view.actual[i] and label in view.kept()[i]


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_the_rows_of_every_matrix_cell_are_as_many_as_its_count(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels, mask = data.draw(filters(view))
    matrix = view.matrix(mask, labels)
    k = view.n_labels
    for a in range(-1, k):
        for p in range(-1, k):
            flags = match_rows(view.sets, view.threshold, k, cell_tests(a, p), mask, labels)
            assert flags.sum() == matrix[a if a >= 0 else k, p if p >= 0 else k], (a, p)
            for i in np.flatnonzero(flags):
                assert mask is None or mask[i]
                assert a < 0 or a in view.actual[i]
                assert p < 0 or p in view.kept()[i]


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_exact_rows_are_those_whose_sets_are_equal_and_as_many_as_counted(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels, mask = data.draw(filters(view))
    flags = match_rows(view.sets, view.threshold, view.n_labels, RowTests(exact=True), mask,
                       labels)
    chosen = view.chosen(labels)
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
    labels, mask = data.draw(filters(view))
    chosen = view.chosen(labels)
    flags = match_rows(view.sets, view.threshold, view.n_labels, tests, mask, labels)
    expected = [
        (mask is None or bool(mask[i])) and naive_match(view, tests, i, chosen)
        for i in range(view.n_rows)
    ]
    assert flags.dtype == np.bool_ and flags.tolist() == expected


def test_a_label_code_outside_the_labels_is_refused() -> None:
    with pytest.raises(ValueError, match="label codes"):
        match_rows(label_sets([[0]], [[0]]), 0.5, 1, RowTests(actual_has=1))


@SETTINGS
@given(view=multilabel_views())
def test_top_confidence_is_the_highest_kept_confidence_or_zero(view: MultilabelView) -> None:
    got = top_confidence(view.sets, view.threshold)
    expected = [
        max((np.float32(c) for c in conf if kept(c, view.threshold)), default=np.float32(0))
        for conf in view.confidence
    ]
    assert got.dtype == np.float32 and got.tolist() == [float(v) for v in expected]


@SETTINGS
@given(view=multilabel_views(), chunks=st.integers(1, 9))
def test_every_cut_of_the_rows_into_ranges_gives_the_same_rows(
    view: MultilabelView, chunks: int
) -> None:
    n, k = view.n_rows, kernel_inputs(view)
    exact = frozen(RowTests(exact=True).array(), np.int64)
    assert_joined(_match_sets, n, chunks, *k.arrays, k.threshold, view.n_labels, k.selected,
                  exact, *k.mask)
    assert_joined(_label_confidence, n, chunks, *k.arrays[2:], np.int32(0))
    assert_joined(_top_confidence, n, chunks, k.arrays[2], k.arrays[4], k.threshold)


@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.7, 1.0, 0.3141])
def test_large_inputs_use_several_chunks_and_flag_as_a_vectorised_reference(
    threshold: float,
) -> None:
    large = large_view(threshold)
    sets, y, p, confidence, mask = large.sets, large.y, large.p, large.confidence, large.mask
    exact = match_rows(sets, threshold, large.n_labels, RowTests(exact=True), mask)
    np.testing.assert_array_equal(exact, mask & (y == p).all(axis=1))
    false_positives = match_rows(sets, threshold, large.n_labels, outcome_tests(2)["fp"], mask)
    np.testing.assert_array_equal(false_positives, mask & ~y[:, 2] & p[:, 2])
    np.testing.assert_array_equal(label_confidence(sets, 2), np.maximum(confidence[:, 2], 0))
    top = np.where(p, confidence, 0).max(axis=1).astype(np.float32)
    np.testing.assert_array_equal(top_confidence(sets, threshold), top)


@SETTINGS
@given(data=st.data(), view=multilabel_views())
def test_unlabeled_rows_are_the_rows_without_an_actual_label_of_the_view(
    data: st.DataObject, view: MultilabelView
) -> None:
    labels, mask = data.draw(filters(view))
    chosen = view.chosen(labels)
    expected = sum(
        (mask is None or bool(mask[i])) and not set(view.actual[i]) & chosen
        for i in range(view.n_rows)
    )
    assert unlabeled_rows(view.sets, view.threshold, view.n_labels, mask, labels) == expected
