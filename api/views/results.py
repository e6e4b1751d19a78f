"""What views hand the GraphQL types besides rows: plain records, NaN where
a ratio is undefined (the types show NaN as null)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelTable:
    """The per-label table column by column: one entry a label in the view's
    label order, as Python lists (each column converted from NumPy once);
    ratios are NaN when undefined."""

    names: list[str]
    codes: list[int]
    ratios: dict[str, list[float]]  # engine.metrics.PER_LABEL's metrics
    support: list[int]
    predicted: list[int]
    tp: list[int]
    fp: list[int]
    fn: list[int]
    tn: list[int]

    def rows(self) -> list[LabelRow]:
        """The table row by row."""
        return [
            LabelRow(
                label=name, code=self.codes[i],
                ratios={metric: v[i] for metric, v in self.ratios.items()},
                support=self.support[i], predicted=self.predicted[i],
                tp=self.tp[i], fp=self.fp[i], fn=self.fn[i], tn=self.tn[i],
            )
            for i, name in enumerate(self.names)
        ]


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
