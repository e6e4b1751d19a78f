"""Insights in words: the engine's findings with label names, a message and
the arguments that show their evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from evalql.api.scalars import JSON

if TYPE_CHECKING:
    from evalql.api.views.insights import Evidence, InsightRecord

KINDS = (
    "low_recall, low_precision, confusion, overfitting, calibration, class_imbalance, "
    "high_confidence_errors, low_support, abstention or unlabeled"
)


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _rows(n: int) -> str:
    """``_rows(1)`` -> ``"1 row"``, ``_rows(1200)`` -> ``"1,200 rows"``."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _range(r: InsightRecord) -> str:
    bounds = r.finding.interval
    if bounds is None:
        return ""
    return f" ({_percent(bounds.level)} interval {_percent(bounds.low)}–{_percent(bounds.high)})"


def _overfitting(r: InsightRecord) -> str:
    training, held_out = r.splits or ("training", "held-out")
    train, other = r.finding.compared
    return (
        f'{_percent(train)} of rows are right on "{training}" but {_percent(other)} on '
        f'"{held_out}" (same run): the model may be overfitting'
    )


def _calibration(r: InsightRecord) -> str:
    f = r.finding
    mean, accuracy = f.compared
    how = "overconfident" if mean > accuracy else "underconfident"
    return (
        f"confidence does not match accuracy: expected calibration error {f.value:.3f}; "
        f"the model is {how} (mean confidence {_percent(mean)}, accuracy {_percent(accuracy)})"
    )


def _imbalance(r: InsightRecord) -> str:
    f = r.finding
    accuracy, balanced = f.compared
    return (
        f"accuracy ({_percent(accuracy)}) is far above balanced accuracy ({_percent(balanced)}): "
        f'frequent labels carry it; "{r.labels[0]}" is found in only '
        f"{_percent(f.rows / f.base)} of its {_rows(f.base)}"
    )


def _low_support(r: InsightRecord) -> str:
    f = r.finding
    if f.interval is None:
        return f'"{r.labels[0]}" has no rows in this view: its recall is undefined'
    return (
        f'"{r.labels[0]}" has only {_rows(f.base)}: its recall is known only to within '
        f"{_percent(f.interval.low)}–{_percent(f.interval.high)}"
    )


# The kinds a rule caps (engine.insights.MAX_*), as their last kept
# insight's message names the rest: (one, many).
MORE = {
    "low_recall": ("label with low recall", "labels with low recall"),
    "low_precision": ("label with low precision", "labels with low precision"),
    "confusion": ("confusion", "confusions"),
    "low_support": ("label with too few rows", "labels with too few rows"),
}


def _more(r: InsightRecord) -> str:
    """``"; 9,412 more labels with low recall not listed"`` on the last insight
    a capped rule kept; empty elsewhere."""
    more = r.finding.more
    if not more:
        return ""
    one, many = MORE[r.finding.kind]
    return f"; {more:,} more {one if more == 1 else many} not listed"


MESSAGES = {
    "confusion": lambda r: (
        f'{_percent(r.finding.value)} of "{r.labels[0]}" rows ({r.finding.rows:,} of '
        f'{r.finding.base:,}) are predicted as "{r.labels[1]}"{_range(r)}'
    ),
    "low_recall": lambda r: (
        f'"{r.labels[0]}" is found in only {_percent(r.finding.value)} of its '
        f"{_rows(r.finding.base)}{_range(r)}"
    ),
    "low_precision": lambda r: (
        f"only {_percent(r.finding.value)} of the {r.finding.base:,} "
        f'"{r.labels[0]}" predictions are right{_range(r)}'
    ),
    "abstention": lambda r: (
        f"the model gives no answer at this threshold for {_percent(r.finding.value)} of rows "
        f"({_rows(r.finding.rows)})"
    ),
    "unlabeled": lambda r: (
        f"{_percent(r.finding.value)} of rows ({_rows(r.finding.rows)}) have no actual label"
    ),
    "overfitting": _overfitting,
    "calibration": _calibration,
    "class_imbalance": _imbalance,
    "high_confidence_errors": lambda r: (
        f"{_rows(r.finding.rows)} predicted wrong with a confidence above 90% "
        f"({_percent(r.finding.value)} of those {r.finding.base:,} predictions): likely "
        "label mistakes, worth reviewing most confident first"
    ),
    "low_support": _low_support,
}


@strawberry.type(
    description=(
        "Where an insight shows, as arguments to pass straight back: "
        "model { run { split(name: split) { metrics(threshold:, labels:, where:) } } } "
        "of the insight's model and run shows it; rows are the arguments of that "
        "Metrics.rows(...) listing the rows behind it, or label and labelRows those of "
        "Metrics.label(name: label) { rows(...) }. Enum values are given by name."
    )
)
class InsightEvidence:
    split: str = strawberry.field(
        description="The split that shows it: the view's own, or for overfitting the "
        "other split of the training/held-out pair."
    )
    threshold: float = strawberry.field(description="metrics(threshold:): the view's.")
    labels: list[str] | None = strawberry.field(
        description="metrics(labels:): the view's class filter; null for none."
    )
    where: JSON | None = strawberry.field(
        description="metrics(where:): the view's row filter as a list of RowFilter "
        "objects; null for none."
    )
    rows: JSON | None = strawberry.field(
        description="Arguments of Metrics.rows(...) (actual, predicted, outcome, orderBy) "
        "that list the rows behind the insight; null when rows do not show it."
    )
    label: str | None = strawberry.field(
        description="Metrics.label(name:) whose entry shows the insight; null for none."
    )
    label_rows: JSON | None = strawberry.field(
        description="Arguments of that LabelMetrics.rows(...) (outcome, orderBy); null "
        "when the label's rows do not show it."
    )

    @classmethod
    def from_evidence(cls, e: Evidence) -> InsightEvidence:
        return cls(split=e.split, threshold=e.threshold, labels=e.labels, where=e.where,
                   rows=e.rows, label=e.label, label_rows=e.label_rows)


@strawberry.type(description="Something worth telling about a view, most severe first.")
class Insight:
    kind: str = strawberry.field(description=f"{KINDS} (README: the insights table).")
    severity: str = strawberry.field(description="critical, warning or info.")
    labels: list[str]
    message: str = strawberry.field(
        description="The insight in words. Low recall, low precision, confusions and low "
        "support keep only their strongest few (README: the insights table); the last one "
        "kept of such a kind ends with how many more were not listed."
    )
    value: float | None = strawberry.field(
        description="The rate or gap the insight reports (see the README's insights table)."
    )
    evidence: InsightEvidence

    @classmethod
    def from_record(cls, r: InsightRecord) -> Insight:
        return cls(
            kind=r.finding.kind,
            severity=r.finding.severity,
            labels=r.labels,
            message=MESSAGES[r.finding.kind](r) + _more(r),
            value=r.finding.value,
            evidence=InsightEvidence.from_evidence(r.evidence),
        )
