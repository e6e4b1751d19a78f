"""Insights: the few things worth telling a reader of a metrics page.

Rules over counts already computed for the view; each finding carries the
label codes it is about and the number it rests on, and the API words it.
Thresholds of the rules are named constants so the README can state them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalql.engine.metrics import LabelCounts, Summary, precision, recall

MIN_ROWS = 20  # a rate over fewer rows is noise, not an insight
CONFUSION_SHARE = 0.05  # a label's rows going to one other label
LOW_RATE = 0.5  # precision or recall below this is worth a warning
CRITICAL_RATE = 0.3
ABSTENTION_SHARE = 0.1
UNLABELED_SHARE = 0.05
MAX_CONFUSIONS = 5
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One insight: ``kind``, ``severity`` (critical, warning, info), the label
    codes it concerns (in reading order), its rate ``value`` and ``rows``."""

    kind: str
    severity: str
    codes: tuple[int, ...]
    value: float
    rows: int


def _rate_severity(rate: float) -> str:
    return "critical" if rate < CRITICAL_RATE else "warning"


def confusions(counts: np.ndarray, c: LabelCounts) -> list[Finding]:
    """Pairs (a, p) of the view's labels where a large share of a's rows is predicted p.

    ``counts`` is the (K+1)x(K+1) matrix; the share is of a's support.
    """
    selected = set(int(x) for x in c.labels)
    found = []
    for i, a in enumerate(c.labels):
        support = int(c.support[i])
        if support < MIN_ROWS:
            continue
        row = counts[a, :-1]
        for p in np.flatnonzero(row):
            share = row[p] / support
            big = share >= CONFUSION_SHARE and row[p] >= MIN_ROWS
            if p != a and int(p) in selected and big:
                severity = "warning" if share >= 2 * CONFUSION_SHARE else "info"
                pair = (int(a), int(p))
                found.append(Finding("confusion", severity, pair, float(share), int(row[p])))
    found.sort(key=lambda f: -f.value)
    return found[:MAX_CONFUSIONS]


def weak_labels(c: LabelCounts) -> list[Finding]:
    """Labels whose recall or precision is below ``LOW_RATE`` over enough rows."""
    found = []
    rules = (("low_recall", recall(c), c.support), ("low_precision", precision(c), c.predicted))
    for kind, rates, base in rules:
        for i, rate in enumerate(rates):
            if base[i] >= MIN_ROWS and rate < LOW_RATE:
                code = (int(c.labels[i]),)
                found.append(Finding(kind, _rate_severity(rate), code, float(rate), int(base[i])))
    return sorted(found, key=lambda f: f.value)


def coverage_findings(s: Summary, unlabeled: int, rows: int) -> list[Finding]:
    """High abstention at the threshold, and many of the view's ``rows`` without
    ground truth (``unlabeled`` of them)."""
    found = []
    if s.total >= MIN_ROWS and 1 - s.coverage >= ABSTENTION_SHARE:
        abstained = s.total - s.predicted
        found.append(Finding("abstention", "info", (), 1 - s.coverage, abstained))
    if rows >= MIN_ROWS and unlabeled / rows >= UNLABELED_SHARE:
        found.append(Finding("unlabeled", "info", (), unlabeled / rows, unlabeled))
    return found


def insights(
    counts: np.ndarray | None, c: LabelCounts, s: Summary, unlabeled: int
) -> list[Finding]:
    """Every finding of a view, most severe first; within a severity weak
    labels (weakest first), then confusions (largest first), then coverage.

    Parameters
    ----------
    counts : the view's confusion matrix, or None when it is too large to build
        (confusions are then left out).
    c, s : the view's per-label counts and summary.
    unlabeled : rows of the view with no actual label (out of ``c.n``, every
        row of the view).

    Notes
    -----
    Rates over fewer than ``MIN_ROWS`` rows are not reported; an undefined
    (NaN) precision or recall is never below a limit, so it is not reported.
    """
    found = weak_labels(c)
    if counts is not None:
        found += confusions(counts, c)
    found += coverage_findings(s, unlabeled, c.n)
    return sorted(found, key=lambda f: SEVERITY_ORDER[f.severity])  # stable
