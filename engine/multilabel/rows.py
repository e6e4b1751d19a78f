"""The drill-down of a multilabel view: which rows match, and the keys that order them.

``match_rows`` flags the rows passing ``RowTests`` (a label actual or not,
kept or not, either set empty, exact match) for
``engine.select.select_flagged`` to page; ``label_confidence`` and
``top_confidence`` are the keys that order them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import frozen, row_mask
from evalql.engine.confusion import as_threshold
from evalql.engine.jit import inline_jit, jit, map_rows
from evalql.engine.multilabel.columns import (
    LabelSetColumns,
    csr_arrays,
    filter_codes,
    filter_flags,
    joined,
)
from evalql.engine.multilabel.counts import filter_indicator, row_counts


@inline_jit
def _kept_has(i, predicted_offsets, predicted_codes, confidence, threshold, label):
    """Whether ``label`` is among row i's predictions kept at the threshold."""
    for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
        if predicted_codes[j] == label:
            return confidence[j] >= threshold
    return False


@jit
def _match_sets(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    threshold, n_labels, selected, tests, mask, use_mask, lo, hi,
):
    # Whether rows lo .. hi-1 match. tests: the int64 fields of
    # ``RowTests.array`` (-1 = no test).
    out = np.zeros(hi - lo, dtype=np.bool_)
    stamp = np.full(n_labels, -1, dtype=np.int64)
    in_s = filter_indicator(selected, n_labels)
    # Scratch counts: this kernel wants only the per-row answer.
    scratch = np.zeros(n_labels, dtype=np.int64)
    kept_codes = np.empty(n_labels + 1, dtype=np.int64)
    # Set sizes only for the tests that read them (the same for every
    # row, so the branch costs nothing).
    sizes = tests[2] >= 0 or tests[5] >= 0 or tests[6] >= 0
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        n_actual = n_kept = n_hit = 0
        if sizes:
            n_actual, n_kept, n_hit = row_counts(
                i, actual_offsets, actual_codes, predicted_offsets, predicted_codes,
                confidence, threshold, in_s, stamp, scratch, scratch, scratch, kept_codes,
                False,
            )
        else:
            for j in range(actual_offsets[i], actual_offsets[i + 1]):
                stamp[actual_codes[j]] = i
        # Now stamp[code] == i marks row i's actual labels.
        ok = True
        if tests[0] >= 0:
            ok = ok and in_s[tests[0]] == 1 and stamp[tests[0]] == i
        if tests[1] >= 0:
            ok = ok and not (in_s[tests[1]] == 1 and stamp[tests[1]] == i)
        if tests[2] >= 0:
            ok = ok and (n_actual == 0) == (tests[2] == 1)
        if tests[3] >= 0:
            ok = ok and in_s[tests[3]] == 1 and _kept_has(
                i, predicted_offsets, predicted_codes, confidence, threshold, tests[3])
        if tests[4] >= 0:
            ok = ok and not (in_s[tests[4]] == 1 and _kept_has(
                i, predicted_offsets, predicted_codes, confidence, threshold, tests[4]))
        if tests[5] >= 0:
            ok = ok and (n_kept == 0) == (tests[5] == 1)
        if tests[6] >= 0:
            ok = ok and (n_hit == n_actual and n_hit == n_kept) == (tests[6] == 1)
        out[i - lo] = ok
    return out


@jit
def _top_confidence(predicted_offsets, confidence, threshold, lo, hi):
    out = np.zeros(hi - lo, dtype=np.float32)
    for i in range(lo, hi):
        best = np.float32(0.0)
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            if confidence[j] >= threshold and confidence[j] > best:
                best = confidence[j]
        out[i - lo] = best
    return out


@jit
def _label_confidence(predicted_offsets, predicted_codes, confidence, label, lo, hi):
    out = np.zeros(hi - lo, dtype=np.float32)
    for i in range(lo, hi):
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            if predicted_codes[j] == label:
                out[i - lo] = confidence[j]
                break
    return out


@dataclass(frozen=True)
class RowTests:
    """Which rows of a multilabel view match: every test given holds (AND).

    With A the row's actual set and P its kept predicted set, both restricted
    to the label columns S the tests are run against (``match_rows``'s
    ``labels``), a test is on when it is not None:

    - ``actual_has`` / ``actual_lacks``: a label code in A / not in A;
    - ``actual_empty``: A is empty (True) or not (False);
    - ``predicted_has`` / ``predicted_lacks`` / ``predicted_empty``: the same for P;
    - ``exact``: A equals P (True) or not (False).

    A label outside S is in no set: ``actual_has`` of it matches no row.
    Example: the rows behind the cell (i, None) of the confusion matrix
    (``multilabel_counts(..., matrix=True)``) are
    ``RowTests(actual_has=i, predicted_empty=True)``; label c's false
    positives are ``RowTests(actual_lacks=c, predicted_has=c)``.
    """

    actual_has: int | None = None
    actual_lacks: int | None = None
    actual_empty: bool | None = None
    predicted_has: int | None = None
    predicted_lacks: int | None = None
    predicted_empty: bool | None = None
    exact: bool | None = None

    def array(self) -> np.ndarray:
        """The kernel's int64 form: codes as they are, flags as 0/1, -1 = no test."""
        fields = (
            self.actual_has, self.actual_lacks, self.actual_empty,
            self.predicted_has, self.predicted_lacks, self.predicted_empty, self.exact,
        )
        return np.array([-1 if f is None else int(f) for f in fields], dtype=np.int64)


def match_rows(
    columns: LabelSetColumns,
    threshold: float,
    n_labels: int,
    tests: RowTests,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> np.ndarray:
    """Per row: does it pass the row mask and every test of ``tests``?

    Parameters
    ----------
    columns, threshold, n_labels, mask : as for ``multilabel_counts``.
    tests : the ``RowTests`` to run.
    labels : the label columns S the tests look at (default: all K).

    Returns
    -------
    A bool array of length N, False outside the mask; the drill-down's rows
    are ``flatnonzero`` of it. Each row adds at most 1 to a confusion cell or
    to a label's TP, FP, FN or TN, so the number of rows matching the tests
    of a cell or outcome is that count, at the same arguments.

    Example: actual ``[[0], [1], []]``, predicted ``[[0], [0], []]`` (all
    kept): ``RowTests(exact=True)`` gives ``[True, False, True]``.
    """
    arrays = csr_arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = row_mask(mask, n_rows)
    checks = tests.array()
    for code in checks[[0, 1, 3, 4]]:
        if code >= n_labels:
            raise ValueError(f"label codes have to lie in [0, {n_labels}), got {code}")
    selected = filter_flags(filter_codes(labels, n_labels), n_labels)
    return joined(map_rows(
        _match_sets, n_rows, *arrays, as_threshold(threshold), n_labels, selected,
        frozen(checks, np.int64), flags, use_mask,
    ))


def unlabeled_rows(
    columns: LabelSetColumns,
    threshold: float,
    n_labels: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> int:
    """Rows passing ``mask`` without an actual label in ``labels`` (S; every
    label when None): the None row of the multilabel matrix and distribution.

    Example: actual ``[[0], [], [1]]`` gives 1; with S = ``[1]``, 2.
    """
    if labels is None:
        empty = np.diff(columns.actual_offsets) == 0
        return int(np.count_nonzero(empty if mask is None else empty & mask))
    return int(np.count_nonzero(match_rows(columns, threshold, n_labels,
                                           RowTests(actual_empty=True), mask, labels)))


def label_confidence(columns: LabelSetColumns, label: int) -> np.ndarray:
    """Per row, the confidence of ``label`` among its predictions, 0.0 where the
    row does not predict it (at any threshold): float32, length N.

    This is SPEC's score for the ranking metrics of a split without scores,
    and the key for ordering a label's drill-down rows by confidence.
    """
    _, _, offsets, codes, confidence = csr_arrays(columns)
    return joined(map_rows(
        _label_confidence, len(offsets) - 1, offsets, codes, confidence, np.int32(label)
    ))


def top_confidence(columns: LabelSetColumns, threshold: float) -> np.ndarray:
    """Per row, the highest confidence among its predictions kept at the
    threshold, 0.0 where none is kept: float32, length N.

    A multilabel row's confidence, as the drill-down orders and shows it.
    Example: predicted confidences ``[[0.9, 0.3], [0.2], []]`` at t = 0.5 give
    ``[0.9, 0, 0]``.
    """
    _, _, offsets, _, confidence = csr_arrays(columns)
    return joined(map_rows(
        _top_confidence, len(offsets) - 1, offsets, confidence, as_threshold(threshold)
    ))
