"""What the multilabel engine tests share: random views (rows of label sets
at a threshold), their scikit-learn indicator matrices, CSR columns built
from Python lists, and a vectorised reference on large random inputs.

scikit-learn sees a view as MultiLabelBinarizer(classes=labels) matrices of
the actual sets (Y) and the kept predicted sets (P); a class filter S is
``labels=S`` (column indices) for the per-label metrics and ``[:, S]`` for
the row-level ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from sklearn.preprocessing import MultiLabelBinarizer

from evalql.engine.arrays import row_mask
from evalql.engine.confusion import as_threshold
from evalql.engine.jit import CORES, n_chunks
from evalql.engine.multilabel.columns import LabelSets, csr_arrays, filter_flags
from evalql.engine.multilabel.counts import MultilabelCounts, multilabel_counts
from tests.engine.strategies import (
    CONFIDENCES,
    JIT_DISABLED,
    ROUND_VALUES,
    THRESHOLDS,
    class_filters,
    masks,
)
from tests.naive import kept

# As plain Python the point is to run every kernel line, which a few examples do.
SETTINGS = settings(max_examples=25 if JIT_DISABLED else 100, deadline=None)


def label_sets(
    actual: Sequence[Sequence[int]],
    predicted: Sequence[Sequence[int]],
    confidence: Sequence[Sequence[float]] | None = None,
) -> LabelSets:
    """CSR columns from rows of label codes; ``confidence`` defaults to 1.0.

    ``label_sets([[0, 2], []], [[2, 1], []], [[0.9, 0.3], []])`` is two rows:
    actual {0, 2} predicted {2: 0.9, 1: 0.3}; then nothing and nothing.
    """
    if confidence is None:
        confidence = [[1.0] * len(row) for row in predicted]

    def offsets(rows: Sequence[Sequence[object]]) -> np.ndarray:
        return np.cumsum([0, *(len(row) for row in rows)], dtype=np.int64)

    def flat(rows: Sequence[Sequence[float]], dtype: type[np.generic]) -> np.ndarray:
        return np.array([value for row in rows for value in row], dtype=dtype)

    return LabelSets(
        actual_offsets=offsets(actual),
        actual_codes=flat(actual, np.int32),
        predicted_offsets=offsets(predicted),
        predicted_codes=flat(predicted, np.int32),
        predicted_confidence=flat(confidence, np.float32),
    )


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
        return label_sets(self.actual, self.predicted, self.confidence)

    @property
    def n_rows(self) -> int:
        return len(self.actual)

    def rows(self, mask: np.ndarray | None = None) -> list[int]:
        """The rows in the view: those the mask keeps, every row without one."""
        return [i for i in range(self.n_rows) if mask is None or mask[i]]

    def chosen(self, labels: list[int] | None = None) -> set[int]:
        """The class filter S as a set: every label without one."""
        return set(range(self.n_labels)) if labels is None else set(labels)

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
    ) -> MultilabelCounts:
        return multilabel_counts(self.sets, self.threshold, self.n_labels, mask, labels, matrix)

    def matrix(self, mask: np.ndarray | None = None, labels: list[int] | None = None) -> np.ndarray:
        """The (K+1)x(K+1) confusion matrix, as a metrics page counts it."""
        matrix = self.counts(mask, labels, matrix=True).matrix
        assert matrix is not None
        return matrix


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


def filters(
    view: MultilabelView, optional: bool = True
) -> st.SearchStrategy[tuple[list[int] | None, np.ndarray | None]]:
    """A class filter for ``view`` (or, when ``optional``, none) and a row mask
    (or none)."""
    labels = class_filters(view.n_labels)
    return st.tuples(st.none() | labels if optional else labels, masks(view.n_rows))


@dataclass(frozen=True)
class KernelInputs:
    """A view's columns as its kernels take them, with a mask that leaves out
    every third row and the class filter of every other label."""

    arrays: tuple[np.ndarray, ...]
    threshold: np.float32
    selected: np.ndarray
    mask: tuple[np.ndarray, bool]


def kernel_inputs(view: MultilabelView) -> KernelInputs:
    n = view.n_rows
    return KernelInputs(
        arrays=csr_arrays(view.sets),
        threshold=as_threshold(view.threshold),
        selected=filter_flags(np.arange(0, view.n_labels, 2), view.n_labels),
        mask=row_mask(np.arange(n) % 3 != 0, n),
    )


def columns(matrix: np.ndarray, labels: list[int]) -> np.ndarray:
    """``matrix[:, labels]``; one column as a 1-D vector, which scikit-learn
    reads as binary labels with the same meaning."""
    picked = matrix[:, labels]
    return picked.ravel() if len(labels) == 1 else picked


def random_sets(n_rows: int, n_labels: int, seed: int) -> tuple[LabelSets, np.ndarray, np.ndarray]:
    """About two labels a row on each side, with the indicator matrix Y and the
    predicted confidences (-1 where not predicted) as a vectorised reference."""
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


# Above one range's rows, so a scan runs in one range a core; as plain Python
# fewer rows make the same comparison in a few seconds.
LARGE_ROWS = 30_000 if JIT_DISABLED else 100_003


@dataclass(frozen=True)
class LargeView:
    """``LARGE_ROWS`` random rows of 7 labels, with a vectorised reference:
    the indicator matrices of the actual (``y``) and kept (``p``) sets."""

    sets: LabelSets
    y: np.ndarray
    p: np.ndarray
    confidence: np.ndarray  # (N, 7), -1 where a label is not predicted
    mask: np.ndarray
    n_labels: int = 7


def large_view(threshold: float) -> LargeView:
    sets, y, confidence = random_sets(LARGE_ROWS, n_labels=7, seed=7)
    assert JIT_DISABLED or n_chunks(LARGE_ROWS) == CORES
    mask = np.random.default_rng(8).random(LARGE_ROWS) < 0.6
    return LargeView(sets, y, confidence >= np.float32(threshold), confidence, mask)
