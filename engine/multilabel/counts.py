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

Beyond the counts at one threshold (``multilabel_counts``):

- drill-down: ``match_rows`` flags the rows passing ``RowTests`` (a label
  actual or not, kept or not, either set empty, exact match) for
  ``engine.selection.select_flagged`` to page; ``label_confidence`` and
  ``top_confidence`` are the keys that order them;
- ranking: ``rank_label_sets`` (AP and ROC AUC of every label, scored by its
  predicted confidence) and ``label_precision_steps``;
- thresholds: ``multilabel_threshold_counts`` (a curve in one scan) and
  ``pair_histogram`` (predicted pairs by confidence);
- ``LabelSetIndex``: the split arranged once so that a view of every row and
  label is counted, matrix included, without a scan.

Preconditions, guaranteed by ingest: codes are in ``0 .. K-1``, a row's lists
hold distinct codes, offsets are non-decreasing. Kernels are private and pure;
the public wrappers below fix dtypes and package results. A kernel scans one
range of rows into buffers of its own; ``jit.map_rows`` runs one range per
core and the wrapper sums (or joins) the ranges' buffers afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from evalql.engine.arrays import frozen, row_mask
from evalql.engine.curves import _bucket, _kept_after, _lookup, _thresholds
from evalql.engine.histogram import _bin_of, _scale
from evalql.engine.index import kept_prefix
from evalql.engine.jit import (
    chunk_bounds,
    inline_jit,
    jit,
    map_ranges,
    map_rows,
    n_chunks,
    sum_rows,
)
from evalql.engine.kernels import as_threshold
from evalql.engine.metrics import LabelCounts, divide
from evalql.engine.ranking import PrecisionSteps, Ranking, _empty_sums, _fill, _steps
from evalql.engine.ranking import _key as _ranking_key

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


@inline_jit
def _in_s(selected, n_labels):
    # S as 0/1 counts, for the branch-free arithmetic of _row_counts.
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
    in_s = _in_s(selected, n_labels)
    tp, support, kept = per_label[0], per_label[1], per_label[2]
    kept_codes = np.empty(n_labels + 1, dtype=np.int64)
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
    per_view[0] = rows
    per_view[1] = answered
    per_view[2] = exact
    per_view[3] = answered_exact
    return per_label, per_view, matrix


@jit
def _label_outcomes(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    threshold, label, mask, use_mask, lo, hi,
):
    # The outcomes of rows lo .. hi-1.
    out = np.empty(hi - lo, dtype=np.int8)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            out[i - lo] = OUTSIDE
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
            out[i - lo] = TP if is_kept else FN
        else:
            out[i - lo] = FP if is_kept else TN
    return out


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
    in_s = _in_s(selected, n_labels)
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
            n_actual, n_kept, n_hit = _row_counts(
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


@jit
def _ranking_keys(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence_bits,
    n_labels, mask, use_mask,
):
    # Every label's ranking keys at once: a counting sort of the predicted
    # (row, label) pairs scoring above 0 by label, each keyed by its score's
    # bits and "the label is actual". Returns the keys, each label's slice
    # start, the positives (support) per label and the rows counted.
    n = actual_offsets.shape[0] - 1
    starts = np.zeros(n_labels + 1, dtype=np.int64)
    positives = np.zeros(n_labels, dtype=np.int64)
    total = 0
    for i in range(n):
        if use_mask and not mask[i]:
            continue
        total += 1
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            positives[actual_codes[j]] += 1
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            if _ranking_key(confidence_bits[j], False) != 0:
                starts[predicted_codes[j] + 1] += 1
    for c in range(n_labels):
        starts[c + 1] += starts[c]
    cursor = starts[:-1].copy()
    keys = np.empty(starts[n_labels], dtype=np.uint32)
    stamp = np.full(n_labels, -1, dtype=np.int64)
    for i in range(n):
        if use_mask and not mask[i]:
            continue
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            stamp[actual_codes[j]] = i
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            code = predicted_codes[j]
            if _ranking_key(confidence_bits[j], False) != 0:
                keys[cursor[code]] = _ranking_key(confidence_bits[j], stamp[code] == i)
                cursor[code] += 1
    return keys, starts, positives, total


@jit
def _label_keys(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence_bits,
    label, mask, use_mask,
):
    # Ranking keys of the rows predicting ``label``, at every confidence (0 included).
    n = actual_offsets.shape[0] - 1
    keys = np.empty(n, dtype=np.uint32)
    written = 0
    for i in range(n):
        if use_mask and not mask[i]:
            continue
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            if predicted_codes[j] == label:
                positive = False
                for k in range(actual_offsets[i], actual_offsets[i + 1]):
                    positive = positive or actual_codes[k] == label
                keys[written] = _ranking_key(confidence_bits[j], positive)
                written += 1
                break
    return keys[:written].copy()


@jit
def _multilabel_curve(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    thresholds, lookup, n_labels, selected, mask, use_mask, lo, hi,
):
    # A predicted label of bucket b (= #{j : thresholds[j] <= confidence}) is
    # kept at thresholds 0 .. b-1. Per label: kept and hit pairs by bucket.
    # Per row (on S): the top bucket (answered below it), and the interval of
    # thresholds [lo, hi) where the kept set equals the actual set, added to
    # a difference array: lo = the highest bucket of a predicted non-actual
    # label (it must be dropped), hi = the lowest bucket of an actual label
    # (it must be kept; 0 when one is not predicted at all).
    points = thresholds.shape[0]
    kept = np.zeros((points + 1, n_labels), dtype=np.int64)
    hits = np.zeros((points + 1, n_labels), dtype=np.int64)
    support = np.zeros(n_labels, dtype=np.int64)
    answered = np.zeros(points + 1, dtype=np.int64)
    exact = np.zeros(points + 1, dtype=np.int64)
    answered_exact = np.zeros(points + 1, dtype=np.int64)
    rows = 0
    stamp = np.full(n_labels, -1, dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        rows += 1
        n_actual = 0
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            code = actual_codes[j]
            stamp[code] = i
            support[code] += 1
            n_actual += selected[code]
        top = 0
        first_actual = points
        last_other = 0
        n_found = 0
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            code = predicted_codes[j]
            b = _bucket(confidence[j], thresholds, lookup)
            is_actual = stamp[code] == i
            kept[b, code] += 1
            if is_actual:
                hits[b, code] += 1
            if selected[code]:
                top = max(top, b)
                if is_actual:
                    n_found += 1
                    first_actual = min(first_actual, b)
                else:
                    last_other = max(last_other, b)
        if n_found < n_actual:
            first_actual = 0
        answered[top] += 1
        if last_other < first_actual:
            exact[last_other] += 1
            exact[first_actual] -= 1
            if n_actual > 0:
                answered_exact[last_other] += 1
                answered_exact[first_actual] -= 1
    return kept, hits, support, answered, exact, answered_exact, rows


@jit
def _pair_histogram(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
    edges, scale, n_labels, selected, mask, use_mask, lo, hi,
):
    counts = np.zeros((2, edges.shape[0] - 1), dtype=np.int64)
    stamp = np.full(n_labels, -1, dtype=np.int64)
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            stamp[actual_codes[j]] = i
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            code = predicted_codes[j]
            b = _bin_of(confidence[j], edges, scale)
            if selected[code] and b >= 0:
                counts[0, b] += 1
                counts[1, b] += stamp[code] == i
    return counts


# --- index kernels ----------------------------------------------------------------

_TOP = 0x7FFFFFFF
_ROW_BITS = 0xFFFFFFFF


@inline_jit
def _descending_key(bits, row):
    # Sorts by confidence descending, then by row: as engine.selection keys it.
    b = max(np.int64(bits), np.int64(0))  # -0.0 sorts as 0.0
    return np.uint64(((_TOP - b) << 32) | np.int64(row))


@jit
def _prediction_keys(predicted_offsets, predicted_codes, confidence_bits, n_labels):
    # A counting sort of the predictions by label: each label's keys in one run.
    starts = np.zeros(n_labels + 1, dtype=np.int64)
    for j in range(predicted_codes.shape[0]):
        starts[predicted_codes[j] + 1] += 1
    for c in range(n_labels):
        starts[c + 1] += starts[c]
    cursor = starts[:-1].copy()
    keys = np.empty(predicted_codes.shape[0], dtype=np.uint64)
    for i in range(predicted_offsets.shape[0] - 1):
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            code = predicted_codes[j]
            keys[cursor[code]] = _descending_key(confidence_bits[j], i)
            cursor[code] += 1
    return keys, starts


@jit
def _top_keys(top):
    # Keys of the rows with a prediction (top >= 0) by top confidence.
    n = 0
    for i in range(top.shape[0]):
        n += top[i] >= 0
    keys = np.empty(n, dtype=np.uint64)
    n = 0
    bits = top.view(np.int32)
    for i in range(top.shape[0]):
        if top[i] >= 0:
            keys[n] = _descending_key(bits[i], i)
            n += 1
    return keys


@jit
def _unkey(keys, lo, hi):
    # (confidence bits, row) of the ``_descending_key`` keys lo .. hi-1.
    bits = np.empty(hi - lo, dtype=np.int32)
    rows = np.empty(hi - lo, dtype=np.int32)
    for m in range(lo, hi):
        bits[m - lo] = np.int32(_TOP - np.int64(keys[m] >> np.uint64(32)))
        rows[m - lo] = np.int32(keys[m] & np.uint64(_ROW_BITS))
    return bits, rows


@jit
def _row_bounds(
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence, n_labels,
):
    # Per row: its top confidence (-1 without predictions) and the interval
    # (lo, hi] of thresholds where its kept set equals its actual set, lo the
    # highest confidence of a prediction that is not actual (-1 if none), hi
    # the lowest of one that is (2 if none); rows never exact get lo = hi = 2.
    n = actual_offsets.shape[0] - 1
    top = np.full(n, -1.0, dtype=np.float32)
    lo = np.full(n, -1.0, dtype=np.float32)
    hi = np.full(n, 2.0, dtype=np.float32)
    stamp = np.full(n_labels, -1, dtype=np.int64)
    for i in range(n):
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            stamp[actual_codes[j]] = i
        found = 0
        for j in range(predicted_offsets[i], predicted_offsets[i + 1]):
            c = confidence[j]
            top[i] = max(top[i], c)
            if stamp[predicted_codes[j]] == i:
                found += 1
                hi[i] = min(hi[i], c)
            else:
                lo[i] = max(lo[i], c)
        if found < actual_offsets[i + 1] - actual_offsets[i] or lo[i] >= hi[i]:
            lo[i] = 2.0
            hi[i] = 2.0
    return top, lo, hi


@inline_jit
def _add_actual(vector, row, actual_offsets, actual_codes, n_labels):
    """Add row's actual labels to ``vector`` (index K when it has none)."""
    lo, hi = actual_offsets[row], actual_offsets[row + 1]
    if lo == hi:
        vector[n_labels] += 1
    for j in range(lo, hi):
        vector[actual_codes[j]] += 1


@jit
def _block_sums(rows, run_offsets, block, checkpoint_offsets, actual_offsets, actual_codes,
                n_labels, lo, hi):
    # Checkpoints lo .. hi-1 as block sums: checkpoint b of a run holds the
    # actual labels of its block b - 1 (nothing for b = 0).
    out = np.zeros((hi - lo, n_labels + 1), dtype=np.int32)
    for c in range(lo, hi):
        r = np.searchsorted(checkpoint_offsets, c, side="right") - 1
        b = c - checkpoint_offsets[r]
        if b == 0:
            continue
        start = run_offsets[r] + (b - 1) * block
        for m in range(start, start + block):
            _add_actual(out[c - lo], rows[m], actual_offsets, actual_codes, n_labels)
    return out


@jit
def _running_sums(sums, checkpoint_offsets):
    # Block sums into checkpoints: a running sum along each run, in place.
    for r in range(checkpoint_offsets.shape[0] - 1):
        for c in range(checkpoint_offsets[r] + 1, checkpoint_offsets[r + 1]):
            sums[c] += sums[c - 1]
    return sums


@inline_jit
def _actual_of_prefix(vector, conf, rows, checkpoints, start, end, first_checkpoint, block,
                      threshold, actual_offsets, actual_codes, n_labels):
    """The actual labels of a run's entries with confidence >= threshold, into
    ``vector``: the checkpoint below, plus the few entries after it. Returns
    how many entries that is."""
    n = kept_prefix(conf, start, end, threshold)
    b = n // block
    for a in range(n_labels + 1):
        vector[a] = checkpoints[first_checkpoint + b, a]
    for m in range(start + b * block, start + n):
        _add_actual(vector, rows[m], actual_offsets, actual_codes, n_labels)
    return n


@jit
def _index_counts(conf, rows, run_offsets, checkpoints, checkpoint_offsets, block,
                  top_conf, top_rows, top_checkpoints, actual_offsets, actual_codes, n_labels,
                  threshold):
    size = n_labels + 1
    matrix = np.zeros((size, size), dtype=np.int64)
    kept = np.zeros(n_labels, dtype=np.int64)
    column = np.zeros(size, dtype=np.int64)
    for j in range(n_labels):
        kept[j] = _actual_of_prefix(
            column, conf, rows, checkpoints, run_offsets[j], run_offsets[j + 1],
            checkpoint_offsets[j], block, threshold, actual_offsets, actual_codes, n_labels,
        )
        matrix[:, j] = column
    # int64, not literal zeros, which would compile kept_prefix once more.
    zero = np.int64(0)
    answered = _actual_of_prefix(
        column, top_conf, top_rows, top_checkpoints, zero, np.int64(top_conf.shape[0]), zero,
        block, threshold, actual_offsets, actual_codes, n_labels,
    )
    return matrix, kept, answered, column


def _unkeyed(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, row) of each ``_descending_key`` key, read-only."""
    parts = map_rows(_unkey, len(keys), frozen(keys, np.uint64))
    bits = _joined([bits for bits, _ in parts])
    rows = _joined([rows for _, rows in parts])
    return frozen(bits.view(np.float32), np.float32), frozen(rows, np.int32)


def _checkpoints(
    rows: np.ndarray,
    run_offsets: np.ndarray,
    block: int,
    checkpoint_offsets: np.ndarray,
    actual_offsets: np.ndarray,
    actual_codes: np.ndarray,
    n_labels: int,
) -> np.ndarray:
    """Per run, the actual labels of its first m entries for m = 0, block,
    2 block, ...: ranges of checkpoints' block sums side by side (each in its
    own buffer), then a running sum along each run. Read-only int32."""
    n = int(checkpoint_offsets[-1])
    bounds = chunk_bounds(n, n_chunks(n * block))  # a checkpoint sums a block of entries
    sums = _joined(map_ranges(
        _block_sums, bounds, rows, run_offsets, int(block), checkpoint_offsets,
        actual_offsets, actual_codes, int(n_labels),
    ))
    return frozen(_running_sums(sums, checkpoint_offsets), np.int32)


# --- wrappers -----------------------------------------------------------------


def _arrays(columns: LabelSetColumns) -> tuple[np.ndarray, ...]:
    """The five CSR arrays as kernels read them (int64 offsets, int32 codes,
    float32 confidences, read-only; no copy when they already have the dtype),
    after the O(1) checks that keep the compiled loops in bounds."""
    arrays = (
        frozen(columns.actual_offsets, np.int64),
        frozen(columns.actual_codes, np.int32),
        frozen(columns.predicted_offsets, np.int64),
        frozen(columns.predicted_codes, np.int32),
        frozen(columns.predicted_confidence, np.float32),
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


def _selection(labels: np.ndarray | Sequence[int] | None, n_labels: int) -> np.ndarray:
    """Codes of the class filter S; every label when there is none."""
    if labels is None:
        return np.arange(n_labels, dtype=np.intp)
    codes = np.asarray(labels, dtype=np.intp).reshape(-1)
    if len(codes) and (codes.min() < 0 or codes.max() >= n_labels):
        raise ValueError(f"label codes have to lie in [0, {n_labels})")
    return codes


def _selected(codes: np.ndarray, n_labels: int) -> np.ndarray:
    """S as the kernels read it: read-only bool flags of the K labels."""
    flags = np.zeros(n_labels, dtype=np.bool_)
    flags[codes] = True
    return frozen(flags, np.bool_)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The ranges' slices of a per-row result, in row order (no copy for one)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


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
    flags, use_mask = row_mask(mask, n_rows)
    codes = _selection(labels, n_labels)
    per_label, per_view, counts = sum_rows(
        _multilabel_scan, n_rows, *arrays, as_threshold(threshold), n_labels,
        _selected(codes, n_labels), flags, use_mask, bool(matrix),
    )
    tp, support, predicted = per_label
    return _package(tp, support, predicted, codes, per_view, counts if matrix else None)


def _package(
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
    Example: the cell (i, None) of ``multilabel_confusion`` is
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
    arrays = _arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = row_mask(mask, n_rows)
    checks = tests.array()
    for code in checks[[0, 1, 3, 4]]:
        if code >= n_labels:
            raise ValueError(f"label codes have to lie in [0, {n_labels}), got {code}")
    selected = _selected(_selection(labels, n_labels), n_labels)
    return _joined(map_rows(
        _match_sets, n_rows, *arrays, as_threshold(threshold), n_labels, selected,
        frozen(checks, np.int64), flags, use_mask,
    ))


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
    return match_rows(columns, threshold, n_labels, RowTests(exact=True), mask, labels)


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
    tests = RowTests(
        actual_has=actual if actual >= 0 else None,
        actual_empty=True if actual < 0 else None,
        predicted_has=predicted if predicted >= 0 else None,
        predicted_empty=True if predicted < 0 else None,
    )
    inside = match_rows(columns, threshold, n_labels, tests, mask, labels)
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
    n_rows = len(arrays[0]) - 1
    flags, use_mask = row_mask(mask, n_rows)
    return _joined(map_rows(
        _label_outcomes, n_rows, *arrays, as_threshold(threshold), np.int32(label), flags,
        use_mask,
    ))


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
    return _joined(map_rows(
        _label_confidence, len(offsets) - 1, offsets, codes, confidence, np.int32(label)
    ))


def top_confidence(columns: LabelSetColumns, threshold: float) -> np.ndarray:
    """Per row, the highest confidence among its predictions kept at the
    threshold, 0.0 where none is kept: float32, length N.

    A multilabel row's confidence, as the drill-down orders and shows it.
    Example: predicted confidences ``[[0.9, 0.3], [0.2], []]`` at t = 0.5 give
    ``[0.9, 0, 0]``.
    """
    _, _, offsets, _, confidence = _arrays(columns)
    return _joined(map_rows(
        _top_confidence, len(offsets) - 1, offsets, confidence, as_threshold(threshold)
    ))


# --- ranking: average precision, ROC AUC, precision steps ----------------------


def rank_label_sets(
    columns: LabelSetColumns,
    labels: np.ndarray | Sequence[int],
    n_labels: int,
    mask: np.ndarray | None = None,
) -> Ranking:
    """``engine.ranking.Ranking`` of ``labels`` for a multilabel split.

    Each label c is a binary problem over the rows of the mask: positives are
    the rows with c among their actual labels, and the score is
    ``label_confidence(columns, c)`` (the confidence of c where the row
    predicts it, at any threshold, else 0), as SPEC defines it for a split
    without scores. ``average_precision`` and ``roc_auc`` of the result equal
    scikit-learn's ``average_precision_score`` / ``roc_auc_score`` on the
    indicator column ``Y[:, c]`` and that score.

    One pass groups the predicted pairs by label; each label then sorts only
    its own predictions, so every label together costs about one sort of the
    predicted pairs. NaN cases are those of ``average_precision``/``roc_auc``:
    no positives or no negatives.
    """
    arrays = _arrays(columns)
    flags, use_mask = row_mask(mask, len(arrays[0]) - 1)
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence = arrays
    keys, starts, positives, total = _ranking_keys(
        actual_offsets, actual_codes, predicted_offsets, predicted_codes,
        confidence.view(np.uint32), n_labels, flags, use_mask,
    )
    out = _empty_sums(_selection(labels, n_labels))
    for i, label in enumerate(out.labels):
        own = keys[starts[label] : starts[label + 1]]
        own.sort()
        _fill(out, i, own, int(positives[label]), total)
    return out


def label_precision_steps(
    columns: LabelSetColumns, label: int, mask: np.ndarray | None = None
) -> PrecisionSteps:
    """``engine.ranking.PrecisionSteps`` of ``label``: its kept TP and FP at
    each distinct confidence of its predictions, for ``threshold_for_precision``.

    Example: label 0 predicted with 0.9 on a row where it is actual and with
    0.8 on one where it is not gives thresholds ``[0.9, 0.8]``, tp ``[1, 1]``,
    fp ``[0, 1]``.
    """
    arrays = _arrays(columns)
    flags, use_mask = row_mask(mask, len(arrays[0]) - 1)
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence = arrays
    keys = _label_keys(
        actual_offsets, actual_codes, predicted_offsets, predicted_codes,
        confidence.view(np.uint32), np.int32(label), flags, use_mask,
    )
    keys.sort()
    bits, tp, fp = _steps(keys)
    return PrecisionSteps(bits.view(np.float32), tp, fp)


# --- thresholds: a curve's counts, the confidence histogram ----------------------


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
        return _package(self.tp[j], self.support, self.predicted[j], self.labels, per_view)


def multilabel_threshold_counts(
    columns: LabelSetColumns,
    thresholds: np.ndarray,
    n_labels: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> MultilabelThresholdCounts:
    """``multilabel_counts`` at every one of ``thresholds`` (ascending), in one scan.

    Parameters as for ``multilabel_counts``; a predicted label is kept at
    ``t`` when ``confidence >= float32(t)``.

    Notes
    -----
    A predicted label of bucket ``b = #{j : thresholds[j] <= confidence}`` is
    kept at thresholds ``0 .. b-1``, so per-label counts are cumulative sums
    of histograms over buckets (as ``engine.curves.threshold_counts``). A row
    is an exact match on S exactly for the thresholds above its highest
    non-actual prediction's bucket and below its lowest actual label's
    bucket: an interval, added to a difference array. Memory is
    ``2 (P + 1) K`` counts per thread. Nothing divides here; the 0/0 cases
    are those of ``multilabel_counts``.
    """
    arrays = _arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = row_mask(mask, n_rows)
    codes = _selection(labels, n_labels)
    t = _thresholds(thresholds)
    # t and the lookup as engine.curves passes them to _bucket: one compiled _bucket.
    kept, hits, support, answered, exact, answered_exact, rows = sum_rows(
        _multilabel_curve, n_rows, *arrays, t, _lookup(t), n_labels,
        _selected(codes, n_labels), flags, use_mask,
    )
    points = len(t)
    return MultilabelThresholdCounts(
        thresholds=t,
        tp=_kept_after(hits),
        predicted=_kept_after(kept),
        support=support,
        labels=codes,
        rows=int(rows),
        answered=_kept_after(answered),
        exact=np.cumsum(exact)[:points],
        answered_exact=np.cumsum(answered_exact)[:points],
    )


def pair_histogram(
    columns: LabelSetColumns,
    edges: np.ndarray,
    n_labels: int,
    mask: np.ndarray | None = None,
    labels: np.ndarray | Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted (row, label) pairs of the labels in S per confidence bin, and
    those whose label is actual in the row.

    ``edges`` are float32, ascending, compared in float32 like a threshold
    (bins as ``engine.histogram``: the last includes its high edge). Every
    predicted pair counts, also one below a threshold (it has a confidence),
    so from a threshold t that is an edge up, the bins add up to the sum of
    the labels' kept predictions (TP + FP) and of their TP at t.

    Example: actual ``[[0], []]``, predicted ``[[0, 1], [0]]`` with confidences
    ``[[0.9, 0.2], [0.7]]``, edges ``[0, 0.5, 1]`` give count ``[1, 2]`` and
    correct ``[0, 1]``.
    """
    arrays = _arrays(columns)
    n_rows = len(arrays[0]) - 1
    flags, use_mask = row_mask(mask, n_rows)
    edges = frozen(edges, np.float32)
    selected = _selected(_selection(labels, n_labels), n_labels)
    counts = sum_rows(
        _pair_histogram, n_rows, *arrays, edges, _scale(edges), n_labels, selected, flags,
        use_mask,
    )
    return counts[0], counts[1]


# --- the threshold index: a view of every row and label without a scan ----------

# Entries between two checkpoints: the most a query adds up one by one per run.
INDEX_BLOCK = 256
# Checkpoints take (entries / block) x (K + 1) int32 counts; the block grows
# with K to stay under this, and past MAX_INDEX_BLOCK the index is not built.
INDEX_CHECKPOINT_BYTES = 64 << 20
MAX_INDEX_BLOCK = 8192


@dataclass(frozen=True)
class LabelSetIndex:
    """A multilabel split arranged so that ``multilabel_counts`` of all its rows
    and labels, matrix included, at any threshold costs O(K (log N + block))
    instead of a scan.

    - Predictions grouped by label, each label's run by confidence descending
      (``conf``, ``rows``): at t the kept predictions of label j are a prefix
      of its run, found by binary search; that prefix's length is j's kept
      count. Every ``block`` entries a checkpoint holds how many of the rows
      so far have each actual label (index K: rows with none), so the matrix
      column of j (rows with a actual and j kept) is a checkpoint plus fewer
      than ``block`` rows added up one by one; its entry (j, j) is j's TP.
    - Rows with a prediction by their top confidence, checkpointed alike:
      rows with a kept label are a prefix, and support minus its actual
      labels is the None column (rows with a actual and nothing kept).
    - Each row's exact-match interval lo < t <= hi (``lo`` and ``hi`` sorted
      apart): exact matches at t are #(lo < t) - #(hi < t).

    Memory: about 8 bytes a prediction, 8 a row, 8 a row's interval, and
    checkpoints of (predictions / block) x (K + 1) int32. Only views with no
    row mask and no class filter use it: a class filter changes which rows
    have a kept label on S and which are exact on S.
    """

    n_labels: int
    n_rows: int
    support: np.ndarray  # int64 (K,)
    unlabeled: int  # rows with no actual label
    run_offsets: np.ndarray  # int64 (K + 1,): label j's predictions are [j], [j + 1]
    conf: np.ndarray  # float32, descending within each run
    rows: np.ndarray  # int32, each prediction's row
    checkpoints: np.ndarray  # int32 (C, K + 1)
    checkpoint_offsets: np.ndarray  # int64 (K + 1,): label j's checkpoints
    top_conf: np.ndarray  # float32 descending: rows with a prediction, by top confidence
    top_rows: np.ndarray  # int32
    top_checkpoints: np.ndarray  # int32 (C', K + 1)
    lo: np.ndarray  # float32 ascending, rows that can be exact
    hi: np.ndarray  # float32 ascending
    block: int
    columns: LabelSetColumns

    @classmethod
    def build(
        cls, columns: LabelSetColumns, n_labels: int, block: int = INDEX_BLOCK
    ) -> LabelSetIndex | None:
        """The index of ``columns`` (a few seconds at 10M rows); None when its
        checkpoints would not fit ``INDEX_CHECKPOINT_BYTES`` even at
        ``MAX_INDEX_BLOCK`` entries a block."""
        actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence = (
            _arrays(columns)
        )
        n_rows = len(actual_offsets) - 1
        n_predictions = len(predicted_codes)
        while (n_predictions // block + n_labels + 1) * (n_labels + 1) * 4 > (
            INDEX_CHECKPOINT_BYTES
        ):
            block *= 2
            if block > MAX_INDEX_BLOCK:
                return None
        keys, run_offsets = _prediction_keys(
            predicted_offsets, predicted_codes, confidence.view(np.int32), n_labels
        )
        for j in range(n_labels):
            keys[run_offsets[j] : run_offsets[j + 1]].sort()
        run_offsets = frozen(run_offsets, np.int64)
        conf, rows = _unkeyed(keys)
        del keys
        top, lo, hi = _row_bounds(
            actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence,
            n_labels,
        )
        top_keys = _top_keys(frozen(top, np.float32))
        top_keys.sort()
        top_conf, top_rows = _unkeyed(top_keys)
        del top_keys
        possible = lo < 2.0
        checkpoint_offsets = frozen(
            np.concatenate([[0], np.cumsum(np.diff(run_offsets) // block + 1)]), np.int64
        )
        checkpoints = _checkpoints(
            rows, run_offsets, block, checkpoint_offsets, actual_offsets, actual_codes, n_labels
        )
        top_checkpoints = _checkpoints(
            top_rows, frozen(np.array([0, len(top_rows)]), np.int64), block,
            frozen(np.array([0, len(top_rows) // block + 1]), np.int64),
            actual_offsets, actual_codes, n_labels,
        )
        support = np.bincount(actual_codes, minlength=n_labels).astype(np.int64)
        return cls(
            n_labels=n_labels, n_rows=n_rows, support=support,
            unlabeled=int(np.count_nonzero(np.diff(actual_offsets) == 0)),
            run_offsets=run_offsets, conf=conf, rows=rows, checkpoints=checkpoints,
            checkpoint_offsets=checkpoint_offsets, top_conf=top_conf, top_rows=top_rows,
            top_checkpoints=top_checkpoints, lo=np.sort(lo[possible]),
            hi=np.sort(hi[possible]), block=block, columns=columns,
        )

    @property
    def nbytes(self) -> int:
        arrays = (self.run_offsets, self.conf, self.rows, self.checkpoints,
                  self.top_conf, self.top_rows, self.top_checkpoints, self.lo, self.hi)
        return sum(a.nbytes for a in arrays)

    def counts_at(self, threshold: float) -> MultilabelCounts:
        """``multilabel_counts(columns, threshold, K, matrix=True)``, exactly."""
        t = as_threshold(threshold)
        k = self.n_labels
        actual_offsets, actual_codes = _arrays(self.columns)[:2]
        matrix, kept, answered, top_actual = _index_counts(
            self.conf, self.rows, self.run_offsets, self.checkpoints,
            self.checkpoint_offsets, self.block, self.top_conf, self.top_rows,
            self.top_checkpoints, actual_offsets, actual_codes, k, t,
        )
        # Nothing kept: rows with a actual, minus those with a kept label.
        matrix[:k, k] = self.support - top_actual[:k]
        matrix[k, k] = self.unlabeled - top_actual[k]
        exact = int(np.searchsorted(self.lo, t, "left") - np.searchsorted(self.hi, t, "left"))
        # An exact row without a kept label is one with neither: the (None, None) cell.
        per_view = np.array([self.n_rows, answered, exact, exact - matrix[k, k]])
        tp = np.diagonal(matrix)[:k].copy()
        return _package(tp, self.support.copy(), kept, np.arange(k), per_view, matrix)

    def threshold_counts(self, thresholds: np.ndarray) -> MultilabelThresholdCounts:
        """``multilabel_threshold_counts`` of every row and label, one
        ``counts_at`` a threshold (under a millisecond each at 10M rows)."""
        t = _thresholds(thresholds)
        points = [self.counts_at(float(v)) for v in t]
        return MultilabelThresholdCounts(
            thresholds=t,
            tp=np.array([c.tp for c in points]).reshape(len(t), self.n_labels),
            predicted=np.array([c.predicted for c in points]).reshape(len(t), self.n_labels),
            support=self.support.copy(),
            labels=np.arange(self.n_labels),
            rows=self.n_rows,
            answered=np.array([c.summary.predicted for c in points], dtype=np.int64),
            exact=np.array([c.summary.correct for c in points], dtype=np.int64),
            answered_exact=np.array([c.summary.answered_correct for c in points],
                                    dtype=np.int64),
        )

