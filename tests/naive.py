"""Obviously-correct pure-Python references, for what scikit-learn cannot express.

Label codes are ints, ``-1`` is None (no annotation / no prediction). These
loops are slow on purpose: one row at a time, no NumPy tricks, so that they
can be read against SPEC.md's "Semantics" line by line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NONE = -1


def kept(confidence: float, threshold: float) -> bool:
    """A prediction is kept when ``float32(confidence) >= float32(threshold)``."""
    return bool(np.float32(confidence) >= np.float32(threshold))


def abstain(predicted: Sequence[int], confidence: Sequence[float], threshold: float) -> list[int]:
    """The predictions at a threshold: None where the confidence is below it.

    Example: ``abstain([0, 1, -1], [0.9, 0.2, 1.0], 0.5)`` gives ``[0, -1, -1]``.
    """
    return [
        int(p) if kept(c, threshold) else NONE for p, c in zip(predicted, confidence, strict=True)
    ]


def naive_confusion(
    actual: Sequence[int],
    predicted: Sequence[int],
    confidence: Sequence[float],
    threshold: float,
    n_labels: int,
    mask: Sequence[bool] | None = None,
) -> list[list[int]]:
    """``counts[actual][predicted]`` over labels ``0 .. K-1`` plus None at index K."""
    counts = [[0] * (n_labels + 1) for _ in range(n_labels + 1)]
    answers = abstain(predicted, confidence, threshold)
    for i, (a, p) in enumerate(zip(actual, answers, strict=True)):
        if mask is not None and not mask[i]:
            continue
        row = n_labels if a == NONE else int(a)
        column = n_labels if p == NONE else p
        counts[row][column] += 1
    return counts


@dataclass(frozen=True)
class NaiveSummary:
    total: int
    predicted: int
    correct: int
    labeled: int  # rows with an actual label
    answered: int  # labeled rows with a kept prediction


def naive_summary(
    actual: Sequence[int],
    predicted: Sequence[int],
    confidence: Sequence[float],
    threshold: float,
    labels: Sequence[int] | None = None,
) -> NaiveSummary:
    """Rows, rows with a prediction, rows predicted right, rows with an actual
    label, and those of them with a prediction.

    With a class filter ``labels`` only rows whose actual label is in it count
    (a row with actual None never is). A row with neither an actual label nor
    a prediction is never correct.
    """
    total = predicted_rows = correct = labeled = answered = 0
    for a, p in zip(actual, abstain(predicted, confidence, threshold), strict=True):
        if labels is not None and a not in labels:
            continue
        total += 1
        labeled += a != NONE
        if p != NONE:
            predicted_rows += 1
            answered += a != NONE
            if p == a:
                correct += 1
    return NaiveSummary(
        total=total, predicted=predicted_rows, correct=correct, labeled=labeled, answered=answered
    )


def naive_multilabel_confusion(
    actual: Sequence[Sequence[int]],
    predicted: Sequence[Sequence[int]],
    confidence: Sequence[Sequence[float]],
    threshold: float,
    n_labels: int,
    mask: Sequence[bool] | None = None,
    labels: Sequence[int] | None = None,
) -> list[list[int]]:
    """The multilabel matrix: ``counts[i][j]`` = rows where i is actual and j kept.

    Each row contributes every pair of (an actual label, or None when it has
    none) x (a kept predicted label, or None when it has none). With a class
    filter ``labels``, labels outside it are ignored on both sides.
    Example: one row, actual [0, 1], predicted [1] kept, K = 2 gives
    ``[[0, 1, 0], [0, 1, 0], [0, 0, 0]]``.
    """
    counts = [[0] * (n_labels + 1) for _ in range(n_labels + 1)]
    for i, (row_actual, row_predicted, row_confidence) in enumerate(
        zip(actual, predicted, confidence, strict=True)
    ):
        if mask is not None and not mask[i]:
            continue
        actual_set = [int(a) for a in row_actual if labels is None or a in labels]
        kept_set = [
            int(p)
            for p, c in zip(row_predicted, row_confidence, strict=True)
            if kept(c, threshold) and (labels is None or p in labels)
        ]
        for a in actual_set or [n_labels]:
            for p in kept_set or [n_labels]:
                counts[a][p] += 1
    return counts
