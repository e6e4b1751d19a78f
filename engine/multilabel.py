"""Multilabel views: every (row, label) pair is one binary decision.

A multilabel split holds, per row, a set of actual labels and a list of
predicted labels with one confidence each. They arrive in CSR form (the layout
of an Arrow list array): ``actual_codes[actual_offsets[i]:actual_offsets[i+1]]``
are row i's actual labels, and likewise for the predicted codes and their
confidences. At a threshold t a predicted label is kept when
``confidence >= float32(t)``; the kept set is compared with the actual set.

Seen as a label-indicator matrix (rows x labels, 1 = the label applies) this
is scikit-learn's multilabel setting: ``multilabel_counts`` gives the per-label
TP, FP, FN (and so TN) that ``precision_recall_fscore_support`` and
``multilabel_confusion_matrix`` compute, packaged as ``engine.metrics.LabelCounts``
so the one definition of precision, recall, F1 (``engine.metrics``) and of
averaging (``engine.averaging``) serves both tasks.

A class filter S (``labels=``) restricts the indicator matrix to the columns
in S, as scikit-learn's ``labels=`` does: labels outside S are ignored, in the
actual and the predicted sets alike. Rows are never dropped by it; only the
row mask (a metadata filter) removes rows.

Preconditions, guaranteed by ingest: codes are in ``0 .. K-1``, a row's lists
hold distinct codes, offsets are non-decreasing. Kernels are private and pure;
the public wrappers below fix dtypes and package results. Parallel kernels
give each chunk its own buffer and sum the buffers serially afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numba
import numpy as np

from engine.jit import inline_jit, jit, n_chunks, parallel_jit
from engine.kernels import _chunk_bounds, as_threshold
from engine.metrics import LabelCounts, divide

# Per (row, label) outcome codes of ``label_outcomes``; -1 is a row outside the view.
OUTCOMES = ("TP", "FP", "FN", "TN")
TP, FP, FN, TN = range(4)
OUTSIDE = -1


class LabelSetColumns(Protocol):
    """The CSR columns of a multilabel split (storage's ``MultilabelColumns`` is one).

    ``actual_offsets`` and ``predicted_offsets`` are int64 of length N + 1;
    ``predicted_confidence`` is aligned with ``predicted_codes``.
    """

    @property
    def actual_offsets(self) -> np.ndarray: ...
    @property
    def actual_codes(self) -> np.ndarray: ...
    @property
    def predicted_offsets(self) -> np.ndarray: ...
    @property
    def predicted_codes(self) -> np.ndarray: ...
    @property
    def predicted_confidence(self) -> np.ndarray: ...


@dataclass(frozen=True)
class LabelSets:
    """A concrete ``LabelSetColumns``, with a builder from Python lists.

    ``LabelSets.from_lists([[0, 2], []], [[2, 1], []], [[0.9, 0.3], []])`` is two
    rows: actual {0, 2} predicted {2: 0.9, 1: 0.3}; then nothing and nothing.
    """

    actual_offsets: np.ndarray
    actual_codes: np.ndarray
    predicted_offsets: np.ndarray
    predicted_codes: np.ndarray
    predicted_confidence: np.ndarray

    @classmethod
    def from_lists(
        cls,
        actual: Sequence[Sequence[int]],
        predicted: Sequence[Sequence[int]],
        confidence: Sequence[Sequence[float]] | None = None,
    ) -> LabelSets:
        """Rows of label codes; ``confidence`` defaults to 1.0 for every prediction."""
        if confidence is None:
            confidence = [[1.0] * len(row) for row in predicted]
        return cls(
            actual_offsets=_offsets(actual),
            actual_codes=_flat(actual, np.int32),
            predicted_offsets=_offsets(predicted),
            predicted_codes=_flat(predicted, np.int32),
            predicted_confidence=_flat(confidence, np.float32),
        )

    @property
    def n_rows(self) -> int:
        return len(self.actual_offsets) - 1


def _offsets(rows: Sequence[Sequence[object]]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(row) for row in rows], dtype=np.int64)])


def _flat(rows: Sequence[Sequence[float]], dtype: type[np.generic]) -> np.ndarray:
    return np.array([value for row in rows for value in row], dtype=dtype)


# --- kernels ----------------------------------------------------------------


@inline_jit
def _row_counts(
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
    n_actual = 0
    for j in range(actual_offsets[i], actual_offsets[i + 1]):
        code = actual_codes[j]
        stamp[code] = i
        support[code] += 1
        n_actual += selected[code]
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
    i, actual_offsets, actual_codes, selected, kept_codes, n_kept, n_actual, matrix, none,
):
    """Add row i's (actual or None) x (kept or None) pairs on S to ``matrix``."""
    n_kept = min(n_kept, kept_codes.shape[0] - 1)
    if n_actual == 0:
        if n_kept == 0:
            matrix[none, none] += 1
        for k in range(n_kept):
            matrix[none, kept_codes[k]] += 1
        return
    for j in range(actual_offsets[i], actual_offsets[i + 1]):
        a = actual_codes[j]
        if not selected[a]:
            continue
        if n_kept == 0:
            matrix[a, none] += 1
        for k in range(n_kept):
            matrix[a, kept_codes[k]] += 1


@parallel_jit
def _multilabel_scan(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    threshold, n_labels, selected, mask, use_mask, with_matrix, chunks,
):
    # Per label: 0 = TP, 1 = actual (support), 2 = kept predictions.
    per_label = np.zeros((chunks, 3, n_labels), dtype=np.int64)
    # Per view: 0 = rows, 1 = rows with a kept prediction in S,
    # 2 = exact matches on S, 3 = exact matches with a kept prediction.
    per_view = np.zeros((chunks, 4), dtype=np.int64)
    size = n_labels + 1 if with_matrix else 1
    matrices = np.zeros((chunks, size, size), dtype=np.int64)
    n = actual_offsets.shape[0] - 1
    for c in numba.prange(chunks):
        lo, hi = _chunk_bounds(n, chunks, c)
        stamp = np.full(n_labels, -1, dtype=np.int64)
        in_s = np.zeros(n_labels, dtype=np.int64)
        for k in range(n_labels):
            in_s[k] = 1 if selected[k] else 0
        tp = np.zeros(n_labels, dtype=np.int64)
        support = np.zeros(n_labels, dtype=np.int64)
        kept = np.zeros(n_labels, dtype=np.int64)
        kept_codes = np.empty(n_labels + 1, dtype=np.int64)
        matrix = np.zeros((size, size), dtype=np.int64)
        rows = 0
        answered = 0
        exact = 0
        answered_exact = 0
        for i in range(lo, hi):
            if use_mask and not mask[i]:
                continue
            n_actual, n_kept, n_hit = _row_counts(
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
                    i, actual_offsets, actual_codes, selected, kept_codes, n_kept, n_actual,
                    matrix, n_labels,
                )
        per_label[c, 0] = tp
        per_label[c, 1] = support
        per_label[c, 2] = kept
        per_view[c, 0] = rows
        per_view[c, 1] = answered
        per_view[c, 2] = exact
        per_view[c, 3] = answered_exact
        matrices[c] = matrix
    return per_label.sum(axis=0), per_view.sum(axis=0), matrices.sum(axis=0)


@parallel_jit
def _exact_matches(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    threshold, n_labels, selected, mask, use_mask, chunks,
):
    n = actual_offsets.shape[0] - 1
    out = np.zeros(n, dtype=np.bool_)
    for c in numba.prange(chunks):  # each chunk writes only its own rows of `out`
        lo, hi = _chunk_bounds(n, chunks, c)
        stamp = np.full(n_labels, -1, dtype=np.int64)
        in_s = np.zeros(n_labels, dtype=np.int64)
        for k in range(n_labels):
            in_s[k] = 1 if selected[k] else 0
        # Scratch counts: this kernel wants only the per-row answer.
        scratch = np.zeros(n_labels, dtype=np.int64)
        kept_codes = np.empty(n_labels + 1, dtype=np.int64)
        for i in range(lo, hi):
            if use_mask and not mask[i]:
                continue
            n_actual, n_kept, n_hit = _row_counts(
                i, actual_offsets, actual_codes, predicted_offsets, predicted_codes,
                confidence, threshold, in_s, stamp, scratch, scratch, scratch, kept_codes, False,
            )
            out[i] = n_hit == n_actual and n_hit == n_kept
    return out


@parallel_jit
def _label_outcomes(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    threshold, label, mask, use_mask,
):
    n = actual_offsets.shape[0] - 1
    out = np.empty(n, dtype=np.int8)
    for i in numba.prange(n):  # each iteration writes only out[i]
        if use_mask and not mask[i]:
            out[i] = OUTSIDE
            continue
        is_actual = False
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            if actual_codes[j] == label:
                is_actual = True
                break
        is_kept = False
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            if predicted_codes[j] == label:
                is_kept = confidence[j] >= threshold
                break
        if is_actual:
            out[i] = TP if is_kept else FN
        else:
            out[i] = FP if is_kept else TN
    return out


@parallel_jit
def _cell_flags(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    threshold, selected, actual_label, predicted_label, mask, use_mask,
):
    n = actual_offsets.shape[0] - 1
    out = np.zeros(n, dtype=np.bool_)
    for i in numba.prange(n):  # each iteration writes only out[i]
        if use_mask and not mask[i]:
            continue
        n_actual = 0
        has_actual = False
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            code = actual_codes[j]
            if selected[code]:
                n_actual += 1
                has_actual = has_actual or code == actual_label
        n_kept = 0
        has_kept = False
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            code = predicted_codes[j]
            if selected[code] and confidence[j] >= threshold:
                n_kept += 1
                has_kept = has_kept or code == predicted_label
        on_row = has_actual if actual_label >= 0 else n_actual == 0
        on_column = has_kept if predicted_label >= 0 else n_kept == 0
        out[i] = on_row and on_column
    return out


@jit
def _label_confidence(predicted_offsets, predicted_codes, confidence, label):
    n = predicted_offsets.shape[0] - 1
    out = np.zeros(n, dtype=np.float32)
    for i in range(n):
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            if predicted_codes[j] == label:
                out[i] = confidence[j]
                break
    return out


# --- wrappers -----------------------------------------------------------------


def _arrays(columns: LabelSetColumns) -> tuple[np.ndarray, ...]:
    """The five CSR arrays with the kernels' dtypes (no copy when they already
    have them), after the O(1) checks that keep the compiled loops in bounds."""
    arrays = (
        np.asarray(columns.actual_offsets, dtype=np.int64),
        np.asarray(columns.actual_codes, dtype=np.int32),
        np.asarray(columns.predicted_offsets, dtype=np.int64),
        np.asarray(columns.predicted_codes, dtype=np.int32),
        np.asarray(columns.predicted_confidence, dtype=np.float32),
    )
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence = arrays
    if len(actual_offsets) == 0 or len(actual_offsets) != len(predicted_offsets):
        raise ValueError("actual and predicted offsets have to be two arrays of length N + 1")
    if predicted_codes.shape != confidence.shape:
        raise ValueError("predicted codes and confidences have to be the same length")
    for offsets, codes in ((actual_offsets, actual_codes), (predicted_offsets, predicted_codes)):
        if offsets[0] < 0 or offsets[-1] > len(codes):
            raise ValueError("offsets have to lie within their codes")
    return arrays


def _mask(mask: np.ndarray | None, n_rows: int) -> tuple[np.ndarray, bool]:
    if mask is None:
        return np.ones(0, dtype=np.bool_), False
    flags = np.asarray(mask, dtype=np.bool_)
    if flags.shape != (n_rows,):
        raise ValueError("mask has to be as long as the columns")
    return flags, True


def _selection(labels: np.ndarray | Sequence[int] | None, n_labels: int) -> np.ndarray:
    """Codes of the class filter S; every label when there is none."""
    if labels is None:
        return np.arange(n_labels, dtype=np.intp)
    codes = np.asarray(labels, dtype=np.intp).reshape(-1)
    if len(codes) and (codes.min() < 0 or codes.max() >= n_labels):
        raise ValueError(f"label codes have to lie in [0, {n_labels})")
    return codes


def _selected(codes: np.ndarray, n_labels: int) -> np.ndarray:
    flags = np.zeros(n_labels, dtype=np.bool_)
    flags[codes] = True
    return flags


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
        """1 - Hamming loss: agreements / (total x |S|).

        NaN when there is no decision (no row or no label).
        """
        return float(divide(self.agreements, self.decisions))

    @property
    def hamming_loss(self) -> float:
        """disagreements / (total x |S|), scikit-learn's ``hamming_loss``. NaN as above."""
        return float(divide(self.disagreements, self.decisions))

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
    confusion matrix (see ``multilabel_confusion``) when it was asked for.
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
        codes = self.labels if labels is None else _selection(labels, len(self.tp))
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
    matrix : also build the (K+1)x(K+1) matrix of ``multilabel_confusion`` in
        the same pass (a metrics page wants both; O(K^2) memory per thread,
        so leave it off for very many labels).

    Returns
    -------
    MultilabelCounts, whose ``label_counts()`` feeds ``engine.metrics`` and
    ``engine.averaging``, whose ``summary`` holds the row-level numbers and
    whose ``matrix`` is the confusion matrix or None.

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

    Example: actual ``[[0, 1], []]``, predicted ``[[1, 2], [2]]`` with
    confidences ``[[0.9, 0.3], [0.8]]``, t = 0.5, K = 3 gives tp ``[0, 1, 0]``,
    support ``[1, 1, 0]``, predicted ``[0, 1, 1]``; 2 rows, 2 predicted, 0 exact,
    Hamming score 4/6.
    """
    arrays = _arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = _mask(mask, n_rows)
    codes = _selection(labels, n_labels)
    per_label, per_view, counts = _multilabel_scan(
        *arrays, as_threshold(threshold), n_labels, _selected(codes, n_labels),
        flags, use_mask, matrix, n_chunks(n_rows),
    )
    tp, support, predicted = per_label
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
        matrix=counts if matrix else None,
    )


def multilabel_confusion(
    columns: LabelSetColumns,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> np.ndarray:
    """Which labels are predicted in place of which: a (K+1)x(K+1) count matrix.

    Arguments as for ``multilabel_counts``. Index K stands for None, and
    ``counts[i][j]`` is read "rows where i is actual and j is kept-predicted".

    Returns
    -------
    counts : int64 array of shape ``(K + 1, K + 1)``, rows actual, columns
        predicted. With a class filter S the rows and columns of labels outside
        S are 0 (``engine.metrics.submatrix`` then cuts them out).

    Notes
    -----
    For every row of the view, with A its actual set and P its kept predicted
    set (both restricted to S):

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
    multiclass matrix. There are no ratios here, hence no 0/0.

    Example: actual ``[[0, 1], []]``, predicted ``[[1, 2], [2]]`` with
    confidences ``[[0.9, 0.3], [0.8]]``, t = 0.5, K = 3 gives
    ``[[0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]]``.
    """
    counts = multilabel_counts(columns, threshold, n_labels, mask, labels, matrix=True)
    assert counts.matrix is not None
    return counts.matrix


def exact_match_rows(
    columns: LabelSetColumns,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> np.ndarray:
    """Per row: is the kept predicted set equal to the actual set (on S)?

    Returns a bool array of length N, False for rows outside the mask, so the
    CORRECT rows are ``flatnonzero(result)`` and the INCORRECT ones
    ``flatnonzero(mask & ~result)``. Its sum is ``summary.correct`` of
    ``multilabel_counts`` with the same arguments. A row with neither actual
    nor kept labels is an exact match.
    """
    arrays = _arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = _mask(mask, n_rows)
    selected = _selected(_selection(labels, n_labels), n_labels)
    return _exact_matches(
        *arrays, as_threshold(threshold), n_labels, selected, flags, use_mask, n_chunks(n_rows)
    )


def cell_rows(
    columns: LabelSetColumns,
    threshold: float,
    n_labels: int,
    actual: int,
    predicted: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> np.ndarray:
    """Row positions (ascending, int64) behind one cell of ``multilabel_confusion``.

    ``actual`` and ``predicted`` are label codes, -1 for None: (i, j) are the
    rows with i actual and j kept; (i, -1) the rows with i actual and no kept
    label; (-1, j) the rows with no actual label and j kept; (-1, -1) the rows
    with neither. A row adds at most 1 to a cell (a row's codes are distinct),
    so the length of the result is the cell's count at the same arguments.
    """
    arrays = _arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = _mask(mask, n_rows)
    selected = _selected(_selection(labels, n_labels), n_labels)
    inside = _cell_flags(
        *arrays, as_threshold(threshold), selected, np.int32(actual), np.int32(predicted),
        flags, use_mask,
    )
    return np.flatnonzero(inside).astype(np.int64)


def label_outcomes(
    columns: LabelSetColumns, threshold: float, label: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """The outcome of one label on every row: an int8 array of length N.

    Values are ``TP`` (0), ``FP`` (1), ``FN`` (2), ``TN`` (3) and ``OUTSIDE``
    (-1) for rows outside the mask. Counting each value gives the label's
    ``label_counts`` entries at the same threshold and mask.
    """
    arrays = _arrays(columns)
    flags, use_mask = _mask(mask, len(arrays[0]) - 1)
    return _label_outcomes(*arrays, as_threshold(threshold), np.int32(label), flags, use_mask)


def label_outcome_rows(
    columns: LabelSetColumns,
    threshold: float,
    label: int,
    outcome: str,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Row positions (ascending, int64) where ``label`` has ``outcome``.

    ``outcome`` is one of "TP", "FP", "FN", "TN". Example: for actual
    ``[[0], [1], []]`` and predicted ``[[0], [0], []]`` (all kept), label 0 has
    TP at ``[0]``, FP at ``[1]`` and TN at ``[2]``.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome has to be one of {OUTCOMES}, got {outcome!r}")
    outcomes = label_outcomes(columns, threshold, label, mask)
    return np.flatnonzero(outcomes == OUTCOMES.index(outcome)).astype(np.int64)


def label_confidence(columns: LabelSetColumns, label: int) -> np.ndarray:
    """Per row, the confidence of ``label`` among its predictions, 0.0 where the
    row does not predict it (at any threshold): float32, length N.

    This is SPEC's score for the ranking metrics of a split without scores,
    and the key for ordering a label's drill-down rows by confidence.
    """
    _, _, offsets, codes, confidence = _arrays(columns)
    return _label_confidence(offsets, codes, confidence, np.int32(label))


def warm() -> None:
    """Load (or compile) every multilabel kernel, for a server's start-up."""
    sets = LabelSets.from_lists([[0], []], [[0], [0]], [[0.9], [0.1]])
    mask = np.ones(2, dtype=np.bool_)
    for m in (None, mask):
        multilabel_counts(sets, 0.5, 1, m, matrix=True)
        exact_match_rows(sets, 0.5, 1, m)
        label_outcomes(sets, 0.5, 0, m)
        cell_rows(sets, 0.5, 1, 0, -1, m)
    label_confidence(sets, 0)
