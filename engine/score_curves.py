"""Per-label ROC and precision-recall curves: their exact vertices, downsampled.

Label c is a binary problem: positives are the rows whose actual label is c,
the score is ``scores[:, c]`` when the split has scores, else the confidence
where the prediction is c and 0 elsewhere (SPEC, as for average precision).
Lowering a threshold from +inf down, the kept rows (score >= threshold) only
change at the distinct scores, so those are the curves' vertices: scikit-
learn's ``roc_curve(..., drop_intermediate=False)`` and
``precision_recall_curve`` have one vertex per distinct score too.

Both curves here run from the strictest threshold to the most lenient, each
starting at threshold +inf, where nothing is kept:

- ROC: ``(inf, 0, 0)``, then ``(t, FP/N, TP/P)`` per distinct score t,
  descending: scikit-learn's three arrays as they are.
- PR: ``(inf, 1, 0)``, then ``(t, TP/(TP+FP), TP/P)`` per distinct score t,
  descending: scikit-learn's arrays reversed (it returns them by ascending
  threshold and appends the precision-1 recall-0 point, which has no
  threshold there, last).

A curve is cut to at most ``points`` vertices evenly spaced in index, the
first and last always kept, so each kept vertex is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.jit import jit
from evalql.engine.metrics import divide
from evalql.engine.ranking import (
    PrecisionSteps,
    precision_steps,
    precision_steps_of,
    ranking_key,
)


@jit
def _score_keys(score_bits, actual, label, mask, use_mask):
    # A ranking key (ranking.ranking_key) for every counted row, by its score.
    keys = np.empty(actual.shape[0], dtype=np.uint32)
    written = 0
    for i in range(actual.shape[0]):
        if use_mask and not mask[i]:
            continue
        keys[written] = ranking_key(score_bits[i, label], actual[i] == label)
        written += 1
    return keys[:written].copy()


@dataclass(frozen=True)
class LabelSteps:
    """One label's ranking: at each distinct score, descending, the positives
    (``tp``) and negatives (``fp``) scoring at least that much, and the view's
    positives and negatives in all."""

    thresholds: np.ndarray  # float32, descending, distinct
    tp: np.ndarray  # int64, non-decreasing
    fp: np.ndarray  # int64, non-decreasing
    positives: int
    negatives: int

    @property
    def nbytes(self) -> int:
        return self.thresholds.nbytes + self.tp.nbytes + self.fp.nbytes


def steps_from_scores(
    scores: np.ndarray, actual: np.ndarray, label: int, mask: np.ndarray | None = None
) -> LabelSteps:
    """``LabelSteps`` of ``label`` ranked by its column of the ``(N, K)`` scores.

    One pass writes a key per row, one sort orders them (``engine.ranking``'s
    keys: tied scores form one step, -0.0 ties with 0).
    """
    scores, actual = frozen(scores, np.float32), frozen(actual, np.int32)
    if scores.ndim != 2 or scores.shape[0] != actual.shape[0]:
        raise ValueError("scores have to be an (N, K) matrix with N = len(actual)")
    flags, use_mask = row_mask(mask, actual.shape[0])
    keys = _score_keys(scores.view(np.uint32), actual, label, flags, use_mask)
    keys.sort()
    steps = precision_steps_of(keys)
    positives = int(steps.tp[-1]) if keys.size else 0
    negatives = int(steps.fp[-1]) if keys.size else 0
    return LabelSteps(steps.thresholds, steps.tp, steps.fp, positives, negatives)


def steps_from_confidence(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    label: int,
    mask: np.ndarray | None = None,
) -> LabelSteps:
    """``LabelSteps`` of ``label`` scored by the confidence where it is
    predicted and 0 elsewhere (a split without scores).

    Only the label's own predictions are sorted (``ranking.precision_steps``);
    every other row scores 0, the last step.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    steps = precision_steps(actual, predicted, confidence, label, mask)
    counted = actual if mask is None else actual[np.asarray(mask, dtype=bool)]
    positives = int(np.count_nonzero(counted == label))
    return with_zero_step(steps, positives, counted.shape[0])


def with_zero_step(steps: PrecisionSteps, positives: int, total: int) -> LabelSteps:
    """``LabelSteps`` from the steps of the rows ranked by a score of their own,
    the other rows of the ``total`` scoring 0: one more step at 0, the last
    (merged with a step the ranked rows already have at 0).

    Example: steps at ``[0.9]`` with tp ``[1]``, fp ``[0]``, 3 positives of
    5 rows give thresholds ``[0.9, 0]``, tp ``[1, 3]``, fp ``[0, 2]``.
    """
    thresholds, tp, fp = steps.thresholds, steps.tp, steps.fp
    ranked = int(tp[-1] + fp[-1]) if tp.size else 0
    if ranked < total:
        if tp.size and thresholds[-1] == 0:
            thresholds, tp, fp = thresholds[:-1], tp[:-1], fp[:-1]
        thresholds = np.append(thresholds, np.float32(0))
        tp, fp = np.append(tp, positives), np.append(fp, total - positives)
    return LabelSteps(thresholds, tp, fp, positives, total - positives)


@dataclass(frozen=True)
class RocCurve:
    """ROC vertices from the strictest threshold (+inf) down."""

    thresholds: np.ndarray  # float64, the first +inf
    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.thresholds.nbytes * 3


@dataclass(frozen=True)
class PrCurve:
    """Precision-recall vertices from the strictest threshold (+inf) down."""

    thresholds: np.ndarray  # float64, the first +inf
    precision: np.ndarray
    recall: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.thresholds.nbytes * 3


def vertex_indices(n: int, points: int) -> np.ndarray:
    """At most ``points`` of ``0 .. n-1``, evenly spaced, first and last kept.

    Example: ``vertex_indices(10, 4)`` gives ``[0, 3, 6, 9]``.
    """
    if points < 2:
        raise ValueError(f"points has to be at least 2, got {points}")
    if n <= points:
        return np.arange(n)
    return np.unique(np.rint(np.linspace(0, n - 1, points)).astype(np.int64))


def roc_curve(steps: LabelSteps, points: int) -> RocCurve:
    """The label's ROC curve, as ``roc_curve(y, score, drop_intermediate=False)``
    at the kept vertices.

    Notes
    -----
    The true positive rate is NaN throughout when the label has no positives,
    the false positive rate when it has no negatives (scikit-learn warns and
    answers NaN too). No vertices at all for an empty view.
    """
    if steps.positives + steps.negatives == 0:
        return RocCurve(np.zeros(0), np.zeros(0), np.zeros(0))
    keep = vertex_indices(steps.thresholds.shape[0] + 1, points)
    thresholds = np.concatenate([[np.inf], steps.thresholds.astype(np.float64)])
    fpr = divide(np.concatenate([[0], steps.fp]), steps.negatives)
    tpr = divide(np.concatenate([[0], steps.tp]), steps.positives)
    return RocCurve(thresholds[keep], fpr[keep], tpr[keep])


def pr_curve(steps: LabelSteps, points: int) -> PrCurve:
    """The label's precision-recall curve, as ``precision_recall_curve(y, score)``
    reversed at the kept vertices (its appended precision 1, recall 0 point
    first, at threshold +inf).

    Notes
    -----
    The recall is NaN throughout when the label has no positives
    (scikit-learn sets it to 1 with a warning); precision is always defined
    below +inf, as each threshold keeps at least its own rows. No vertices
    at all for an empty view.
    """
    if steps.positives + steps.negatives == 0:
        return PrCurve(np.zeros(0), np.zeros(0), np.zeros(0))
    keep = vertex_indices(steps.thresholds.shape[0] + 1, points)
    thresholds = np.concatenate([[np.inf], steps.thresholds.astype(np.float64)])
    precision = np.concatenate([[1.0], divide(steps.tp, steps.tp + steps.fp)])
    recall = divide(np.concatenate([[0], steps.tp]), steps.positives)
    return PrCurve(thresholds[keep], precision[keep], recall[keep])
