"""The ratio math: from a confusion matrix to per-label and summary metrics.

Follows scikit-learn's ``precision_recall_fscore_support`` in three stages:
count (``label_counts``), divide (``divide``), average (``engine.averaging``).
Everything here works on the ``(K + 1) x (K + 1)`` matrix that
``engine.confusion.confusion_counts`` returns, the last row and column being None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Divide elementwise; where the denominator is 0 the result is NaN.

    NaN stands for "undefined" (0/0): the API shows it as null, and averages
    count it as 0, as scikit-learn's ``_prf_divide`` with ``zero_division``
    left at its default does.

    Example: ``divide([1, 0], [2, 0])`` gives ``[0.5, nan]``.
    """
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


@dataclass(frozen=True)
class Totals:
    """The O(K) sums every metric but the matrix itself needs; index K is None.

    With many labels a (K+1)^2 matrix is too big to build, and these come
    straight from a scan (``engine.confusion.label_totals``).
    """

    tp: np.ndarray  # (K,) the diagonal
    actual: np.ndarray  # (K+1,) rows per actual label: the matrix's row sums
    predicted: np.ndarray  # (K+1,) rows per predicted label: its column sums
    abstained: np.ndarray  # (K+1,) rows per actual label predicted None: its last column

    @classmethod
    def of_matrix(cls, counts: np.ndarray) -> Totals:
        """The totals of a (K+1)x(K+1) confusion matrix."""
        return cls(
            tp=np.diagonal(counts)[:-1].copy(),
            actual=counts.sum(axis=1),
            predicted=counts.sum(axis=0),
            abstained=counts[:, -1].copy(),
        )


def totals_of(counts: np.ndarray | Totals) -> Totals:
    """``counts`` as Totals: a matrix is summed, Totals pass through."""
    return counts if isinstance(counts, Totals) else Totals.of_matrix(counts)


@dataclass(frozen=True)
class LabelCounts:
    """One-vs-rest counts of the selected labels, in the selection's order.

    ``n`` is the number of rows in the view (all of them, not only those whose
    actual label is selected), as scikit-learn's ``multilabel_confusion_matrix``
    computes TN with ``labels=``.
    """

    labels: np.ndarray  # int codes of the selected labels
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    n: int

    @property
    def tn(self) -> np.ndarray:
        return self.n - self.tp - self.fp - self.fn

    @property
    def support(self) -> np.ndarray:
        """Rows whose actual label is this label: TP + FN."""
        return self.tp + self.fn

    @property
    def predicted(self) -> np.ndarray:
        """Rows predicted as this label (at the threshold): TP + FP."""
        return self.tp + self.fp


def label_counts(counts: np.ndarray | Totals, labels: np.ndarray) -> LabelCounts:
    """Per-label TP, FP, FN of ``labels`` (codes) from a confusion matrix or its totals.

    A row with actual None and a prediction c is a false positive of c; a row
    with actual c and predicted None (abstained) is a false negative of c.
    """
    t = totals_of(counts)
    labels = np.asarray(labels, dtype=np.intp)
    tp = t.tp[labels]
    return LabelCounts(
        labels=labels,
        tp=tp,
        fp=t.predicted[labels] - tp,
        fn=t.actual[labels] - tp,
        n=int(t.actual.sum()),
    )


def precision(c: LabelCounts) -> np.ndarray:
    """TP / (TP + FP) per label.

    Notes
    -----
    NaN when the label was never predicted (TP + FP = 0).
    """
    return divide(c.tp, c.tp + c.fp)


def recall(c: LabelCounts) -> np.ndarray:
    """TP / (TP + FN) per label.

    Notes
    -----
    NaN when the label has no support (TP + FN = 0).
    """
    return divide(c.tp, c.tp + c.fn)


def f1(c: LabelCounts) -> np.ndarray:
    """2 TP / (2 TP + FP + FN) per label, from counts as scikit-learn does.

    Notes
    -----
    NaN only when TP + FP + FN = 0. A formula built on precision and recall
    would instead be undefined whenever TP = 0, which disagrees with
    scikit-learn.
    """
    return divide(2 * c.tp, 2 * c.tp + c.fp + c.fn)


def accuracy(c: LabelCounts) -> np.ndarray:
    """(TP + TN) / N per label: the one-vs-rest accuracy.

    Notes
    -----
    NaN when the view is empty (N = 0).
    """
    return divide(c.tp + c.tn, np.full(c.tp.shape, c.n))


PER_LABEL = {"precision": precision, "recall": recall, "f1": f1, "accuracy": accuracy}


@dataclass(frozen=True)
class Summary:
    """Row-level quantities of a view. Ratios are NaN when undefined.

    ``labeled`` rows have an actual label; only they can be judged, so
    accuracy and selective accuracy are over them. ``answered`` is the labeled
    rows with a kept prediction. A row without ground truth still counts in
    ``total`` and ``predicted`` (coverage is over every row of the view).
    """

    total: int
    predicted: int
    correct: int
    labeled: int
    answered: int

    @property
    def coverage(self) -> float:
        """predicted / total. NaN for an empty view."""
        return float(divide(self.predicted, self.total))

    @property
    def accuracy(self) -> float:
        """correct / labeled; abstentions count as errors, rows without an
        actual label are left out (they cannot be judged).

        Equal to scikit-learn's ``accuracy_score`` on the labeled rows, an
        abstention being a class of its own. NaN when no row is labeled.
        """
        return float(divide(self.correct, self.labeled))

    @property
    def selective_accuracy(self) -> float:
        """correct / answered: accuracy on the labeled rows the model answered.

        NaN when no labeled row has a kept prediction.
        """
        return float(divide(self.correct, self.answered))

    @property
    def subset_accuracy(self) -> float:
        """The exact-match ratio; with one label a row it is the accuracy."""
        return self.accuracy

    @property
    def hamming_score(self) -> float:
        """NaN: the Hamming score is defined for multilabel views only."""
        return float("nan")


def summary(counts: np.ndarray | Totals, labels: np.ndarray | None = None) -> Summary:
    """Total, labeled, predicted, answered and correct rows of a confusion
    matrix or its totals.

    Without a class filter every row counts in ``total`` and ``predicted``,
    including those with actual None, which are not ``labeled`` (nor ever
    correct). With ``labels`` (a class filter S) only rows whose actual label
    is in S count, so every one of them is labeled; S = every label then gives
    the accuracy of no filter.
    """
    t = totals_of(counts)
    k = len(t.actual) - 1
    if labels is None:
        labels = np.arange(k)
        total, abstained = int(t.actual.sum()), int(t.abstained.sum())
    else:
        labels = np.asarray(labels, dtype=np.intp)
        total, abstained = int(t.actual[labels].sum()), int(t.abstained[labels].sum())
    labeled = int(t.actual[labels].sum())
    return Summary(
        total=total,
        predicted=total - abstained,
        correct=int(t.tp[labels].sum()),
        labeled=labeled,
        answered=labeled - int(t.abstained[labels].sum()),
    )


def submatrix(counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The confusion matrix restricted to ``labels`` (in their order) plus None.

    Rows and columns of labels outside the class filter are dropped; the None
    row and column stay last. Example: for labels ``[2, 0]`` of K = 3 the
    result is rows/columns ``[2, 0, None]`` of the full matrix.
    """
    index = np.append(np.asarray(labels, dtype=np.intp), counts.shape[0] - 1)
    return counts[np.ix_(index, index)]


def f_beta(c: LabelCounts, beta: float) -> np.ndarray:
    """(1 + β²) TP / (β² (TP + FN) + TP + FP) per label, from counts as scikit-learn does.

    β weighs recall β times as much as precision: β = 1 is F1, β = 0 is the
    precision and β = inf the recall (scikit-learn's ``fbeta_score``). The
    arrays of ``c`` may have leading axes (many resamples at once); the result
    has their shape.

    Notes
    -----
    NaN exactly when the denominator is 0: TP + FP + FN = 0 for β > 0, the
    precision's TP + FP = 0 for β = 0, the recall's TP + FN = 0 for β = inf.
    Raises ValueError for a negative or NaN β.
    """
    if not beta >= 0:
        raise ValueError(f"beta has to be at least 0, got {beta!r}")
    if np.isposinf(beta):
        return recall(c)
    b2 = beta * beta
    # scikit-learn's own denominator, term for term, so floats agree exactly
    return divide((1 + b2) * c.tp, b2 * (c.tp + c.fn) + (c.tp + c.fp))


def specificity(c: LabelCounts) -> np.ndarray:
    """TN / (TN + FP) per label: the true negative rate, recall of "not this label".

    TN counts every row of the view that is neither actual nor predicted c,
    unlabeled rows included; an unlabeled row predicted c is a false positive
    (SPEC). Equal to scikit-learn's ``recall_score(y_true != c, y_pred != c)``
    on the view's rows.

    Notes
    -----
    NaN when the label has no negatives (TN + FP = 0: every row is actually c).
    """
    return divide(c.tn, c.tn + c.fp)


def false_positive_rate(c: LabelCounts) -> np.ndarray:
    """FP / (FP + TN) per label: 1 - specificity.

    Notes
    -----
    NaN when the label has no negatives (FP + TN = 0), as ``specificity``.
    """
    return divide(c.fp, c.fp + c.tn)
