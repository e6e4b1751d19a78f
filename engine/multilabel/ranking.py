"""Ranking metrics of a multilabel view: every label's AP and ROC AUC, and a
label's precision at each of its confidences (``engine.ranking``'s, with each
label scored by its predicted confidence)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalql.engine.arrays import row_mask
from evalql.engine.jit import jit
from evalql.engine.multilabel.columns import LabelSetColumns, csr_arrays, filter_codes
from evalql.engine.ranking import (
    PrecisionSteps,
    Ranking,
    empty_ranking,
    fill_ranking,
    precision_steps_of,
    ranking_key,
)


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
            if ranking_key(confidence_bits[j], False) != 0:
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
            if ranking_key(confidence_bits[j], False) != 0:
                keys[cursor[code]] = ranking_key(confidence_bits[j], stamp[code] == i)
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
                keys[written] = ranking_key(confidence_bits[j], positive)
                written += 1
                break
    return keys[:written].copy()


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
    arrays = csr_arrays(columns)
    flags, use_mask = row_mask(mask, len(arrays[0]) - 1)
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence = arrays
    keys, starts, positives, total = _ranking_keys(
        actual_offsets, actual_codes, predicted_offsets, predicted_codes,
        confidence.view(np.uint32), n_labels, flags, use_mask,
    )
    out = empty_ranking(filter_codes(labels, n_labels))
    for i, label in enumerate(out.labels):
        own = keys[starts[label] : starts[label + 1]]
        own.sort()
        fill_ranking(out, i, own, int(positives[label]), total)
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
    arrays = csr_arrays(columns)
    flags, use_mask = row_mask(mask, len(arrays[0]) - 1)
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence = arrays
    keys = _label_keys(
        actual_offsets, actual_codes, predicted_offsets, predicted_codes,
        confidence.view(np.uint32), np.int32(label), flags, use_mask,
    )
    keys.sort()
    return precision_steps_of(keys)
