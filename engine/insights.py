"""Insights: the few things worth telling a reader of a metrics page.

Rules over counts already computed for the view; each finding carries the
label codes it is about and the numbers it rests on, and the API words it
and attaches its evidence.

Every rule is a statistical statement, not a row count: a rate is flagged
when its Wilson score interval at ``LEVEL`` (``engine.intervals``) lies on
the wrong side of a limit and is at most ``SUPPORT_WIDTH`` wide, so a small
split is judged by what its rows can show and a tiny noisy cell is not
reported (a label with too few rows to tell gets ``low_support`` instead).
A share of 9 rows out of 70 (12.9%) has the interval 6.9%..22.7%, above
``CONFUSION_SHARE``; 2 out of 100 (2%, interval 0.6%..7%) is not, nor is 1
of 1 (21%..100%, too wide). The thresholds are the named constants below;
the README's insights table states them.

The rules that speak of one label or pair at a time (low recall, low
precision, confusions, low support) keep only their ``MAX_*`` strongest
findings each: with 10,000 labels they could otherwise fill a page with
thousands. The last one kept tells in ``more`` how many it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from evalql.engine.calibration import ReliabilityBins, expected_calibration_error
from evalql.engine.intervals import Interval, normal_quantile, wilson_interval
from evalql.engine.metrics import LabelCounts, Summary, divide, precision, recall
from evalql.engine.multilabel.counts import MultilabelSummary

LEVEL = 0.95  # the confidence level of every Wilson interval a rule reads
CONFUSION_SHARE = 0.05  # interval's low end of a label's rows going to one other label
LOW_RATE = 0.5  # interval's high end of a precision or recall below this: a warning
CRITICAL_RATE = 0.3  # ... below this: critical
ABSTENTION_SHARE = 0.1  # interval's low end of the rows left unanswered at the threshold
UNLABELED_SHARE = 0.05  # interval's low end of the rows without an actual label
OVERFITTING_GAP = 0.03  # training accuracy's low end minus the held-out split's high end
HIGH_CONFIDENCE = 0.9  # a prediction above this confidence claims to be nearly sure
HIGH_CONFIDENCE_ERRORS = 0.01  # interval's low end of the wrong share of those predictions
CONFIDENCE_BINS = 10  # reliability bins that put HIGH_CONFIDENCE on an edge
CALIBRATION_BINS = 15  # bins of the expected calibration error (the API's default)
CALIBRATION_GAP = 0.05  # ECE counted beyond each bin's interval of its accuracy
IMBALANCE_GAP = 0.05  # accuracy's low end minus the mean of the recalls' high ends
SUPPORT_WIDTH = 0.3  # an interval wider than this: too few rows to tell (low_support)
MAX_WEAK_LABELS = 5  # low_recall findings kept, and as many low_precision ones
MAX_CONFUSIONS = 5
MAX_LOW_SUPPORT = 5
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One insight.

    ``kind``, ``severity`` (critical, warning, info), the label codes it
    concerns (in reading order), its ``value`` (the rate or gap it reports),
    ``rows`` (how many rows show it) out of ``base`` (the rows the rate is
    of; 0 where it is no proportion), the Wilson ``interval`` of the rate
    where the rule read one, and ``compared``: the two numbers a gap is
    between (training and held-out accuracy, accuracy and balanced accuracy,
    mean confidence and accuracy). ``more``: on the last finding a capped
    rule kept, how many more of its kind it left out (0 elsewhere).
    """

    kind: str
    severity: str
    codes: tuple[int, ...]
    value: float
    rows: int
    base: int = 0
    interval: Interval | None = None
    compared: tuple[float, ...] = ()
    more: int = 0


def _interval(k: int, n: int) -> Interval | None:
    return wilson_interval(int(k), int(n), LEVEL)


def _telling(k: int, n: int) -> Interval | None:
    """The Wilson interval of k / n when it is narrow enough to tell anything
    (at most ``SUPPORT_WIDTH`` wide); None otherwise, or without rows. A rate
    over so few rows is noise: 1 of 1 has the interval 21%..100%."""
    bounds = _interval(k, n)
    return bounds if bounds is not None and bounds.high - bounds.low <= SUPPORT_WIDTH else None


def _rate_severity(high: float) -> str:
    return "critical" if high < CRITICAL_RATE else "warning"


def _capped(found: list[Finding], cap: int) -> list[Finding]:
    """The first ``cap`` of ``found`` (ranked strongest first), the last kept
    counting in ``more`` those left out."""
    if len(found) <= cap:
        return found
    kept = found[:cap]
    kept[-1] = replace(kept[-1], more=len(found) - cap)
    return kept


def confusions(counts: np.ndarray, c: LabelCounts) -> list[Finding]:
    """Pairs (a, p) of the view's labels where a's rows go to p: the Wilson
    interval of the share (rows a→p of a's support) starts at
    ``CONFUSION_SHARE`` or above (a warning from twice that). The
    ``MAX_CONFUSIONS`` with the highest low ends, highest first.

    ``counts`` is the (K+1)x(K+1) matrix.
    """
    selected = set(int(x) for x in c.labels)
    rows = counts[np.asarray(c.labels, dtype=np.intp), :-1]
    # The low end never exceeds the share itself, so only cells with a share
    # of CONFUSION_SHARE or more (at most 1 / CONFUSION_SHARE a label) need
    # an interval: O(cells) in NumPy, not in Python.
    found = []
    for i, p in np.argwhere((rows > 0) & (rows >= CONFUSION_SHARE * c.support[:, None])):
        a, k, support = int(c.labels[i]), int(rows[i, p]), int(c.support[i])
        if p == a or int(p) not in selected:
            continue
        bounds = _telling(k, support)
        if bounds is not None and bounds.low >= CONFUSION_SHARE:
            severity = "warning" if bounds.low >= 2 * CONFUSION_SHARE else "info"
            found.append(Finding("confusion", severity, (a, int(p)), k / support, k, support,
                                 bounds))
    found.sort(key=lambda f: -f.interval.low)  # type: ignore[union-attr]
    return _capped(found, MAX_CONFUSIONS)


def weak_labels(c: LabelCounts) -> list[Finding]:
    """Labels whose recall (TP of support) or precision (TP of predicted)
    has a Wilson interval ending below ``LOW_RATE`` (critical below
    ``CRITICAL_RATE``). Strongest evidence first: the interval's high end
    farthest below ``LOW_RATE`` (more rows first on a tie), which also puts
    critical before warning; the ``MAX_WEAK_LABELS`` strongest of each kind.

    A rate of 0 of 10 rows (interval 0%..28%) ranks after 100 of 1,000
    (8%..12%): the larger label is known to be weak more surely.
    """
    found = []
    rules = (("low_recall", recall(c), c.support), ("low_precision", precision(c), c.predicted))
    for kind, rates, base in rules:
        of_kind = []
        # The high end is never below the rate itself, so labels rated
        # LOW_RATE or more (most of thousands, in a useful model) are passed
        # over in NumPy rather than given an interval one by one in Python.
        for i in np.flatnonzero((base > 0) & (c.tp < LOW_RATE * base)):
            bounds = _telling(c.tp[i], base[i])
            if bounds is not None and bounds.high < LOW_RATE:
                code = (int(c.labels[i]),)
                of_kind.append(Finding(kind, _rate_severity(bounds.high), code, float(rates[i]),
                                       int(c.tp[i]), int(base[i]), bounds))
        of_kind.sort(key=lambda f: (f.interval.high, -f.base))  # type: ignore[union-attr]
        found += _capped(of_kind, MAX_WEAK_LABELS)
    return sorted(found, key=lambda f: f.interval.high)  # type: ignore[union-attr]


def coverage_findings(s: Summary | MultilabelSummary, unlabeled: int, rows: int) -> list[Finding]:
    """Abstention: the Wilson interval of the share of the view's rows without
    a kept prediction starts at ``ABSTENTION_SHARE`` or above. Unlabeled: that
    of the share of its ``rows`` without ground truth (``unlabeled`` of them)
    starts at ``UNLABELED_SHARE`` or above."""
    found = []
    abstained = s.total - s.predicted
    bounds = _telling(abstained, s.total)
    if bounds is not None and bounds.low >= ABSTENTION_SHARE:
        found.append(Finding("abstention", "info", (), abstained / s.total, abstained,
                             s.total, bounds))
    bounds = _telling(unlabeled, rows)
    if bounds is not None and bounds.low >= UNLABELED_SHARE:
        found.append(Finding("unlabeled", "info", (), unlabeled / rows, unlabeled, rows, bounds))
    return found


def low_support(c: LabelCounts) -> list[Finding]:
    """Labels of the view with too few rows to trust their metrics: the Wilson
    interval of recall wider than ``SUPPORT_WIDTH``, or no row at all (no
    interval: recall is undefined). ``value`` is the width (1 without rows);
    the ``MAX_LOW_SUPPORT`` least supported, fewest rows first."""
    found = []
    # A Wilson interval over n rows is at most z / sqrt(n + z^2) wide, so a
    # label of z^2 / SUPPORT_WIDTH^2 - z^2 rows or more (39 at 95%) never has
    # one too wide: only labels below that (plus one, for rounding) need one.
    z2 = normal_quantile(LEVEL) ** 2
    for i in np.flatnonzero(c.support < z2 / SUPPORT_WIDTH**2 - z2 + 1):
        code, support = c.labels[i], int(c.support[i])
        bounds = _interval(c.tp[i], support)
        width = 1.0 if bounds is None else bounds.high - bounds.low
        if width > SUPPORT_WIDTH:
            found.append(Finding("low_support", "info", (int(code),), width, support,
                                 support, bounds))
    found.sort(key=lambda f: f.rows)
    return _capped(found, MAX_LOW_SUPPORT)


def class_imbalance(
    s: Summary | MultilabelSummary, c: LabelCounts, balanced: float | None
) -> Finding | None:
    """Accuracy far above balanced accuracy: the low end of accuracy's Wilson
    interval (correct of labeled) exceeds the mean of the high ends of the
    recalls' intervals (the labels with support, as balanced accuracy
    averages them) by ``IMBALANCE_GAP`` or more. The finding names the label
    recalled worst; ``value`` is accuracy minus balanced accuracy."""
    if balanced is None or np.isnan(balanced):
        return None
    accuracy = _interval(s.correct, s.labeled)
    present = np.flatnonzero(c.support > 0)
    if accuracy is None or len(present) == 0:
        return None
    highs = [_interval(c.tp[i], c.support[i]).high for i in present]  # type: ignore[union-attr]
    if accuracy.low - float(np.mean(highs)) < IMBALANCE_GAP:
        return None
    rates = recall(c)[present]
    worst = int(present[int(np.argmin(rates))])
    return Finding("class_imbalance", "warning", (int(c.labels[worst]),),
                   s.accuracy - balanced, int(c.tp[worst]), int(c.support[worst]),
                   compared=(s.accuracy, balanced))


def overfitting(
    training: Summary | MultilabelSummary, held_out: Summary | MultilabelSummary
) -> Finding | None:
    """Training accuracy (exact match: correct of labeled rows) far above a
    held-out split's for the same run and view: the low end of the training
    accuracy's Wilson interval exceeds the high end of the held-out one's by
    ``OVERFITTING_GAP`` or more. ``value`` is the difference of the two
    accuracies, ``compared`` them both."""
    train = _interval(training.correct, training.labeled)
    other = _interval(held_out.correct, held_out.labeled)
    if train is None or other is None or train.low - other.high < OVERFITTING_GAP:
        return None
    # Exact-match accuracy, correct of labeled: the view's accuracy for
    # multiclass, its subset accuracy for multilabel (one proportion of rows).
    train_rate, other_rate = training.subset_accuracy, held_out.subset_accuracy
    return Finding("overfitting", "warning", (), train_rate - other_rate,
                   held_out.labeled - held_out.correct, held_out.labeled,
                   compared=(train_rate, other_rate))


def high_confidence_errors(confident: ReliabilityBins) -> Finding | None:
    """Wrong predictions above ``HIGH_CONFIDENCE``: the likeliest label
    mistakes, worth reviewing. ``confident`` is the top-label reliability
    diagram from the confidences (judged rows with a kept prediction, bins
    closed on the right), with ``HIGH_CONFIDENCE`` on an edge; reported when
    the Wilson interval of the wrong share of those predictions starts at
    ``HIGH_CONFIDENCE_ERRORS`` or above."""
    top = confident.low >= HIGH_CONFIDENCE - 1e-12  # bins (0.9, 1.0]
    n = int(confident.count[top].sum())
    wrong = n - int(confident.hits[top].sum())
    bounds = _telling(wrong, n)
    if bounds is None or bounds.low < HIGH_CONFIDENCE_ERRORS:
        return None
    return Finding("high_confidence_errors", "info", (), wrong / n, wrong, n, bounds)


def calibration_gap(diagram: ReliabilityBins) -> Finding | None:
    """Confidence that does not mean what it says: the calibration error
    counted only beyond each bin's Wilson interval of its accuracy (the part
    no sampling noise explains), sum over bins of rows x distance from the
    bin's mean probability to the interval, over all rows, is
    ``CALIBRATION_GAP`` or more. ``value`` is the expected calibration error
    itself; ``compared`` the mean probability and the accuracy over all bins."""
    n = int(diagram.count.sum())
    if n == 0:
        return None
    beyond = 0.0
    for count, hits, total in zip(diagram.count, diagram.hits, diagram.probability_sum,
                                  strict=True):
        if count == 0:
            continue
        bounds = _interval(hits, count)
        assert bounds is not None
        mean = total / count
        beyond += count * max(bounds.low - mean, mean - bounds.high, 0.0)
    if beyond / n < CALIBRATION_GAP:
        return None
    mean = float(divide(diagram.probability_sum.sum(), n))
    accuracy = float(divide(diagram.hits.sum(), n))
    return Finding("calibration", "warning", (), expected_calibration_error(diagram),
                   int(diagram.hits.sum()), n, compared=(mean, accuracy))


@dataclass(frozen=True)
class Inputs:
    """What the rules read of a view, each optional part None where the view
    (or its task) has none.

    counts : the view's confusion matrix; None when it has none (multilabel)
        or it is too large to build (confusions are then left out).
    c, s : the view's per-label counts and summary.
    unlabeled : rows of the view with no actual label (out of ``c.n``).
    balanced : the view's balanced accuracy.
    confident : the top-label diagram from confidences in ``CONFIDENCE_BINS``.
    reliability : the top-label diagram in ``CALIBRATION_BINS`` (from scores
        where the split has them).
    pair : (training, held-out) summaries when the view's split has a sibling.
    """

    counts: np.ndarray | None
    c: LabelCounts
    s: Summary | MultilabelSummary
    unlabeled: int
    balanced: float | None = None
    confident: ReliabilityBins | None = None
    reliability: ReliabilityBins | None = None
    pair: tuple[Summary | MultilabelSummary, Summary | MultilabelSummary] | None = None


def insights(inputs: Inputs) -> list[Finding]:
    """Every finding of a view, most severe first; within a severity weak
    labels (weakest first), confusions (largest first), overfitting,
    calibration, class imbalance, high-confidence errors, low support, then
    coverage.

    Notes
    -----
    A rate without rows (0/0) has no interval and is never reported, except
    as ``low_support`` of a label without rows.
    """
    i = inputs
    found = weak_labels(i.c)
    if i.counts is not None:
        found += confusions(i.counts, i.c)
    optional = (
        None if i.pair is None else overfitting(*i.pair),
        None if i.reliability is None else calibration_gap(i.reliability),
        class_imbalance(i.s, i.c, i.balanced),
        None if i.confident is None else high_confidence_errors(i.confident),
    )
    found += [f for f in optional if f is not None]
    found += low_support(i.c)
    found += coverage_findings(i.s, i.unlabeled, i.c.n)
    return sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])  # stable
