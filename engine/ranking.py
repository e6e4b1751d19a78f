"""Per-label ranking metrics: average precision and ROC AUC, and a label's
precision at every distinct confidence.

Each label is a binary problem: positives are the rows whose actual label is
c, and the score is ``scores[:, c]`` when the split has scores, else the
confidence where the prediction is c and 0 elsewhere (SPEC). Both metrics only
need, for each distinct score from the highest down, how many positives and
negatives have it. So a row becomes one sortable uint32 key, the float32 bits
of its score shifted left once with "is positive" in the freed bit: floats in
[0, 1] are non-negative, so their bits order like their values and fit in 30
bits. One ``np.sort`` of those keys (a SIMD radix-class sort in NumPy 2, far
faster than an argsort of floats) and one pass over equal-score groups give
both metrics, with tied scores grouped as scikit-learn groups them.

Rows scoring exactly 0 are counted instead of sorted: they are the last group
anyway, and without scores they are every row not predicted as c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.arrays import columns, frozen, row_mask
from evalql.engine.jit import inline_jit, jit, sum_rows
from evalql.engine.metrics import divide


@jit
def ranking_key(bits, positive):
    # ``bits`` of a float32 score in [0, 1]; dropping the sign bit turns -0.0
    # (whose bits would sort above 1.0) into 0.
    magnitude = bits & np.uint32(0x7FFFFFFF)
    return (magnitude << np.uint32(1)) | np.uint32(1 if positive else 0)


@jit
def _score_keys(score_bits, actual, label, mask, use_mask, keys):
    # Keys of the rows scoring above 0 into ``keys``; returns how many were
    # written, the positives among all rows, and the rows counted.
    written = 0
    positives = 0
    total = 0
    for i in range(actual.shape[0]):
        if use_mask and not mask[i]:
            continue
        total += 1
        positive = actual[i] == label
        if positive:
            positives += 1
        key = ranking_key(score_bits[i, label], positive)
        if key > np.uint32(1):  # a score above 0
            keys[written] = key
            written += 1
    return written, positives, total


@jit
def _confidence_keys(actual, predicted, confidence_bits, mask, use_mask, n_labels):
    # Groups the rows predicted as each label (a counting sort by prediction)
    # and writes their keys; only they score above 0 without scores.
    starts = np.zeros(n_labels + 1, dtype=np.int64)
    positives = np.zeros(n_labels, dtype=np.int64)
    total = 0
    for i in range(actual.shape[0]):
        if use_mask and not mask[i]:
            continue
        total += 1
        if actual[i] >= 0:
            positives[actual[i]] += 1
        if predicted[i] >= 0 and ranking_key(confidence_bits[i], False) != 0:
            starts[predicted[i] + 1] += 1
    for c in range(n_labels):
        starts[c + 1] += starts[c]
    cursor = starts[:-1].copy()
    keys = np.empty(starts[n_labels], dtype=np.uint32)
    for i in range(actual.shape[0]):
        if use_mask and not mask[i]:
            continue
        p = predicted[i]
        if p >= 0 and ranking_key(confidence_bits[i], False) != 0:
            keys[cursor[p]] = ranking_key(confidence_bits[i], actual[i] == p)
            cursor[p] += 1
    return keys, starts, positives, total


@inline_jit
def _add_group(dp, dn, tps, fps, precision_sum, pairs2):
    # One group of tied scores (``dp`` positives, ``dn`` negatives) below the
    # ``tps`` positives and ``fps`` negatives scoring higher: the sums with it
    # added. The one place both sums are defined, so a ranking walked over
    # keys and one merged from steps add the same floats in the same order.
    pairs2 += dn * (2 * tps + dp)
    tps += dp
    fps += dn
    if dp > 0:
        precision_sum += dp * (tps / (tps + fps))
    return tps, fps, precision_sum, pairs2


@jit
def _ranking_sums(keys, positives, total):
    # ``keys`` ascending. Walks equal-score groups from the highest score down;
    # the rows not in ``keys`` (score 0) form the last group. Returns
    #   precision_sum = sum over groups of (positives in it) * precision there,
    #   pairs2 = sum over (positive, negative) pairs of 2 if the positive
    #            scores higher, 1 if they tie (twice the Mann-Whitney U).
    tps = 0
    fps = 0
    precision_sum = 0.0
    pairs2 = 0
    i = keys.shape[0] - 1
    while i >= -1:
        dp = 0
        dn = 0
        if i >= 0:
            score = keys[i] >> np.uint32(1)
            while i >= 0 and (keys[i] >> np.uint32(1)) == score:
                if keys[i] & np.uint32(1):
                    dp += 1
                else:
                    dn += 1
                i -= 1
        else:
            dp = positives - tps
            dn = total - positives - fps
            i -= 1
        tps, fps, precision_sum, pairs2 = _add_group(dp, dn, tps, fps, precision_sum, pairs2)
    return precision_sum, pairs2


@jit
def _step_sums(tp, fp, positives, total):
    # ``_ranking_sums`` of a ranking given as steps (cumulative positives and
    # negatives at each distinct score above 0, from the highest down); the
    # rows scoring 0 are the last group, as there.
    tps = 0
    fps = 0
    precision_sum = 0.0
    pairs2 = 0
    for j in range(tp.shape[0]):
        tps, fps, precision_sum, pairs2 = _add_group(
            tp[j] - tps, fp[j] - fps, tps, fps, precision_sum, pairs2
        )
    tps, fps, precision_sum, pairs2 = _add_group(
        positives - tps, total - positives - fps, tps, fps, precision_sum, pairs2
    )
    return precision_sum, pairs2


@jit
def _label_keys(actual, predicted, confidence_bits, mask, use_mask, label):
    # Keys of the rows predicted as ``label`` (every confidence, 0 included).
    keys = np.empty(actual.shape[0], dtype=np.uint32)
    written = 0
    for i in range(actual.shape[0]):
        if use_mask and not mask[i]:
            continue
        if predicted[i] == label:
            keys[written] = ranking_key(confidence_bits[i], actual[i] == label)
            written += 1
    return keys[:written].copy()


@jit
def _steps(keys):
    # ``keys`` ascending. For each distinct score from the highest down: the
    # score's bits, and the positives and negatives at or above it.
    n = keys.shape[0]
    bits = np.empty(n, dtype=np.uint32)
    tp = np.empty(n, dtype=np.int64)
    fp = np.empty(n, dtype=np.int64)
    steps = 0
    tps = 0
    fps = 0
    i = n - 1
    while i >= 0:
        score = keys[i] >> np.uint32(1)
        while i >= 0 and (keys[i] >> np.uint32(1)) == score:
            if keys[i] & np.uint32(1):
                tps += 1
            else:
                fps += 1
            i -= 1
        bits[steps] = score
        tp[steps] = tps
        fp[steps] = fps
        steps += 1
    return bits[:steps].copy(), tp[:steps].copy(), fp[:steps].copy()


@jit
def _top_k_hits(scores, actual, k, mask, use_mask, selected, lo, hi):
    # Rows counted (labeled, and their actual label selected when
    # ``selected`` is not empty) and, among them, those whose actual label
    # has fewer than k labels scoring strictly higher.
    counts = np.zeros(2, dtype=np.int64)  # hits, total
    n_labels = scores.shape[1]
    for i in range(lo, hi):
        if use_mask and not mask[i]:
            continue
        a = actual[i]
        if a < 0 or (selected.shape[0] > 0 and not selected[a]):
            continue
        counts[1] += 1
        own = scores[i, a]
        higher = 0
        for j in range(n_labels):
            if scores[i, j] > own:
                higher += 1
        if higher < k:
            counts[0] += 1
    return counts


@dataclass(frozen=True)
class Ranking:
    """Sufficient statistics of each label's ranking by score.

    ``precision_sum`` is the sum, over distinct scores from the highest down,
    of the positives having that score times the precision of "score at least
    this"; ``pairs2`` counts each (positive, negative) pair 2 when the positive
    scores higher and 1 when they tie.
    """

    labels: np.ndarray  # int codes
    positives: np.ndarray  # int64
    negatives: np.ndarray  # int64
    precision_sum: np.ndarray  # float64
    pairs2: np.ndarray  # int64


def average_precision(r: Ranking) -> np.ndarray:
    """Average precision per label: sum over distinct scores of ΔRecall x Precision.

    Equal to scikit-learn's ``average_precision_score(actual == c, score)``
    (step-wise, no interpolation; tied scores form one step).

    Notes
    -----
    NaN when the label has no positives (scikit-learn warns and answers 0) or
    no negatives (scikit-learn answers 1; SPEC leaves both undefined, as ROC
    AUC is).
    """
    ap = divide(r.precision_sum, r.positives)
    return np.where(r.negatives > 0, ap, np.nan)


def roc_auc(r: Ranking) -> np.ndarray:
    """Area under the ROC curve per label, by the trapezoidal rule.

    Equal to scikit-learn's ``roc_auc_score(actual == c, score)``: the share
    of (positive, negative) pairs ranked correctly, ties counting half, which
    is what the trapezoids over tied-score groups add up to. Computed from
    integer pair counts, so it is exact up to the final division.

    Notes
    -----
    NaN when the label has no positives or no negatives (scikit-learn raises).
    """
    return divide(r.pairs2, 2 * r.positives * r.negatives)


def rank_by_scores(
    scores: np.ndarray, actual: np.ndarray, labels: np.ndarray, mask: np.ndarray | None = None
) -> Ranking:
    """``Ranking`` of ``labels`` (codes) by their columns of ``scores``.

    Parameters
    ----------
    scores : float32 (N, K) in [0, 1], column c the score of label c.
    actual : int32 label codes, ``-1`` = None (a negative for every label).
    labels : the codes to rank.
    mask : optional bool array; only rows where it is True count.

    Each label costs one pass over its column and one sort of N uint32 keys;
    labels are independent, so callers may run them on several threads.
    """
    scores, actual = _scores(scores, actual)
    m, use_mask = row_mask(mask, actual.shape[0])
    bits = scores.view(np.uint32)
    buffer = np.empty(actual.shape[0], dtype=np.uint32)
    out = empty_ranking(labels)
    for i, label in enumerate(out.labels):
        written, positives, total = _score_keys(bits, actual, label, m, use_mask, buffer)
        keys = buffer[:written]
        keys.sort()
        fill_ranking(out, i, keys, positives, total)
    return out


def rank_by_confidence(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    labels: np.ndarray,
    n_labels: int,
    mask: np.ndarray | None = None,
) -> Ranking:
    """``Ranking`` of ``labels`` by confidence where predicted == c, 0 elsewhere.

    The score a split without scores has (SPEC). One pass groups the rows by
    prediction; each label then sorts only its own predictions, so ranking
    every label costs about one sort of N keys in all.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    m, use_mask = row_mask(mask, actual.shape[0])
    keys, starts, positives, total = _confidence_keys(
        actual, predicted, confidence.view(np.uint32), m, use_mask, n_labels
    )
    out = empty_ranking(labels)
    for i, label in enumerate(out.labels):
        own = keys[starts[label] : starts[label + 1]]
        own.sort()
        fill_ranking(out, i, own, int(positives[label]), total)
    return out


@dataclass(frozen=True)
class PrecisionSteps:
    """One label's kept TP and FP at each distinct confidence of its predictions.

    At threshold ``thresholds[i]`` (descending) the label's predictions with
    ``confidence >= thresholds[i]`` are kept: ``tp[i]`` of them are right and
    ``fp[i]`` wrong. Between two entries nothing changes for the label.
    """

    thresholds: np.ndarray  # float32, descending, distinct
    tp: np.ndarray  # int64, non-decreasing
    fp: np.ndarray  # int64, non-decreasing


def precision_steps(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    label: int,
    mask: np.ndarray | None = None,
) -> PrecisionSteps:
    """The label's ``PrecisionSteps``: where, exactly, its precision can change.

    Example: predictions of label 0 with (actual, confidence) ``(0, 0.9)``,
    ``(1, 0.8)``, ``(0, 0.8)`` give thresholds ``[0.9, 0.8]``, tp ``[1, 2]``,
    fp ``[0, 1]``.
    """
    actual, predicted, confidence = columns(actual, predicted, confidence)
    m, use_mask = row_mask(mask, actual.shape[0])
    keys = _label_keys(actual, predicted, confidence.view(np.uint32), m, use_mask, label)
    keys.sort()
    return precision_steps_of(keys)


def precision_steps_of(keys: np.ndarray) -> PrecisionSteps:
    """The ``PrecisionSteps`` of one label's ranking keys, sorted ascending."""
    bits, tp, fp = _steps(keys)
    return PrecisionSteps(bits.view(np.float32), tp, fp)


def merge_precision_steps(*parts: PrecisionSteps) -> PrecisionSteps:
    """Steps of the union of disjoint rows, from each part's steps: each part's
    TP and FP added at each distinct confidence (its float32 bits, as the keys
    order them), then accumulated from the highest confidence down.

    Example: steps at ``[0.9, 0.5]`` with tp ``[1, 1]``, fp ``[0, 1]``, and at
    ``[0.5]`` with tp ``[1]``, fp ``[0]``, give ``[0.9, 0.5]``, tp ``[1, 2]``,
    fp ``[0, 1]``.
    """
    bits = np.concatenate([p.thresholds.view(np.uint32) for p in parts])
    tp = np.concatenate([np.diff(p.tp, prepend=np.int64(0)) for p in parts])
    fp = np.concatenate([np.diff(p.fp, prepend=np.int64(0)) for p in parts])
    distinct, at = np.unique(bits, return_inverse=True)
    added_tp = np.zeros(len(distinct), dtype=np.int64)
    added_fp = np.zeros(len(distinct), dtype=np.int64)
    np.add.at(added_tp, at, tp)
    np.add.at(added_fp, at, fp)
    return PrecisionSteps(distinct[::-1].copy().view(np.float32), np.cumsum(added_tp[::-1]),
                          np.cumsum(added_fp[::-1]))


@dataclass(frozen=True)
class RankingSteps:
    """A ranking of some rows, in a form that merges: each label's
    ``PrecisionSteps`` over its scores above 0, its positives, and the rows
    counted (the rows not in the steps score 0).

    What a fragment of a split gives (``confidence_steps``); fragments' steps
    merge with ``merge_ranking_steps``, and ``ranking_of_steps`` sums the
    merged steps into the ``Ranking`` the whole split's keys would give,
    float for float.
    """

    labels: np.ndarray  # int codes
    steps: tuple[PrecisionSteps, ...]  # one per label
    positives: np.ndarray  # int64, per label
    total: int


def confidence_steps(
    actual: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    labels: np.ndarray,
    n_labels: int,
    mask: np.ndarray | None = None,
) -> RankingSteps:
    """``RankingSteps`` of ``labels`` by confidence where predicted == c, 0
    elsewhere: the steps ``rank_by_confidence`` sums, kept for merging."""
    actual, predicted, confidence = columns(actual, predicted, confidence)
    m, use_mask = row_mask(mask, actual.shape[0])
    keys, starts, positives, total = _confidence_keys(
        actual, predicted, confidence.view(np.uint32), m, use_mask, n_labels
    )
    codes = np.asarray(labels, dtype=np.intp)
    steps = []
    for label in codes:
        own = keys[starts[label] : starts[label + 1]]
        own.sort()
        steps.append(precision_steps_of(own))
    return RankingSteps(codes, tuple(steps), positives[codes].astype(np.int64), int(total))


def merge_ranking_steps(*parts: RankingSteps) -> RankingSteps:
    """Rankings of disjoint rows (the same labels) merged: steps merged by
    score, positives and rows added up."""
    steps = tuple(
        merge_precision_steps(*(p.steps[i] for p in parts)) for i in range(len(parts[0].labels))
    )
    positives = np.sum([p.positives for p in parts], axis=0, dtype=np.int64)
    return RankingSteps(parts[0].labels, steps, positives, sum(p.total for p in parts))


def ranking_of_steps(r: RankingSteps) -> Ranking:
    """The ``Ranking`` of ``r``: its groups summed from the highest score down,
    the rows scoring 0 last, by the same arithmetic as a ranking of keys."""
    out = empty_ranking(r.labels)
    for i, steps in enumerate(r.steps):
        positives = int(r.positives[i])
        # Read-only whichever way the steps came (a merge, or a fragment's
        # unpickled as Dask pleases): one specialisation of the kernel.
        tp, fp = frozen(steps.tp, np.int64), frozen(steps.fp, np.int64)
        precision_sum, pairs2 = _step_sums(tp, fp, positives, int(r.total))
        out.positives[i] = positives
        out.negatives[i] = r.total - positives
        out.precision_sum[i] = precision_sum
        out.pairs2[i] = pairs2
    return out


def top_k_hits(
    scores: np.ndarray,
    actual: np.ndarray,
    k: int,
    mask: np.ndarray | None = None,
    selected: np.ndarray | None = None,
) -> tuple[int, int]:
    """Rows whose actual label is among the ``k`` highest scores, and rows counted.

    A row is a hit when fewer than ``k`` labels score strictly higher than its
    actual label, so ties never count against it (scikit-learn's
    ``top_k_accuracy_score`` breaks them by label order instead). Rows with
    actual None cannot be judged and are not counted, as for accuracy; with
    ``selected`` (label codes, a class filter) only rows whose actual label
    is selected count.
    """
    scores, actual = _scores(scores, actual)
    m, use_mask = row_mask(mask, actual.shape[0])
    flags = np.zeros(0 if selected is None else scores.shape[1], dtype=np.bool_)
    if selected is not None:
        flags[np.asarray(selected, dtype=np.intp)] = True
    hits, total = sum_rows(
        _top_k_hits, actual.shape[0], scores, actual, k, m, use_mask, frozen(flags, np.bool_)
    )
    return int(hits), int(total)


def _scores(scores: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores, actual = frozen(scores, np.float32), frozen(actual, np.int32)
    if scores.ndim != 2 or scores.shape[0] != actual.shape[0]:
        raise ValueError("scores have to be an (N, K) matrix with N = len(actual)")
    return scores, actual


def empty_ranking(labels: np.ndarray) -> Ranking:
    """A ``Ranking`` of ``labels`` with every sum 0, for ``fill_ranking`` to fill."""
    codes = np.asarray(labels, dtype=np.intp)
    n = codes.shape[0]
    return Ranking(
        labels=codes,
        positives=np.zeros(n, dtype=np.int64),
        negatives=np.zeros(n, dtype=np.int64),
        precision_sum=np.zeros(n, dtype=np.float64),
        pairs2=np.zeros(n, dtype=np.int64),
    )


def fill_ranking(out: Ranking, i: int, keys: np.ndarray, positives: int, total: int) -> None:
    """Entry ``i`` of ``out`` from one label's ranking keys (sorted ascending, the
    rows scoring 0 left out), its positives and the rows counted."""
    precision_sum, pairs2 = _ranking_sums(keys, positives, total)
    out.positives[i] = positives
    out.negatives[i] = total - positives
    out.precision_sum[i] = precision_sum
    out.pairs2[i] = pairs2


def threshold_for_precision(steps: PrecisionSteps, min_precision: float) -> np.float32 | None:
    """The lowest threshold at which the label's precision is at least ``min_precision``.

    The label's counts only change at the distinct confidences of its
    predictions, so those (and 0) are the only candidates, and the search is
    exact. Precision need not rise with the threshold; the lowest qualifying
    threshold keeps the most predictions, hence the highest recall among them.

    Returns the float32 threshold; ``0`` when every prediction of the label
    already qualifies; None when no threshold does (including a label never
    predicted).

    Example: steps thresholds ``[0.9, 0.8, 0.3]``, tp ``[1, 2, 2]``,
    fp ``[0, 0, 2]`` give 0.8 for a minimum of 0.95, and 0 for 0.5.
    """
    precision = divide(steps.tp, steps.tp + steps.fp)
    qualifying = np.flatnonzero(precision >= min_precision)
    if qualifying.size == 0:
        return None
    lowest = qualifying[-1]
    if lowest == steps.thresholds.shape[0] - 1:
        return np.float32(0.0)
    return steps.thresholds[lowest]


def threshold_for_recall(
    steps: PrecisionSteps, min_recall: float, support: int
) -> np.float32 | None:
    """The highest threshold at which the label's recall is at least ``min_recall``.

    Recall at a threshold is the label's kept TP over its ``support`` (every
    row whose actual label it is: predictions of other labels and
    abstentions are its false negatives). Recall only grows as the threshold
    falls, so the highest qualifying threshold keeps the fewest predictions,
    hence the best precision among the thresholds that reach the recall. The
    counts only change at the label's distinct confidences, so the answer is
    one of them, and exact.

    Returns the float32 threshold; 1.0 (the highest threshold there is) when
    ``min_recall`` is at most 0; None when no threshold reaches it, including
    a label without support.

    Example: steps thresholds ``[0.9, 0.8, 0.3]``, tp ``[1, 2, 3]`` and a
    support of 4 give 0.8 for a minimum of 0.5, and None for 0.9.
    """
    if support == 0:
        return None
    if min_recall <= 0:
        return np.float32(1.0)
    recall = divide(steps.tp, support)
    reaching = np.flatnonzero(recall >= min_recall)
    return steps.thresholds[reaching[0]] if reaching.size else None
