"""What views hand the GraphQL types besides rows: plain records, NaN where
a ratio is undefined (the types show NaN as null)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelRow:
    """One label's entry of the per-label table; ratios are NaN when undefined."""

    label: str
    code: int
    ratios: dict[str, float]  # engine.metrics.PER_LABEL's metrics
    support: int
    predicted: int
    tp: int
    fp: int
    fn: int
    tn: int


@dataclass(frozen=True)
class CurveValues:
    """A curve's point: the view's metrics at one threshold (NaN = undefined)."""

    threshold: float
    coverage: float
    accuracy: float
    selective_accuracy: float
    ratios: dict[str, float]  # precision, recall, f1: of the label, or MACRO


@dataclass(frozen=True)
class HistogramBin:
    low: float
    high: float
    count: int
    correct: int
