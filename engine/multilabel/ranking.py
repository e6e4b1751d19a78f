"""Ranking metrics of a multilabel view: every label's AP and ROC AUC, a
label's precision at each of its confidences, and its ROC/PR steps
(``engine.ranking``'s and ``engine.score_curves``'s).

Label c is a binary problem over the rows: positives are the rows with c
among their actual labels; the score is ``scores[:, c]`` when the split has
scores (one probability per label and row), else the confidence of c where
the row predicts it (at any threshold) and 0 elsewhere (SPEC).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalql.engine.arrays import frozen, row_mask
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
from evalql.engine.score_curves import LabelSteps, with_zero_step


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


@jit
def _score_keys(actual_offsets, actual_codes, score_bits, label, mask, use_mask, keys):
    # Keys of the rows whose ``label`` score is above 0 into ``keys``; returns
    # how many were written, the rows with ``label`` actual, and the rows counted.
    written = 0
    positives = 0
    total = 0
    for i in range(actual_offsets.shape[0] - 1):
        if use_mask and not mask[i]:
            continue
        total += 1
        positive = False
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            positive = positive or actual_codes[j] == label
        if positive:
            positives += 1
        key = ranking_key(score_bits[i, label], positive)
        if key > np.uint32(1):  # a score above 0
            keys[written] = key
            written += 1
    return written, positives, total


def _checked_scores(columns: LabelSetColumns, scores: np.ndarray) -> np.ndarray:
    scores = frozen(scores, np.float32)
    if scores.ndim != 2 or scores.shape[0] != len(columns.actual_offsets) - 1:
        raise ValueError("scores have to be an (N, K) matrix with N rows")
    return scores


def _scored_keys(
    columns: LabelSetColumns, scores: np.ndarray, label: int, mask: np.ndarray | None,
    buffer: np.ndarray | None = None,
) -> tuple[np.ndarray, int, int]:
    # The sorted keys of the rows scoring above 0 for ``label``, its
    # positives and the rows counted.
    arrays = csr_arrays(columns)
    flags, use_mask = row_mask(mask, len(arrays[0]) - 1)
    if buffer is None:
        buffer = np.empty(len(arrays[0]) - 1, dtype=np.uint32)
    written, positives, total = _score_keys(
        arrays[0], arrays[1], scores.view(np.uint32), np.int32(label), flags, use_mask, buffer
    )
    keys = buffer[:written]
    keys.sort()
    return keys, positives, total


def rank_label_sets_by_scores(
    columns: LabelSetColumns,
    scores: np.ndarray,
    labels: np.ndarray | Sequence[int],
    mask: np.ndarray | None = None,
) -> Ranking:
    """``engine.ranking.Ranking`` of ``labels``, each ranked by its column of
    the ``(N, K)`` ``scores``: ``average_precision`` and ``roc_auc`` of it
    equal scikit-learn's on ``(Y[:, c], scores[:, c])``. One pass and one
    sort of the rows scoring above 0 per label."""
    scores = _checked_scores(columns, scores)
    out = empty_ranking(filter_codes(labels, scores.shape[1]))
    buffer = np.empty(scores.shape[0], dtype=np.uint32)
    for i, label in enumerate(out.labels):
        keys, positives, total = _scored_keys(columns, scores, int(label), mask, buffer)
        fill_ranking(out, i, keys, positives, total)
    return out


def label_steps(
    columns: LabelSetColumns,
    label: int,
    mask: np.ndarray | None = None,
    scores: np.ndarray | None = None,
) -> LabelSteps:
    """``engine.score_curves.LabelSteps`` of ``label``, for its ROC and PR
    curves: by ``scores[:, label]`` when given, else by its predicted
    confidence (0 where a row does not predict it)."""
    if scores is not None:
        keys, positives, total = _scored_keys(columns, _checked_scores(columns, scores), label,
                                              mask)
        return with_zero_step(precision_steps_of(keys), positives, total)
    arrays = csr_arrays(columns)
    flags, use_mask = row_mask(mask, len(arrays[0]) - 1)
    actual_offsets, actual_codes = arrays[0], arrays[1]
    holds = actual_codes[actual_offsets[0] : actual_offsets[-1]] == label
    if use_mask:  # each actual code's row, kept or not
        holds &= np.repeat(flags, np.diff(actual_offsets))
    total = len(actual_offsets) - 1 if not use_mask else int(np.count_nonzero(flags))
    steps = label_precision_steps(columns, label, mask)
    return with_zero_step(steps, int(np.count_nonzero(holds)), total)


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
