"""What the multilabel engine tests share: random views (rows of label sets
at a threshold), their scikit-learn indicator matrices, and a vectorised
reference on large random inputs.

scikit-learn sees a view as MultiLabelBinarizer(classes=labels) matrices of
the actual sets (Y) and the kept predicted sets (P); a class filter S is
``labels=S`` (column indices) for the per-label metrics and ``[:, S]`` for
the row-level ones.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from evalql.engine.jit import chunk_bounds
from evalql.engine.multilabel.columns import LabelSets
from evalql.engine.multilabel.counts import multilabel_counts
from tests.engine.strategies import CONFIDENCES, ROUND_VALUES, THRESHOLDS
from tests.naive import kept

ROOT = Path(__file__).resolve().parents[3]
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


def each_range(
    kernel: Callable[..., Any], n: int, chunks: int, *args: Any
) -> tuple[list[Any], Any]:
    """``kernel`` over ``chunks`` ranges of rows ``0..n`` one by one, and over all
    of them at once: merging the ranges' results is then exercised even on a
    machine with one core, and with more ranges than rows."""
    return [kernel(*args, lo, hi) for lo, hi in chunk_bounds(n, chunks)], kernel(*args, 0, n)


def assert_summed(kernel: Callable[..., Any], n: int, chunks: int, *args: Any) -> None:
    """The ranges' results, added up array by array, are the whole's."""
    parts, whole = each_range(kernel, n, chunks, *args)
    for i, one in enumerate(whole):
        np.testing.assert_array_equal(sum(part[i] for part in parts), one)


def assert_joined(kernel: Callable[..., Any], n: int, chunks: int, *args: Any) -> None:
    """The ranges' per-row results, joined in order, are the whole's."""
    parts, whole = each_range(kernel, n, chunks, *args)
    np.testing.assert_array_equal(np.concatenate(parts), whole)
