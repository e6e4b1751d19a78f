"""engine.cells (the sparse confusion matrix) against scikit-learn and the dense kernel."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix

from evalql.engine.cells import Cells, largest_cells, rows_by_actual, sparse_confusion
from evalql.engine.confusion import confusion_counts
from tests.engine.strategies import SETTINGS, View, masks, views


def cells_of(view: View, mask: np.ndarray | None = None) -> Cells:
    groups = rows_by_actual(view.actual, view.predicted, view.confidence, view.n_labels)
    return sparse_confusion(groups, view.threshold, view.n_labels, mask)


def as_dense(cells: Cells, k: int) -> np.ndarray:
    """The (K+1)² matrix of the cells."""
    counts = np.zeros((k + 1, k + 1), dtype=np.int64)
    counts[cells.actual, cells.predicted] = cells.count
    return counts


def sklearn_matrix(actual: np.ndarray, predicted: np.ndarray, confidence: np.ndarray,
                   threshold: float, k: int) -> np.ndarray:
    """scikit-learn's confusion_matrix with None as label K."""
    kept = (predicted >= 0) & (confidence >= np.float32(threshold))
    y_true = np.where(actual < 0, k, actual)
    y_pred = np.where(kept, predicted, k)
    return confusion_matrix(y_true, y_pred, labels=np.arange(k + 1))


def test_a_thousand_labels_count_as_scikit_learn_does() -> None:
    rng = np.random.default_rng(7)
    k, n = 1_000, 20_000
    weights = 1.0 / np.arange(1, k + 1) ** 1.1
    actual = rng.choice(k, n, p=weights / weights.sum()).astype(np.int32)
    predicted = np.where(rng.random(n) < 0.7, actual, rng.integers(0, k, n)).astype(np.int32)
    actual[rng.random(n) < 0.03] = -1
    predicted[rng.random(n) < 0.03] = -1
    confidence = rng.random(n).astype(np.float32)
    groups = rows_by_actual(actual, predicted, confidence, k)
    for threshold in (0.0, 0.37, 0.9, 1.0):
        cells = sparse_confusion(groups, threshold, k)
        expected = sklearn_matrix(actual, predicted, confidence, threshold, k)
        assert (as_dense(cells, k) == expected).all()
        assert (cells.count > 0).all()
        assert len(cells.count) == np.count_nonzero(expected)


@given(views(), st.data())
@SETTINGS
def test_sparse_cells_equal_the_dense_kernel(view: View, data: st.DataObject) -> None:
    mask = data.draw(masks(len(view.actual)))
    counts = confusion_counts(view.actual, view.predicted, view.confidence, view.threshold,
                              view.n_labels, mask)
    cells = cells_of(view, mask)
    assert (as_dense(cells, view.n_labels) == counts).all()
    assert len(cells.count) == np.count_nonzero(counts)


def dense_largest(counts: np.ndarray, index: np.ndarray, min_count: int, off_diagonal: bool,
                  first: int) -> list[tuple[int, int, int]]:
    """The reference: the submatrix's cells, sorted in full."""
    sub = counts[np.ix_(index, index)]
    found = [
        (int(-sub[a, p]), a, p)
        for a in range(len(index)) for p in range(len(index))
        if sub[a, p] >= max(min_count, 1) and not (off_diagonal and a == p)
    ]
    return [(a, p, -n) for n, a, p in sorted(found)[:first]]


@given(views(), st.data())
@SETTINGS
def test_largest_cells_are_the_submatrix_cells_in_order(view: View, data: st.DataObject) -> None:
    k = view.n_labels
    chosen = data.draw(st.lists(st.integers(0, k - 1), unique=True, max_size=k)) if k else []
    index = np.array([*chosen, k], dtype=np.intp)
    min_count = data.draw(st.integers(0, 3))
    off_diagonal = data.draw(st.booleans())
    first = data.draw(st.integers(1, 12))
    cells = largest_cells(cells_of(view), index, min_count, off_diagonal, first)
    dense = confusion_counts(view.actual, view.predicted, view.confidence, view.threshold, k)
    got = list(zip(cells.actual.tolist(), cells.predicted.tolist(), cells.count.tolist(),
                   strict=True))
    assert got == dense_largest(dense, index, min_count, off_diagonal, first)


def test_no_rows_give_no_cells() -> None:
    empty = np.zeros(0, dtype=np.int32)
    groups = rows_by_actual(empty, empty, empty.astype(np.float32), 5)
    cells = sparse_confusion(groups, 0.5, 5)
    assert len(cells.count) == 0
    assert len(largest_cells(cells, np.arange(6), 1, False, 10).count) == 0
