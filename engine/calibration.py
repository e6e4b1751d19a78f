"""Calibration: do the model's probabilities mean what they say?

Two kinds of evidence, each counted in one pass over the rows (kernels count,
Python divides):

- proper scoring rules on the ``(N, K)`` score vectors: the Brier score and
  the log loss, as scikit-learn's ``brier_score_loss`` and ``log_loss`` with
  ``labels=range(K)``;
- the reliability diagram: rows binned by a probability into equal-width
  bins over [0, 1], each bin's mean probability against how often the event
  happened, and the expected calibration error (ECE) summing the gaps. The
  probability and the event are a row's top-1 confidence and "the predicted
  label is right" (the top-label diagram), or, for a binary model with
  scores, the score of the positive label and "the actual label is the
  positive one": ``sklearn.calibration.calibration_curve(y, p, n_bins=bins,
  strategy="uniform")``.

Which rows count: rows without ground truth cannot be judged and are left
out, as are rows whose actual label is outside the class filter (as for
accuracy). The top-label diagram from confidences also leaves out rows
without a kept prediction (predicted None, or confidence below the
threshold): they claim nothing.

Bins are scikit-learn's: edges ``linspace(0, 1, bins + 1)``, closed on the
right (a probability equal to an inner edge falls in the lower bin), the
first bin taking 0.

A bin's probabilities are summed exactly (``BinSums``: each float32's
significand added in int64 to its exponent's column), and the float64 sum
made once from those integers. A float sum row by row would depend on how the
rows were cut (the scan's threads, a cluster's fragments): the exact sums of
any row ranges add up to the same integers, so the diagram is the same
float for float however the rows were split (``api.backends.fragments``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.confusion import as_threshold, kept_code
from evalql.engine.histogram import bin_scale
from evalql.engine.jit import inline_jit, jit, sum_rows
from evalql.engine.metrics import divide

# Scores are stored as float32; scikit-learn clips float32 probabilities to
# [eps, 1 - eps] with float32's eps before taking logs.
LOG_LOSS_EPS = float(np.finfo(np.float32).eps)

# Columns of an exact sum, one per biased exponent of a float32 (0..255):
# entry e of a bin holds the sum of the significands of its probabilities of
# exponent e, whose value is significand x 2^(e - 150) (bias 127, 23
# fraction bits); int64 holds 2^39 rows of 24-bit significands. Storage
# keeps probabilities in [0, 1], so only exponents 0..127 fill, but every
# float32 has its column: no input indexes past the array, and every
# non-negative one is summed exactly. The sign bit is not read (probabilities
# are not negative; reading it cost the scan 5%, measured).
EXPONENTS = 256
_SCALE_EXPONENT = 150


@inline_jit
def add_exactly(sums, b, bits):
    """Add the non-negative float32 of bit pattern ``bits`` to bin ``b`` of
    ``sums`` (int64, bins x EXPONENTS), exactly."""
    exponent = (bits >> 23) & 0xFF
    significand = np.int64(bits & 0x7FFFFF)
    if exponent > 0:
        significand += 0x800000  # the implicit leading 1 of a normal float
    else:
        exponent = 1  # a subnormal's scale is the smallest normal's
    sums[b, exponent] += significand


@inline_jit
def upper_bin_of(p, edges, scale):
    """The bin of ``p``: how many inner edges lie strictly below it, as
    ``np.searchsorted(edges[1:-1], p)`` (scikit-learn's ``calibration_curve``)."""
    bins = edges.shape[0] - 1
    b = min(max(np.int64(p * scale), 0), bins - 1)
    while b > 0 and p <= edges[b]:
        b -= 1
    while b < bins - 1 and p > edges[b + 1]:
        b += 1
    return b


@inline_jit
def judged(i, actual, actual_ok, mask, use_mask):
    """Row ``i`` has an actual label the view judges and passes the mask.

    ``actual_ok`` has K + 1 entries, the last (None) False, so -1 indexes it.
    Written with ``&`` rather than ``and``, and rather than calling
    ``histogram.in_view``: both cost this scan 3x its time (31 ns a row
    against 11, measured).
    """
    ok = actual_ok[actual[i]]
    if use_mask:
        ok = ok & mask[i]
    return ok


@jit
def _top_label_bins(actual, predicted, confidence, bits, threshold, actual_ok, edges, scale,
                    mask, use_mask, lo, hi):
    bins = edges.shape[0] - 1
    n_labels = actual_ok.shape[0] - 1  # actual_ok's last entry is None
    counts = np.zeros((2, bins), dtype=np.int64)  # rows, rows right
    sums = np.zeros((bins, EXPONENTS), dtype=np.int64)  # confidence, exactly
    for i in range(lo, hi):
        if not judged(i, actual, actual_ok, mask, use_mask):
            continue
        # Abstention as the confusion matrix has it (one statement of the
        # rule); an abstained row adds zeros rather than branching away.
        p = kept_code(predicted[i], confidence[i], threshold, n_labels)
        kept = np.int64(p != n_labels)
        b = upper_bin_of(confidence[i], edges, scale)
        counts[0, b] += kept
        counts[1, b] += p == actual[i]  # never for None: actual is judged
        add_exactly(sums, b, bits[i] * kept)
    return counts, sums


@jit
def _score_bins(scores, bits, actual, positive, actual_ok, edges, scale, mask, use_mask, lo,
                hi):
    # positive >= 0: p = that label's score, the event "actual is positive";
    # positive < 0: p = the top score, the event "its label (the first
    # highest) is the actual one".
    bins = edges.shape[0] - 1
    n_labels = scores.shape[1]
    counts = np.zeros((2, bins), dtype=np.int64)
    sums = np.zeros((bins, EXPONENTS), dtype=np.int64)
    for i in range(lo, hi):
        if not judged(i, actual, actual_ok, mask, use_mask):
            continue
        if positive >= 0:
            top = positive
            p = scores[i, positive]
        else:
            top = 0
            p = scores[i, 0]
            for k in range(1, n_labels):
                if scores[i, k] > p:
                    top = k
                    p = scores[i, k]
        b = upper_bin_of(p, edges, scale)
        counts[0, b] += 1
        counts[1, b] += top == actual[i]
        add_exactly(sums, b, bits[i, top])
    return counts, sums


@jit
def _score_losses(scores, actual, actual_ok, eps, mask, use_mask, lo, hi):
    # Rows judged, and the sums over them of sum_k (p_k - y_k)^2 and of
    # -log(clip(p_actual)).
    n_labels = scores.shape[1]
    rows = 0
    brier = 0.0
    log_loss = 0.0
    for i in range(lo, hi):
        if not judged(i, actual, actual_ok, mask, use_mask):
            continue
        a = actual[i]
        rows += 1
        for k in range(n_labels):
            gap = np.float64(scores[i, k]) - (1.0 if k == a else 0.0)
            brier += gap * gap
        p = min(max(np.float64(scores[i, a]), eps), 1.0 - eps)
        log_loss -= np.log(p)
    return np.array([rows]), np.array([brier, log_loss])


@dataclass(frozen=True)
class ReliabilityBins:
    """Per bin: rows, rows where the event happened, and their probabilities' sum."""

    edges: np.ndarray  # float64, bins + 1
    count: np.ndarray  # int64
    hits: np.ndarray  # int64
    probability_sum: np.ndarray  # float64

    @property
    def low(self) -> np.ndarray:
        return self.edges[:-1]

    @property
    def high(self) -> np.ndarray:
        return self.edges[1:]

    def mean_probability(self) -> np.ndarray:
        """Mean probability (top-1 confidence) per bin: ``calibration_curve``'s
        ``prob_pred``. NaN for an empty bin."""
        return divide(self.probability_sum, self.count)

    def accuracy(self) -> np.ndarray:
        """How often the event happened per bin: ``calibration_curve``'s
        ``prob_true``. NaN for an empty bin."""
        return divide(self.hits, self.count)


@dataclass(frozen=True)
class BinSums:
    """A reliability diagram's sums: per bin, rows, rows where the event
    happened, and the exact sum of their probabilities (int64, bins x
    EXPONENTS: significands by exponent, see ``add_exactly``).

    Sums of disjoint row ranges add up (``+``) to the sums of their union,
    exactly: what a cluster's fragments send and merge.
    """

    count: np.ndarray  # int64
    hits: np.ndarray  # int64
    significands: np.ndarray  # int64, bins x EXPONENTS

    def __add__(self, other: BinSums) -> BinSums:
        return BinSums(self.count + other.count, self.hits + other.hits,
                       self.significands + other.significands)

    def probability_sum(self) -> np.ndarray:
        """Each bin's probabilities summed (float64), from the exact sums in
        one fixed order, so equal sums give equal floats."""
        scale = np.arange(EXPONENTS) - _SCALE_EXPONENT
        return np.ldexp(self.significands.astype(np.float64), scale).sum(axis=1)

    def diagram(self) -> ReliabilityBins:
        """The reliability diagram of these sums (edges from the bin count)."""
        edges = calibration_edges(len(self.count))
        return ReliabilityBins(edges, self.count, self.hits, self.probability_sum())


def expected_calibration_error(bins: ReliabilityBins) -> float:
    """ECE: sum over bins of |accuracy - mean probability| x rows / all rows.

    Computed as sum |hits - probability sum| / N, the same sum without a
    division per bin. 0 for a perfectly calibrated model, at most 1.

    Notes
    -----
    NaN when no row counts (N = 0). Empty bins add nothing.
    """
    gap = np.abs(bins.hits - bins.probability_sum).sum()
    return float(divide(gap, bins.count.sum()))


def calibration_edges(bins: int) -> np.ndarray:
    """``bins`` equal-width bins over [0, 1], exactly scikit-learn's edges."""
    if bins < 1:
        raise ValueError(f"bins has to be at least 1, got {bins}")
    return np.linspace(0.0, 1.0, bins + 1)


def judged_labels(n_labels: int, labels: np.ndarray | None) -> np.ndarray:
    """Which actual labels count, as kernels take it (``judged``'s ``actual_ok``):
    the class filter's labels (every label without one), never None."""
    ok = np.zeros(n_labels + 1, dtype=np.bool_)
    ok[: n_labels] = labels is None
    if labels is not None:
        ok[np.asarray(labels, dtype=np.intp)] = True
    return frozen(ok, np.bool_)


def reliability_from_confidence(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    n_labels: int,
    bins: int,
    threshold: float = 0.0,
    labels: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> ReliabilityBins:
    """The top-label reliability diagram of a view, from its confidences.

    Rows with an actual label (in ``labels``, the class filter, when given)
    and a prediction kept at ``threshold`` are binned by their confidence;
    the event is "predicted = actual". Equal to ``calibration_curve(predicted
    == actual, confidence, n_bins=bins)`` on those rows for every non-empty bin.
    """
    return confidence_bin_sums(actual, predicted, confidence, n_labels, bins, threshold,
                               labels, mask).diagram()


def confidence_bin_sums(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    n_labels: int,
    bins: int,
    threshold: float = 0.0,
    labels: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> BinSums:
    """The sums ``reliability_from_confidence`` makes its diagram of: those
    of several row ranges add up to the sums of all their rows."""
    actual, predicted, confidence = columns(actual, predicted, confidence)
    flags, use_mask = row_mask(mask, actual.shape[0])
    edges = calibration_edges(bins)
    counts, sums = sum_rows(
        _top_label_bins, actual.shape[0], actual, predicted, confidence,
        confidence.view(np.int32), as_threshold(threshold), judged_labels(n_labels, labels),
        frozen(edges, np.float64), bin_scale(edges), flags, use_mask,
    )
    return BinSums(counts[0], counts[1], sums)


def reliability_from_scores(
    scores: np.ndarray,
    actual: np.ndarray,
    bins: int,
    labels: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    positive: int | None = None,
) -> ReliabilityBins:
    """The reliability diagram from the ``(N, K)`` score vectors.

    Without ``positive``, the top-label diagram: a row's probability is its
    highest score and the event "that label (the first, on ties) is the
    actual one". With ``positive`` (the label code of a binary model's
    positive class), scikit-learn's binary diagram: ``calibration_curve(actual
    == positive, scores[:, positive], n_bins=bins)``. Rows with an actual
    label in ``labels`` (every label without a filter) count; the threshold
    does not apply, scores being the model's full answer.
    """
    scores, actual = _scored(scores, actual)
    flags, use_mask = row_mask(mask, actual.shape[0])
    edges = calibration_edges(bins)
    counts, sums = sum_rows(
        _score_bins, actual.shape[0], scores, scores.view(np.int32), actual,
        -1 if positive is None else positive, judged_labels(scores.shape[1], labels),
        frozen(edges, np.float64), bin_scale(edges), flags, use_mask,
    )
    return BinSums(counts[0], counts[1], sums).diagram()


@dataclass(frozen=True)
class ScoreLosses:
    """Brier score and log loss of the rows with ground truth (NaN without rows)."""

    rows: int
    brier: float
    log_loss: float


def score_losses(
    scores: np.ndarray,
    actual: np.ndarray,
    labels: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> ScoreLosses:
    """The multiclass Brier score and log loss of a view with scores.

    Brier: the mean over rows of sum_k (p_k - y_k)², y the one-hot actual
    label, halved when K = 2, so that it is the binary Brier score of either
    label (scikit-learn's ``brier_score_loss(..., labels=range(K))`` with
    ``scale_by_half="auto"``; with K = 1, the single column is scored as a
    binary positive-class probability, unhalved, as scikit-learn does).
    Log loss: the mean of -log(p_actual), p clipped to [eps, 1 - eps] with
    float32's eps (``log_loss(..., labels=range(K))`` on the stored float32
    scores; summed here in float64). Scores are taken as given, not
    renormalised.

    Notes
    -----
    Both NaN when no row counts: every row unlabeled, or outside the class
    filter, or an empty view.
    """
    scores, actual = _scored(scores, actual)
    flags, use_mask = row_mask(mask, actual.shape[0])
    rows, sums = sum_rows(
        _score_losses, actual.shape[0], scores, actual, judged_labels(scores.shape[1], labels),
        LOG_LOSS_EPS, flags, use_mask,
    )
    n = int(rows[0])
    half = 0.5 if scores.shape[1] == 2 else 1.0
    return ScoreLosses(
        rows=n, brier=float(divide(half * sums[0], n)), log_loss=float(divide(sums[1], n))
    )


def _scored(scores: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores, actual = frozen(scores, np.float32), frozen(actual, np.int32)
    if scores.ndim != 2 or scores.shape[0] != actual.shape[0]:
        raise ValueError("scores have to be an (N, K) matrix with N = len(actual)")
    return scores, actual
