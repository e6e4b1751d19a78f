"""Calibration of a multilabel split with scores: each (row, label) pair is
one binary probability.

A multilabel model's score ``scores[i, c]`` claims the probability that
label c is among row i's actual labels, one claim per pair. So calibration
reads every pair of the view's labels (the class filter's, else all) on the
rows of the view, as scikit-learn reads the flattened indicator and score
matrices ``Y[:, S].ravel()`` and ``P[:, S].ravel()``:

- Brier score: the mean over pairs of (p - y)², ``brier_score_loss``;
- log loss: the mean over pairs of -log(p) where y = 1 and -log(1 - p)
  where y = 0, p clipped to [eps, 1 - eps] with float32's eps, the binary
  ``log_loss`` on float32 scores;
- the reliability diagram: pairs binned by p, the event "the label is
  actual", ``calibration_curve(y, p, n_bins=bins)``; its ECE as
  ``engine.calibration.expected_calibration_error``.

Every row is labelled in a multilabel split (an empty actual set is an
answer), so every pair of the view counts; the threshold does not apply, the
scores being the model's full answer. One pass over the rows counts all of
it (kernels count, Python divides).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalql.engine.arrays import frozen, row_mask
from evalql.engine.calibration import (
    LOG_LOSS_EPS,
    ReliabilityBins,
    ScoreLosses,
    calibration_edges,
    upper_bin_of,
)
from evalql.engine.histogram import bin_scale
from evalql.engine.jit import jit, sum_rows
from evalql.engine.metrics import divide
from evalql.engine.multilabel.columns import (
    LabelSetColumns,
    csr_arrays,
    filter_codes,
    filter_flags,
)


@jit
def _pair_sums(actual_offsets, actual_codes, scores, selected, edges, scale, eps, mask, use_mask,
               lo, hi):
    # Per bin: pairs and pairs whose label is actual, and their scores' sum;
    # over all pairs: the summed squared gap and the summed log loss.
    bins = edges.shape[0] - 1
    n_labels = scores.shape[1]
    counts = np.zeros((2, bins), dtype=np.int64)
    sums = np.zeros(bins + 2, dtype=np.float64)  # the bins' scores, then brier, log loss
    stamp = np.full(n_labels, -1, dtype=np.int64)  # stamp[c] == i: c is actual in row i
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        for j in range(actual_offsets[i], actual_offsets[i + 1]):
            stamp[actual_codes[j]] = i
        for c in range(n_labels):
            if not selected[c]:
                continue
            p = np.float64(scores[i, c])
            actual = stamp[c] == i
            b = upper_bin_of(p, edges, scale)
            counts[0, b] += 1
            counts[1, b] += actual
            sums[b] += p
            gap = p - (1.0 if actual else 0.0)
            sums[bins] += gap * gap
            q = min(max(p, eps), 1.0 - eps)
            sums[bins + 1] -= np.log(q) if actual else np.log(1.0 - q)
    return counts, sums


def _sums(
    columns: LabelSetColumns, scores: np.ndarray, bins: int,
    labels: np.ndarray | Sequence[int] | None, mask: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = csr_arrays(columns)
    scores = frozen(scores, np.float32)
    n_rows = len(arrays[0]) - 1
    if scores.ndim != 2 or scores.shape[0] != n_rows:
        raise ValueError("scores have to be an (N, K) matrix with N rows")
    flags, use_mask = row_mask(mask, n_rows)
    selected = filter_flags(filter_codes(labels, scores.shape[1]), scores.shape[1])
    edges = calibration_edges(bins)
    counts, sums = sum_rows(
        _pair_sums, n_rows, arrays[0], arrays[1], scores, selected, frozen(edges, np.float64),
        bin_scale(edges), LOG_LOSS_EPS, flags, use_mask,
    )
    return edges, counts, sums


def pair_reliability(
    columns: LabelSetColumns,
    scores: np.ndarray,
    bins: int,
    labels: np.ndarray | Sequence[int] | None = None,
    mask: np.ndarray | None = None,
) -> ReliabilityBins:
    """The reliability diagram of the view's (row, label) pairs: equal to
    ``calibration_curve(Y[:, S].ravel(), P[:, S].ravel(), n_bins=bins)`` in
    every non-empty bin (module docstring)."""
    edges, counts, sums = _sums(columns, scores, bins, labels, mask)
    return ReliabilityBins(edges, counts[0], counts[1], sums[:bins])


def pair_score_losses(
    columns: LabelSetColumns,
    scores: np.ndarray,
    labels: np.ndarray | Sequence[int] | None = None,
    mask: np.ndarray | None = None,
) -> ScoreLosses:
    """Brier score and log loss of the view's (row, label) pairs
    (module docstring); ``rows`` counts the pairs.

    Notes
    -----
    Both NaN when no pair counts: an empty view or an empty class filter.
    """
    _, counts, sums = _sums(columns, scores, 1, labels, mask)
    n = int(counts[0].sum())
    return ScoreLosses(rows=n, brier=float(divide(sums[1], n)), log_loss=float(divide(sums[2], n)))
