"""engine.confusion against the naive reference and a NumPy bincount reference."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from evalql.engine.arrays import RowTest, pack_mask, row_test
from evalql.engine.confusion import (
    _confusion_counts,
    _label_totals,
    as_threshold,
    confusion_counts,
    kept_predictions,
    label_totals,
)
from evalql.engine.jit import CORES, chunk_bounds, map_ranges, n_chunks
from evalql.engine.metrics import Totals
from tests.engine.strategies import ROUND_VALUES, SETTINGS, View, views
from tests.naive import naive_confusion


def bincount_confusion(view: View, mask: np.ndarray | None = None) -> np.ndarray:
    """The same counts, vectorised with NumPy: a second, independent reference."""
    k = view.n_labels
    kept = view.confidence >= np.float32(view.threshold)
    a = np.where(view.actual < 0, k, view.actual).astype(np.int64)
    p = np.where((view.predicted < 0) | ~kept, k, view.predicted).astype(np.int64)
    if mask is not None:
        a, p = a[mask], p[mask]
    return np.bincount(a * (k + 1) + p, minlength=(k + 1) ** 2).reshape(k + 1, k + 1)


def large_view(n_rows: int, n_labels: int, threshold: float, seed: int) -> View:
    rng = np.random.default_rng(seed)
    ties = rng.choice(np.array(ROUND_VALUES, dtype=np.float32), n_rows)
    uniform = rng.random(n_rows, dtype=np.float32)
    return View(
        actual=rng.integers(-1, n_labels, n_rows, dtype=np.int32),
        predicted=rng.integers(-1, n_labels, n_rows, dtype=np.int32),
        confidence=np.where(rng.random(n_rows) < 0.5, ties, uniform),
        threshold=threshold,
        n_labels=n_labels,
    )


@SETTINGS
@given(view=views())
def test_confusion_counts_equal_the_naive_reference(view: View) -> None:
    expected = naive_confusion(
        view.actual, view.predicted, view.confidence, view.threshold, view.n_labels
    )
    counts = view.counts()
    assert counts.dtype == np.int64
    assert counts.tolist() == expected


@SETTINGS
@given(data=st.data(), view=views())
def test_masked_confusion_counts_equal_the_naive_reference(data: st.DataObject, view: View) -> None:
    mask = data.draw(hnp.arrays(np.bool_, view.actual.shape[0]))
    expected = naive_confusion(
        view.actual, view.predicted, view.confidence, view.threshold, view.n_labels, mask
    )
    assert view.counts(mask).tolist() == expected


@SETTINGS
@given(data=st.data(), view=views())
def test_row_order_does_not_change_the_counts(data: st.DataObject, view: View) -> None:
    order = np.array(data.draw(st.permutations(range(view.actual.shape[0]))), dtype=np.intp)
    mask = data.draw(hnp.arrays(np.bool_, view.actual.shape[0]))
    shuffled = dataclasses.replace(
        view,
        actual=view.actual[order],
        predicted=view.predicted[order],
        confidence=view.confidence[order],
    )
    np.testing.assert_array_equal(shuffled.counts(), view.counts())
    np.testing.assert_array_equal(shuffled.counts(mask[order]), view.counts(mask))


@SETTINGS
@given(view=views(), chunks=st.integers(1, 9))
def test_every_chunking_of_the_rows_gives_the_same_counts(view: View, chunks: int) -> None:
    # Calls the kernels directly, so the multi-chunk reduction is exercised
    # even on a machine with one thread, and with more chunks than rows.
    t = as_threshold(view.threshold)
    mask = np.arange(view.actual.shape[0]) % 3 != 0
    args = (view.actual, view.predicted, view.confidence, t, view.n_labels)
    bounds = chunk_bounds(view.actual.shape[0], chunks)
    unmasked = sum(map_ranges(_confusion_counts, bounds, *args, *row_test(None, len(mask))))
    np.testing.assert_array_equal(unmasked, bincount_confusion(view))
    masked = sum(map_ranges(_confusion_counts, bounds, *args, *row_test(mask, len(mask))))
    np.testing.assert_array_equal(masked, bincount_confusion(view, mask))


@pytest.mark.parametrize("threshold", [0.0, 0.25, 0.5, 0.7, 0.7000001, 1.0, 0.3141])
def test_large_arrays_use_several_chunks_and_equal_a_bincount(threshold: float) -> None:
    view = large_view(n_rows=100_003, n_labels=7, threshold=threshold, seed=7)
    assert n_chunks(view.actual.shape[0]) == CORES
    mask = np.random.default_rng(8).random(view.actual.shape[0]) < 0.6
    np.testing.assert_array_equal(view.counts(), bincount_confusion(view))
    np.testing.assert_array_equal(view.counts(mask), bincount_confusion(view, mask))


def test_docstring_example_holds() -> None:
    counts = confusion_counts([0, 1], [0, 0], [0.9, 0.2], 0.5, 2)
    assert counts.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]


def test_a_confidence_written_as_0_7_is_kept_at_threshold_0_7() -> None:
    # float64 inputs, as a user writes them; the engine stores them as float32.
    # The trap: float32(0.7) widened back to float64 is below 0.7, so a kernel
    # comparing against an unrounded float64 threshold would abstain.
    assert float(np.float32(0.7)) < 0.7
    counts = confusion_counts([0], [0], [0.7], 0.7, 1)
    assert counts.tolist() == [[1, 0], [0, 0]]
    assert confusion_counts([0], [0], [0.7], 0.70001, 1).tolist() == [[0, 1], [0, 0]]


def test_threshold_zero_keeps_every_prediction_even_at_confidence_zero() -> None:
    counts = confusion_counts([0, 1, -1], [1, 1, 0], [0.0, 0.0, 0.0], 0.0, 2)
    assert counts.tolist() == [[0, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_abstentions_go_to_the_none_column_and_unlabeled_rows_to_the_none_row() -> None:
    actual = [0, 0, -1, -1, 1]
    predicted = [0, 1, 1, -1, -1]
    confidence = [0.9, 0.1, 0.9, 0.9, 0.9]
    counts = confusion_counts(actual, predicted, confidence, 0.5, 2)
    assert counts.tolist() == [
        # predicted 0, 1, None
        [1, 0, 1],  # actual 0: one right, one abstained
        [0, 0, 1],  # actual 1: no prediction at all
        [0, 1, 1],  # actual None: one FP of label 1, one row with nothing
    ]


def test_read_only_arrays_are_accepted_as_arrow_hands_them_over() -> None:
    view = large_view(n_rows=500, n_labels=3, threshold=0.5, seed=1)
    mask = np.ones(500, dtype=np.bool_)
    for array in (view.actual, view.predicted, view.confidence, mask):
        array.flags.writeable = False
    np.testing.assert_array_equal(view.counts(), bincount_confusion(view))
    np.testing.assert_array_equal(view.counts(mask), bincount_confusion(view))


def test_an_empty_view_has_an_all_zero_matrix() -> None:
    empty_int = np.zeros(0, dtype=np.int32)
    empty_float = np.zeros(0, dtype=np.float32)
    assert confusion_counts(empty_int, empty_int, empty_float, 0.5, 3).tolist() == [[0] * 4] * 4
    view = large_view(n_rows=50, n_labels=3, threshold=0.5, seed=2)
    nothing = np.zeros(50, dtype=np.bool_)
    assert view.counts(nothing).tolist() == [[0] * 4] * 4


def test_as_threshold_rounds_to_float32() -> None:
    assert as_threshold(0.7) == np.float32(0.7)
    assert isinstance(as_threshold(0.7), np.float32)


@SETTINGS
@given(views(), st.booleans())
def test_label_totals_equal_the_sums_of_the_confusion_matrix(view: View, masked: bool) -> None:
    mask = (np.arange(len(view.actual)) % 3 != 0) if masked else None
    expected = Totals.of_matrix(view.counts(mask))
    got = label_totals(
        view.actual, view.predicted, view.confidence, view.threshold, view.n_labels, mask
    )
    for name in ("tp", "actual", "predicted", "abstained"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)


def test_kept_predictions_follow_the_kernels_rule() -> None:
    # The docstring's example, and the rule at large against the matrix.
    assert kept_predictions([0, 1, -1], [0.9, 0.2, 1.0], 0.5).tolist() == [True, False, False]
    view = large_view(n_rows=500, n_labels=3, threshold=0.7, seed=4)
    kept = kept_predictions(view.predicted, view.confidence, view.threshold)
    assert kept.sum() == view.counts()[:, :-1].sum()


@SETTINGS
@given(data=st.data(), view=views(), n_values=st.integers(1, 6), with_bits=st.booleans())
def test_a_row_test_counts_the_rows_of_its_mask(
    data: st.DataObject, view: View, n_values: int, with_bits: bool
) -> None:
    """The filter tested inside the scan (dictionary codes through a lookup
    table, and a bitset) counts what the bool-mask path counts."""
    n = view.actual.shape[0]
    codes = data.draw(hnp.arrays(np.int32, n, elements=st.integers(0, n_values - 1)))
    keep = data.draw(hnp.arrays(np.bool_, n_values))
    others = data.draw(hnp.arrays(np.bool_, n)) if with_bits else np.ones(n, dtype=bool)
    test = RowTest(codes=codes, keep=keep, bits=pack_mask(others) if with_bits else None)
    mask = keep[codes] & others
    args = (view.actual, view.predicted, view.confidence, view.threshold, view.n_labels)
    expected = naive_confusion(*args, mask)
    assert confusion_counts(*args, test).tolist() == expected
    assert confusion_counts(*args, mask).tolist() == expected
    totals, masked = label_totals(*args, test), label_totals(*args, mask)
    for name in ("tp", "actual", "predicted", "abstained"):
        np.testing.assert_array_equal(getattr(totals, name), getattr(masked, name))


@pytest.mark.parametrize("chunks", [1, 2, 3])
def test_a_row_test_holds_across_row_ranges(chunks: int) -> None:
    view = large_view(n_rows=100_003, n_labels=7, threshold=0.5, seed=9)
    rng = np.random.default_rng(10)
    codes = rng.integers(0, 4, view.actual.shape[0]).astype(np.int32)
    keep = np.array([False, True, True, False])
    others = rng.random(view.actual.shape[0]) < 0.7
    args = (view.actual, view.predicted, view.confidence, np.float32(0.5), view.n_labels)
    bounds = chunk_bounds(view.actual.shape[0], chunks)
    test = RowTest(codes=codes, keep=keep, bits=pack_mask(others))
    counts = sum(map_ranges(_confusion_counts, bounds, *args, *row_test(test, len(codes))))
    np.testing.assert_array_equal(counts, bincount_confusion(view, keep[codes] & others))


def test_a_code_outside_the_table_stays_inside_it() -> None:
    """Codes are not checked one by one (that would be a mask pass); the
    kernel masks them into its padded table, so a bad code never reads
    outside it."""
    test = RowTest(codes=np.array([0, 7, -1], np.int32), keep=np.array([True, True, False]))
    counts = confusion_counts([0, 1, 1], [0, 0, 0], [0.9, 0.2, 0.9], 0.5, 2, test)
    assert counts[0, 0] == 1 and counts.sum() <= 3


@SETTINGS
@given(data=st.data(), view=views(), bounds=st.tuples(st.integers(-5, 5), st.integers(-5, 5)))
def test_a_range_tested_inside_the_scan_counts_the_rows_of_its_mask(
    data: st.DataObject, view: View, bounds: tuple[int, int]
) -> None:
    n = view.actual.shape[0]
    values = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-6, 6)))
    codes = data.draw(hnp.arrays(np.int32, n, elements=st.integers(0, 2)))
    keep = np.array([True, False, True])
    low, high = bounds
    test = RowTest(codes=codes, keep=keep, values=values, low=low, high=high)
    mask = keep[codes] & (values >= low) & (values <= high)
    args = (view.actual, view.predicted, view.confidence, view.threshold, view.n_labels)
    assert confusion_counts(*args, test).tolist() == naive_confusion(*args, mask)
    np.testing.assert_array_equal(label_totals(*args, test).actual, label_totals(*args, mask).actual)


@pytest.mark.parametrize("n_labels", [2, 40])
@pytest.mark.parametrize("n_values", [3, 64, 65, 300])
@pytest.mark.parametrize("cuts", [(), (1,), (777,), (1024, 2049), (63, 64, 65, 5000)])
def test_a_row_test_counts_its_mask_across_blocks_and_ranges(
    n_labels: int, n_values: int, cuts: tuple[int, ...]
) -> None:
    """The matrix kernel counts a block of rows at a time, a code table of
    up to 64 entries as a word and a larger one as a table, and a bitset a
    word at a time when a block starts on one, a small matrix in 4 copies (K
    = 2) and a larger one in one (K = 40): every way gives the mask's counts,
    whatever the ranges' cuts (blocks not starting on a word included)."""
    view = large_view(n_rows=6_001, n_labels=n_labels, threshold=0.5, seed=11)
    rng = np.random.default_rng(n_values)
    n = view.actual.shape[0]
    codes = rng.integers(0, n_values, n).astype(np.int32)
    keep = rng.random(n_values) < 0.4
    others = rng.random(n) < 0.8
    values = rng.integers(0, 100, n).astype(np.int64)
    edges = [0, *cuts, n]
    bounds = list(zip(edges[:-1], edges[1:], strict=True))
    args = (view.actual, view.predicted, view.confidence, np.float32(0.5), view.n_labels)
    tests = {
        "codes": (RowTest(codes=codes, keep=keep), keep[codes]),
        "bits": (RowTest(bits=pack_mask(others)), others),
        "range": (RowTest(values=values, low=10, high=70), (values >= 10) & (values <= 70)),
        "all": (RowTest(codes=codes, keep=keep, bits=pack_mask(others), values=values, low=10,
                        high=70), keep[codes] & others & (values >= 10) & (values <= 70)),
        "none": (None, np.ones(n, dtype=bool)),
    }
    for name, (test, mask) in tests.items():
        counts = sum(map_ranges(_confusion_counts, bounds, *args, *row_test(test, n)))
        np.testing.assert_array_equal(counts, bincount_confusion(view, mask), err_msg=name)


@pytest.mark.parametrize("n_values", [3, 64, 65, 300])
@pytest.mark.parametrize("cuts", [(), (1,), (777,), (1024, 2049), (63, 64, 65, 5000)])
def test_label_totals_are_the_matrix_s_sums_across_blocks_ranges_and_row_tests(
    n_values: int, cuts: tuple[int, ...]
) -> None:
    """The totals kernel counts a block of rows at a time as the matrix
    kernel does: every filter kind and range cut gives the masked matrix's
    sums, runs of dropped rows and negative codes included."""
    view = large_view(n_rows=6_001, n_labels=5, threshold=0.5, seed=12)
    rng = np.random.default_rng(n_values + 1)
    n = view.actual.shape[0]
    codes = rng.integers(0, n_values, n).astype(np.int32)
    keep = rng.random(n_values) < 0.4
    others = rng.random(n) < 0.8
    others[2000:3500] = False  # a long run of dropped rows
    values = rng.integers(0, 100, n).astype(np.int64)
    edges = [0, *cuts, n]
    bounds = list(zip(edges[:-1], edges[1:], strict=True))
    args = (view.actual, view.predicted, view.confidence, np.float32(0.5), view.n_labels)
    tests = {
        "codes": (RowTest(codes=codes, keep=keep), keep[codes]),
        "bits": (RowTest(bits=pack_mask(others)), others),
        "range": (RowTest(values=values, low=10, high=70), (values >= 10) & (values <= 70)),
        "all": (RowTest(codes=codes, keep=keep, bits=pack_mask(others), values=values, low=10,
                        high=70), keep[codes] & others & (values >= 10) & (values <= 70)),
        "none": (None, np.ones(n, dtype=bool)),
    }
    for name, (test, mask) in tests.items():
        sums = sum(map_ranges(_label_totals, bounds, *args, *row_test(test, n)))
        expected = Totals.of_matrix(bincount_confusion(view, mask))
        np.testing.assert_array_equal(sums[0, :-1], expected.tp, err_msg=name)
        np.testing.assert_array_equal(sums[1], expected.actual, err_msg=name)
        np.testing.assert_array_equal(sums[2], expected.predicted, err_msg=name)
        np.testing.assert_array_equal(sums[3], expected.abstained, err_msg=name)


def test_a_matrix_too_large_for_its_cell_indices_is_refused() -> None:
    """Cell indices are 32-bit: (K+1)^2 past that is refused before any
    counter is allocated (such a matrix would not fit in memory anyway)."""
    with pytest.raises(ValueError, match="too many"):
        confusion_counts([0], [0], [0.9], 0.5, 70_000)
