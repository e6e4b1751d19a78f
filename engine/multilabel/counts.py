"""Counting a multilabel view at one threshold: per-label TP / actual / kept,
the row-level summary and the (K+1)x(K+1) matrix, in one pass.

``MultilabelCounts.label_counts()`` packages the per-label counts as
``engine.metrics.LabelCounts``, so the one definition of precision, recall,
F1 (``engine.metrics``) and of averaging (``engine.averaging``) serves both
tasks. ``MultilabelThresholdCounts`` holds the same counts at several
thresholds (``engine.multilabel.curves`` and ``.index`` fill it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import row_mask
from evalql.engine.confusion import as_threshold
from evalql.engine.jit import inline_jit, jit, sum_rows
from evalql.engine.metrics import LabelCounts, divide
from evalql.engine.multilabel.columns import (
    LabelSetColumns,
    csr_arrays,
    filter_codes,
    filter_flags,
)


@inline_jit
def stamp_actual(i, actual_offsets, actual_codes, selected, stamp, support):
    """Mark row i's actual labels (``stamp[code] = i``), count them in
    ``support``, and return how many are in the class filter S.

    ``stamp[code] == i`` then tests "is an actual label of row i" in O(1),
    with no buffer to clear between rows.
    """
    n_actual = 0
    for j in range(actual_offsets[i], actual_offsets[i + 1]):
        code = actual_codes[j]
        stamp[code] = i
        support[code] += 1
        n_actual += selected[code]
    return n_actual


@inline_jit
def row_counts(
    i, actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    threshold, selected, stamp, support, kept, tp, kept_codes, list_kept,
):
    """Count row i into the per-label arrays; return (|A|, |P|, |A & P|) on S.

    ``stamp[code] == i`` marks an actual label of row i (membership in O(1)
    without clearing a buffer between rows). Arithmetic on 0/1 instead of
    branches: whether a label is kept or a hit is a coin flip the CPU cannot
    predict. With ``list_kept`` the kept labels of S are listed in
    ``kept_codes[:|P|]`` (K + 1 slots) for the matrix.
    """
    n_actual = stamp_actual(i, actual_offsets, actual_codes, selected, stamp, support)
    n_kept = 0
    n_hit = 0
    for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
        code = predicted_codes[j]
        keep = np.int64(confidence[j] >= threshold)
        hit = keep * np.int64(stamp[code] == i)
        kept[code] += keep
        tp[code] += hit
        keep_in_s = keep * selected[code]
        # Listed always and counted only when kept (a code not kept is
        # overwritten by the next one): no data-dependent branch. The last
        # slot absorbs input breaking the distinct-codes precondition.
        if list_kept:  # the same for every row, so the CPU predicts it
            kept_codes[min(n_kept, kept_codes.shape[0] - 1)] = code
        n_kept += keep_in_s
        n_hit += hit * selected[code]
    return n_actual, n_kept, n_hit


@inline_jit
def _add_pairs(
    i, actual_offsets, actual_codes, selected, kept_codes, n_kept, listed, matrix, none,
):
    """Add row i's (actual or None) x (kept or None) pairs on S to ``matrix``.

    The actual labels of S are listed in ``listed`` (K + 1 slots) first, and an
    empty side stands as [None], so one double loop adds every case: branches
    on the row's set sizes mispredict and cost as much as the pairs (1.6x).
    """
    last = listed.shape[0] - 1
    n_actual = 0
    for j in range(actual_offsets[i], actual_offsets[i + 1]):
        a = actual_codes[j]
        # Listed always, kept only when in S (as _row_counts lists kept codes).
        listed[min(n_actual, last)] = a
        n_actual += np.int64(selected[a])
    if n_actual == 0:
        listed[0] = none
        n_actual = 1
    n_kept = min(n_kept, kept_codes.shape[0] - 1)
    if n_kept == 0:
        kept_codes[0] = none
        n_kept = 1
    for x in range(min(n_actual, last + 1)):
        row = listed[x]
        for k in range(n_kept):
            matrix[row, kept_codes[k]] += 1


@inline_jit
def filter_indicator(selected, n_labels):
    # S as 0/1 counts, for the branch-free arithmetic of row_counts.
    in_s = np.zeros(n_labels, dtype=np.int64)
    for k in range(n_labels):
        in_s[k] = 1 if selected[k] else 0
    return in_s


@jit
def _multilabel_scan(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    threshold, n_labels, selected, mask, use_mask, with_matrix, lo, hi,
):
    # Rows lo .. hi-1. Per label: 0 = TP, 1 = actual (support), 2 = kept
    # predictions. Per view: 0 = rows, 1 = rows with a kept prediction in S,
    # 2 = exact matches on S, 3 = exact matches with a kept prediction.
    per_label = np.zeros((3, n_labels), dtype=np.int64)
    per_view = np.zeros(4, dtype=np.int64)
    size = n_labels + 1 if with_matrix else 1
    matrix = np.zeros((size, size), dtype=np.int64)
    stamp = np.full(n_labels, -1, dtype=np.int64)
    in_s = filter_indicator(selected, n_labels)
    tp, support, kept = per_label[0], per_label[1], per_label[2]
    kept_codes = np.empty(n_labels + 1, dtype=np.int64)
    listed = np.empty(n_labels + 1, dtype=np.int64)  # scratch of _add_pairs
    rows = 0
    answered = 0
    exact = 0
    answered_exact = 0
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        n_actual, n_kept, n_hit = row_counts(
            i, actual_offsets, actual_codes, predicted_offsets, predicted_codes,
            confidence, threshold, in_s, stamp, support, kept, tp, kept_codes, with_matrix,
        )
        # Distinct codes: the sets are equal when every actual and every
        # kept label is a hit.
        same = np.int64(n_hit == n_actual) * np.int64(n_hit == n_kept)
        some = np.int64(n_kept > 0)
        rows += 1
        answered += some
        exact += same
        answered_exact += same * some
        if with_matrix:
            _add_pairs(
                i, actual_offsets, actual_codes, selected, kept_codes, n_kept, listed,
                matrix, n_labels,
            )
    per_view[0] = rows
    per_view[1] = answered
    per_view[2] = exact
    per_view[3] = answered_exact
    return per_label, per_view, matrix


@dataclass(frozen=True)
class MultilabelSummary:
    """Row-level quantities of a multilabel view on the labels of its class filter S.

    ``correct`` counts exact matches: rows whose kept predicted set equals the
    actual set (on S), including rows where both are empty.
    """

    total: int  # rows in the view
    predicted: int  # rows with at least one kept prediction in S
    correct: int  # exact-match rows (subset accuracy's numerator)
    answered_correct: int  # exact-match rows with at least one kept prediction
    n_labels: int  # |S|, the indicator matrix's columns
    disagreements: int  # (row, label) pairs in error: the sum of FP and FN over S

    @property
    def labeled(self) -> int:
        """Every row: an empty actual set is an answer ("none of the labels"),
        so every multilabel row is judged."""
        return self.total

    @property
    def decisions(self) -> int:
        """(row, label) pairs in the view: total x |S|."""
        return self.total * self.n_labels

    @property
    def agreements(self) -> int:
        """(row, label) pairs decided right, TP + TN summed over S."""
        return self.decisions - self.disagreements

    @property
    def coverage(self) -> float:
        """predicted / total. NaN for an empty view."""
        return float(divide(self.predicted, self.total))

    @property
    def subset_accuracy(self) -> float:
        """correct / total, scikit-learn's ``accuracy_score`` on indicator rows.

        NaN for an empty view.
        """
        return float(divide(self.correct, self.total))

    @property
    def hamming_score(self) -> float:
        """1 - Hamming loss: agreements / (total x |S|), where scikit-learn's
        ``hamming_loss`` is disagreements / (total x |S|).

        NaN when there is no decision (no row or no label).
        """
        return float(divide(self.agreements, self.decisions))

    @property
    def accuracy(self) -> float:
        """The multilabel accuracy is the Hamming score (SPEC)."""
        return self.hamming_score

    @property
    def selective_accuracy(self) -> float:
        """answered_correct / predicted: exact matches among rows the model answered.

        NaN when no row has a kept prediction.
        """
        return float(divide(self.answered_correct, self.predicted))


@dataclass(frozen=True)
class MultilabelCounts:
    """What one scan of a multilabel view yields: per-label counts over all K
    labels and the row-level summary on the class filter S.

    ``tp[c]``: rows with c actual and kept; ``support[c]``: rows with c actual;
    ``predicted[c]``: rows with c kept. FP = predicted - TP, FN = support - TP,
    TN = total - TP - FP - FN, all per label. ``matrix`` is the multilabel
    confusion matrix (see ``multilabel_counts``) when it was asked for.
    """

    tp: np.ndarray  # int64 (K,)
    support: np.ndarray  # int64 (K,)
    predicted: np.ndarray  # int64 (K,)
    labels: np.ndarray  # intp codes of S, in the filter's order (all labels without one)
    summary: MultilabelSummary
    matrix: np.ndarray | None = None  # int64 (K+1, K+1) with matrix=True

    @property
    def total(self) -> int:
        return self.summary.total

    def label_counts(self, labels: np.ndarray | Sequence[int] | None = None) -> LabelCounts:
        """Per-label TP, FP, FN (and TN) of ``labels`` (default S), for
        ``engine.metrics`` and ``engine.averaging``."""
        codes = self.labels if labels is None else filter_codes(labels, len(self.tp))
        tp = self.tp[codes]
        return LabelCounts(
            labels=codes,
            tp=tp,
            fp=self.predicted[codes] - tp,
            fn=self.support[codes] - tp,
            n=self.summary.total,
        )


def multilabel_counts(
    columns: LabelSetColumns,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
    matrix: bool = False,
) -> MultilabelCounts:
    """Count a multilabel view in one pass: per-label TP / actual / kept, rows,
    and optionally the confusion matrix.

    Parameters
    ----------
    columns : the CSR columns (``LabelSetColumns``).
    threshold : a predicted label is kept when its float32 confidence is
        ``>= float32(threshold)``.
    n_labels : K; codes are ``0 .. K-1``.
    mask : optional bool array of length N; only rows where it is True count.
    labels : optional class filter S (codes, in display order); the row-level
        summary (and the matrix) then look at the indicator columns in S only.
        Per-label counts always cover all K labels.
    matrix : also build the (K+1)x(K+1) confusion matrix in the same pass
        (a metrics page wants both; O(K^2) memory per thread, so leave it off
        for very many labels).

    Returns
    -------
    MultilabelCounts, whose ``label_counts()`` feeds ``engine.metrics`` and
    ``engine.averaging``, whose ``summary`` holds the row-level numbers and
    whose ``matrix`` is the confusion matrix (int64, rows actual, columns
    kept-predicted, index K for None) or None. With a class filter S the rows
    and columns of labels outside S are 0 (``engine.metrics.submatrix`` then
    cuts them out).

    Notes
    -----
    On the label-indicator matrices Y (actual) and P (kept) restricted to the
    rows of the view, this equals scikit-learn's ``multilabel_confusion_matrix``
    per label, ``precision_recall_fscore_support(Y, P, labels=S)``,
    ``hamming_loss(Y[:, S], P[:, S])`` and ``accuracy_score(Y[:, S], P[:, S])``.
    The 0/0 cases:

    - a label never predicted (TP + FP = 0): precision NaN;
    - a label with no support (TP + FN = 0): recall NaN;
    - TP + FP + FN = 0: F1 NaN; per-label accuracy NaN only for an empty view;
    - an empty view: coverage, subset accuracy, Hamming score NaN;
    - an empty S: Hamming score NaN; every row is then an exact match (two
      empty sets) and no row counts as predicted;
    - no kept prediction at all: selective accuracy NaN.

    A row with no actual label and no kept prediction is an exact match (as in
    ``accuracy_score``) but is not "predicted", so it adds to ``correct`` and
    not to ``answered_correct``.

    The matrix: ``matrix[i][j]`` is read "rows where i is actual and j is
    kept-predicted". For every row of the view, with A its actual set and P
    its kept predicted set (both restricted to S):

    - each pair (i in A, j in P) adds 1 to ``[i][j]``; so the diagonal
      ``[c][c]`` is TP of c, and ``[i][j]``, i != j, counts rows where j was
      predicted alongside or instead of i;
    - A empty, P not: each j in P adds 1 to ``[None][j]`` (a false positive of
      j on a row without any actual label);
    - P empty, A not: each i in A adds 1 to ``[i][None]`` (a false negative of
      i on a row the model left without any prediction);
    - both empty: 1 to ``[None][None]``.

    A row adds ``|A| x |P|`` (or ``max(|A|, |P|, 1)`` when one is empty)
    entries, so row sums are not supports and the total is not N, unlike the
    multiclass matrix. There are no ratios in it, hence no 0/0.

    Example: actual ``[[0, 1], []]``, predicted ``[[1, 2], [2]]`` with
    confidences ``[[0.9, 0.3], [0.8]]``, t = 0.5, K = 3 gives tp ``[0, 1, 0]``,
    support ``[1, 1, 0]``, predicted ``[0, 1, 1]``; 2 rows, 2 predicted, 0 exact,
    Hamming score 4/6; and the matrix
    ``[[0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]]``.
    """
    arrays = csr_arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = row_mask(mask, n_rows)
    codes = filter_codes(labels, n_labels)
    per_label, per_view, counts = sum_rows(
        _multilabel_scan, n_rows, *arrays, as_threshold(threshold), n_labels,
        filter_flags(codes, n_labels), flags, use_mask, bool(matrix),
    )
    tp, support, predicted = per_label
    return package_counts(tp, support, predicted, codes, per_view, counts if matrix else None)


def package_counts(
    tp: np.ndarray,
    support: np.ndarray,
    predicted: np.ndarray,
    codes: np.ndarray,
    per_view: np.ndarray,
    matrix: np.ndarray | None = None,
) -> MultilabelCounts:
    """``MultilabelCounts`` from per-label counts and the per-view row counts
    (rows, answered, exact, answered exact), for one threshold."""
    selected = np.unique(codes)  # a code listed twice in S is still one column
    fp_plus_fn = predicted[selected] + support[selected] - 2 * tp[selected]
    summary = MultilabelSummary(
        total=int(per_view[0]),
        predicted=int(per_view[1]),
        correct=int(per_view[2]),
        answered_correct=int(per_view[3]),
        n_labels=len(selected),
        disagreements=int(fp_plus_fn.sum()),
    )
    return MultilabelCounts(
        tp=tp, support=support, predicted=predicted, labels=codes, summary=summary,
        matrix=matrix,
    )


@dataclass(frozen=True)
class MultilabelThresholdCounts:
    """A multilabel view counted at several thresholds in one pass.

    ``at(j)`` is exactly ``multilabel_counts`` at ``thresholds[j]`` (without
    the matrix): the same per-label counts and row summary, so every metric
    of a curve's point goes through the same definitions as the metrics page.
    """

    thresholds: np.ndarray  # float32 (P,), ascending
    tp: np.ndarray  # int64 (P, K)
    predicted: np.ndarray  # int64 (P, K) kept predictions per label
    support: np.ndarray  # int64 (K,)
    labels: np.ndarray  # codes of S
    rows: int
    answered: np.ndarray  # int64 (P,) rows with a kept prediction in S
    exact: np.ndarray  # int64 (P,) exact-match rows on S
    answered_exact: np.ndarray  # int64 (P,)

    def at(self, j: int) -> MultilabelCounts:
        per_view = np.array([self.rows, self.answered[j], self.exact[j], self.answered_exact[j]])
        return package_counts(self.tp[j], self.support, self.predicted[j], self.labels, per_view)
