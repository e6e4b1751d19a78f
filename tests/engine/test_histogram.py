"""The confidence histogram, by scan and from the index, against a plain loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from evalql.engine.arrays import frozen
from evalql.engine.histogram import (
    _confidence_histogram,
    bin_scale,
    confidence_histogram,
    index_confidence_histogram,
)
from evalql.engine.index import ThresholdIndex
from tests.engine.ranges import assert_summed, random_columns
from tests.engine.strategies import FEW, View, views


def naive_histogram(view: View, edges: np.ndarray, actual_ok: np.ndarray) -> tuple[list, list]:
    bins = len(edges) - 1
    count, correct = [0] * bins, [0] * bins
    for a, p, c in zip(view.actual, view.predicted, view.confidence, strict=True):
        if p < 0 or not actual_ok[a if a >= 0 else view.n_labels]:
            continue
        b = next(i for i in range(bins) if c < edges[i + 1] or i == bins - 1)
        count[b] += 1
        correct[b] += int(p == a)
    return count, correct


# Edges over [0, 1]: even ones, as the API asks for, or uneven ones, where
# bin_of's first guess is off and its comparisons walk to the bin.
EDGES = st.integers(1, 12).map(lambda bins: np.linspace(0, 1, bins + 1)) | st.lists(
    st.floats(0, 1, exclude_min=True, exclude_max=True, width=32), unique=True, max_size=8
).map(lambda inner: np.array([0.0, *sorted(inner), 1.0]))


@FEW
@given(views(), EDGES, st.data())
def test_confidence_histogram_by_scan_and_by_index_agree_with_a_loop(
    view: View, edges: np.ndarray, data: st.DataObject
) -> None:
    flags = st.lists(st.booleans(), min_size=view.n_labels + 1, max_size=view.n_labels + 1)
    actual_ok = np.array(data.draw(flags), dtype=bool)
    edges = edges.astype(np.float32)
    expected = naive_histogram(view, edges, actual_ok)
    scan = confidence_histogram(view.actual, view.predicted, view.confidence, edges, actual_ok)
    index = ThresholdIndex.build(view.actual, view.predicted, view.confidence, view.n_labels)
    walked = index_confidence_histogram(index, edges, actual_ok)
    for found in (scan, walked):
        assert [c.tolist() for c in found] == [expected[0], expected[1]]


def test_a_confidence_on_an_edge_opens_the_next_bin_and_one_closes_the_last() -> None:
    confidence = np.array([0.7, 1.0, 0.0], dtype=np.float32)
    codes = np.zeros(3, dtype=np.int32)
    edges = np.linspace(0, 1, 11).astype(np.float32)
    count, _ = confidence_histogram(codes, codes, confidence, edges, np.ones(2, dtype=bool))
    assert np.flatnonzero(count).tolist() == [0, 7, 9]


@FEW
@given(st.integers(0, 300), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_every_cut_of_the_rows_into_ranges_gives_the_same_counts(
    n: int, chunks: int, seed: int
) -> None:
    c, k = random_columns(np.random.default_rng(seed), n, 3), 3
    edges32 = frozen(np.linspace(0, 1, 5), np.float32)
    assert_summed(_confidence_histogram, n, chunks, c.actual, c.predicted, c.confidence, edges32,
                  bin_scale(edges32), c.every, k, *c.mask)
