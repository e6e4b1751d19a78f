"""engine.calibration's exact bin sums: any cut of the rows adds up to the
same integers, so the reliability diagram is the same float for float
however a scan (its threads, a cluster's fragments) cut them."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from evalql.engine.calibration import (
    EXPONENTS,
    BinSums,
    confidence_bin_sums,
    reliability_from_confidence,
)
from tests.engine.strategies import SETTINGS, View, class_filters, views

# Any float32 in [0, 1], subnormals, 0 and 1 included.
probabilities = st.floats(0.0, 1.0, width=32, allow_subnormal=True)


def sums_of(view: View, confidence: np.ndarray, bins: int, threshold: float,
            labels: list[int] | None, mask: np.ndarray | None, lo: int, hi: int) -> BinSums:
    return confidence_bin_sums(
        view.actual[lo:hi], view.predicted[lo:hi], confidence[lo:hi], view.n_labels, bins,
        threshold, None if labels is None else np.array(labels),
        None if mask is None else mask[lo:hi],
    )


@SETTINGS
@given(data=st.data(), view=views(), bins=st.integers(1, 20),
       threshold=st.sampled_from([0.0, 0.3, 0.5]))
def test_sums_of_any_row_ranges_add_up_to_the_whole_diagram_float_for_float(
    data: st.DataObject, view: View, bins: int, threshold: float
) -> None:
    n = len(view.actual)
    confidence = data.draw(hnp.arrays(np.float32, n, elements=probabilities))
    labels = data.draw(st.none() | class_filters(view.n_labels))
    mask = data.draw(st.none() | hnp.arrays(np.bool_, n))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=4)))
    bounds = list(zip([0, *cuts], [*cuts, n], strict=True))
    whole = reliability_from_confidence(view.actual, view.predicted, confidence, view.n_labels,
                                        bins, threshold,
                                        None if labels is None else np.array(labels), mask)
    parts = [sums_of(view, confidence, bins, threshold, labels, mask, lo, hi)
             for lo, hi in bounds]
    merged = sum(parts[1:], parts[0]).diagram()
    np.testing.assert_array_equal(merged.count, whole.count)
    np.testing.assert_array_equal(merged.hits, whole.hits)
    assert merged.probability_sum.tobytes() == whole.probability_sum.tobytes()
    # The exact sums are the float sums of the bins' confidences, to float64's rounding.
    kept = whole.count.sum()
    assert np.isclose(whole.probability_sum.sum(), merged.probability_sum.sum())
    assert kept == sum(int(p.count.sum()) for p in parts)


def test_a_bin_sum_is_exact_where_a_float_sum_rounds() -> None:
    """1 + 2^-30 x 4 in one bin: a float32 running sum would drop the small
    terms; the exact sum keeps them, and its float64 is the true sum."""
    confidence = np.array([1.0, 2.0**-30, 2.0**-30, 2.0**-30, 2.0**-30], dtype=np.float32)
    n = len(confidence)
    actual = np.zeros(n, np.int32)
    sums = confidence_bin_sums(actual, actual, confidence, 1, 1)
    assert sums.significands.shape == (1, EXPONENTS)
    assert sums.probability_sum()[0] == 1.0 + 4 * 2.0**-30
    tiny = np.array([np.float32(1e-45), np.float32(0.0)], dtype=np.float32)  # a subnormal
    assert confidence_bin_sums(actual[:2], actual[:2], tiny, 1, 1).probability_sum()[0] == float(
        np.float32(1e-45))


def test_values_past_one_are_summed_exactly_too() -> None:
    """Storage keeps probabilities in [0, 1]; the engine does not rely on it
    for memory: every float32 has its exponent's column."""
    confidence = np.array([3.0, 1.5, 1e6, 2.0**40], dtype=np.float32)
    actual = np.zeros(len(confidence), np.int32)
    sums = confidence_bin_sums(actual, actual, confidence, 1, 1)
    assert sums.probability_sum()[0] == 4.5 + 1e6 + 2.0**40
