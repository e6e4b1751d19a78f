"""engine.multilabel.rows: the drill-down's rows against a plain reading of
the label sets, and as many as the counts say."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.arrays import frozen, row_mask
from evalql.engine.confusion import as_threshold
from evalql.engine.jit import CORES, n_chunks
from evalql.engine.multilabel.columns import LabelSets, csr_arrays, filter_flags
from evalql.engine.multilabel.counts import multilabel_confusion
from evalql.engine.multilabel.rows import (
    FN,
    FP,
    OUTCOMES,
    OUTSIDE,
    TN,
    TP,
    RowTests,
    _label_confidence,
    _label_outcomes,
    _match_sets,
    _top_confidence,
    cell_rows,
    exact_match_rows,
    label_confidence,
    label_outcome_rows,
    label_outcomes,
    match_rows,
    top_confidence,
)
from tests.engine.multilabel.sets import (
    JIT_DISABLED,
    SETTINGS,
    MultilabelView,
    assert_joined,
    masks,
    multilabel_views,
    random_sets,
)
from tests.engine.strategies import class_filters
from tests.naive import kept


def test_the_outcome_rows_docstring_example_holds() -> None:
    simple = LabelSets.from_lists([[0], [1], []], [[0], [0], []])
    rows = {o: label_outcome_rows(simple, 0.0, 0, o).tolist() for o in OUTCOMES}
    assert rows == {"TP": [0], "FP": [1], "FN": [], "TN": [2]}


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


@SETTINGS
@given(view=multilabel_views(), chunks=st.integers(1, 9))
def test_every_cut_of_the_rows_into_ranges_gives_the_same_rows(
    view: MultilabelView, chunks: int
) -> None:
    n = view.n_rows
    arrays = csr_arrays(view.sets)
    mask = row_mask(np.arange(n) % 3 != 0, n)
    selected = filter_flags(np.arange(0, view.n_labels, 2), view.n_labels)
    threshold = as_threshold(view.threshold)
    exact = frozen(RowTests(exact=True).array(), np.int64)
    assert_joined(_match_sets, n, chunks, *arrays, threshold, view.n_labels, selected, exact,
                  *mask)
    assert_joined(_label_outcomes, n, chunks, *arrays, threshold, np.int32(0), *mask)
    assert_joined(_label_confidence, n, chunks, *arrays[2:], np.int32(0))
    assert_joined(_top_confidence, n, chunks, arrays[2], arrays[4], threshold)


@pytest.mark.parametrize("threshold", [0.0, 0.5, 0.7, 1.0, 0.3141])
def test_large_inputs_use_several_chunks_and_flag_as_a_vectorised_reference(
    threshold: float,
) -> None:
    n_rows = 30_000 if JIT_DISABLED else 100_003
    sets, y, confidence = random_sets(n_rows, n_labels=7, seed=7)
    assert JIT_DISABLED or n_chunks(n_rows) == CORES  # plain Python scans fewer rows
    mask = np.random.default_rng(8).random(n_rows) < 0.6
    p = confidence >= np.float32(threshold)
    exact = exact_match_rows(sets, threshold, 7, mask)
    np.testing.assert_array_equal(exact, mask & (y == p).all(axis=1))
    outcomes = np.where(y[:, 2], np.where(p[:, 2], TP, FN), np.where(p[:, 2], FP, TN))
    np.testing.assert_array_equal(label_outcomes(sets, threshold, 2, mask),
                                  np.where(mask, outcomes, OUTSIDE))
    np.testing.assert_array_equal(label_confidence(sets, 2), np.maximum(confidence[:, 2], 0))
    top = np.where(p, confidence, 0).max(axis=1).astype(np.float32)
    np.testing.assert_array_equal(top_confidence(sets, threshold), top)
